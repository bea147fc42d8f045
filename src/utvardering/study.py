"""The Study: a validated panel bound to an intervention.

A :class:`Study` says which units are treated and from when (one common start, per-unit
starts, a cohort column, or a row-level treatment column), which units may serve as
comparisons (the donor pool), which are excluded (e.g. neighbours that may receive displaced
crime), the outcome and the analysis window. Design checks — treated units present, start
inside the data with enough pre-periods, a non-empty donor pool that contains no treated or
excluded unit, a treatment column without missing or negative values — live here, once, and
raise :class:`~utvardering.errors.DesignError` naming the unit or period at fault.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .data.panel_keys import RowOrder, distinct_runs, sorted_copy, sorted_distinct
from .data.schema import Panel, check_columns, validated_rows
from .data.timeparse import format_periods, is_yearly, to_period
from .errors import DataError, DesignError
from .interventions import Intervention, get_intervention, overlapping_programmes

__all__ = ["Study"]


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


def _natural(units: Iterable) -> list:
    """Units in reading order for a message: numbers by value (1, 2, 10), others as given."""
    units = list(units)
    if units and all(isinstance(u, (int, float, np.integer, np.floating))
                     and not isinstance(u, bool) for u in units):
        return sorted(units)
    return units


_FREQ_WORDS = {"M": "months", "Q": "quarters", "D": "days", "W": "weeks"}


def _example(value: int, freq: str) -> str:
    """A period of ``freq`` in the year ``value`` (or an invented one), for messages."""
    year = int(value) if 1000 <= int(value) <= 9999 else 2020
    return {"M": f"{year}-01", "Q": f"{year}Q1", "D": f"{year}-01-01"}.get(freq[0], f"{year}-01")


class Study:
    """A panel, an intervention and a comparison pool, checked once.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period (see :func:`~utvardering.data.schema.validate_panel`).
    outcome : str
        Outcome column.
    unit, time : str
        Unit and period columns.
    treated : str or list of str, optional
        Treated units (with ``start``).
    start : period-like, optional
        First treated period (``"2018-10"``, ``1989``); the common start of ``treated``.
    end : period-like, optional
        Last period the intervention was in force; the post-period ends here.
    starts : mapping, optional
        Per-unit first treated period for staggered designs (alternative to ``treated``/``start``).
    cohort : str, optional
        Column holding each unit's first treated period (``0`` or missing = never treated),
        the convention of R ``did`` (e.g. ``"first.treat"``).
    treatment : str, optional
        Column holding each unit-period's treatment :math:`D_{it} \\ge 0`: 0/1, or a dose
        (e.g. the share of the year a law was in force). An alternative to ``treated``/
        ``start``, ``starts`` and ``cohort`` (combining it with any of them, or with ``end``,
        is refused as ambiguous). The treated units are those with :math:`D_{it} > 0` in some
        period; a unit's start is its first such period,
        :math:`s_i = \\min\\{t : D_{it} > 0\\}`. The column is kept: estimators whose
        regressor is :math:`D_{it}` itself (:func:`~utvardering.did.twfe.twfe`,
        :func:`~utvardering.did.poisson.poisson_did`) use its row-level values, so a dose and
        a treatment that switches off again (non-absorbing) are modelled as given. Estimators
        that need a 0/1 treatment that stays on once it starts (event studies, the 2×2 DiD,
        the Bacon decomposition and the staggered estimators) refuse such a column, naming
        the first unit and period at fault (:meth:`require_absorbing`). Missing, non-finite
        or negative values are refused, and so is a column that is never :math:`> 0`.
    donors : list of str, optional
        Comparison units. Default: every never-treated unit not in ``exclude``.
    exclude : list of str, optional
        Units kept out of the donor pool (neighbours, units with other programmes).
    exposure : str, optional
        Population column for rates and offsets.
    counts : bool, optional
        Whether the outcome is an event count (checked as non-negative integers). Default:
        true when the outcome column has an integer dtype.
    covariates : list of str, optional
        Numeric covariates.
    window : (period-like, period-like), optional
        First and last period analysed; rows outside are left out (and reported by
        :meth:`describe`).
    min_pre_periods : int, default 1
        Fewest pre-treatment periods allowed for any treated unit (one is all a 2×2 DiD
        needs; estimators that need more check it themselves). With ``treatment=``, ``0``
        admits units treated from the first period on (always treated), which a TWFE
        regression can keep.
    dropna, allow_gaps : bool
        Passed to :func:`~utvardering.data.schema.validate_panel`.
    intervention : str or Intervention, optional
        Registry entry this study evaluates (used to flag overlapping programmes).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        unit: str = "unit",
        time: str = "time",
        treated: str | Iterable[str] | None = None,
        start: Any = None,
        end: Any = None,
        starts: Mapping[str, Any] | None = None,
        cohort: str | None = None,
        treatment: str | None = None,
        donors: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        exposure: str | None = None,
        counts: bool | None = None,
        covariates: Iterable[str] | None = None,
        window: tuple[Any, Any] | None = None,
        min_pre_periods: int = 1,
        dropna: bool = False,
        allow_gaps: bool = False,
        intervention: str | Intervention | None = None,
    ) -> None:
        self._kwargs = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        check_columns(data)
        if outcome not in getattr(data, "columns", []):
            counts_flag = False
        else:
            counts_flag = pd.api.types.is_integer_dtype(data[outcome]) if counts is None else counts
        panel, order = validated_rows(
            data, unit=unit, time=time, outcomes=[outcome], counts=[outcome] if counts_flag else [],
            exposure=exposure, covariates=[*_listify(covariates), *_listify(treatment)], freq=None,
            dropna=dropna, allow_gaps=allow_gaps,
        )
        self.outcome, self.unit, self.time = outcome, unit, time
        self.exposure, self.covariates = exposure, _listify(covariates)
        self.is_count = bool(counts_flag)
        self.intervention = get_intervention(intervention) if isinstance(intervention, str) else intervention
        frame = panel.data
        self.freq = panel.freq
        self.window_dropped = 0
        self._panel, self._blocks = panel, None
        if (window is None and order.perm is not None
                and frame[unit].iloc[:1].to_numpy().dtype.kind in "iuO"):
            # whole unit blocks to reorder: sorted only when .data is read (see _sorted_view)
            self._blocks = (order.perm, order.per)
            perm = order.perm
            self.units: list = pd.unique(frame[unit].to_numpy()[::order.per][perm]).tolist()
        else:
            panel.data = frame = sorted_copy(frame, order.rows())
            del order
            if window is not None:
                lo, hi = (self.period(w, "window") if w is not None else None for w in window)
                keep = pd.Series(True, index=frame.index)
                if lo is not None:
                    keep &= frame[time] >= lo
                if hi is not None:
                    keep &= frame[time] <= hi
                self.window_dropped = int((~keep).sum())
                if not keep.any():
                    first, last = frame[time].min(), frame[time].max()
                    raise DesignError(
                        f"the window ({lo}, {hi}) holds no rows: the data cover {first} to "
                        f"{last}. Give a window inside that range (or window=None).")
                frame = frame.loc[keep].reset_index(drop=True)
            self._data = frame
            # the validated frame is sorted by the units' string form: first appearance is that order
            self.units = distinct_runs(frame[unit])
        # unit blocks share their periods: the first block has them all
        self.times: list = sorted_distinct(
            frame[time] if self._blocks is None else frame[time].iloc[:self._blocks[1]])
        self._check_variation()
        self.treatment = treatment
        if treatment is not None and end is not None:
            raise DesignError(
                f"treatment={treatment!r} already says when the treatment is in force (and when "
                f"it switches off); end={end!r} would say it again. Give one of them: the "
                "column, or treated=/start= with end=.")
        self.starts = self._resolve_starts(treated, start, starts, cohort, treatment)
        self.treated: list = [u for u in self.units if u in self.starts]  # sorted as units
        self.start = min(self.starts.values())
        self.end = self.period(end, "end") if end is not None else None
        if self.end is not None and self.end < self.start:
            raise DesignError(f"end {self.end} is before the start {self.start}; correct end=.")
        self.excluded: list = sorted(set(_listify(exclude)), key=str)
        self.donors: list = self._resolve_donors(donors)
        self._check_pre_periods(min_pre_periods)

    # -- construction helpers -------------------------------------------------------------
    def _check_variation(self) -> None:
        """Refuse an outcome that is the same number in every row: nothing can be estimated."""
        values = self._sorted_view()[0][self.outcome].to_numpy()
        if len(values) and values.dtype.kind in "iuf" and values.min() == values.max():
            raise DataError(
                f"outcome {self.outcome!r} is {values[0]:g} in every row ({len(self.units)} "
                f"units × {len(self.times)} periods): there is no variation to estimate an "
                "effect from. Check that the right column (and window) was chosen; a count that "
                "is zero everywhere has no events to compare."
            )

    def period(self, value: Any, what: str = "period") -> Any:
        """``value`` as a period of this panel (a :class:`pandas.Period` or an integer).

        Parameters
        ----------
        value : str, int, pandas.Period or datetime-like
            E.g. ``"2018-10"`` on a monthly panel, ``1989`` on a yearly one.
        what : str
            What the value is (``"start"``, ``"window"``), quoted in the error message.

        Returns
        -------
        pandas.Period or int

        Raises
        ------
        DesignError
            If the value is not a period of this panel's frequency (a number on a monthly
            panel, text on an integer-time panel, a string that does not parse).
        """
        if self.freq is None and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)  # integer time (years): "1989" means 1989
        if self.freq is None and not isinstance(value, (int, np.integer)):
            raise DesignError(
                f"{what} {value!r} is not a period of this panel: its time column holds integers "
                "(e.g. years), so give an integer such as 1989."
            )
        if (self.freq is not None and not is_yearly(self.freq)
                and isinstance(value, (int, np.integer)) and not isinstance(value, bool)):
            raise DesignError(
                f"{what} is {value!r}, a number, but this panel's periods are "
                f"{_FREQ_WORDS.get(self.freq[0], self.freq)} ({self.times[0]} to "
                f"{self.times[-1]}): give a period such as {_example(value, self.freq)!r}."
            )
        try:
            return to_period(value, self.freq)
        except (ValueError, TypeError) as exc:
            raise DesignError(f"{what} {value!r} is not a period of this panel ({exc}).") from exc

    def _unknown_unit(self, name, role: str) -> DesignError:
        lowered = {str(u).lower(): str(u) for u in self.units}
        close = [lowered[c] for c in difflib.get_close_matches(str(name).lower(), list(lowered), n=3)]
        hint = f" Did you mean {format_periods(close)}?" if close else ""
        return DesignError(
            f"{role} unit {name!r} is not in column {self.unit!r}.{hint} The panel's units are "
            f"{format_periods(_natural(self.units), 12)}."
        )

    def _resolve_donors(self, donors) -> list:
        treated, excluded, known = set(self.treated), set(self.excluded), set(self.units)
        for u in self.excluded:
            if u not in known:
                raise self._unknown_unit(u, "excluded")
        if donors is None:
            pool = [u for u in self.units if u not in treated and u not in excluded]
        else:
            pool = _listify(donors)
            for u in pool:
                if u not in known:
                    raise self._unknown_unit(u, "donor")
            bad_t = [u for u in pool if u in treated]
            bad_x = [u for u in pool if u in excluded]
            if bad_t or bad_x:
                parts = []
                if bad_t:
                    parts.append(f"treated unit(s) {format_periods(_natural(bad_t))}")
                if bad_x:
                    parts.append(f"excluded unit(s) {format_periods(_natural(bad_x))}")
                raise DesignError(
                    f"the donor pool contains {' and '.join(parts)}; a comparison unit must be "
                    "untreated and not excluded. Remove them from donors=."
                )
        if not pool and not self.is_staggered:
            raise DesignError(
                f"the donor pool is empty: all {len(self.units)} units are treated or excluded "
                f"(excluded: {format_periods(_natural(self.excluded))}). Add comparison units."
            )
        return pool if donors is None else sorted(pool, key=str)

    def _check_pre_periods(self, minimum: int) -> None:
        times = np.array(self.times, dtype=object)
        if all(int((times < s).sum()) >= minimum for s in self._start_values):
            return
        starts = pd.Series(self.starts, dtype=object)
        counts = pd.Series({s: int((times < s).sum()) for s in set(starts)})
        n_pre = starts.map(counts)
        few = n_pre[n_pre < minimum].to_dict()
        if few:
            groups: dict[int, list] = {}
            for u, n in few.items():
                groups.setdefault(int(n), []).append(u)
            detail = "; ".join(
                f"{len(us)} treated unit{'s' if len(us) > 1 else ''} with {n} "
                f"({format_periods(_natural(us), 4)})" for n, us in sorted(groups.items()))
            raise DesignError(
                f"too few pre-treatment periods: {detail}; at least {minimum} needed. Start "
                f"later, extend the data back, or lower min_pre_periods."
            )

    # -- who is treated and from when -------------------------------------------------------
    # treated=/start=, starts={unit: period} or a cohort column become the unit -> first treated
    # period mapping. A cohort column is read on integer codes (each distinct value converted
    # once, and on a complete units × periods grid only one value per unit is coded); any
    # problem is re-checked row by row so that the error names the units at fault.
    def _resolve_starts(self, treated, start, starts, cohort, treatment=None) -> dict:
        if treatment is not None:
            clash = [f"{name}=" for name, value in (("treated", treated), ("start", start),
                                                    ("starts", starts), ("cohort", cohort))
                     if value is not None]
            if clash:
                raise DesignError(
                    f"treatment={treatment!r} says who is treated from when, and so does "
                    f"{' and '.join(clash)}: the design is ambiguous. Give the treatment column "
                    "alone, or leave out treatment=.")
            return self._treatment_starts(treatment)
        given = sum(x is not None for x in (starts, cohort)) + (treated is not None)
        if given != 1:
            raise DesignError(
                "say who is treated in exactly one way: treated=[...] with start=..., "
                "starts={unit: period}, cohort='column of first treated period', or "
                "treatment='column of each unit-period's treatment'."
            )
        if treated is not None:
            if start is None:
                raise DesignError("treated units need a start=... (the first treated period).")
            s = self.period(start, "start")
            resolved = {u: s for u in _listify(treated)}
        elif starts is not None:
            resolved = {u: self.period(v, f"start of unit {u!r}") for u, v in dict(starts).items()}
        else:
            if cohort not in self._sorted_view()[0].columns:
                raise DesignError(f"cohort column {cohort!r} is not in the data; it has "
                                  f"{format_periods(list(map(str, self.columns)), 30)}.")
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
            detail = ", ".join(f"{u}: {s}" for u, s in list(outside.items())[:5]) + (
                f" ({len(outside)} units in all)" if len(outside) > 5 else "")
            raise DesignError(
                f"start outside the data for {detail}: the panel covers {first} to {last}, and a "
                "start must leave at least one pre-period and fall on or before the last period."
            )
        return resolved

    def _treatment_starts(self, column: str) -> dict:
        """Unit → first period with ``column > 0``; records where the column is a dose or
        switches off (for :meth:`require_absorbing`). Raises naming the unit and period of
        the first missing or negative value.
        """
        frame = self.data  # sorted by unit and period: "first" below is in that order
        d = frame[column].to_numpy(dtype=float)
        units, times = frame[self.unit].to_numpy(), frame[self.time].to_numpy()

        def at(mask: np.ndarray) -> tuple[int, str]:
            i = int(np.flatnonzero(mask)[0])
            return i, f"unit {units[i]!r}, period {times[i]}"

        missing = ~np.isfinite(d)
        if missing.any():
            i, where = at(missing)
            raise DataError(
                f"treatment column {column!r} has {int(missing.sum())} missing or non-finite "
                f"value(s), the first at {where} ({frame[column].iloc[i]!r}); every unit-period "
                "needs a treatment value (0 = untreated). Fill them or drop those rows.")
        negative = d < 0
        if negative.any():
            i, where = at(negative)
            raise DataError(
                f"treatment column {column!r} has {int(negative.sum())} negative value(s), the "
                f"first at {where} ({d[i]:g}); a treatment is 0 (untreated), 1 (treated) or a "
                "positive dose. Correct the column.")
        on = d > 0
        if not on.any():
            raise DesignError(
                f"treatment column {column!r} is never > 0 (it is 0 in all {len(d)} "
                f"unit-periods): no unit is treated, so there is no effect to estimate. Check "
                "the column (and window=).")
        first = frame.loc[on].groupby(self.unit, sort=False)[self.time].min()
        as_period = {v: self.period(v, "start") for v in pd.unique(first.to_numpy())}
        resolved = {u: as_period[first[u]] for u in self.units if u in first.index}
        self._start_values = _distinct(resolved.values())
        start_of_row = frame[self.unit].map(first)
        ever = start_of_row.notna().to_numpy()
        after = np.zeros(len(d), dtype=bool)
        after[ever] = (frame[self.time].loc[ever] >= start_of_row.loc[ever]).to_numpy()
        off = after & ~on
        self._switch_off = None
        if off.any():
            i, where = at(off)
            self._switch_off = (f"{where} (0 after its first treated period "
                                f"{resolved[units[i]]}; {int(off.sum())} such unit-period(s))")
        dose = (d != 0) & (d != 1)
        self._dose = None
        if dose.any():
            i, where = at(dose)
            self._dose = f"{d[i]:g} at {where} ({int(dose.sum())} value(s) other than 0 and 1)"
        return resolved

    def require_absorbing(self, where: str) -> None:
        """Raise unless the treatment is 0/1 and stays on once it starts (staggered adoption).

        Always true for a Study defined by ``treated``/``start``, ``starts`` or ``cohort``; a
        ``treatment=`` column may hold a dose or switch off again, which only estimators with
        :math:`D_{it}` as their regressor (:func:`~utvardering.did.twfe.twfe`,
        :func:`~utvardering.did.poisson.poisson_did`) can use. Estimators built on each unit's
        start (event time :math:`t - s_i`) call this rather than reinterpret such a column.

        Parameters
        ----------
        where : str
            The calling estimator's public name, quoted in the message.

        Raises
        ------
        DesignError
            Naming the first unit and period where the column holds a value other than 0 and
            1, or is 0 again after the unit's first treated period.
        """
        if self.treatment is None:
            return
        uses = ("twfe and poisson_did use the row-level treatment as their regressor and accept "
                "it")
        if self._dose is not None:
            raise DesignError(
                f"{where} needs a 0/1 treatment, but treatment column {self.treatment!r} holds "
                f"a dose: {self._dose}. {uses}; for {where}, recode the column to 0/1 (e.g. "
                "treated = dose > 0) or define the Study with starts=/cohort=.")
        if self._switch_off is not None:
            raise DesignError(
                f"{where} needs a treatment that stays on once it starts (absorbing), but "
                f"treatment column {self.treatment!r} switches off at {self._switch_off}. "
                f"{uses}; for {where}, restrict window= to the periods before it switches off, "
                "or give treated=/start= with a common end=.")

    def _cohort_starts(self, cohort: str) -> dict:
        """Unit → first treated period from a cohort column, on integer codes.

        Each distinct cohort value is converted once; any problem (a value that changes
        within a unit, one that is not a period) is reported by :meth:`_cohort_starts_slow`,
        which names the units at fault. The codes are kept (:meth:`start_codes`).
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
                self.period(int(v) if isinstance(v, (float, np.floating)) else v, "cohort")
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

    def start_codes(self) -> tuple[np.ndarray, list]:
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
                f"{format_periods(_natural(varying))}; it must hold each unit's first treated period."
            )
        first_values = column.groupby(self.data[self.unit]).first()
        never = per_unit["min"].isna()
        return {u: self.period(int(v) if isinstance(v, (float, np.floating)) else v,
                                f"cohort of unit {u!r}")
                for u, v in first_values[~never].items()}

    # old private names, still called by did/_staggered_data.py and synth/placebo.py
    _period = period
    _start_codes = start_codes

    # -- the validated rows ---------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The validated long copy, sorted by unit (string form) and period, time parsed."""
        return self._sorted_view()[0] if self._blocks is None else self._sort_rows()

    @property
    def columns(self) -> list:
        """The columns of :attr:`data` (read without sorting the rows)."""
        return list(self._sorted_view()[0].columns)

    @property
    def panel(self) -> Panel:
        """The :class:`~utvardering.data.schema.Panel` (before any ``window``)."""
        if self._blocks is not None:
            self._sort_rows()
        return self._panel

    def _sort_rows(self) -> pd.DataFrame:
        """Put rows held as unit blocks in order (once; :attr:`data` then holds them)."""
        perm, per = self._blocks
        self._panel.data = self._data = sorted_copy(self._panel.data,
                                                     RowOrder(perm=perm, per=per).rows())
        self._blocks = None
        return self._data

    def _sorted_view(self) -> tuple[pd.DataFrame, np.ndarray | None]:
        """The rows and, while they are unsorted unit blocks, the block order.

        A panel of whole unit blocks in another unit order (e.g. integer units sorted as
        numbers, which :attr:`data` sorts as strings) is not copied unless :attr:`data` is
        read: row ``i`` of :meth:`wide` is block ``perm[i]`` of the rows.
        """
        if self._blocks is None:
            return self._data, None
        return self._panel.data, self._blocks[0]

    # -- views ------------------------------------------------------------------------------
    @property
    def is_staggered(self) -> bool:
        """Whether treated units start at different periods."""
        return len(set(getattr(self, "starts", {}).values())) > 1

    @property
    def pre_times(self) -> list:
        """Periods before the (earliest) start."""
        return [t for t in self.times if t < self.start]

    @property
    def post_times(self) -> list:
        """Periods from the start to ``end`` (or the last period)."""
        return [t for t in self.times if t >= self.start and (self.end is None or t <= self.end)]

    def _grid(self) -> tuple[int, int] | None:
        """``(units, periods)`` when :attr:`data` is the full grid in unit-major order.

        A validated panel without gaps is sorted by unit and period, so its rows reshape
        to a units × periods matrix directly (no pivot); checked once on integer codes.
        """
        if "_grid_shape" not in self.__dict__ and self._blocks is not None:
            self._grid_shape = (len(self.units), self._blocks[1])  # checked as unit blocks
        if "_grid_shape" not in self.__dict__:
            self._grid_shape = None
            n_units, n_times = len(self.units), len(self.times)
            frame = self.data
            if n_units * n_times == len(frame) and n_times > 0:
                unit_col = frame[self.unit].to_numpy().reshape(n_units, n_times)
                column = frame[self.time]
                t = column.array.asi8 if isinstance(column.dtype, pd.PeriodDtype) else column.to_numpy()
                t = t.reshape(n_units, n_times)
                first = unit_col[:, 0]
                units_match = first.dtype.kind in "iuO" and bool(
                    np.all(first == np.asarray(self.units, dtype=first.dtype)))
                if (units_match and bool(np.all(unit_col == first[:, None]))
                        and bool(np.all(t == t[0])) and bool(np.all(np.diff(t[0]) > 0))):
                    self._grid_shape = (n_units, n_times)
        return self._grid_shape

    def wide(self, column: str | None = None, units: Iterable | None = None) -> pd.DataFrame:
        """Units × periods matrix of ``column`` (default: the outcome)."""
        column = column or self.outcome
        grid = self._grid() if units is not None else None
        frame, perm = self._sorted_view()
        values = frame[column].to_numpy() if grid is not None else None
        if grid is not None and values.dtype.kind in "fiu":
            units = list(units)
            if len(units) == len(self.units) and units == self.units:
                positions = np.arange(len(units))
            else:
                if "_unit_index" not in self.__dict__:
                    self._unit_index = pd.Index(self.units)
                positions = self._unit_index.get_indexer(units)
            if not (positions < 0).any():
                n_times = grid[1]
                rows = positions if perm is None else perm[positions]
                index = pd.Index(frame[self.unit].array[::n_times].take(rows), name=self.unit)
                columns = pd.Index(frame[self.time].array[:n_times], name=self.time)
                matrix = values.reshape(grid)  # all units in order: a (read-only) view
                if (perm is not None or len(positions) != grid[0]
                        or np.any(positions != np.arange(grid[0]))):
                    matrix = matrix[rows]
                return pd.DataFrame(matrix, index=index, columns=columns, copy=False)
        table = self.data.pivot(index=self.unit, columns=self.time, values=column)
        return table.loc[list(units)] if units is not None else table

    def treatment_matrix(self) -> pd.DataFrame:
        """Units × periods treatment matrix :math:`D_{it}`.

        0/1: 1 where the unit is treated (from its start to ``end``); with ``treatment=``, that
        column's values (a dose, or 0 again where it switches off; NaN for a unit-period the
        panel lacks).
        """
        if self.treatment is not None:
            matrix = self.data.pivot(index=self.unit, columns=self.time, values=self.treatment)
            return matrix.reindex(index=self.units, columns=self.times)
        times = np.array(self.times, dtype=object)
        rows = {}
        for u in self.units:
            s = self.starts.get(u)
            on = np.zeros(len(times), dtype=np.int8) if s is None else (times >= s).astype(np.int8)
            if s is not None and self.end is not None:
                on &= (times <= self.end).astype(np.int8)
            rows[u] = on
        return pd.DataFrame.from_dict(rows, orient="index", columns=self.times)

    def overlapping_programmes(self) -> pd.DataFrame:
        """Other registry programmes in force in the treated units during the post-period."""
        last = self.post_times[-1]
        first_day = self.start.start_time if isinstance(self.start, pd.Period) else f"{self.start}-01-01"
        last_day = last.end_time if isinstance(last, pd.Period) else f"{last}-12-31"
        exclude = self.intervention.key if self.intervention is not None else ()
        return overlapping_programmes(self.treated, first_day, last_day, exclude=exclude)

    @classmethod
    def coerce(cls, study: Study | pd.DataFrame, where: str = "this estimator", *,
               absorbing: bool = True, **design: Any) -> Study:
        """The one adapter from an estimator's first argument to a :class:`Study`.

        Parameters
        ----------
        study : Study or pandas.DataFrame
            A Study is returned as it is; a DataFrame is turned into ``Study(study, **design)``.
        where : str
            The calling function's public name, quoted in error messages.
        absorbing : bool, default True
            The caller builds on each treated unit's start (event time, pre/post periods), so
            a ``treatment=`` column must be 0/1 and never switch off
            (:meth:`require_absorbing`); ``False`` for estimators whose regressor is the
            row-level treatment :math:`D_{it}` (TWFE, Poisson DiD), which take a dose or a
            treatment that switches off as given. Refusing is the default so that no
            estimator silently reads such a column as a start date.
        **design
            Study keywords (``outcome=``, ``unit=``, ``time=``, ``treated=``, ``start=``,
            ``treatment=``, ...), only allowed with a DataFrame. This is how an estimator
            called as ``twfe(df, outcome="y", treatment="d")`` gets its design: every design
            keyword is the Study's.

        Returns
        -------
        Study

        Raises
        ------
        DesignError
            If a Study comes with design keywords (they would be silently ignored; set them with
            :meth:`replace` instead), if ``study`` is neither a Study nor a DataFrame, or (with
            ``absorbing``) if its treatment column is a dose or switches off.
        """
        if isinstance(study, Study):
            if design:
                raise DesignError(
                    f"{where}: got a Study and also {sorted(design)}; set those on the Study "
                    "(study.replace(...)) instead.")
        elif isinstance(study, pd.DataFrame):
            study = cls(study, **design)
        else:
            raise DesignError(f"{where} needs a Study or a pandas DataFrame with outcome=, "
                              f"unit=, time=, treated= and start=; got {type(study).__name__}.")
        if absorbing:
            study.require_absorbing(where)
        return study

    def replace(self, **changes) -> Study:
        """A new Study with some arguments changed (e.g. ``start=``, ``donors=``)."""
        kwargs = dict(self._kwargs)
        if "treated" in changes or "start" in changes:
            kwargs.pop("starts", None), kwargs.pop("cohort", None), kwargs.pop("treatment", None)
        if changes.get("treatment") is not None:
            for name in ("treated", "start", "starts", "cohort", "end"):
                kwargs.pop(name, None)
        kwargs.update(changes)
        return Study(**kwargs)

    def describe(self) -> str:
        """A short plain-text description of the design."""
        lines = [
            f"Outcome: {self.outcome}{' (count)' if self.is_count else ''}"
            + (f", exposure {self.exposure}" if self.exposure else ""),
            f"Panel: {len(self.units)} units × {len(self.times)} periods "
            f"({self.times[0]} to {self.times[-1]})",
            f"Treated: {format_periods(_natural(self.treated), 12)}"
            + (f" from {self.start}" if not self.is_staggered else " (staggered starts)"),
            *([f"Treatment: column {self.treatment!r}"
               + (" (a dose)" if self._dose is not None else "")
               + (" (switches off)" if self._switch_off is not None else "")]
              if self.treatment is not None else []),
            f"End: {self.end if self.end is not None else 'open'}; "
            f"pre-periods {len(self.pre_times)}, post-periods {len(self.post_times)}",
            f"Donor pool ({len(self.donors)}): {format_periods(_natural(self.donors), 12)}",
            f"Excluded: {format_periods(_natural(self.excluded), 12) or 'none'}",
        ]
        if self.window_dropped:
            lines.append(f"Rows outside the window left out: {self.window_dropped}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-serialisable description of the design (for provenance records)."""
        return {
            "outcome": self.outcome, "unit": self.unit, "time": self.time,
            "treated": [str(u) for u in self.treated],
            "starts": {str(u): str(s) for u, s in self.starts.items()},
            "end": None if self.end is None else str(self.end),
            "treatment": self.treatment,
            "donors": [str(u) for u in self.donors], "excluded": [str(u) for u in self.excluded],
            "exposure": self.exposure, "is_count": self.is_count,
            "periods": [str(self.times[0]), str(self.times[-1])],
            "intervention": None if self.intervention is None else self.intervention.key,
        }

    def __repr__(self) -> str:
        return f"Study(outcome={self.outcome!r}, treated={self.treated!r}, start={self.start})"
