"""Aggregating ATT(g,t) and inference from influence functions.

Pure numpy functions behind :meth:`~utvardering.did.staggered_result.StaggeredEffect.aggregate`:
the four summaries of Callaway & Sant'Anna (2021, Sect. 3) — ``simple``, ``group``,
``dynamic`` (event time) and ``calendar`` — with influence functions that include the
estimation error of the cohort-share weights (the "weight influence function"), analytic or
multiplier-bootstrap standard errors (optionally clustered) and sup-t simultaneous bands.

All influence functions are scaled so that, without clustering, a standard error is
``sqrt(sum(psi**2)) / n`` for ``n`` units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "AggregateResult",
    "Inference",
    "aggregate_gt",
    "mammen_weights",
    "wald_pretest",
    "weight_influence",
]

_TINY = np.sqrt(np.finfo(float).eps) * 10


def mammen_weights(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Mammen (1993) two-point multipliers: mean 0, variance 1, third moment 1."""
    root5 = np.sqrt(5.0)
    low, high = (1.0 - root5) / 2.0, (1.0 + root5) / 2.0
    p_low = (root5 + 1.0) / (2.0 * root5)
    return np.where(rng.random(size) < p_low, low, high)


@dataclass
class Inference:
    """How standard errors are computed from influence functions.

    Attributes
    ----------
    n : int
        Number of units (rows of the influence functions).
    cluster : ndarray of int, optional
        Cluster code of each unit (``None``: units are the clusters).
    multipliers : ndarray, optional
        ``(draws, clusters)`` bootstrap multipliers; ``None`` for analytic standard errors.
    level : float
        Confidence level.
    """

    n: int
    cluster: np.ndarray | None = None
    multipliers: np.ndarray | None = None
    level: float = 0.95

    @property
    def n_clusters(self) -> int:
        return self.n if self.cluster is None else int(self.cluster.max()) + 1

    def cluster_sums(self, psi: np.ndarray) -> np.ndarray:
        """``(clusters, m)`` sums of the influence functions within clusters."""
        psi = psi.reshape(self.n, -1)
        if self.cluster is None:
            return psi
        out = np.zeros((self.n_clusters, psi.shape[1]))
        np.add.at(out, self.cluster, psi)
        return out

    def standard_errors(self, psi: np.ndarray) -> tuple[np.ndarray, float]:
        """Standard errors of the columns of ``psi`` and a critical value for joint bands.

        Analytic: :math:`\\sqrt{\\sum_c S_c^2}/n` with :math:`S_c` the cluster sums, and the
        normal quantile. Bootstrap: :math:`\\hat b_j = \\sqrt{G}\\,G^{-1}\\sum_c V_c S_{cj}`
        over the multiplier draws :math:`V`; the standard error is the normalised
        interquartile range of :math:`\\hat b_j` times :math:`\\sqrt{G}/n`, and the critical
        value is the ``level`` quantile of :math:`\\max_j |\\hat b_j| / \\hat\\sigma_j`
        (sup-t band).
        """
        sums = self.cluster_sums(psi)
        z = float(stats.norm.ppf(0.5 + self.level / 2))
        if self.multipliers is None:
            se = np.sqrt(np.sum(sums**2, axis=0)) / self.n
            se[~(se > _TINY)] = np.nan
            return se, z
        g = sums.shape[0]
        draws = np.sqrt(g) * (self.multipliers @ sums) / g
        ok = np.all(np.isfinite(draws), axis=0) & (np.sum(draws**2, axis=0) > _TINY)
        sigma = np.full(sums.shape[1], np.nan)
        if ok.any():
            ordered = np.sort(draws[:, ok], axis=0)
            b = ordered.shape[0]
            q75, q25 = ordered[int(np.ceil(0.75 * b)) - 1], ordered[int(np.ceil(0.25 * b)) - 1]
            sigma[ok] = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
        sigma[~(sigma > _TINY)] = np.nan
        se = sigma * np.sqrt(g) / self.n
        good = np.isfinite(sigma)
        if not good.any():
            return se, z
        t_max = np.max(np.abs(draws[:, good] / sigma[good]), axis=1)
        t_sorted = np.sort(t_max)
        crit = float(t_sorted[int(np.ceil(self.level * len(t_sorted))) - 1])
        return se, crit

    def vcov(self, psi: np.ndarray) -> np.ndarray:
        """Analytic covariance matrix of the estimates, :math:`S^\\top S / n^2`."""
        sums = self.cluster_sums(psi)
        return sums.T @ sums / self.n**2


