"""Who is treated and from when: the start-resolution part of :class:`~utvardering.Study`.

:class:`StartsMixin` turns ``treated=``/``start=``, ``starts={unit: period}`` or a cohort
column into the unit → first treated period mapping of a Study. A cohort column is read on
integer codes (each distinct value converted once, and on a complete units × periods grid
only one value per unit is coded); any problem is re-checked row by row so that the error
names the units at fault.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .data.timeparse import format_periods
from .errors import DesignError

__all__ = ["StartsMixin"]


def _distinct(values: Iterable) -> list:
    """Distinct values (starts are shared objects per cohort, so this is one cheap pass)."""
    by_id = {id(v): v for v in values}
    return list(dict.fromkeys(by_id.values()))


def _listify(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]  # one unit label, e.g. "Malmö" or 7
    return list(value)


class StartsMixin:
    """Start resolution of a :class:`~utvardering.Study` (uses its data, units and times)."""

    def _resolve_starts(self, treated, start, starts, cohort) -> dict:
        given = sum(x is not None for x in (starts, cohort)) + (treated is not None)
        if given != 1:
            raise DesignError(
                "say who is treated in exactly one way: treated=[...] with start=..., "
                "starts={unit: period}, or cohort='column of first treated period'."
            )
        if treated is not None:
            if start is None:
                raise DesignError("treated units need a start=... (the first treated period).")
            s = self._period(start, "start")
            resolved = {u: s for u in _listify(treated)}
        elif starts is not None:
            resolved = {u: self._period(v, f"start of unit {u!r}") for u, v in dict(starts).items()}
        else:
            if cohort not in self._sorted_view()[0].columns:
                raise DesignError(f"cohort column {cohort!r} is not in the data; it has "
                                  f"{format_periods(list(map(str, self.data.columns)), 30)}.")
            resolved = self._cohort_starts(cohort)
        if not resolved:
            raise DesignError("no treated units: give at least one treated unit.")
        if treated is not None or starts is not None:
            known = set(self.units)
            for u in resolved:
                if u not in known:
                    raise self._unknown_unit(u, "treated")
        first, last = self.times[0], self.times[-1]
        if "_start_values" not in self.__dict__:
            self._start_values = _distinct(resolved.values())
        if any(not (first < s <= last) for s in self._start_values):
            outside = {u: s for u, s in resolved.items() if not (first < s <= last)}
            detail = ", ".join(f"{u}: {s}" for u, s in list(outside.items())[:5])
            raise DesignError(
                f"start outside the data for {detail}: the panel covers {first} to {last}, and a "
                "start must leave at least one pre-period and fall on or before the last period."
            )
        return resolved

    def _cohort_starts(self, cohort: str) -> dict:
        """Unit → first treated period from a cohort column, on integer codes.

        Each distinct cohort value is converted once; any problem (a value that changes
        within a unit, one that is not a period) is reported by :meth:`_cohort_starts_slow`,
        which names the units at fault. The codes are kept (:meth:`_start_codes`).
        """
        frame, perm = self._sorted_view()  # perm: rows still unit blocks in another order
        grid = self._grid()
        raw = frame[cohort].to_numpy() if grid is not None else None
        if perm is not None and raw.dtype.kind not in "iufb":
            frame, perm = self.data, None  # codes below follow the sorted rows
        column = frame[cohort]
        if raw is not None and raw.dtype.kind in "iufb":
            # rows are units × periods: check each unit's row block on the raw values and
            # code only one value per unit (no codes as long as the data)
            block = raw.reshape(grid)
            same = block == block[:, :1]
            if raw.dtype.kind == "f":
                same |= np.isnan(block) & np.isnan(block[:, :1])
            if not bool(same.all()):
                return self._cohort_starts_slow(cohort)  # varies within a unit: raises
            del same
            first = block[:, 0] if perm is None else block[perm, 0]
            column, grid = pd.Series(first.copy()), (grid[0], 1)
        value_codes, values = pd.factorize(column, sort=False)
        values = np.asarray(values, dtype=object)
        if pd.api.types.is_numeric_dtype(column):  # R did's convention: 0 = never treated
            zero = np.flatnonzero(values == 0)
            if zero.size:  # drop the value 0: its rows get code -1 (as missing values do)
                is_zero = value_codes == zero[0]
                value_codes[value_codes > zero[0]] -= 1
                value_codes[is_zero] = -1
                values = np.delete(values, zero[0])
        if grid is not None:  # rows are units × periods: compare each unit's row block
            block = value_codes.reshape(grid)
            per_unit = block[:, 0].copy()
            if bool(np.any(block != per_unit[:, None])):
                return self._cohort_starts_slow(cohort)  # varies within a unit: raises
            unit_values = np.asarray(self.units, dtype=object)
            aligned = per_unit
            numeric = np.asarray(self.units)
            natural = (np.argsort(numeric, kind="stable") if numeric.dtype.kind in "iuf"
                       else np.arange(len(unit_values)))  # strings: their order already
            unit_values, per_unit = unit_values[natural], per_unit[natural]
        else:
            try:
                unit_codes, unit_values = pd.factorize(self.data[self.unit], sort=True)
            except TypeError:  # units that cannot be ordered with each other
                return self._cohort_starts_slow(cohort)
            per_unit = np.empty(len(unit_values), dtype=np.int64)
            per_unit[unit_codes] = value_codes  # any one row of each unit
            if bool(np.any(per_unit[unit_codes] != value_codes)):
                return self._cohort_starts_slow(cohort)  # varies within a unit: raises
            unit_values = np.asarray(unit_values, dtype=object)
            aligned = None
        try:
            converted = [
                self._period(int(v) if isinstance(v, (float, np.floating)) else v, "cohort")
                for v in values.tolist()
            ]
        except DesignError:
            return self._cohort_starts_slow(cohort)  # names the first unit at fault
        periods = np.empty(len(converted), dtype=object)
        periods[:] = converted
        if aligned is not None:
            self._start_table = (aligned, converted)
        self._start_values = list(dict.fromkeys(converted))
        treated = per_unit >= 0
        return dict(zip(unit_values[treated].tolist(), periods[per_unit[treated]].tolist()))

    def _start_codes(self) -> tuple[np.ndarray, list]:
        """Each unit's start as a code into a list of periods (``-1`` = never treated).

        Codes follow :attr:`units`; kept from a cohort column, else built from :attr:`starts`.
        """
        if "_start_table" not in self.__dict__:
            values = list(dict.fromkeys(self._start_values))
            lookup = {v: i for i, v in enumerate(values)}
            starts = self.starts
            codes = np.array([lookup[starts[u]] if u in starts else -1 for u in self.units],
                             dtype=np.int64)
            self._start_table = (codes, values)
        return self._start_table

    def _cohort_starts_slow(self, cohort: str) -> dict:
        """The per-unit group-by of the cohort column; raises naming the units at fault."""
        column = self.data[cohort]
        if pd.api.types.is_numeric_dtype(column):
            column = column.where(column != 0)  # R did's convention: 0 = never treated
        codes = column.astype(str).where(column.notna())
        per_unit = codes.groupby(self.data[self.unit]).agg(["min", "max", "first"])
        varying = per_unit.index[(per_unit["min"] != per_unit["max"])
                                 & per_unit[["min", "max"]].notna().all(axis=1)].tolist()
        varying += per_unit.index[per_unit["min"].notna() & (codes.isna().groupby(
            self.data[self.unit]).any())].tolist()
        if varying:
            raise DesignError(
                f"cohort column {cohort!r} changes over time within unit(s) "
                f"{format_periods(varying)}; it must hold each unit's first treated period."
            )
        first_values = column.groupby(self.data[self.unit]).first()
        never = per_unit["min"].isna()
        return {u: self._period(int(v) if isinstance(v, (float, np.floating)) else v,
                                f"cohort of unit {u!r}")
                for u, v in first_values[~never].items()}
