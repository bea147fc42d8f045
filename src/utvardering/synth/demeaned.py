"""Demeaned synthetic control: ``synthetic_control(..., demean=True)``.

Every unit's outcome (its rate when ``rate`` applies) has its own pre-period mean removed,
the synthetic control is fitted to that panel, and the treated unit's pre-period mean is added
back. The maths is on the methods page (``docs/methods/synthetic_control.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..study import Study
from .adh import concentration_warning, fit_study
from .result import SynthEffect, set_event_fields

__all__ = ["demeaned_synthetic_control", "pre_period_means"]


def pre_period_means(study: Study, y: pd.Series) -> pd.Series:
    """Each unit's mean of ``y`` (aligned with ``study.data``) over the periods before the start.

    Parameters
    ----------
    study : Study
        A design with one common start.
    y : pandas.Series
        Outcome values, one per row of ``study.data``.

    Returns
    -------
    pandas.Series
        Unit → pre-period mean (missing values skipped).
    """
    data = study.data
    pre = data[study.time] < study.start
    return y[pre].groupby(data.loc[pre, study.unit]).mean()


def _demeaned_column(data: pd.DataFrame, outcome: str) -> str:
    name = f"{outcome}_net_of_pre_mean"
    while name in data.columns:
        name += "_"
    return name


def demeaned_synthetic_control(study: Study, *, predictors=None, optimize_periods=None, v=None,
                               n_starts: int = 6, rate: bool = False, per: float = 100_000,
                               inference: str | None = "conformal", random_state=None,
                               level: float = 0.95, tie_break: str = "loss",
                               tie_tol: float = 0.1) -> SynthEffect:
    """Synthetic control on outcomes net of each unit's pre-period mean ("demeaned SC").

    With :math:`y_{jt}` the outcome (rate per ``per`` when ``rate``) and
    :math:`\\bar y_j = |T_0|^{-1} \\sum_{t < T_0} y_{jt}` its pre-period mean, the simplex
    weights :math:`w \\ge 0`, :math:`\\sum_j w_j = 1` are fitted to
    :math:`\\tilde y_{jt} = y_{jt} - \\bar y_j` (the outcome-only fit) and

    .. math:: \\hat y_{1t}(0) = \\bar y_1 + \\sum_j w_j \\tilde y_{jt},
              \\qquad \\hat\\tau_t = y_{1t} - \\hat y_{1t}(0) = \\tilde y_{1t} - \\sum_j w_j
              \\tilde y_{jt}.

    This is the synthetic control with an intercept (Doudchenko & Imbens 2016; the demeaned
    estimator of Ferman & Pinto 2021): a constant level difference between the treated unit
    and its synthetic control is allowed, as in DiD, so a treated unit above (or below) every
    donor can still be matched in its dynamics. The effect path is the same on both scales;
    observed and counterfactual are reported on the original scale, and the relative effect
    and the events difference are computed from them.

    Inference works on the demeaned panel: conformal inference (Chernozhukov, Wüthrich &
    Zhu 2021) and placebo-in-space refit the outcome synthetic control on :math:`\\tilde y`.
    The demeaning uses pre-period data only, so it does not change under a sharp null on the
    post-period effects: the conformal test on the demeaned panel is exactly the test of that
    null, with the same finite-sample guarantees. Placebo-in-time refits demean on the periods
    before the placebo start.

    Called by :func:`~utvardering.synth.adh.synthetic_control` with ``demean=True`` (use that);
    the arguments are the same, already validated.

    Parameters
    ----------
    study : Study
        One common start (several treated units with that start are averaged).
    predictors : None
        Must be None: the demeaned fit uses the outcome path only.
    optimize_periods, v, n_starts, rate, per, inference, random_state, level, tie_break, tie_tol :
        As in :func:`~utvardering.synth.adh.synthetic_control`; ``v`` may only be None or
        ``"outcome"``.

    Returns
    -------
    SynthEffect
        As :func:`~utvardering.synth.adh.synthetic_control`, with ``diagnostics["demean"]``
        True, ``diagnostics["pre_means"]`` (unit → pre-period mean, on the analysed scale) and
        ``diagnostics["treated_pre_mean"]``; ``unit_effects["counterfactual"]`` on the
        original scale.

    Raises
    ------
    DesignError
        With predictors, a predictor V, or staggered starts.

    References
    ----------
    Doudchenko, N. & Imbens, G. W. (2016). Balancing, regression, difference-in-differences
    and synthetic control methods: a synthesis. NBER Working Paper 22791.
    Ferman, B. & Pinto, C. (2021). Synthetic controls with imperfect pretreatment fit.
    *Quantitative Economics* 12(4), 1197–1221.
    Chernozhukov, V., Wüthrich, K. & Zhu, Y. (2021). An exact and robust conformal inference
    method for counterfactual and synthetic controls. *JASA* 116(536), 1849–1864.
    """
    if predictors is not None:
        raise DesignError("demean=True fits the outcome path only; drop predictors= (or fit in "
                          "levels with demean=False).")
    if v is not None and not (isinstance(v, str) and v == "outcome"):
        raise DesignError(f"v={v!r} weighs predictors, but demean=True fits the outcome path "
                          "only; drop v=.")
    if study.is_staggered:
        raise DesignError("demean=True needs one common start (the pre-period means are taken "
                          "before it); fit each cohort separately with study.replace(treated=..., "
                          "start=...).")
    data = study.data.copy()
    y = data[study.outcome] / data[study.exposure] * per if rate else data[study.outcome]
    means = pre_period_means(study, y)
    column = _demeaned_column(data, study.outcome)
    data[column] = y - data[study.unit].map(means)
    inner = study.replace(data=data, outcome=column, exposure=None, counts=False)
    shifts = means.reindex(study.treated).to_numpy(dtype=float)

    def warn(fit, y_tilde, Y0, pre, unit, donors):
        return _fit_warning(study, data, y, unit, fit, rate, per) \
            + concentration_warning(fit, unit, donors)

    fit = fit_study(inner, predictors=None, optimize_periods=optimize_periods, v=v,
                    n_starts=n_starts, rate=False, per=per, inference=inference,
                    random_state=random_state, level=level, tie_break=tie_break,
                    tie_tol=tie_tol, warn=warn)
    shift = float(shifts.mean())
    for name in ("observed", "counterfactual"):
        fit.path[name] = fit.path[name] + shift
    fit.unit_effects["counterfactual"] = fit.unit_effects["counterfactual"] + shifts
    post = list(study.post_times)
    cf = float(fit.path.loc[post, "counterfactual"].mean())
    fit.relative = fit.estimate / cf if cf else None
    fit.relative_interval = None
    if fit.relative is not None and np.all(np.isfinite(fit.interval)):
        fit.relative_interval = (fit.interval[0] / cf, fit.interval[1] / cf)
    events = _events(study, data, fit, post, rate, per)
    fit.events_prevented = fit.events_prevented_interval = None
    fit.rate_ratio = fit.rate_ratio_interval = None
    fit.diagnostics.pop("events_difference", None)
    fit.diagnostics.pop("events_prevented", None)
    if events is not None:
        set_event_fields(fit, *events)
    fit.diagnostics.update(demean=True, treated_pre_mean=shift,
                           pre_means={str(u): float(m) for u, m in means.items()})
    fit.outcome = study.outcome
    fit.scale = f"rate per {per:,.0f}" if rate else "outcome units"
    fit.estimand = ("average gap treated − synthetic over the post-period, "
                    + (f"rates per {per:,.0f}" if rate else "outcomes")
                    + " net of each unit's pre-period mean (demeaned synthetic control)")
    fit.params = {**fit.params, "rate": rate, "demean": True}
    fit.spec.update(rate=rate, demean=True, shift=shift)
    fit.study = study
    return fit


def _fit_warning(study: Study, data: pd.DataFrame, y: pd.Series, unit, fit, rate: bool,
                 per: float) -> list:
    """Poor pre-period fit, judged against the treated unit's level on the original scale."""
    rows = (data[study.unit] == unit) & (data[study.time] < study.start)
    level = float(np.mean(np.abs(y[rows])))
    rmspe = float(np.sqrt(fit.pre_mspe))
    if not (level > 0 and rmspe > 0.1 * level):
        return []
    if rate and study.is_count:
        # Poisson sd of a rate per `per` with mean `level` and population `pop`: sqrt(level per / pop)
        pop = float(data.loc[rows, study.exposure].mean())
        every = {"M": "monthly ", "Q": "quarterly ", "Y": "yearly ", "A": "yearly "}.get(
            str(study.freq or "")[:1], "")
        return [f"{unit}: pre-period RMSPE {rmspe:.3g} is {rmspe / level:.0%} of its mean rate; "
                f"{every}counts this small are noisy (Poisson noise alone gives about "
                f"{np.sqrt(level * per / pop):.2g})."]
    return [f"{unit}: poor pre-period fit (RMSPE {rmspe:.3g} is {rmspe / level:.0%} of the mean "
            "outcome level); the demeaned synthetic unit does not track the treated unit's "
            "dynamics before the start."]


def _events(study: Study, data: pd.DataFrame, fit: SynthEffect, post: list, rate: bool,
            per: float) -> tuple[float, float] | None:
    """Treated − synthetic and observed events over the post-period (counts, or rates ×
    exposure / per)."""
    if not (rate or study.is_count):
        return None
    if len(study.treated) == 1:
        gaps = {study.treated[0]: fit.path.loc[post, "effect"]}
    else:
        Y = fit.spec["Y"]
        weights = fit.unit_weights
        gaps = {u: (Y.loc[u] - weights[u].to_numpy() @ Y.loc[list(study.donors)].to_numpy()
                    ).reindex(post) for u in study.treated}
    events = observed = 0.0
    for u, gap in gaps.items():
        rows = data[data[study.unit] == u].set_index(study.time)
        if rate:
            pop = rows[study.exposure].reindex(post)
            events += float((gap * pop / per).sum())
        else:
            events += float(gap.sum())
        observed += float(rows[study.outcome].reindex(post).sum())
    return events, observed
