"""Integer codes of the unit and period keys of a long panel.

Used by :func:`~utvardering.data.schema.check_panel` and :class:`~utvardering.Study`: units are coded once (with a rank by
their string form, the sort order of a validated panel) and periods become integer
ordinals, so duplicate (unit, period) pairs, gaps and the sort order are found with numpy
on integers instead of on the labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NO_DUPLICATES", "NoDuplicates", "PanelKeys", "RowOrder", "distinct_runs",
           "sorted_copy", "sorted_distinct", "string_rank", "unit_codes"]


def string_rank(values: np.ndarray) -> np.ndarray:
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


def unit_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(column, sort=False)``: codes in order of appearance and the uniques.

    Integer units whose rows come in runs (all rows of a unit together) are coded from the
    run starts, without a hash table sized for every row.
    """
    values = column.to_numpy()
    if values.dtype.kind in "iu" and len(values):
        change = np.empty(len(values), dtype=bool)
        change[0] = True
        np.not_equal(values[1:], values[:-1], out=change[1:])
        firsts = values[change]
        ordered = np.sort(firsts)  # (a sort: np.unique hashes, much slower here)
        if not bool(np.any(ordered[1:] == ordered[:-1])):  # each unit is one run
            codes = np.cumsum(change, dtype=np.intp)
            codes -= 1
            return codes, firsts
    codes, uniques = pd.factorize(column, sort=False)
    return codes, np.asarray(uniques)


class NoDuplicates:
    """Stand-in for an all-False duplicate mask (``.any()`` is False)."""

    @staticmethod
    def any() -> bool:
        """No row is a duplicate."""
        return False


NO_DUPLICATES = NoDuplicates()


class RowOrder:
    """How the rows of a frame are put in panel order: not at all, or unit blocks, or fully.

    ``perm``/``per``: the rows are ``len(perm)`` blocks of ``per`` rows (one unit each, periods
    increasing) and the sorted frame is block ``perm[0]``, then ``perm[1]``, ...; ``order``: any
    row order. Both None: the rows are already in order.
    """

    def __init__(self, order: np.ndarray | None = None, perm: np.ndarray | None = None,
                 per: int = 0) -> None:
        self.order, self.perm, self.per = order, perm, per

    def rows(self) -> np.ndarray | None:
        """The full row order (None when already sorted)."""
        if self.perm is None:
            return self.order
        return (self.perm[:, None] * self.per + np.arange(self.per)).reshape(-1)


class PanelKeys:
    """Integer codes of the units and periods of a long frame, computed once.

    Units get codes in order of appearance and a rank by their string form (the sort order
    of a validated panel); periods become integer ordinals (``Period.ordinal`` or the integer
    itself), so duplicates, gaps and the sort order are found with numpy on integers.
    """

    def __init__(self, frame: pd.DataFrame, unit: str, time: str) -> None:
        self.frame, self.unit, self.time = frame, unit, time
        self.codes, uniques = unit_codes(frame[unit])
        self.n_units = len(uniques)
        self.rank = string_rank(uniques)
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
        self.per = self._unit_blocks()

    def _unit_blocks(self) -> int | None:
        """Rows per unit when the rows are unit blocks with the same increasing periods.

        That is: every unit's rows are contiguous, all units have the same strictly
        increasing periods, and no two units share a string form. Such a frame has no
        duplicate pairs and is sorted by moving whole blocks (no full sort, no cell counts).
        """
        n, units = len(self.codes), self.n_units
        if units == 0 or n % units:
            return None
        per = n // units
        first = self.t[:per]
        if per > 1 and not bool(np.all(first[1:] > first[:-1])):
            return None
        if not bool(np.all(self.codes.reshape(units, per) == np.arange(units)[:, None])):
            return None
        if not bool(np.all(self.t.reshape(units, per) == first)):
            return None
        if int(self.rank.max()) + 1 != units:  # dense ranks: two units print alike
            return None
        return per

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
        """Whether any (unit, time) cell holds more than one row."""
        if self.per is not None:
            return False
        counts = self._cell_counts()
        return True if counts is None else bool(counts.max(initial=0) > 1)

    def duplicated(self) -> pd.Series:
        """Boolean mask of the rows whose (unit, time) cell is not unique."""
        return self.frame.duplicated([self.unit, self.time], keep=False)

    def is_complete(self) -> bool:
        """Whether every unit has exactly one row in every period from the first to the last."""
        if self.per is not None:
            return self.span == self.per
        counts = self._cell_counts()
        return counts is not None and bool(np.all(counts == 1))

    def order(self) -> np.ndarray | None:
        """Row order sorting by unit (string form) then period; None if already sorted."""
        return self.row_order().rows()

    def row_order(self) -> RowOrder:
        """The sort by unit (string form) then period, as unit blocks when possible.

        For unit blocks (:meth:`_unit_blocks`) the units are ordered by rank, which gives the
        same rows as the stable sort of the full key.
        """
        if self.per is not None:
            perm = np.argsort(self.rank, kind="stable")
            if bool(np.all(perm == np.arange(len(perm)))):
                return RowOrder()
            return RowOrder(perm=perm, per=self.per)
        self._counts = None
        key = self.rank[self.codes].astype(np.int64)
        key *= max(self.span, 1)
        key += self.t
        key -= self.t_min
        if len(key) < 2 or bool(np.all(key[1:] >= key[:-1])):
            return RowOrder()
        return RowOrder(order=np.argsort(key, kind="stable"))


def sorted_copy(frame: pd.DataFrame, order: np.ndarray | None) -> pd.DataFrame:
    """The rows in ``order`` (or all, if None) as a new frame with a fresh RangeIndex.

    Columns are taken one by one, so no reordered copy of the old index is built on the way.
    Rows already in order are not copied: under pandas' copy-on-write the new frame shares
    the caller's columns until either side writes, and a write copies first, so the
    caller's data are never modified.
    """
    if order is None:
        return frame.reset_index(drop=True)
    if frame.shape[1] > 16 or not frame.columns.is_unique:
        # take keeps the caller's column blocks: consolidate wide frames
        return frame.take(order).reset_index(drop=True).copy()
    columns = {c: frame[c].array.take(order) for c in frame.columns}
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(order)), copy=False)
    out.columns = frame.columns
    return out


def distinct_runs(column: pd.Series) -> list:
    """Distinct values in order of first appearance, for a column sorted into runs.

    Only the first value of each run is looked up (no hash table as long as the data).
    """
    values = column.to_numpy()
    if len(values) < 2:
        return pd.unique(values).tolist()
    change = np.empty(len(values), dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    return pd.unique(values[change]).tolist()


def sorted_distinct(column: pd.Series) -> list:
    """Sorted distinct periods; integer ordinals are sorted with numpy."""
    if isinstance(column.dtype, pd.PeriodDtype):
        ordinals = np.unique(column.array.asi8)
        return pd.PeriodIndex.from_ordinals(ordinals, freq=column.dtype.freq).tolist()
    values = column.to_numpy()
    if values.dtype.kind in "iu":
        return np.unique(values).tolist()
    return sorted(column.unique().tolist())
