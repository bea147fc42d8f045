"""Poisson pseudo-maximum likelihood DiD with unit and period fixed effects (count outcomes).

Model for counts :math:`y_{it}` with exposure :math:`N_{it}` (e.g. population):

.. math:: E[y_{it}] = \\mu_{it} = N_{it} \\exp(\\alpha_i + \\lambda_t + \\beta D_{it} + x_{it}'\\gamma).

Fitted by iteratively reweighted least squares in which every weighted least-squares step
absorbs the fixed effects by alternating projections (Correia, Guimarães & Zylkin 2020), so a
panel of 136 areas × 84 months costs a few small projections rather than 220 dummy columns.
Only the conditional mean must be right (PPML is consistent under any variance), so standard
errors are cluster-robust sandwiches: :math:`\\hat V = c\\,H^{-1}(\\sum_g s_g s_g')H^{-1}` with
:math:`H = \\tilde X' \\hat\\mu \\tilde X` and :math:`s_g = \\tilde X_g'(y_g - \\hat\\mu_g)`, CR1
factor as in :mod:`~utvardering.inference.cluster`.

Units whose counts are all zero are perfectly predicted (their effect is :math:`-\\infty`) and
carry no information on :math:`\\beta`; they are left out of the likelihood and named in
``diagnostics["dropped_units"]`` and the warnings (likewise periods with no events at all).

References
----------
Santos Silva, J. M. C. & Tenreyro, S. (2006). The log of gravity. *REStat* 88(4), 641–658.
Wooldridge, J. M. (1999). Distribution-free estimation of some nonlinear panel data models.
*J. Econometrics* 90(1), 77–97.
Correia, S., Guimarães, P. & Zylkin, T. (2020). Fast Poisson estimation with high-dimensional
fixed effects. *Stata Journal* 20(1), 95–115.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._numerics.fixed_effects import Absorber, factorize, independent_columns
from ..errors import DataError, DesignError
from ..estimators import register_estimator
from ..inference.cluster import coefficient_table, few_cluster_warnings
from ..inference.counts import events_prevented_rate_ratio
from ..options import check_level, check_option
from ._design import event_time_dummies, panel_design, renamed_first_argument
from .fe_regression import guard_inference
from .pml import fe_poisson
from .poisson_placebo import placebo_shift_interval, poisson_randomization
from .result import PoissonDiDEffect, pretrend_test, pretrend_warnings

__all__ = ["poisson_did"]


def _drop_all_zero(frame: pd.DataFrame, y: str, unit: str, time: str):
    by_unit = frame.groupby(unit)[y].sum()
    zero_units = by_unit.index[by_unit == 0].tolist()
    keep = ~frame[unit].isin(zero_units)
    by_time = frame.loc[keep].groupby(time)[y].sum()
    zero_times = by_time.index[by_time == 0].tolist()
    keep &= ~frame[time].isin(zero_times)
    return keep.to_numpy(), zero_units, zero_times


def _units_text(units) -> str:
    units = sorted({str(u) for u in units})
    shown = ", ".join(units[:5])
    return shown + (f" and {len(units) - 5} more" if len(units) > 5 else "")


def _refuse_separated_treatment(design) -> None:
    """Raise DesignError when the treatment coefficient has no finite PML estimate.

    Two patterns of separation (Correia, Guimarães & Zylkin 2021; ``ppmlhdfe`` drops the
    separated observations, after which the treatment is not identified): every treated cell
    has zero events (:math:`\\hat\\beta = -\\infty`), or every untreated cell of the treated
    units has zero events (:math:`\\hat\\beta = +\\infty`, with their unit effects at
    :math:`-\\infty`).
    """
    y = design.outcome_values()
    on = design.treat != 0
    units = design.frame[design.unit].to_numpy()
    treated_units = np.unique(units[on])
    if on.any() and y[on].sum() == 0:
        raise DesignError(
            f"poisson_did: the treated unit(s) {_units_text(treated_units)} have zero events in "
            f"all {int(on.sum())} treated unit-periods, so the Poisson likelihood is maximised "
            "at a rate ratio of 0 (log rate ratio -inf): there is no finite estimate or "
            "standard error (separation; ppmlhdfe drops these observations and the treatment "
            "with them). Report the counts, pool periods or areas, or use a longer post-period.")
    own = np.isin(units, treated_units) & ~on
    if on.any() and own.any() and y[own].sum() == 0:
        raise DesignError(
            f"poisson_did: the treated unit(s) {_units_text(treated_units)} have zero events in "
            f"all {int(own.sum())} untreated unit-periods, so the rate ratio is +inf "
            "(separation): there is no finite estimate. Use a longer pre-period or pool areas.")


def _separated_event_cells(design, dummies: pd.DataFrame) -> np.ndarray:
    """Rows whose event-time dummy covers only zero counts (separated: ``ppmlhdfe`` drops them)."""
    y = design.outcome_values()
    values = dummies.to_numpy(float)
    totals = values.T @ y
    dead = (values.sum(axis=0) > 0) & (totals == 0)
    return (values[:, dead] != 0).any(axis=1) if dead.any() else np.zeros(len(y), dtype=bool)


def _separation_note(design, separated: np.ndarray, dummies: pd.DataFrame) -> str:
    units = design.frame.loc[separated, design.unit]
    dead = [c for c in dummies.columns if (dummies.loc[separated, c] != 0).any()]
    return (f"{int(separated.sum())} unit-period(s) of {_units_text(units)} were left out: "
            f"they have zero events in every cell of {', '.join(dead)}, whose coefficient "
            "would be -inf (separation, as ppmlhdfe detects it); those event times have no "
            "estimate.")


#: Below this many treated clusters ``inference="auto"`` uses randomization inference.
RANDOMIZATION_BELOW_TREATED = 20


def _resolve_inference(inference: str, event_study: bool, n_treated: int) -> tuple[str, str]:
    """The inference ``"auto"`` stands for, and why."""
    if inference != "auto":
        return inference, "asked for"
    if n_treated >= RANDOMIZATION_BELOW_TREATED:
        return "cluster", (f"auto: {n_treated} treated clusters support cluster-robust (CR1) "
                           "inference")
    if event_study:
        return "cluster", (f"auto: {n_treated} treated cluster(s), but the event study has "
                           "cluster-robust inference only; its intervals are unreliable")
    return "randomization", (
        f"auto: {n_treated} treated cluster(s) (fewer than {RANDOMIZATION_BELOW_TREATED}), so "
        "cluster-robust standard errors are unreliable; the treated units' paths are given "
        "to comparison units (randomization inference)")


def _randomization(treat, y, codes, clusters, offset, x, names, mu, beta, heteroskedasticity,
                   n_matched, n_draws, random_state) -> dict:
    """Placebo refits of the static model (covariates included) and their p-value."""
    ucodes, tcodes = codes
    shape = (int(ucodes.max()) + 1, int(tcodes.max()) + 1)
    pattern = np.zeros(shape)
    pattern[ucodes, tcodes] = treat
    mu0 = np.zeros(shape)
    mu0[ucodes, tcodes] = mu * np.exp(-beta * treat)  # expected counts without the effect
    others = [j for j, n in enumerate(names) if n != "treatment"]
    return poisson_randomization(y, ucodes, tcodes, pattern, codes, clusters, offset=offset,
                                 covariates=x[:, others] if others else None, mu0=mu0,
                                 heteroskedasticity=heteroskedasticity, n_matched=n_matched,
                                 estimate=beta, n_draws=n_draws, random_state=random_state)


@register_estimator("poisson_did", family="did",
                    summary="Poisson PML DiD with unit and period effects for counts (rate ratios)")
@renamed_first_argument("data")
def poisson_did(
    study,
    *,
    exposure: str | None = None,
    covariates=None,
    cluster: str | None = None,
    event_study: bool = False,
    leads: int | None = None,
    lags: int | None = None,
    reference: int = -1,
    inference: Literal["auto", "cluster", "randomization"] = "auto",
    heteroskedasticity: Literal["matched", "size", "none"] = "matched",
    n_matched: int | None = None,
    n_draws: int = 199,
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    **design: Any,
) -> PoissonDiDEffect:
    """Poisson DiD for event counts: rate ratio :math:`e^{\\beta}` and events prevented.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        A count Study (its ``exposure`` is used as offset), or a long panel with the Study
        keywords in ``**design`` (as for :func:`~utvardering.did.twfe.twfe`, including a
        ``treatment=`` column: :math:`D_{it}` is its row-level value, so a dose or a
        treatment that switches off enters the static model as given; the event study needs
        it 0/1 and absorbing).
    exposure : str, optional
        Population (or other exposure) column: :math:`\\log N_{it}` enters as an offset, so
        effects are on rates (default: the Study's ``exposure``).
    covariates : list of str, optional
        Time-varying controls.
    cluster : str, optional
        Cluster column (default: the unit).
    event_study : bool, default False
        Fit event-time coefficients instead of one :math:`\\beta` (``leads``, ``lags``,
        ``reference`` as in :func:`~utvardering.did.twfe.event_study`; end points binned).
    leads, lags, reference : optional
        Event-study window and reference period.
    inference : {"auto", "cluster", "randomization"}, default "auto"
        ``"cluster"``: CR1 cluster-robust t interval (valid with many treated clusters).
        ``"randomization"``: p-value from refits with each unit's treatment path (start and
        any end) reassigned across units — exact over all units with one treated unit,
        otherwise ``n_draws`` random reassignments — and the interval inverting that test
        (:func:`placebo_shift_interval`), covariates included in every refit. Static model
        only. On a balanced panel without covariates all refits run as one batch (under 1 s
        for 136 areas × 84 months). ``"auto"``: randomization below
        :data:`RANDOMIZATION_BELOW_TREATED` treated clusters (static model), otherwise
        cluster; the choice and its reason are in ``diagnostics["inference"]`` and
        ``diagnostics["inference_reason"]``.
    heteroskedasticity : {"matched", "size", "none"}, default "matched"
        How randomization inference allows for placebo estimates whose noise depends on the
        unit's number of events (:mod:`~utvardering.did.poisson_placebo`). ``"matched"``:
        only the ``n_matched`` placebo assignments closest to the treated one in expected
        counts are used. ``"size"``: all placebos, rescaled to the treated assignment's
        variance :math:`A + B(1/C^1 + 1/C^0)` (Ferman & Pinto 2019). ``"none"``: all
        placebos as they are (exchangeable errors assumed: conservative for a large treated
        area, too short for a small one).
    n_matched : int, optional
        Placebos kept by ``"matched"``; default the fewest the level needs,
        :math:`\\lceil 1/(1 - \\text{level}) \\rceil - 1` (19 at 95%).
    n_draws : int, default 199
        Random reassignments for randomization inference.
    level : float, default 0.95
        Interval coverage.
    random_state : int or numpy.random.Generator, optional
        Seed for randomization inference.
    **design
        Study keywords when ``study`` is a DataFrame, e.g. ``outcome=``, ``treatment=``.

    Returns
    -------
    PoissonDiDEffect
        ``estimate`` :math:`\\hat\\beta` (log rate ratio), ``relative`` :math:`e^{\\hat\\beta}-1`,
        ``rate_ratio`` and interval, ``events_prevented``
        :math:`\\sum_{D_{it}=1}\\hat\\mu_{it}(e^{-\\hat\\beta}-1)` with its interval (the
        :math:`\\beta` interval mapped through this monotone function; the fitted treated
        counts equal the observed ones at the PML solution), ``dropped_units``.
        With ``event_study=True``: ``event_study`` table and ``path`` on the log scale, the
        overall estimate the treated-observation-weighted mean of the post coefficients.
    """
    check_option("inference", inference, ("auto", "cluster", "randomization"))
    check_option("heteroskedasticity", heteroskedasticity, ("matched", "size", "none"))
    level = check_level(level)
    if event_study and inference == "randomization":
        raise DesignError("inference='randomization' is available for the static model only "
                          "(event_study=False).")
    design = panel_design(study, where="poisson_did", covariates=covariates, cluster=cluster,
                          exposure=exposure, absorbing=event_study, **design)
    frame = design.frame
    yv = frame[design.outcome].to_numpy(float)
    if (yv < 0).any() or not np.allclose(yv, np.round(yv)):
        raise DataError(f"outcome {design.outcome!r} must be non-negative whole counts for "
                        "poisson_did; use twfe for rates or continuous outcomes.")
    keep, zero_units, zero_times = _drop_all_zero(frame, design.outcome, design.unit, design.time)
    warn = []
    if zero_units:
        warn.append(f"{len(zero_units)} unit(s) with zero events in every period were left out of "
                    f"the likelihood (perfectly predicted, no information on the effect): "
                    f"{', '.join(map(str, zero_units))}.")
    if zero_times:
        warn.append(f"period(s) with zero events in every unit were left out: "
                    f"{', '.join(map(str, zero_times))}.")
    design.subset(keep)
    frame = design.frame
    if event_study:
        dummies, bins, _ = event_time_dummies(design.event, leads=leads, lags=lags,
                                              reference=reference)
        regs = pd.concat([dummies, frame[design.covariates]], axis=1)
        separated = _separated_event_cells(design, dummies)
        if separated.any():
            warn.append(_separation_note(design, separated, dummies))
            design.subset(~separated)
            frame = design.frame
            regs = regs.loc[~separated].reset_index(drop=True)
    else:
        _refuse_separated_treatment(design)
        regs = pd.concat([pd.DataFrame({"treatment": design.treat}),
                          frame[design.covariates]], axis=1)
    unit_codes, unit_levels = factorize(frame[design.unit])
    codes = [unit_codes, factorize(frame[design.time])[0]]
    absorber = Absorber(codes, n=len(frame))
    cols = independent_columns(absorber.demean(regs.to_numpy(float)), absorber.weights)
    names = [regs.columns[j] for j in cols]
    clusters, _ = factorize(frame[design.cluster])
    offset = None
    if design.exposure is not None:
        offset = np.log(frame[design.exposure].to_numpy(float))
    y = frame[design.outcome].to_numpy(float)
    fit = fe_poisson(y, regs.to_numpy(float)[:, cols], codes, clusters, offset=offset)
    g = int(clusters.max()) + 1
    table = coefficient_table(names, fit.coef, fit.vcov, g - 1, level)
    vcov_frame = pd.DataFrame(fit.vcov, index=names, columns=names)
    crit = stats.t(g - 1).ppf(0.5 + level / 2)
    treated_mask = design.treat != 0
    es_table, path, pre, placebo_table = None, None, None, None
    if event_study:
        counts = regs[names].sum()
        post = [f"event_time[{b}]" for b in bins if b >= 0 and f"event_time[{b}]" in names]
        a = counts[post].to_numpy(float) / counts[post].sum()
        beta = float(a @ table.loc[post, "estimate"])
        se = float(np.sqrt(a @ vcov_frame.loc[post, post].to_numpy() @ a))
        rows = [(reference, 0.0, np.nan, np.nan, np.nan, np.nan)]
        rows += [(b, *table.loc[f"event_time[{b}]", ["estimate", "se", "low", "high"]],
                  counts[f"event_time[{b}]"]) for b in bins if f"event_time[{b}]" in names]
        es_table = pd.DataFrame(rows, columns=["event_time", "estimate", "se", "low", "high",
                                               "n_obs"]).set_index("event_time").sort_index()
        path = es_table.rename(columns={"estimate": "effect"})[["effect", "low", "high"]]
        pre = pretrend_test(es_table, vcov_frame, reference, g - 1)
    else:
        if "treatment" not in names:
            raise DesignError("the treatment is collinear with the fixed effects: no unit "
                              "changes treatment status within the sample.")
        beta, se = float(table.loc["treatment", "estimate"]), float(table.loc["treatment", "se"])
    lo, hi = beta - crit * se, beta + crit * se
    fitted_treated = float(fit.mu[treated_mask].sum())
    prevented, prevented_int = events_prevented_rate_ratio(fitted_treated, beta, (lo, hi))
    n_cl = g
    n_tr = int(frame.loc[treated_mask, design.cluster].nunique())

    diagnostics = {
        "n_obs": len(frame), "n_clusters": n_cl, "n_treated_clusters": n_tr, "df": g - 1,
        "iterations": fit.iterations, "deviance": fit.deviance,
        "dropped_units": [str(u) for u in zero_units], "dropped_periods": [str(t) for t in zero_times],
        "observed_treated_events": float(y[treated_mask].sum()),
        "fitted_treated_events": fitted_treated, "warnings": warn,
    }
    if pre is not None:
        diagnostics["pretrend"], diagnostics["pretrend_p_value"] = pre, pre["p_F"]
    p_value = float(2 * stats.t(g - 1).sf(abs(beta / se)))
    inference, reason = _resolve_inference(inference, event_study, n_tr)
    diagnostics["inference"], diagnostics["inference_reason"] = inference, reason
    remedy = ("poisson_did(..., inference='randomization') (the static model) and compare with "
              "synthetic control.")
    if inference == "randomization":
        remedy = "the randomization inference reported here, and compare with synthetic control."
    warn += few_cluster_warnings(n_cl, n_tr, remedy=remedy)
    if pre is not None:
        warn += pretrend_warnings(pre, n_tr)
    if inference == "randomization":
        ri = _randomization(design.treat, y, codes, clusters, offset, regs.to_numpy(float)[:, cols],
                            names, fit.mu, beta, heteroskedasticity,
                            n_matched or int(np.ceil(1 / (1 - level) - 1e-9)) - 1, n_draws,
                            random_state)
        placebo = ri.pop("placebo")
        placebo_table = ri.pop("placebo_table")  # arrays: keep the diagnostics plain
        if ri["exact"]:  # one treated unit: each placebo is a comparison unit
            placebo_table["assignment"] = np.asarray(unit_levels)[placebo_table["assignment"]]
        diagnostics["randomization"] = ri
        p_value = ri["p_value"]
        # Interval consistent with the randomization p-value (not the invalid cluster SEs).
        lo, hi = placebo_shift_interval(beta, placebo, level)
        finite = placebo[np.isfinite(placebo)]
        se = float(np.std(finite, ddof=1)) if len(finite) >= 2 else float("nan")
        prevented_int = events_prevented_rate_ratio(fitted_treated, beta, (lo, hi))[1]
        diagnostics["interval_method"] = "Conley–Taber placebo shift (constant effect)" + {
            "matched": f", the {ri.get('n_matched')} placebos closest in expected counts",
            "size": ", placebos rescaled to the treated unit's variance (Ferman–Pinto)",
        }.get(heteroskedasticity, "")
        if not (np.isfinite(lo) and np.isfinite(hi)):
            need = int(np.ceil(1 / (1 - level) - 1e-9)) - 1
            warn.append(f"{len(placebo)} placebo assignment(s): a {level:.0%} randomization "
                        f"interval needs at least {need}, so it is unbounded; the smallest "
                        f"attainable p-value is {1 / (len(placebo) + 1):.3g}. Report the p-value, "
                        "lower the level, or compare with synthetic control.")
    if not np.isfinite(beta):  # never a p-value or interval next to a non-finite estimate
        se, (lo, hi), p_value = guard_inference(beta, se, (lo, hi), p_value, warn, spread=1.0)
        prevented_int = (float("nan"), float("nan"))
    return PoissonDiDEffect(
        method="poisson_did", estimate=beta, interval=(lo, hi), level=level, se=se,
        relative=float(np.expm1(beta)), relative_interval=(float(np.expm1(lo)), float(np.expm1(hi))),
        p_value=p_value, path=path, diagnostics=diagnostics,
        outcome=design.outcome, scale="log rate ratio",
        estimand="log rate ratio of treated to counterfactual counts, treated post-period",
        n_treated=len(design.treated_units), n_control=design.n_units - len(design.treated_units),
        start=design.start, coefficients=table, vcov=vcov_frame, event_study=es_table,
        rate_ratio=float(np.exp(beta)), rate_ratio_interval=(float(np.exp(lo)), float(np.exp(hi))),
        events_prevented=prevented, events_prevented_interval=prevented_int,
        dropped_units=[str(u) for u in zero_units], placebo=placebo_table,
        params={"exposure": design.exposure, "cluster": design.cluster,
                "event_study": event_study, "reference": reference, "leads": leads, "lags": lags,
                "inference": inference},
    )
