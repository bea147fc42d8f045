"""Absorbing fixed effects: weighted alternating projections and least squares on the rest.

Pure numpy/scipy functions used by the DiD family (:mod:`~utvardering.did.twfe`,
:mod:`~utvardering.did.poisson`, ...) and the inference modules
(:mod:`~utvardering.inference.wild_bootstrap`, :mod:`~utvardering.inference.randomization`). A model

.. math:: y_i = x_i'\\beta + \\alpha_{f_1(i)} + \\dots + \\alpha_{f_m(i)} + u_i

is fitted by the Frisch–Waugh–Lovell theorem: every column of ``y`` and ``X`` is projected off
the fixed-effect dummies (method of alternating projections, Gaure 2013) and ``beta`` comes
from least squares on the residuals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ..errors import DataError

__all__ = ["Absorber", "OLSFit", "factorize", "fe_ols", "independent_columns",
           "independent_columns_from_gram"]


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes ``0..L-1`` and the sorted levels of ``values``."""
    codes, levels = pd.factorize(pd.Series(values), sort=True)
    if (codes < 0).any():
        raise ValueError("fixed-effect or cluster identifiers must not be missing.")
    return codes.astype(np.int64), np.asarray(levels)


class Absorber:
    """Projects columns off a set of fixed effects, optionally with observation weights.

    Parameters
    ----------
    codes : sequence of numpy.ndarray
        One integer code array (length n) per fixed effect.
    weights : numpy.ndarray, optional
        Positive observation weights (weighted least squares projection).
    tol : float, default 1e-13
        Convergence tolerance of the alternating projections (largest change, relative to
        the scale of the data).
    maxiter : int, default 100000
        Iteration cap.
    n : int, optional
        Number of observations (needed only when there are no fixed effects and no weights).

    Attributes
    ----------
    weights : numpy.ndarray
        The observation weights of the projection (ones when unweighted).
    weighted : bool
        Whether weights were given.
    """

    def __init__(self, codes: Sequence[np.ndarray], weights: np.ndarray | None = None,
                 tol: float = 1e-13, maxiter: int = 100_000, n: int | None = None) -> None:
        self.codes = [np.asarray(c, dtype=np.int64) for c in codes]
        if n is None:
            n = len(self.codes[0]) if self.codes else len(weights)
        self.n = int(n)
        self.weighted = weights is not None
        self.tol, self.maxiter = tol, maxiter
        w = np.ones(self.n) if weights is None else np.asarray(weights, dtype=float)
        self._mats, self._inv = [], []
        for c in self.codes:
            levels = int(c.max()) + 1
            mat = sparse.csr_matrix((np.ones(self.n), (np.arange(self.n), c)), shape=(self.n, levels))
            self._mats.append(mat)
            self._inv.append(1.0 / np.bincount(c, weights=w, minlength=levels))
        self.weights = w

    @property
    def matrices(self) -> list:
        """The sparse n × levels indicator matrix of each fixed effect."""
        return list(self._mats)

    @property
    def levels(self) -> list[int]:
        """Number of levels of each fixed effect."""
        return [m.shape[1] for m in self._mats]

    def dof(self) -> int:
        """Number of estimable fixed-effect parameters (levels less redundancies).

        Exact for one or two fixed effects (two: levels less the connected components of the
        bipartite graph, Abowd et al. 2002); with more, one redundancy per extra effect is
        assumed.
        """
        if not self._mats:
            return 0
        total = self.levels[0]
        if len(self._mats) >= 2:
            a, b = self._mats[0], self._mats[1]
            lb = b.shape[1]
            link = (a.T @ b).tocsr()
            graph = sparse.bmat([[None, link], [link.T, None]])
            n_comp, _ = connected_components(graph, directed=False)
            total += lb - n_comp
            total += sum(lv - 1 for lv in self.levels[2:])
        return int(total)

    def nested_in(self, clusters: np.ndarray) -> list[bool]:
        """Whether each fixed effect is nested in the clusters (each level in one cluster)."""
        out = []
        for c in self.codes:
            frame = pd.DataFrame({"fe": c, "cl": clusters})
            out.append(bool((frame.groupby("fe")["cl"].nunique() == 1).all()))
        return out

    def demean(self, values: np.ndarray) -> np.ndarray:
        """Residuals of the (weighted) projection of each column on the fixed effects.

        Raises
        ------
        DataError
            If ``values`` (or the weights) hold ``inf`` or NaN, or the projection stops being
            finite: alternating projections would never meet their tolerance (a NaN step is
            never small), so they are refused rather than run to ``maxiter``.
        """
        z = np.array(values, dtype=float, copy=True)
        flat = z.ndim == 1
        if flat:
            z = z[:, None]
        if not self._mats:
            return z[:, 0] if flat else z
        w = self.weights[:, None] if self.weighted else None
        scale = float(np.abs(z).max()) if z.size else 0.0
        if not (np.isfinite(scale) and np.isfinite(self.weights).all()):
            bad = int((~np.isfinite(z)).any(axis=1).sum())
            raise DataError(f"cannot absorb fixed effects: {bad} row(s) hold inf or NaN values "
                            "(or the weights do); correct or drop them first.")
        scale = max(scale, 1.0)
        for _ in range(self.maxiter):
            largest = 0.0
            for mat, inv in zip(self._mats, self._inv):
                means = (mat.T @ (z if w is None else w * z)) * inv[:, None]
                step = mat @ means
                z -= step
                largest = max(largest, float(step.max()), -float(step.min()))
            if not np.isfinite(largest):
                raise DataError("the fixed-effects projection became non-finite (values too "
                                "large to represent); rescale the data.")
            if len(self._mats) == 1 or largest <= self.tol * scale:
                break
        return z[:, 0] if flat else z


