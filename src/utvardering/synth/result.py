"""Synthetic-control results, one module for the family: :class:`SynthEffect` (ADH and
demeaned), :class:`AugmentedSynthEffect` (augmented and penalized SC; a SynthEffect),
:class:`SyntheticDiDEffect` and :class:`BayesianSynthEffect`.

All are :class:`~utvardering.Effect` subclasses. SynthEffect (and so AugmentedSynthEffect) keeps
the fitted study and the fit's specification with its refit callables (not serialised), which
the robustness methods (:mod:`~utvardering.synth.robustness`) use to refit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import DesignError
from . import robustness

__all__ = ["AugmentedSynthEffect", "BayesianSynthEffect", "SynthEffect", "SyntheticDiDEffect",
           "set_event_fields"]


def set_event_fields(effect: Effect, events: float | None, observed: float | None) -> None:
    """Fill ``events_prevented(_interval)`` and ``rate_ratio(_interval)`` of a synth effect.

    Parameters
    ----------
    effect : Effect
        A synth result with those four fields; its ``estimate`` and ``interval`` are read.
    events : float or None
        Treated − counterfactual events over the post-period (None: not a count outcome).
    observed : float or None
        Observed events of the treated units over the post-period.

    Notes
    -----
    The events interval is the effect interval converted with the same factor
    (events / estimate; the effect is an average over post-periods of the events per period
    up to the exposure weights); the rate ratio is observed / counterfactual events,
    :math:`O / (O - \\Delta)`, and its interval follows from the events interval.
    """
    if events is None:
        return
    effect.events_prevented = -float(events)
    effect.diagnostics["events_difference"] = float(events)
    effect.diagnostics["events_prevented"] = -float(events)
    lo = hi = None
    if np.all(np.isfinite(effect.interval)) and effect.estimate != 0:
        factor = events / effect.estimate
        lo, hi = sorted((effect.interval[0] * factor, effect.interval[1] * factor))
        effect.events_prevented_interval = (-hi, -lo)
    if observed is not None and observed - events > 0:
        effect.rate_ratio = float(observed / (observed - events))
        if lo is not None and observed - hi > 0 and observed - lo > 0:
            effect.rate_ratio_interval = (float(observed / (observed - lo)),
                                          float(observed / (observed - hi)))


@dataclass(repr=False)
class SynthEffect(Effect):
    """Result of :func:`~utvardering.synth.adh.synthetic_control`.

    Besides the :class:`~utvardering.Effect` fields (``estimate`` = average post-period gap
    treated − synthetic, ``path`` with ``observed``, ``counterfactual``, ``effect`` and, with
    conformal inference, pointwise ``low``/``high``):

    Attributes
    ----------
    weights : pandas.Series
        Donor → weight (non-negative, summing to one; averaged over treated units when there
        are several).
    v_weights : pandas.Series or None
        Predictor → weight V (None for the outcome-only fit). Pass it to another fit as
        ``v=effect.v_weights``.
    predictor_balance : pandas.DataFrame or None
        One row per predictor: ``treated``, ``synthetic``, ``donor_mean`` (unscaled) and ``v``.
    pre_rmspe : float or None
        Root mean squared gap over all pre-periods.
    unit_weights : pandas.DataFrame or None
        Donor × treated-unit weights (several treated units).
    unit_effects : pandas.DataFrame or None
        Per treated unit: start, estimate, pre_rmspe.
    study : Study or None
        The study the effect was fitted on (not serialised; needed by the refitting methods).
    spec : dict or None
        The fit's options (not serialised; needed by the refitting methods).
    """

    weights: pd.Series | None = None
    v_weights: pd.Series | None = None
    predictor_balance: pd.DataFrame | None = None
    pre_rmspe: float | None = None
    unit_weights: pd.DataFrame | None = None
    unit_effects: pd.DataFrame | None = None
    events_prevented: float | None = None
    events_prevented_interval: tuple[float, float] | None = None
    rate_ratio: float | None = None
    rate_ratio_interval: tuple[float, float] | None = None
    study: Any = None
    spec: dict | None = None

    _transient: ClassVar[tuple[str, ...]] = ("study", "spec")

    @property
    def gap(self) -> pd.Series:
        """The gap path (treated − synthetic) over all periods."""
        return self.path["effect"]

    def refit_state(self, what: str):
        """``(study, spec)``: what the robustness methods refit with.

        Raises
        ------
        DesignError
            For a result rebuilt from a dict (it carries no data).
        """
        if self.study is None or self.spec is None:
            raise DesignError(
                f"{what} refits the model, but this result was rebuilt from a dict and carries no "
                f"data; rerun {self.method.split(' ')[0]}(...) and call it on that result."
            )
        return self.study, self.spec

    def placebo_in_space(self, **kwargs: Any):
        """Every donor in turn as a placebo treated unit; see :func:`~utvardering.synth.robustness.placebo_in_space`."""
        return robustness.placebo_in_space(self, **kwargs)

    def placebo_in_time(self, start: Any, **kwargs: Any) -> SynthEffect:
        """Refit with a fake earlier start; see :func:`~utvardering.synth.robustness.placebo_in_time`."""
        return robustness.placebo_in_time(self, start, **kwargs)

    def leave_one_out(self, **kwargs: Any):
        """Refit without each positive-weight donor; see :func:`~utvardering.synth.robustness.leave_one_out`."""
        return robustness.leave_one_out(self, **kwargs)

    def conformal(self, **kwargs: Any):
        """Conformal inference (Chernozhukov–Wüthrich–Zhu); see :func:`~utvardering.synth.robustness.conformal`."""
        return robustness.conformal(self, **kwargs)

    def summary(self) -> str:
        """Readable text table; says which model the interval and p-value come from."""
        text = super().summary()
        source = self.diagnostics.get("inference_model")
        if source:
            lines = text.split("\n")
            at = next((i for i, line in enumerate(lines) if line.startswith("Design:")), len(lines))
            lines.insert(at, f"Interval and p-value: {source}")
            text = "\n".join(lines)
        return text

    def plot(self, ax=None, kind: str = "path", **kwargs: Any):
        """Standard figures.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or sequence of Axes, optional
            Axes to draw on.
        kind : {"path", "weights"}, default "path"
            ``"path"``: treated vs synthetic with the start marked, and the gap;
            ``"weights"``: donor-weight bars.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..plotting import synth as synth_plots

        if kind == "weights":
            return synth_plots.plot_weights(self, ax=ax, **kwargs)
        if kind != "path":
            raise ValueError(f"kind must be 'path' or 'weights', got {kind!r}.")
        return synth_plots.plot_synth(self, ax=ax, **kwargs)


