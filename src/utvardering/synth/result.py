"""Synthetic-control results, one module for the family: :class:`SynthEffect` (ADH and
demeaned), :class:`AugmentedSynthEffect` (augmented and penalized SC; a SynthEffect),
:class:`SyntheticDiDEffect` and :class:`BayesianSynthEffect`.

All are :class:`~utvardering.Effect` subclasses. SynthEffect (and so AugmentedSynthEffect) keeps
the fitted study and the fit's specification with its refit callables (not serialised), which
the robustness methods (:mod:`~utvardering.synth.robustness`) use to refit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..effect import Effect
from ..errors import DesignError
from ..inference.counts import events_difference, events_prevented
from . import robustness

__all__ = ["AugmentedSynthEffect", "BayesianSynthEffect", "SynthEffect", "SyntheticDiDEffect",
           "TreatedFit", "set_event_fields", "synth_effect"]


def set_event_fields(effect: Effect, events: float | None, observed: float | None) -> None:
    """Fill ``events_prevented(_interval)`` and ``rate_ratio(_interval)`` of a synth effect.

    The conversion is :func:`utvardering.inference.counts.events_prevented`, from the
    effect's ``estimate`` and ``interval`` (call again when inference changes the interval).

    Parameters
    ----------
    effect : Effect
        A synth result with those four fields; its ``estimate`` and ``interval`` are read.
    events : float or None
        Treated − counterfactual events over the post-period (None: not a count outcome).
    observed : float or None
        Observed events of the treated units over the post-period.
    """
    if events is None:
        return
    out = events_prevented(events, estimate=effect.estimate, interval=effect.interval,
                           observed=observed)
    effect.events_prevented = out.prevented
    effect.diagnostics["events_difference"] = out.difference
    effect.diagnostics["events_prevented"] = out.prevented
    if out.interval is not None:
        effect.events_prevented_interval = out.interval
    if out.rate_ratio is not None:
        effect.rate_ratio = out.rate_ratio
    if out.rate_ratio_interval is not None:
        effect.rate_ratio_interval = out.rate_ratio_interval


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


@dataclass
class TreatedFit:
    """One treated unit's fit, in arrays on the panel's scale: what :func:`synth_effect`
    turns into an effect.

    Attributes
    ----------
    unit : hashable
        The treated unit.
    weights : numpy.ndarray
        Donor weights (in ``study.donors`` order).
    observed, counterfactual : numpy.ndarray
        The unit's outcome and its synthetic counterpart in every period of the table.
    pre, post : numpy.ndarray of bool
        The unit's pre- and post-periods.
    columns : dict
        Estimator-specific columns of ``unit_effects`` (e.g. ``synth_estimate``, ``penalty``).
    warnings : list of str
        The estimator's warnings about this unit's fit.
    """

    unit: Any
    weights: np.ndarray
    observed: np.ndarray
    counterfactual: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    columns: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    @property
    def gap(self) -> np.ndarray:
        """Observed − counterfactual in every period."""
        return self.observed - self.counterfactual


def _index(times: list, name: str) -> pd.Index:
    if times and isinstance(times[0], pd.Period):
        return pd.PeriodIndex(times, name=name)
    return pd.Index(times, name=name)


def synth_effect(panel, table: pd.DataFrame, fits: list[TreatedFit], *, method: str,
                 estimand: str, level: float, params: dict, spec: dict | None,
                 se: float | None = None, warnings: list[str] | None = None,
                 cls: type[SynthEffect] = SynthEffect, **fields: Any) -> SynthEffect:
    """Turn the per-unit fits of a weighting estimator into its :class:`SynthEffect`.

    The one assembly of the synth family's weighting estimators (ADH, demeaned, augmented
    and penalized synthetic control): per-unit effects, the averaged path and weights, the
    relative effect, a normal interval when a standard error is given, and, for count
    outcomes, the events prevented (:mod:`utvardering.inference.counts`).

    Parameters
    ----------
    panel : SynthPanel
        The panel the fits were made on. A demeaned panel
        (:meth:`~utvardering.synth._panel.SynthPanel.demeaned`) carries each unit's removed
        pre-period mean in ``shift``: observed and counterfactual are put back on the
        original scale (the effect is the same on both).
    table : pandas.DataFrame
        The outcome table of the fits (units × periods; its columns are the path's periods).
    fits : list of TreatedFit
        One per treated unit.
    method, estimand : str
        The effect's ``method`` and ``estimand``.
    level : float
        Interval coverage.
    params : dict
        The effect's ``params`` (``time_column`` is added).
    spec : dict or None
        What the robustness methods refit with (:mod:`~utvardering.synth.robustness`);
        ``spec["events"]`` is set for count outcomes.
    se : float, optional
        Standard error of the estimate: the interval is then :math:`\\hat\\tau \\pm z\\,se`
        and the p-value two-sided normal. Without it the interval is NaN (inference, if any,
        is added afterwards, then :func:`set_event_fields` again).
    warnings : list of str, optional
        Warnings about the whole fit (the units' own follow).
    cls : type, default SynthEffect
        The effect class.
    **fields
        Further fields of ``cls`` (``v_weights``, ``penalty`` ...).

    Returns
    -------
    SynthEffect
        ``estimate`` = mean over treated units of their average post-period gap; ``path``
        averaged over units (by event time for staggered starts); ``weights`` averaged;
        ``unit_effects`` (start, estimate, the estimator's columns, pre_rmspe,
        counterfactual); ``unit_weights`` with several units; ``relative`` = estimate over
        the post-period mean of the counterfactual; events prevented for count outcomes.
    """
    study = panel.study
    times = list(table.columns)
    shift = panel.shift
    rows, wcols = [], {}
    events = observed_events = 0.0
    warnings = list(warnings or [])
    for f in fits:
        gap = f.gap
        cf_mean = float(f.counterfactual[f.post].mean())
        if shift is not None:
            cf_mean = cf_mean + float(shift[f.unit])
        rows.append({"unit": f.unit, "start": str(study.starts[f.unit]),
                     "estimate": float(gap[f.post].mean()), **f.columns,
                     "pre_rmspe": float(np.sqrt(np.mean(gap[f.pre] ** 2))),
                     "counterfactual": cf_mean})
        wcols[f.unit] = pd.Series(f.weights, index=list(study.donors))
        warnings += f.warnings
        if study.is_count:
            post_times = [t for t, p in zip(times, f.post) if p]
            exposure = None if panel.exposure is None else \
                panel.exposure.loc[f.unit, post_times].to_numpy()
            events += events_difference(gap[f.post], exposure, panel.per)
            observed_events += float(panel.counts.loc[f.unit, post_times].sum())
    unit_effects = pd.DataFrame(rows).set_index("unit")
    estimate = float(unit_effects["estimate"].mean())
    if study.is_staggered:
        frames = [pd.DataFrame({"event_time": np.arange(len(times)) - int(f.pre.sum()),
                                "observed": f.observed, "counterfactual": f.counterfactual,
                                "effect": f.gap}) for f in fits]
        path = pd.concat(frames).groupby("event_time").mean()
        counterfactual = float(unit_effects["counterfactual"].mean())
    else:
        mean = np.array([[f.observed, f.counterfactual, f.gap] for f in fits]).mean(axis=0)
        path = pd.DataFrame({"observed": mean[0], "counterfactual": mean[1], "effect": mean[2]},
                            index=_index(times, "time"))
        if shift is not None:
            back = float(shift.reindex(study.treated).mean())
            for name in ("observed", "counterfactual"):
                path[name] = path[name] + back
        counterfactual = float(path.loc[fits[0].post, "counterfactual"].mean())
    weights = pd.DataFrame(wcols).mean(axis=1).rename("weight")
    weights.index.name = "donor"
    interval, p_value = (math.nan, math.nan), None
    if se is not None:
        z = NormalDist().inv_cdf(0.5 + level / 2)
        interval = (estimate - z * se, estimate + z * se)
        p_value = float(2 * (1 - NormalDist().cdf(abs(estimate) / se))) if se > 0 else None
    relative = estimate / counterfactual if counterfactual else None
    rel_int = (interval[0] / counterfactual, interval[1] / counterfactual) \
        if relative is not None and np.all(np.isfinite(interval)) else None
    diagnostics: dict[str, Any] = {"pre_rmspe": float(unit_effects["pre_rmspe"].mean()),
                                   "warnings": warnings}
    if spec is not None:
        spec["counterfactual"] = counterfactual
    effect = cls(
        method=method, estimate=estimate, interval=interval, level=level, se=se,
        relative=relative, relative_interval=rel_int, p_value=p_value, path=path,
        diagnostics=diagnostics, outcome=study.outcome, scale=panel.scale, estimand=estimand,
        n_treated=len(fits), n_control=len(study.donors), start=str(study.start),
        params={**params, "time_column": study.time}, weights=weights,
        pre_rmspe=diagnostics["pre_rmspe"], unit_weights=pd.DataFrame(wcols) if len(fits) > 1
        else None, unit_effects=unit_effects, study=study, spec=spec, **fields)
    if study.is_count:
        if spec is not None:
            spec["events"] = (events, observed_events)
        set_event_fields(effect, events, observed_events)
    return effect


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
