"""Aggregate incident records to a unit × period count panel.

Incident-level data (one row per reported crime or police event: ``incident_id``, ``date``,
``offence``, ``unit``) become the library's Panel shape: one row per unit and period on the
full grid, zero where nothing happened, one count column per offence group, and optionally an
exposure (population) column for rates and Poisson offsets.

For unit :math:`i`, period :math:`t` and offence group :math:`g`,

.. math::

    y_{itg} = \\sum_{k} \\mathbf{1}[u_k = i,\\ \\lfloor d_k \\rfloor_{f} = t,\\ o_k = g],

where :math:`\\lfloor d_k \\rfloor_f` is the period of frequency :math:`f` containing the
incident's date. Every unit in ``units`` and every period in ``[start, end]`` gets a row,
so :math:`y_{itg} = 0` is a recorded zero, not a missing value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd

from ...errors import DataError

__all__ = ["incidents_to_panel"]

_FREQS = ("M", "Q", "Y")
LOCAL_TZ = "Europe/Stockholm"


def _examples(frame: pd.DataFrame, cols: list[str], limit: int = 5) -> str:
    head = frame[cols].head(limit)
    rows = [" / ".join(str(v) for v in row) for row in head.itertuples(index=False)]
    more = f" (and {len(frame) - limit} more)" if len(frame) > limit else ""
    return "; ".join(rows) + more


def _to_period(value: Any, freq: str, name: str, how: str = "start") -> pd.Period:
    """A date, period, ISO string or integer year as a period of ``freq``."""
    try:
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            value = pd.Period(year=int(value), freq="Y")
        if isinstance(value, pd.Period):
            return value.asfreq(freq, how=how)
        return pd.Timestamp(value).to_period(freq)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{name}={value!r} is not a date or period ({exc}); use e.g. '2018-01'."
        ) from exc


def _dates(df: pd.DataFrame, date: str, incident_id: str) -> pd.Series:
    """Naive local (Swedish) datetimes; offsets and time zones are converted first."""
    s = df[date]
    if isinstance(s.dtype, pd.PeriodDtype):
        return s.dt.to_timestamp()
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    try:
        parsed = pd.to_datetime(s, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):  # mixed UTC offsets, or naive and aware mixed
        parsed = pd.to_datetime(s, errors="coerce", format="ISO8601", utc=True)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    bad = parsed.isna()
    if bad.any():
        raise DataError(
            f"incidents: column {date!r} has {int(bad.sum())} missing or unparseable date(s): "
            f"{_examples(df[bad.to_numpy()], [incident_id, date])} (incident_id / value). Use ISO "
            "dates like '2021-06-14' (or '2021-06-14 21:30+02:00') in one format throughout."
        )
    return parsed


def _exposure(
    exposure: pd.DataFrame, unit: str, grid: pd.DataFrame, freq: str
) -> tuple[str, np.ndarray]:
    if not isinstance(exposure, pd.DataFrame):
        raise TypeError(
            "exposure must be a DataFrame with columns unit[, time] and one value column"
        )
    ucol = unit if unit in exposure.columns else "unit"
    if ucol not in exposure.columns:
        raise DataError(
            f"exposure: no unit column ({unit!r} or 'unit'); it has {list(exposure.columns)}."
        )
    tcol = "time" if "time" in exposure.columns else None
    values = [c for c in exposure.columns if c not in (ucol, tcol)]
    if len(values) != 1:
        raise DataError(
            f"exposure: expected unit[, time] and exactly one value column (e.g. 'population'); "
            f"found value columns {values}. Select the one to use."
        )
    vcol = values[0]
    exp = exposure[[ucol, vcol] + ([tcol] if tcol else [])].copy()
    v = pd.to_numeric(exp[vcol], errors="coerce")
    bad = v.isna() | ~np.isfinite(v) | (v <= 0)
    if bad.any():
        raise DataError(
            f"exposure: {vcol!r} must be positive numbers; bad for "
            f"{_examples(exp[bad.to_numpy()], [c for c in (ucol, tcol, vcol) if c])}. Exclude "
            "units without population from the panel, or correct the values."
        )
    exp[vcol] = v.astype(float)
    key_grid = [grid["unit"]]
    key_exp = [exp[ucol]]
    if tcol:
        t = exp[tcol]
        years = pd.api.types.is_integer_dtype(t) or (
            t.astype(str).str.fullmatch(r"\d{4}").all() and not isinstance(t.dtype, pd.PeriodDtype)
        )
        if isinstance(t.dtype, pd.PeriodDtype) and t.dtype.freq.freqstr.startswith(("Y", "A")):
            years, t = True, t.dt.year
        if years:
            key_exp.append(t.astype(int).to_numpy())
            key_grid.append(grid["time"].dt.year.to_numpy())
        else:
            try:
                per = pd.PeriodIndex([_to_period(x, freq, "exposure time") for x in t], freq=freq)
            except DataError as exc:
                raise DataError(f"exposure: {exc}") from None
            key_exp.append(per)
            key_grid.append(pd.PeriodIndex(grid["time"]))
    index = pd.MultiIndex.from_arrays(key_exp) if tcol else pd.Index(key_exp[0])
    if index.duplicated().any():
        raise DataError(
            f"exposure: repeated keys {list(index[index.duplicated()][:5])}; give one value per "
            "unit (and time)."
        )
    lookup = pd.Series(exp[vcol].to_numpy(), index=index)
    target = pd.MultiIndex.from_arrays(key_grid) if tcol else pd.Index(key_grid[0])
    joined = lookup.reindex(target).to_numpy()
    missing = np.isnan(joined)
    if missing.any():
        raise DataError(
            f"exposure: no {vcol!r} for {int(missing.sum())} unit × period cell(s), e.g. "
            f"{_examples(grid[missing], ['unit', 'time'])}. Supply exposure for every unit "
            "(and year or period) of the panel."
        )
    return vcol, joined


def incidents_to_panel(
    incidents: pd.DataFrame,
    *,
    unit: str = "unit",
    date: str = "date",
    offence: str | None = None,
    freq: Literal["M", "Q", "Y"] = "M",
    units: Iterable | None = None,
    start: Any = None,
    end: Any = None,
    exposure: pd.DataFrame | None = None,
    incident_id: str = "incident_id",
    drop_outside: bool = False,
) -> pd.DataFrame:
    """Count incidents per unit and period on the full grid, with zeros and exposure.

    Parameters
    ----------
    incidents : pandas.DataFrame
        One row per incident with an id, a date and a unit (and an offence when
        ``offence`` is given). Not modified.
    unit, date : str
        Column names of the unit and the date: dates, datetimes, periods or ISO 8601
        strings. Time-zone-aware values and strings with UTC offsets are converted to
        Swedish time (Europe/Stockholm) before the period is taken, so an incident at
        00:15 local time on 1 June counts in June. Other string formats (``05/01/2021``)
        are refused rather than guessed.
    offence : str, optional
        Column whose values become one count column each (e.g. ``"violence"``,
        ``"drugs"``). Without it the panel has one ``count`` column.
    freq : {"M", "Q", "Y"}, default "M"
        Period length.
    units : iterable, optional
        All units of the panel, in the order wanted. Units with no incidents get zero rows;
        incidents in a unit not listed are an error. By default the units seen in the data.
    start, end : date-like or Period, optional
        First and last period (inclusive). By default the first and last incident's period.
    exposure : pandas.DataFrame, optional
        Columns ``unit`` (or the ``unit`` name), optionally ``time``, and one value column
        (e.g. ``population``) that is joined to every row. ``time`` may hold periods of
        ``freq`` or years (integers or yearly periods), which then apply to every period of
        that year.
    incident_id : str, default "incident_id"
        Column of the incident id.
    drop_outside : bool, default False
        Incidents dated outside ``[start, end]`` raise an error unless this is True; then
        they are dropped and their number is in ``attrs["dropped"]`` (ids in
        ``attrs["dropped_incident_ids"]``).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit``, ``time`` (``Period[freq]``), the count column(s) (int64) and the
        exposure column when given; one row per unit × period, sorted by unit then time.
        ``attrs["dropped"]`` is the number of incidents dropped (0 unless ``drop_outside``).

    Raises
    ------
    DataError
        Missing columns, repeated or missing incident ids, missing or unparseable dates
        (naming the incidents), missing units or offences, units not in ``units``,
        incidents outside ``[start, end]``, an empty grid, or bad / incomplete exposure.

    Examples
    --------
    >>> import pandas as pd
    >>> inc = pd.DataFrame({"incident_id": [1, 2], "date": ["2021-01-05", "2021-03-02"],
    ...                     "unit": ["A", "A"]})
    >>> incidents_to_panel(inc, units=["A", "B"])["count"].tolist()
    [1, 0, 1, 0, 0, 0]
    """
    if freq not in _FREQS:
        raise ValueError(f"freq must be one of {_FREQS}, got {freq!r}")
    if not isinstance(incidents, pd.DataFrame):
        raise TypeError(f"incidents must be a DataFrame, got {type(incidents).__name__}")
    needed = [incident_id, date, unit] + ([offence] if offence else [])
    missing = [c for c in needed if c not in incidents.columns]
    if missing:
        raise DataError(
            f"incidents: missing column(s) {missing}; the frame has {list(incidents.columns)}. "
            "Pass the names with unit=, date=, offence=, incident_id=."
        )
    df = incidents[list(dict.fromkeys(needed))].copy()
    ids = df[incident_id]
    if ids.isna().any():
        raise DataError(
            f"incidents: {int(ids.isna().sum())} row(s) have no {incident_id!r} (row positions "
            f"{list(np.flatnonzero(ids.isna().to_numpy())[:8])}). Give every incident an id."
        )
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise DataError(
            f"incidents: repeated {incident_id!r} values {sorted(map(str, set(ids[dup])))[:10]}. "
            "An incident must be counted once; deduplicate before aggregating."
        )
    for col, what in ((unit, "unit"), (offence, "offence")):
        if col and df[col].isna().any():
            raise DataError(
                f"incidents: {what} column {col!r} is missing for incident(s) "
                f"{_examples(df[df[col].isna().to_numpy()], [incident_id])}. Assign them or "
                "remove them explicitly."
            )
    periods = _dates(df, date, incident_id).dt.to_period(freq)

    if units is not None:
        unit_list = list(units)
        if len(set(unit_list)) != len(unit_list):
            raise DataError("units: the list of units repeats a unit; give each unit once.")
        unknown = ~df[unit].isin(unit_list)
        if unknown.any():
            found = df.loc[unknown.to_numpy(), unit]
            kinds = sorted({f"{v!r} ({type(v).__name__})" for v in found})[:8]
            listed = sorted({type(v).__name__ for v in unit_list})
            raise DataError(
                f"incidents: {int(unknown.sum())} incident(s) are in unit(s) not in units=: "
                f"{kinds} (units= holds {listed} values). Add the units, fix the codes, or "
                "filter the incidents explicitly."
            )
    else:
        unit_list = sorted(df[unit].unique().tolist())

    if (start is None or end is None) and len(df) == 0:
        raise DataError("incidents: no incidents, so start= and end= are needed for the grid.")
    first = _to_period(start, freq, "start") if start is not None else periods.min()
    last = _to_period(end, freq, "end", how="end") if end is not None else periods.max()
    if first > last:
        raise DataError(f"start {first} is after end {last}; swap them.")
    outside = ((periods < first) | (periods > last)).to_numpy()
    dropped_ids: list = []
    if outside.any():
        if not drop_outside:
            raise DataError(
                f"incidents: {int(outside.sum())} incident(s) fall outside {first}–{last}: "
                f"{_examples(df[outside], [incident_id, date])} (incident_id / date). Widen "
                "start/end, or pass drop_outside=True to drop them (the number is recorded)."
            )
        dropped_ids = df.loc[outside, incident_id].tolist()
        df, periods = df[~outside], periods[~outside]

    time_index = pd.period_range(first, last, freq=freq)
    grid_index = pd.MultiIndex.from_product([unit_list, time_index], names=["unit", "time"])
    if offence:
        groups = sorted(df[offence].astype(str).unique().tolist())
        clash = [g for g in groups if g in ("unit", "time")]
        if clash:
            raise DataError(f"incidents: offence value(s) {clash} clash with column names.")
        table = (
            pd.DataFrame({"unit": df[unit].to_numpy(), "time": periods.to_numpy(),
                          "g": df[offence].astype(str).to_numpy()})
            .groupby(["unit", "time", "g"], sort=False).size().unstack("g")
        )  # fmt: skip
        counts = table.reindex(index=grid_index, columns=groups).fillna(0).astype(np.int64)
        counts.columns.name = None
    else:
        table = pd.Series(1, index=pd.MultiIndex.from_arrays([df[unit], periods]))
        counts = table.groupby(level=[0, 1]).size().reindex(grid_index, fill_value=0)
        counts = counts.astype(np.int64).to_frame("count")
    out = counts.reset_index()
    out["time"] = out["time"].astype(pd.PeriodDtype(freq))
    if exposure is not None:
        vcol, joined = _exposure(exposure, unit, out, freq)
        if vcol in out.columns:
            raise DataError(f"exposure column {vcol!r} clashes with a count column; rename it.")
        out[vcol] = joined
    out.attrs.update(
        {"dropped": len(dropped_ids), "dropped_incident_ids": dropped_ids, "freq": freq}
    )
    return out