@dataclass(repr=False)
class AugmentedSynthEffect(SynthEffect):
    """Result of :func:`augmented_synthetic_control` (and of penalized synthetic control).

    Attributes
    ----------
    weights : pandas.Series
        Final donor weights (augmented: may be negative; they sum to one). Several treated
        units: averaged.
    synth_weights : pandas.Series
        The simplex (synthetic control) part.
    penalty : float
        The ridge :math:`\\lambda` (ASCM) or pairwise penalty :math:`\\lambda` (penalized SC),
        averaged over treated units.
    cv : pandas.DataFrame
        Cross-validation curve: ``lambda``, ``error``, ``se`` (first treated unit).
    unit_effects : pandas.DataFrame
        Per treated unit: ``start``, ``estimate``, ``synth_estimate``, ``penalty``, ``pre_rmspe``.
    study : Study or None
        The study the effect was fitted on (not serialised; needed by the refitting methods).
    spec : dict or None
        The fitted outcome table, covariates and refitting functions (not serialised).
    """

    synth_weights: pd.Series | None = None
    penalty: float | None = None
    cv: pd.DataFrame | None = None

    def placebo_in_time(self, start: Any, **kwargs: Any) -> SynthEffect:
        """Not available: refit with ``study.replace(start=..., window=(None, last_pre))``."""
        raise DesignError(f"placebo_in_time reruns synthetic_control; for {self.method} refit "
                          "with study.replace(start=..., window=(None, last_pre)) instead.")


