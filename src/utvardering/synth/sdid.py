"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021).

:func:`synthetic_did` estimates the average effect on the treated as the treated-minus-
control contrast of a two-way fixed-effects regression weighted by unit weights
:math:`\\hat\\omega` and time weights :math:`\\hat\\lambda`:

.. math::

    \\hat\\tau = \\Big(\\bar Y_{\\mathrm{tr,post}} - \\sum_t \\hat\\lambda_t \\bar Y_{\\mathrm{tr},t}\\Big)
    - \\sum_i \\hat\\omega_i \\Big(\\bar Y_{i,\\mathrm{post}} - \\sum_t \\hat\\lambda_t Y_{it}\\Big).

Synthetic control (:math:`\\hat\\lambda = 0`, unit weights without intercept) and
difference-in-differences (uniform weights) come from the same code path. Staggered
adoption is handled cohort by cohort (never-treated controls), and the cohort estimates
are averaged with weights :math:`N_g T_{\\mathrm{post},g}`. The weights are computed in
:mod:`~utvardering.synth.sdid_weights`, the standard errors in
:mod:`~utvardering.synth.sdid_inference`, the outcome matrix in
:mod:`~utvardering.synth._panel`, the figure in :mod:`utvardering.plotting.sdid`.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import DataError, DesignError
from ..estimators import register_estimator
from ..inference.counts import events_difference
from ..options import check_level, check_option
from ..study import Study
from ._legacy import take_renamed
from ._panel import event_summary, panel_matrix
from .result import SyntheticDiDEffect, set_event_fields
from .sdid_inference import SDIDDesign, sdid_se
from .sdid_weights import SolverOptions, fit_blocks, noise_level

__all__ = ["SyntheticDiDEffect", "event_summary", "panel_matrix", "sdid_design", "synthetic_did"]

Estimator = Literal["sdid", "sc", "did"]
SEMethod = Literal["placebo", "bootstrap", "jackknife"]
_ESTIMATORS = ("sdid", "sc", "did")
_SE_METHODS = ("placebo", "bootstrap", "jackknife", None)


def _options(estimator: str) -> SolverOptions:
    if estimator == "sdid":
        return SolverOptions()
    if estimator == "sc":
        return SolverOptions(omega_intercept=False, update_lambda=False)
    return SolverOptions(update_omega=False, update_lambda=False)


def _fit(Y: np.ndarray, n_co: int, treated_t0: np.ndarray, estimator: str) -> tuple[SDIDDesign, np.ndarray, np.ndarray]:
    """Fit every cohort; return the design, cohort estimates and iteration counts."""
    cohorts = np.unique(treated_t0)
    T = Y.shape[1]
    rows, zo, zl, md, lam0 = [], [], [], [], []
    for cut in cohorts:
        members = n_co + np.flatnonzero(treated_t0 == cut)
        block = np.concatenate([np.arange(n_co), members])
        if cut < 2:
            raise DesignError("synthetic DiD needs at least two pre-periods for every cohort "
                              "(the noise level uses first differences); start later.")
        sigma = noise_level(Y[block], n_co, int(cut))
        eta_omega = (members.size * (T - cut)) ** 0.25 if estimator == "sdid" else 1e-6
        rows.append(block)
        zo.append(eta_omega * sigma)
        zl.append(1e-6 * sigma)
        md.append(1e-5 * sigma)
        lam0.append(np.zeros(int(cut)) if estimator == "sc" else None)
    options = _options(estimator)
    tau, omega, lam, iters = fit_blocks(Y, rows, np.full(len(cohorts), n_co), cohorts, [None] * len(cohorts),
                                        lam0, np.array(zo), np.array(zl), np.array(md), options)
    design = SDIDDesign(Y=Y, n_co=n_co, treated_t0=treated_t0, cohorts=cohorts, omega=omega, lam=lam,
                        zeta_omega=np.array(zo), zeta_lambda=np.array(zl), min_decrease=np.array(md),
                        options=options)
    return design, tau, iters


