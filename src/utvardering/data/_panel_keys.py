"""Integer codes of the unit and period keys of a long panel.

Used by :func:`~utvardering.data.schema.check_panel`: units are coded once (with a rank by
their string form, the sort order of a validated panel) and periods become integer
ordinals, so duplicate (unit, period) pairs, gaps and the sort order are found with numpy
on integers instead of on the labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["_NO_DUPLICATES", "_NoDuplicates", "_PanelKeys", "_string_rank"]


def _string_rank(values: np.ndarray) -> np.ndarray:
    """Dense rank of ``str(v)`` for each value (equal strings share a rank).

    Non-negative integers are ranked without building strings: the decimal string of
    :math:`v` with :math:`d` digits sorts as the pair :math:`(v \\cdot 10^{D-d}, d)`, with
    :math:`D` the most digits of any value (``"1" < "10" < "19" < "2"``).
    """
    if values.dtype.kind in "iu" and len(values) and values.min() >= 0 and values.max() < 10**15:
        v = values.astype(np.int64)
        digits = np.ones(len(v), dtype=np.int64)
        for power in range(1, 16):
            digits += v >= 10**power
        most = int(digits.max())
        key = v * 10 ** (most - digits) * (most + 1) + digits
        return np.unique(key, return_inverse=True)[1].reshape(-1)
    names = np.array([str(u) for u in values.tolist()], dtype=object)
    return np.unique(names, return_inverse=True)[1].reshape(-1)


class _NoDuplicates:
    """Stand-in for an all-False duplicate mask (``.any()`` is False)."""

    @staticmethod
    def any() -> bool:
        return False


_NO_DUPLICATES = _NoDuplicates()


class _PanelKeys:
    """Integer codes of the units and periods of a long frame, computed once.

    Units get codes in order of appearance and a rank by their string form (the sort order
    of a validated panel); periods become integer ordinals (``Period.ordinal`` or the integer
    itself), so duplicates, gaps and the sort order are found with numpy on integers.
    """

    def __init__(self, frame: pd.DataFrame, unit: str, time: str) -> None:
        self.frame, self.unit, self.time = frame, unit, time
        self.codes, uniques = pd.factorize(frame[unit], sort=False)
        self.n_units = len(uniques)
        self.rank = _string_rank(np.asarray(uniques))
        column = frame[time]
        if isinstance(column.dtype, pd.PeriodDtype):
            t = column.array.asi8
        else:
            t = column.to_numpy()
            if t.dtype.kind not in "iu":
                t = pd.factorize(column, sort=True)[0]  # any ordered values: rank them
        self.t = np.asarray(t, dtype=np.int64)  # not copied: offsets use t_min
        self.t_min = int(self.t.min()) if len(t) else 0
        self.span = int(self.t.max()) - self.t_min + 1 if len(t) else 0
        self._counts: np.ndarray | None = None

    def _cell_counts(self) -> np.ndarray | None:
        """Rows per (unit, period) on the full grid, or None when that grid is too large."""
        size = self.n_units * self.span
        if size > max(4 * len(self.codes), 1_000_000):
            return None
        if self._counts is None:
            cell = self.codes.astype(np.int64)
            cell *= self.span
            cell += self.t
            cell -= self.t_min
            self._counts = np.bincount(cell, minlength=size)
        return self._counts

    def has_duplicates(self) -> bool:
        counts = self._cell_counts()
        return True if counts is None else bool(counts.max(initial=0) > 1)

    def duplicated(self) -> pd.Series:
        return self.frame.duplicated([self.unit, self.time], keep=False)

    def is_complete(self) -> bool:
        """Whether every unit has exactly one row in every period from the first to the last."""
        counts = self._cell_counts()
        return counts is not None and bool(np.all(counts == 1))

    def order(self) -> np.ndarray | None:
        """Row order sorting by unit (string form) then period; None if already sorted."""
        key = self.rank[self.codes].astype(np.int64)
        key *= max(self.span, 1)
        key += self.t
        key -= self.t_min
        self._counts = None
        if len(key) < 2 or bool(np.all(key[1:] >= key[:-1])):
            return None
        return np.argsort(key, kind="stable")
