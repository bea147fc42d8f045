"""Penalized synthetic control (Abadie & L'Hour 2021).

The weights trade the fit of the synthetic unit as a whole against the fit of each donor
it uses:

.. math::

    \\hat w(\\lambda) = \\arg\\min_{w \\in \\Delta^{J}}
    \\lVert X_1 - \\textstyle\\sum_j w_j X_j \\rVert^2
    + \\lambda \\sum_j w_j \\lVert X_1 - X_j \\rVert^2 ,

with :math:`X` the (standardised) predictors: the pre-period outcomes and any covariate
pre-period means. :math:`\\lambda \\to 0` gives synthetic control (the least-penalized
solution when that is not unique); :math:`\\lambda \\to \\infty` gives one-nearest-neighbour
matching (all weight on the donor closest to the treated unit). For :math:`\\lambda > 0`
the solution is unique and sparse. :math:`\\lambda` is chosen by holding out each
pre-period outcome in turn (predictors: the remaining pre-periods and the covariates) and
minimising the mean squared hold-out error, or given.

The problem is a quadratic program on the simplex, solved exactly by a primal active-set
method (:func:`utvardering._numerics.simplex.simplex_qp`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from .._numerics.simplex import simplex_qp
from ..errors import DesignError
from ..estimators import register_estimator
from ..options import check_level, check_option
from ..study import Study
from ._legacy import take_renamed
from .augmented import WeightingRefit, covariate_matrix, unit_problems, weighting_effect
from .result import AugmentedSynthEffect

__all__ = ["penalized_synthetic_control", "penalized_weights"]


def penalized_weights(X0: np.ndarray, x1: np.ndarray, penalty: float) -> np.ndarray:
    """Abadie–L'Hour weights for donors ``X0`` (donors × predictors) and target ``x1``.

    Parameters
    ----------
    X0 : numpy.ndarray
        Shape ``(J, K)``.
    x1 : numpy.ndarray
        Shape ``(K,)``.
    penalty : float
        :math:`\\lambda \\ge 0`.

    Returns
    -------
    numpy.ndarray
        Weights on the simplex.
    """
    if penalty < 0:
        raise DesignError(f"penalty={penalty} must be non-negative.")
    D = X0 - x1
    d = np.sum(D ** 2, axis=1)
    # ||x1 - X0'w||^2 + λ d'w = w'(D D')w + λ d'w on the simplex (since Σw = 1)
    return simplex_qp(2.0 * D @ D.T, penalty * d)


def _grid(n: int) -> np.ndarray:
    return np.concatenate([[0.0], np.geomspace(1e-6, 1e3, n - 1)])


def _predictors(Y0: np.ndarray, y: np.ndarray, cols: np.ndarray, Zd, z1, standardize: bool):
    X0, x1 = Y0[:, cols], y[cols]
    if Zd is not None:
        X0, x1 = np.hstack([X0, Zd]), np.concatenate([x1, z1])
    if standardize:
        sd = np.vstack([X0, x1]).std(axis=0, ddof=1)
        sd[sd == 0] = 1.0
        X0, x1 = X0 / sd, x1 / sd
    return X0, x1


def penalized_fit(y: np.ndarray, Y0: np.ndarray, pre: np.ndarray, Zd: np.ndarray | None,
                  z1: np.ndarray | None, penalty: float | None, *, standardize: bool = True,
                  n_lambda: int = 30) -> tuple[np.ndarray, float, pd.DataFrame | None]:
    """Penalized SC for one treated series on arrays, the penalty cross-validated if ``None``.

    Parameters
    ----------
    y : numpy.ndarray
        Treated outcomes, ``(T,)``.
    Y0 : numpy.ndarray
        Donor outcomes, ``(J, T)``.
    pre : numpy.ndarray of bool
        Periods whose outcomes are predictors.
    Zd, z1 : numpy.ndarray or None
        Donor and treated covariates (``(J, K)``, ``(K,)``).
    penalty : float or None
        :math:`\\lambda`; None: leave-one-pre-period-out cross-validation.
    standardize, n_lambda :
        As in :func:`penalized_synthetic_control`.

    Returns
    -------
    weights, penalty, cv
    """
    cv = None
    if penalty is None:
        grid = _grid(n_lambda)
        pre_idx = np.flatnonzero(pre)
        if pre_idx.size < 2:
            raise DesignError("cross-validating the penalty needs two or more pre-periods; give penalty=.")
        errors = np.empty((pre_idx.size, grid.size))
        for i, t in enumerate(pre_idx):
            X0, x1 = _predictors(Y0, y, np.setdiff1d(pre_idx, [t]), Zd, z1, standardize)
            for k, lam in enumerate(grid):
                w = penalized_weights(X0, x1, lam)
                errors[i, k] = (y[t] - w @ Y0[:, t]) ** 2
        mean = errors.mean(axis=0)
        se_ = errors.std(axis=0, ddof=1) / np.sqrt(pre_idx.size)
        penalty = float(grid[int(np.argmin(mean))])
        cv = pd.DataFrame({"lambda": grid, "error": mean, "se": se_})
    X0, x1 = _predictors(Y0, y, np.flatnonzero(pre), Zd, z1, standardize)
    return penalized_weights(X0, x1, float(penalty)), float(penalty), cv


def penalized_residuals(Zd: np.ndarray | None, z1: np.ndarray | None, penalty: float, *,
                        standardize: bool = True):
    """Residual function for :mod:`utvardering.inference.conformal`: penalized SC with the
    outcomes of every period as predictors (penalty fixed), for each null-adjusted series.
    """

    def residuals(adj: np.ndarray, Y0: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(adj)
        cols = np.arange(rows.shape[1])
        out = np.empty_like(rows, dtype=float)
        for i, row in enumerate(rows):
            X0, x1 = _predictors(Y0.T, row, cols, Zd, z1, standardize)
            out[i] = row - penalized_weights(X0, x1, penalty) @ Y0.T
        return out.reshape(np.shape(adj))

    return residuals


@register_estimator("penalized_synthetic_control", family="synth",
                    summary="Penalized synthetic control (Abadie & L'Hour): pairwise-discrepancy penalty")
def penalized_synthetic_control(
    study: Study | pd.DataFrame,
    *,
    penalty: float | None = None,
    covariates: list[str] | None = None,
    standardize: bool = True,
    n_lambda: int = 30,
    inference: Literal["jackknife"] | None = "jackknife",
    level: float = 0.95,
    rate: bool | None = None,
    per: float = 100_000,
    **study_args: Any,
) -> AugmentedSynthEffect:
    """Penalized synthetic control with the penalty chosen by pre-period cross-validation.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        The design (a DataFrame is passed to :class:`~utvardering.Study` with ``study_args``).
    penalty : float, optional
        :math:`\\lambda`. By default: leave-one-pre-period-out cross-validation over
        :math:`\\{0\\} \\cup [10^{-6}, 10^{3}]` (``n_lambda`` values, log-spaced), minimising
        the mean squared hold-out error.
    covariates : list of str, optional
        Extra predictors (pre-period means per unit); default ``study.covariates``.
    standardize : bool, default True
        Divide each predictor by its standard deviation across units.
    n_lambda : int, default 30
        Grid size.
    inference : {"jackknife"} or None, default "jackknife"
        Leave-one-donor-out jackknife with the penalty fixed (old name ``se=``).
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
        ``weights`` (= ``synth_weights``), ``penalty`` and the ``cv`` curve.

    References
    ----------
    Abadie, A. & L'Hour, J. (2021). A penalized synthetic control estimator for
    disaggregated data. *Journal of the American Statistical Association* 116(536),
    1817–1834.
    """
    given = take_renamed(study_args, {"se": "inference"}, "penalized_synthetic_control",
                         {"inference": inference}, {"inference": "jackknife"})
    inference = given["inference"]
    check_option("inference", inference, ("jackknife", None))
    level = check_level(level)
    if penalty is not None and not penalty >= 0:
        raise DesignError(f"penalty={penalty} must be non-negative (0 = synthetic control).")
    study = Study.coerce(study, where="penalized_synthetic_control", **study_args)
    if not study.donors:
        raise DesignError("penalized synthetic control needs comparison units; the donor pool is empty.")
    if inference == "jackknife" and len(study.donors) < 3:
        raise DesignError("the jackknife needs at least three donors; set inference=None.")
    covariates = list(study.covariates if covariates is None else covariates)
    panel, table, problems = unit_problems(study, rate, per)
    Z = covariate_matrix(study, covariates, {u: study.starts[u] for u in study.treated}
                         | {d: study.start for d in study.donors}) if covariates else None

    def zpart(u, keep):
        if Z is None:
            return None, None
        return Z.loc[list(study.donors)].to_numpy()[keep], Z.loc[u].to_numpy()

    allj = np.arange(len(study.donors))
    fits = {}
    for u, (y, Y0, pre, post) in problems.items():
        Zd, z1 = zpart(u, allj)
        w, lam, cv = penalized_fit(y, Y0, pre, Zd, z1, penalty, standardize=standardize,
                                   n_lambda=n_lambda)
        fits[u] = (w, w, lam, cv, y, Y0, pre, post)
    draws = []
    if inference == "jackknife":
        for j in allj:
            keep = np.delete(allj, j)
            ests = []
            for u, (y, Y0, pre, post) in problems.items():
                Zd, z1 = zpart(u, keep)
                X0, x1 = _predictors(Y0[keep], y, np.flatnonzero(pre), Zd, z1, standardize)
                w = penalized_weights(X0, x1, fits[u][2])
                ests.append(float((y - w @ Y0[keep])[post].mean()))
            draws.append(float(np.mean(ests)))
    warnings: list[str] = []
    params = {"penalty": penalty, "covariates": covariates, "standardize": standardize,
              "n_lambda": n_lambda, "inference": inference, "level": level, "rate": panel.rate, "per": per}
    opts = {"standardize": standardize, "n_lambda": n_lambda}

    def covs(unit, donors):
        if Z is None:
            return None, None
        return Z.loc[list(donors)].to_numpy(dtype=float), Z.loc[unit].to_numpy(dtype=float)

    def refit(y, Y0, pre, unit, donors, lam):
        w, lam, cv = penalized_fit(y, Y0, pre, *covs(unit, donors), lam, **opts)
        return w, w, lam, cv, y, Y0

    lam = next(iter(fits.values()))[2]
    first_pre = next(iter(problems.values()))[2]
    spec = {"Y": table, "lam": lam, "refit_treated": False,
            "refit": WeightingRefit(table, first_pre, refit, None if penalty is None else lam),
            "residuals": lambda unit, donors, lam: penalized_residuals(*covs(unit, donors), lam,
                                                                       standardize=standardize)}
    return weighting_effect(panel, table, fits, method="penalized_synthetic_control",
                            estimand="average gap treated − penalized synthetic control over the "
                                     "post-period",
                            level=level, jackknife=draws if inference else None, params=params,
                            warnings=warnings, spec=spec)
