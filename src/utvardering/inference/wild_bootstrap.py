"""Wild cluster bootstrap for one regression coefficient, vectorised over draws.

Model :math:`y = X\\beta + D\\alpha + u` (fixed effects :math:`D` absorbed, weights
:math:`W`), clusters :math:`g = 1..G`, hypothesis :math:`\\beta_j = \\beta_0`. With
:math:`r` the residual of :math:`X_j` on the other regressors and fixed effects (Frisch–Waugh–
Lovell) and :math:`S = r'Wr`, the bootstrap samples are :math:`y^* = \\hat y + v \\circ \\hat u`
where :math:`v_g` is one draw per cluster (Rademacher :math:`\\pm 1`, or Webb's six-point
:math:`\\pm\\sqrt{1/2}, \\pm 1, \\pm\\sqrt{3/2}`), :math:`\\hat u` the residuals of the restricted
model (``impose_null=True``, WCR: :math:`\\beta_j = \\beta_0` imposed) or of the full model
(WCU). Everything a draw needs is linear in :math:`v`:

.. math::

    \\beta_j^* - \\beta_j^{(0)} = \\frac{1}{S}\\sum_g v_g\\, p_g, \\qquad
    p_g = r_g' W_g \\hat u_g, \\qquad
    c_g^* = \\sum_h v_h K_{gh}, \\qquad
    K_{gh} = r_g' W_g \\big[M_X (1_h \\circ \\hat u)\\big]_g ,

with the bootstrap CR1 variance :math:`\\mathrm{se}^{*2} = c \\sum_g c_g^{*2} / S^2`. So one
:math:`B \\times G` weight matrix :math:`V` gives every bootstrap t-statistic through two
matrix products (:math:`Vp` and :math:`VK'`): no loop over draws and no refitting (Roodman,
MacKinnon, Nielsen & Webb 2019). Because the restricted residuals are linear in
:math:`\\beta_0` (:math:`\\hat u(\\beta_0) = \\hat u(0) - \\beta_0 r`), the bootstrap statistic at
any :math:`\\beta_0` is a ratio of a linear and a quadratic polynomial in :math:`\\beta_0` per
draw, and confidence intervals by test inversion cost :math:`O(B)` per trial value.

The p-value is symmetric: the share of draws with :math:`|t^*| \\ge |t|`. With Rademacher
weights and :math:`2^G \\le B` every sign vector is enumerated (exact, deterministic).

References
----------
Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
inference with clustered errors. *Review of Economics and Statistics* 90(3), 414–427.
Webb, M. D. (2023). Reworking wild bootstrap-based inference for clustered errors.
*Canadian Journal of Economics* 56(3), 839–858.
Roodman, D., MacKinnon, J. G., Nielsen, M. Ø. & Webb, M. D. (2019). Fast and wild: bootstrap
inference in Stata using boottest. *Stata Journal* 19(1), 4–60.
MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly different cluster
sizes. *Journal of Applied Econometrics* 32(2), 233–254.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .._numerics.fixed_effects import Absorber, factorize
from .cluster import small_sample_factor

__all__ = ["MAX_CLUSTERS", "WildBootstrapResult", "bootstrap_weights", "wild_cluster_bootstrap"]

WeightsType = Literal["rademacher", "webb"]
#: Largest number of clusters accepted (memory grows with n × G and B × G).
MAX_CLUSTERS = 2000
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def bootstrap_weights(n_draws: int, n_clusters: int, weights_type: WeightsType = "rademacher",
                      random_state: int | np.random.Generator | None = None) -> tuple[np.ndarray, bool]:
    """The B × G matrix of wild bootstrap weights.

    Parameters
    ----------
    n_draws : int
        Draws B.
    n_clusters : int
        Clusters G.
    weights_type : {"rademacher", "webb"}
        Rademacher (±1 with probability 1/2) or Webb's six-point distribution.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    weights : numpy.ndarray
        B × G (with Rademacher weights and :math:`2^G \\le B`, all :math:`2^G` sign vectors).
    enumerated : bool
        Whether the draws are the full enumeration.
    """
    if weights_type not in ("rademacher", "webb"):
        raise ValueError(f"weights_type={weights_type!r} is not one of 'rademacher', 'webb'.")
    if weights_type == "rademacher" and n_clusters <= 20 and 2 ** n_clusters <= n_draws:
        codes = np.arange(2 ** n_clusters)[:, None] >> np.arange(n_clusters)[None, :]
        return (2.0 * (codes & 1) - 1.0), True
    rng = np.random.default_rng(random_state)
    if weights_type == "rademacher":
        return 2.0 * rng.integers(0, 2, size=(n_draws, n_clusters)) - 1.0, False
    return _WEBB[rng.integers(0, 6, size=(n_draws, n_clusters))], False


@dataclass
class WildBootstrapResult:
    """Result of :func:`wild_cluster_bootstrap`.

    Attributes
    ----------
    estimate, se : float
        The coefficient and its CR1 standard error.
    null : float
        Hypothesised value :math:`\\beta_0`.
    t_stat : float
        :math:`(\\hat\\beta - \\beta_0)/\\mathrm{se}`.
    p_value : float
        Symmetric bootstrap p-value.
    interval : tuple of float
        Confidence interval at ``level`` by test inversion (NaN when not requested).
    level : float
        Coverage of ``interval``.
    n_draws : int
        Draws used (:math:`2^G` under full enumeration).
    n_clusters : int
        Clusters.
    weights_type : str
        ``"rademacher"`` or ``"webb"``.
    impose_null : bool
        Restricted (WCR) or unrestricted (WCU) bootstrap.
    enumerated : bool
        Whether all Rademacher sign vectors were used.
    t_boot : numpy.ndarray
        Bootstrap t-statistics at ``null``.
    """

    estimate: float
    se: float
    null: float
    t_stat: float
    p_value: float
    interval: tuple[float, float]
    level: float
    n_draws: int
    n_clusters: int
    weights_type: str
    impose_null: bool
    enumerated: bool
    t_boot: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def to_dict(self) -> dict:
        """Plain summary (without the draws) for ``Effect.diagnostics``."""
        return {"estimate": self.estimate, "se": self.se, "null": self.null, "t_stat": self.t_stat,
                "p_value": self.p_value, "interval": list(self.interval), "level": self.level,
                "n_draws": self.n_draws, "n_clusters": self.n_clusters,
                "weights_type": self.weights_type, "impose_null": self.impose_null,
                "enumerated": self.enumerated}


def _group_sum(values: np.ndarray, codes: np.ndarray, g: int) -> np.ndarray:
    values = values.reshape(len(codes), -1)
    out = np.zeros((g, values.shape[1]))
    np.add.at(out, codes, values)
    return out


class _Pieces:
    """The draw-independent pieces p (G) and K (G × G) for a residual vector ``u``."""

    def __init__(self, u, r, w, clusters, g, annihilate):
        self.p = _group_sum(r * w * u, clusters, g)[:, 0]
        z = np.zeros((len(u), g))
        z[np.arange(len(u)), clusters] = u
        self.K = _group_sum((r * w)[:, None] * annihilate(z), clusters, g)


def wild_cluster_bootstrap(
    y: np.ndarray,
    X: np.ndarray,
    clusters: np.ndarray,
    *,
    param: int = 0,
    absorber: Absorber | None = None,
    weights: np.ndarray | None = None,
    null: float = 0.0,
    n_draws: int = 9999,
    weights_type: WeightsType = "rademacher",
    impose_null: bool = True,
    level: float = 0.95,
    interval: bool = True,
    random_state: int | np.random.Generator | None = None,
) -> WildBootstrapResult:
    """Wild cluster bootstrap test of :math:`\\beta_j = \\beta_0` and its inverted interval.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome (n).
    X : numpy.ndarray
        Regressors (n × k); include an intercept when no fixed effects are absorbed.
    clusters : numpy.ndarray
        Cluster identifiers (n), any hashable values.
    param : int, default 0
        Column of ``X`` tested.
    absorber : Absorber, optional
        Fixed effects projected off (its weights are used when ``weights`` is omitted).
    weights : numpy.ndarray, optional
        Regression weights (WLS).
    null : float, default 0
        :math:`\\beta_0`.
    n_draws : int, default 9999
        Bootstrap draws B.
    weights_type : {"rademacher", "webb"}
        Distribution of the cluster weights (Webb when G < 12).
    impose_null : bool, default True
        Restricted (WCR, recommended) or unrestricted (WCU) bootstrap.
    level : float, default 0.95
        Coverage of the interval.
    interval : bool, default True
        Compute the interval by test inversion.
    random_state : int or numpy.random.Generator, optional
        Seed for the draws.

    Returns
    -------
    WildBootstrapResult
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    n, k = X.shape
    codes, _ = factorize(clusters)
    g = int(codes.max()) + 1
    if g > MAX_CLUSTERS:
        raise ValueError(
            f"{g} clusters: the wild cluster bootstrap here stores G × G and n × G matrices and "
            f"is meant for few clusters (at most {MAX_CLUSTERS}); with this many clusters "
            "conventional cluster-robust inference is reliable — use it instead.")
    if absorber is None:
        absorber = Absorber([], weights=weights if weights is not None else np.ones(n), n=n)
    elif weights is not None:
        absorber = Absorber(absorber.codes, weights=weights, n=n)
    w = absorber.weights
    both = absorber.demean(np.column_stack([y, X]))
    yd, Xd = both[:, 0], both[:, 1:]
    xtx_inv = np.linalg.inv(Xd.T @ (w[:, None] * Xd))

    def annihilate(z):
        zd = absorber.demean(z)
        return zd - Xd @ (xtx_inv @ (Xd.T @ (w[:, None] * zd)))

    others = [c for c in range(k) if c != param]
    xo = Xd[:, others]
    if others:
        proj = np.linalg.solve(xo.T @ (w[:, None] * xo), xo.T @ (w[:, None] * np.column_stack([yd, Xd[:, param]])))
        y_other, r = (np.column_stack([yd, Xd[:, param]]) - xo @ proj).T
    else:
        y_other, r = yd.copy(), Xd[:, param].copy()
    S = float(r @ (w * r))
    beta = float(r @ (w * y_other)) / S
    u_full = y_other - beta * r
    ssc = small_sample_factor(n, k, g)
    score = _group_sum(r * w * u_full, codes, g)[:, 0]
    se = float(np.sqrt(ssc * (score @ score)) / S)

    V, enumerated = bootstrap_weights(n_draws, g, weights_type, random_state)
    if impose_null:
        # u(b0) = u0 - b0 * r with u0 the residual of y on the other regressors
        P0 = _Pieces(y_other, r, w, codes, g, annihilate)
        P1 = _Pieces(r, r, w, codes, g, annihilate)
        n0, n1 = V @ P0.p, V @ P1.p
        A0, A1 = V @ P0.K.T, V @ P1.K.T
        qa, qc, qd = (A0 * A0).sum(1), (A0 * A1).sum(1), (A1 * A1).sum(1)

        def t_boot_sq(b0: float) -> np.ndarray:
            num = n0 - b0 * n1
            den = ssc * (qa - 2 * b0 * qc + b0 * b0 * qd)
            return num * num / den
    else:
        P = _Pieces(u_full, r, w, codes, g, annihilate)
        tb = (V @ P.p) / np.sqrt(ssc * ((V @ P.K.T) ** 2).sum(1))
        tb_sq = tb * tb

        def t_boot_sq(b0: float) -> np.ndarray:
            return tb_sq

    def p_at(b0: float) -> float:
        t_sq = ((beta - b0) / se) ** 2
        return float(np.mean(t_boot_sq(b0) >= t_sq * (1 - 1e-12)))

    t_stat = (beta - null) / se
    p_value = p_at(null)
    t_boot = np.sign(n0 - null * n1) * np.sqrt(t_boot_sq(null)) if impose_null else tb
    ci = (np.nan, np.nan)
    if interval:
        ci = _invert(p_at, beta, se, 1 - level)
    return WildBootstrapResult(beta, se, float(null), float(t_stat), p_value, ci, level, len(V), g,
                               weights_type, impose_null, enumerated, t_boot)


def _invert(p_at, beta: float, se: float, alpha: float) -> tuple[float, float]:
    """Bounds where the bootstrap p-value crosses ``alpha`` (bracketing, then bisection)."""
    bounds = []
    for direction in (-1.0, 1.0):
        inner, step = beta, 2.0 * se
        outer = beta + direction * step
        tries = 0
        while p_at(outer) > alpha and tries < 60:
            inner, step = outer, step * 2
            outer = beta + direction * step
            tries += 1
        if tries == 60:
            bounds.append(direction * np.inf)
            continue
        for _ in range(60):
            mid = 0.5 * (inner + outer)
            if p_at(mid) > alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= 1e-10 * max(1.0, abs(beta)):
                break
        bounds.append(0.5 * (inner + outer))
    return (float(bounds[0]), float(bounds[1]))
