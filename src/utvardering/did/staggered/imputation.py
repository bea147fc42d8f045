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
from .influence import joint_wald
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
        without untreated observations, left out), ``scores`` (per cluster: the terms
        :math:`\\sum_{it \\in c} v_{it}\\tilde\\varepsilon_{it}` of every estimand, so
        ``scores.T @ scores`` is their covariance), ``n_treated_clusters`` and
        ``single_unit_cells`` (every cohort × event-time mean rests on one unit).

    Notes
    -----
    The weights :math:`w` have one non-zero per treated observation and
    :math:`v_0 = -(a_i + l_t)` on untreated ones, with :math:`(a, l)` the unit and period
    effects fitted to :math:`w` (one two-way solve for all estimands), so time and memory are
    :math:`O(N T K)` for :math:`K` event times — no units × periods × estimands array.
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
    # the weights w (one column per event time, then the overall ATT) have one non-zero per
    # treated observation: kept as (unit, period, column, weight), never as an n × T × K array
    ti, tt = np.nonzero(target)
    ev = np.searchsorted(events, rel[ti, tt].astype(int))
    count = np.bincount(ev, minlength=len(events)).astype(float)
    k = len(events) + 1
    w_obs = 1.0 / count[ev]
    tau_obs = tau[ti, tt]
    estimates = np.append(np.bincount(ev, weights=w_obs * tau_obs, minlength=len(events)),
                          tau_obs.sum() / ti.size)
    unit_rhs, time_rhs = np.zeros((y.shape[0], k)), np.zeros((y.shape[1], k))
    np.add.at(unit_rhs, (ti, ev), w_obs)
    np.add.at(time_rhs, (tt, ev), w_obs)
    unit_rhs[:, -1] = np.bincount(ti, minlength=y.shape[0]) / ti.size
    time_rhs[:, -1] = np.bincount(tt, minlength=y.shape[1]) / ti.size
    a, lt = _solve_twoway(untreated, unit_rhs, time_rhs)
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
    # sum_t (w + v0)_itk eps_it with v0 = -(a_ik + l_tk) on untreated observations
    eps_obs = eps[ti, tt]
    contrib = np.zeros((y.shape[0], k))
    np.add.at(contrib, (ti, ev), w_obs * eps_obs)
    contrib[:, -1] = np.bincount(ti, weights=eps_obs, minlength=y.shape[0]) / ti.size
    untreated_eps = np.where(untreated, eps, 0.0)
    contrib -= a * untreated_eps.sum(axis=1)[:, None] + untreated_eps @ lt
    if cluster is not None:
        summed = np.zeros((int(cluster.max()) + 1, contrib.shape[1]))
        np.add.at(summed, cluster, contrib)
        contrib = summed
    se = np.sqrt(np.sum(contrib**2, axis=0))
    g_codes, e_codes = np.nonzero(cell_n.reshape(len(groups), -1))
    cells = pd.DataFrame({"group": groups[g_codes], "event_time": e_codes - offset,
                          "effect": (cell_sum / np.maximum(cell_n, 1))[cell_n > 0],
                          "n": cell_n[cell_n > 0]})
    treated_clusters = np.unique((np.arange(len(cohort)) if cluster is None else cluster)[
        np.isfinite(cohort)])
    return {"event_time": events, "theta": estimates[:-1], "se": se[:-1],
            "att": float(estimates[-1]), "att_se": float(se[-1]), "cells": cells,
            "n_unimputable": n_unimputable, "scores": contrib,
            "n_treated_clusters": int(treated_clusters.size),
            "single_unit_cells": bool(np.all(cell_n[cell_n > 0] == 1))}


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
        ``pretrend_wald``, ``pretrend_df``, ``pretrend_p_value`` (NaN when the test cannot
        be computed: see :func:`~utvardering.did.staggered.influence.joint_wald`; ``note``
        then says why), and ``scores``, the per-cluster influence of :math:`\\hat\\gamma`.
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
           "pretrend_df": len(leads), "pretrend_p_value": np.nan, "scores": None,
           "note": None}
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
    influence = np.sqrt(g / (g - 1)) * scores @ bread  # per cluster: ψ'ψ is the CR covariance
    vcov = influence.T @ influence
    test, note = joint_wald(gamma, vcov, g, what="pre-trend leads")
    out.update(gamma=gamma, se=np.sqrt(np.diag(vcov)), scores=influence, note=note, **test)
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
    # work on y / 2^k (exact in floating point): outcomes of any magnitude (1e-300, 1e300)
    # neither underflow nor overflow in the squared residuals
    scale = _power_of_two_scale(panel.y)
    y = panel.y / scale
    fit = imputation_fit(y, panel.g_ord, panel.t_ord, anticipation=anticipation,
                         cluster=panel.cluster)
    warnings = list(panel.notes)
    degenerate = _degenerate_variance(fit, y)
    if degenerate:
        warnings.append(degenerate)
        fit["se"] = np.full_like(fit["se"], np.nan)
        fit["att_se"] = np.nan
    elif fit["single_unit_cells"]:
        warnings.append("every cohort × event-time mean rests on a single treated unit: the "
                        "conservative variance (BJS Theorem 3) then omits the treated units' own "
                        "noise and understates the uncertainty; read the intervals with care.")
    theta, se = fit["theta"] * scale, fit["se"] * scale
    z = float(stats.norm.ppf(0.5 + level / 2))
    path = pd.DataFrame({"effect": theta, "se": se, "low": theta - z * se, "high": theta + z * se},
                        index=pd.Index(fit["event_time"], name="event_time"))
    scores = [fit["scores"][:, :-1]]
    names = [f"event_time[{int(e)}]" for e in fit["event_time"]]
    diagnostics: dict = {}
    if pretrend_periods:
        pre = imputation_pretrend(y, panel.g_ord, panel.t_ord, periods=int(pretrend_periods),
                                  anticipation=anticipation, cluster=panel.cluster)
        gamma, gamma_se = pre["gamma"] * scale, pre["se"] * scale
        if degenerate:  # the leads' cluster-robust SEs rest on the same too few clusters
            gamma_se = np.full_like(gamma_se, np.nan)
        lead_path = pd.DataFrame(
            {"effect": gamma, "se": gamma_se, "low": gamma - z * gamma_se,
             "high": gamma + z * gamma_se},
            index=pd.Index(pre["event_time"].astype(int), name="event_time"))
        path = pd.concat([lead_path, path])
        diagnostics = {k: pre[k] for k in ("pretrend_wald", "pretrend_df", "pretrend_p_value")}
        if pre["note"]:
            warnings.append(pre["note"])
        if pre["scores"] is not None:
            scores.insert(0, pre["scores"])
            names = [f"event_time[{int(e)}]" for e in pre["event_time"]] + names
    vcov = None
    if not degenerate and len(scores) == (2 if pretrend_periods else 1) and \
            (not pretrend_periods or pre["scores"] is not None):
        joint = np.hstack(scores) * scale
        with np.errstate(over="ignore", under="ignore"):
            vcov = pd.DataFrame(joint.T @ joint, index=names, columns=names)
    if fit["n_unimputable"]:
        warnings.append(f"{fit['n_unimputable']} treated observation(s) fall in periods without "
                        "untreated observations and cannot be imputed; they are left out.")
    cells = fit["cells"]
    cells["group"] = [panel.labels[g] for g in cells["group"]]
    cells["effect"] = cells["effect"] * scale
    return EventStudyEffect(
        method="imputation_did", estimate=fit["att"] * scale, level=level, path=path,
        diagnostics={**diagnostics, "warnings": warnings}, outcome=study.outcome,
        estimand="average effect over all treated observations (imputed untreated outcomes)",
        n_treated=int(np.isfinite(panel.g_ord).sum()),
        n_control=int((~np.isfinite(panel.g_ord)).sum()), start=str(study.start),
        params={"anticipation": int(anticipation), "cluster": cluster,
                "pretrend_periods": int(pretrend_periods)},
        cohort_effects=cells, vcov=vcov,
        **normal_summary(fit["att"] * scale, fit["att_se"] * scale, level),
    )


def _power_of_two_scale(y: np.ndarray) -> float:
    """``2^k`` near the largest absolute outcome (1 when all are zero)."""
    largest = float(np.max(np.abs(y))) if y.size else 0.0
    if not np.isfinite(largest) or largest == 0.0:
        return 1.0
    return float(2.0 ** np.round(np.log2(largest)))


def _degenerate_variance(fit: dict, y: np.ndarray) -> str | None:
    """Why the standard errors cannot be used (None when they can).

    With two clusters, or when the variance is zero to rounding (e.g. one treated and one
    comparison unit: the fixed effects fit every residual exactly), a "standard error" of
    1e-16 would give a zero-width interval and p = 0.
    """
    spread = float(np.std(y))
    n_clusters = fit["scores"].shape[0]
    if n_clusters < 3:
        return (f"only {n_clusters} clusters: the imputation variance cannot be estimated, so "
                "no standard error, interval or p-value is reported; add comparison units or "
                "use a design-based (placebo/permutation) approach.")
    if not np.isfinite(fit["att_se"]) or fit["att_se"] <= 1e-8 * spread:
        return ("the imputation variance is zero to rounding (the fixed effects fit the "
                "residuals exactly): no standard error, interval or p-value is reported.")
    return None
