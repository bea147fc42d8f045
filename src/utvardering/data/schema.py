"""The panel data contract: validation of long unit × period panels.

(Survey micro-data and incidents have theirs in :mod:`utvardering.data.schema_micro`.) Every check reports *what* is wrong, *where* (column, unit, period, row) and *how to fix
it*. :func:`check_panel` collects every problem without raising (the command line prints
them all); :func:`validate_panel` raises one :class:`~utvardering.errors.DataError` listing
them and otherwise returns a :class:`Panel` holding a validated, sorted *copy* of the data.
The caller's DataFrame is never modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DataWarning, warn
from .panel_keys import NO_DUPLICATES, PanelKeys, sorted_copy
from .timeparse import format_periods, parse_time, period_freq

__all__ = ["Panel", "Problem", "check_columns", "check_panel", "period_range", "validate_panel",
           "validated_rows"]


@dataclass(frozen=True)
class Problem:
    """One violation of a data contract: a short ``kind`` and a full ``message``."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


@dataclass
class Panel:
    """A validated long-format panel: one row per ``unit`` × ``time``.

    Attributes
    ----------
    data : pandas.DataFrame
        Validated copy sorted by unit and time, ``time`` parsed to Periods or integers.
    unit, time : str
        Column names of the unit identifier and the period.
    outcomes : tuple of str
        Outcome columns (numeric, no missing values unless dropped on request).
    counts : tuple of str
        The outcomes that are event counts (non-negative integers).
    exposure : str or None
        Column with the population at risk (positive), for rates and offsets.
    covariates : tuple of str
        Extra numeric columns carried along.
    dropped : pandas.DataFrame
        Rows removed because an outcome was missing (only with ``dropna=True``).
    """

    data: pd.DataFrame
    unit: str
    time: str
    outcomes: tuple[str, ...]
    counts: tuple[str, ...] = ()
    exposure: str | None = None
    covariates: tuple[str, ...] = ()
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def units(self) -> list:
        """Units in sorted order."""
        return sorted(self.data[self.unit].unique().tolist(), key=str)

    @property
    def times(self) -> list:
        """Periods in order."""
        return sorted(self.data[self.time].unique().tolist())

    @property
    def freq(self) -> str | None:
        """Period frequency (``"M"``, ``"Q"``, ``"Y"``, ``"D"``) or ``None`` for integer time."""
        dtype = self.data[self.time].dtype
        return period_freq(dtype) if isinstance(dtype, pd.PeriodDtype) else None

    def wide(self, column: str | None = None) -> pd.DataFrame:
        """Units × periods matrix of ``column`` (default: the first outcome)."""
        column = column or self.outcomes[0]
        return self.data.pivot(index=self.unit, columns=self.time, values=column)


def _as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _rows_label(frame: pd.DataFrame, mask: pd.Series, unit: str, time: str, limit: int = 8) -> str:
    bad = frame.loc[mask, [unit, time]]
    pairs = [f"{u} {t}" for u, t in zip(bad[unit].tolist(), bad[time].astype(str).tolist())]
    return format_periods(pairs, limit)


