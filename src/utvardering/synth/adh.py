"""Abadie–Diamond–Hainmueller synthetic control: :func:`synthetic_control`.

The public function validates the design (through :class:`~utvardering.Study`), builds the
outcome and predictor matrices once, calls the array function :func:`fit_unit` for each
treated unit and assembles a :class:`~utvardering.synth.result.SynthEffect`. The maths is on
the methods page (``docs/methods/synthetic_control.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DesignError, DesignWarning, warn
from ..estimators import register_estimator
from ..options import check_level, check_option
from ..study import Study
from ._legacy import take_renamed
from ._panel import SynthPanel, check_values, period_mask, unit_masks
from .predictors import parse_predictors, predictor_matrix, standardise
from .result import SynthEffect, TreatedFit, set_event_fields, synth_effect
from .robustness import conformal
from .vweights import TIE_BREAKS, break_tie, choose_v, near_optima

__all__ = ["V_CHOICES", "ADHRefit", "UnitFit", "demeaned_synthetic_control", "fit_study",
           "fit_unit", "pre_period_means", "synthetic_control"]

V_CHOICES = ("nested", "regression", "outcome")


@dataclass
class UnitFit:
    """Fit for one treated unit (arrays only).

    Attributes
    ----------
    w : numpy.ndarray
        Donor weights.
    v : numpy.ndarray
        Predictor weights (empty for the outcome-only fit).
    synthetic : numpy.ndarray
        Synthetic outcome in every period.
    gap : numpy.ndarray
        Treated − synthetic in every period.
    v_loss : float
        Outcome MSPE over the optimisation periods.
    pre_mspe, post_mspe : float
        Mean squared gap before the start and over the post-period.
    info : dict
        Optimiser details.
    near_optima : list of LocalOptimum
        The nested search's distinct local optima within ``tie_tol`` of the best loss (best
        first; more than one: the weights are not identified by the nested criterion).
    """

    w: np.ndarray
    v: np.ndarray
    synthetic: np.ndarray
    gap: np.ndarray
    v_loss: float
    pre_mspe: float
    post_mspe: float
    method: str
    info: dict = field(default_factory=dict)
    near_optima: list = field(default_factory=list)


def fit_unit(Y: np.ndarray, X: np.ndarray | None, treated: int, donors: np.ndarray,
             pre: np.ndarray, post: np.ndarray, opt: np.ndarray, v, *, n_starts: int = 6,
             random_state=None, tie_break: str = "loss", tie_tol: float = 0.1) -> UnitFit:
    """Synthetic control for one treated unit, on arrays.

    Parameters
    ----------
    Y : numpy.ndarray
        Outcomes, units × periods.
    X : numpy.ndarray or None
        Unscaled predictors, predictors × units (None for the outcome-only fit).
    treated : int
        Row of the treated unit.
    donors : numpy.ndarray of int
        Rows of the donors.
    pre, post, opt : numpy.ndarray of bool
        Pre-periods, post-periods and optimisation periods (masks over the columns of Y).
    v : str or numpy.ndarray
        See :func:`~utvardering.synth.vweights.choose_v`.
    n_starts : int, default 6
        Local searches of the nested V optimisation.
    random_state : int or numpy.random.Generator, optional
        Seed of the nested V optimisation (None: seed 0).
    tie_break : {"loss", "min_norm", "pre_fit"}, default "loss"
        Which of the near-optimal nested solutions to keep
        (:func:`~utvardering.synth.vweights.break_tie`).
    tie_tol : float, default 0.1
        Local optima whose loss is within this relative tolerance of the best count as
        near-optimal.

    Returns
    -------
    UnitFit
    """
    Z1, Z0 = Y[treated, opt], Y[donors][:, opt].T
    if X is not None and not (isinstance(v, str) and v == "outcome"):
        Xs, _ = standardise(X[:, np.r_[treated, donors]])
        X1, X0 = Xs[:, 0], Xs[:, 1:]
    else:
        X1 = X0 = None
        v = "outcome"
    res = choose_v(X1, X0, Z1, Z0, v, n_starts=n_starts, random_state=random_state)
    w, vv, loss = res.w, res.v, res.loss
    near = []
    if res.optima:
        Yd = Y[donors]
        for o in res.optima:
            o.pre_mspe = float(np.mean((Y[treated, pre] - o.w @ Yd[:, pre]) ** 2))
        near = near_optima(res.optima, tie_tol)
        chosen = break_tie(near, tie_break)
        if chosen is not res.optima[0]:
            w, vv, loss = chosen.w, chosen.v, chosen.loss
    synthetic = w @ Y[donors]
    gap = Y[treated] - synthetic
    return UnitFit(w=w, v=vv, synthetic=synthetic, gap=gap, v_loss=loss,
                   pre_mspe=float(np.mean(gap[pre] ** 2)), post_mspe=float(np.mean(gap[post] ** 2)),
                   method=res.method, info=res.info, near_optima=near)


def _resolve_v(v, labels: list[str]):
    if v is None or isinstance(v, str):
        if v is not None and v not in V_CHOICES:
            raise DesignError(f"v={v!r} is not one of {V_CHOICES} or an array of predictor weights.")
        return v
    if isinstance(v, (pd.Series, Mapping)):
        given = pd.Series(v, dtype=float)
        unknown = [k for k in given.index if k not in labels]
        if unknown:
            raise DesignError(f"v gives weights for {unknown}, which are not predictors of this fit "
                              f"({labels}); use the same predictors as the fit V came from.")
        arr = given.reindex(labels).fillna(0.0).to_numpy()
    else:
        arr = np.asarray(v, dtype=float).ravel()
        if arr.size != len(labels):
            raise DesignError(f"v has {arr.size} entries but there are {len(labels)} predictors.")
    if np.any(arr < 0) or not arr.sum() > 0:
        raise DesignError("v must be non-negative with a positive sum.")
    return arr / arr.sum()


@dataclass(frozen=True)
class ADHRefit:
    """:func:`fit_unit` with a fit's specification bound: the refit callable of a
    :class:`~utvardering.synth.result.SynthEffect` (used by
    :mod:`~utvardering.synth.robustness`; picklable, so placebos can run in other processes).

    Calling ``refit(row, donor_rows, random_state=None)`` fits the unit in row ``row`` of
    ``Y`` against the donors in ``donor_rows`` and returns ``(gap, synthetic)``.
    """

    Y: np.ndarray
    X: np.ndarray | None
    pre: np.ndarray
    post: np.ndarray
    opt: np.ndarray
    v: Any
    n_starts: int
    random_state: Any
    tie_break: str = "loss"
    tie_tol: float = 0.1

    def __call__(self, row: int, donor_rows: np.ndarray, random_state=None):
        """Refit unit ``row`` on ``donor_rows`` with the fitted options (robustness refits)."""
        seed = self.random_state if random_state is None else random_state
        fit = fit_unit(self.Y, self.X, row, donor_rows, self.pre, self.post, self.opt, self.v,
                       n_starts=self.n_starts, random_state=seed, tie_break=self.tie_break,
                       tie_tol=self.tie_tol)
        return fit.gap, fit.synthetic


def _warnings(fit: UnitFit, y: np.ndarray, Y0: np.ndarray, pre: np.ndarray, unit, donors) -> list:
    out = []
    pre_rmspe = np.sqrt(fit.pre_mspe)
    level = float(np.mean(np.abs(y[pre])))
    above = np.mean(y[pre] > Y0[:, pre].max(axis=0))
    below = np.mean(y[pre] < Y0[:, pre].min(axis=0))
    # A convex combination's pre-period mean lies between the donors' pre-period means, so a
    # treated mean outside that range cannot be matched even when noisy donors sometimes
    # exceed the treated unit month by month.
    mean_t, means_d = float(np.mean(y[pre])), Y0[:, pre].mean(axis=1)
    if mean_t > means_d.max() or mean_t < means_d.min():
        side = "above" if mean_t > means_d.max() else "below"
        out.append(f"{unit}: the treated pre-period mean ({mean_t:.3g}) is {side} every donor's "
                   f"(range {means_d.min():.3g} to {means_d.max():.3g}) — it lies outside the "
                   "donors' convex hull, so no weighted average can reproduce its level; do not "
                   "trust the effect (try synthetic_control(..., demean=True), which allows a "
                   "constant level difference, synthetic_did or another DiD-type method).")
    elif max(above, below) >= 0.5:
        side = "above" if above >= below else "below"
        out.append(f"{unit}: the treated outcome is {side} every donor in "
                   f"{max(above, below):.0%} of the pre-periods — it lies outside the donors' "
                   "convex hull, so no weighted average can reproduce it; do not trust the "
                   "effect (try synthetic_control(..., demean=True), a DiD-type method or "
                   "other donors).")
    if level > 0 and pre_rmspe > 0.1 * level:
        out.append(f"{unit}: poor pre-period fit (RMSPE {pre_rmspe:.3g} is "
                   f"{pre_rmspe / level:.0%} of the mean outcome level); the synthetic unit does "
                   "not track the treated unit before the start.")
    return out + concentration_warning(fit, unit, donors)


def concentration_warning(fit: UnitFit, unit, donors) -> list:
    """A warning (in a list) when one donor carries more than 80 % of the weight."""
    top = int(np.argmax(fit.w))
    if fit.w[top] > 0.8 and fit.w.size > 1:
        return [f"{unit}: the weights concentrate on one donor ({donors[top]}: "
                f"{fit.w[top]:.2f}); the result rests on that comparison unit alone."]
    return []


@register_estimator("synthetic_control", family="synth",
                    summary="Abadie–Diamond–Hainmueller synthetic control with nested V")
def synthetic_control(
    study: Study | pd.DataFrame,
    *,
    predictors: Sequence | None = None,
    optimize_periods: Sequence | None = None,
    v: str | np.ndarray | Mapping | pd.Series | None = None,
    n_starts: int = 6,
    demean: bool = False,
    rate: bool | None = None,
    per: float = 100_000,
    inference: str | None = "conformal",
    random_state: int | np.random.Generator | None = None,
    level: float = 0.95,
    tie_break: str = "loss",
    tie_tol: float = 0.1,
    **study_kwargs: Any,
) -> SynthEffect:
    """Abadie–Diamond–Hainmueller synthetic control.

    Donor weights :math:`w \\ge 0`, :math:`\\sum_j w_j = 1` minimise the V-weighted distance
    between the treated unit's standardised predictors and the donors',
    :math:`(X_1 - X_0 w)^\\top V (X_1 - X_0 w)`; V is chosen to minimise the outcome MSPE over
    ``optimize_periods`` (nested), by regression, or given. The effect in period t is
    :math:`y_{1t} - \\sum_j w_j y_{jt}`; ``estimate`` averages it over the post-period.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        The design; with a DataFrame give the :class:`~utvardering.Study` arguments
        (``outcome=``, ``unit=``, ``time=``, ``treated=``, ``start=`` ...) as keywords.
    predictors : sequence of (variable, periods, aggregation), optional
        E.g. ``[("lnincome", range(1980, 1989), "mean"), ("cigsale", [1975], "mean")]``.
        Missing values are skipped in the aggregation. Default: no predictors, the
        outcome-only fit (weights minimise the pre-period outcome MSPE directly).
    optimize_periods : sequence of periods, optional
        Periods whose outcome MSPE the nested V minimises (Synth's ``time.optimize.ssr``);
        default every pre-period.
    v : {"nested", "regression", "outcome"}, array, dict or Series, optional
        Predictor weights: nested optimisation (default with predictors), regression-based,
        the outcome-only fit (default without predictors), or given (an array in predictor
        order, or a mapping from predictor label to weight, e.g. ``other.v_weights``).
    n_starts : int, default 6
        Local searches of the nested V optimisation.
    demean : bool, default False
        Fit to every unit's outcome net of its own pre-period mean and add the treated unit's
        pre-period mean back (demeaned synthetic control, Doudchenko & Imbens 2016; Ferman &
        Pinto 2021): allows a constant level difference, for a treated unit outside the
        donors' hull. Outcome-only fit, one common start; see
        :func:`~utvardering.synth.adh.demeaned_synthetic_control`.
    rate : bool, optional
        Analyse the outcome per ``per`` inhabitants using the study's ``exposure`` column.
        Default: true when the study has an exposure column. (Old name ``rates=``, accepted
        with a DeprecationWarning until the next release.)
    per : float, default 100000
        Rate denominator.
    inference : {"conformal", None}, default "conformal"
        Fill ``interval``, ``p_value`` and the path's ``low``/``high`` by conformal inference
        (one treated unit; see :func:`~utvardering.synth.robustness.conformal`). Placebo
        inference: call :meth:`SynthEffect.placebo_in_space`.
    random_state : int or numpy.random.Generator, optional
        Seed of the nested V optimisation. The default (None) is seed 0: two calls with the
        same arguments give the same weights, whatever ``inference`` is. Other seeds start
        the local searches elsewhere; if they change the donors, the diagnostics below say
        so already.
    level : float, default 0.95
        Interval coverage.
    tie_break : {"loss", "min_norm", "pre_fit"}, default "loss"
        The nested V criterion often has several local optima with almost the same loss but
        different donors (Becker & Klößner 2018; the Basque example). Among the distinct
        optima within ``tie_tol`` of the best loss: ``"loss"`` keeps the lowest loss (as
        R ``Synth``), ``"min_norm"`` the most spread-out weights (smallest
        :math:`\\lVert w\\rVert^2`), ``"pre_fit"`` the best outcome fit over every
        pre-period. Whatever the rule, the competing solutions are reported.
    tie_tol : float, default 0.1
        Relative tolerance: local optima with loss :math:`\\le (1 + \\text{tie\\_tol})` times
        the best count as near-optimal. Two solutions are different donor sets when at least
        a fifth of the weight sits on other donors (total-variation distance > 0.2).
    **study_kwargs
        Study arguments when ``study`` is a DataFrame.

    Returns
    -------
    SynthEffect
        ``estimate`` (average post-period gap), ``path`` (observed, counterfactual, effect),
        ``weights``, ``v_weights``, ``predictor_balance``, ``pre_rmspe`` and ``diagnostics``
        (``pre_rmspe``, ``v_loss``, optimiser details, events difference for counts, and
        ``warnings`` for a poor pre-fit, a treated unit outside the donors' hull or weights
        concentrated on one donor). Several treated units: one fit per unit, averaged.
        ``diagnostics["weights_identified"]`` is False when the nested search found
        near-optimal solutions with different donors; ``diagnostics["identification"]``
        then lists them (unit → ``optima``: loss, pre-period MSPE and donor weights, the
        kept one first) and a :class:`~utvardering.DesignWarning` names them.

    Warns
    -----
    DesignWarning
        When the donor weights are not identified (competing near-optimal donor sets).

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for
    comparative case studies. *JASA* 105(490), 493–505.
    Abadie, A. (2021). Using synthetic controls. *Journal of Economic Literature* 59(2),
    391–425.
    Becker, M. & Klößner, S. (2018). Fast and reliable computation of generalized synthetic
    controls. *Econometrics and Statistics* 5, 1–19.

    Examples
    --------
    >>> import utvardering as utv  # doctest: +SKIP
    >>> fit = synthetic_control(study, predictors=[("income", range(1980, 1989), "mean")])  # doctest: +SKIP
    >>> fit.weights.sort_values().tail()  # doctest: +SKIP
    """
    given = take_renamed(study_kwargs, {"rates": "rate"}, "synthetic_control", {"rate": rate},
                         {"rate": None})
    rate = given["rate"]
    check_option("inference", inference, ("conformal", None))
    check_option("tie_break", tie_break, TIE_BREAKS)
    level = check_level(level)
    if not tie_tol >= 0:
        raise DesignError(f"tie_tol={tie_tol!r} must be a non-negative number, e.g. 0.1.")
    study = Study.coerce(study, where="synthetic_control", **study_kwargs)
    rate = bool(study.exposure) if rate is None else bool(rate)
    if rate and not study.exposure:
        raise DesignError("rate=True needs an exposure (population) column: Study(exposure=...).")
    options = {"predictors": predictors, "optimize_periods": optimize_periods, "v": v,
               "n_starts": n_starts, "rate": rate, "per": per, "inference": inference,
               "random_state": random_state, "level": level, "tie_break": tie_break,
               "tie_tol": tie_tol}
    if demean:
        return demeaned_synthetic_control(study, **options)
    return fit_study(study, **options)


def fit_study(study: Study, *, predictors, optimize_periods, v, n_starts: int, rate: bool,
              per: float, inference: str | None, random_state, level: float,
              tie_break: str = "loss", tie_tol: float = 0.1, panel: SynthPanel | None = None,
              warn=None) -> SynthEffect:
    """:func:`synthetic_control` on a validated study (options resolved).

    ``panel`` is the study's :class:`~utvardering.synth._panel.SynthPanel` to fit (default:
    built from the study with ``rate``/``per``; a demeaned panel gives the demeaned fit);
    ``warn`` replaces the default warnings function ``(fit, y, Y0, pre, unit, donors) -> list``.
    """
    panel = SynthPanel.from_study(study, rate, per) if panel is None else panel
    demean = panel.shift is not None
    Ywide = panel.table()
    data = panel.long() if predictors is not None else None
    Y = Ywide.to_numpy(dtype=float)
    units, times = list(Ywide.index), list(Ywide.columns)
    donors = np.array([units.index(d) for d in study.donors])
    donor_names = list(study.donors)
    rng = np.random.default_rng(0 if random_state is None else random_state)
    if warn is None:
        warn = (lambda fit, y, Y0, pre, unit, names: _demeaned_warnings(panel, unit, fit)
                + concentration_warning(fit, unit, names)) if demean else _warnings
    fits, unit_fits, parsed, X = [], {}, None, None
    v_default = "nested" if predictors is not None else "outcome"
    vcols, balances = {}, []
    for u in study.treated:
        s = study.starts[u]
        if predictors is not None:
            parsed = parse_predictors(predictors, columns=data.columns, freq=study.freq,
                                      times=times, start=s)
            Xf = predictor_matrix(data, parsed, unit=study.unit, time=study.time, units=units)
            check_values(Xf.T, "predictor value")
            X = Xf.to_numpy(dtype=float)
            labels = list(Xf.index)
        else:
            labels = []
        vv = _resolve_v(v, labels) if (v is not None or predictors is not None) else "outcome"
        vv = v_default if vv is None else vv
        if predictors is None and not (isinstance(vv, str) and vv == "outcome"):
            raise DesignError(f"v={v!r} weighs predictors, but predictors= is not given; give "
                              "predictors=[(variable, periods, aggregation), ...] or drop v= "
                              "(the outcome-only fit).")
        pre, post = unit_masks(times, s, study.end)
        opt = period_mask(study, optimize_periods, s, "optimize_periods")
        i = units.index(u)
        fit = fit_unit(Y, X, i, donors, pre, post, opt, vv, n_starts=n_starts,
                       random_state=rng, tie_break=tie_break, tie_tol=tie_tol)
        unit_fits[u] = fit
        fits.append(TreatedFit(u, fit.w, Y[i], fit.synthetic, pre, post,
                               warnings=warn(fit, Y[i], Y[donors], pre, u, donor_names)))
        if labels and fit.v.size:
            vcols[u] = pd.Series(fit.v, index=labels)
            balances.append(pd.DataFrame({
                "treated": X[:, i], "synthetic": X[:, donors] @ fit.w,
                "donor_mean": X[:, donors].mean(axis=1), "v": fit.v},
                index=pd.Index(labels, name="predictor")))
        refit = ADHRefit(Y, X, pre, post, opt, vv, n_starts, random_state, tie_break, tie_tol)
    spec = {"predictors": predictors, "optimize_periods": optimize_periods, "v": v,
            "n_starts": n_starts, "rate": panel.rate, "per": panel.per, "inference": inference,
            "random_state": random_state, "level": level, "demean": demean, "Y": Ywide,
            "tie_break": tie_break, "tie_tol": tie_tol}
    params = {k: (repr(val) if k not in ("n_starts", "rate", "per", "level", "inference", "demean")
                  else val)
              for k, val in spec.items() if k != "Y"}
    v_weights = pd.DataFrame(vcols).mean(axis=1).rename("v") if vcols else None
    if v_weights is not None:
        v_weights.index.name = "predictor"
    estimand = "average gap treated − synthetic over the post-period"
    if demean:
        estimand += (", " + (f"rates per {panel.per:,.0f}" if panel.rate else "outcomes")
                     + " net of each unit's pre-period mean (demeaned synthetic control)")
    effect = synth_effect(
        panel, Ywide, fits, method="synthetic_control", estimand=estimand, level=level,
        params=params, spec=spec, v_weights=v_weights,
        predictor_balance=balances[0] if len(fits) == 1 and balances else None)
    diagnostics = effect.diagnostics
    warnings = diagnostics.pop("warnings")
    diagnostics.update({
        "pre_mspe": float(np.mean([f.pre_mspe for f in unit_fits.values()])),
        "post_rmspe": float(np.mean([np.sqrt(f.post_mspe) for f in unit_fits.values()])),
        "v_loss": float(np.mean([f.v_loss for f in unit_fits.values()])),
        "v_method": next(iter(unit_fits.values())).method,
        "optimizer": {u: f.info for u, f in unit_fits.items()},
        "max_weight": float(effect.weights.max()),
        "n_positive_weights": int((effect.weights > 1e-6).sum()),
        "warnings": warnings,
    })
    if demean:
        shift = float(panel.shift.reindex(study.treated).mean())
        diagnostics.update(demean=True, treated_pre_mean=shift,
                           pre_means={str(u): float(m) for u, m in panel.shift.items()})
        spec["shift"] = shift  # leave-one-out puts its counterfactuals back on this scale
    # what the robustness methods need to refit (module robustness never imports this one)
    spec.update(refit=refit if len(fits) == 1 else None, refit_treated=True,
                rerun=synthetic_control, residuals=None, lam=None)
    _report_identification(effect, unit_fits, donor_names, tie_break, tie_tol)
    if inference == "conformal":
        _add_conformal(effect)
    if "events" in spec:
        set_event_fields(effect, *spec["events"])
    return effect


def _donor_text(w: np.ndarray, donors: list) -> str:
    order = np.argsort(-w, kind="stable")
    return ", ".join(f"{donors[j]} {w[j]:.2f}" for j in order if w[j] >= 0.005)


def _report_identification(effect: SynthEffect, fits: dict, donors: list, tie_break: str,
                           tie_tol: float) -> None:
    """Record competing near-optimal donor sets in the diagnostics and warn about them."""
    table, identified = {}, True
    for u, fit in fits.items():
        if not fit.near_optima:
            continue
        optima = [{"loss": o.loss, "pre_mspe": o.pre_mspe,
                   "weights": {str(donors[j]): float(o.w[j]) for j in np.flatnonzero(o.w >= 0.005)}}
                  for o in fit.near_optima]
        kept = next(i for i, o in enumerate(fit.near_optima) if np.array_equal(o.w, fit.w))
        optima.insert(0, optima.pop(kept))
        table[str(u)] = {"optima": optima, "identified": len(optima) == 1}
        if len(optima) == 1:
            continue
        identified = False
        others = [o for i, o in enumerate(fit.near_optima) if i != kept]
        listed = "; ".join(f"{_donor_text(o.w, donors)} (loss {o.loss:.4g})" for o in others)
        message = (
            f"{u}: the donor weights are not identified — the nested V search found "
            f"{len(optima)} local optima with different donors whose losses are within "
            f"{tie_tol:.0%} of the best (Becker & Klößner 2018). Kept ({tie_break!r} rule): "
            f"{_donor_text(fit.w, donors)} (loss {fit.v_loss:.4g}); competing: {listed}. "
            "Report the alternatives, choose among them with tie_break='min_norm' or "
            "'pre_fit', or fit without predictors (the outcome-only weights).")
        effect.diagnostics["warnings"].append(message)
        warn(message, DesignWarning)
    if table:
        effect.diagnostics["weights_identified"] = identified
        effect.diagnostics["identification"] = {
            "tie_break": tie_break, "tie_tol": tie_tol, "units": table}


def _add_conformal(effect: SynthEffect) -> None:
    """Fill interval, p-value and pointwise bands from conformal inference (one treated unit)."""
    study = effect.study
    if len(study.treated) != 1:
        effect.diagnostics["inference"] = ("none: conformal inference needs one treated unit; "
                                           "fit each unit separately for intervals")
        return
    res = conformal(effect)
    effect.p_value, effect.interval = res.p_value, res.interval
    effect.path["low"] = res.pointwise["low"].reindex(effect.path.index)
    effect.path["high"] = res.pointwise["high"].reindex(effect.path.index)
    cf = effect.spec["counterfactual"] if effect.relative is not None else None
    if cf and np.all(np.isfinite(res.interval)):
        effect.relative_interval = (res.interval[0] / cf, res.interval[1] / cf)
    effect.diagnostics["inference"] = (
        "conformal (Chernozhukov–Wüthrich–Zhu 2021): moving-block permutations, outcome "
        "synthetic control refitted under each null; interval for a constant effect")
    if effect.v_weights is not None:
        effect.diagnostics["inference_model"] = (
            "conformal inference on the OUTCOME-ONLY synthetic control (refitted on every "
            "period under each null), not on the predictor model whose weights and estimate "
            "are shown; for a test of this model use placebo_in_space()")
    else:
        effect.diagnostics["inference_model"] = (
            "conformal inference on this (outcome-only) synthetic control, refitted on every "
            "period under each null")
    pw = effect.path.loc[effect.path["low"].notna(), ["low", "high"]].to_numpy(dtype=float)
    if pw.size and not np.isfinite(pw).any():
        effect.diagnostics["warnings"].append(
            f"the pointwise {effect.level:.0%} conformal band is unbounded in every post-period: "
            "each post-period is tested on its own against the pre-periods, which are too few "
            "for a p-value below "
            f"{1 - effect.level:.2g} (it needs at least {int(np.ceil(1 / (1 - effect.level)))} "
            "periods); only the interval for the whole post-period is informative.")
    effect.diagnostics["conformal_average"] = {
        "p_value": res.average_p_value, "interval": list(res.average_interval),
        "n_blocks": res.n_blocks,
        "note": ("average-effect test on block means (CWZ 2021, appendix A.1); valid for a "
                 "time-varying effect, unbounded with fewer than 1/(1 - level) blocks"),
    }


# -- demeaned synthetic control: the ADH fit on SynthPanel.demeaned() ----------------------


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

    See Also
    --------
    utvardering.synth._panel.SynthPanel.demeaned : the same means removed from the panel.
    """
    data = study.data
    pre = data[study.time] < study.start
    return y[pre].groupby(data.loc[pre, study.unit]).mean()


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

    The fit is the ordinary one (:func:`fit_study`, :func:`fit_unit` for each treated unit)
    on the transformed panel :meth:`SynthPanel.demeaned()
    <utvardering.synth._panel.SynthPanel.demeaned>`, which carries the pre-period means
    that put observed and counterfactual back on the original scale. Called by
    :func:`~utvardering.synth.adh.synthetic_control` with ``demean=True`` (use that); the
    arguments are the same, already validated.

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
    panel = SynthPanel.from_study(study, rate, per).demeaned()
    return fit_study(study, predictors=None, optimize_periods=optimize_periods, v=v,
                     n_starts=n_starts, rate=rate, per=per, inference=inference,
                     random_state=random_state, level=level, tie_break=tie_break,
                     tie_tol=tie_tol, panel=panel)