def weight_influence(keep: np.ndarray, pg: np.ndarray, cell_group: np.ndarray,
                     unit_group: np.ndarray, unit_weight: np.ndarray) -> np.ndarray:
    """Influence function of the estimated aggregation weights :math:`\\hat p_g/\\sum \\hat p_g`.

    For kept cells :math:`k` with cohort :math:`g_k` and share :math:`\\hat p_{g_k} =
    n^{-1}\\sum_i w_i 1\\{G_i=g_k\\}`, with :math:`c_{ik} = w_i 1\\{G_i = g_k\\} - \\hat p_{g_k}`
    and :math:`S = \\sum_k \\hat p_{g_k}`, the ``(n, K)`` matrix is
    :math:`c_{ik}/S - (\\sum_l c_{il})\\, \\hat p_{g_k}/S^2`.
    """
    p = pg[keep]
    total = p.sum()
    centered = unit_weight[:, None] * (unit_group[:, None] == cell_group[keep][None, :]) - p
    return centered / total - centered.sum(axis=1, keepdims=True) * (p / total**2)[None, :]


@dataclass
class AggregateResult:
    """One aggregation: overall estimate with its influence function, and its path."""

    kind: str
    estimate: float
    influence: np.ndarray
    labels: np.ndarray
    effects: np.ndarray
    path_influence: np.ndarray


def _combine(att, inf, keep, weights, wif=None):
    psi = inf[:, keep] @ weights
    if wif is not None:
        psi = psi + wif @ att[keep]
    return float(np.sum(att[keep] * weights)), psi


