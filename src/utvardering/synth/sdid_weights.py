"""Unit and time weights of synthetic difference-in-differences (Frank–Wolfe on the simplex).

Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), Algorithm 1. For a block with
:math:`N_0` control rows followed by :math:`N_1` treated rows and :math:`T_0` pre-periods
followed by :math:`T_1` post-periods, the unit weights solve

.. math::

    (\\hat\\omega_0, \\hat\\omega) = \\arg\\min_{\\omega_0,\\ \\omega \\in \\Delta^{N_0}}
    \\sum_{t \\le T_0} \\Big(\\omega_0 + \\sum_{i \\le N_0} \\omega_i Y_{it}
    - \\bar Y_{\\mathrm{tr},t}\\Big)^2 + \\zeta_\\omega^2 T_0 \\lVert\\omega\\rVert^2 ,
    \\qquad \\zeta_\\omega = (N_1 T_1)^{1/4} \\hat\\sigma ,

with :math:`\\hat\\sigma` the standard deviation of the first differences of the control
outcomes in the pre-period, and the time weights solve the transposed problem
(pre-period columns of the controls reproducing their post-period mean) with
:math:`\\zeta_\\lambda = 10^{-6}\\hat\\sigma`. The intercepts are removed by centring.

Both problems are :math:`\\min_{x \\in \\Delta} \\lVert A x - b \\rVert^2 + \\eta\\lVert x\\rVert^2`,
solved by Frank–Wolfe as in R ``synthdid`` (:mod:`~utvardering._numerics.simplex`); many
blocks — placebo or bootstrap replications — are solved in one parallel numba call
(:func:`fit_blocks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._numerics.simplex import HAVE_NUMBA, frank_wolfe_simplex, frank_wolfe_solve, njit, prange

__all__ = [
    "HAVE_NUMBA",
    "SolverOptions",
    "collapsed_form",
    "fit_blocks",
    "frank_wolfe_simplex",
    "noise_level",
    "sparsify",
]


@dataclass(frozen=True)
class SolverOptions:
    """Which weights are estimated and how (R ``synthdid`` defaults).

    Attributes
    ----------
    omega_intercept, lambda_intercept : bool
        Allow an intercept (centre the problem) for the unit / time weights.
    update_omega, update_lambda : bool
        Estimate the weights; if false the initial weights are used as given.
    sparsify : bool
        Run the second, sparsified Frank–Wolfe pass.
    max_iter : int
        Iteration cap of the (final) pass.
    max_iter_pre_sparsify : int
        Iteration cap of the first pass when ``sparsify``.
    """

    omega_intercept: bool = True
    lambda_intercept: bool = True
    update_omega: bool = True
    update_lambda: bool = True
    sparsify: bool = True
    max_iter: int = 10_000
    max_iter_pre_sparsify: int = 100


def noise_level(Y: np.ndarray, n0: int, t0: int) -> float:
    """Standard deviation (ddof 1) of the first differences of the control pre-period block.

    Parameters
    ----------
    Y : numpy.ndarray
        Outcomes, rows = units (controls first), columns = periods.
    n0, t0 : int
        Number of control rows and pre-period columns.

    Returns
    -------
    float
    """
    diffs = np.diff(np.asarray(Y, dtype=float)[:n0, :t0], axis=1)
    return float(np.std(diffs, ddof=1))


def collapsed_form(Y: np.ndarray, n0: int, t0: int) -> np.ndarray:
    """Average the treated rows and the post-period columns: an ``(n0+1, t0+1)`` matrix."""
    Y = np.asarray(Y, dtype=float)
    out = np.empty((n0 + 1, t0 + 1))
    out[:n0, :t0] = Y[:n0, :t0]
    out[:n0, t0] = Y[:n0, t0:].mean(axis=1)
    out[n0, :t0] = Y[n0:, :t0].mean(axis=0)
    out[n0, t0] = Y[n0:, t0:].mean()
    return out


def sparsify(v: np.ndarray) -> np.ndarray:
    """Zero the weights at or below a quarter of the largest and renormalise."""
    out = np.where(v <= v.max() / 4.0, 0.0, v)
    return out / out.sum()


@njit(cache=True)
def _fit_one(Yb, n0, t0, omega, lam, zeta_o, zeta_l, min_dec, flags, max_iter, max_pre):  # pragma: no cover
    """Weights and estimate for one block (controls first, pre-periods first)."""
    n, T = Yb.shape
    n1 = n - n0
    t1 = T - t0
    Yc = np.empty((n0 + 1, t0 + 1))  # collapsed form
    for i in range(n0 + 1):
        lo_i, hi_i = (i, i + 1) if i < n0 else (n0, n)
        for t in range(t0 + 1):
            lo_t, hi_t = (t, t + 1) if t < t0 else (t0, T)
            acc = 0.0
            for a in range(lo_i, hi_i):
                for s in range(lo_t, hi_t):
                    acc += Yb[a, s]
            Yc[i, t] = acc / ((hi_i - lo_i) * (hi_t - lo_t))
    iters = 0
    if flags[3]:
        it, _ = frank_wolfe_solve(Yc[:n0, :].copy(), lam, flags[1], zeta_l, min_dec, max_iter, max_pre, flags[4])
        iters += it
    if flags[2]:
        Mo = np.empty((t0, n0 + 1))
        for t in range(t0):
            for i in range(n0 + 1):
                Mo[t, i] = Yc[i, t]
        it, _ = frank_wolfe_solve(Mo, omega, flags[0], zeta_o, min_dec, max_iter, max_pre, flags[4])
        iters += it
    tau = 0.0
    for i in range(n):
        wi = -omega[i] if i < n0 else 1.0 / n1
        row = 0.0
        for t in range(T):
            row += Yb[i, t] * (-lam[t] if t < t0 else 1.0 / t1)
        tau += wi * row
    return tau, iters


@njit(parallel=True, cache=True)
def _fit_many(Y, rows, n_rows, n0, t0, omega, lam, zeta_o, zeta_l, min_dec, flags, max_iter,
              max_pre):  # pragma: no cover - compiled
    P = rows.shape[0]
    tau = np.empty(P)
    iters = np.empty(P, dtype=np.int64)
    T = Y.shape[1]
    for p in prange(P):
        m = n_rows[p]
        Yb = np.empty((m, T))
        for a in range(m):
            for t in range(T):
                Yb[a, t] = Y[rows[p, a], t]
        om = omega[p, : n0[p]].copy()
        la = lam[p, : t0[p]].copy()
        tau[p], iters[p] = _fit_one(Yb, n0[p], t0[p], om, la, zeta_o[p], zeta_l[p], min_dec[p],
                                    flags, max_iter, max_pre)
        omega[p, : n0[p]] = om
        lam[p, : t0[p]] = la
    return tau, iters


def fit_blocks(
    Y: np.ndarray,
    rows: list[np.ndarray],
    n0: np.ndarray,
    t0: np.ndarray,
    omega_init: list[np.ndarray | None],
    lambda_init: list[np.ndarray | None],
    zeta_omega: np.ndarray,
    zeta_lambda: np.ndarray,
    min_decrease: np.ndarray,
    options: SolverOptions,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Estimate many synthetic-DiD blocks of one panel in a single (parallel) call.

    Block ``p`` is the sub-panel ``Y[rows[p]]`` whose first ``n0[p]`` rows are controls and
    whose first ``t0[p]`` columns are pre-periods (all later columns are post-periods).

    Parameters
    ----------
    Y : numpy.ndarray
        Outcomes, shape ``(N, T)``.
    rows : list of numpy.ndarray
        Row indices of each block (controls first; repeats allowed, as in the bootstrap).
    n0, t0 : numpy.ndarray
        Controls and pre-periods of each block.
    omega_init, lambda_init : list
        Starting (or, when not updated, fixed) weights; ``None`` means uniform.
    zeta_omega, zeta_lambda, min_decrease : numpy.ndarray
        Regularisation and stopping tolerance of each block.
    options : SolverOptions
        Which weights are estimated and the iteration caps.

    Returns
    -------
    tau : numpy.ndarray
        Estimate of each block,
        :math:`\\hat\\tau = (-\\hat\\omega, \\mathbf 1/N_1)^\\top Y (-\\hat\\lambda, \\mathbf 1/T_1)`.
    omega, lam : list of numpy.ndarray
        Final unit and time weights.
    iterations : numpy.ndarray
        Frank–Wolfe iterations used.
    """
    Y = np.ascontiguousarray(Y, dtype=float)
    P = len(rows)
    n_rows = np.array([len(r) for r in rows], dtype=np.int64)
    n0 = np.asarray(n0, dtype=np.int64)
    t0 = np.asarray(t0, dtype=np.int64)
    R = np.zeros((P, max(n_rows.max(), 1)), dtype=np.int64)
    W = np.zeros((P, max(int(n0.max()), 1)))
    L = np.zeros((P, max(int(t0.max()), 1)))
    for p in range(P):
        R[p, : n_rows[p]] = rows[p]
        W[p, : n0[p]] = 1.0 / n0[p] if omega_init[p] is None else omega_init[p]
        L[p, : t0[p]] = 1.0 / t0[p] if lambda_init[p] is None else lambda_init[p]
    flags = np.array([options.omega_intercept, options.lambda_intercept, options.update_omega,
                      options.update_lambda, options.sparsify], dtype=np.bool_)
    max_pre = options.max_iter_pre_sparsify if options.sparsify else options.max_iter
    tau, iters = _fit_many(Y, R, n_rows, n0, t0, W, L,
                           np.asarray(zeta_omega, dtype=float), np.asarray(zeta_lambda, dtype=float),
                           np.asarray(min_decrease, dtype=float), flags, int(options.max_iter),
                           int(max_pre))
    omega = [W[p, : n0[p]].copy() for p in range(P)]
    lam = [L[p, : t0[p]].copy() for p in range(P)]
    return tau, omega, lam, iters