def assemble(study, table: pd.DataFrame, exposure, scale: str, fits: dict, *, method: str,
             estimand: str, level: float, se: str | None, jack: dict, per: float, params: dict,
             warnings: list[str], spec: dict | None = None) -> AugmentedSynthEffect:
    """Average per-unit fits ``{unit: (weights, synth_weights, penalty, cv, y, Y0, pre, post)}``."""
    times = list(table.columns)
    rows, paths = [], []
    events = observed = 0.0
    for u, (w, ws, pen, _cv, y, Y0, pre, post) in fits.items():
        cf = w @ Y0
        gap = y - cf
        rows.append({"unit": u, "start": str(study.starts[u]), "estimate": float(gap[post].mean()),
                     "synth_estimate": float((y - ws @ Y0)[post].mean()), "penalty": pen,
                     "pre_rmspe": float(np.sqrt(np.mean(gap[pre] ** 2))),
                     "counterfactual": float(cf[post].mean())})
        lo, hi = Y0[:, pre].min(axis=0), Y0[:, pre].max(axis=0)
        outside = float(np.mean((y[pre] > hi) | (y[pre] < lo)))
        if outside > 0.5:
            warnings.append(
                f"{u} lies outside the donors' range in {outside:.0%} of pre-periods: weights on "
                "the simplex cannot fit its level and the estimate may be biased; try "
                "fixedeff=True (augmented SC) or synthetic_did, and check pre_rmspe.")
        k = int(pre.sum())
        paths.append(pd.DataFrame({"event_time": np.arange(len(times)) - k, "time": times,
                                   "observed": y, "counterfactual": cf, "effect": gap}))
        if study.is_count:
            post_times = [t for t, p in zip(times, post) if p]
            scale_u = exposure.loc[u, post_times].to_numpy() / per if exposure is not None else 1.0
            events += float(np.sum(gap[post] * scale_u))
            observed += float(np.sum(y[post] * scale_u))
    effects = pd.DataFrame(rows).set_index("unit")
    estimate = float(effects["estimate"].mean())
    long = pd.concat(paths)
    if study.is_staggered:
        path = long.drop(columns="time").groupby("event_time").mean()
    else:
        path = long.drop(columns="event_time").groupby("time").mean()
        if isinstance(times[0], pd.Period):
            path.index = pd.PeriodIndex(path.index, name="time")
    first = next(iter(fits.values()))
    donors = pd.Index(study.donors, name="donor")
    weights = pd.Series(np.mean([f[0] for f in fits.values()], axis=0), index=donors, name="weight")
    synth = pd.Series(np.mean([f[1] for f in fits.values()], axis=0), index=donors, name="weight")
    se_value, interval, p_value = None, (math.nan, math.nan), None
    if se == "jackknife":
        draws = np.array(jack["draws"])
        n = draws.size
        se_value = float(np.sqrt((n - 1) / n * np.sum((draws - draws.mean()) ** 2)))
        z = NormalDist().inv_cdf(0.5 + level / 2)
        interval = (estimate - z * se_value, estimate + z * se_value)
        p_value = float(2 * (1 - NormalDist().cdf(abs(estimate) / se_value))) if se_value > 0 else None
    cf_mean = float(effects["counterfactual"].mean())
    relative = estimate / cf_mean if cf_mean else None
    rel_int = (interval[0] / cf_mean, interval[1] / cf_mean) if relative is not None and se else None
    diagnostics: dict[str, Any] = {
        "pre_rmspe": float(effects["pre_rmspe"].mean()),
        "synth_estimate": float(effects["synth_estimate"].mean()),
        "bias_correction": estimate - float(effects["synth_estimate"].mean()),
        "negative_weight_share": float(np.clip(-weights.to_numpy(), 0, None).sum()),
        "warnings": warnings,
    }
    effect = AugmentedSynthEffect(
        method=method, estimate=estimate, interval=interval, level=level, se=se_value,
        relative=relative, relative_interval=rel_int, p_value=p_value, path=path,
        diagnostics=diagnostics, outcome=study.outcome, scale=scale, estimand=estimand,
        n_treated=len(fits), n_control=len(study.donors), start=str(study.start),
        params={**params, "time_column": study.time},
        weights=weights, synth_weights=synth, penalty=float(effects["penalty"].mean()),
        cv=first[3], unit_effects=effects.drop(columns="counterfactual"), study=study, spec=spec,
    )
    if study.is_count:
        set_event_fields(effect, events, observed)
    return effect


