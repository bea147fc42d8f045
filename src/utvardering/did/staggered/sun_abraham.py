"""Sun & Abraham (2021) interaction-weighted event study.

A two-way fixed-effects regression with a full set of cohort × relative-period
interactions (the reference period :math:`\\ell = -1` omitted for every cohort), estimated
against a clean comparison cohort — the never-treated units, or the last-treated cohort
with the periods from its treatment on dropped — and the cohort-specific coefficients
averaged with each cohort's share among the cohorts observed at that relative period.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import DesignError
from ...estimators import register_estimator
from ...options import check_level, check_option
from ...study import Study
from .data import StaggeredPanel, legacy_options, resolve_study, staggered_panel
from .influence import cluster_sums, joint_wald
from .results import EventStudyEffect, normal_summary

__all__ = ["interaction_weighted", "sun_abraham"]

SAControl = Literal["never_treated", "last_treated"]


def interaction_weighted(y: np.ndarray, cohort: np.ndarray, times: np.ndarray, *,
                         reference: int = -1, cluster: np.ndarray | None = None) -> dict:
    """Cohort × relative-period TWFE coefficients and their interaction-weighted averages.

    Fits, on a balanced panel,

    .. math:: Y_{it} = \\alpha_i + \\lambda_t + \\sum_{g}\\sum_{\\ell \\ne r}
              \\delta_{g\\ell}\\, 1\\{G_i = g\\}\\,1\\{t - g = \\ell\\} + \\varepsilon_{it}

    (units with ``cohort = inf`` are the comparison cohort) and returns
    :math:`\\hat\\theta_\\ell = \\sum_g \\hat w_{g\\ell}\\hat\\delta_{g\\ell}` with
    :math:`\\hat w_{g\\ell}` the share of cohort :math:`g` among the cohorts observed at
    :math:`\\ell`. Covariance: cluster-robust by unit (or ``cluster``),
    :math:`\\frac{G}{G-1}\\frac{N-1}{N-K}` small-sample factor with :math:`K` the
    interactions plus :math:`T-1` period effects (unit effects are nested in clusters);
    the shares are treated as fixed.

    Computation. The interactions saturate every treated cohort except in its reference
    period, so a treated cohort's observations are fitted exactly by its own coefficients
    and do not inform :math:`\\lambda`; on a balanced panel the OLS solution is therefore

    .. math:: \\hat\\delta_{g\\ell} = \\overline{(Y_{g+\\ell} - Y_{g+r})}_{G=g}
              - \\overline{(Y_{g+\\ell} - Y_{g+r})}_{G=\\infty},

    and the OLS score of unit :math:`i` for :math:`\\hat\\delta_{g\\ell}` (the sandwich's
    :math:`(Z'Z)^{-1}Z_i'e_i`) is the centred change divided by the group size, with a minus
    sign for comparison units. Everything — coefficients, the cluster-robust covariance of
    :math:`\\hat\\theta` and the overall ATT — is formed from these per-unit scores in
    :math:`O(N T)` time and memory (plus :math:`O(N_\\infty\\, G\\, T)` for the comparison
    units' scores), never the units × periods × interactions design, and equals the
    regression's coefficients and CR1 covariance exactly.

    Parameters
    ----------
    y : ndarray, shape (n, T)
        Balanced outcomes.
    cohort : ndarray, shape (n,)
        First treated period on the scale of ``times`` (``inf`` = comparison cohort).
    times : ndarray, shape (T,)
        Period ordinals.
    reference : int, default -1
        Omitted relative period.
    cluster : ndarray of int, optional
        Cluster codes of the units.

    Returns
    -------
    dict
        ``cells`` (DataFrame: group, event_time, effect, se, weight), ``event_time``,
        ``theta``, ``vcov_theta``, ``att``, ``att_se`` (share-weighted mean of the
        post-treatment coefficients), ``n_clusters``.

    Raises
    ------
    DesignError
        No comparison units, or a cohort whose reference period is outside the panel.
    """
    n, n_t = y.shape
    treated = np.isfinite(cohort)
    never = ~treated
    if not never.any():
        raise DesignError("sun_abraham needs comparison units (never treated, or the last "
                          "cohort with control_group='last_treated').")
    groups = np.unique(cohort[treated])
    y_never = y[never]
    n_never = y_never.shape[0]
    # per cohort: reference column, coefficient columns, effects and the per-unit scores
    blocks, keys_g, keys_e = [], [], []
    for g in groups:
        rel = (times - g).astype(float)
        ref = np.flatnonzero(rel == reference)
        if ref.size == 0:
            raise DesignError(f"cohort {g:g} has no period at event time {reference} (its "
                              "reference period) in the panel; drop it or lower anticipation.")
        cols = np.flatnonzero(rel != reference)
        members = np.flatnonzero(cohort == g)
        d1 = y[members][:, cols] - y[members][:, ref]
        d0 = y_never[:, cols] - y_never[:, ref]
        m1, m0 = d1.mean(axis=0), d0.mean(axis=0)
        d1 -= m1
        d0 -= m0
        d1 /= len(members)
        d0 /= -n_never
        blocks.append((members, d1, d0, m1 - m0))
        keys_g.append(np.full(cols.size, g))
        keys_e.append(rel[cols].astype(int))
    group_of, event_of = np.concatenate(keys_g), np.concatenate(keys_e)
    delta = np.concatenate([b[3] for b in blocks])
    sizes = np.array([np.sum(cohort == g) for g in group_of], dtype=float)
    events = np.unique(event_of)
    share = np.empty(len(delta))
    for e in events:
        cells = event_of == e
        share[cells] = sizes[cells] / sizes[cells].sum()
    post = event_of >= 0
    att_w = np.where(post, sizes, 0.0) / sizes[post].sum() if post.any() else np.zeros(len(delta))
    never_rows = np.flatnonzero(never)
    n_clusters = n if cluster is None else int(cluster.max()) + 1
    # scores of θ (n × E) and of the ATT (n,), and each coefficient's cluster sum of squares
    event_pos = np.searchsorted(events, event_of)
    psi_theta = np.zeros((n, len(events)))
    psi_att = np.zeros(n)
    key_ss = np.empty(len(delta))
    start = 0
    for members, d1, d0, _ in blocks:
        k = slice(start, start + d1.shape[1])
        start += d1.shape[1]
        pos, w, a = event_pos[k], share[k], att_w[k]
        psi_theta[members[:, None], pos[None, :]] += d1 * w
        psi_theta[never_rows[:, None], pos[None, :]] += d0 * w
        psi_att[members] += d1 @ a
        psi_att[never_rows] += d0 @ a
        if cluster is None:
            key_ss[k] = np.einsum("ij,ij->j", d1, d1) + np.einsum("ij,ij->j", d0, d0)
        else:
            sums = np.zeros((n_clusters, d1.shape[1]))
            np.add.at(sums, cluster[members], d1)
            np.add.at(sums, cluster[never_rows], d0)
            key_ss[k] = np.einsum("ij,ij->j", sums, sums)
    n_obs, n_par = n * n_t, len(delta) + n_t
    factor = n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - n_par)
    s_theta = cluster_sums(psi_theta, cluster)
    s_att = cluster_sums(psi_att, cluster)
    theta = np.bincount(event_pos, weights=share * delta, minlength=len(events))
    cells = pd.DataFrame({"group": group_of, "event_time": event_of, "effect": delta,
                          "se": np.sqrt(factor * key_ss), "weight": share})
    return {"cells": cells, "event_time": events, "theta": theta,
            "vcov_theta": factor * (s_theta.T @ s_theta),
            "att": float(att_w @ delta) if post.any() else np.nan,
            "att_se": float(np.sqrt(factor * s_att @ s_att)) if post.any() else np.nan,
            "n_clusters": n_clusters}


def _comparison(panel: StaggeredPanel, control: str, anticipation: int):
    y, cohort, times = panel.y, panel.g_ord.copy(), panel.t_ord
    notes = []
    if control == "never_treated":
        if np.all(np.isfinite(cohort)):
            raise DesignError("no never-treated units: use control_group='last_treated' (the last "
                              "cohort becomes the comparison, later periods are dropped).")
        return y, cohort, times, notes
    last = np.max(cohort[np.isfinite(cohort)])
    keep = times < last - anticipation
    cohort[cohort == last] = np.inf
    dropped = int((~keep).sum())
    notes.append(f"last-treated cohort {panel.labels[last]} used as comparison; "
                 f"{dropped} period(s) from {panel.labels[last]} on dropped")
    return y[:, keep], cohort, times[keep], notes


@register_estimator("sun_abraham", family="did",
                    summary="Sun–Abraham interaction-weighted event study (staggered adoption)")
def sun_abraham(
    study: Study | pd.DataFrame | None = None,
    *,
    unit: str | None = None,
    time: str | None = None,
    outcome: str | None = None,
    cohort: str | None = None,
    control_group: SAControl = "never_treated",
    anticipation: int = 0,
    cluster: str | None = None,
    level: float = 0.95,
    **old_names: Any,
) -> EventStudyEffect:
    """Interaction-weighted event-study estimator of Sun & Abraham (2021).

    Parameters
    ----------
    study : Study or pandas.DataFrame
        A Study with staggered starts, or a long panel with ``unit``, ``time``, ``outcome``
        and ``cohort`` columns (cohort 0 or missing = never treated); ``study_or_data=`` is
        the old name.
    unit, time, outcome, cohort : str, optional
        Column names when a DataFrame is passed.
    control_group : {"never_treated", "last_treated"}
        Comparison cohort (old name ``control=``).
    anticipation : int, default 0
        The reference period is :math:`\\ell = -1 -` ``anticipation``.
    cluster : str, optional
        Time-invariant cluster column (default: cluster by unit).
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    EventStudyEffect
        ``path`` by event time (the reference period shown as 0), ``estimate`` = the
        cohort-share weighted mean of all post-treatment cohort × period coefficients (the
        ATT over treated observations), ``cohort_effects`` = the coefficients
        :math:`\\hat\\delta_{g\\ell}`; ``diagnostics`` holds a Wald test of all
        pre-treatment :math:`\\hat\\theta_\\ell` (reference excluded).

    Notes
    -----
    With never-treated controls on a balanced panel without covariates,
    :math:`\\hat\\delta_{g\\ell}` equals Callaway–Sant'Anna's :math:`ATT(g, g+\\ell)` with
    base period :math:`g-1` (``base_period="universal"``), so the event-time path equals
    their ``dynamic`` aggregation and ``estimate`` their ``simple`` aggregation.

    References
    ----------
    Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
    heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175–199.
    """
    where = "sun_abraham"
    opts = legacy_options(where, old_names, {"study_or_data": "study", "control": "control_group"},
                          {"study": study, "control_group": control_group},
                          {"study": None, "control_group": "never_treated"})
    study, control_group = opts["study"], opts["control_group"]
    check_option("control_group", control_group, SAControl)
    check_level(level)
    if not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise DesignError(f"anticipation={anticipation!r} must be a whole number >= 0.")
    study = resolve_study(study, where=where, unit=unit, time=time, outcome=outcome,
                          cohort=cohort)
    panel = staggered_panel(study, cluster=cluster)
    y, coh, times, notes = _comparison(panel, control_group, anticipation)
    reference = -1 - int(anticipation)
    fit = interaction_weighted(y, coh, times, reference=reference, cluster=panel.cluster)
    se = np.sqrt(np.diag(fit["vcov_theta"]))
    z = float(stats.norm.ppf(0.5 + level / 2))
    path = pd.DataFrame({"effect": fit["theta"], "se": se, "low": fit["theta"] - z * se,
                         "high": fit["theta"] + z * se},
                        index=pd.Index(fit["event_time"].astype(int), name="event_time"))
    path.loc[reference] = [0.0, np.nan, np.nan, np.nan]
    path = path.sort_index()
    pre = fit["event_time"] < reference
    diagnostics: dict = {"warnings": [*panel.notes, *notes]}
    if pre.any():
        test, note = joint_wald(fit["theta"][pre], fit["vcov_theta"][np.ix_(pre, pre)],
                                fit["n_clusters"], what="pre-treatment event times")
        diagnostics.update(test)
        if note:
            diagnostics["warnings"].append(note)
    labels = [f"event_time[{int(e)}]" for e in fit["event_time"]]
    vcov = pd.DataFrame(fit["vcov_theta"], index=labels, columns=labels)
    cells = fit["cells"]
    cells["group"] = [panel.labels[g] for g in cells["group"]]
    return EventStudyEffect(
        method="sun_abraham", estimate=fit["att"], level=level, path=path,
        diagnostics=diagnostics, outcome=study.outcome,
        estimand="ATT over treated observations (cohort-share weighted post-treatment "
                 "interaction coefficients)",
        n_treated=int(np.isfinite(coh).sum()), n_control=int((~np.isfinite(coh)).sum()),
        start=str(study.start),
        params={"control_group": control_group, "anticipation": int(anticipation), "cluster": cluster},
        cohort_effects=cells, vcov=vcov, **normal_summary(fit["att"], fit["att_se"], level),
    )
