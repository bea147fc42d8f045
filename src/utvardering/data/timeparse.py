"""Parsing the ``time`` column of a panel into one ordered, single-frequency type.

Panels carry either :class:`pandas.Period` values (monthly ``"M"``, quarterly ``"Q"``,
yearly ``"Y"``, daily ``"D"``) or plain integers (years such as ``1989`` or generic
period numbers). Mixed frequencies (``"2018-01"`` next to ``"2018"``) and values that do
not parse are :class:`~utvardering.errors.DataError` s that name the rows at fault.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["LOCAL_TIME_ZONE", "format_periods", "is_yearly", "local_wall_clock", "parse_time", "period_freq",
           "to_period"]

_PATTERNS: dict[str, re.Pattern[str]] = {
    "D": re.compile(r"^\d{4}-\d{2}-\d{2}([ T]00:00(:00)?)?$"),
    "M": re.compile(r"^\d{4}(-|M|/)?\d{2}$"),
    "Q": re.compile(r"^\d{4}[- ]?Q[1-4]$", re.IGNORECASE),
    "Y": re.compile(r"^\d{4}$"),
}
_INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)$", re.IGNORECASE)
_FREQ_NAMES = {"D": "daily", "M": "monthly", "Q": "quarterly", "Y": "yearly"}



def _years(ints: np.ndarray) -> pd.PeriodIndex:
    """Annual periods of whole years (annual ordinals count years from 1970)."""
    return pd.PeriodIndex.from_ordinals(np.asarray(ints, dtype=np.int64) - 1970, freq="Y")

def format_periods(values, limit: int = 6) -> str:
    """Format a few values for an error message (``'2018-01', '2018-02', ... (12 in all)'``)."""
    values = list(values)
    shown = ", ".join(repr(str(v)) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _normalise_month(text: str) -> str:
    digits = re.sub(r"[^0-9]", "", text)
    return f"{digits[:4]}-{digits[4:6]}"


def is_yearly(freq: str | None) -> bool:
    """Whether a frequency string is annual (``"Y"``, ``"Y-DEC"``, ``"A"``, ``"YE"``)."""
    return bool(freq) and freq[0] in "YA" and not freq.startswith("AS")


def to_period(value, freq: str | None = None):
    """Convert one scalar (string, date, Period or int) to the panel's time type.

    Parameters
    ----------
    value : str, int, pandas.Period or datetime-like
        The value to convert, e.g. ``"2018-10"``, ``1989`` or ``pd.Period("2018-10", "M")``.
    freq : str, optional
        Target frequency (``"M"``, ``"Q"``, ``"Y"``, ``"D"``); ``None`` keeps integers as
        integers and infers the frequency of strings.

    Returns
    -------
    pandas.Period or int
    """
    if isinstance(value, pd.Period):
        return value.asfreq(freq, how="start") if freq and value.freqstr[0] != freq[0] else value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return pd.Period(year=int(value), freq=freq) if is_yearly(freq) else int(value)
    if freq is None and isinstance(value, str):
        parsed = parse_time(pd.Series([value]), column="value")
        return parsed.iloc[0]
    return pd.Period(value, freq=freq)


#: The calendar in which UTC instants are read (the evaluations are Swedish).
LOCAL_TIME_ZONE = "Europe/Stockholm"


def local_wall_clock(stamps: pd.Series) -> pd.Series:
    """Time-zone-aware timestamps as naive local dates and times, for calendar periods.

    Instants stored in UTC or with a fixed offset (``2019-12-31 23:00Z`` is midnight of
    1 January in Malmö) are converted to :data:`LOCAL_TIME_ZONE` before the zone is dropped,
    so that a Swedish month start stays the first of its month; instants in a named zone
    (e.g. ``America/New_York``) keep that zone's own calendar. Naive timestamps are returned
    unchanged.

    Parameters
    ----------
    stamps : pandas.Series
        A ``datetime64`` column, naive or time-zone aware.

    Returns
    -------
    pandas.Series
        Naive ``datetime64`` (local wall clock).
    """
    tz = stamps.dt.tz
    if tz is None:
        return stamps
    try:
        fixed = tz.utcoffset(None) is not None  # UTC or a fixed offset: no calendar of its own
    except (TypeError, ValueError):
        fixed = False
    if fixed:
        stamps = stamps.dt.tz_convert(LOCAL_TIME_ZONE)
    return stamps.dt.tz_localize(None)


def parse_time(values: pd.Series, *, column: str = "time", freq: str | None = None) -> pd.Series:
    """Parse a time column to Periods of one frequency, or to integers.

    Parameters
    ----------
    values : pandas.Series
        The raw column. Integer (or integral float) columns stay integers; Period columns
        are kept; datetimes become Periods of ``freq`` (inferred: monthly when every date
        is the first of a month, daily otherwise; time-zone-aware instants are first read
        on the local calendar, see :func:`local_wall_clock`); strings are matched against
        ``YYYY-MM-DD``, ``YYYY-MM`` / ``YYYYMmm``, ``YYYY-Qn`` and ``YYYY``.
    column : str
        Column name, used in error messages.
    freq : str, optional
        Force a frequency (``"M"``, ``"Q"``, ``"Y"``, ``"D"``).

    Returns
    -------
    pandas.Series
        Same index as ``values``; dtype ``period[freq]`` or ``int64``.

    Raises
    ------
    DataError
        If values are missing, do not parse, or mix frequencies; the message names rows.
    """
    if values.isna().any():
        rows = values.index[values.isna()].tolist()
        raise DataError(
            f"column {column!r} has missing time values in rows {format_periods(rows)}; "
            "every row needs a period (fill or remove those rows before validating)."
        )
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.asfreq(freq, how="start") if freq else values.copy()
    if pd.api.types.is_bool_dtype(values):
        raise DataError(f"column {column!r} is boolean; time must be periods, dates or integers.")
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        if is_yearly(freq):  # whole numbers: nothing to check
            ints = values.to_numpy().astype(np.int64)
            return pd.Series(_years(ints), index=values.index)
        return values.astype(np.int64)  # a (copy-on-write) copy: no memory until written
    if pd.api.types.is_numeric_dtype(values):
        as_float = values.astype(float)
        bad = ~np.isclose(as_float, np.round(as_float))
        if bad.any():
            raise DataError(
                f"column {column!r} holds non-integer numbers (rows "
                f"{format_periods(values.index[bad].tolist())}, values "
                f"{format_periods(values[bad].tolist())}); numeric time must be whole periods "
                "such as years, or use strings like '2018-10' for months."
            )
        ints = np.round(as_float).astype(np.int64)
        if is_yearly(freq):
            return pd.Series(_years(ints), index=values.index)
        return pd.Series(ints, index=values.index, name=values.name)
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = local_wall_clock(values)
        if freq is None:
            first_of_month = (stamps.dt.day == 1) & (stamps.dt.normalize() == stamps)
            freq = "M" if bool(first_of_month.all()) else "D"
        return stamps.dt.to_period(freq)
    return _parse_strings(values.astype(str).str.strip(), column=column, freq=freq)


def _parse_strings(text: pd.Series, *, column: str, freq: str | None) -> pd.Series:
    # Parse each distinct value once and broadcast back to the rows by its code.
    codes, distinct = pd.factorize(text)
    unique = pd.Series(np.asarray(distinct, dtype=object))
    if len(unique) and bool(unique.str.match(_INSTANT).fillna(False).all()):
        # ISO instants with a zone ("2018-12-31T23:00:00Z", "... +01:00"), e.g. a database
        # export in UTC: read on the local calendar like a time-zone-aware column
        try:
            stamps = pd.Series(pd.to_datetime(unique, utc=True, format="ISO8601"))
        except (ValueError, TypeError) as exc:
            raise DataError(f"column {column!r}: could not parse the instants ({exc}).") from None
        parsed = parse_time(stamps, column=column, freq=freq)
        return pd.Series(parsed.array.take(codes), index=text.index, name=text.name)
    kinds_u = pd.Series(pd.NA, index=unique.index, dtype="object")
    for kind, pattern in _PATTERNS.items():
        match = unique.str.match(pattern).fillna(False).astype(bool) & kinds_u.isna()
        kinds_u[match] = kind
    if kinds_u.isna().any() or kinds_u.nunique() > 1:
        kinds = pd.Series(kinds_u.to_numpy()[codes], index=text.index, dtype="object")
        unparsed = kinds.isna()
        if unparsed.any():
            raise DataError(
                f"column {column!r} has values that are not periods: rows "
                f"{format_periods(text.index[unparsed].tolist())} hold "
                f"{format_periods(text[unparsed].unique().tolist())}. Use 'YYYY-MM' for months, "
                "'YYYY-Qn' for quarters, 'YYYY' or integers for years, 'YYYY-MM-DD' for days."
            )
        if freq is None:
            found = sorted(set(kinds))
            examples = "; ".join(
                f"{_FREQ_NAMES[k]} e.g. {text[kinds == k].iloc[0]!r} (row {text.index[kinds == k][0]})"
                for k in found
            )
            raise DataError(
                f"column {column!r} mixes frequencies ({examples}). A panel has one frequency: "
                "convert all periods to the same one (e.g. aggregate days to months) first."
            )
    found = sorted(set(kinds_u))
    kind = found[0]
    if kind == "M":
        unique = unique.map(_normalise_month)
    elif kind == "Q":
        unique = unique.str.upper().str.replace(r"[- ]", "", regex=True)
    target = freq or kind
    try:
        periods = pd.PeriodIndex(unique.tolist(), freq=kind)
    except (ValueError, TypeError) as exc:
        raise DataError(f"column {column!r}: could not parse periods ({exc}).") from exc
    if target != kind:
        periods = periods.asfreq(target, how="start")
    return pd.Series(periods.take(codes), index=text.index, name=text.name)


def period_freq(dtype) -> str:
    """The Period frequency string of a ``period[...]`` dtype (``"M"``, ``"Q-DEC"``, ``"Y-DEC"``)."""
    return str(dtype)[len("period["):-1]
