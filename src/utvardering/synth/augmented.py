"""Ridge-augmented synthetic control (Ben-Michael, Feller & Rothstein 2021).

Synthetic control weights :math:`\\hat w^{\\mathrm{scm}}` leave an imbalance
:math:`X_1 - X_0^\\top \\hat w^{\\mathrm{scm}}` in the pre-period outcomes when the treated
unit is not inside the donors' convex hull. Ridge ASCM estimates the bias this causes with
a ridge regression of the post-period outcomes on the (centred) pre-period outcomes and
removes it. The result is again a weighting estimator, with weights that may be negative:

.. math::

    \\hat w^{\\mathrm{aug}} = \\hat w^{\\mathrm{scm}} + X_{0}\\,(X_{0}^\\top X_{0} + \\lambda I)^{-1}
    (X_1 - X_{0}^\\top \\hat w^{\\mathrm{scm}}),
    \\qquad \\hat Y_{1t}(0) = \\sum_j \\hat w^{\\mathrm{aug}}_j Y_{jt},

(:math:`X_0`: donors × pre-periods, centred on the donor mean). :math:`\\lambda \\to \\infty`
gives synthetic control; :math:`\\lambda \\to 0` an exact (extrapolating) fit. Auxiliary
covariates :math:`Z` are either regressed out of the outcomes first (``residualize=True``;
the weights then balance :math:`Z` exactly) or appended to :math:`X` after rescaling.
:math:`\\lambda` is chosen as in ``augsynth``: hold out each pre-period in turn, fit on the
rest, and take the largest :math:`\\lambda` whose mean squared hold-out error is within one
standard error of the smallest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._numerics.simplex import simplex_lstsq
from ..errors import DataError, DesignError
from ..estimators import register_estimator
from ..options import check_level, check_option
from ..study import Study
from ._legacy import take_renamed
from ._panel import SynthPanel
from .result import AugmentedSynthEffect, TreatedFit, synth_effect

__all__ = ["AugmentedSynthEffect", "WeightingRefit", "augmented_synthetic_control",
           "ridge_augmented_weights"]


@dataclass(frozen=True)
class WeightingRefit:
    """The refit callable of augmented and penalized synthetic control (see
    :mod:`~utvardering.synth.robustness`).

    ``refit(row, donor_rows, random_state=None)`` refits the estimator for the unit in row
    ``row`` of ``table`` against the donors in ``donor_rows`` with the fitted options and
    returns ``(gap, synthetic)``; a cross-validated penalty (``penalty=None``) is
    cross-validated again, a given one is kept.
    """

    table: pd.DataFrame
    pre: np.ndarray
    fit: Callable
    penalty: float | None

    def __call__(self, row: int, donor_rows, random_state=None):
        """Refit unit ``row`` on ``donor_rows`` with the fitted penalty (robustness refits)."""
        names = list(self.table.index)
        unit, donors = names[row], [names[r] for r in donor_rows]
        w, _ws, _lam, _cv, yy, Y0 = self.fit(self.table.loc[unit].to_numpy(dtype=float),
                                             self.table.loc[donors].to_numpy(dtype=float),
                                             self.pre, unit, donors, self.penalty)
        synthetic = w @ Y0
        return yy - synthetic, synthetic


def lambda_grid(X0: np.ndarray, n_lambda: int = 20, min_ratio: float = 1e-8) -> np.ndarray:
    """``augsynth``'s grid: :math:`\\sigma_1(X_0)^2 \\cdot r^{k/n}`, :math:`k = 0, …, n`."""
    top = float(np.linalg.svd(X0, compute_uv=False)[0] ** 2)
    top = top if top > 0 else 1.0
    return top * (min_ratio ** (1.0 / n_lambda)) ** np.arange(n_lambda + 1)