@dataclass
class OLSFit:
    """Least squares after absorbing fixed effects.

    Attributes
    ----------
    coef : numpy.ndarray
        Coefficients on the columns of ``X``.
    resid : numpy.ndarray
        Residuals ``y - fitted`` (the fixed effects included).
    Xd, yd : numpy.ndarray
        Regressors and outcome with the fixed effects projected off.
    weights : numpy.ndarray
        Observation weights (ones when unweighted).
    bread : numpy.ndarray
        :math:`(\\tilde X' W \\tilde X)^{-1}`.
    n : int
        Observations.
    k : int
        Regressors in ``X``.
    fe_dof : int
        Estimable fixed-effect parameters.
    absorber : Absorber
        The projection used.
    """

    coef: np.ndarray
    resid: np.ndarray
    Xd: np.ndarray
    yd: np.ndarray
    weights: np.ndarray
    bread: np.ndarray
    n: int
    k: int
    fe_dof: int
    absorber: Absorber


def fe_ols(y: np.ndarray, X: np.ndarray, absorber: Absorber) -> OLSFit:
    """Weighted least squares of ``y`` on ``X`` with the absorber's fixed effects.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome (n).
    X : numpy.ndarray
        Regressors (n × k), without an intercept when fixed effects are absorbed.
    absorber : Absorber
        Fixed effects and weights.

    Returns
    -------
    OLSFit
    """
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    both = absorber.demean(np.column_stack([y, X]))
    yd, Xd = both[:, 0], both[:, 1:]
    w = absorber.weights
    xtx = Xd.T @ (w[:, None] * Xd)
    bread = np.linalg.inv(xtx)
    coef = bread @ (Xd.T @ (w * yd))
    resid = yd - Xd @ coef
    return OLSFit(coef, resid, Xd, yd, w, bread, len(y), X.shape[1], absorber.dof(), absorber)


def independent_columns(Xd: np.ndarray, weights: np.ndarray, tol: float = 1e-9) -> list[int]:
    """Indices of columns of ``Xd`` kept after dropping (later) collinear ones.

    A column is dropped when its weighted residual sum of squares, after projection on the
    columns already kept, is below ``tol`` times its own sum of squares (the convention of
    R ``fixest``: the first of a collinear set is kept).

    The residual sums of squares come from the weighted Gram matrix :math:`G = X'WX` by an
    incremental Cholesky factorisation that skips dropped columns: one BLAS product of cost
    :math:`nk^2` and :math:`O(k^3)` after it, instead of a Gram–Schmidt pass over the
    :math:`n \\times k` matrix per column.
    """
    z = Xd * np.sqrt(weights)[:, None]
    return independent_columns_from_gram(z.T @ z, tol)


def independent_columns_from_gram(gram: np.ndarray, tol: float = 1e-9) -> list[int]:
    """:func:`independent_columns` given the weighted Gram matrix :math:`X'WX` of the columns."""
    from scipy.linalg import solve_triangular

    k = gram.shape[0]
    keep: list[int] = []
    chol = np.zeros((k, k))  # lower factor of the kept columns' Gram matrix, in its first rows
    for j in range(k):
        ss = float(gram[j, j])
        if ss == 0:
            continue
        m = len(keep)
        c = solve_triangular(chol[:m, :m], gram[keep, j], lower=True) if m else np.zeros(0)
        rss = ss - float(c @ c)
        if rss > tol * ss:
            chol[m, :m] = c
            chol[m, m] = np.sqrt(rss)
            keep.append(j)
    return keep
