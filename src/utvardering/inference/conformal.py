"""Conformal inference for synthetic-control-type estimators (Chernozhukov, Wüthrich & Zhu 2021).

For one treated unit with outcomes :math:`y_t`, donors :math:`Y_{0t}` and post-periods
:math:`t > T_0`, a *sharp null* fixes the whole post-period effect path,
:math:`H_0: \\theta_t = \\theta^0_t`. Under it the treated unit's untreated outcome is known in
every period (:math:`y^N_t = y_t - \\theta^0_t`), so the counterfactual model can be fitted on
all :math:`T` periods, giving residuals :math:`\\hat u_t`. If the residual process is
stationary and weakly dependent the residuals are (approximately) exchangeable over time,
and the p-value is the share of permutations :math:`\\pi` with

.. math::

    S(\\hat u_\\pi) \\ge S(\\hat u), \\qquad
    S(u) = \\Big( \\tfrac{1}{\\sqrt{T_1}} \\sum_{t > T_0} |u_t|^q \\Big)^{1/q} ,

over the :math:`T` cyclic shifts (*moving block* permutations, valid under serial
dependence) or over random permutations (*iid*). Confidence sets collect the nulls not
rejected: pointwise for each post-period (one post-period at a time) and for a constant
effect over the whole post-period.

*Average effects* (CWZ 2021, Appendix A.1). A constant-effect interval is a valid interval for
the average effect :math:`\\bar\\theta = T_1^{-1}\\sum_{t>T_0}\\theta_t` only when the effect is
constant: under a varying effect the null-adjusted residuals at :math:`\\theta = \\bar\\theta`
still carry :math:`\\theta_t - \\bar\\theta`, the statistic is inflated and the set can miss
:math:`\\bar\\theta`. The average is tested instead on *block means*: the series are cut into
non-overlapping blocks of :math:`T_1` periods ending with the post-period (the earliest
:math:`T_0 \\bmod T_1` pre-periods are dropped), the post-period becomes one block whose effect is
:math:`\\bar\\theta`, and the procedure above runs on the :math:`K + 1 = \\lfloor T_0/T_1\\rfloor + 1`
block means (:func:`block_means`, :func:`conformal_average`). Its p-value is a multiple of
:math:`1/(K+1)`, so a test at level :math:`\\alpha` needs :math:`K + 1 \\ge 1/\\alpha` blocks
(20 for 5 %): short post-periods relative to the pre-period.

The counterfactual model here is the canonical synthetic control fitted on outcomes:
:math:`w = \\arg\\min_{w\\in\\Delta} \\sum_t (y^N_t - Y_{0t} w)^2` over all periods.

*References.*

Chernozhukov, V., Wüthrich, K. & Zhu, Y. (2021). An exact and robust conformal inference
method for counterfactual and synthetic controls. *JASA* 116(536), 1849–1864.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from .._numerics.simplex import simplex_lstsq_many

__all__ = [
    "block_means",
    "conformal_average",
    "conformal_interval",
    "conformal_pvalue",
    "sc_residuals",
]

Scheme = Literal["moving_block", "iid"]


def sc_residuals(y: np.ndarray, Y0: np.ndarray) -> np.ndarray:
    """Residuals of the outcome synthetic control fitted on all periods, for many nulls.

    Parameters
    ----------
    y : numpy.ndarray
        Null-adjusted treated outcomes, shape ``(m, T)`` (one row per null) or ``(T,)``.
    Y0 : numpy.ndarray
        Donor outcomes, shape ``(T, J)``.

    Returns
    -------
    numpy.ndarray
        Residuals, same shape as ``y``.
    """
    y2 = np.atleast_2d(y)
    W = simplex_lstsq_many(Y0, y2, polish=False)
    res = y2 - W @ Y0.T
    return res.reshape(np.shape(y))


def _statistic(u: np.ndarray, post: np.ndarray, q: float) -> np.ndarray:
    a = np.abs(u[..., post]) ** q
    return (a.sum(axis=-1) / np.sqrt(post.sum())) ** (1.0 / q)


def _permutation_pvalues(U: np.ndarray, post: np.ndarray, scheme: Scheme, q: float,
                         n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """p-values for residual rows ``U`` (m × T)."""
    T = U.shape[-1]
    observed = _statistic(U, post, q)
    if scheme == "moving_block":
        idx = (np.arange(T)[None, :] + np.arange(T)[:, None]) % T  # T shifts (incl. identity)
        stats = _statistic(U[:, idx], post, q)  # m × T
        return (stats >= observed[:, None] - 1e-12 * (1 + np.abs(observed[:, None]))).mean(axis=1)
    if scheme == "iid":
        perms = np.vstack([np.arange(T)] + [rng.permutation(T) for _ in range(n_permutations)])
        stats = _statistic(U[:, perms], post, q)
        return (stats >= observed[:, None] - 1e-12 * (1 + np.abs(observed[:, None]))).mean(axis=1)
    raise ValueError(f"scheme must be 'moving_block' or 'iid', got {scheme!r}.")


def conformal_pvalue(
    y: np.ndarray,
    Y0: np.ndarray,
    post: np.ndarray,
    theta0: np.ndarray | float = 0.0,
    *,
    scheme: Scheme = "moving_block",
    q: float = 1.0,
    n_permutations: int = 999,
    random_state: int | np.random.Generator | None = None,
    residuals: Callable[[np.ndarray, np.ndarray], np.ndarray] = sc_residuals,
) -> float:
    """p-value of the sharp null :math:`\\theta_t = \\theta^0_t` for every post-period.

    Parameters
    ----------
    y : numpy.ndarray
        Treated outcomes, shape ``(T,)``.
    Y0 : numpy.ndarray
        Donor outcomes, shape ``(T, J)``.
    post : numpy.ndarray of bool
        Post-period indicator, shape ``(T,)``.
    theta0 : float or numpy.ndarray, default 0
        Null effect path (scalar or one value per post-period).
    scheme : {"moving_block", "iid"}, default "moving_block"
        Permutations: the T cyclic shifts, or ``n_permutations`` random permutations.
    q : float, default 1
        Exponent of the test statistic.
    n_permutations : int, default 999
        Random permutations for ``scheme="iid"``.
    random_state : int or numpy.random.Generator, optional
        Seed for ``scheme="iid"``.
    residuals : callable, default :func:`sc_residuals`
        ``residuals(y_adjusted, Y0)`` → residuals of the counterfactual model fitted on all
        periods (vectorised over rows of ``y_adjusted``).

    Returns
    -------
    float
        The permutation p-value (at least 1/T with moving blocks).
    """
    post = np.asarray(post, dtype=bool)
    adj = np.asarray(y, dtype=float).copy()
    adj[post] -= theta0
    U = np.atleast_2d(residuals(adj[None, :], Y0))
    rng = np.random.default_rng(random_state)
    return float(_permutation_pvalues(U, post, scheme, q, n_permutations, rng)[0])


def _accept(y, Y0, post, thetas, alpha, scheme, q, n_permutations, seed, residuals):
    adj = np.repeat(y[None, :], thetas.size, axis=0)
    adj[:, post] -= thetas[:, None]
    U = residuals(adj, Y0)
    rng = np.random.default_rng(seed)
    return _permutation_pvalues(U, post, scheme, q, n_permutations, rng) > alpha + 1e-12


def conformal_interval(
    y: np.ndarray,
    Y0: np.ndarray,
    post: np.ndarray,
    *,
    level: float = 0.95,
    scheme: Scheme = "moving_block",
    q: float = 1.0,
    n_permutations: int = 999,
    random_state: int | None = 0,
    n_grid: int = 61,
    residuals: Callable[[np.ndarray, np.ndarray], np.ndarray] = sc_residuals,
) -> tuple[float, float]:
    """Confidence interval for a constant effect over the ``post`` periods, by test inversion.

    The set :math:`\\{\\theta: p(\\theta) > 1 - \\text{level}\\}` for the nulls
    :math:`\\theta_t = \\theta` (every post-period); with one post-period this is the
    pointwise interval of that period. The set is located on a grid that widens until both
    ends are rejected, and its ends are refined by bisection.

    Parameters
    ----------
    y, Y0, post :
        As in :func:`conformal_pvalue`.
    level : float, default 0.95
        Coverage.
    scheme, q, n_permutations, residuals :
        As in :func:`conformal_pvalue`.
    random_state : int, default 0
        Seed for ``scheme="iid"`` (the same permutations for every null).
    n_grid : int, default 61
        Grid points.

    Returns
    -------
    tuple of float
        ``(low, high)``; ``(nan, nan)`` when no null on the grid is accepted (infinite ends
        when the set does not close within a very wide range).

    Notes
    -----
    With moving blocks the smallest attainable p-value is 1/T, so ``level`` above
    ``1 - 1/T`` gives unbounded intervals.
    """
    y = np.asarray(y, dtype=float)
    post = np.asarray(post, dtype=bool)
    alpha = 1.0 - level
    seed = random_state if random_state is not None else 0
    centre = float(np.mean(residuals(y[None, :], Y0)[0][post]))  # gap under theta = 0
    base = residuals(y[~post][None, :], Y0[~post])[0]
    scale = float(np.std(base)) if base.size > 1 else 1.0
    scale = max(scale, 1e-8 * (1.0 + np.abs(y).max()))
    width = 10.0 * scale + abs(centre)
    args = (y, Y0, post)
    for _ in range(8):
        grid = np.linspace(centre - width, centre + width, n_grid)
        ok = _accept(*args, grid, alpha, scheme, q, n_permutations, seed, residuals)
        if not ok.any():
            width /= 4.0
            continue
        if ok[0] or ok[-1]:
            width *= 4.0
            continue
        break
    else:
        if not ok.any():
            return (float("nan"), float("nan"))
        return (-np.inf if ok[0] else float(grid[ok][0]), np.inf if ok[-1] else float(grid[ok][-1]))
    inside = np.flatnonzero(ok)
    tol = 1e-4 * scale

    def refine(outside: float, inner: float) -> float:
        for _ in range(60):
            mid = 0.5 * (outside + inner)
            if _accept(*args, np.array([mid]), alpha, scheme, q, n_permutations, seed, residuals)[0]:
                inner = mid
            else:
                outside = mid
            if abs(outside - inner) < tol:
                break
        return inner

    low = refine(float(grid[inside[0] - 1]), float(grid[inside[0]]))
    high = refine(float(grid[inside[-1] + 1]), float(grid[inside[-1]]))
    return (low, high)


def block_means(y: np.ndarray, Y0: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-overlapping block means with the post-period as the last block (CWZ 2021, App. A.1).

    Parameters
    ----------
    y : numpy.ndarray
        Treated outcomes, shape ``(T,)``.
    Y0 : numpy.ndarray
        Donor outcomes, shape ``(T, J)``.
    post : numpy.ndarray of bool
        Post-period indicator; the post-periods must be the last :math:`T_1` periods.

    Returns
    -------
    yb, Y0b, postb : numpy.ndarray
        Block means of ``y`` (``(K+1,)``) and ``Y0`` (``(K+1, J)``) over blocks of
        :math:`T_1` periods, :math:`K = \\lfloor T_0/T_1 \\rfloor`, and the indicator of the
        last (post) block. The earliest :math:`T_0 \\bmod T_1` pre-periods are dropped.
    """
    post = np.asarray(post, dtype=bool)
    T, T1 = post.size, int(post.sum())
    if T1 == 0 or not post[T - T1:].all():
        raise ValueError("block_means needs the post-periods to be the last periods of the series "
                         "(drop any periods after the post-period first).")
    K = (T - T1) // T1
    if K < 1:
        raise ValueError(f"the pre-period ({T - T1} periods) is shorter than the post-period "
                         f"({T1}): no pre-period block of the same length for the average-effect "
                         "test; shorten the post-period (window=) or aggregate less.")
    first = T - (K + 1) * T1
    yb = np.asarray(y, dtype=float)[first:].reshape(K + 1, T1).mean(axis=1)
    Y0b = np.asarray(Y0, dtype=float)[first:].reshape(K + 1, T1, -1).mean(axis=1)
    postb = np.zeros(K + 1, dtype=bool)
    postb[-1] = True
    return yb, Y0b, postb


