"""ATT(g,t) from repeated cross-sections (each row observed once).

The repeated cross-section counterparts of :mod:`~utvardering.did.staggered.att_gt`: every cell
compares the rows of cohort ``g`` with comparison rows, in period ``t`` and the base period,
using the estimators of Sant'Anna & Zhao (2020, Sect. 3.2) for repeated cross-sections —
outcome regression, normalised IPW and the locally efficient doubly robust estimator — with
influence functions on the rows.

References
----------
Sant'Anna, P. H. C. & Zhao, J. (2020). Doubly robust difference-in-differences estimators.
*Journal of Econometrics* 219(1), 101–122.
"""

from __future__ import annotations

import numpy as np

from .att_gt import TRIM_LEVEL, GroupTimeResult, fit_logit

__all__ = ["att_gt_rcs", "did_rc_2x2"]


def _ols_part(X, y, w_fit, n):
    """Weighted OLS fit on the rows with ``w_fit > 0`` and its asymptotic linear representation."""
    xw = X * w_fit[:, None]
    xpx = X.T @ xw
    beta = np.linalg.solve(xpx, xw.T @ y)
    fitted = X @ beta
    lin = (w_fit * (y - fitted))[:, None] * X @ np.linalg.inv(xpx / n)
    return fitted, lin


def _mean_ratio(weight, values):
    return np.mean(weight * values) / np.mean(weight)


def did_rc_2x2(y: np.ndarray, post: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray,
               method: str = "dr") -> tuple[float, np.ndarray]:
    """Two-group, two-period DiD on repeated cross-sections, with its influence function.

    * ``"reg"``: :math:`(\\bar Y_{11} - \\bar Y_{10}) - \\overline{(\\hat\\mu_{01} -
      \\hat\\mu_{00})(X)}_{D=1}`, with :math:`\\hat\\mu_{0p}` the comparison group's linear
      regression in period :math:`p`;
    * ``"ipw"``: normalised IPW of the four group-period means;
    * ``"dr"``: the locally efficient doubly robust estimator (Sant'Anna & Zhao 2020,
      eq. 3.4), which adds the treated-group regressions :math:`\\hat\\mu_{1p}`.

    Parameters
    ----------
    y, post, d : ndarray, shape (n,)
        Outcome, 1 for rows in period ``t`` (0: base period), 1 for treated rows.
    X : ndarray, shape (n, p)
        Covariates with a leading intercept column.
    w : ndarray, shape (n,)
        Sampling weights (normalised to mean one inside).
    method : {"dr", "ipw", "reg"}

    Returns
    -------
    att : float
    influence : ndarray, shape (n,)
    """
    n = len(y)
    w = w / w.mean()
    cont_pre, cont_post = w * (1 - d) * (1 - post), w * (1 - d) * post
    if method == "reg":
        mu_pre, lin_pre = _ols_part(X, y, cont_pre, n)
        mu_post, lin_post = _ols_part(X, y, cont_post, n)
        w_tpre, w_tpost, w_c = w * d * (1 - post), w * d * post, w * d
        eta_pre, eta_post = _mean_ratio(w_tpre, y), _mean_ratio(w_tpost, y)
        eta_c = _mean_ratio(w_c, mu_post - mu_pre)
        inf_treat = ((w_tpost * (y - eta_post)) / w_tpost.mean()
                     - (w_tpre * (y - eta_pre)) / w_tpre.mean())
        m1 = np.mean(w_c[:, None] * X, axis=0)
        inf_cont = (w_c * (mu_post - mu_pre - eta_c) + (lin_post - lin_pre) @ m1) / w_c.mean()
        return float(eta_post - eta_pre - eta_c), inf_treat - inf_cont
    ps = np.minimum(fit_logit(X, d, w), 1.0 - 1e-6)
    hess_inv = np.linalg.inv(X.T @ (X * (w * ps * (1.0 - ps))[:, None]))
    lin_ps = (w * (d - ps))[:, None] * X @ (hess_inv * n)
    keep = np.where(d == 0, ps < TRIM_LEVEL, True).astype(float)
    odds = ps * (1 - d) / (1 - ps)
    w_tpre, w_tpost = keep * w * d * (1 - post), keep * w * d * post
    w_cpre, w_cpost = keep * w * odds * (1 - post), keep * w * odds * post
    if method == "ipw":
        resid = y
    else:
        mu_c_pre, lin_c_pre = _ols_part(X, y, cont_pre, n)
        mu_c_post, lin_c_post = _ols_part(X, y, cont_post, n)
        mu_t_pre, lin_t_pre = _ols_part(X, y, w * d * (1 - post), n)
        mu_t_post, lin_t_post = _ols_part(X, y, w * d * post, n)
        resid = y - (post * mu_c_post + (1 - post) * mu_c_pre)
    parts = {}
    for name, weight in (("tpre", w_tpre), ("tpost", w_tpost), ("cpre", w_cpre), ("cpost", w_cpost)):
        att = _mean_ratio(weight, resid)
        parts[name] = (att, weight * (resid - att) / weight.mean())
    att = (parts["tpost"][0] - parts["tpre"][0]) - (parts["cpost"][0] - parts["cpre"][0])
    m2_pre = np.mean((w_cpre * (resid - parts["cpre"][0]))[:, None] * X, axis=0) / w_cpre.mean()
    m2_post = np.mean((w_cpost * (resid - parts["cpost"][0]))[:, None] * X, axis=0) / w_cpost.mean()
    inf_treat = parts["tpost"][1] - parts["tpre"][1]
    inf_cont = parts["cpost"][1] - parts["cpre"][1] + lin_ps @ (m2_post - m2_pre)
    if method == "ipw":
        return float(att), inf_treat - inf_cont
    # outcome-regression corrections of the locally efficient DR estimator
    w_d, w_dt1, w_dt0 = keep * w * d, keep * w * d * post, keep * w * d * (1 - post)
    gap_post, gap_pre = mu_t_post - mu_c_post, mu_t_pre - mu_c_pre
    effs = [(w_d, gap_post), (w_dt1, gap_post), (w_d, gap_pre), (w_dt0, gap_pre)]
    means = [_mean_ratio(a, b) for a, b in effs]
    infs = [a * (b - m) / a.mean() for (a, b), m in zip(effs, means)]
    att += (means[0] - means[1]) - (means[2] - means[3])
    inf_eff = (infs[0] - infs[1]) - (infs[2] - infs[3])
    col = lambda a: np.mean(a[:, None] * X, axis=0)  # noqa: E731
    inf_treat = (inf_treat + lin_c_post @ (-col(w_tpost * post) / w_tpost.mean())
                 + lin_c_pre @ (-col(w_tpre * (1 - post)) / w_tpre.mean()))
    inf_cont = (inf_cont + lin_c_post @ (-col(w_cpost * post) / w_cpost.mean())
                + lin_c_pre @ (-col(w_cpre * (1 - post)) / w_cpre.mean()))
    mom_post = col(w_d / w_d.mean() - w_dt1 / w_dt1.mean())
    mom_pre = col(w_d / w_d.mean() - w_dt0 / w_dt0.mean())
    inf_or = (lin_t_post - lin_c_post) @ mom_post - (lin_t_pre - lin_c_pre) @ mom_pre
    return float(att), inf_treat - inf_cont + inf_eff + inf_or


