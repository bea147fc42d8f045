"""Inference and robustness for a fitted synthetic control: placebos, leave-one-out, conformal.

The functions take a :class:`~utvardering.synth.result.SynthEffect` (they are also its
methods) and refit with exactly the fit's specification; the numbers come from
:func:`~utvardering.synth.adh.fit_unit` on arrays and :func:`rmspe_ratio_pvalue`.

*References.*

Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *JASA* 105(490), 493–505 (placebo-in-space, RMSPE ratios).
Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic
control method. *AJPS* 59(2), 495–510 (placebo-in-time, leave-one-out).
Chernozhukov, V., Wüthrich, K. & Zhu, Y. (2021). An exact and robust conformal inference
method for counterfactual and synthetic controls. *JASA* 116(536), 1849–1864.

The ``weighting_*`` functions do the same for augmented and penalized synthetic control
(:class:`~utvardering.synth.result.AugmentedSynthEffect`), refitting that estimator.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DesignError
from .adh import fit_unit, synthetic_control
from .predictors import parse_predictors, predictor_matrix

__all__ = [
    "ConformalResult",
    "LeaveOneOutResult",
    "PlaceboResult",
    "conformal",
    "conformal_arrays",
    "leave_one_out",
    "placebo_in_space",
    "placebo_in_time",
    "rmspe_ratio_pvalue",
    "weighting_conformal",
    "weighting_placebo_in_space",
]


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


def _refit_args(effect) -> tuple:
    study, spec = effect._need_fit("this method")
    if len(study.treated) != 1:
        raise DesignError(
            f"placebo and leave-one-out analyses need one treated unit; this fit has "
            f"{len(study.treated)}. Fit each unit separately (study.replace(treated=unit, start=...))."
        )
    Ywide = spec["Y"]
    units, times = list(Ywide.index), list(Ywide.columns)
    u = study.treated[0]
    s = study.starts[u]
    X = None
    if spec["predictors"] is not None:
        data = study.data.copy()
        if spec["rate"]:
            data[study.outcome] = data[study.outcome] / data[study.exposure] * spec["per"]
        parsed = parse_predictors(spec["predictors"], columns=data.columns, freq=study.freq,
                                  times=times, start=s)
        X = predictor_matrix(data, parsed, unit=study.unit, time=study.time, units=units).to_numpy()
    pre = np.array([t < s for t in times])
    post = np.array([t >= s and (study.end is None or t <= study.end) for t in times])
    from .adh import _periods_mask

    opt = _periods_mask(study, spec["optimize_periods"], s, "optimize_periods")
    v = spec["v"]
    if v is None:
        v = "nested" if X is not None else "outcome"
    elif not isinstance(v, str):
        v = effect.v_weights.to_numpy(dtype=float)  # the resolved, given V
    return study, spec, Ywide.to_numpy(dtype=float), X, units, times, u, pre, post, opt, v


def _one(args):
    Y, X, i, donors, pre, post, opt, v, n_starts, seed = args
    return fit_unit(Y, X, i, donors, pre, post, opt, v, n_starts=n_starts, random_state=seed)


def placebo_in_space(effect, *, max_pre_mspe_ratio: float | None = None, n_jobs: int = 1,
                     random_state: int | None = None) -> PlaceboResult:
    """Every donor in turn as a placebo treated unit (the others as its donors).

    Each placebo is fitted with the same specification as the original fit (predictors,
    optimisation periods, V choice — a nested V is re-optimised for each placebo). The
    statistic is the ratio of post- to pre-period RMSPE; the p-value is the treated unit's
    rank among all units (:func:`rmspe_ratio_pvalue`).

    Parameters
    ----------
    effect : SynthEffect
        A fit with one treated unit.
    max_pre_mspe_ratio : float, optional
        Leave out placebos whose pre-period MSPE exceeds this multiple of the treated unit's
        (ADH 2010 used 20, 5 and 2); they stay in ``table`` with ``kept = False``.
    n_jobs : int, default 1
        Worker processes.
    random_state : int, optional
        Seed for the placebos' V optimisation (default: the fit's ``random_state``).

    Returns
    -------
    PlaceboResult
    """
    study, spec, Y, X, units, times, u, pre, post, opt, v = _refit_args(effect)
    seed = spec["random_state"] if random_state is None else random_state
    donor_idx = [units.index(d) for d in study.donors]
    i_t = units.index(u)
    jobs = [(Y, X, i_t, np.array(donor_idx), pre, post, opt, v, spec["n_starts"], seed)]
    for j in donor_idx:
        others = np.array([d for d in donor_idx if d != j])
        jobs.append((Y, X, j, others, pre, post, opt, v, spec["n_starts"], seed))
    if n_jobs > 1:
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            fits = list(pool.map(_one, jobs, chunksize=max(1, len(jobs) // (4 * n_jobs))))
    else:
        fits = [_one(a) for a in jobs]
    names = [u] + [units[j] for j in donor_idx]
    return _placebo_result(names, np.array([f.gap for f in fits]), pre, post, times,
                           max_pre_mspe_ratio, str(study.start))


def _placebo_result(names: list, gaps: np.ndarray, pre: np.ndarray, post: np.ndarray, times: list,
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


def placebo_in_time(effect, start: Any, **overrides: Any):
    """Refit as if the intervention had started at an earlier ``start`` (ADH 2015).

    Only data before the real start are used; predictor and optimisation periods on or
    after the placebo start are dropped, and predictors with no period left are left out
    (each listed in the result's warnings). A credible
    design shows no gap between the placebo start and the real one.

    Parameters
    ----------
    effect : SynthEffect
        The original fit.
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
    study, spec = effect._need_fit("placebo_in_time")
    if study.is_staggered:
        raise DesignError("placebo_in_time needs one common start; fit each cohort separately.")
    real = study.start
    last_pre = max(study.pre_times)
    if not study._period(start, "placebo start") < real:
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
        from .predictors import _periods

        parsed_opt = _periods(opt, study.freq, study.times, "optimize_periods")
        kept = [t for t in parsed_opt if t < fake.start]
        if len(kept) != len(parsed_opt):
            notes.append("placebo in time: optimize_periods restricted to periods before "
                         f"{fake.start}.")
        opt = kept or None
    kwargs = {"n_starts": spec["n_starts"], "rate": spec["rate"], "per": spec["per"],
              "inference": spec["inference"], "random_state": spec["random_state"],
              "level": spec["level"], "demean": spec.get("demean", False)}
    kwargs.update(overrides)
    out = synthetic_control(fake, predictors=predictors, optimize_periods=opt, v=v, **kwargs)
    out.diagnostics["warnings"] = notes + out.diagnostics["warnings"]
    out.method = "synthetic_control (placebo in time)"
    return out


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
    effect : SynthEffect
        A fit with one treated unit.
    tol : float, default 1e-6
        Donors with weight above this are dropped in turn.

    Returns
    -------
    LeaveOneOutResult
    """
    study, spec, Y, X, units, _times, u, pre, post, opt, v = _refit_args(effect)
    donors = list(study.donors)
    i_t = units.index(u)
    rows, paths = [], {}
    base = effect.path
    rows.append({"dropped": "(none)", "weight": 0.0, "estimate": effect.estimate,
                 "pre_rmspe": effect.pre_rmspe})
    paths["(none)"] = base["counterfactual"].to_numpy()
    for d in effect.weights[effect.weights > tol].sort_values(ascending=False).index:
        others = np.array([units.index(x) for x in donors if x != d])
        fit = fit_unit(Y, X, i_t, others, pre, post, opt, v, n_starts=spec["n_starts"],
                       random_state=spec["random_state"])
        rows.append({"dropped": d, "weight": float(effect.weights[d]),
                     "estimate": float(fit.gap[post].mean()), "pre_rmspe": float(np.sqrt(fit.pre_mspe))})
        paths[d] = fit.synthetic + spec.get("shift", 0.0)  # demeaned fits: original scale
    table = pd.DataFrame(rows).set_index("dropped")
    return LeaveOneOutResult(table=table, counterfactuals=pd.DataFrame(paths, index=base.index),
                             observed=base["observed"], start=str(study.start))


# Conformal inference and the augmented/penalized refits live in their own modules; the
# names stay importable from here.
from .conformal_refit import ConformalResult, conformal, conformal_arrays  # noqa: E402
from .weighting_inference import weighting_conformal, weighting_placebo_in_space  # noqa: E402
