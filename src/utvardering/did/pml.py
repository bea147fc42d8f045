"""Poisson pseudo-maximum likelihood with absorbed fixed effects: one fit, and many fits at once.

:func:`fe_poisson` fits one Poisson PML with any set of absorbed fixed effects by iteratively
reweighted least squares, each weighted least-squares step absorbing the effects by
alternating projections (Correia, Guimarães & Zylkin 2020), and returns the CR1
cluster-robust variance. :func:`batched_fe_poisson` fits many treatment assignments on one
balanced panel at once (below).

Randomization inference for :func:`~utvardering.did.poisson.poisson_did` refits

.. math:: E[y_{it}] = \\mu^{(j)}_{it} = \\exp(o_{it} + \\alpha^{(j)}_i + \\gamma^{(j)}_t
          + \\beta^{(j)} d^{(j)}_{it}), \\qquad j = 1, \\dots, J,

for one outcome panel :math:`y` (N units × T periods, balanced), offset :math:`o` (log
exposure) and J placebo treatment indicators :math:`d^{(j)}`. Each fit is the same iteratively
reweighted least squares as :func:`fe_poisson` (working outcome
:math:`z = \\eta - o + (y - \\mu)/\\mu`, weights :math:`\\mu`), but on (J, N, T) arrays: in a
balanced panel the weighted projection off the two sets of effects is the alternation of
weighted row means (over periods) and weighted column means (over units), so every step is a
vectorised reduction over all assignments and the only Python loops are over iterations.
Assignments stop updating once their own deviance has converged (the criterion of
:func:`fe_poisson`), so each reaches the same fixed point as a separate fit.

References
----------
Correia, S., Guimarães, P. & Zylkin, T. (2020). Fast Poisson estimation with high-dimensional
fixed effects. *Stata Journal* 20(1), 95–115.
Gaure, S. (2013). OLS with multiple high dimensional category variables. *Computational
Statistics & Data Analysis* 66, 8–18.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._numerics.fixed_effects import Absorber
from ..errors import DesignError
from ..inference.cluster import small_sample_factor

__all__ = ["PoissonFit", "balanced_grid", "batched_fe_poisson", "deviance", "fe_poisson", "null_fit",
           "separation", "two_way_demean"]

#: Convergence also requires each fit's beta to change by less than this (relative) in a step.
BETA_TOL = 1e-11
#: Largest number of (assignment, unit, period) cells handled in one batch (memory bound).
MAX_CELLS = 4_000_000


@dataclass
class PoissonFit:
    """Result of :func:`fe_poisson`: coefficients, fitted means, variance and iterations."""

    coef: np.ndarray
    mu: np.ndarray
    vcov: np.ndarray
    Xd: np.ndarray
    iterations: int
    deviance: float


def deviance(y: np.ndarray, mu: np.ndarray) -> float:
    r"""Poisson deviance :math:`2\sum(y\log(y/\mu) - (y - \mu))` of one fit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return 2.0 * float(np.sum(term - (y - mu)))


