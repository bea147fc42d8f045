"""Callaway & Sant'Anna (2021) difference-in-differences with staggered adoption.

The public :func:`callaway_santanna` validates its options, turns the Study into arrays
(:mod:`~utvardering.did.staggered.data`), estimates every ATT(g,t) with its influence
function (:mod:`~utvardering.did.staggered.att_gt`), and returns a
:class:`~utvardering.did.staggered.results.StaggeredEffect` whose
:meth:`~utvardering.did.staggered.results.StaggeredEffect.aggregate` reproduces R
``did::aggte`` (:mod:`~utvardering.did.staggered.aggregate`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ...errors import DesignError, warn
from ...estimators import register_estimator
from ...options import ControlGroup, check_level, check_option
from ...study import Study
from .aggregate import aggregate_gt, wald_pretest
from .att_gt import att_gt_means, att_gt_panel
from .att_gt_rcs import att_gt_rcs
from .data import cross_sections, legacy_options, resolve_study, staggered_panel
from .influence import Inference, LinearForm, MultiplierStream, as_cell_influence, mammen_weights
from .results import StaggeredEffect, normal_summary

__all__ = ["callaway_santanna"]

Estimation = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
WeightsType = Literal["mammen", "rademacher"]
InferenceMethod = Literal["cluster", "bootstrap"]

#: Fewer treated (or comparison) clusters than this trigger a warning on analytic SEs.
FEW_CLUSTERS = 5


def _validate(control_group, estimation, base_period, weights_type, anticipation, level,
              inference, n_draws) -> int:
    """Check every option before any fitting; return the number of bootstrap draws (0: none)."""
    check_option("control_group", control_group, ControlGroup)
    check_option("estimation", estimation, Estimation)
    check_option("base_period", base_period, BasePeriod)
    check_option("weights_type", weights_type, WeightsType)
    check_option("inference", inference, InferenceMethod)
    if not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise DesignError(f"anticipation={anticipation!r} must be a whole number >= 0.")
    check_level(level)
    if inference == "cluster":
        return 0
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise DesignError(f"n_draws={n_draws!r}: the multiplier bootstrap needs a whole number "
                          "of draws, at least 2 (e.g. 999).")
    return int(n_draws)


def _old_bootstrap(where: str, given: dict, inference: str, n_draws: int) -> tuple[str, int]:
    """``bootstrap=False|True|int`` (the old spelling) as ``inference=`` and ``n_draws=``."""
    if "bootstrap" not in given:
        return inference, n_draws
    value = given.pop("bootstrap")
    warn(f"{where}: bootstrap= is replaced by inference='bootstrap' and n_draws= (bootstrap=False "
         "is inference='cluster'); the old name is accepted until the next release.",
         DeprecationWarning)
    if value is False or value is None:
        return "cluster", n_draws
    if value is True:
        return "bootstrap", n_draws
    if isinstance(value, (int, np.integer)) and value >= 2:
        return "bootstrap", int(value)
    raise DesignError(f"bootstrap={value!r}: use inference='bootstrap' with n_draws= (e.g. 999).")


#: Above this many multipliers (draws × clusters) they are regenerated block by block.
STREAM_MULTIPLIERS = 1 << 24


def _multipliers(draws: int, clusters: int, kind: str, random_state):
    rng = np.random.default_rng(random_state)
    if draws * clusters > STREAM_MULTIPLIERS:
        return MultiplierStream(draws, clusters, kind, int(rng.integers(2**63 - 1)))
    if kind == "mammen":
        return mammen_weights(rng, (draws, clusters))
    return rng.choice(np.array([-1.0, 1.0]), size=(draws, clusters))


def _few_cluster_warnings(panel, control_group) -> list[str]:
    treated = np.isfinite(panel.g_ord)
    out = []
    if panel.cluster is None:  # units are the clusters
        n_treated, n_never = int(treated.sum()), int((~treated).sum())
    else:
        n_treated = len(np.unique(panel.cluster[treated]))
        n_never = len(np.unique(panel.cluster[~treated]))
    what = "clusters" if panel.cluster is not None else "units"
    if n_treated < FEW_CLUSTERS:
        out.append(f"only {n_treated} treated {what}: analytic standard errors assume many "
                   "clusters and are unreliable here; read intervals with great care (consider "
                   "randomization inference).")
    if n_never < FEW_CLUSTERS and (control_group == "never_treated" or n_never > 0):
        out.append(f"only {n_never} never-treated {what}: analytic standard errors assume many "
                   "clusters and are unreliable here.")
    return out


def _drop_outcomes(data):
    def release() -> None:
        data.y = None

    return release


def _without_never_treated(data, panel: bool, control_group: str, anticipation: int) -> None:
    """As R ``did``: with no never-treated units, the last cohort only serves as comparison.

    Periods from its start (minus anticipation) on are dropped and its units are treated as
    untreated within the remaining window (in place).
    """
    finite = np.isfinite(data.g_ord)
    if not finite.all():
        return
    if control_group == "never_treated":
        raise DesignError("no never-treated units: use control_group='not_yet_treated' (the "
                          "last cohort then serves as comparison and later periods are dropped).")
    last = data.g_ord.max()
    keep = data.t_ord < last - anticipation
    data.notes.append(f"no never-treated units: cohort {data.labels[last]} serves only as "
                      f"comparison; {int((~keep).sum())} period(s) from "
                      f"{data.labels[data.t_ord[~keep][0]]} on dropped")
    data.g_ord = np.where(data.g_ord == last, np.inf, data.g_ord)
    data.times = [t for t, k in zip(data.times, keep) if k]
    if panel:
        data.y, data.t_ord = data.y[:, keep], data.t_ord[keep]
        if data.covariates is not None:
            data.covariates = data.covariates[:, keep, :]
        return
    rows = keep[data.period]
    data.t_ord = data.t_ord[keep]
    data.y, data.g_ord, data.period = data.y[rows], data.g_ord[rows], data.period[rows]
    for name in ("weights", "cluster", "covariates"):
        if getattr(data, name) is not None:
            setattr(data, name, getattr(data, name)[rows])
    if data.weights is not None:
        data.weights = data.weights / data.weights.mean()


@register_estimator("callaway_santanna", family="did",
                    summary="Callaway–Sant'Anna staggered DiD: ATT(g,t) and aggte aggregations")
def callaway_santanna(
    study: Study | pd.DataFrame | None = None,
    *,
    unit: str | None = None,
    time: str | None = None,
    outcome: str | None = None,
    cohort: str | None = None,
    control_group: ControlGroup = "never_treated",
    estimation: Estimation = "dr",
    covariates: list[str] | None = None,
    anticipation: int = 0,
    base_period: BasePeriod = "varying",
    panel: bool = True,
    weights: str | None = None,
    cluster: str | None = None,
    inference: InferenceMethod = "cluster",
    n_draws: int = 999,
    weights_type: WeightsType = "mammen",
    random_state: int | np.random.Generator | None = None,
    level: float = 0.95,
    **old_names: Any,
) -> StaggeredEffect:
    """Group-time average treatment effects under staggered adoption.

    Estimates every :math:`ATT(g,t) = E[Y_t(g) - Y_t(\\infty) \\mid G = g]` — the effect in
    period :math:`t` on the units first treated in period :math:`g` — by comparing their
    outcome change since a base period with that of a comparison group, as R
    ``did::att_gt`` (Callaway & Sant'Anna 2021). Without covariates each cell is a
    difference of mean changes; with covariates the doubly robust estimator of Sant'Anna &
    Zhao (2020) (or IPW / outcome regression). Standard errors come from per-unit influence
    functions (analytic, or a multiplier bootstrap with sup-t simultaneous bands).

    Parameters
    ----------
    study : Study or pandas.DataFrame
        A :class:`~utvardering.Study` (built with ``cohort=``, ``starts=``, ``treated=``, or a
        ``treatment=`` column that is 0/1 and never switches off — a dose or a treatment that
        switches off is refused, naming the unit and period) or a long panel together with ``unit``, ``time``, ``outcome`` and ``cohort``
        (``study_or_data=`` is the old name of this argument).
    unit, time, outcome, cohort : str, optional
        Column names when a DataFrame is passed (``cohort``: first treated period, 0 or
        missing = never treated).
    control_group : {"never_treated", "not_yet_treated"}
        Comparison units: never treated only, or also those not yet treated by the later of
        ``t`` and the base period (plus ``anticipation``).
    estimation : {"dr", "ipw", "reg"}
        Doubly robust, inverse probability weighting or outcome regression (identical
        without covariates).
    covariates : list of str, optional
        Covariates (values in the earlier of each cell's two periods); parallel trends are
        then assumed conditional on them. Default: the Study's ``covariates`` (pass ``[]``
        for none).
    anticipation : int, default 0
        Periods before ``g`` in which units may already react; base periods move back by as
        much.
    base_period : {"varying", "universal"}
        Pre-treatment cells compare :math:`t` with :math:`t-1` (``"varying"``) or with the
        last period before treatment (``"universal"``, the event-study convention).
    panel : bool, default True
        ``True``: a balanced panel (outcome changes of the same units). ``False``: repeated
        cross-sections — each row is a separate observation (e.g. survey respondents), the
        cell estimators are those of Sant'Anna & Zhao (2020) for repeated cross-sections
        and influence functions, shares and the bootstrap are per row; a DataFrame then
        needs only ``time``, ``outcome`` and ``cohort`` (the first treated period of the
        row's area).
    weights : str, optional
        Column of time-invariant sampling weights.
    cluster : str, optional
        Column of a time-invariant cluster (e.g. district) for clustered standard errors;
        units (rows, with ``panel=False``) are always nested in clusters.
    inference : {"cluster", "bootstrap"}, default "cluster"
        ``"cluster"``: analytic standard errors from the influence functions (clustered by
        unit, or by ``cluster``); ``"bootstrap"``: multiplier bootstrap with ``n_draws``
        draws, IQR-based standard errors and sup-t simultaneous bands (R ``did``'s
        ``bstrap=TRUE``). The old ``bootstrap=False|True|int`` still works (deprecated).
    n_draws : int, default 999
        Bootstrap draws (``inference="bootstrap"`` only).
    weights_type : {"mammen", "rademacher"}
        Multiplier distribution of the bootstrap (old name ``bootstrap_weights=``).
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    StaggeredEffect
        ``estimate`` = the ``"simple"`` aggregation; ``path`` = the event-time
        (``"dynamic"``) aggregation; ``att_gt`` = the cell table; ``aggregate()`` for the
        other summaries; ``diagnostics`` holds the pre-trend Wald test
        (``pretrend_wald``, ``pretrend_df``, ``pretrend_p_value``) and warnings.

    Raises
    ------
    DesignError
        Unknown option values, unbalanced panels, cohorts without a pre-period.

    References
    ----------
    Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics* 225(2), 200–230.

    Sant'Anna, P. H. C. & Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. *Journal of Econometrics* 219(1), 101–122.

    Examples
    --------
    >>> effect = callaway_santanna(mpdta, unit="countyreal", time="year",
    ...                            outcome="lemp", cohort="first.treat")  # doctest: +SKIP
    >>> effect.aggregate("dynamic").path  # doctest: +SKIP
    """
    where = "callaway_santanna"
    inference, n_draws = _old_bootstrap(where, old_names, inference, n_draws)
    opts = legacy_options(where, old_names,
                          {"study_or_data": "study", "bootstrap_weights": "weights_type"},
                          {"study": study, "weights_type": weights_type},
                          {"study": None, "weights_type": "mammen"})
    study, weights_type = opts["study"], opts["weights_type"]
    draws = _validate(control_group, estimation, base_period, weights_type, anticipation,
                      level, inference, n_draws)
    if panel:
        study = resolve_study(study, where=where, unit=unit, time=time, outcome=outcome,
                              cohort=cohort, covariates=covariates)
        if covariates is None:  # the Study's covariates are the estimator's default
            covariates = list(study.covariates or [])
        data = staggered_panel(study, weights=weights, cluster=cluster, covariates=covariates)
        outcome_name, start = study.outcome, study.start
        data.study = data.units = None  # the arrays are all we need: let a Study built here
        del study  # (and its list of unit labels) be freed
    else:
        if covariates is None and isinstance(study, Study):
            covariates = list(study.covariates or [])
        data = cross_sections(study, time=time, outcome=outcome, cohort=cohort,
                              weights=weights, cluster=cluster, covariates=covariates)
        outcome_name, start = data.outcome, data.start
    _without_never_treated(data, panel, control_group, anticipation)
    first = data.t_ord[0]
    cohorts = np.unique(data.g_ord[np.isfinite(data.g_ord)])
    early = cohorts[~(first + anticipation < cohorts)].tolist()
    if early:
        names = ", ".join(str(data.labels[g]) for g in early)
        raise DesignError(
            f"cohort(s) {names} have no period before treatment minus anticipation="
            f"{anticipation}; lower anticipation or drop those units."
        )
    n = len(data.g_ord)
    unit_weight = np.ones(n) if data.weights is None else data.weights
    options = {"weights": unit_weight, "covariates": data.covariates, "method": estimation,
               "control_group": control_group, "anticipation": anticipation,
               "base_period": base_period}
    if panel:
        if data.covariates is None:  # hand the outcome matrix over: freed once reordered
            # explicit keywords (no ** unpacking, which would hold the arguments in a tuple)
            gt = att_gt_means(data.y, data.g_ord, data.t_ord, weights=unit_weight,
                              control_group=control_group, anticipation=anticipation,
                              base_period=base_period, method=estimation,
                              release=_drop_outcomes(data))
        else:
            gt = att_gt_panel(data.y, data.g_ord, data.t_ord, **options)
        data.y = None  # outcomes are no longer needed: free them before the aggregations
    else:
        gt = att_gt_rcs(data.y, data.period, data.g_ord, data.t_ord, **options)
    if gt.att.size == 0:
        raise DesignError("no (cohort, period) cell has both treated and comparison units; "
                          "try control_group='not_yet_treated' or add comparison units.")
    influence = as_cell_influence(gt.influence)  # per-cohort blocks, never the dense matrix
    gt.influence = None
    n_clusters = n if data.cluster is None else int(data.cluster.max()) + 1
    multipliers = _multipliers(draws, n_clusters, weights_type, random_state) if draws else None
    engine = Inference(n=n, cluster=data.cluster, multipliers=multipliers, level=level)
    cohort_values = np.unique(data.g_ord)
    engine.prepare_bootstrap(influence, data.g_ord, unit_weight, cohort_values)
    se, crit = engine.standard_errors(
        influence, LinearForm.identity(len(gt.att), len(cohort_values)) if draws else None)
    group_ord, time_ord = gt.group, data.t_ord[gt.time]
    table = pd.DataFrame({
        "group": [data.labels[g] for g in group_ord],
        "time": [data.times[i] for i in gt.time],
        "event_time": (time_ord - group_ord).astype(int),
        "base_period": [data.times[i] for i in gt.base],
        "att": gt.att, "se": se, "low": gt.att - crit * se, "high": gt.att + crit * se,
        "n_treated": gt.n_treated, "n_control": gt.n_control,
    })
    design = {"base_period": base_period, "att": gt.att, "group": group_ord, "time": time_ord, "unit_group": data.g_ord,
              "unit_weight": unit_weight, "first_time": first, "inference": engine,
              "labels": data.labels, "cohort_values": cohort_values}
    pretest, pretest_note = wald_pretest(gt.att, influence, group_ord > time_ord, engine,
                                         se=None if draws else se)
    diagnostics = {"critical_value": float(crit), "n_cells": len(table), **pretest}
    warnings = [*data.notes, *(f"skipped {s}" for s in gt.skipped),
                *_few_cluster_warnings(data, control_group),
                *([pretest_note] if pretest_note else [])]
    diagnostics["warnings"] = warnings
    simple = aggregate_gt(gt.att, influence, group_ord, time_ord, data.g_ord, unit_weight,
                          "simple", cohort_values=cohort_values if draws else None)
    effect = StaggeredEffect(
        method="callaway_santanna", estimate=simple.estimate, level=level,
        diagnostics=diagnostics, outcome=outcome_name,
        estimand="ATT averaged over all post-treatment (cohort, period) cells, weighted by "
                 "cohort size",
        n_treated=int(np.isfinite(data.g_ord).sum()), n_control=int((~np.isfinite(data.g_ord)).sum()),
        start=str(start),
        params={"panel": bool(panel), "control_group": control_group, "estimation": estimation,
                "covariates": list(covariates or []), "anticipation": int(anticipation),
                "base_period": base_period, "weights": weights, "cluster": cluster,
                "inference": inference, "n_draws": draws,
                "weights_type": weights_type if draws else None,
                "random_state": random_state if isinstance(random_state, (int, type(None)))
                else "Generator"},
        att_gt=table, _cell_influence=influence, _design=design,
        **normal_summary(simple.estimate, float(engine.standard_errors(simple.influence[:, None], simple.form)[0][0]),
                         level),
    )
    effect.path = effect.aggregate("dynamic").path
    return effect
