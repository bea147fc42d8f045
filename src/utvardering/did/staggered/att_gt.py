"""Group-time average treatment effects ATT(g,t) with their influence functions.

Pure numpy numerics behind :func:`~utvardering.did.staggered.callaway_santanna.callaway_santanna`.
For every treated cohort ``g`` and period ``t`` the panel is reduced to a two-period,
two-group comparison — units first treated at ``g`` against a comparison group (never
treated, or not yet treated by ``t``) between a base period and ``t`` — and estimated with
the doubly robust (Sant'Anna & Zhao 2020), inverse-probability-weighted or outcome-regression
DiD estimator for panel data. Each estimate carries its influence function on the full
sample of units, from which standard errors, bootstrap bands and every aggregation follow.

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. *Journal of Econometrics* 225(2), 200–230.
Sant'Anna, P. H. C. & Zhao, J. (2020). Doubly robust difference-in-differences estimators.
*Journal of Econometrics* 219(1), 101–122.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .influence import CellInfluence

__all__ = ["TRIM_LEVEL", "GroupTimeResult", "att_gt_means", "att_gt_panel", "did_panel_2x2",
           "fit_logit"]

#: Controls whose propensity score reaches this level get no weight (Sant'Anna & Zhao trimming).
TRIM_LEVEL = 0.995


def fit_logit(X: np.ndarray, d: np.ndarray, w: np.ndarray, *, tol: float = 1e-12,
              max_iter: int = 100) -> np.ndarray:
    """Weighted logistic regression by Newton–Raphson.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Design matrix (including the intercept column).
    d : ndarray, shape (n,)
        0/1 outcome.
    w : ndarray, shape (n,)
        Non-negative observation weights.
    tol, max_iter : float, int
        Convergence tolerance on the coefficient change and iteration cap.

    Returns
    -------
    ps : ndarray, shape (n,)
        Fitted probabilities :math:`\\Lambda(X\\hat\\beta)`.
    """
    beta = np.zeros(X.shape[1])
    if X.shape[1] == 1 and np.allclose(X[:, 0], 1.0):
        share = float(np.sum(w * d) / np.sum(w))
        beta[0] = np.log(share / (1.0 - share))
    for _ in range(max_iter):
        ps = 1.0 / (1.0 + np.exp(-(X @ beta)))
        hess = X.T @ (X * (w * ps * (1.0 - ps))[:, None])
        step = np.linalg.solve(hess, X.T @ (w * (d - ps)))
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    return 1.0 / (1.0 + np.exp(-(X @ beta)))


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    xw = X * w[:, None]
    return np.linalg.solve(X.T @ xw, xw.T @ y)


def did_panel_2x2(dy: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray,
                  method: str = "dr") -> tuple[float, np.ndarray]:
    """Two-group, two-period DiD on panel data with its influence function.

    With :math:`\\Delta Y = Y_t - Y_{base}`, treatment indicator :math:`D`, covariates
    :math:`X` (first column the intercept) and weights normalised to mean one:

    * ``"reg"`` (outcome regression): :math:`\\hat\\tau = \\bar{\\Delta Y}_{D=1} -
      \\overline{X\\hat\\beta}_{D=1}`, with :math:`\\hat\\beta` from WLS of
      :math:`\\Delta Y` on :math:`X` among the comparison units;
    * ``"ipw"`` (normalised inverse probability weighting with a logit propensity score
      :math:`\\hat p(X)`): comparison units weighted by :math:`\\hat p/(1-\\hat p)`;
    * ``"dr"`` (doubly robust): the IPW contrast of :math:`\\Delta Y - X\\hat\\beta`.

    The influence functions include the estimation effect of :math:`\\hat\\beta` and the
    propensity score, as in Sant'Anna & Zhao (2020, Sect. 3).

    Parameters
    ----------
    dy : ndarray, shape (n,)
        Outcome change of each unit between the base period and ``t``.
    d : ndarray, shape (n,)
        1 for treated, 0 for comparison units.
    X : ndarray, shape (n, p)
        Covariates with a leading intercept column.
    w : ndarray, shape (n,)
        Sampling weights (normalised to mean one inside).
    method : {"dr", "ipw", "reg"}
        Estimator.

    Returns
    -------
    att : float
    influence : ndarray, shape (n,)
        Influence function; ``sqrt(sum(influence**2)) / n`` is the standard error.
    """
    n = d.shape[0]
    w = w / w.mean()
    control = d == 0
    if method in ("dr", "reg"):
        beta = _wls(X[control], dy[control], w[control])
        fitted = X @ beta
        w_ols = w * (1.0 - d)
        xpx_inv = np.linalg.inv(X.T @ (X * w_ols[:, None]) / n)
        lin_ols = (w_ols * (dy - fitted))[:, None] * X @ xpx_inv
    if method == "reg":
        w_treat = w * d
        eta_treat = np.mean(w_treat * dy) / np.mean(w_treat)
        eta_cont = np.mean(w_treat * fitted) / np.mean(w_treat)
        inf_treat = (w_treat * dy - w_treat * eta_treat) / np.mean(w_treat)
        m1 = np.mean(w_treat[:, None] * X, axis=0)
        inf_cont = (w_treat * fitted - w_treat * eta_cont + lin_ols @ m1) / np.mean(w_treat)
        return float(eta_treat - eta_cont), inf_treat - inf_cont
    ps = np.minimum(fit_logit(X, d, w), 1.0 - 1e-6)
    hess_inv = np.linalg.inv(X.T @ (X * (w * ps * (1.0 - ps))[:, None]))
    keep = np.where(control, ps < TRIM_LEVEL, True).astype(float)
    w_treat = keep * w * d
    w_cont = keep * w * ps * (1.0 - d) / (1.0 - ps)
    lin_ps = (w * (d - ps))[:, None] * X @ (hess_inv * n)
    resid = dy - fitted if method == "dr" else dy
    eta_treat = np.mean(w_treat * resid) / np.mean(w_treat)
    eta_cont = np.mean(w_cont * resid) / np.mean(w_cont)
    inf_treat = w_treat * resid - w_treat * eta_treat
    m2 = np.mean((w_cont * (resid - eta_cont))[:, None] * X, axis=0)
    inf_cont = w_cont * resid - w_cont * eta_cont + lin_ps @ m2
    if method == "dr":
        inf_treat = inf_treat - lin_ols @ np.mean(w_treat[:, None] * X, axis=0)
        inf_cont = inf_cont - lin_ols @ np.mean(w_cont[:, None] * X, axis=0)
    influence = inf_treat / np.mean(w_treat) - inf_cont / np.mean(w_cont)
    return float(eta_treat - eta_cont), influence



@dataclass
class GroupTimeResult:
    """ATT(g,t) cells (positions into the cohort and time arrays) and their influence functions."""

    group: np.ndarray
    time: np.ndarray
    base: np.ndarray
    att: np.ndarray
    influence: np.ndarray | CellInfluence
    n_treated: np.ndarray
    n_control: np.ndarray
    skipped: list[str] = field(default_factory=list)


def att_gt_panel(
    y: np.ndarray,
    cohort: np.ndarray,
    times: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    covariates: np.ndarray | None = None,
    control_group: str = "never_treated",
    anticipation: int = 0,
    base_period: str = "varying",
    method: str = "dr",
) -> GroupTimeResult:
    """Every ATT(g,t) of a balanced panel (Callaway & Sant'Anna 2021, Theorem 1).

    For cohort :math:`g` and period :math:`t`, with base period :math:`b`,

    .. math:: ATT(g,t) = E[Y_t - Y_b \\mid G=g] - E[Y_t - Y_b \\mid C]

    (conditionally on covariates for ``"dr"``/``"ipw"``/``"reg"``), where :math:`C` is the
    never-treated units or the units not yet treated by :math:`\\max(t, b) +` anticipation.
    Post-treatment cells (:math:`t \\ge g`) use :math:`b` = the last period before
    :math:`g -` anticipation; pre-treatment cells use :math:`b = t-1` (``"varying"``) or the
    same :math:`b` as the post cells (``"universal"``, where the cell :math:`t=b` is 0).

    Parameters
    ----------
    y : ndarray, shape (n, T)
        Outcomes, units × periods (balanced).
    cohort : ndarray, shape (n,)
        First treated period of each unit on the ordinal scale of ``times``; ``inf`` for
        never-treated units.
    times : ndarray, shape (T,)
        Increasing period ordinals (e.g. years).
    weights : ndarray, shape (n,), optional
        Time-invariant sampling weights.
    covariates : ndarray, shape (n, T, p), optional
        Covariates; each cell uses their values in the earlier of its two periods.
    control_group : {"never_treated", "not_yet_treated"}
    anticipation : int
        Periods of anticipation.
    base_period : {"varying", "universal"}
    method : {"dr", "ipw", "reg"}

    Returns
    -------
    GroupTimeResult
        ``group``/``time``/``base`` are cohort values and indices into ``times``;
        ``influence`` is a :class:`~utvardering.did.staggered.influence.CellInfluence` of shape
        ``(n, cells)`` (``.dense()`` gives the matrix), scaled so that a cell's standard
        error is ``sqrt(sum(influence[:, j]**2)) / n``.
    """
    n, n_times = y.shape
    if covariates is None:
        return att_gt_means(y, cohort, times, weights=weights, control_group=control_group,
                            anticipation=anticipation, base_period=base_period, method=method)
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    glist = np.unique(cohort[np.isfinite(cohort)])
    never = ~np.isfinite(cohort)
    level = np.full(n, len(glist), dtype=np.intp)
    level[~never] = np.searchsorted(glist, cohort[~never])
    cell_levels: list[np.ndarray] = []
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []
    universal = base_period == "universal"
    offset = 0 if universal else 1
    rows: dict[str, list] = {k: [] for k in ("g", "t", "b", "att", "n1", "n0")}
    skipped: list[str] = []
    for g in glist:
        before = np.flatnonzero(times + anticipation < g)
        pret_g = int(before[-1]) if before.size else None
        treated = cohort == g
        for t_loop in range(n_times - offset):
            cur = t_loop + offset
            post = g <= times[cur]
            base = pret_g if (post or universal) else t_loop
            if base is None:
                skipped.append(f"cohort {g:g}: no period before {g:g} - anticipation")
                break
            if universal and base == cur:
                rows["g"].append(g), rows["t"].append(cur), rows["b"].append(base)
                rows["att"].append(0.0), rows["n1"].append(int(treated.sum())), rows["n0"].append(0)
                cell_levels.append(np.zeros(0, dtype=np.intp))
                continue
            if control_group == "never_treated":
                control = never
            else:
                cutoff = times[max(cur, base)] + anticipation
                control = never | ((cohort > cutoff) & ~treated)
            if not control.any():
                skipped.append(f"cohort {g:g}, period {times[cur]:g}: no comparison units")
                continue
            sub = treated | control
            d = treated[sub].astype(float)
            dy = y[sub, cur] - y[sub, base]
            X = np.ones((int(sub.sum()), 1))
            if covariates is not None:
                X = np.column_stack([X, covariates[sub, min(base, cur), :]])
            att, inf_sub = did_panel_2x2(dy, d, X, weights[sub], method)
            pending.append((len(cell_levels), sub, inf_sub * (n / sub.sum())))
            cell_levels.append(np.unique(level[sub]))
            rows["g"].append(g), rows["t"].append(cur), rows["b"].append(base)
            rows["att"].append(att), rows["n1"].append(int(treated.sum()))
            rows["n0"].append(int(control.sum()))
    inf = CellInfluence.by_level(level, len(glist) + 1, cell_levels)
    for j, sub, values in pending:
        full = np.zeros(n)
        full[sub] = values
        inf.put(j, full)
    return GroupTimeResult(
        group=np.asarray(rows["g"], dtype=float), time=np.asarray(rows["t"], dtype=int),
        base=np.asarray(rows["b"], dtype=int), att=np.asarray(rows["att"], dtype=float),
        influence=inf, n_treated=np.asarray(rows["n1"]), n_control=np.asarray(rows["n0"]),
        skipped=skipped,
    )


def _level_cells(glist, times, counts, *, control_group, anticipation, base_period):
    """The (cohort, period) cells of :func:`att_gt_panel`, comparison groups as cohort levels.

    Levels are the cohorts of ``glist`` then "never treated" (last); a cell is ``(level of g,
    period index, base index, comparison-level mask or None for the fixed zero cell)``.
    """
    n_levels = len(glist) + 1
    level_g = np.append(glist, np.inf)
    universal = base_period == "universal"
    offset = 0 if universal else 1
    cells, skipped = [], []
    for gi, g in enumerate(glist):
        before = np.flatnonzero(times + anticipation < g)
        pret_g = int(before[-1]) if before.size else None
        for t_loop in range(len(times) - offset):
            cur = t_loop + offset
            base = pret_g if (g <= times[cur] or universal) else t_loop
            if base is None:
                skipped.append(f"cohort {g:g}: no period before {g:g} - anticipation")
                break
            if universal and base == cur:
                cells.append((gi, cur, base, None))
                continue
            control = np.zeros(n_levels, dtype=bool)
            control[-1] = True
            if control_group != "never_treated":
                control |= level_g > times[max(cur, base)] + anticipation
                control[gi] = False
            if not counts[control].any():
                skipped.append(f"cohort {g:g}, period {times[cur]:g}: no comparison units")
                continue
            cells.append((gi, cur, base, control))
    return cells, skipped


def _needs_fallback(mass: np.ndarray, control, gi: int, method: str) -> bool:
    """Whether a cell needs :func:`did_panel_2x2`: a group without weight, or trimming."""
    if control is None:
        return False
    s1, s0 = mass[gi], mass[control].sum()
    return bool(s1 <= 0 or s0 <= 0 or (method != "reg" and s1 / (s1 + s0) > 0.99))


def att_gt_means(
    y: np.ndarray,
    cohort: np.ndarray,
    times: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    control_group: str = "never_treated",
    anticipation: int = 0,
    base_period: str = "varying",
    method: str = "dr",
    release=None,
) -> GroupTimeResult:
    """:func:`att_gt_panel` without covariates, from cohort means of the outcome changes.

    Without covariates the doubly robust, IPW and regression estimators of a cell all equal
    the difference of weighted mean changes, and their influence function is, for unit
    :math:`i` with weight :math:`w_i` and change :math:`\\Delta Y_i = Y_{it} - Y_{ib}`,

    .. math:: \\psi_i = n \\Big( \\frac{w_i D_i (\\Delta Y_i - \\bar m_1)}{S_1}
              - \\frac{w_i C_i (\\Delta Y_i - \\bar m_0)}{S_0} \\Big),

    with :math:`S_1, S_0` the weight totals and :math:`\\bar m_1, \\bar m_0` the weighted mean
    changes of the cohort (:math:`D_i = 1`) and the comparison group (:math:`C_i = 1`). Units
    are grouped by cohort once, so a cell touches only the slices of its own cohort and its
    comparison cohorts; the influence functions are written straight into per-cohort
    blocks of a :class:`~utvardering.did.staggered.influence.CellInfluence` (a cell is stored
    only for the units of its cohort and comparison cohorts). Cells where the
    propensity score of the DR/IPW estimators would be trimmed (treated share above 0.99)
    or a group has no weight use :func:`did_panel_2x2`.

    Parameters and returns are those of :func:`att_gt_panel` (``covariates`` is None). ``release``
    (optional, a callable) is called once the outcomes have been copied into cohort order,
    so a caller that owns ``y`` can drop its reference and the matrix is freed before the
    influence functions are allocated.
    """
    n, _ = y.shape
    w = None if weights is None else np.asarray(weights, dtype=float)
    if w is not None and bool(np.all(w == 1.0)):
        w = None  # unweighted: skip the multiplications
    finite = np.isfinite(cohort)
    glist = np.unique(cohort[finite])
    n_levels = len(glist) + 1
    level = np.full(n, len(glist), dtype=np.intp)
    level[finite] = np.searchsorted(glist, cohort[finite])
    counts = np.bincount(level, minlength=n_levels)
    mass = counts.astype(float) if w is None else np.bincount(level, weights=w,
                                                               minlength=n_levels)
    cells, skipped = _level_cells(glist, times, counts, control_group=control_group,
                                  anticipation=anticipation, base_period=base_period)
    k = len(cells)
    # units sorted by cohort level: a level is one contiguous slice of ``by_level``
    order = np.argsort(level, kind="stable")
    bounds = np.searchsorted(level[order], np.arange(n_levels + 1))
    by_level = y.T[:, order]
    any_fallback = any(_needs_fallback(mass, c, gi, method) for gi, _, _, c in cells)
    if release is not None:
        fallback = y if any_fallback else None
        del y
        release()
    else:
        fallback = y
    w_sorted = None if w is None else w[order]
    # the never-treated block (rows of every cell) is computed from its outcomes when read
    never = n_levels - 1
    last = slice(bounds[never], bounds[never + 1])
    computed = {} if any_fallback else {never: (
        np.ascontiguousarray(by_level[:, last]), None if w is None else w_sorted[last])}
    influence = CellInfluence.by_level(level, n_levels, [
        [] if c is None else [gi, *np.flatnonzero(c).tolist()] for gi, _, _, c in cells],
        computed=computed)
    att, n1, n0 = np.zeros(k), np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    for j, (gi, cur, base, control) in enumerate(cells):
        n1[j] = counts[gi]
        if control is None:
            continue  # universal base period: the cell t = b is zero by construction
        n0[j] = counts[control].sum()
        s1, s0 = mass[gi], mass[control].sum()
        if _needs_fallback(mass, control, gi, method):
            sub = (level == gi) | control[level]
            dy = fallback[sub, cur] - fallback[sub, base]
            weight = np.ones(n) if w is None else w
            att[j], inf_sub = did_panel_2x2(dy, (level[sub] == gi).astype(float),
                                            np.ones((int(sub.sum()), 1)), weight[sub], method)
            full = np.zeros(n)
            full[sub] = inf_sub * (n / sub.sum())
            influence.put(j, full)
            continue
        used = [gi, *np.flatnonzero(control).tolist()]
        changes, sums = {}, {}
        for lv in used:
            part = slice(bounds[lv], bounds[lv + 1])
            dy = by_level[cur, part] - by_level[base, part]
            changes[lv] = dy
            sums[lv] = float(dy.sum() if w is None else (dy * w_sorted[part]).sum())
        m1 = sums[gi] / s1
        m0 = sum(sums[lv] for lv in used[1:]) / s0
        for lv in used:
            part = slice(bounds[lv], bounds[lv + 1])
            scale, centre = (n / s1, m1) if lv == gi else (-n / s0, m0)
            if lv in computed:
                influence.set_change(lv, j, cur, base, centre, scale)
                continue
            row = influence.row(lv, j)
            np.multiply(np.subtract(changes[lv], centre, out=row), scale, out=row)
            if w is not None:
                row *= w_sorted[part]
        att[j] = m1 - m0
    return GroupTimeResult(
        group=np.array([glist[c[0]] for c in cells], dtype=float),
        time=np.array([c[1] for c in cells], dtype=int),
        base=np.array([c[2] for c in cells], dtype=int), att=att, influence=influence,
        n_treated=n1, n_control=n0, skipped=skipped,
    )