def fe_poisson(y: np.ndarray, X: np.ndarray, codes: list, clusters: np.ndarray, *,
               offset: np.ndarray | None = None, tol: float = 1e-10,
               maxiter: int = 200) -> PoissonFit:
    """Poisson PML with absorbed fixed effects by IRLS and alternating projections.

    Parameters
    ----------
    y : numpy.ndarray
        Counts (n), no unit or period with all zeros (drop them first).
    X : numpy.ndarray
        Regressors (n × k), no intercept.
    codes : list of numpy.ndarray
        Integer codes of each fixed effect.
    clusters : numpy.ndarray
        Integer cluster codes.
    offset : numpy.ndarray, optional
        Log exposure.
    tol : float
        Convergence tolerance on the relative change in deviance.
    maxiter : int
        IRLS iteration cap.

    Returns
    -------
    PoissonFit
        With the CR1 cluster-robust variance (fixed effects nested in the clusters are not
        counted in the small-sample factor, as in ``pyfixest``).
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    off = np.zeros(len(y)) if offset is None else np.asarray(offset, dtype=float)
    mu = (y + y.mean()) / 2.0
    eta = np.log(mu)
    dev_old = np.inf
    beta = np.zeros(X.shape[1])
    iterations = 0
    for iterations in range(1, maxiter + 1):
        z = eta - off + (y - mu) / mu
        if not np.isfinite(z).all():
            raise DesignError(
                f"the Poisson fit diverged at iteration {iterations} (fitted means of 0 or "
                "inf): some coefficient has no finite estimate (separation, e.g. a regressor "
                "that is non-zero only where the count is 0); drop that regressor or those rows.")
        absorber = Absorber(codes, weights=mu, tol=1e-12, n=len(y))
        both = absorber.demean(np.column_stack([z, X]))
        zd, Xd = both[:, 0], both[:, 1:]
        xtwx = Xd.T @ (mu[:, None] * Xd)
        beta = np.linalg.solve(xtwx, Xd.T @ (mu * zd))
        resid = zd - Xd @ beta
        eta = off + z - resid
        mu = np.exp(eta)
        dev = deviance(y, mu)
        if abs(dev - dev_old) / (0.1 + abs(dev)) < tol:
            break
        dev_old = dev
    absorber = Absorber(codes, weights=mu, tol=1e-12, n=len(y))
    Xd = absorber.demean(X)
    bread = np.linalg.inv(Xd.T @ (mu[:, None] * Xd))
    g = int(clusters.max()) + 1
    scores = np.zeros((g, X.shape[1]))
    np.add.at(scores, clusters, Xd * (y - mu)[:, None])
    nested = absorber.nested_in(clusters)
    k_extra = sum(lv for lv, nst in zip(absorber.levels, nested) if not nst)
    if not any(nested):
        k_extra = absorber.dof()
    c = small_sample_factor(len(y), X.shape[1] + k_extra, g)
    vcov = c * bread @ (scores.T @ scores) @ bread
    return PoissonFit(beta, mu, vcov, Xd, iterations, dev)


def balanced_grid(unit_codes: np.ndarray, time_codes: np.ndarray) -> np.ndarray | None:
    """Flat cell index ``unit * T + period`` when every unit × period cell occurs exactly once.

    Returns ``None`` for unbalanced panels (then the fits must be made one by one).
    """
    u = np.asarray(unit_codes, dtype=np.int64)
    t = np.asarray(time_codes, dtype=np.int64)
    if len(u) == 0 or u.min() < 0 or t.min() < 0:
        return None
    n_units, n_t = int(u.max()) + 1, int(t.max()) + 1
    if n_units * n_t != len(u):
        return None
    cell = u * n_t + t
    if np.bincount(cell, minlength=n_units * n_t).max() != 1:
        return None
    return cell


def two_way_demean(x: np.ndarray, w: np.ndarray, *, tol: float = 1e-13,
                   maxiter: int = 100_000) -> np.ndarray:
    """Project ``x[..., i, t]`` off unit and period effects with weights ``w`` (alternating means).

    Alternates :math:`x_{it} \\leftarrow x_{it} - \\sum_s w_{is} x_{is} / \\sum_s w_{is}` and the
    same over units until the largest step is below ``tol`` times the scale of ``x`` (the rule
    of :class:`~utvardering._numerics.fixed_effects.Absorber`), for all leading indices at once.
    """
    z = np.array(x, dtype=float, copy=True)
    row_w = w / w.sum(axis=-1, keepdims=True)  # weights normalised within each unit
    col_w = w / w.sum(axis=-2, keepdims=True)  # ... and within each period
    scale = np.maximum(np.abs(z).max(axis=(-2, -1)), 1.0)
    for _ in range(maxiter):
        step_r = np.einsum("...nt,...nt->...n", z, row_w)
        z -= step_r[..., None]
        step_c = np.einsum("...nt,...nt->...t", z, col_w)
        z -= step_c[..., None, :]
        largest = np.maximum(np.abs(step_r).max(axis=-1), np.abs(step_c).max(axis=-1))
        if not np.isfinite(largest).all():
            raise DesignError("a batched Poisson fit became non-finite while absorbing the unit "
                              "and period effects; refit with batched=False to see which.")
        if np.all(largest <= tol * scale):
            break
    return z


def _batch_deviance(y: np.ndarray, ylogy: float, eta: np.ndarray, mu: np.ndarray) -> np.ndarray:
    r"""Poisson deviance :math:`2\sum(y\log(y/\mu) - (y - \mu))` per leading index."""
    return 2.0 * (ylogy - np.einsum("nt,...nt->...", y, eta) - y.sum()
                  + mu.sum(axis=(-2, -1)))


def null_fit(y: np.ndarray, off: np.ndarray, *, tol: float = 1e-13,
             maxiter: int = 10_000) -> np.ndarray:
    r"""Fitted means of the two-way Poisson model without treatment (iterative proportional fitting).

    Alternates :math:`e^{\alpha_i} = \sum_t y_{it} / \sum_t e^{o_{it} + \gamma_t}` and
    :math:`e^{\gamma_t} = \sum_i y_{it} / \sum_i e^{o_{it} + \alpha_i}` (the closed-form
    likelihood equations of each set of effects given the other) until the margins match.
    """
    rows, cols = y.sum(axis=1), y.sum(axis=0)
    base = np.exp(off - off.max())
    g = np.ones(y.shape[1])
    for _ in range(maxiter):
        a = rows / (base @ g)
        g = cols / (a @ base)
        mu = base * a[:, None] * g[None, :]
        if np.abs(mu.sum(axis=1) - rows).max() <= tol * max(rows.max(), 1.0):
            break
    return mu


def separation(y: np.ndarray, d: np.ndarray) -> np.ndarray:
    r"""−1 / +1 where the PML estimate of :math:`\beta` is −∞ / +∞, 0 where it is finite.

    −∞ when no event falls in a treated cell (:math:`\sum d y = 0`: the score
    :math:`\sum d(y - \mu)` stays negative); +∞ when the treatment lies in one unit whose
    untreated cells have no events (its effect and :math:`\beta` diverge together). Other
    patterns of separation (rare with several treated units) are not detected.
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(d, dtype=float)
    out = np.zeros(d.shape[0], dtype=np.int64)
    out[np.einsum("nt,jnt->j", y, d) == 0] = -1
    rows = d.any(axis=-1)
    single = (rows.sum(axis=-1) == 1) & (out == 0)
    if single.any():
        unit = rows[single].argmax(axis=-1)
        rest = ((1 - d[single]) * y[None]).sum(axis=-1)[np.arange(single.sum()), unit]
        out[np.flatnonzero(single)[rest == 0]] = 1
    return out


