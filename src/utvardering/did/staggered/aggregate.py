"""Aggregating ATT(g,t) and inference from influence functions.

Pure numpy functions behind :meth:`~utvardering.did.staggered.results.StaggeredEffect.aggregate`:
the four summaries of Callaway & Sant'Anna (2021, Sect. 3) — ``simple``, ``group``,
``dynamic`` (event time) and ``calendar`` — with influence functions that include the
estimation error of the cohort-share weights (the "weight influence function"), analytic or
multiplier-bootstrap standard errors (optionally clustered) and sup-t simultaneous bands.

All influence functions are scaled so that, without clustering, a standard error is
``sqrt(sum(psi**2)) / n`` for ``n`` units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from .influence import TINY, CellInfluence, Inference, LinearForm, as_cell_influence, joint_wald

__all__ = ["AggregateResult", "CohortShares", "aggregate_gt", "summaries_vcov", "wald_pretest",
           "weight_influence"]


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
    form: LinearForm | None = None
    path_form: LinearForm | None = None
    path_se: np.ndarray | None = None
    path_vcov: np.ndarray | None = None


class CohortShares:
    """Cohort shares and each unit's cohort, for the influence of the share weights."""

    def __init__(self, pg: np.ndarray, cell_group: np.ndarray, unit_group: np.ndarray,
                 unit_weight: np.ndarray, cohort_values: np.ndarray | None = None) -> None:
        self.pg, self.cell_group, self.unit_weight = pg, cell_group, unit_weight
        self.groups, self.cell_pos = np.unique(cell_group, return_inverse=True)
        self.cell_pos = self.cell_pos.reshape(-1)
        pos = np.minimum(np.searchsorted(self.groups, unit_group), len(self.groups) - 1)
        # units outside every cohort of the cells point to an extra slot holding zero
        self.unit_pos = np.where(self.groups[pos] == unit_group, pos, len(self.groups))
        self.unit_weight_is_one = bool(np.all(unit_weight == 1.0))
        self.cohort_values = cohort_values
        if cohort_values is not None:
            self.cohort_index = np.searchsorted(cohort_values, self.groups)

    def dot(self, keep: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``weight_influence(keep, ...) @ a`` in O(n) memory, without the ``(n, K)`` matrix.

        With :math:`A_i = \\sum_{k: g_k = G_i} a_k`, :math:`C_i = \\#\\{k: g_k = G_i\\}`,
        :math:`\\hat p \\cdot a = \\sum_k \\hat p_{g_k} a_k` and :math:`S = \\sum_k \\hat p_{g_k}`,
        the product :math:`(w_i A_i - \\hat p \\cdot a)/S - (w_i C_i - S)\\,\\hat p \\cdot a/S^2`
        simplifies to :math:`w_i (A_i/S - C_i\\, \\hat p \\cdot a / S^2)`: one value per
        cohort, looked up for each unit.
        """
        coef = self.coefficients(keep, a)
        out = coef[self.unit_pos]
        if not self.unit_weight_is_one:
            out *= self.unit_weight
        return out

    def coefficients(self, keep: np.ndarray, a: np.ndarray) -> np.ndarray:
        """The value per cohort slot (last slot: units in no cohort of the cells, zero)."""
        p = self.pg[keep]
        total, pa = p.sum(), float(p @ a)
        slots = len(self.groups) + 1
        sum_a = np.bincount(self.cell_pos[keep], weights=a, minlength=slots)
        count = np.bincount(self.cell_pos[keep], minlength=slots).astype(float)
        coef = (sum_a - count * (pa / total)) / total
        coef[-1] = 0.0
        return coef


def _paths(att: np.ndarray, inf, keeps: list, weights: list,
           shares: CohortShares | None = None, form: LinearForm | None = None):
    """Weighted sums of cells for several summaries at once.

    Summary :math:`j` is :math:`\\sum_{k \\in K_j} v_{jk} ATT_k`; all influence functions
    come from one product of the influence matrix with the ``(cells, summaries)`` weight
    matrix ``V``, plus, with ``shares``, the influence of the estimated cohort-share weights
    (:func:`weight_influence`). ``inf`` is an ``(n, cells)`` array or a
    :class:`~utvardering.did.staggered.influence.CellInfluence` (summed block by block). Returns
    the estimates, an ``(n, summaries)`` view of the influence functions and, when ``inf``
    has a :class:`LinearForm`, theirs.
    """
    V = np.zeros((len(att), len(keeps)))
    for j, (keep, weight) in enumerate(zip(keeps, weights)):
        V[keep, j] = weight
    effects = np.array([float(np.sum(att[keep] * weight)) for keep, weight in zip(keeps, weights)])
    out = None if form is None else _form(att, keeps, V, shares, form)
    if inf is None:
        return effects, None, out
    rows = None if isinstance(inf, CellInfluence) else inf.T  # (cells, n)
    if rows is None:
        psi = inf.dot_rows(V)  # (summaries, n)
    elif rows.flags.c_contiguous:  # each cell enters few summaries: add its row where it is used
        psi = np.zeros((len(keeps), rows.shape[1]))
        scratch = np.empty(rows.shape[1])
        for j, (keep, weight) in enumerate(zip(keeps, weights)):
            for k, v in zip(np.asarray(keep).tolist(), np.asarray(weight).tolist()):
                psi[j] += np.multiply(rows[k], v, out=scratch)
    else:
        psi = V.T @ rows  # (summaries, n): rows stay contiguous for the updates below
    if shares is not None:
        for j, keep in enumerate(keeps):
            psi[j] += shares.dot(keep, att[keep])
    return effects, psi.T, out


def summaries_vcov(att: np.ndarray, inf, keeps: list, weights: list, shares: CohortShares,
                   engine: Inference) -> np.ndarray:
    r"""Analytic covariance of several share-weighted summaries of the cells.

    Summary :math:`j` has influence function :math:`\psi_j = \Psi v_j + \omega_j`
    (:math:`v_j` its cell weights, :math:`\omega_j` the influence of the estimated cohort
    shares, :meth:`CohortShares.dot`); the covariance is :math:`S^\top S / n^2` with
    :math:`S` the ``(clusters, summaries)`` cluster sums of :math:`\psi` — R ``did``'s
    ``V = t(inf) %*% inf / n^2`` of ``aggte``'s influence functions. Built block by block
    of units (:meth:`CellInfluence.products`): memory ``O(n·s)``, never the cells × cells
    matrix.
    """
    inf = as_cell_influence(inf)
    m = len(keeps)
    rows = np.concatenate([np.asarray(k, dtype=np.intp) for k in keeps])
    cols = np.repeat(np.arange(m), [len(k) for k in keeps])
    data = np.concatenate([np.broadcast_to(np.asarray(w, dtype=float), (len(k),))
                           for k, w in zip(keeps, weights)])
    V = sparse.csr_matrix((data, (rows, cols)), shape=(len(att), m))
    coef = np.stack([shares.coefficients(k, att[k]) for k in keeps], axis=1)  # (slots, m)
    out = np.zeros((m, m))
    sums = None if engine.cluster is None else np.zeros((engine.n_clusters, m))
    for units, part in inf.products(V):
        part = part + shares.unit_weight[units, None] * coef[shares.unit_pos[units]]
        if sums is None:
            out += part.T @ part
        else:
            np.add.at(sums, engine.cluster[units], part)
    if sums is not None:
        out = sums.T @ sums
    return out / engine.n**2


def _form(att, keeps, V, shares, form: LinearForm) -> LinearForm:
    """The :class:`LinearForm` of the summaries of :func:`_paths` (weights ``V``)."""
    out = LinearForm(form.cells @ V, form.cohorts @ V)
    if shares is not None:
        for j, keep in enumerate(keeps):
            out.cohorts[shares.cohort_index, j] += shares.coefficients(keep, att[keep])[:-1]
    return out


#: elements of the influence functions of event-time summaries formed at once (``path_se``)
_PATH_CHUNK = 1 << 17


def _dynamic_in_chunks(att, inf, keeps, weights, share, cells, positive, path_se, n):
    """Event-time effects, their standard errors (``path_se`` of each chunk of influence
    functions) and the overall mean's influence function, never holding all paths at once.

    The same sums as :func:`_paths` on all summaries and then on the positive ones.
    """
    effects, _, path_form = _paths(att, None, keeps, weights, share, cells)
    ses = np.empty(len(keeps))
    psi = np.zeros((1, n))
    scratch = np.empty(n)
    # at least two paths per chunk: a single column would be summed as a contiguous vector,
    # in another order than the columns of a wider block
    step = max(2, _PATH_CHUNK // max(n, 1))
    starts = list(range(0, len(keeps), step))
    if len(starts) > 1 and len(keeps) - starts[-1] < 2:
        starts.pop()
    weight = np.full(positive.size, 1.0 / positive.size)
    pairs = list(zip(positive.tolist(), weight.tolist()))
    for lo, hi in zip(starts, [*starts[1:], len(keeps)]):
        _, part, _ = _paths(att, inf, keeps[lo:hi], weights[lo:hi], share)
        ses[lo:hi] = path_se(part)
        rows = part.T
        for k, v in pairs:
            if lo <= k < hi:
                psi[0] += np.multiply(rows[k - lo], v, out=scratch)
    est = float(np.sum(effects[positive] * weight))
    V = np.zeros((len(effects), 1))
    V[positive, 0] = weight
    form = None if path_form is None else _form(effects, [positive], V, None, path_form)
    return effects, ses, path_form, est, psi[0], form


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
    cohort_values: np.ndarray | None = None,
    path_se=None,
    vcov_engine: Inference | None = None,
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
    inf : ndarray, shape (n, k), or CellInfluence
        Their influence functions (dense, or stored per block of units).
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
    cohort_values : ndarray, optional
        The sorted distinct values of ``unit_group``; when given, the result also carries
        the :class:`LinearForm` of its influence functions (for a fast bootstrap).
    path_se : callable, optional
        Standard errors of the columns of an ``(n, m)`` block of influence functions. With
        it, ``dynamic`` forms its event-time influence functions a few at a time and returns
        their standard errors (``path_se``) instead of them (``path_influence`` is None).
    vcov_engine : Inference, optional
        ``dynamic`` only: with it, the result carries ``path_vcov``, the analytic covariance
        of the event-time effects (:func:`summaries_vcov`), as HonestDiD needs.

    Returns
    -------
    AggregateResult
    """
    glist = np.unique(group)
    pgg = np.bincount(np.searchsorted(glist, unit_group[np.isin(unit_group, glist)]),
                      weights=unit_weight[np.isin(unit_group, glist)],
                      minlength=len(glist)) / len(unit_group)
    pg = pgg[np.searchsorted(glist, group)]
    share = CohortShares(pg, group, unit_group, unit_weight, cohort_values)
    cells = None if cohort_values is None else LinearForm.identity(len(att), len(cohort_values))
    event = time - group
    post = (group <= time) & (time <= group + max_e)
    if kind == "simple":
        keep = np.flatnonzero(post)
        est, psi, form = _paths(att, inf, [keep], [pg[keep] / pg[keep].sum()], share, cells)
        return AggregateResult(kind, float(est[0]), psi[:, 0], np.array([]), np.array([]),
                               np.zeros((len(psi), 0)), form)
    if kind == "group":
        labels = np.array([g for g in glist if np.any(post & (group == g))])
        pgg = pgg[np.isin(glist, labels)]
        keeps = [np.flatnonzero(post & (group == g)) for g in labels]
        effects, path_inf, path_form = _paths(
            att, inf, keeps, [np.full(len(k), 1.0 / len(k)) for k in keeps], form=cells)
        idx = np.arange(len(labels))
        est, psi, form = _paths(effects, path_inf, [idx], [pgg / pgg.sum()],
                                CohortShares(pgg, labels, unit_group, unit_weight, cohort_values),
                                path_form)
        return AggregateResult(kind, float(est[0]), psi[:, 0], labels, effects, path_inf,
                               form, path_form)
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
        keeps = [np.flatnonzero((event == e) & include) for e in labels]
        positive = np.flatnonzero(labels >= 0)
        vcov = None if vcov_engine is None else summaries_vcov(
            att, inf, keeps, [pg[k] / pg[k].sum() for k in keeps], share, vcov_engine)
        if path_se is not None and positive.size:
            effects, ses, path_form, est, psi, form = _dynamic_in_chunks(
                att, inf, keeps, [pg[k] / pg[k].sum() for k in keeps], share, cells, positive,
                path_se, len(unit_group))
            return AggregateResult(kind, est, psi, labels, effects, None, form, path_form, ses,
                                   vcov)
        effects, path_inf, path_form = _paths(
            att, inf, keeps, [pg[k] / pg[k].sum() for k in keeps], share, cells)
        if positive.size == 0:
            return AggregateResult(kind, np.nan, np.full(len(unit_group), np.nan), labels,
                                   effects, path_inf, None, path_form, path_vcov=vcov)
        est, psi, form = _paths(effects, path_inf, [positive],
                                [np.full(positive.size, 1.0 / positive.size)], form=path_form)
        return AggregateResult(kind, float(est[0]), psi[:, 0], labels, effects, path_inf,
                               form, path_form, path_vcov=vcov)
    if kind == "calendar":
        labels = np.array([t for t in np.unique(time[time >= group.min()])
                           if np.any((time == t) & (group <= time))])
        keeps = [np.flatnonzero((time == t) & (group <= time)) for t in labels]
        effects, path_inf, path_form = _paths(
            att, inf, keeps, [pg[k] / pg[k].sum() for k in keeps], share, cells)
        idx = np.arange(len(labels))
        est, psi, form = _paths(effects, path_inf, [idx],
                                [np.full(len(labels), 1.0 / len(labels))], form=path_form)
        return AggregateResult(kind, float(est[0]), psi[:, 0], labels, effects, path_inf,
                               form, path_form)
    raise ValueError(f"unknown aggregation {kind!r}")


def wald_pretest(att: np.ndarray, inf, pre: np.ndarray,
                 inference: Inference, *, se: np.ndarray | None = None) -> tuple[dict, str | None]:
    """Joint Wald test that every pre-treatment ATT(g,t) is zero.

    :math:`W = \\hat a^\\top \\hat V^{-1} \\hat a \\sim \\chi^2_q` under the null, with
    :math:`\\hat a` the ``q`` pre-treatment estimates with a non-zero standard error and
    :math:`\\hat V` their analytic (cluster-robust) covariance. ``se`` (the analytic
    standard errors of all cells, when already computed) saves one pass over the units.

    :math:`\\hat V` is built from :math:`G` clusters, so its rank is below :math:`G`: with
    :math:`q \\ge G` pre-treatment cells the test is not computed (and the ``q × q`` matrix
    is never formed — at 2,000 units × 200 periods ``q`` is about 4,000); otherwise the
    rank-aware :func:`~utvardering.did.staggered.influence.joint_wald` decides.

    Returns
    -------
    dict
        ``pretrend_wald``, ``pretrend_df``, ``pretrend_p_value`` (NaN when there are no
        usable pre-treatment cells or the covariance is singular).
    str or None
        Why the test was not computed, if it was not.
    """
    if se is None:
        inference = replace(inference, multipliers=None)
        se = inference.standard_errors(inf)[0]
        se = np.where(np.isnan(se), 0.0, se)
    use = pre & (se > TINY)
    q = int(use.sum())
    what = "pre-treatment ATT(g,t) cells"
    advice = ("read the pre-treatment part of aggregate('dynamic') instead, and use "
              "honest_did() on it")
    if q == 0 or q >= inference.n_clusters:
        return joint_wald(att[use], np.zeros((q, q)), inference.n_clusters, what, advice)
    v = inference.gram(inf, use) / inference.n**2
    return joint_wald(att[use], v, inference.n_clusters, what, advice)