def _cohort_path(Y: np.ndarray, n_co: int, members: np.ndarray, cut: int, omega: np.ndarray,
                 lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    observed = Y[members].mean(axis=0)
    synthetic = omega @ Y[:n_co]
    intercept = float(lam @ (observed[:cut] - synthetic[:cut]))
    return observed, synthetic, intercept


def sdid_design(study: Study, estimator: Estimator = "sdid", rate: bool | None = None,
                per: float = 100_000) -> SDIDDesign:
    """The fitted weights of every cohort as an :class:`~utvardering.synth.sdid_inference.SDIDDesign`.

    For custom inference (e.g. replaying given placebo permutations with
    :func:`~utvardering.synth.sdid_inference.placebo_estimates`). Rows of ``design.Y`` are
    ``study.donors`` followed by ``study.treated``.

    Parameters
    ----------
    study : Study
        The design.
    estimator : {"sdid", "sc", "did"}, default "sdid"
        As in :func:`synthetic_did`.
    rate : bool, optional
        Use rates per ``per`` exposure.
    per : float, default 100000
        Rate base.

    Returns
    -------
    SDIDDesign
    """
    if estimator not in _ESTIMATORS:
        raise DesignError(f"estimator={estimator!r} is not one of {', '.join(map(repr, _ESTIMATORS))}.")
    table, _, _ = panel_matrix(study, rate, per)
    times = list(table.columns)
    treated_t0 = np.array([sum(t < study.starts[u] for t in times) for u in study.treated])
    return _fit(table.to_numpy(), len(study.donors), treated_t0, estimator)[0]


@register_estimator("synthetic_did", family="synth",
                    summary="Synthetic difference-in-differences (unit and time weights); SC and DiD as special cases")
def synthetic_did(
    study: Study | pd.DataFrame,
    *,
    estimator: Estimator = "sdid",
    inference: SEMethod | None = "placebo",
    n_draws: int = 200,
    random_state: int | np.random.Generator | None = None,
    enumerate_placebos: bool = True,
    level: float = 0.95,
    rate: bool | None = None,
    per: float = 100_000,
    **study_args: Any,
) -> SyntheticDiDEffect:
    """Synthetic difference-in-differences, with synthetic control and DiD as special cases.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        The design; a DataFrame is turned into a :class:`~utvardering.Study` with
        ``study_args`` (``outcome=``, ``unit=``, ``time=``, ``treated=``, ``start=`` ...).
    estimator : {"sdid", "sc", "did"}, default "sdid"
        ``"sdid"``: unit weights with intercept and ridge
        :math:`\\zeta_\\omega = (N_{\\mathrm{tr}} T_{\\mathrm{post}})^{1/4}\\hat\\sigma`, time weights
        with intercept. ``"sc"``: unit weights without intercept (ridge
        :math:`10^{-6}\\hat\\sigma`), no time weights. ``"did"``: uniform weights.
    inference : {"placebo", "bootstrap", "jackknife"} or None, default "placebo"
        Standard-error method (Arkhangelsky et al. 2021, Algorithms 2–4). Bootstrap and
        jackknife are refused with one treated unit. (Old name ``se=``, accepted with a
        DeprecationWarning until the next release.)
    n_draws : int, default 200
        Placebo or bootstrap draws (old name ``replications=``).
    random_state : int or numpy.random.Generator, optional
        Seed for the draws.
    enumerate_placebos : bool, default True
        Placebo: when there are at most ``n_draws`` distinct placebo assignments (one
        treated unit: one per donor), use each once — the exact limit of R ``synthdid``'s
        random permutations as the draws grow, with no Monte Carlo error. ``False``:
        ``n_draws`` random permutations, as R.
    level : float, default 0.95
        Coverage of the normal interval :math:`\\hat\\tau \\pm z\\,\\widehat{se}`.
    rate : bool, optional
        Analyse the outcome per ``per`` exposure (default: when the Study has ``exposure``).
    per : float, default 100000
        Rate base.
    **study_args
        Passed to :class:`~utvardering.Study` when ``study`` is a DataFrame.

    Returns
    -------
    SyntheticDiDEffect
        Estimate, interval, ``weights`` (unit), ``time_weights``, ``path`` (observed,
        counterfactual = weighted controls + intercept, effect), per-cohort table. For
        count outcomes ``events_prevented`` (and its interval) holds the events prevented and
        ``rate_ratio`` observed / counterfactual events (also in ``diagnostics``).

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
    Synthetic difference-in-differences. *American Economic Review* 111(12), 4088–4118.
    """
    given = take_renamed(study_args, {"se": "inference", "replications": "n_draws"},
                         "synthetic_did", {"inference": inference, "n_draws": n_draws},
                         {"inference": "placebo", "n_draws": 200})
    inference, n_draws = given["inference"], given["n_draws"]
    check_option("estimator", estimator, _ESTIMATORS)
    check_option("inference", inference, _SE_METHODS)
    level = check_level(level)
    if inference in ("placebo", "bootstrap") and not (isinstance(n_draws, (int, np.integer))
                                                      and n_draws >= 2):
        raise DesignError(f"n_draws={n_draws!r} must be an integer of at least 2, e.g. 200.")
    study = Study.coerce(study, where="synthetic_did", **study_args)
    if not study.donors:
        raise DesignError("synthetic DiD needs never-treated comparison units; the donor pool is empty.")
    table, exposure, scale = panel_matrix(study, rate, per)
    times = list(table.columns)
    Y = table.to_numpy()
    n_co = len(study.donors)
    treated = list(study.treated)
    treated_t0 = np.array([sum(t < study.starts[u] for t in times) for u in treated])
    design, tau_g, iters = _fit(Y, n_co, treated_t0, estimator)
    T = len(times)
    n_g = np.array([np.sum(treated_t0 == c) for c in design.cohorts])
    w_g = n_g * (T - design.cohorts)
    estimate = float(np.sum(w_g * tau_g) / w_g.sum())

    warnings: list[str] = []
    paths, pre_fit, intercepts = [], [], []
    for g, cut in enumerate(design.cohorts):
        members = n_co + np.flatnonzero(treated_t0 == cut)
        obs, syn, icpt = _cohort_path(Y, n_co, members, int(cut), design.omega[g], design.lam[g])
        cf = syn + icpt
        paths.append((int(cut), obs, cf))
        intercepts.append(icpt)
        pre_fit.append(float(np.sqrt(np.mean((obs[:cut] - cf[:cut]) ** 2))))
        lo, hi = Y[:n_co, :cut].min(axis=0), Y[:n_co, :cut].max(axis=0)
        outside = np.mean((obs[:cut] > hi) | (obs[:cut] < lo))
        if outside > 0.5 and estimator == "sc":
            warnings.append(
                f"the treated units (cohort starting {times[cut]}) lie outside the donors' range in "
                f"{outside:.0%} of pre-periods: synthetic control cannot fit their level; prefer "
                "estimator='sdid' or 'did', whose intercept absorbs level differences.")
    donors = pd.Index(study.donors, name=study.unit)
    if len(design.cohorts) == 1:
        cut, obs, cf = paths[0]
        index = pd.Index(times, name="time")
        path = pd.DataFrame({"observed": obs, "counterfactual": cf, "effect": obs - cf}, index=index)
        time_weights = pd.Series(design.lam[0], index=pd.Index(times[:cut], name="time"), name="weight")
        intercept = intercepts[0]
    else:
        rows = []
        for (cut, obs, cf), n in zip(paths, n_g):
            for t in range(T):
                rows.append((t - cut, n, obs[t], cf[t]))
        long = pd.DataFrame(rows, columns=["event_time", "n", "observed", "counterfactual"])
        agg = long.groupby("event_time").apply(
            lambda d: pd.Series({c: np.average(d[c], weights=d["n"]) for c in ("observed", "counterfactual")}),
            include_groups=False)
        agg["effect"] = agg["observed"] - agg["counterfactual"]
        path, time_weights, intercept = agg, None, None
    unit_w = np.sum([w * o for w, o in zip(w_g, design.omega)], axis=0) / w_g.sum()
    cohort_rows = [(str(times[c]), "unit", str(u), float(w)) for c, om in zip(design.cohorts, design.omega)
                   for u, w in zip(study.donors, om)]
    cohort_rows += [(str(times[c]), "time", str(times[t]), float(w)) for c, la in zip(design.cohorts, design.lam)
                    for t, w in enumerate(la)]
    cohort_weights = pd.DataFrame(cohort_rows, columns=["start", "kind", "name", "weight"])
    cohorts = pd.DataFrame({"start": [str(times[c]) for c in design.cohorts], "n_treated": n_g,
                            "n_post": T - design.cohorts, "weight": w_g / w_g.sum(), "estimate": tau_g})

    se_value, replicates = None, None
    interval, p_value = (math.nan, math.nan), None
    if not np.isfinite(estimate):  # pragma: no cover - the panel check rules this out
        raise DataError(f"synthetic_did: the estimate is {estimate}; check the outcome "
                        f"{study.outcome!r} for extreme values.")
    if inference is not None:
        rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
        se_value, draws = sdid_se(design, inference, n_draws, rng, enumerate_placebos)
        replicates = draws.tolist()
        z = NormalDist().inv_cdf(0.5 + level / 2)
        interval = (estimate - z * se_value, estimate + z * se_value)
        if not np.isfinite(se_value):
            interval, p_value = (math.nan, math.nan), None
            warnings.append(f"the {inference} standard error is not finite; no interval or p-value.")
        else:
            p_value = float(2 * (1 - NormalDist().cdf(abs(estimate) / se_value))) if se_value > 0 else None
        if inference == "jackknife" and estimator == "sc":
            warnings.append("the jackknife is not recommended for synthetic control "
                            "(Arkhangelsky et al. 2021, §5); prefer inference='placebo'.")
    post_cf = np.concatenate([cf[cut:] for cut, _, cf in paths])
    post_w = np.concatenate([np.full(T - cut, n) for (cut, _, _), n in zip(paths, n_g)])
    cf_mean = float(np.average(post_cf, weights=post_w))
    relative = estimate / cf_mean if cf_mean != 0 else None
    rel_int = (interval[0] / cf_mean, interval[1] / cf_mean) if relative is not None and inference is not None else None
    diagnostics: dict[str, Any] = {
        "pre_rmspe": float(np.average(pre_fit, weights=n_g)),
        "noise_level": float(design.min_decrease[0] / 1e-5),
        "zeta_omega": float(design.zeta_omega[0]) if estimator != "did" else None,
        "effective_donors": float(1.0 / np.sum(unit_w ** 2)),
        "iterations": int(iters.sum()),
        "n_pre": int(design.cohorts.min()),
        "n_post": int(T - design.cohorts.min()),
        "warnings": warnings,
    }
    observed_events = None
    if len(design.cohorts) == 1:
        effect_post = path["effect"].iloc[int(design.cohorts[0]):]
        diagnostics.update(event_summary(study, effect_post, exposure, per, interval, estimate,
                                         observed_path=path["observed"]))
        observed_events = diagnostics.pop("observed_events", None)
    elif study.is_count:
        size = n_g * (T - design.cohorts) if exposure is None else np.array([
            exposure.iloc[n_co + np.flatnonzero(treated_t0 == c), c:].to_numpy().sum() / per
            for c in design.cohorts])
        diagnostics["events_difference"] = events_difference(tau_g, size)
        diagnostics["events_prevented"] = -diagnostics["events_difference"]
    effect = SyntheticDiDEffect(
        method={"sdid": "synthetic_did", "sc": "synthetic_control (sdid path)",
                "did": "difference_in_differences (sdid path)"}[estimator],
        estimate=estimate, interval=interval, level=level, se=se_value, relative=relative,
        relative_interval=rel_int, p_value=p_value, path=path, diagnostics=diagnostics,
        outcome=study.outcome, scale=scale, estimand="average effect on the treated over the post-period",
        n_treated=len(treated), n_control=n_co, start=str(study.start),
        params={"estimator": estimator, "inference": inference, "n_draws": n_draws,
                "enumerate_placebos": enumerate_placebos,
                "random_state": random_state if isinstance(random_state, int) else None,
                "level": level, "rate": exposure is not None, "per": per, "time_column": study.time},
        weights=pd.Series(unit_w, index=donors, name="weight"), time_weights=time_weights,
        intercept=intercept, cohorts=cohorts, cohort_weights=cohort_weights, replicates=replicates,
    )
    if "events_difference" in diagnostics:
        set_event_fields(effect, diagnostics["events_difference"], observed_events)
    return effect