def conformal_average(
    y: np.ndarray,
    Y0: np.ndarray,
    post: np.ndarray,
    theta0: float = 0.0,
    *,
    level: float = 0.95,
    scheme: Scheme = "moving_block",
    q: float = 1.0,
    n_permutations: int = 999,
    random_state: int | None = 0,
    residuals: Callable[[np.ndarray, np.ndarray], np.ndarray] = sc_residuals,
) -> tuple[float, tuple[float, float], int]:
    """p-value and interval for the *average* post-period effect (CWZ 2021, Appendix A.1).

    The null :math:`H_0: \\bar\\theta = \\bar\\theta^0` on the average effect
    :math:`\\bar\\theta = T_1^{-1}\\sum_{t>T_0}\\theta_t` is the sharp null of the last block in
    the block-mean series of :func:`block_means`; it is tested with
    :func:`conformal_pvalue` and inverted with :func:`conformal_interval` on those block
    means (the counterfactual model is refitted on the block means). Unlike the
    constant-effect interval this does not assume that the effect is the same in every
    post-period.

    Parameters
    ----------
    y, Y0, post :
        As in :func:`block_means`.
    theta0 : float, default 0
        Null average effect for the p-value.
    level : float, default 0.95
        Interval coverage.
    scheme, q, n_permutations, random_state, residuals :
        As in :func:`conformal_pvalue`.

    Returns
    -------
    p_value : float
        A multiple of :math:`1/(K+1)` with moving blocks.
    interval : tuple of float
        ``(low, high)``; unbounded (``-inf, inf``) when ``level > 1 - 1/(K+1)``.
    n_blocks : int
        :math:`K + 1`.
    """
    yb, Y0b, postb = block_means(y, Y0, post)
    kw = {"scheme": scheme, "q": q, "n_permutations": n_permutations, "residuals": residuals}
    p = conformal_pvalue(yb, Y0b, postb, theta0, random_state=random_state, **kw)
    if scheme == "moving_block" and 1.0 / yb.size > 1.0 - level:
        return p, (-np.inf, np.inf), int(yb.size)
    ci = conformal_interval(yb, Y0b, postb, level=level, random_state=random_state, **kw)
    return p, ci, int(yb.size)
