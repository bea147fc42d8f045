"""The TWFE event study on a balanced panel, from cohort × period cells (time O(N·T·K)).

In a balanced panel without weights, covariates or further fixed effects, every unit of a
cohort (units sharing a first treated period, the never-treated one cohort) has the same
event-time dummies :math:`f(c, t) \\in \\{0, 1\\}^K`, and the two-way demeaning is exact in
one pass:

.. math:: \\tilde x_{it} = f(c_i, t) - \\bar f_{c_i\\cdot} - \\bar f_{\\cdot t} + \\bar f,
          \\qquad \\bar f_{\\cdot t} = \\sum_c \\frac{n_c}{N} f(c, t),

so :math:`\\tilde x` is a function of the cell :math:`(c, t)` only: a :math:`C \\times T \\times
K` array instead of the :math:`NT \\times K` dummy matrix. The normal equations need

* :math:`\\tilde X'\\tilde X = \\sum_{c,t} n_c\\, f(c,t)\\, \\tilde f(c,t)'` — each cell's
  :math:`f` has one non-zero, so this is a scatter-add of :math:`CT` rows (:math:`O(CTK)`);
* :math:`\\tilde X'\\tilde y = X'\\tilde y`, a sum of :math:`\\tilde y` per event-time bin
  (:math:`O(NT)`);

and the CR1 cluster-robust variance (clusters = units) the unit scores
:math:`s_i = \\sum_t \\tilde f(c_i, t)\\, u_{it}`, one :math:`n_c \\times T` by
:math:`T \\times K` product per cohort (:math:`O(NTK)`), and :math:`S'S` (:math:`O(NK^2)`).
The result equals the general fit (:func:`~utvardering.did.fe_regression.fit_fe_regression`:
alternating projections, Gram matrix of the :math:`NT \\times K` demeaned dummies) up to
rounding; ``tests/regression/test_reliability_did.py`` compares the two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._numerics.fixed_effects import factorize, independent_columns_from_gram
from ..inference.cluster import coefficient_table, small_sample_factor
from ._design import PanelDesign
from .fe_regression import FERegression

__all__ = ["balanced_cells", "fit_event_study_balanced"]


def balanced_cells(design: PanelDesign):
    """Unit and period codes when every unit has every period exactly once, else ``None``."""
    frame = design.frame
    units, _ = factorize(frame[design.unit])
    times, _ = factorize(frame[design.time])
    n_units, n_t = int(units.max()) + 1, int(times.max()) + 1
    if n_units * n_t != len(frame):
        return None
    if np.bincount(units * n_t + times, minlength=n_units * n_t).max() != 1:
        return None
    return units, times


def fit_event_study_balanced(design: PanelDesign, binned: np.ndarray, bins: list, units,
                             times, *, level: float = 0.95) -> tuple[FERegression, pd.Series]:
    """Event-study regression on a balanced, unweighted panel (see the module docstring).

    Parameters
    ----------
    design : PanelDesign
        The panel (clusters = units; no weights, covariates or extra fixed effects).
    binned : numpy.ndarray
        Each row's binned event time (NaN for never-treated units).
    bins : list of int
        Event times with a coefficient (the reference excluded).
    units, times : numpy.ndarray
        Integer unit and period codes of the rows (:func:`balanced_cells`).
    level : float
        Interval coverage of the coefficient table.

    Returns
    -------
    FERegression
        With ``fit``, ``absorber`` and ``X`` left as ``None`` (not formed).
    pandas.Series
        Treated observations per event-time column.
    """
    n_units, n_t = int(units.max()) + 1, int(times.max()) + 1
    k = len(bins)
    names = [f"event_time[{b}]" for b in bins]
    position = {b: j for j, b in enumerate(bins)}
    col = np.full(len(binned), -1, dtype=np.int64)
    ok = np.isfinite(binned)
    col[ok] = [position.get(int(b), -1) for b in binned[ok]]
    # cohorts: units with the same first treated period share every row's dummy pattern
    first = np.full(n_units, np.nan)
    rows_t = np.isfinite(design.event)
    first[units[rows_t]] = (times - design.event)[rows_t]
    cohort_key = np.where(np.isfinite(first), first, -1.0)
    cohort_values, cohort = np.unique(cohort_key, return_inverse=True)
    n_c = np.bincount(cohort, minlength=len(cohort_values)).astype(float)
    col_cell = np.full((len(cohort_values), n_t), -1, dtype=np.int64)
    col_cell[cohort[units], times] = col
    F = np.zeros((len(cohort_values), n_t, k))
    has = col_cell >= 0
    F[(*np.nonzero(has), col_cell[has])] = 1.0
    share = n_c / n_units
    F_t = np.einsum("c,ctk->tk", share, F)
    F_c = F.mean(axis=1)
    Ft = F - F_c[:, None, :] - F_t[None, :, :] + (share @ F_c)[None, None, :]
    # Gram matrix: sum over cells of n_c f f~' (f has one non-zero per cell)
    gram = np.zeros((k, k))
    cells_c, cells_t = np.nonzero(has)
    np.add.at(gram, col_cell[cells_c, cells_t], n_c[cells_c, None] * Ft[cells_c, cells_t])
    gram = (gram + gram.T) / 2
    keep = independent_columns_from_gram(gram)
    kept = [names[j] for j in keep]
    dropped = [names[j] for j in range(k) if j not in keep]
    y = design.outcome_values()
    Y = np.empty((n_units, n_t))
    Y[units, times] = y
    Yd = Y - Y.mean(axis=1, keepdims=True) - Y.mean(axis=0, keepdims=True) + Y.mean()
    xty = np.bincount(col[col >= 0], weights=Yd[units, times][col >= 0], minlength=k)
    bread = np.linalg.inv(gram[np.ix_(keep, keep)])
    coef = bread @ xty[keep]
    Fk = Ft[:, :, keep]
    fitted = Fk @ coef                                  # cohort × period
    U = Yd - fitted[cohort]                             # units × periods residuals
    scores = np.zeros((n_units, len(keep)))
    for c in range(len(cohort_values)):
        members = np.flatnonzero(cohort == c)
        scores[members] = U[members] @ Fk[c]
    n_obs = n_units * n_t
    factor = small_sample_factor(n_obs, len(keep) + n_t, n_units)  # period effects not nested
    V = factor * bread @ (scores.T @ scores) @ bread
    table = coefficient_table(kept, coef, V, n_units - 1, level)
    counts = pd.Series(np.bincount(col[col >= 0], minlength=k).astype(float), index=names)
    res = FERegression(kept, coef, V, table, n_units - 1, n_units, dropped, None, units, None,
                       None, y)
    return res, counts
