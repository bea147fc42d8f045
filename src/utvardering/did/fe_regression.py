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

from ..inference.cluster import cluster_vcov, coefficient_table
from ..inference.wild_bootstrap import wild_cluster_bootstrap
from ._design import PanelDesign
from ._fixed_effects import Absorber, factorize, fe_ols, independent_columns

__all__ = ["Inference", "fit_fe_regression"]

Inference = Literal["cluster", "wild", "randomization"]


@dataclass
class _Fit:
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
                      vcov: str = "CR1", level: float = 0.95) -> _Fit:
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
        raise ValueError(f"weights column {design.weights!r} must be positive and present.")
    absorber = Absorber(codes, weights=w, n=len(frame))
    X_all = regressors.to_numpy(float)
    y = frame[design.outcome].to_numpy(float)
    keep = independent_columns(absorber.demean(X_all), absorber._w)
    names = [regressors.columns[j] for j in keep]
    dropped = [c for j, c in enumerate(regressors.columns) if j not in keep]
    X = X_all[:, keep]
    fit = fe_ols(y, X, absorber)
    clusters, _ = factorize(frame[design.cluster])
    nested = absorber.nested_in(clusters)
    k_extra = sum(lv for lv, nst in zip(absorber.levels, nested) if not nst)
    if not any(nested):
        k_extra = absorber.dof()
    V = cluster_vcov(fit.Xd, fit.resid, clusters, weights=fit.weights, bread=fit.bread,
                     kind=vcov, k_extra=k_extra, absorber=absorber)
    g = int(clusters.max()) + 1
    table = coefficient_table(names, fit.coef, V, g - 1, level)
    return _Fit(names, fit.coef, V, table, g - 1, g, dropped, fit, clusters, absorber, X, y)


def _cluster_counts(design: PanelDesign, treated_mask: np.ndarray) -> tuple[int, int]:
    frame = design.frame
    n_clusters = int(frame[design.cluster].nunique())
    n_treated = int(frame.loc[treated_mask, design.cluster].nunique())
    return n_clusters, n_treated


def _counterfactual_mean(design: PanelDesign, mask: np.ndarray, beta: float) -> float:
    frame = design.frame.loc[mask]
    w = np.ones(len(frame)) if design.weights is None else frame[design.weights].to_numpy(float)
    observed = float(np.average(frame[design.outcome].to_numpy(float), weights=w))
    return observed - beta * float(np.average(frame["_treat"].to_numpy(float), weights=w))


def _randomization(design: PanelDesign, res: _Fit, *, n_draws, level, random_state, scheme):
    """Randomization p-value (and Conley–Taber interval with one treated unit) for twfe."""
    from ..inference.randomization import conley_taber_interval, permutation_test

    frame = design.frame
    ucodes, ulevels = factorize(frame[design.unit])
    times = sorted(frame[design.time].unique().tolist())
    pos = frame[design.time].map({t: i for i, t in enumerate(times)}).to_numpy(float)
    first = frame.assign(_p=pos).loc[frame["_treat"] != 0].groupby(design.unit)["_p"].min()
    unit_starts = np.array([first.get(u, np.inf) for u in ulevels], dtype=float)
    cov = frame[design.covariates].to_numpy(float) if design.covariates else None
    out = {"randomization": permutation_test(
        res.y, ucodes, pos, unit_starts, res.absorber, covariates=cov, scheme=scheme,
        n_permutations=n_draws, random_state=random_state)}
    if np.isfinite(unit_starts).sum() == 1 and not design.covariates:
        w = res.absorber._w
        tcodes = factorize(frame[design.time])[0]

        def factory(mask):
            return Absorber([factorize(ucodes[mask])[0], factorize(tcodes[mask])[0]],
                            weights=w[mask], n=int(mask.sum()))

        out["conley_taber"] = conley_taber_interval(res.y, ucodes, pos, unit_starts, factory,
                                                    level=level)
    return out


def _wild(res: _Fit, term: str, *, n_draws, weights_type, level, random_state):
    j = res.names.index(term)
    return wild_cluster_bootstrap(res.y, res.X, res.clusters, param=j, absorber=res.absorber,
                                  n_draws=n_draws, weights_type=weights_type, level=level,
                                  random_state=random_state)