def _index(times: list, name: str) -> pd.Index:
    if times and isinstance(times[0], pd.Period):
        return pd.PeriodIndex(times, name=name)
    return pd.Index(times, name=name)


def build_effect(study, fits: dict, Ywide: pd.DataFrame, data: pd.DataFrame, spec: dict,
                 warn) -> SynthEffect:
    """Assemble a :class:`SynthEffect` from per-unit fits (used by ``synthetic_control``)."""
    units, times = list(Ywide.index), list(Ywide.columns)
    Y = Ywide.to_numpy(dtype=float)
    donors = list(study.donors)
    didx = [units.index(d) for d in donors]
    warnings_, rows, wcols, vcols, balances = [], [], {}, {}, []
    events = observed = 0.0
    for u, (fit, pre, post, labels, X) in fits.items():
        i = units.index(u)
        warnings_ += warn(fit, Y[i], Y[didx], pre, u, donors)
        rows.append({"unit": u, "start": str(study.starts[u]),
                     "estimate": float(fit.gap[post].mean()),
                     "pre_rmspe": float(np.sqrt(fit.pre_mspe)),
                     "counterfactual": float(fit.synthetic[post].mean())})
        wcols[u] = pd.Series(fit.w, index=donors)
        if labels and fit.v.size:
            vcols[u] = pd.Series(fit.v, index=labels)
            balances.append(pd.DataFrame({
                "treated": X[:, i], "synthetic": X[:, didx] @ fit.w,
                "donor_mean": X[:, didx].mean(axis=1), "v": fit.v}, index=pd.Index(labels, name="predictor")))
        if study.exposure and spec["rate"]:
            pop = data.pivot(index=study.unit, columns=study.time, values=study.exposure)
            scale_u = pop.loc[u, list(np.array(times)[post])].to_numpy() / spec["per"]
            events += float((fit.gap[post] * scale_u).sum())
            observed += float((Y[i][post] * scale_u).sum())
        elif study.is_count:
            events += float(fit.gap[post].sum())
            observed += float(Y[i][post].sum())
    unit_effects = pd.DataFrame(rows).set_index("unit")
    estimate = float(unit_effects["estimate"].mean())
    counterfactual = float(unit_effects["counterfactual"].mean())
    single = len(fits) == 1
    if study.is_staggered:
        frames = []
        for u, (fit, _pre, _post, _l, _x) in fits.items():
            k = times.index(study.starts[u])
            frames.append(pd.DataFrame({"event_time": np.arange(len(times)) - k,
                                        "observed": Y[units.index(u)],
                                        "counterfactual": fit.synthetic, "effect": fit.gap}))
        path = pd.concat(frames).groupby("event_time").mean()
    else:
        stack = np.array([[Y[units.index(u)], f[0].synthetic, f[0].gap] for u, f in fits.items()])
        mean = stack.mean(axis=0)
        path = pd.DataFrame({"observed": mean[0], "counterfactual": mean[1], "effect": mean[2]},
                            index=_index(times, "time"))
    weights = pd.DataFrame(wcols).mean(axis=1).rename("weight")
    weights.index.name = "donor"
    v_weights = pd.DataFrame(vcols).mean(axis=1).rename("v") if vcols else None
    if v_weights is not None:
        v_weights.index.name = "predictor"
    balance = balances[0] if single and balances else None
    first = next(iter(fits.values()))[0]
    diagnostics = {
        "pre_rmspe": float(unit_effects["pre_rmspe"].mean()) if not single else
        float(unit_effects["pre_rmspe"].iloc[0]),
        "pre_mspe": float(np.mean([f[0].pre_mspe for f in fits.values()])),
        "post_rmspe": float(np.mean([np.sqrt(f[0].post_mspe) for f in fits.values()])),
        "v_loss": float(np.mean([f[0].v_loss for f in fits.values()])),
        "v_method": first.method,
        "optimizer": {u: f[0].info for u, f in fits.items()},
        "max_weight": float(weights.max()),
        "n_positive_weights": int((weights > 1e-6).sum()),
        "warnings": warnings_,
    }
    if (study.exposure and spec["rate"]) or study.is_count:
        diagnostics["events_difference"] = events
        diagnostics["events_prevented"] = -events
        spec["events"] = (events, observed)
    interval, p_value = (float("nan"), float("nan")), None
    rel = estimate / counterfactual if counterfactual else None
    rel_int = (interval[0] / counterfactual, interval[1] / counterfactual) if rel is not None \
        and np.all(np.isfinite(interval)) else None
    scale = f"rate per {spec['per']:,.0f}" if spec["rate"] else "outcome units"
    params = {k: (repr(val) if k not in ("n_starts", "rate", "per", "level", "inference", "demean")
                  else val)
              for k, val in spec.items() if k not in ("Y", "events")}
    params["time_column"] = study.time
    return SynthEffect(
        method="synthetic_control", estimate=estimate, interval=interval, level=spec["level"],
        relative=rel, relative_interval=rel_int, p_value=p_value, path=path,
        diagnostics=diagnostics, outcome=study.outcome, scale=scale,
        estimand="average gap treated − synthetic over the post-period",
        n_treated=len(fits), n_control=len(donors), start=str(study.start), params=params,
        weights=weights, v_weights=v_weights, predictor_balance=balance,
        pre_rmspe=diagnostics["pre_rmspe"],
        unit_weights=pd.DataFrame(wcols) if not single else None,
        unit_effects=unit_effects, study=study, spec=spec)