def _ridge(X0: np.ndarray, gap: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Ridge adjustment :math:`X_0 (X_0^\\top X_0 + \\lambda I)^{-1} g` for each ``lam`` (rows)."""
    U, s, Vt = np.linalg.svd(X0, full_matrices=False)
    proj = Vt @ gap
    return (U * s) @ (proj[:, None] / (s[:, None] ** 2 + lam[None, :]))


def ridge_augmented_weights(
    X0: np.ndarray,
    x1: np.ndarray,
    *,
    lam: float | None = None,
    n_lambda: int = 20,
    min_ratio: float = 1e-8,
    holdout: int = 1,
    min_1se: bool = True,
) -> tuple[np.ndarray, np.ndarray, float, pd.DataFrame | None]:
    """Ridge ASCM weights for centred donors ``X0`` (donors × features) and target ``x1``.

    Parameters
    ----------
    X0 : numpy.ndarray
        Shape ``(J, K)``, centred on the donor mean.
    x1 : numpy.ndarray
        Shape ``(K,)``, centred with the same means.
    lam : float, optional
        Ridge penalty; cross-validated when omitted.
    n_lambda, min_ratio : int, float
        Grid of :func:`lambda_grid`.
    holdout : int, default 1
        Length of each block of consecutive features held out in cross-validation.
    min_1se : bool, default True
        Largest :math:`\\lambda` within one standard error of the best (else the best).

    Returns
    -------
    weights, synth_weights : numpy.ndarray
    lam : float
    cv : pandas.DataFrame or None
    """
    w_scm = simplex_lstsq(X0.T, x1).w
    cv = None
    if lam is None:
        grid = lambda_grid(X0, n_lambda, min_ratio)
        K = X0.shape[1]
        if K - holdout < 1:
            raise DesignError("cross-validating the ridge penalty needs more pre-periods than the "
                              "hold-out length; give penalty= or start later.")
        errors = np.empty((K - holdout, grid.size))
        for i in range(K - holdout):
            out = np.arange(i, i + holdout)
            keep = np.setdiff1d(np.arange(K), out)
            Xt, xt = X0[:, keep], x1[keep]
            syn = simplex_lstsq(Xt.T, xt).w
            aug = syn[:, None] + _ridge(Xt, xt - Xt.T @ syn, grid)
            errors[i] = np.sum((x1[out, None] - X0[:, out].T @ aug) ** 2, axis=0)
        mean = errors.mean(axis=0)
        se = errors.std(axis=0, ddof=1) / np.sqrt(errors.shape[0]) if errors.shape[0] > 1 else np.zeros(grid.size)
        best = int(np.argmin(mean))
        lam = float(grid[mean <= mean[best] + se[best]].max()) if min_1se else float(grid[best])
        cv = pd.DataFrame({"lambda": grid, "error": mean, "se": se})
    weights = w_scm + _ridge(X0, x1 - X0.T @ w_scm, np.array([lam]))[:, 0]
    return weights, w_scm, float(lam), cv


def centred_covariates(Z: pd.DataFrame | None, unit, donors: list) -> tuple | None:
    """Donor covariates centred on their mean, and the unit's with the same centring."""
    if Z is None:
        return None
    Zd = Z.loc[list(donors)].to_numpy(dtype=float)
    mu = Zd.mean(axis=0)
    return Zd - mu, Z.loc[unit].to_numpy(dtype=float) - mu


def ascm_fit(y: np.ndarray, Y0: np.ndarray, pre: np.ndarray, Zc_all: tuple | None,
             lam: float | None, *, fixedeff: bool = False, residualize: bool = True,
             n_lambda: int = 20, holdout: int = 1, min_1se: bool = True) -> tuple:
    """Ridge ASCM for one treated series, on arrays.

    Parameters
    ----------
    y : numpy.ndarray
        Treated outcomes, ``(T,)``.
    Y0 : numpy.ndarray
        Donor outcomes, ``(J, T)``.
    pre : numpy.ndarray of bool
        Periods the weights are fitted on.
    Zc_all : tuple of numpy.ndarray or None
        Centred donor covariates ``(J, K)`` and the unit's ``(K,)`` (:func:`centred_covariates`).
    lam : float or None
        Ridge penalty (None: cross-validated).
    fixedeff, residualize, n_lambda, holdout, min_1se :
        As in :func:`augmented_synthetic_control`.

    Returns
    -------
    tuple
        ``(weights, synth_weights, lam, cv, y, Y0_used)``; the counterfactual is
        ``weights @ Y0_used`` (``Y0_used`` is shifted with ``fixedeff``).
    """
    X0, x1 = Y0[:, pre], y[pre]
    if fixedeff:  # weights fitted to demeaned series; Y0 shifted so that w @ Y0 = cf
        Y0 = Y0 - X0.mean(axis=1, keepdims=True) + x1.mean()
        X0 = Y0[:, pre]
    mu = X0.mean(axis=0)
    X0c, x1c = X0 - mu, x1 - mu
    extra = None
    if Zc_all is not None:
        Zc, z1 = Zc_all
        if residualize:
            coef, *_ = np.linalg.lstsq(Zc, X0c, rcond=None)
            X0c, x1c = X0c - Zc @ coef, x1c - z1 @ coef
            extra = (Zc, z1)
        else:
            sd = Zc.std(axis=0, ddof=1)
            sd[sd == 0] = 1.0
            sx = X0c.std(ddof=1)
            X0c = np.hstack([X0c, sx * Zc / sd])
            x1c = np.concatenate([x1c, sx * z1 / sd])
    w, ws, pen, cv = ridge_augmented_weights(X0c, x1c, lam=lam, n_lambda=n_lambda,
                                             holdout=holdout, min_1se=min_1se)
    if extra is not None:
        Zc, z1 = extra
        w = w + Zc @ np.linalg.lstsq(Zc.T @ Zc, z1 - Zc.T @ w, rcond=None)[0]
    return w, ws, pen, cv, y, Y0


def ascm_residuals(Zc_all: tuple | None, lam: float, **opts: Any):
    """Residual function for :mod:`utvardering.inference.conformal`: ridge ASCM refitted on
    every period (λ fixed) for each null-adjusted treated series.
    """

    def residuals(adj: np.ndarray, Y0: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(adj)
        every = np.ones(rows.shape[1], dtype=bool)
        out = np.empty_like(rows, dtype=float)
        for i, row in enumerate(rows):
            w, _ws, _lam, _cv, yy, YY0 = ascm_fit(row, Y0.T, every, Zc_all, lam, **opts)
            out[i] = yy - w @ YY0
        return out.reshape(np.shape(adj))

    return residuals


def unit_problems(study: Study, rate: bool | None, per: float):
    """The study's panel, its outcome table (donors then treated units, up to the end) and,
    per treated unit, its series, the donors' matrix and pre/post masks (rates applied).
    """
    panel = SynthPanel.from_study(study, rate, per)
    rows = list(study.donors) + list(study.treated)
    table = panel.table(rows, through_end=True)
    times = list(table.columns)
    donors = table.loc[list(study.donors)].to_numpy()
    out = {}
    for u in study.treated:
        start = study.starts[u]
        pre = np.array([t < start for t in times])
        post = ~pre
        out[u] = (table.loc[u].to_numpy(), donors, pre, post)
    return panel, table, out


def covariate_matrix(study: Study, covariates: list[str], pre_of: dict) -> pd.DataFrame:
    """Unit × covariate table of pre-period means (each unit's own pre-period)."""
    data = study.data
    missing = [c for c in covariates if c not in data.columns]
    if missing:
        raise DesignError(f"covariate(s) {missing} are not in the Study; pass covariates=[...] to Study().")
    rows = {}
    for u, start in pre_of.items():
        part = data[(data[study.unit] == u) & (data[study.time] < start)]
        rows[u] = part[covariates].mean()
    table = pd.DataFrame(rows).T
    if table.isna().to_numpy().any():
        bad = table.stack(future_stack=True)
        bad = bad[bad.isna()].index[0]
        raise DataError(f"covariate {bad[1]!r} is missing in every pre-period of unit {bad[0]!r}; "
                        "fill it or drop the covariate.")
    return table


@register_estimator("augmented_synthetic_control", family="synth",
                    summary="Ridge-augmented synthetic control (Ben-Michael, Feller & Rothstein), λ by CV")
def augmented_synthetic_control(
    study: Study | pd.DataFrame,
    *,
    penalty: float | None = None,
    covariates: list[str] | None = None,
    residualize: bool = True,
    fixedeff: bool = False,
    holdout: int = 1,
    n_lambda: int = 20,
    min_1se: bool = True,
    inference: Literal["jackknife"] | None = "jackknife",
    level: float = 0.95,
    rate: bool | None = None,
    per: float = 100_000,
    **study_args: Any,
) -> AugmentedSynthEffect:
    """Ridge-augmented synthetic control with optional covariates.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        The design (a DataFrame is passed to :class:`~utvardering.Study` with ``study_args``).
    penalty : float, optional
        Ridge penalty :math:`\\lambda` (old name ``lambda_=``); by default chosen by leave-one-pre-period-out
        cross-validation (``holdout`` consecutive periods at a time) with the one-standard-error
        rule (``min_1se``), on the grid :math:`\\sigma_1(X_0)^2 \\cdot 10^{-8k/n}`, :math:`k=0…n`.
    covariates : list of str, optional
        Auxiliary covariates (pre-period means per unit); default ``study.covariates``.
    residualize : bool, default True
        Regress the covariates out of the outcomes first and balance them exactly; otherwise
        append them (rescaled to the outcomes' spread) to the features.
    fixedeff : bool, default False
        Remove each unit's pre-period mean first (an intercept shift, as DiD).
    holdout, n_lambda, min_1se : int, int, bool
        Cross-validation settings (``augsynth`` defaults).
    inference : {"jackknife"} or None, default "jackknife"
        Leave-one-donor-out jackknife with :math:`\\lambda` fixed (old name ``se=``).
    level : float, default 0.95
        Interval coverage (normal).
    rate : bool, optional
        Analyse the outcome per ``per`` exposure (default: when the Study has ``exposure``).
    per : float, default 100000
        Rate base.
    **study_args
        Passed to :class:`~utvardering.Study` for a DataFrame.

    Returns
    -------
    AugmentedSynthEffect
        Average effect over treated units (each fitted on its own pre-period), ``weights``,
        ``synth_weights``, ``penalty`` (λ), ``cv`` and ``diagnostics["bias_correction"]``.

    References
    ----------
    Ben-Michael, E., Feller, A. & Rothstein, J. (2021). The augmented synthetic control
    method. *Journal of the American Statistical Association* 116(536), 1789–1803.
    """
    given = take_renamed(study_args, {"lambda_": "penalty", "se": "inference"},
                         "augmented_synthetic_control",
                         {"penalty": penalty, "inference": inference},
                         {"penalty": None, "inference": "jackknife"})
    penalty, inference = given["penalty"], given["inference"]
    check_option("inference", inference, ("jackknife", None))
    level = check_level(level)
    if penalty is not None and not penalty >= 0:
        raise DesignError(f"penalty={penalty!r} must be a non-negative ridge penalty.")
    study = Study.coerce(study, where="augmented_synthetic_control", **study_args)
    if inference == "jackknife" and len(study.donors) < 3:
        raise DesignError("the jackknife needs at least three donors; set inference=None.")
    if not study.donors:
        raise DesignError("augmented synthetic control needs comparison units; the donor pool is empty.")
    covariates = list(study.covariates if covariates is None else covariates)
    panel, table, problems = unit_problems(study, rate, per)
    Z = covariate_matrix(study, covariates, {u: study.starts[u] for u in study.treated}
                         | {d: study.start for d in study.donors}) if covariates else None
    warnings: list[str] = []

    opts = {"fixedeff": fixedeff, "residualize": residualize, "n_lambda": n_lambda,
            "holdout": holdout, "min_1se": min_1se}

    def fit(y, Y0, pre, Zc_all, lam):
        return ascm_fit(y, Y0, pre, Zc_all, lam, **opts)

    def zpart(u, keep):
        return centred_covariates(Z, u, [study.donors[j] for j in keep])

    fits, jack_draws = {}, []
    allj = np.arange(len(study.donors))
    for u, (y, Y0, pre, post) in problems.items():
        if abs(len(study.donors) - pre.sum()) <= 1:
            warnings.append(f"unit {u}: as many donors as pre-periods — ridge tuning is unstable here.")
        w, ws, pen, cv, yy, YY0 = fit(y, Y0, pre, zpart(u, allj), penalty)
        fits[u] = (w, ws, pen, cv, yy, YY0, pre, post)
    if inference == "jackknife":
        for j in allj:
            keep = np.delete(allj, j)
            ests = []
            for u, (y, Y0, pre, post) in problems.items():
                w, _, _, _, yy, YY0 = fit(y, Y0[keep], pre, zpart(u, keep), fits[u][2])
                ests.append(float((yy - w @ YY0)[post].mean()))
            jack_draws.append(float(np.mean(ests)))
    params = {"penalty": penalty, "covariates": covariates, "residualize": residualize,
              "fixedeff": fixedeff, "holdout": holdout, "n_lambda": n_lambda, "min_1se": min_1se,
              "inference": inference, "level": level, "rate": panel.rate, "per": per}

    def zpart_of(unit, donors):
        return centred_covariates(Z, unit, donors)

    def refit(y, Y0, pre, unit, donors, lam):
        return fit(y, Y0, pre, zpart_of(unit, donors), lam)

    lam = next(iter(fits.values()))[2]
    first_pre = next(iter(problems.values()))[2]
    spec = {"Y": table, "lam": lam, "refit_treated": False,
            "refit": WeightingRefit(table, first_pre, refit, None if penalty is None else lam),
            "residuals": lambda unit, donors, lam: ascm_residuals(zpart_of(unit, donors), lam, **opts)}

    return weighting_effect(panel, table, fits, method="augmented_synthetic_control",
                            estimand="average gap treated − augmented synthetic control over the "
                                     "post-period",
                            level=level, jackknife=jack_draws if inference else None,
                            params=params, warnings=warnings, spec=spec)


def jackknife_se(draws) -> float:
    """Leave-one-donor-out jackknife standard error,
    :math:`\\sqrt{(n-1)/n \\sum_j (\\hat\\tau_{(j)} - \\bar\\tau)^2}`.

    Parameters
    ----------
    draws : array-like
        The estimates without each donor in turn.

    Returns
    -------
    float
    """
    draws = np.array(draws)
    n = draws.size
    return float(np.sqrt((n - 1) / n * np.sum((draws - draws.mean()) ** 2)))


def weighting_effect(panel, table: pd.DataFrame, fits: dict, *, method: str, estimand: str,
                     level: float, jackknife, params: dict, warnings: list[str],
                     spec: dict) -> AugmentedSynthEffect:
    """The :class:`AugmentedSynthEffect` of augmented or penalized synthetic control.

    Parameters
    ----------
    panel : SynthPanel
        The panel of the fits.
    table : pandas.DataFrame
        Their outcome table.
    fits : dict
        Unit → ``(weights, synth_weights, penalty, cv, y, Y0, pre, post)``.
    method, estimand : str
        As the effect shows them.
    level : float
        Interval coverage.
    jackknife : list of float or None
        Leave-one-donor-out estimates (None: no inference).
    params, warnings, spec :
        The effect's params, warnings and refit specification.

    Returns
    -------
    AugmentedSynthEffect
        :func:`~utvardering.synth.result.synth_effect` with ``synth_weights``, ``penalty``,
        ``cv`` and the diagnostics ``synth_estimate``, ``bias_correction`` and
        ``negative_weight_share``.
    """
    treated = []
    for u, (w, ws, pen, _cv, y, Y0, pre, post) in fits.items():
        lo, hi = Y0[:, pre].min(axis=0), Y0[:, pre].max(axis=0)
        outside = float(np.mean((y[pre] > hi) | (y[pre] < lo)))
        notes = [] if outside <= 0.5 else [
            f"{u} lies outside the donors' range in {outside:.0%} of pre-periods: weights on "
            "the simplex cannot fit its level and the estimate may be biased; try "
            "fixedeff=True (augmented SC) or synthetic_did, and check pre_rmspe."]
        treated.append(TreatedFit(u, w, y, w @ Y0, pre, post, warnings=notes, columns={
            "synth_estimate": float((y - ws @ Y0)[post].mean()), "penalty": pen}))
    first = next(iter(fits.values()))
    donors = pd.Index(panel.study.donors, name="donor")
    synth = pd.Series(np.mean([f[1] for f in fits.values()], axis=0), index=donors, name="weight")
    effect = synth_effect(panel, table, treated, method=method, estimand=estimand, level=level,
                          params=params, spec=spec, warnings=warnings,
                          se=None if jackknife is None else jackknife_se(jackknife),
                          cls=AugmentedSynthEffect, synth_weights=synth,
                          penalty=float(np.mean([f[2] for f in fits.values()])), cv=first[3])
    synth_estimate = float(effect.unit_effects["synth_estimate"].mean())
    effect.diagnostics.update({
        "synth_estimate": synth_estimate,
        "bias_correction": effect.estimate - synth_estimate,
        "negative_weight_share": float(np.clip(-effect.weights.to_numpy(), 0, None).sum()),
    })
    return effect
