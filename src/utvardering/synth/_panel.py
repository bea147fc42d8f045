"""The synth family's view of a Study: value checks and period masks shared by every synth
estimator and by the robustness code.

Every synth estimator turns the Study into a units × periods matrix; :func:`check_values`
is the one check that the matrix (outcome, exposure, rates, predictors) holds finite values
on a scale that squared errors can represent, naming the unit and period at fault;
:func:`unit_masks` and :func:`period_mask` give the pre/post and optimisation periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, DesignError
from .predictors import resolve_periods

__all__ = ["MAX_ABS", "MIN_ABS", "check_values", "period_mask", "unit_masks"]

#: Largest absolute value accepted: squared gaps summed over a panel stay far from overflow.
MAX_ABS = 1e100
#: Smallest non-zero scale accepted: squared gaps stay far from underflow.
MIN_ABS = 1e-100


def check_values(table: pd.DataFrame, what: str, *, positive: bool = False) -> None:
    """Raise :class:`~utvardering.DataError` unless ``table`` is finite and of a usable scale.

    Parameters
    ----------
    table : pandas.DataFrame
        Units × periods (index: units, columns: periods).
    what : str
        What the values are (``"outcome 'y'"``, ``"exposure 'population'"``...), quoted in
        the message.
    positive : bool, default False
        Also require every value to be positive (exposures).

    Raises
    ------
    DataError
        Naming the first unit and period with a non-finite (or non-positive) value, or the
        largest value when the scale would overflow (or underflow) squared errors, and how
        to fix it.
    """
    values = table.to_numpy(dtype=float)
    bad = ~np.isfinite(values) & ~np.isnan(values)
    if positive:
        bad |= values <= 0
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{what} is {float(values[i, j])} for unit {table.index[i]!r} in period "
            f"{table.columns[j]}; synthetic control needs finite"
            f"{' positive' if positive else ''} values ({int(bad.sum())} such cell(s)). "
            "Fix or drop them in the data.")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return
    top = float(np.abs(finite).max())
    if top > MAX_ABS or 0 < top < MIN_ABS:
        i, j = np.argwhere(np.abs(values) == top)[0]
        raise DataError(
            f"{what} reaches {top:.3g} (unit {table.index[i]!r}, period {table.columns[j]}); "
            f"values beyond {MAX_ABS:.0e} (or all below {MIN_ABS:.0e}) overflow squared errors. "
            "Rescale the column (e.g. divide by a power of ten) and scale the effect back.")


def unit_masks(times: list, start, end=None) -> tuple[np.ndarray, np.ndarray]:
    """Pre- and post-period masks over ``times`` for a unit starting at ``start``.

    Parameters
    ----------
    times : list
        The panel's periods (columns of the outcome matrix).
    start : period
        The unit's first treated period.
    end : period, optional
        Last post-period (the Study's ``end``); later periods are in neither mask.

    Returns
    -------
    pre, post : numpy.ndarray of bool
    """
    pre = np.array([t < start for t in times])
    post = np.array([t >= start and (end is None or t <= end) for t in times])
    return pre, post


def period_mask(study, periods, start, name: str) -> np.ndarray:
    """Mask over ``study.times`` of the chosen pre-treatment ``periods`` (default: every
    period before ``start``), refusing periods on or after the start (quoting ``name``)."""
    times = study.times
    if periods is None:
        return np.array([t < start for t in times])
    chosen = set(resolve_periods(periods, study.freq, times, name))
    late = [p for p in chosen if not p < start]
    if late:
        raise DesignError(f"{name} includes {sorted(late)[:3]}, on or after the start {start}; use "
                          "pre-treatment periods only.")
    return np.array([t in chosen for t in times])