def _demeaned_warnings(panel: SynthPanel, unit, fit: UnitFit) -> list:
    """Poor pre-period fit of a demeaned fit, judged against the treated unit's level on the
    original scale.
    """
    study = panel.study
    pre = [t < study.start for t in panel.Y.columns]
    level = float(np.mean(np.abs((panel.Y.loc[unit] + panel.shift[unit])[pre])))
    rmspe = float(np.sqrt(fit.pre_mspe))
    if not (level > 0 and rmspe > 0.1 * level):
        return []
    if panel.rate and study.is_count:
        # Poisson sd of a rate per `per` with mean `level` and population `pop`: sqrt(level per / pop)
        pop = float(panel.exposure.loc[unit, pre].mean())
        every = {"M": "monthly ", "Q": "quarterly ", "Y": "yearly ", "A": "yearly "}.get(
            str(study.freq or "")[:1], "")
        return [f"{unit}: pre-period RMSPE {rmspe:.3g} is {rmspe / level:.0%} of its mean rate; "
                f"{every}counts this small are noisy (Poisson noise alone gives about "
                f"{np.sqrt(level * panel.per / pop):.2g})."]
    return [f"{unit}: poor pre-period fit (RMSPE {rmspe:.3g} is {rmspe / level:.0%} of the mean "
            "outcome level); the demeaned synthetic unit does not track the treated unit's "
            "dynamics before the start."]
