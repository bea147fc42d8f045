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
from .results import EventStudyEffect, normal_summary

__all__ = ["interaction_weighted", "sun_abraham"]

SAControl = Literal["never_treated", "last_treated"]


def _demean_twoway(a: np.ndarray) -> np.ndarray:
    """Two-way within transformation of a balanced ``(n, T, ...)`` array."""
    return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean(axis=(0, 1))


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
        post-treatment coefficients).
    """
    n, n_t = y.shape
    rel = times[None, :] - cohort[:, None]
    treated = np.isfinite(cohort)
    units, periods = np.nonzero(treated[:, None] & (rel != reference))
    pairs = np.column_stack([cohort[units], rel[units, periods]])
    keys, cols = np.unique(pairs, axis=0, return_inverse=True)
    group_of, event_of = keys[:, 0], keys[:, 1].astype(int)
    Z = np.zeros((n, n_t, len(keys)))
    Z[units, periods, cols] = 1.0
    zd = _demean_twoway(Z).reshape(n * n_t, -1)
    yd = _demean_twoway(y).reshape(-1)
    bread = np.linalg.pinv(zd.T @ zd)
    delta = bread @ (zd.T @ yd)
    resid = yd - zd @ delta
    scores = (zd * resid[:, None]).reshape(n, n_t, -1).sum(axis=1)
    if cluster is not None:
        summed = np.zeros((int(cluster.max()) + 1, scores.shape[1]))
        np.add.at(summed, cluster, scores)
        scores = summed
    n_clusters = scores.shape[0]
    n_obs, k = n * n_t, len(keys) + n_t
    factor = n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - k)
    vcov = factor * bread @ (scores.T @ scores) @ bread
    sizes = np.array([np.sum(cohort == g) for g in group_of], dtype=float)
    events = np.unique(event_of)
    A = np.zeros((len(events), len(keys)))
    for r, e in enumerate(events):
        cells = event_of == e
        A[r, cells] = sizes[cells] / sizes[cells].sum()
    theta = A @ delta
    vcov_theta = A @ vcov @ A.T
    post = event_of >= 0
    att_w = np.where(post, sizes, 0.0) / sizes[post].sum() if post.any() else np.zeros(len(keys))
    weights = (A * (A > 0)).max(axis=0)
    cells = pd.DataFrame({"group": group_of, "event_time": event_of, "effect": delta,
                          "se": np.sqrt(np.diag(vcov)), "weight": weights})
    return {"cells": cells, "event_time": events, "theta": theta, "vcov_theta": vcov_theta,
            "att": float(att_w @ delta) if post.any() else np.nan,
            "att_se": float(np.sqrt(att_w @ vcov @ att_w)) if post.any() else np.nan}


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
        v = fit["vcov_theta"][np.ix_(pre, pre)]
        a = fit["theta"][pre]
        wald = float(a @ np.linalg.solve(v, a))
        diagnostics.update(pretrend_wald=wald, pretrend_df=int(pre.sum()),
                           pretrend_p_value=float(stats.chi2.sf(wald, pre.sum())))
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
        cohort_effects=cells, **normal_summary(fit["att"], fit["att_se"], level),
    )
