"""Inference and robustness for a fitted synthetic control: placebos, leave-one-out, conformal.

One module for every weighting estimator (ADH, demeaned, augmented, penalized). Each
function takes a fitted effect and refits through the callables the effect carries
(``effect.spec``), never by importing an estimator:

``spec["Y"]``
    The effect's outcome table (units × periods, rates applied), one row per unit.
``spec["refit"]``
    ``refit(row, donor_rows, random_state=None) -> (gap, synthetic)``: the estimator's array
    function with the fitted hyper-parameters bound (predictors, V choice, penalty...), for
    the unit in table row ``row`` against the donors in ``donor_rows``.
``spec["refit_treated"]``
    Whether placebo-in-space refits the treated unit too (ADH: its nested V is re-searched
    under the placebo seed) or reuses the fitted gap.
``spec["residuals"]``
    Optional factory ``(unit, donors, penalty) -> residuals`` for conformal inference
    (:mod:`utvardering.inference.conformal`); default: the outcome synthetic control.
``spec["rerun"]``
    Optional ``rerun(study, **options) -> effect``: the whole estimator, for
    placebo-in-time.

*References.*

Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *JASA* 105(490), 493–505 (placebo-in-space, RMSPE ratios).
Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic
control method. *AJPS* 59(2), 495–510 (placebo-in-time, leave-one-out).
Chernozhukov, V., Wüthrich, K. & Zhu, Y. (2021). An exact and robust conformal inference
method for counterfactual and synthetic controls. *JASA* 116(536), 1849–1864.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..executor import CellFailure, run_cells
from ._legacy import take_renamed
from ._panel import unit_masks
from .predictors import parse_predictors, resolve_periods

__all__ = [
    "ConformalResult",
    "LeaveOneOutResult",
    "PlaceboResult",
    "conformal",
    "conformal_arrays",
    "leave_one_out",
    "legacy_n_draws",
    "placebo_in_space",
    "placebo_in_time",
    "rmspe_ratio_pvalue",
]


def legacy_n_draws(deprecated: dict, n_draws: int, where: str) -> int:
    """``n_draws`` with the old name ``n_permutations=`` moved in (DeprecationWarning); any
    other unexpected keyword is a TypeError, as for a normal signature.
    """
    given = take_renamed(deprecated, {"n_permutations": "n_draws"}, where,
                         {"n_draws": n_draws}, {"n_draws": 999})
    if deprecated:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {sorted(deprecated)}")
    return given["n_draws"]


def rmspe_ratio_pvalue(treated_ratio: float, placebo_ratios: np.ndarray) -> float:
    """Permutation p-value of the post/pre RMSPE ratio.

    :math:`p = \\big(1 + \\#\\{j: r_j \\ge r_1\\}\\big) / (1 + J)` over the placebo ratios
    :math:`r_j`: the treated unit's rank among all units (ADH 2010, 1/39 for California).

    Parameters
    ----------
    treated_ratio : float
        Treated unit's post-RMSPE / pre-RMSPE.
    placebo_ratios : numpy.ndarray
        The placebos' ratios.

    Returns
    -------
    float
    """
    r = np.asarray(placebo_ratios, dtype=float)
    return float((1 + np.sum(r >= treated_ratio)) / (1 + r.size))


@dataclass
class _View:
    """The refit view of a fitted effect with one treated unit."""

    study: Any
    spec: dict
    Y: np.ndarray
    names: list
    times: list
    unit: Any
    row: int
    donor_rows: np.ndarray
    pre: np.ndarray
    post: np.ndarray


def _view(effect, what: str) -> _View:
    study, spec = effect.refit_state(what)
    if len(study.treated) != 1:
        raise DesignError(
            f"{what} needs one treated unit; this fit has {len(study.treated)}. Fit each unit "
            "separately (study.replace(treated=unit, start=...)).")
    table = spec["Y"]
    names, times = list(table.index), list(table.columns)
    u = study.treated[0]
    pre, post = unit_masks(times, study.starts[u], study.end)
    return _View(study, spec, table.to_numpy(dtype=float), names, times, u, names.index(u),
                 np.array([names.index(d) for d in study.donors]), pre, post)


# -- placebo in space ---------------------------------------------------------------------------


@dataclass
class PlaceboResult:
    """Placebo-in-space result.

    Attributes
    ----------
    p_value : float
        RMSPE-ratio permutation p-value (over the kept placebos).
    table : pandas.DataFrame
        One row per unit (treated first): ``pre_rmspe``, ``post_rmspe``, ``ratio``,
        ``estimate`` (average post-period gap), ``kept``, ``treated``.
    gaps : pandas.DataFrame
        Gap paths, periods × units.
    start : str
        The start (for plots).
    p_value_estimate : float
        Permutation p-value of the absolute average post-period gap (kept placebos).
    """

    p_value: float
    table: pd.DataFrame
    gaps: pd.DataFrame
    start: str
    p_value_estimate: float

    def plot(self, ax=None, **kwargs: Any):
        """Placebo gaps ("spaghetti") with the treated gap highlighted; returns the Figure."""
        from ..plotting.synth import plot_placebo_gaps

        return plot_placebo_gaps(self, ax=ax, **kwargs)


def _placebo_gap(shared, cell, seed):
    """One placebo refit (an :func:`~utvardering.executor.run_cells` task).

    The refit is seeded with the caller's ``random_state`` (``shared``), not the cell's own
    seed, so a placebo's gap is the same whichever backend or worker runs it.
    """
    refit, random_state = shared
    row, donors = cell
    return refit(row, donors, random_state=random_state)[0]


def placebo_in_space(effect, *, max_pre_mspe_ratio: float | None = None, n_jobs: int = 1,
                     random_state: int | None = None, backend: str | None = None,
                     scheduler: str | None = None) -> PlaceboResult:
    """Every donor in turn as a placebo treated unit (the others as its donors).

    Each placebo is fitted with the same specification as the original fit (predictors,
    optimisation periods, V choice — a nested V is re-optimised for each placebo; augmented
    and penalized SC cross-validate a cross-validated penalty again, keep a given one). The
    statistic is the ratio of post- to pre-period RMSPE; the p-value is the treated unit's
    rank among all units (:func:`rmspe_ratio_pvalue`).

    Parameters
    ----------
    effect : SynthEffect or AugmentedSynthEffect
        A fit with one treated unit.
    max_pre_mspe_ratio : float, optional
        Leave out placebos whose pre-period MSPE exceeds this multiple of the treated unit's
        (ADH 2010 used 20, 5 and 2); they stay in ``table`` with ``kept = False``.
    n_jobs : int, default 1
        Worker processes for the refits (:func:`utvardering.executor.run_cells`, the executor
        the design diagnosis uses too); 1 runs them here, one after another.
    random_state : int, optional
        Seed for the placebos' V optimisation (default: the fit's ``random_state``).
    backend : {"serial", "joblib", "dask"}, optional
        Where the refits run (default: serial for ``n_jobs=1``, joblib otherwise, Dask when
        ``scheduler`` is given). The gaps are identical on every backend.
    scheduler : str, optional
        Address of a Dask scheduler.

    Returns
    -------
    PlaceboResult
    """
    view = _view(effect, "placebo_in_space")
    refit = view.spec["refit"]
    cells = []
    if view.spec.get("refit_treated", True):
        cells.append((view.row, view.donor_rows))
    for j in view.donor_rows:
        cells.append((int(j), np.array([d for d in view.donor_rows if d != j])))
    gaps, _ = run_cells(_placebo_gap, cells, (refit, random_state), random_state=0,
                        backend=backend, n_jobs=n_jobs, scheduler=scheduler, progress=False,
                        label="placebo refits")
    failed = [(cells[i][0], g) for i, g in enumerate(gaps) if isinstance(g, CellFailure)]
    if failed:
        row, failure = failed[0]
        raise DesignError(f"placebo_in_space: the refit of {view.names[row]!r} failed "
                          f"({failure.error}); {len(failed)} refit(s) failed in all.")
    if not view.spec.get("refit_treated", True):
        gaps.insert(0, effect.path["effect"].to_numpy(dtype=float))
    names = [view.unit] + [view.names[j] for j in view.donor_rows]
    return placebo_result(names, np.array(gaps), view.pre, view.post, view.times,
                          max_pre_mspe_ratio, str(view.study.start))


def placebo_result(names: list, gaps: np.ndarray, pre: np.ndarray, post: np.ndarray, times: list,
                   max_pre_mspe_ratio: float | None, start: str) -> PlaceboResult:
    """RMSPE ratios and p-values from gap paths (units × periods, treated first)."""
    pre_mspe = np.mean(gaps[:, pre] ** 2, axis=1)
    pre_rmspe, post_rmspe = np.sqrt(pre_mspe), np.sqrt(np.mean(gaps[:, post] ** 2, axis=1))
    with np.errstate(divide="ignore"):
        ratio = post_rmspe / pre_rmspe
    est = gaps[:, post].mean(axis=1)
    kept = np.ones(len(names), dtype=bool)
    if max_pre_mspe_ratio is not None:
        kept = pre_mspe <= max_pre_mspe_ratio * pre_mspe[0]
        kept[0] = True
    table = pd.DataFrame({"pre_rmspe": pre_rmspe, "post_rmspe": post_rmspe, "ratio": ratio,
                          "estimate": est, "kept": kept, "treated": [True] + [False] * (len(names) - 1)},
                         index=pd.Index(names, name="unit"))
    p = rmspe_ratio_pvalue(ratio[0], ratio[1:][kept[1:]])
    p_est = rmspe_ratio_pvalue(abs(est[0]), np.abs(est[1:][kept[1:]]))
    idx = pd.PeriodIndex(times, name="time") if isinstance(times[0], pd.Period) else pd.Index(times, name="time")
    return PlaceboResult(p_value=p, table=table, gaps=pd.DataFrame(gaps.T, index=idx, columns=names),
                         start=start, p_value_estimate=p_est)


# -- placebo in time ----------------------------------------------------------------------------


def placebo_in_time(effect, start: Any, **overrides: Any):
    """Refit as if the intervention had started at an earlier ``start`` (ADH 2015).

    Only data before the real start are used; predictor and optimisation periods on or
    after the placebo start are dropped, and predictors with no period left are left out
    (each listed in the result's warnings). A credible design shows no gap between the
    placebo start and the real one.

    Parameters
    ----------
    effect : SynthEffect
        The original fit (of :func:`~utvardering.synth.adh.synthetic_control`).
    start : period-like
        Placebo start, before the real start with at least two earlier periods.
    **overrides
        Arguments of :func:`~utvardering.synth.adh.synthetic_control` to change (e.g.
        ``predictors=`` measured before the placebo start).

    Returns
    -------
    SynthEffect
        The placebo fit; its ``estimate`` is the average gap from the placebo start to the
        period before the real start.
    """
    study, spec = effect.refit_state("placebo_in_time")
    rerun = spec.get("rerun")
    if rerun is None:
        raise DesignError("placebo_in_time reruns synthetic_control; refit this estimator "
                          "with study.replace(start=..., window=(None, last_pre)) instead.")
    if study.is_staggered:
        raise DesignError("placebo_in_time needs one common start; fit each cohort separately.")
    real = study.start
    last_pre = max(study.pre_times)
    if not resolve_periods(start, study.freq, study.times, "placebo start")[0] < real:
        raise DesignError(f"placebo start {start} must be before the real start {real}; choose "
                          "an earlier period.")
    fake = study.replace(start=start, window=(None, last_pre))
    notes = []
    user_predictors = "predictors" in overrides
    predictors = overrides.pop("predictors", spec["predictors"])
    v = overrides.pop("v", None)
    given_v = v is None and spec["v"] is not None and not isinstance(spec["v"], str)
    if v is None:
        v = spec["v"] if not given_v else None
    if predictors is not None and not user_predictors:
        parsed = parse_predictors(predictors, columns=study.data.columns, freq=study.freq,
                                  times=study.times, start=real)
        shifted, kept_v = [], []
        for i, p in enumerate(parsed):
            q = p.shifted(fake.start)
            if q is None:
                notes.append(f"placebo in time: predictor {p.label!r} left out (no period before "
                             f"{fake.start}).")
                continue
            if q.periods != p.periods:
                notes.append(f"placebo in time: predictor {p.label!r} restricted to {q.label!r}.")
            shifted.append(q)
            kept_v.append(i)
        if not shifted:
            raise DesignError(f"no predictor has a period before the placebo start {fake.start}; "
                              "pass predictors=[...] measured before it.")
        predictors = shifted
        if given_v:  # the fit's given V, on the predictors that are left
            v = effect.v_weights.to_numpy(dtype=float)[kept_v]
            if not v.sum() > 0:
                raise DesignError("the given V puts no weight on the predictors left before the "
                                  "placebo start; pass v= for the placebo fit.")
    elif given_v:
        v = effect.v_weights
    opt = overrides.pop("optimize_periods", spec["optimize_periods"])
    if opt is not None:
        parsed_opt = resolve_periods(opt, study.freq, study.times, "optimize_periods")
        kept = [t for t in parsed_opt if t < fake.start]
        if len(kept) != len(parsed_opt):
            notes.append("placebo in time: optimize_periods restricted to periods before "
                         f"{fake.start}.")
        opt = kept or None
    kwargs = {"n_starts": spec["n_starts"], "rate": spec["rate"], "per": spec["per"],
              "inference": spec["inference"], "random_state": spec["random_state"],
              "level": spec["level"], "demean": spec.get("demean", False),
              "tie_break": spec.get("tie_break", "loss"), "tie_tol": spec.get("tie_tol", 0.1)}
    kwargs.update(overrides)
    out = rerun(fake, predictors=predictors, optimize_periods=opt, v=v, **kwargs)
    out.diagnostics["warnings"] = notes + out.diagnostics["warnings"]
    out.method = "synthetic_control (placebo in time)"
    return out


# -- leave one out ------------------------------------------------------------------------------


@dataclass
class LeaveOneOutResult:
    """Leave-one-out refits.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per dropped donor (its original weight, the refit's ``estimate``,
        ``pre_rmspe``), plus the original fit as ``"(none)"``.
    counterfactuals : pandas.DataFrame
        Synthetic paths, periods × dropped donor (``"(none)"`` = original).
    observed : pandas.Series
        The treated path.
    start : str
        The start (for plots).
    """

    table: pd.DataFrame
    counterfactuals: pd.DataFrame
    observed: pd.Series
    start: str

    def plot(self, ax=None, **kwargs: Any):
        """Treated path, original synthetic and the leave-one-out band; returns the Figure."""
        from ..plotting.synth import plot_leave_one_out

        return plot_leave_one_out(self, ax=ax, **kwargs)


def leave_one_out(effect, *, tol: float = 1e-6) -> LeaveOneOutResult:
    """Refit without each donor whose weight exceeds ``tol`` (ADH 2015).

    Parameters
    ----------
    effect : SynthEffect or AugmentedSynthEffect
        A fit with one treated unit.
    tol : float, default 1e-6
        Donors with weight above this (in absolute value) are dropped in turn.

    Returns
    -------
    LeaveOneOutResult
    """
    view = _view(effect, "leave_one_out")
    refit = view.spec["refit"]
    donors = list(view.study.donors)
    base = effect.path
    pre_rmspe = effect.diagnostics.get("pre_rmspe") if getattr(effect, "pre_rmspe", None) is None \
        else effect.pre_rmspe
    rows = [{"dropped": "(none)", "weight": 0.0, "estimate": effect.estimate,
             "pre_rmspe": pre_rmspe}]
    paths = {"(none)": base["counterfactual"].to_numpy()}
    shift = view.spec.get("shift", 0.0)  # demeaned fits: back on the original scale
    weights = effect.weights
    for d in weights[weights.abs() > tol].sort_values(ascending=False).index:
        others = np.array([view.names.index(x) for x in donors if x != d])
        gap, synthetic = refit(view.row, others)
        rows.append({"dropped": d, "weight": float(weights[d]),
                     "estimate": float(gap[view.post].mean()),
                     "pre_rmspe": float(np.sqrt(float(np.mean(gap[view.pre] ** 2))))})
        paths[d] = synthetic + shift
    table = pd.DataFrame(rows).set_index("dropped")
    return LeaveOneOutResult(table=table, counterfactuals=pd.DataFrame(paths, index=base.index),
                             observed=base["observed"], start=str(view.study.start))


# -- conformal inference ------------------------------------------------------------------------


@dataclass
class ConformalResult:
    """Conformal inference (Chernozhukov–Wüthrich–Zhu 2021).

    Attributes
    ----------
    p_value : float
        p-value of the sharp null (``null`` in every post-period).
    interval : tuple of float
        Interval for a *constant* effect over the post-period, at ``level`` (valid for the
        average effect only if the effect is constant).
    pointwise : pandas.DataFrame
        Per post-period: ``effect`` (gap of the fit), ``low``, ``high``.
    level : float
    scheme : str
    average_p_value : float
        p-value of :math:`\\bar\\theta = \\bar\\theta^0` for the average effect (block means,
        CWZ 2021 Appendix A.1; :func:`~utvardering.inference.conformal.conformal_average`);
        NaN when the pre-period is shorter than the post-period.
    average_interval : tuple of float
        Interval for the average effect by the same test (unbounded when there are fewer
        than :math:`1/(1-\\text{level})` blocks; NaN as above).
    n_blocks : int
        Blocks of the average-effect test (0 when it cannot be run).
    """

    p_value: float
    interval: tuple[float, float]
    pointwise: pd.DataFrame
    level: float
    scheme: str
    average_p_value: float = float("nan")
    average_interval: tuple[float, float] = (float("nan"), float("nan"))
    n_blocks: int = 0


def conformal(effect, *, null: float | np.ndarray = 0.0, scheme: str = "moving_block",
              q: float = 1.0, level: float | None = None, n_draws: int = 999,
              random_state: int | None = 0, **deprecated) -> ConformalResult:
    """Conformal p-value and intervals for a synthetic-control effect.

    Under each null the counterfactual model is refitted on all periods and its residuals
    are permuted over time (:mod:`utvardering.inference.conformal`): the outcome synthetic
    control for ADH and demeaned fits; ridge ASCM with the fit's :math:`\\lambda` (as
    ``augsynth``) or penalized SC with the fit's penalty for those estimators.

    Parameters
    ----------
    effect : SynthEffect or AugmentedSynthEffect
        A fit with one treated unit.
    null : float or numpy.ndarray, default 0
        Sharp null effect path for the p-value (scalar or one value per post-period); the
        average-effect p-value tests its mean.
    scheme : {"moving_block", "iid"}, default "moving_block"
        Permutation scheme.
    q : float, default 1
        Exponent of the test statistic.
    level : float, optional
        Interval coverage (default: the fit's ``level``).
    n_draws : int, default 999
        Random permutations for ``scheme="iid"`` (old name ``n_permutations=``).
    random_state : int, default 0
        Seed for ``scheme="iid"``.

    Returns
    -------
    ConformalResult
    """
    n_draws = legacy_n_draws(deprecated, n_draws, "conformal")
    view = _view(effect, "conformal inference")
    factory = view.spec.get("residuals")
    residuals = None if factory is None else factory(view.unit, list(view.study.donors),
                                                     view.spec["lam"])
    return conformal_arrays(view.Y[view.row], view.Y[view.donor_rows].T, view.pre, view.post,
                            view.times, effect.path["effect"].to_numpy(dtype=float),
                            level=effect.level if level is None else level, null=null,
                            scheme=scheme, q=q, n_draws=n_draws, random_state=random_state,
                            residuals=residuals)


def conformal_arrays(y: np.ndarray, Y0: np.ndarray, pre: np.ndarray, post: np.ndarray, times: list,
                     gap: np.ndarray, *, level: float, null: float | np.ndarray = 0.0,
                     scheme: str = "moving_block", q: float = 1.0, n_draws: int = 999,
                     random_state: int | None = 0, residuals=None) -> ConformalResult:
    """Sharp-null p-value, constant-effect, pointwise and average-effect intervals on arrays.

    Parameters
    ----------
    y : numpy.ndarray
        Treated outcomes ``(T,)``.
    Y0 : numpy.ndarray
        Donor outcomes ``(T, J)``.
    pre, post : numpy.ndarray of bool
        Pre- and post-periods (other periods are ignored).
    times : list
        Period labels.
    gap : numpy.ndarray
        The fit's effect path ``(T,)`` (reported in ``pointwise``).
    level, null, scheme, q, n_draws, random_state :
        As in :func:`conformal`.
    residuals : callable, optional
        Counterfactual model refitted on all periods (default: the outcome synthetic control,
        :func:`~utvardering.inference.conformal.sc_residuals`).

    Returns
    -------
    ConformalResult
    """
    from ..inference.conformal import (
        conformal_average,
        conformal_interval,
        conformal_pvalue,
        sc_residuals,
    )

    residuals = sc_residuals if residuals is None else residuals
    keep = pre | post
    kw = {"scheme": scheme, "q": q, "n_permutations": n_draws, "residuals": residuals}
    p = conformal_pvalue(y[keep], Y0[keep], post[keep], null, random_state=random_state, **kw)
    ci = conformal_interval(y[keep], Y0[keep], post[keep], level=level, random_state=random_state,
                            **kw)
    rows = []
    for t in np.flatnonzero(post):
        sel = pre.copy()
        sel[t] = True
        lo, hi = conformal_interval(y[sel], Y0[sel], (np.arange(y.size) == t)[sel], level=level,
                                    random_state=random_state, **kw)
        rows.append({"time": times[t], "effect": float(gap[t]), "low": lo, "high": hi})
    pointwise = pd.DataFrame(rows).set_index("time")
    try:
        avg_p, avg_ci, n_blocks = conformal_average(y[keep], Y0[keep], post[keep],
                                                    float(np.mean(null)), level=level,
                                                    random_state=random_state, **kw)
    except ValueError:  # pre-period shorter than the post-period: no block test
        avg_p, avg_ci, n_blocks = float("nan"), (float("nan"), float("nan")), 0
    return ConformalResult(p_value=p, interval=ci, pointwise=pointwise, level=level, scheme=scheme,
                           average_p_value=avg_p, average_interval=avg_ci, n_blocks=n_blocks)