@dataclass(repr=False)
class SyntheticDiDEffect(Effect):
    """Result of :func:`synthetic_did`.

    Attributes
    ----------
    weights : pandas.Series
        Unit weights :math:`\\hat\\omega` over the donors (staggered designs: the cohort
        weights averaged with the cohort weights :math:`N_g T_{\\mathrm{post},g}`).
    time_weights : pandas.Series
        Time weights :math:`\\hat\\lambda` over the pre-periods (``None`` when staggered).
    intercept : float
        The :math:`\\hat\\lambda`-weighted pre-period gap between the treated units and the
        weighted controls; ``counterfactual = weighted controls + intercept`` in ``path``.
    cohorts : pandas.DataFrame
        One row per adoption cohort: ``start``, ``n_treated``, ``n_post``, ``weight``,
        ``estimate``.
    cohort_weights : pandas.DataFrame
        Long table of every cohort's weights: ``start``, ``kind`` (``"unit"``/``"time"``),
        ``name``, ``weight``.
    replicates : numpy.ndarray
        The placebo / bootstrap / jackknife estimates behind ``se``.
    """

    weights: pd.Series | None = None
    time_weights: pd.Series | None = None
    intercept: float | None = None
    cohorts: pd.DataFrame | None = None
    cohort_weights: pd.DataFrame | None = None
    replicates: list | None = None
    events_prevented: float | None = None
    events_prevented_interval: tuple[float, float] | None = None
    rate_ratio: float | None = None
    rate_ratio_interval: tuple[float, float] | None = None

    def plot(self, ax=None, **kwargs: Any):
        """Treated vs weighted controls with the time weights, and the effect path.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..plotting.sdid import plot_synthetic_did

        return plot_synthetic_did(self, ax=ax, **kwargs)


@dataclass(repr=False)
class BayesianSynthEffect(Effect):
    """Effect of a Bayesian synthetic control.

    Extra attributes: ``weights`` (posterior mean donor weights), ``weights_interval``
    (DataFrame with low/high), ``rate_ratio`` and ``rate_ratio_interval`` (counts: observed
    over expected counterfactual events in the post-period), ``events_prevented`` and its
    interval (counts: counterfactual minus observed events), and ``idata`` (arviz
    InferenceData; not exported by ``to_dict``).
    """

    weights: pd.Series | None = None
    weights_interval: pd.DataFrame | None = None
    rate_ratio: float | None = None
    rate_ratio_interval: tuple[float, float] | None = None
    events_prevented: float | None = None
    events_prevented_interval: tuple[float, float] | None = None
    idata: object | None = None

    _transient = ("idata",)