def aggregate_gt(
    att: np.ndarray,
    inf: np.ndarray,
    group: np.ndarray,
    time: np.ndarray,
    unit_group: np.ndarray,
    unit_weight: np.ndarray,
    kind: str = "simple",
    *,
    balance_e: int | None = None,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    first_time: float | None = None,
) -> AggregateResult:
    """Aggregate ATT(g,t) as R ``did::aggte`` (Callaway & Sant'Anna 2021, Sect. 3.1).

    With cohort shares :math:`\\hat p_g`:

    * ``simple``: :math:`\\sum_{g \\le t} \\hat p_g ATT(g,t) / \\sum_{g \\le t} \\hat p_g`;
    * ``group``: :math:`\\theta(g)` = mean of :math:`ATT(g,t)` over :math:`t \\ge g`; overall
      :math:`\\sum_g \\hat p_g \\theta(g) / \\sum_g \\hat p_g`;
    * ``dynamic``: :math:`\\theta(e) = \\sum_g \\hat p_g ATT(g, g+e) / \\sum_g \\hat p_g` over
      cohorts observed at event time :math:`e`; overall = mean of :math:`\\theta(e), e \\ge 0`;
    * ``calendar``: :math:`\\theta(t)` = share-weighted mean of :math:`ATT(g,t), g \\le t`;
      overall = mean over :math:`t`.

    Parameters
    ----------
    att : ndarray, shape (k,)
        ATT(g,t) estimates.
    inf : ndarray, shape (n, k)
        Their influence functions.
    group, time : ndarray, shape (k,)
        Cohort and period of each cell on one ordinal scale (event time = ``time - group``).
    unit_group : ndarray, shape (n,)
        Each unit's cohort on the same scale (``inf`` for never treated).
    unit_weight : ndarray, shape (n,)
        Sampling weights normalised to mean one.
    kind : {"simple", "group", "dynamic", "calendar"}
    balance_e, min_e, max_e
        Event-time restrictions as in ``aggte``: ``max_e`` limits the post-treatment cells
        used by every aggregation; ``min_e`` and ``balance_e`` (only cohorts observed for at
        least ``balance_e`` periods after treatment) apply to ``dynamic``.
    first_time : float, optional
        First period of the panel (default: the earliest cell), used by ``balance_e``.

    Returns
    -------
    AggregateResult
    """
    glist = np.unique(group)
    pgg = np.array([np.mean(unit_weight * (unit_group == g)) for g in glist])
    pg = pgg[np.searchsorted(glist, group)]
    event = time - group
    post = (group <= time) & (time <= group + max_e)
    if kind == "simple":
        keep = np.flatnonzero(post)
        wif = weight_influence(keep, pg, group, unit_group, unit_weight)
        est, psi = _combine(att, inf, keep, pg[keep] / pg[keep].sum(), wif)
        return AggregateResult(kind, est, psi, np.array([]), np.array([]), np.zeros((len(psi), 0)))
    if kind == "group":
        labels = np.array([g for g in glist if np.any(post & (group == g))])
        pgg = pgg[np.isin(glist, labels)]
        effects, paths = [], []
        for g in labels:
            keep = np.flatnonzero(post & (group == g))
            est, psi = _combine(att, inf, keep, np.full(len(keep), 1.0 / len(keep)))
            effects.append(est), paths.append(psi)
        effects, path_inf = np.array(effects), np.column_stack(paths)
        wif = weight_influence(np.arange(len(labels)), pgg, labels, unit_group, unit_weight)
        est, psi = _combine(effects, path_inf, np.arange(len(labels)), pgg / pgg.sum(), wif)
        return AggregateResult(kind, est, psi, labels, effects, path_inf)
    if kind == "dynamic":
        include = np.ones(len(att), dtype=bool)
        eseq = np.unique(event)
        if balance_e is not None:
            include = time.max() - group >= balance_e
            eseq = np.unique(event[include])
            first = min(time.min() if first_time is None else first_time, group.min())
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - time.max() + first)]
        labels = eseq[(eseq >= min_e) & (eseq <= max_e)]
        if labels.size == 0:
            raise ValueError("no event times fall within min_e/max_e/balance_e; widen them.")
        effects, paths = [], []
        for e in labels:
            keep = np.flatnonzero((event == e) & include)
            wif = weight_influence(keep, pg, group, unit_group, unit_weight)
            est, psi = _combine(att, inf, keep, pg[keep] / pg[keep].sum(), wif)
            effects.append(est), paths.append(psi)
        effects, path_inf = np.array(effects), np.column_stack(paths)
        positive = np.flatnonzero(labels >= 0)
        if positive.size == 0:
            return AggregateResult(kind, np.nan, np.full(len(unit_group), np.nan), labels,
                                   effects, path_inf)
        est, psi = _combine(effects, path_inf, positive, np.full(positive.size, 1.0 / positive.size))
        return AggregateResult(kind, est, psi, labels, effects, path_inf)
    if kind == "calendar":
        labels = np.array([t for t in np.unique(time[time >= group.min()])
                           if np.any((time == t) & (group <= time))])
        effects, paths = [], []
        for t in labels:
            keep = np.flatnonzero((time == t) & (group <= time))
            wif = weight_influence(keep, pg, group, unit_group, unit_weight)
            est, psi = _combine(att, inf, keep, pg[keep] / pg[keep].sum(), wif)
            effects.append(est), paths.append(psi)
        effects, path_inf = np.array(effects), np.column_stack(paths)
        idx = np.arange(len(labels))
        est, psi = _combine(effects, path_inf, idx, np.full(len(labels), 1.0 / len(labels)))
        return AggregateResult(kind, est, psi, labels, effects, path_inf)
    raise ValueError(f"unknown aggregation {kind!r}")


def wald_pretest(att: np.ndarray, inf: np.ndarray, pre: np.ndarray,
                 inference: Inference) -> dict:
    """Joint Wald test that every pre-treatment ATT(g,t) is zero.

    :math:`W = \\hat a^\\top \\hat V^{-1} \\hat a \\sim \\chi^2_q` under the null, with
    :math:`\\hat a` the ``q`` pre-treatment estimates with a non-zero standard error and
    :math:`\\hat V` their analytic (cluster-robust) covariance.

    Returns
    -------
    dict
        ``pretrend_wald``, ``pretrend_df``, ``pretrend_p_value`` (NaN when there are no
        usable pre-treatment cells or the covariance is singular).
    """
    vcov = inference.vcov(inf)
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    use = pre & (se > _TINY)
    out = {"pretrend_wald": np.nan, "pretrend_df": int(use.sum()), "pretrend_p_value": np.nan}
    if not use.any():
        return out
    v = vcov[np.ix_(use, use)]
    if 1.0 / np.linalg.cond(v) <= np.finfo(float).eps:
        return out
    a = att[use]
    wald = float(a @ np.linalg.solve(v, a))
    out.update(pretrend_wald=wald, pretrend_p_value=float(stats.chi2.sf(wald, use.sum())))
    return out
