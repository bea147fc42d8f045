"""Two-way fixed effects: the static DiD regression and the event study.

Static model (unit effects :math:`\\alpha_i`, period effects :math:`\\lambda_t`, treatment
:math:`D_{it}`, covariates :math:`x_{it}`, optional weights):

.. math:: y_{it} = \\alpha_i + \\lambda_t + \\beta D_{it} + x_{it}'\\gamma + u_{it}.

Event study (event time :math:`e = t - s_i` for a unit first treated at :math:`s_i`):

.. math:: y_{it} = \\alpha_i + \\lambda_t + \\sum_{e \\ne r} \\beta_e 1[t - s_i = e] + u_{it},

with reference period :math:`r` (default −1) and, optionally, the end points binned
(:math:`e \\le -L` and :math:`e \\ge K` pooled). Fixed effects are absorbed by alternating
projections; standard errors are cluster-robust (CR1 like ``fixest``/Stata, or CR2).
See the methods page ``docs/methods/did.md`` for assumptions and failure modes (negative
weights under staggered timing: :func:`~utvardering.did.bacon.bacon_decomposition`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..estimators import register_estimator
from ..inference.cluster import few_cluster_warnings
from ..options import check_level, check_option
from ._design import (
    event_time_bins,
    event_time_dummies,
    panel_design,
    renamed_first_argument,
)
from .event_balanced import balanced_cells, fit_event_study_balanced
from .fe_regression import (
    Inference,
    apply_inference,
    cluster_counts,
    counterfactual_mean,
    fit_fe_regression,
    guard_inference,
    spread,
)
from .result import DiDEffect, pretrend_test, pretrend_warnings

__all__ = ["event_study", "twfe"]

@register_estimator("twfe", family="did",
                    summary="Two-way fixed effects DiD regression with cluster-robust inference")
@renamed_first_argument("data")
def twfe(
    study,
    *,
    covariates=None,
    weights: str | None = None,
    fixed_effects=(),
    cluster: str | None = None,
    vcov: Literal["CR1", "CR2"] = "CR1",
    inference: Inference = "cluster",
    n_draws: int = 9999,
    weights_type: Literal["rademacher", "webb"] = "rademacher",
    ri_scheme: Literal["units", "cohorts"] = "units",
    log_outcome: bool = False,
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    **design: Any,
) -> DiDEffect:
    """Static two-way fixed effects DiD: :math:`y_{it} = \\alpha_i + \\lambda_t + \\beta D_{it} + x'\\gamma + u`.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        A :class:`~utvardering.study.Study` (excluded units left out), or a long panel with
        the Study keywords in ``**design`` (``outcome=``, ``unit=``, ``time=``, and
        ``treated=`` + ``start=``, ``starts=``, ``cohort=`` or ``treatment=``,
        ``min_pre_periods=``, ...). :math:`D_{it}` is the Study's ``treatment`` column where
        it has one — a 0/1 or dose column, which may switch off again — else 1 from each
        treated unit's start to the Study's ``end``. A DataFrame with ``treatment=`` is read
        with ``allow_gaps=True`` and ``min_pre_periods=0`` unless given (an unbalanced panel
        and units treated in every period are fine for the regression).
    covariates : list of str, optional
        Time-varying controls (collinear ones are dropped and listed in diagnostics); default
        the Study's ``covariates``.
    weights : str, optional
        Regression weights column (e.g. population).
    fixed_effects : sequence of str, optional
        Further fixed effects to absorb (e.g. a region-by-year column).
    cluster : str, optional
        Cluster column (default: the unit).
    vcov : {"CR1", "CR2"}, default "CR1"
        Cluster-robust variance (CR1: Stata/``fixest`` small-sample factor).
    inference : {"cluster", "wild", "randomization"}, default "cluster"
        ``"wild"``: p-value and interval from the restricted wild cluster bootstrap
        (:func:`~utvardering.inference.wild_bootstrap.wild_cluster_bootstrap`).
        ``"randomization"``: randomization p-value reassigning start dates across units
        (:func:`~utvardering.inference.randomization.permutation_test`; exact enumeration with
        one treated unit) and, with one treated unit and no covariates, the Conley–Taber
        interval; otherwise the cluster-robust interval is kept.
    n_draws : int, default 9999
        Wild bootstrap draws (or random reassignments for randomization inference).
    ri_scheme : {"units", "cohorts"}, default "units"
        What randomization inference reassigns.
    weights_type : {"rademacher", "webb"}
        Wild bootstrap weights.
    log_outcome : bool, default False
        The outcome is a logarithm: ``relative`` is then :math:`e^{\\beta} - 1`.
    level : float, default 0.95
        Interval coverage.
    random_state : int or numpy.random.Generator, optional
        Seed for the wild bootstrap or randomization inference.
    **design
        Study keywords when ``study`` is a DataFrame (see above), e.g. ``treatment="d"``.

    Returns
    -------
    DiDEffect
        ``estimate`` is :math:`\\hat\\beta`; interval from :math:`t_{G-1}` (or the
        bootstrap); ``coefficients`` and ``vcov`` hold every regressor.

    Notes
    -----
    With staggered adoption and effects that change over time, :math:`\\hat\\beta` is a
    weighted average of 2×2 comparisons some of which use already-treated units as controls
    (Goodman-Bacon 2021); see :func:`~utvardering.did.bacon.bacon_decomposition` and the
    staggered estimators.

    References
    ----------
    Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, ch. 5.
    Cameron, A. C. & Miller, D. L. (2015). *Journal of Human Resources* 50(2), 317–372.
    """
    check_option("inference", inference, Inference)
    check_option("vcov", vcov, ("CR1", "CR2"))
    check_option("weights_type", weights_type, ("rademacher", "webb"))
    check_option("ri_scheme", ri_scheme, ("units", "cohorts"))
    level = check_level(level)
    design = panel_design(study, where="twfe", covariates=covariates, weights=weights,
                          cluster=cluster, extra=tuple(fixed_effects), **design)
    frame = design.frame
    regs = pd.concat([pd.DataFrame({"treatment": design.treat}),
                      frame[design.covariates]], axis=1)
    res = fit_fe_regression(design, regs, fixed_effects=fixed_effects, vcov=vcov, level=level)
    if "treatment" not in res.names:
        raise DesignError("the treatment is collinear with the fixed effects: no unit changes "
                          "treatment status within the sample.")
    row = res.table.loc["treatment"]
    beta, se = float(row["estimate"]), float(row["se"])
    treated_mask = design.treat != 0
    n_cl, n_tr = cluster_counts(design, treated_mask)
    warn = few_cluster_warnings(n_cl, n_tr)
    diagnostics = {"n_obs": len(frame), "n_clusters": n_cl, "n_treated_clusters": n_tr,
                   "vcov": vcov, "df": res.df, "dropped_collinear": res.dropped,
                   "left_out_units": [str(u) for u in design.left_out], "warnings": warn}
    interval, p_value = apply_inference(design, res, inference, diagnostics, n_draws=n_draws,
                                        weights_type=weights_type, ri_scheme=ri_scheme,
                                        level=level, random_state=random_state)
    se, interval, p_value = guard_inference(beta, se, interval, p_value, warn,
                                            spread=spread(res.y), check_se=inference == "cluster")
    relative = rel_int = None
    if log_outcome:
        relative, rel_int = float(np.expm1(beta)), tuple(float(np.expm1(v)) for v in interval)
    else:
        base = counterfactual_mean(design, treated_mask, beta)
        if base > 0 and np.isfinite(beta):
            relative, rel_int = beta / base, (interval[0] / base, interval[1] / base)
    return DiDEffect(
        method="twfe", estimate=beta, interval=interval, level=level, se=se, relative=relative,
        relative_interval=rel_int, p_value=p_value, diagnostics=diagnostics,
        outcome=design.outcome, scale="log points" if log_outcome else "outcome units",
        estimand="weighted average of treated-period effects (TWFE coefficient)",
        n_treated=len(design.treated_units), n_control=design.n_units - len(design.treated_units),
        start=design.start, coefficients=res.table,
        vcov=pd.DataFrame(res.vcov, index=res.names, columns=res.names),
        params={"vcov": vcov, "inference": inference, "weights": design.weights,
                "fixed_effects": list(fixed_effects), "cluster": design.cluster,
                "covariates": design.covariates,
                "n_draws": n_draws if inference in ("wild", "randomization") else None},
    )


@register_estimator("event_study", family="did",
                    summary="TWFE event study (leads and lags) with a joint pre-trend test")
@renamed_first_argument("data")
def event_study(
    study,
    *,
    leads: int | None = None,
    lags: int | None = None,
    reference: int = -1,
    bin_endpoints: bool = True,
    covariates=None,
    weights: str | None = None,
    fixed_effects=(),
    cluster: str | None = None,
    vcov: Literal["CR1", "CR2"] = "CR1",
    inference: Literal["cluster", "wild"] = "cluster",
    n_draws: int = 9999,
    weights_type: Literal["rademacher", "webb"] = "rademacher",
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    **design: Any,
) -> DiDEffect:
    """TWFE event study with leads and lags relative to each unit's start.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        As for :func:`twfe`. A ``treatment=`` column must be 0/1 and stay on once it starts
        (a unit's start is its first treated period); a dose or a treatment that switches
        off is refused, naming the unit and period
        (:meth:`~utvardering.study.Study.require_absorbing`).
    leads : int, optional
        Earliest event time shown is ``-leads`` (default: all).
    lags : int, optional
        Latest event time shown (default: all).
    reference : int, default -1
        Omitted (normalised) event time.
    bin_endpoints : bool, default True
        Pool event times beyond the window into the end bins; if false, treated observations
        outside the window are dropped (and counted in diagnostics).
    covariates, weights, fixed_effects, cluster, vcov, level
        As for :func:`twfe`.
    inference : {"cluster", "wild"}, default "cluster"
        How the interval and p-value of the overall ``estimate`` are made: cluster-robust
        :math:`t_{G-1}`, or the restricted wild cluster bootstrap of the weighted average of
        the post-period coefficients (:func:`~utvardering.inference.wild_bootstrap.wild_cluster_bootstrap`
        after reparametrising it as one coefficient). The event-time intervals of ``path``
        are cluster-robust either way.
    n_draws, weights_type, random_state : optional
        Wild bootstrap settings, as for :func:`twfe`.
    **design
        Study keywords when ``study`` is a DataFrame, as for :func:`twfe`.

    Returns
    -------
    DiDEffect
        ``event_study`` (index ``event_time``: estimate, se, low, high, n_obs) and ``path``
        (effect, low, high); ``estimate`` is the average of the post-period coefficients
        weighted by treated observations per bin; ``diagnostics["pretrend"]`` is the joint
        Wald test of the leads (F with ``G - 1`` denominator df and χ²), also returned by
        :meth:`DiDEffect.pretrend`.

    Notes
    -----
    Event time counts periods since each unit's first treated period; a Study's ``end``
    (treatment switching off) is not modelled here — restrict ``window=`` to the periods
    in force, or read late event times as effects after the end.

    References
    ----------
    Freyaldenhoven, S., Hansen, C., Pérez, J. P. & Shapiro, J. M. (2021). Visualization,
    identification, and estimation in the linear panel event-study design. NBER WP 29170.
    Roth, J. (2022). Pretest with caution. *AER: Insights* 4(3), 305–322.
    """
    check_option("inference", inference, ("cluster", "wild"))
    check_option("vcov", vcov, ("CR1", "CR2"))
    check_option("weights_type", weights_type, ("rademacher", "webb"))
    level = check_level(level)
    design = panel_design(study, where="event_study", covariates=covariates, weights=weights,
                          cluster=cluster, extra=tuple(fixed_effects), absorbing=True, **design)
    binned, bins, outside = event_time_bins(design.event, leads=leads, lags=lags,
                                            reference=reference, bin_endpoints=bin_endpoints)
    cells = None
    if (design.weights is None and not design.covariates and not fixed_effects
            and design.cluster == design.unit and vcov == "CR1" and inference == "cluster"
            and not outside.any()):
        cells = balanced_cells(design)
    if cells is not None:  # cohort × period cells: time O(N·T·K), no N·T × K dummy matrix
        res, counts = fit_event_study_balanced(design, binned, bins, *cells, level=level)
    else:
        dummies, bins, outside = event_time_dummies(design.event, leads=leads, lags=lags,
                                                    reference=reference,
                                                    bin_endpoints=bin_endpoints)
        if outside.any():
            keep = ~outside
            design.subset(keep)
            dummies = dummies.loc[keep].reset_index(drop=True)
        regs = pd.concat([dummies, design.frame[design.covariates]], axis=1)
        res = fit_fe_regression(design, regs, fixed_effects=fixed_effects, vcov=vcov, level=level)
        counts = dummies.sum()
    frame = design.frame
    rows = []
    for b in [*bins, reference]:
        name = f"event_time[{b}]"
        if b == reference:
            rows.append((b, 0.0, np.nan, np.nan, np.nan, np.nan))
        elif name in res.names:
            r = res.table.loc[name]
            rows.append((b, r["estimate"], r["se"], r["low"], r["high"], counts[name]))
    table = pd.DataFrame(rows, columns=["event_time", "estimate", "se", "low", "high", "n_obs"])
    table = table.set_index("event_time").sort_index()
    vcov_frame = pd.DataFrame(res.vcov, index=res.names, columns=res.names)
    post = [f"event_time[{b}]" for b in bins if b >= 0 and f"event_time[{b}]" in res.names]
    weights_post = counts[post].to_numpy(float)
    a = weights_post / weights_post.sum()
    est = float(a @ table.loc[[b for b in bins if f"event_time[{b}]" in post], "estimate"])
    se = float(np.sqrt(a @ vcov_frame.loc[post, post].to_numpy() @ a))
    from scipy import stats

    crit = stats.t(res.df).ppf(0.5 + level / 2)
    pre = pretrend_test(table, vcov_frame, reference, res.df)
    treated_mask = np.isfinite(design.event)
    n_cl, n_tr = cluster_counts(design, treated_mask)
    warn = few_cluster_warnings(n_cl, n_tr)
    warn += pretrend_warnings(pre, n_tr)
    path = table.rename(columns={"estimate": "effect"})[["effect", "low", "high"]]
    interval = (est - crit * se, est + crit * se)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = float(2 * stats.t(res.df).sf(abs(est / se)))
    diagnostics = {"n_obs": len(frame), "n_clusters": n_cl, "n_treated_clusters": n_tr,
                   "vcov": vcov, "df": res.df, "pretrend": pre, "pretrend_p_value": pre["p_F"],
                   "dropped_collinear": res.dropped, "dropped_outside_window": int(outside.sum()),
                   "warnings": warn}
    if inference == "wild":
        wb = _wild_average(res, [res.names.index(c) for c in post], a, n_draws=n_draws,
                           weights_type=weights_type, level=level, random_state=random_state)
        diagnostics["wild_bootstrap"] = wb.to_dict()
        interval, p_value = wb.interval, wb.p_value
    se, interval, p_value = guard_inference(est, se, interval, p_value, warn, spread=spread(res.y),
                                            check_se=inference == "cluster")
    return DiDEffect(
        method="event_study", estimate=est, interval=interval,
        level=level, se=se, p_value=p_value, path=path, diagnostics=diagnostics,
        outcome=design.outcome, scale="outcome units",
        estimand="average of post-period event-time effects (weighted by treated observations)",
        n_treated=len(design.treated_units), n_control=design.n_units - len(design.treated_units),
        start=design.start, coefficients=res.table, vcov=vcov_frame, event_study=table,
        params={"reference": reference, "leads": leads, "lags": lags,
                "bin_endpoints": bin_endpoints, "vcov": vcov, "weights": design.weights,
                "cluster": design.cluster, "fixed_effects": list(fixed_effects),
                "inference": inference, "n_draws": n_draws if inference == "wild" else None},
    )


def _wild_average(res, columns: list[int], a: np.ndarray, **options):
    """Wild cluster bootstrap of :math:`a'\\beta` over ``columns`` of a fixed-effects fit.

    The regressors are reparametrised so that one coefficient is the weighted average:
    with :math:`j_0` the first column, :math:`\\tilde X_{j_0} = X_{j_0}/a_{j_0}` and
    :math:`\\tilde X_j = X_j - X_{j_0} a_j / a_{j_0}` for the other averaged columns, the
    coefficient on :math:`\\tilde X_{j_0}` is :math:`\\sum_j a_j\\beta_j` and the fit is
    unchanged.
    """
    from ..inference.wild_bootstrap import wild_cluster_bootstrap

    X = np.array(res.X, dtype=float, copy=True)
    j0 = columns[0]
    base = X[:, j0].copy()
    for j, aj in zip(columns[1:], a[1:]):
        X[:, j] = X[:, j] - base * aj / a[0]
    X[:, j0] = base / a[0]
    return wild_cluster_bootstrap(res.y, X, res.clusters, param=j0, absorber=res.absorber,
                                  **options)