def check_columns(data: Any) -> None:
    """Refuse what no column lookup can work with: a non-DataFrame, MultiIndex or repeated names.

    Parameters
    ----------
    data : pandas.DataFrame
        The caller's frame (not modified).

    Raises
    ------
    DataError
        If ``data`` is not a DataFrame, its columns are a :class:`pandas.MultiIndex` (e.g. the
        result of a ``pivot`` or ``agg`` with several functions), or a column name occurs more
        than once; the message says how to flatten or rename.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(data).__name__}.")
    if isinstance(data.columns, pd.MultiIndex):
        shown = format_periods([c for c in data.columns.tolist()], 4)
        raise DataError(
            f"the data's columns have {data.columns.nlevels} levels (a MultiIndex: {shown}); a "
            "panel needs one name per column. Flatten them first, e.g. df.columns = "
            "['_'.join(map(str, c)).strip('_') for c in df.columns], or df = df.reset_index()."
        )
    repeated = data.columns[data.columns.duplicated()].unique().tolist()
    if repeated:
        raise DataError(
            f"column name(s) {format_periods(repeated)} occur more than once in the data; each "
            "column needs its own name. Drop or rename the copies (e.g. after a pd.concat of "
            "frames with the same columns, use axis=0 or merge)."
        )


def period_range(times: Sequence) -> list:
    """Every period from the first to the last of ``times`` (integers step by one)."""
    first, last = min(times), max(times)
    if isinstance(first, pd.Period):
        return list(pd.period_range(first, last, freq=first.freq))
    return list(range(int(first), int(last) + 1))


def check_panel(
    data: pd.DataFrame,
    *,
    unit: str = "unit",
    time: str = "time",
    outcomes: str | Iterable[str] = (),
    counts: str | Iterable[str] = (),
    exposure: str | None = None,
    covariates: str | Iterable[str] = (),
    freq: str | None = None,
    dropna: bool = False,
    allow_gaps: bool = False,
) -> tuple[list[Problem], pd.DataFrame | None, pd.DataFrame]:
    """Check a long panel against the Panel contract and collect every problem.

    Parameters are those of :func:`validate_panel`.

    Returns
    -------
    problems : list of Problem
        Empty when the data are valid.
    cleaned : pandas.DataFrame or None
        The validated copy (time parsed, sorted), or ``None`` when a problem prevents it.
    dropped : pandas.DataFrame
        Rows dropped for missing outcomes (only when ``dropna=True``).
    """
    problems, frame, dropped, order = _check_rows(
        data, unit=unit, time=time, outcomes=outcomes, counts=counts, exposure=exposure,
        covariates=covariates, freq=freq, dropna=dropna, allow_gaps=allow_gaps)
    if frame is None:
        return problems, None, dropped
    return problems, sorted_copy(frame, order.rows()), dropped


def _check_rows(data, *, unit, time, outcomes, counts, exposure, covariates, freq, dropna,
                allow_gaps) -> tuple[list[Problem], pd.DataFrame | None, pd.DataFrame, Any]:
    """:func:`check_panel` before the sort: the rows in the caller's order (sharing its columns,
    copy-on-write) and their :class:`~utvardering.data.panel_keys.RowOrder`.
    """
    check_columns(data)
    outcomes, counts, covariates = _as_tuple(outcomes), _as_tuple(counts), _as_tuple(covariates)
    outcomes = outcomes + tuple(c for c in counts if c not in outcomes)
    problems: list[Problem] = []
    empty = pd.DataFrame()
    if data.empty:
        return [Problem("empty", "the data have no rows; pass a non-empty panel.")], None, empty, None
    wanted = [unit, time, *outcomes, *covariates] + ([exposure] if exposure else [])
    missing = [c for c in dict.fromkeys(wanted) if c not in data.columns]
    if missing:
        problems.append(
            Problem(
                "missing_column",
                f"missing column(s) {format_periods(missing)}; the data have columns "
                f"{format_periods(list(map(str, data.columns)), 40)}. Rename the column or pass "
                "its name (unit=..., time=..., outcome=...).",
            )
        )
        return problems, None, empty, None
    # a new frame (copy-on-write): setting its columns never touches the caller's data; the
    # rows are copied once at the end (by the sort, or explicitly when already sorted)
    frame = data[list(dict.fromkeys(wanted + [c for c in data.columns if c not in wanted]))]
    if frame[unit].isna().any():
        rows = frame.index[frame[unit].isna()].tolist()
        problems.append(
            Problem("missing_unit", f"column {unit!r} is missing in rows {format_periods(rows)}; "
                    "every row needs a unit identifier.")
        )
    try:
        frame[time] = parse_time(frame[time], column=time, freq=freq)
    except DataError as exc:
        problems.append(Problem("time", str(exc)))
        return problems, None, empty, None
    if problems:
        return problems, None, empty, None
    keys = PanelKeys(frame, unit, time)
    dup = keys.duplicated() if keys.has_duplicates() else NO_DUPLICATES
    if dup.any():
        n_pairs = int(frame.loc[dup].drop_duplicates([unit, time]).shape[0])
        problems.append(
            Problem(
                "duplicate",
                f"{n_pairs} unit×time pair(s) appear more than once, e.g. "
                f"{_rows_label(frame, dup, unit, time)} (rows {format_periods(frame.index[dup].tolist())}). "
                "A panel has one row per unit and period: aggregate or remove the duplicates.",
            )
        )
    problems += _check_numeric(frame, [*outcomes, *covariates] + ([exposure] if exposure else []),
                               unit, time)
    if any(p.kind == "non_numeric" for p in problems):
        return problems, None, empty, None
    problems += _check_finite(frame, [*outcomes, *covariates] + ([exposure] if exposure else []),
                              unit, time, outcomes)
    dropped = empty
    nan_mask = frame[list(outcomes)].isna().any(axis=1) if outcomes else pd.Series(False, frame.index)
    if nan_mask.any():
        if dropna:
            dropped = frame.loc[nan_mask].copy()
            frame = frame.loc[~nan_mask]
        else:
            cols = [c for c in outcomes if frame[c].isna().any()]
            problems.append(
                Problem(
                    "missing_outcome",
                    f"outcome(s) {format_periods(cols)} are missing for {int(nan_mask.sum())} "
                    f"unit-period(s): {_rows_label(frame, nan_mask, unit, time)}. Fill them, remove "
                    "those rows, or pass dropna=True to drop them (the dropped rows are reported).",
                )
            )
    problems += _check_counts(frame, counts, unit, time)
    if exposure:
        bad = frame[exposure].isna() | (frame[exposure] <= 0)
        if bad.any() and not any(p.kind == "non_finite" for p in problems):
            problems.append(
                Problem("exposure", f"exposure column {exposure!r} must be positive and present; "
                        f"it is missing, zero or negative for {_rows_label(frame, bad, unit, time)}.")
            )
    if not allow_gaps and not dup.any():
        if not (dropped.empty and keys.is_complete()):
            problems += _check_gaps(frame, unit, time, dropped)
    if not dropped.empty:
        keys = PanelKeys(frame, unit, time)
    order = keys.row_order()
    del keys  # its code arrays are as long as the data: free them before the rows are copied
    return problems, frame, dropped, order


def _check_numeric(frame: pd.DataFrame, columns: Sequence[str], unit: str, time: str) -> list[Problem]:
    problems = []
    for col in dict.fromkeys(columns):
        series = frame[col]
        if pd.api.types.is_bool_dtype(series):
            frame[col] = series.astype(float)
            continue
        if pd.api.types.is_numeric_dtype(series):
            continue
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna() & series.notna()
        if bad.any():
            values = format_periods(series[bad].unique().tolist(), 5)
            problems.append(
                Problem(
                    "non_numeric",
                    f"column {col!r} must be numeric but holds {values} at "
                    f"{_rows_label(frame, bad, unit, time)}. Convert it (e.g. decimal commas to "
                    "points, suppression markers to missing) before validating.",
                )
            )
        else:
            frame[col] = converted
    return problems


def _check_finite(frame: pd.DataFrame, columns: Sequence[str], unit: str, time: str,
                  outcomes: Sequence[str] = ()) -> list[Problem]:
    """``inf``/``-inf`` in numeric columns: never a valid value of an outcome, covariate or
    population (an overflow in a file, e.g. ``1e400``, or a division by zero upstream).
    """
    problems = []
    for col in dict.fromkeys(columns):
        series = frame[col]
        raw = series.to_numpy()
        if raw.dtype.kind != "f":
            if raw.dtype.kind in "iub" or not pd.api.types.is_float_dtype(series):
                continue
            raw = series.to_numpy(dtype=float, na_value=np.nan)  # nullable Float64
        infinite = np.isinf(raw)
        if not infinite.any():
            continue
        mask = pd.Series(infinite, index=frame.index)
        signs = sorted({"inf" if v > 0 else "-inf" for v in raw[infinite].tolist()})
        problems.append(
            Problem(
                "non_finite",
                f"column {col!r} holds {' and '.join(signs)} (infinite) in {int(infinite.sum())} "
                f"row(s): {_rows_label(frame, mask, unit, time)}. An infinite value is an "
                "overflow (e.g. 1e400 in a file) or a division by zero upstream: put in the "
                "true value"
                + (", or set it missing (NaN) and pass dropna=True to drop the row."
                   if col in outcomes else ", or remove the row."),
            )
        )
    return problems


def _check_counts(frame: pd.DataFrame, counts: Sequence[str], unit: str, time: str) -> list[Problem]:
    problems = []
    for col in counts:
        raw = frame[col].to_numpy()
        if raw.dtype.kind in "iu" and not bool((raw < 0).any()):
            frame[col] = raw.astype(np.int64)  # whole, non-negative: nothing to report
            continue
        values = frame[col].astype(float)
        negative = values < 0
        if negative.any():
            problems.append(
                Problem("negative_count", f"count column {col!r} has negative values at "
                        f"{_rows_label(frame, negative, unit, time)}; counts of events are >= 0.")
            )
        fractional = values.notna() & ~np.isclose(values, np.round(values))
        if fractional.any():
            problems.append(
                Problem(
                    "non_integer_count",
                    f"count column {col!r} has non-integer values "
                    f"{format_periods(frame.loc[fractional, col].tolist(), 4)} at "
                    f"{_rows_label(frame, fractional, unit, time)}. Counts must be whole numbers; "
                    "if this is a rate, declare it as an outcome, not a count.",
                )
            )
        if not negative.any() and not fractional.any() and values.notna().all():
            frame[col] = np.round(values).astype(np.int64)
    return problems


def _check_gaps(frame: pd.DataFrame, unit: str, time: str, dropped: pd.DataFrame) -> list[Problem]:
    times = frame[time].unique().tolist()
    if not times:
        return []
    full = period_range(times)
    n_units = frame[unit].nunique()
    present = frame.groupby(unit, sort=False)[time].nunique()
    if len(full) == len(times) and bool((present == len(full)).all()):
        return []
    grid = pd.MultiIndex.from_product([frame[unit].unique(), full], names=[unit, time])
    have = pd.MultiIndex.from_frame(frame[[unit, time]])
    absent = grid.difference(have)
    if not dropped.empty:
        absent = absent.difference(pd.MultiIndex.from_frame(dropped[[unit, time]]))
    if len(absent) == 0:
        return []
    by_unit = pd.Series([t for _, t in absent], index=[u for u, _ in absent])
    lines = [f"{u}: {format_periods(by_unit.loc[[u]].astype(str).tolist(), 4)}"
             for u in list(dict.fromkeys(by_unit.index))[:5]]
    head = (f"{len(absent)} unit-period(s) are absent from the panel of {n_units} units × "
            f"{len(full)} periods ({'; '.join(lines)}).")
    if _months_as_days(frame[time]):
        advice = (
            " The periods are days, but no unit has more than one date in a month: these look "
            "like months stored as dates or instants (a Swedish month start saved in UTC is the "
            "evening before, in the previous month). Convert the column to months first, e.g. "
            f"df[{time!r}] = pd.to_datetime(df[{time!r}], utc=True).dt.tz_convert("
            "'Europe/Stockholm').dt.to_period('M'). Do not pass allow_gaps=True here: each date "
            "would count as its own day and the start would fall in the wrong period.")
    else:
        advice = (
            " Add the rows (with 0 for counts that were truly zero). If units really lack "
            "periods, pass allow_gaps=True and use an estimator that takes an unbalanced panel "
            "(callaway_santanna then needs panel=False: repeated cross-sections).")
    return [Problem("gap", head + advice)]


def _months_as_days(column: pd.Series) -> bool:
    """Whether a daily column holds at most one date per calendar month (months as dates)."""
    if not (isinstance(column.dtype, pd.PeriodDtype) and period_freq(column.dtype) == "D"):
        return False
    days = pd.PeriodIndex(column.unique())
    return len(days) > 2 and days.asfreq("M").nunique() == len(days)


def validate_panel(
    data: pd.DataFrame,
    *,
    unit: str = "unit",
    time: str = "time",
    outcomes: str | Iterable[str] = (),
    counts: str | Iterable[str] = (),
    exposure: str | None = None,
    covariates: str | Iterable[str] = (),
    freq: str | None = None,
    dropna: bool = False,
    allow_gaps: bool = False,
) -> Panel:
    """Validate a long panel and return a :class:`Panel` holding a clean copy.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format, one row per unit and period. Not modified.
    unit, time : str
        Names of the unit and period columns.
    outcomes : str or sequence of str
        Numeric outcome columns.
    counts : str or sequence of str
        Outcomes that are event counts: must be non-negative integers.
    exposure : str, optional
        Population at risk (positive), e.g. ``"population"``.
    covariates : str or sequence of str
        Numeric covariates carried along.
    freq : str, optional
        Force a period frequency; inferred by default.
    dropna : bool, default False
        Drop unit-periods whose outcome is missing instead of raising; they are kept in
        :attr:`Panel.dropped` and a warning names them.
    allow_gaps : bool, default False
        Accept an unbalanced panel (units missing some periods).

    Returns
    -------
    Panel

    Raises
    ------
    DataError
        Listing every problem found (missing columns, duplicates, non-numeric or negative
        counts, missing outcomes, gaps, unparseable or mixed-frequency time).
    """
    panel, order = validated_rows(
        data, unit=unit, time=time, outcomes=outcomes, counts=counts, exposure=exposure,
        covariates=covariates, freq=freq, dropna=dropna, allow_gaps=allow_gaps,
    )
    panel.data = sorted_copy(panel.data, order.rows())
    return panel


def validated_rows(data, *, unit, time, outcomes, counts, exposure, covariates, freq, dropna,
                   allow_gaps) -> tuple[Panel, Any]:
    """:func:`validate_panel` without the final sort (raises and warns alike).

    For callers that sort later or not at all (:class:`~utvardering.Study` keeps whole unit
    blocks unsorted until its rows are read). Parameters are those of
    :func:`validate_panel`.

    Returns
    -------
    panel : Panel
        The Panel of the rows in the caller's order (sharing its columns, copy-on-write).
    order : RowOrder
        How to sort them (:class:`~utvardering.data.panel_keys.RowOrder`).
    """
    problems, frame, dropped, order = _check_rows(
        data, unit=unit, time=time, outcomes=outcomes, counts=counts, exposure=exposure,
        covariates=covariates, freq=freq, dropna=dropna, allow_gaps=allow_gaps,
    )
    if problems:
        if len(problems) == 1:
            raise DataError(problems[0].message)
        raise DataError(f"{len(problems)} problems in the panel:\n" + "\n".join(f"- {p.message}" for p in problems))
    if not dropped.empty:
        warn(f"dropped {len(dropped)} unit-period(s) with a missing outcome (dropna=True): "
             f"{_rows_label(dropped, pd.Series(True, dropped.index), unit, time)}", DataWarning)
    all_outcomes = _as_tuple(outcomes) + tuple(c for c in _as_tuple(counts) if c not in _as_tuple(outcomes))
    panel = Panel(frame, unit, time, all_outcomes, _as_tuple(counts), exposure,
                  _as_tuple(covariates), dropped)
    return panel, order