def _fit_batch(y, off, d, tol, maxiter):
    n_j = d.shape[0]
    # start every fit at the no-effect solution (each placebo fit is a small step away)
    mu = np.broadcast_to(null_fit(y, off), d.shape).copy()
    eta = np.log(mu)
    beta = np.full(n_j, np.inf)
    dev_old = np.full(n_j, np.inf)
    iterations = np.zeros(n_j, dtype=np.int64)
    active = np.arange(n_j)
    ylogy = float(np.sum(y[y > 0] * np.log(y[y > 0])))
    for it in range(1, maxiter + 1):
        m, e, beta_old = mu[active], eta[active], beta[active]
        z = e - off + (y - m) / m
        both = two_way_demean(np.stack([z, d[active]], axis=1), m[:, None], tol=1e-12)
        zd, dd = both[:, 0], both[:, 1]
        b = (m * zd * dd).sum(axis=(1, 2)) / (m * dd * dd).sum(axis=(1, 2))
        e = off + z - (zd - b[:, None, None] * dd)
        m = np.exp(e)
        dev = _batch_deviance(y, ylogy, e, m)
        beta[active], eta[active], mu[active] = b, e, m
        iterations[active] = it
        # the deviance rule of fe_poisson, and beta settled: started at the no-effect fit, a
        # placebo's deviance changes little while its own beta still moves
        done = (np.abs(dev - dev_old[active]) / (0.1 + np.abs(dev)) < tol) \
            & (np.abs(b - beta_old) <= BETA_TOL * (1.0 + np.abs(b)))
        dev_old[active] = dev
        active = active[~done]
        if len(active) == 0:
            break
    return beta, iterations


def batched_fe_poisson(y: np.ndarray, d: np.ndarray, *, offset: np.ndarray | None = None,
                       tol: float = 1e-10, maxiter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Treatment coefficients of J two-way fixed-effects Poisson PML fits on one balanced panel.

    Parameters
    ----------
    y : numpy.ndarray
        Counts, shape (N, T); no unit or period with all zeros (drop them first).
    d : numpy.ndarray
        Treatment indicators of the J assignments, shape (J, N, T).
    offset : numpy.ndarray, optional
        Log exposure, shape (N, T).
    tol : float
        Convergence tolerance on the relative change in each fit's deviance (as in
        :func:`~utvardering.did.poisson.fe_poisson`); in addition each
        :math:`\\hat\\beta^{(j)}` must change by less than ``BETA_TOL`` (relative).
    maxiter : int
        IRLS iteration cap.

    Returns
    -------
    beta : numpy.ndarray
        :math:`\\hat\\beta^{(j)}` (J); ``nan`` where :math:`d^{(j)}` is constant or absorbed by
        the fixed effects (no variation left after projection), ``±inf`` where the estimate
        does not exist (see :func:`separation`).
    iterations : numpy.ndarray
        IRLS iterations used by each fit.
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(d, dtype=float)
    off = np.zeros_like(y) if offset is None else np.asarray(offset, dtype=float)
    n_j = d.shape[0]
    beta = np.full(n_j, np.nan)
    iterations = np.zeros(n_j, dtype=np.int64)
    flat = d.reshape(n_j, -1)
    varies = flat.max(axis=1) > flat.min(axis=1)
    if varies.any():
        # identified only if d is not a sum of unit and period dummies: check unweighted
        dd = two_way_demean(d[varies], np.ones_like(y)[None])
        ok = np.flatnonzero(varies)[np.abs(dd).max(axis=(1, 2)) > 1e-9]
    else:
        ok = np.zeros(0, dtype=np.int64)
    sep = separation(y, d[ok])
    beta[ok[sep != 0]] = sep[sep != 0] * np.inf
    ok = ok[sep == 0]
    chunk = max(1, MAX_CELLS // y.size)
    for s in range(0, len(ok), chunk):
        idx = ok[s:s + chunk]
        beta[idx], iterations[idx] = _fit_batch(y, off, d[idx], tol, maxiter)
    return beta, iterations
