"""Fixed-effects regression shared by :func:`~utvardering.did.twfe.twfe`, the event study and
:func:`~utvardering.did.survey.survey_did`: the fit with absorbed effects and cluster-robust
variance, and its few-cluster inference (randomization with a Conley–Taber interval, the wild
cluster bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .._numerics.fixed_effects import Absorber, factorize, fe_ols, independent_columns
from ..errors import DataError
from ..inference.cluster import cluster_vcov, coefficient_table
from ..inference.randomization import (
    conley_taber_interval,
    permutation_test,
    placebos_needed,
)
from ..inference.wild_bootstrap import wild_cluster_bootstrap
from ._design import PanelDesign

__all__ = ["FERegression", "Inference", "apply_inference", "cluster_counts",
           "counterfactual_mean", "fit_fe_regression", "guard_inference", "power_of_two_scale",
           "randomization_inference", "spread", "unscale", "wild_inference"]

#: A standard error below this multiple of the outcome's spread is zero up to rounding.
DEGENERATE_SE = 1e-10

Inference = Literal["cluster", "wild", "randomization"]


@dataclass
class FERegression:
    """A fitted fixed-effects regression (see :func:`fit_fe_regression`).

    Attributes
    ----------
    names : list of str
        Regressors kept (collinear ones dropped).
    coef, vcov : numpy.ndarray
        Their coefficients and cluster-robust variance.
    table : pandas.DataFrame
        :func:`~utvardering.inference.cluster.coefficient_table` of the kept regressors.
    df : int
        Degrees of freedom of the t reference distribution, ``G - 1``.
    n_clusters : int
        Clusters ``G``.
    dropped : list of str
        Regressors dropped as collinear.
    fit : OLSFit
        The least-squares fit on the demeaned data.
    clusters : numpy.ndarray
        Integer cluster codes.
    absorber : Absorber
        The fixed effects (and weights) projected off.
    X, y : numpy.ndarray
        Kept regressors and outcome, before projection.
    """

    names: list
    coef: np.ndarray
    vcov: np.ndarray
    table: pd.DataFrame
    df: int
    n_clusters: int
    dropped: list
    fit: object
    clusters: np.ndarray
    absorber: Absorber
    X: np.ndarray
    y: np.ndarray


def fit_fe_regression(design: PanelDesign, regressors: pd.DataFrame, *, fixed_effects=(),
                      vcov: str = "CR1", level: float = 0.95) -> FERegression:
    """Absorb unit, period and extra fixed effects, fit by (weighted) least squares, cluster.

    Collinear regressors are dropped (later columns first) and listed in ``dropped``. For CR1
    the small-sample factor counts the regressors plus the levels of every fixed effect not
    nested in the clusters (as ``pyfixest``).
    """
    frame = design.frame
    codes = [factorize(frame[design.unit])[0], factorize(frame[design.time])[0]]
    codes += [factorize(frame[c])[0] for c in fixed_effects]
    w = None if design.weights is None else frame[design.weights].to_numpy(float)
    if w is not None and (~np.isfinite(w) | (w <= 0)).any():
        raise DataError(f"weights column {design.weights!r} must be positive and present "
                        f"({int((~np.isfinite(w) | (w <= 0)).sum())} row(s) are not).")
    absorber = Absorber(codes, weights=w, n=len(frame))
    X_all = regressors.to_numpy(float)
    y = design.outcome_values()
    keep = independent_columns(absorber.demean(X_all), absorber.weights)
    names = [regressors.columns[j] for j in keep]
    dropped = [c for j, c in enumerate(regressors.columns) if j not in keep]
    X = X_all[:, keep]
    factor = power_of_two_scale(y)  # 1 unless the outcome is near over- or underflow
    fit = fe_ols(y / factor if factor != 1.0 else y, X, absorber)
    clusters, _ = factorize(frame[design.cluster])
    nested = absorber.nested_in(clusters)
    k_extra = sum(lv for lv, nst in zip(absorber.levels, nested) if not nst)
    if not any(nested):
        k_extra = absorber.dof()
    V = cluster_vcov(fit.Xd, fit.resid, clusters, weights=fit.weights, bread=fit.bread,
                     kind=vcov, k_extra=k_extra, absorber=absorber)
    g = int(clusters.max()) + 1
    table = coefficient_table(names, fit.coef, V, g - 1, level)
    if factor != 1.0:
        table, fit.coef, fit.resid, fit.yd, V = unscale(table, factor, fit.coef, fit.resid,
                                                        fit.yd, V)
    return FERegression(names, fit.coef, V, table, g - 1, g, dropped, fit, clusters, absorber, X, y)


def power_of_two_scale(y: np.ndarray) -> float:
    """1, or the power of two that brings an outcome near over- or underflow to order one.

    Dividing by a power of two is exact in floating point, so estimates and variances scale
    back exactly; outcomes of ordinary size (between :math:`2^{-300}` and :math:`2^{300}`) are
    left untouched, which keeps every result bit for bit.
    """
    finite = np.abs(np.asarray(y, dtype=float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size == 0:
        return 1.0
    top = float(finite.max())
    if 2.0 ** -300 < top < 2.0 ** 300:
        return 1.0
    return float(2.0 ** np.frexp(top)[1])


def unscale(table: pd.DataFrame, factor: float, coef, resid, yd, V):
    """Results of a fit on ``y / factor`` back on the outcome's scale (exact: a power of two).

    The table's estimates, standard errors and bounds are multiplied by ``factor`` (t and
    p-values do not change); the variance by ``factor**2``, which may under- or overflow
    where the standard errors themselves are representable.
    """
    table = table.copy()
    table[["estimate", "se", "low", "high"]] *= factor
    with np.errstate(over="ignore", under="ignore"):
        V = V * factor * factor
    return table, coef * factor, resid * factor, yd * factor, V


def spread(y: np.ndarray) -> float:
    """Standard deviation of ``y``, computed without over- or underflow."""
    factor = power_of_two_scale(y)
    return float(np.std(np.asarray(y, dtype=float) / factor)) * factor


def guard_inference(estimate: float, se: float | None, interval, p_value, warnings: list, *,
                    spread: float, what: str = "cluster-robust", check_se: bool = True) -> tuple:
    """NaN interval and p-value (with an InferenceWarning) where they would be invalid numbers.

    * a non-finite estimate never comes with a p-value or interval;
    * a standard error that is zero up to rounding (below :data:`DEGENERATE_SE` times
      ``spread``, the outcome's scale) or not finite — e.g. two clusters, where the
      cluster-robust variance of a 2×2 is exactly zero — gives no interval or p-value
      (``check_se``: only when the interval comes from that standard error, not from a
      bootstrap or randomization).

    Returns
    -------
    se, interval, p_value
        As given, or NaN.
    """
    from ..errors import InferenceWarning, warn

    nan = float("nan")
    message = None
    if not np.isfinite(estimate):
        message = (f"the estimate is not finite ({estimate}); no standard error, interval or "
                   "p-value is reported. Check the data for extreme values.")
    elif check_se and se is not None and (not np.isfinite(se) or se <= DEGENERATE_SE * max(spread, 0.0)):
        message = (f"the {what} standard error is {se:.3g}, zero (or infinite) up to rounding: "
                   "with so few clusters (or such extreme values) the variance cannot be "
                   "estimated, so no interval or p-value is reported. Use more comparison "
                   "units, randomization inference, or synthetic control.")
    if message is None:
        return se, interval, p_value
    warnings.append(message)
    warn(message, InferenceWarning)
    return nan, (nan, nan), nan


def cluster_counts(design: PanelDesign, treated_mask: np.ndarray) -> tuple[int, int]:
    """Clusters in all and clusters holding a treated observation (``treated_mask``)."""
    frame = design.frame
    n_clusters = int(frame[design.cluster].nunique())
    n_treated = int(frame.loc[treated_mask, design.cluster].nunique())
    return n_clusters, n_treated


def counterfactual_mean(design: PanelDesign, mask: np.ndarray, beta: float) -> float:
    """(Weighted) mean outcome of the rows in ``mask`` had they not been treated:
    observed mean less :math:`\\beta` times the mean treatment.
    """
    frame = design.frame.loc[mask]
    w = np.ones(len(frame)) if design.weights is None else frame[design.weights].to_numpy(float)
    observed = float(np.average(design.outcome_values()[mask], weights=w))
    return observed - beta * float(np.average(design.treat[mask], weights=w))


def randomization_inference(design: PanelDesign, res: FERegression, *, n_draws: int,
                            level: float, random_state, scheme: str) -> dict:
    """Randomization p-value, and the Conley–Taber interval with one treated unit.

    Returns
    -------
    dict
        ``"randomization"``: the
        :class:`~utvardering.inference.randomization.RandomizationResult` of
        :func:`~utvardering.inference.randomization.permutation_test`; with one treated unit
        and no covariates also ``"conley_taber"``
        (:func:`~utvardering.inference.randomization.conley_taber_interval`).
    """
    frame = design.frame
    ucodes, ulevels = factorize(frame[design.unit])
    times = sorted(frame[design.time].unique().tolist())
    pos = frame[design.time].map({t: i for i, t in enumerate(times)}).to_numpy(float)
    on = design.treat != 0
    first = pd.Series(pos[on]).groupby(ucodes[on]).min()
    unit_starts = np.array([first.get(c, np.inf) for c in range(len(ulevels))], dtype=float)
    cov = frame[design.covariates].to_numpy(float) if design.covariates else None
    out = {"randomization": permutation_test(
        res.y, ucodes, pos, unit_starts, res.absorber, covariates=cov, scheme=scheme,
        n_draws=n_draws, random_state=random_state)}
    if np.isfinite(unit_starts).sum() == 1 and not design.covariates:
        w = res.absorber.weights
        tcodes = factorize(frame[design.time])[0]

        def factory(mask):
            return Absorber([factorize(ucodes[mask])[0], factorize(tcodes[mask])[0]],
                            weights=w[mask], n=int(mask.sum()))

        out["conley_taber"] = conley_taber_interval(res.y, ucodes, pos, unit_starts, factory,
                                                    level=level)
    return out


def wild_inference(res: FERegression, term: str, *, n_draws: int, weights_type: str,
                   level: float, random_state):
    """Restricted wild cluster bootstrap p-value and interval for the coefficient ``term``."""
    j = res.names.index(term)
    return wild_cluster_bootstrap(res.y, res.X, res.clusters, param=j, absorber=res.absorber,
                                  n_draws=n_draws, weights_type=weights_type, level=level,
                                  random_state=random_state)


def apply_inference(design: PanelDesign, res: FERegression, inference: str, diagnostics: dict, *,
                    term: str = "treatment", n_draws: int = 9999,
                    weights_type: str = "rademacher", ri_scheme: str = "units",
                    level: float = 0.95, random_state=None) -> tuple[tuple[float, float], float]:
    """Interval and p-value of ``term`` under ``inference``, shared by twfe and survey_did.

    ``"cluster"`` keeps the cluster-robust t interval of ``res.table``; ``"wild"`` replaces it
    with the restricted wild cluster bootstrap (:func:`wild_inference`); ``"randomization"``
    takes the randomization p-value (:func:`randomization_inference`) and, with one treated
    unit and no covariates, the Conley–Taber p-value and the interval that inverts it
    (unbounded, with a warning, when there are fewer placebos than the level needs);
    otherwise the cluster-robust interval is kept and a warning says so. The resampling summaries are added to
    ``diagnostics`` (``"wild_bootstrap"``, ``"randomization"``, ``"conley_taber"``).

    Returns
    -------
    interval : tuple of float
    p_value : float
    """
    row = res.table.loc[term]
    interval, p_value = (float(row["low"]), float(row["high"])), float(row["p_value"])
    if inference == "wild":
        wb = wild_inference(res, term, n_draws=n_draws, weights_type=weights_type, level=level,
                            random_state=random_state)
        diagnostics["wild_bootstrap"] = wb.to_dict()
        interval, p_value = wb.interval, wb.p_value
    elif inference == "randomization":
        ri = randomization_inference(design, res, n_draws=n_draws, level=level,
                                     random_state=random_state, scheme=ri_scheme)
        diagnostics["randomization"] = ri["randomization"].to_dict()
        p_value = ri["randomization"].p_value
        if "conley_taber" in ri:
            # One treated unit: the placebos of the comparison units alone (Conley & Taber
            # 2011) give both the p-value and the interval that inverts it, so the two agree.
            ct = ri["conley_taber"]
            diagnostics["conley_taber"] = ct.to_dict()
            interval, p_value = ct.interval, ct.p_value
            if not np.all(np.isfinite(interval)):
                need = placebos_needed(level)
                diagnostics.setdefault("warnings", []).append(
                    f"{ct.n_permutations} placebo unit(s): a {level:.0%} randomization interval "
                    f"needs at least {need}, so it is unbounded; the smallest attainable p-value "
                    f"is {1 / (ct.n_permutations + 1):.3g}. Report the p-value, lower the level, "
                    "or compare with synthetic control.")
        else:
            diagnostics.setdefault("warnings", []).append(
                "inference='randomization' with several treated units (or covariates) gives a "
                "p-value only; the interval shown is the cluster-robust one — use "
                "inference='wild' for an interval that matches its test.")
    return interval, p_value