def att_gt_rcs(
    y: np.ndarray,
    period: np.ndarray,
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
    """Every ATT(g,t) from repeated cross-sections (rows are observations).

    Cells, base periods and comparison groups as :func:`~utvardering.did.staggered.att_gt.att_gt_panel`;
    each cell uses the rows of its two periods.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Outcome of each row.
    period : ndarray of int, shape (n,)
        Index into ``times`` of each row's period.
    cohort : ndarray, shape (n,)
        Cohort of each row on the scale of ``times`` (``inf`` = never treated).
    times : ndarray, shape (T,)
        Increasing period ordinals.
    weights : ndarray, shape (n,), optional
        Sampling weights.
    covariates : ndarray, shape (n, p), optional
        Covariates of each row.
    control_group, anticipation, base_period, method
        As in :func:`~utvardering.did.staggered.att_gt.att_gt_panel`.

    Returns
    -------
    GroupTimeResult
        ``influence`` is ``(n rows, cells)``.
    """
    n = len(y)
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    never = ~np.isfinite(cohort)
    universal = base_period == "universal"
    offset = 0 if universal else 1
    rows: dict[str, list] = {k: [] for k in ("g", "t", "b", "att", "n1", "n0")}
    columns, skipped = [], []
    for g in np.unique(cohort[np.isfinite(cohort)]):
        before = np.flatnonzero(times + anticipation < g)
        pret_g = int(before[-1])
        treated = cohort == g
        for t_loop in range(len(times) - offset):
            cur = t_loop + offset
            base = pret_g if (g <= times[cur] or universal) else t_loop
            if universal and base == cur:
                rows["g"].append(g), rows["t"].append(cur), rows["b"].append(base)
                rows["att"].append(0.0), rows["n1"].append(0), rows["n0"].append(0)
                columns.append(np.zeros(n))
                continue
            if control_group == "never_treated":
                control = never
            else:
                control = never | ((cohort > times[max(cur, base)] + anticipation) & ~treated)
            sub = (treated | control) & ((period == cur) | (period == base))
            post = (period[sub] == cur).astype(float)
            d = treated[sub].astype(float)
            if min(np.sum(d * post), np.sum(d * (1 - post)), np.sum((1 - d) * post),
                   np.sum((1 - d) * (1 - post))) == 0:
                skipped.append(f"cohort {g:g}, period {times[cur]:g}: an empty group-period")
                continue
            X = np.ones((int(sub.sum()), 1))
            if covariates is not None:
                X = np.column_stack([X, covariates[sub]])
            att, inf_sub = did_rc_2x2(y[sub], post, d, X, weights[sub], method)
            influence = np.zeros(n)
            influence[sub] = inf_sub * (n / sub.sum())
            rows["g"].append(g), rows["t"].append(cur), rows["b"].append(base)
            rows["att"].append(att), rows["n1"].append(int((treated & sub).sum()))
            rows["n0"].append(int((control & sub).sum()))
            columns.append(influence)
    return GroupTimeResult(
        group=np.asarray(rows["g"], dtype=float), time=np.asarray(rows["t"], dtype=int),
        base=np.asarray(rows["b"], dtype=int), att=np.asarray(rows["att"], dtype=float),
        influence=np.column_stack(columns) if columns else np.zeros((n, 0)),
        n_treated=np.asarray(rows["n1"]), n_control=np.asarray(rows["n0"]), skipped=skipped,
    )
