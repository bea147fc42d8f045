"""Borusyak, Jaravel & Spiess (2024) imputation estimator for staggered adoption.

Unit and period fixed effects are fitted on the untreated observations only (never-treated
units, and treated units before treatment minus anticipation); every treated observation's
untreated outcome is imputed as :math:`\\hat\\alpha_i + \\hat\\lambda_t`, and the effects
:math:`\\hat\\tau_{it} = Y_{it} - \\hat\\alpha_i - \\hat\\lambda_t` are averaged — over all
treated observations (the overall ATT) and by event time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import DesignError
from ...estimators import register_estimator
from ...options import check_level
from ...study import Study
from .data import legacy_options, resolve_study, staggered_panel
from .results import EventStudyEffect, normal_summary

__all__ = ["imputation_did", "imputation_fit", "imputation_pretrend"]


def _solve_twoway(mask: np.ndarray, unit_rhs: np.ndarray, time_rhs: np.ndarray):
    """Solve the normal equations of unit + period effects on the observations in ``mask``.

    For right-hand sides ``u`` (units × m) and ``s`` (periods × m), returns ``a``, ``l`` with
    ``m_i a_i + sum_t M_it l_t = u_i`` and ``sum_i M_it a_i + c_t l_t = s_t``, eliminating
    the unit effects (Schur complement; the period system is solved by least squares, which
    fixes the one free normalisation).
    """
    m = mask.astype(float)
    per_unit = m.sum(axis=1)
    schur = np.diag(m.sum(axis=0)) - m.T @ (m / per_unit[:, None])
    rhs = time_rhs - m.T @ (unit_rhs / per_unit[:, None])
    lam = np.linalg.lstsq(schur, rhs, rcond=None)[0]
    alpha = (unit_rhs - m @ lam) / per_unit[:, None]
    return alpha, lam


def imputation_fit(y: np.ndarray, cohort: np.ndarray, times: np.ndarray, *,
                   anticipation: int = 0, cluster: np.ndarray | None = None) -> dict:
    """Imputation estimates and their conservative standard errors.

    Each estimand is :math:`\\hat\\tau_w = \\sum_{it \\in \\Omega_1} w_{it}\\hat\\tau_{it}`
    with equal weights on the treated observations it covers (all of them, or those at
    event time :math:`h`). Written as :math:`\\sum_{it} v_{it} Y_{it}` — :math:`v = w` on
    treated observations and :math:`v_0 = -Z_0(Z_0^\\top Z_0)^{-1}Z_1^\\top w` on untreated
    ones — its variance is estimated as in Borusyak, Jaravel & Spiess (2024, Theorem 3),

    .. math:: \\hat\\sigma^2_w = \\sum_c \\Big(\\sum_{it \\in c} v_{it}\\tilde\\varepsilon_{it}\\Big)^2,

    with :math:`\\tilde\\varepsilon_{it}` the fixed-effect residuals on untreated observations
    and :math:`\\hat\\tau_{it} - \\bar\\tau_{g(i),\\,t-g(i)}` on treated ones
    (:math:`\\bar\\tau` the mean within cohort × event time, without the leave-out
    refinement), summed within clusters ``c`` (units by default). This is conservative when
    effects vary within cohort × event-time cells.

    Parameters
    ----------
    y : ndarray, shape (n, T)
        Balanced outcomes.
    cohort : ndarray, shape (n,)
        First treated period (``inf`` = never).
    times : ndarray, shape (T,)
        Period ordinals.
    anticipation : int
        Observations within ``anticipation`` periods before treatment are neither used to
        fit the fixed effects nor imputed.
    cluster : ndarray of int, optional
        Cluster codes of the units.

    Returns
    -------
    dict
        ``event_time``, ``theta``, ``se`` (by event time), ``att``, ``att_se``, ``cells``
        (cohort × event-time means), ``n_unimputable`` (treated observations in periods
        without untreated observations, left out).
    """
    rel = times[None, :] - cohort[:, None]
    untreated = ~(rel >= -anticipation)
    target = rel >= 0
    if np.any(untreated.sum(axis=1) == 0):
        raise DesignError("a treated unit has no untreated period to estimate its unit effect; "
                          "lower anticipation or drop units treated from the first period.")
    identified = untreated.any(axis=0)
    n_unimputable = int((target & ~identified[None, :]).sum())
    target &= identified[None, :]
    if not target.any():
        raise DesignError("no treated observation can be imputed: every period with treated "
                          "units lacks untreated observations.")
    y0 = np.where(untreated, y, 0.0)
    alpha, lam = _solve_twoway(untreated, y0.sum(axis=1)[:, None], y0.sum(axis=0)[:, None])
    fitted = alpha + lam.T
    tau = np.where(target, y - fitted, 0.0)
    resid0 = np.where(untreated, y - fitted, 0.0)
    events = np.unique(rel[target]).astype(int)
    # weights: one column per event time, then the overall ATT
    W = np.stack([(target & (rel == e)) / np.sum(target & (rel == e)) for e in events]
                 + [target / target.sum()], axis=2)
    estimates = np.einsum("itk,it->k", W, tau)
    a, lt = _solve_twoway(untreated, W.sum(axis=1), W.sum(axis=0))
    v0 = -(a[:, None, :] + lt[None, :, :]) * untreated[:, :, None]
    groups = np.unique(cohort[np.isfinite(cohort)])
    gi = np.searchsorted(groups, np.where(np.isfinite(cohort), cohort, groups[0]))
    offset = int(-rel[target].min())
    width = int(np.ptp(rel[target])) + 1
    cell = gi[:, None] * width + (rel + offset).clip(0).astype(int)
    cell_sum = np.bincount(cell[target], weights=tau[target], minlength=len(groups) * width)
    cell_n = np.bincount(cell[target], minlength=len(groups) * width)
    tau_bar = np.zeros_like(tau)
    tau_bar[target] = cell_sum[cell[target]] / cell_n[cell[target]]
    eps = resid0 + np.where(target, tau - tau_bar, 0.0)
    contrib = ((W + v0) * eps[:, :, None]).sum(axis=1)
    if cluster is not None:
        summed = np.zeros((int(cluster.max()) + 1, contrib.shape[1]))
        np.add.at(summed, cluster, contrib)
        contrib = summed
    se = np.sqrt(np.sum(contrib**2, axis=0))
    g_codes, e_codes = np.nonzero(cell_n.reshape(len(groups), -1))
    cells = pd.DataFrame({"group": groups[g_codes], "event_time": e_codes - offset,
                          "effect": (cell_sum / np.maximum(cell_n, 1))[cell_n > 0],
                          "n": cell_n[cell_n > 0]})
    return {"event_time": events, "theta": estimates[:-1], "se": se[:-1],
            "att": float(estimates[-1]), "att_se": float(se[-1]), "cells": cells,
            "n_unimputable": n_unimputable}


def imputation_pretrend(y: np.ndarray, cohort: np.ndarray, times: np.ndarray, *, periods: int = 3,
                        anticipation: int = 0, cluster: np.ndarray | None = None) -> dict:
    """Pre-trend test of Borusyak, Jaravel & Spiess (2024, Sect. 4.4).

    On the untreated observations only, fit

    .. math:: Y_{it} = \\alpha_i + \\lambda_t + \\sum_{k=1}^{K} \\gamma_k
              1\\{t - G_i - \\delta = -k\\} + \\varepsilon_{it}

    (``K = periods`` leads before treatment minus anticipation :math:`\\delta`) and test
    :math:`\\gamma = 0` with a cluster-robust Wald statistic
    (:math:`\\frac{G}{G-1}` small-sample factor, :math:`\\chi^2_K`). The fixed effects are
    partialled out exactly (Frisch–Waugh–Lovell on the unbalanced untreated sample).

    Returns
    -------
    dict
        ``event_time`` (−K…−1 relative to the first treated period), ``gamma``, ``se``,
        ``pretrend_wald``, ``pretrend_df``, ``pretrend_p_value``.
    """
    rel = times[None, :] - cohort[:, None] + anticipation
    untreated = ~(rel >= 0)
    leads = np.arange(-periods, 0)
    Z = np.stack([untreated & (rel == k) for k in leads], axis=2).astype(float)
    present = Z.sum(axis=(0, 1)) > 0
    Z, leads = Z[:, :, present], leads[present]
    cols = np.concatenate([np.where(untreated, y, 0.0)[:, :, None], Z], axis=2)
    alpha, lam = _solve_twoway(untreated, cols.sum(axis=1), cols.sum(axis=0))
    resid = (cols - alpha[:, None, :] - lam[None, :, :]) * untreated[:, :, None]
    yt, zt = resid[:, :, 0], resid[:, :, 1:]
    zz = np.einsum("itk,itl->kl", zt, zt)
    out = {"event_time": leads - anticipation, "gamma": np.full(len(leads), np.nan),
           "se": np.full(len(leads), np.nan), "pretrend_wald": np.nan,
           "pretrend_df": len(leads), "pretrend_p_value": np.nan}
    if len(leads) == 0 or np.linalg.matrix_rank(zz) < len(leads):
        return out
    bread = np.linalg.inv(zz)
    gamma = bread @ np.einsum("itk,it->k", zt, yt)
    e = (yt - zt @ gamma) * untreated
    scores = np.einsum("itk,it->ik", zt, e)
    if cluster is not None:
        summed = np.zeros((int(cluster.max()) + 1, scores.shape[1]))
        np.add.at(summed, cluster, scores)
        scores = summed
    g = scores.shape[0]
    vcov = g / (g - 1) * bread @ (scores.T @ scores) @ bread
    wald = float(gamma @ np.linalg.solve(vcov, gamma))
    out.update(gamma=gamma, se=np.sqrt(np.diag(vcov)), pretrend_wald=wald,
               pretrend_p_value=float(stats.chi2.sf(wald, len(leads))))
    return out


@register_estimator("imputation_did", family="did",
                    summary="Borusyak–Jaravel–Spiess imputation estimator (staggered adoption)")
def imputation_did(
    study: Study | pd.DataFrame | None = None,
    *,
    unit: str | None = None,
    time: str | None = None,
    outcome: str | None = None,
    cohort: str | None = None,
    anticipation: int = 0,
    cluster: str | None = None,
    pretrend_periods: int = 3,
    level: float = 0.95,
    **old_names: Any,
) -> EventStudyEffect:
    """Imputation difference-in-differences (Borusyak, Jaravel & Spiess 2024).

    Parameters
    ----------
    study : Study or pandas.DataFrame
        A Study with (staggered) starts, or a long panel with ``unit``, ``time``,
        ``outcome`` and ``cohort`` columns (``study_or_data=`` is the old name).
    unit, time, outcome, cohort : str, optional
        Column names when a DataFrame is passed.
    anticipation : int, default 0
        Periods before treatment excluded from the fixed-effect fit.
    cluster : str, optional
        Time-invariant cluster column (default: cluster by unit).
    pretrend_periods : int, default 3
        Leads tested by the pre-trend test (:func:`imputation_pretrend`); 0 skips it.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    EventStudyEffect
        ``estimate`` = the average effect over all treated observations; ``path`` = the
        average by event time :math:`h \\ge 0`, and for :math:`h < 0` the pre-trend
        coefficients :math:`\\hat\\gamma` (deviations of the untreated outcomes of
        soon-to-be-treated units from the fixed-effects model, relative to their earlier
        periods); ``cohort_effects`` = cohort × event-time means; ``diagnostics`` holds the
        pre-trend Wald test. Standard errors: the conservative variance of BJS Theorem 3 (see
        :func:`imputation_fit`).

    Notes
    -----
    Every untreated observation of the treated units enters the fixed effects, so the
    pre-period is averaged rather than anchored on :math:`t=g-1`; with a single cohort and
    one pre-period the estimates equal Callaway–Sant'Anna's ATT(g,t).

    References
    ----------
    Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust
    and efficient estimation. *Review of Economic Studies* 91(6), 3253–3285.
    """
    where = "imputation_did"
    study = legacy_options(where, old_names, {"study_or_data": "study"}, {"study": study},
                           {"study": None})["study"]
    check_level(level)
    if not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise DesignError(f"anticipation={anticipation!r} must be a whole number >= 0.")
    study = resolve_study(study, where=where, unit=unit, time=time, outcome=outcome,
                          cohort=cohort)
    panel = staggered_panel(study, cluster=cluster)
    fit = imputation_fit(panel.y, panel.g_ord, panel.t_ord, anticipation=anticipation,
                         cluster=panel.cluster)
    z = float(stats.norm.ppf(0.5 + level / 2))
    path = pd.DataFrame({"effect": fit["theta"], "se": fit["se"],
                         "low": fit["theta"] - z * fit["se"], "high": fit["theta"] + z * fit["se"]},
                        index=pd.Index(fit["event_time"], name="event_time"))
    diagnostics: dict = {}
    if pretrend_periods:
        pre = imputation_pretrend(panel.y, panel.g_ord, panel.t_ord, periods=int(pretrend_periods),
                                  anticipation=anticipation, cluster=panel.cluster)
        lead_path = pd.DataFrame(
            {"effect": pre["gamma"], "se": pre["se"], "low": pre["gamma"] - z * pre["se"],
             "high": pre["gamma"] + z * pre["se"]},
            index=pd.Index(pre["event_time"].astype(int), name="event_time"))
        path = pd.concat([lead_path, path])
        diagnostics = {k: pre[k] for k in ("pretrend_wald", "pretrend_df", "pretrend_p_value")}
    warnings = list(panel.notes)
    if fit["n_unimputable"]:
        warnings.append(f"{fit['n_unimputable']} treated observation(s) fall in periods without "
                        "untreated observations and cannot be imputed; they are left out.")
    cells = fit["cells"]
    cells["group"] = [panel.labels[g] for g in cells["group"]]
    return EventStudyEffect(
        method="imputation_did", estimate=fit["att"], level=level, path=path,
        diagnostics={**diagnostics, "warnings": warnings}, outcome=study.outcome,
        estimand="average effect over all treated observations (imputed untreated outcomes)",
        n_treated=int(np.isfinite(panel.g_ord).sum()),
        n_control=int((~np.isfinite(panel.g_ord)).sum()), start=str(study.start),
        params={"anticipation": int(anticipation), "cluster": cluster,
                "pretrend_periods": int(pretrend_periods)},
        cohort_effects=cells, **normal_summary(fit["att"], fit["att_se"], level),
    )
