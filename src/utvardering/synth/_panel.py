"""The synth family's view of a Study: value checks shared by every synth estimator.

Every synth estimator turns the Study into a units × periods matrix; :func:`check_values`
is the one check that the matrix (outcome, exposure, rates, predictors) holds finite values
on a scale that squared errors can represent, naming the unit and period at fault.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["MAX_ABS", "MIN_ABS", "check_values"]

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
