"""Readers for the Swedish Police's public data: the shooting statistics and the events API.

**Shootings.** Since November 2016 the Police count *confirmed* shootings: a shot fired
unlawfully, not accidentally, established by physical traces or several independent
witnesses. Counts of shootings, dead and injured are published per police region and month and
are revised after publication, so every series must carry its publication date (vintage).
Assumed layout of a saved table (``;`` or ``,`` separated, UTF-8 or Latin-1)::

    Skjutningar per polisregion och månad 2022                    <- title lines (optional)
    Publicerad: 2023-01-10                                        <- vintage line (optional)
    Polisregion;År;Månad;Skjutningar;Döda;Skadade                 <- header
    Syd;2022;januari;5;1;2
    ...
                                                                  <- blank line, then notes

The period may instead be one column (``Månad`` = ``2022-01``, ``2022M01`` or
``januari 2022``). English headers (``region``, ``year``, ``month``, ``shootings``, ``dead``,
``injured``) are accepted too.

**Events API.** ``https://polisen.se/api/events`` serves the police's public notices as a JSON
list of objects with ``id``, ``datetime`` (``"2018-12-28 14:32:20 +01:00"``), ``name``,
``summary``, ``url``, ``type`` and ``location`` (``{"name": ..., "gps": "lat,lon"}``).
"""

from __future__ import annotations

import io
import os
import re
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from ...errors import DataError
from ._text import MONTHS, parse_month_label, read_json, read_text, source_name

__all__ = ["read_police_events", "read_police_shootings"]

CONFIRMED_FROM = pd.Period("2016-11", freq="M")
_HEADERS = {
    "unit": ("polisregion", "region", "polisområde", "lokalpolisområde", "område", "unit"),
    "year": ("år", "year"),
    "month": ("månad", "month", "period", "tid"),
    "shootings": ("skjutningar", "antal skjutningar", "shootings"),
    "dead": ("döda", "avlidna", "dead", "killed"),
    "injured": ("skadade", "injured"),
}
_VINTAGE = re.compile(
    r"^\s*(publicerad|publiceringsdatum|published)\s*:?\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE
)
_INT = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f]\d{3})+$|^\d+$")
_EVENT_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2}):(\d{2})\s*([+-]\d{2}):?(\d{2})$"
)
# Sweden's extent with a margin, to catch swapped or garbled coordinates.
_LAT, _LON = (55.0, 69.2), (10.5, 24.3)
EVENT_KEYS = ("id", "datetime", "name", "summary", "url", "type", "location")


def _role(header: str) -> str | None:
    h = header.strip().strip('"').strip().lower()
    return next((role for role, names in _HEADERS.items() if h in names), None)


def _month_number(value: str) -> int | None:
    v = value.strip().lower().rstrip(".")
    if v.isdigit() and 1 <= int(v) <= 12:
        return int(v)
    return MONTHS.get(v)


def read_police_shootings(
    path: str | os.PathLike | IO,
    *,
    vintage: str | pd.Timestamp | None = None,
    definition: Literal["confirmed", "broad"] | None = None,
) -> pd.DataFrame:
    """Read the Police's region × month table of shootings, dead and injured.

    Parameters
    ----------
    path : str, path-like or file-like
        The saved table (layout in the module docstring).
    vintage : str or Timestamp, optional
        Publication date of the figures. Taken from a ``Publicerad: YYYY-MM-DD`` line when
        not given; one of the two is required, and they must agree when both are present.
    definition : {"confirmed", "broad"}, optional
        The counting definition of every row. By default months from November 2016 are
        ``"confirmed"`` (the Police's definition since then) and earlier months ``"broad"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit`` (region as written), ``time`` (``Period[M]``), ``shootings``,
        ``dead``, ``injured`` (int64), ``vintage`` (datetime64) and ``definition``, sorted by
        unit and time.

    Raises
    ------
    DataError
        Missing columns, unparseable months, non-integer or missing counts (named by row),
        duplicate region × month rows, or no / conflicting vintage.

    Notes
    -----
    Figures are preliminary when published and are revised later; keep the vintage when
    combining files. A national total row (``Hela landet``) is kept as its own unit; do not
    add it to the regions.
    """
    if definition not in (None, "confirmed", "broad"):
        raise ValueError(f"definition must be 'confirmed', 'broad' or None, got {definition!r}")
    name = source_name(path)
    text, _ = read_text(path)
    lines = text.splitlines()
    header_at = None
    for i, line in enumerate(lines):
        cells = re.split(r"[;,\t]", line)
        if {_role(c) for c in cells} >= {"unit", "shootings"}:
            header_at = i
            break
    if header_at is None:
        raise DataError(
            f"police shootings {name}: no header row with a region column ('Polisregion') and "
            "a 'Skjutningar' column. Expected columns Polisregion;År;Månad;Skjutningar;Döda;"
            "Skadade (or region, month, shootings, dead, injured)."
        )
    found = [m.group(2) for ln in lines[:header_at] if (m := _VINTAGE.match(ln.strip('"; ')))]
    try:
        in_file = pd.Timestamp(found[0]) if found else None
    except ValueError:
        raise DataError(
            f"police shootings {name}: the publication line has an invalid date {found[0]!r}; "
            "correct it to YYYY-MM-DD."
        ) from None
    if vintage is not None:
        try:
            vintage_ts = pd.Timestamp(vintage).normalize()
        except ValueError:
            raise DataError(f"vintage={vintage!r} is not a date; use 'YYYY-MM-DD'.") from None
        if in_file is not None and in_file != vintage_ts:
            raise DataError(
                f"police shootings {name}: vintage={vintage!r} disagrees with the file's "
                f"'Publicerad: {found[0]}' line. Pass the date printed in the file, or correct it."
            )
    elif in_file is not None:
        vintage_ts = in_file
    else:
        raise DataError(
            f"police shootings {name}: no publication vintage. The figures are revised after "
            "publication; pass vintage='2023-01-10' (the date you downloaded or the table's "
            "publication date) or add a line 'Publicerad: 2023-01-10' above the header."
        )

    end = next((k for k in range(header_at + 1, len(lines)) if not lines[k].strip(" ;,\t")), None)
    block = "\n".join(lines[header_at : end if end is not None else len(lines)])
    sep = max((";", ",", "\t"), key=lines[header_at].count)
    try:
        raw = pd.read_csv(io.StringIO(block), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        where = f"line {header_at + int(m.group(2))} has {m.group(3)} fields" if m else str(exc)
        raise DataError(
            f"police shootings {name}: {where}, but the header has "
            f"{len(lines[header_at].split(sep))}. Check separators and quotes on that line."
        ) from None
    roles = {c: _role(c) for c in raw.columns}
    have = {r: c for c, r in roles.items() if r}
    needed = ["unit", "month", "shootings", "dead", "injured"]
    missing = [f"{r} ({_HEADERS[r][0].capitalize()})" for r in needed if r not in have]
    if missing:
        raise DataError(
            f"police shootings {name}: missing column(s) {missing}; the header has "
            f"{list(raw.columns)}. Name them Polisregion, Månad, Skjutningar, Döda, Skadade."
        )
    after = lines[end:] if end is not None else []
    late = [
        end + k + 1
        for k, ln in enumerate(after)
        if len(ln.split(sep)) >= len(raw.columns)
        and any(_INT.match(c.strip()) for c in ln.split(sep))
    ]
    if late:
        raise DataError(
            f"police shootings {name}: line {late[0]} looks like a data row but comes after the "
            f"blank line {end + 1} that ends the table. Remove blank lines inside the table."
        )
    line_of = np.arange(len(raw)) + header_at + 2  # 1-based file line of each row
    unit = raw[have["unit"]].str.strip()
    month = raw[have["month"]].str.strip()
    if unit.eq("").any():
        raise DataError(
            f"police shootings {name}: no region on line(s) "
            f"{line_of[unit.eq('').to_numpy()][:8].tolist()}. Fill in the region of every row."
        )
    if "year" in have:
        year = raw[have["year"]].str.strip()
        number = month.map(_month_number)
        ok = year.str.fullmatch(r"(19|20)\d\d") & number.notna()
        time = [
            pd.Period(year=int(y), month=int(m), freq="M") if good else None
            for y, m, good in zip(year, number, ok)
        ]
        shown = year + " " + month
    else:
        parsed = month.map(parse_month_label)
        ok = parsed.notna()
        time = [p[0] if good else None for p, good in zip(parsed, ok)]
        shown = month
    ok = ok.to_numpy(dtype=bool)
    if not ok.all():
        bad = [f"line {ln}: {v!r}" for ln, v in zip(line_of[~ok], shown[~ok])][:5]
        raise DataError(
            f"police shootings {name}: unparseable month(s) {bad}. Use a year column with "
            "month names or numbers, or one column with '2022-01' / '2022M01'."
        )
    out = pd.DataFrame({"unit": unit, "time": pd.PeriodIndex(time, freq="M")})
    for role in ("shootings", "dead", "injured"):
        col = raw[have[role]].str.strip()
        good = col.str.match(_INT.pattern).to_numpy(dtype=bool)
        if not good.all():
            bad = [
                f"line {ln} ({u}): {v!r}"
                for ln, u, v in zip(line_of[~good], unit[~good], col[~good])
            ]
            raise DataError(
                f"police shootings {name}: column {have[role]!r} must hold whole non-negative "
                f"counts; found {bad[:5]}. Fill in missing counts (0 if none) and remove "
                "decimals or signs."
            )
        digits = col.str.replace(r"\D", "", regex=True).str.lstrip("0")
        huge = (digits.str.len() > 15).to_numpy(dtype=bool)  # > 10^15: no count, and not exact
        if huge.any():
            bad = [f"line {ln} ({u}): {v!r}"
                   for ln, u, v in zip(line_of[huge], unit[huge], col[huge])]
            raise DataError(
                f"police shootings {name}: column {have[role]!r} holds number(s) too large to be "
                f"a count: {bad[:5]}. The cell is corrupt (merged cells or a lost separator?); "
                "correct it from the published table."
            )
        out[role] = col.str.replace(r"\D", "", regex=True).astype(np.int64).to_numpy()
    dup = out.duplicated(["unit", "time"], keep=False).to_numpy()
    if dup.any():
        rows = [
            f"{u} {t} (line {ln})" for u, t, ln in zip(out.unit[dup], out.time[dup], line_of[dup])
        ]
        raise DataError(
            f"police shootings {name}: duplicate region × month rows: {rows[:6]}. Keep one row "
            "per region and month (from one vintage)."
        )
    out["vintage"] = vintage_ts
    if definition is None:
        out["definition"] = np.where(out["time"] >= CONFIRMED_FROM, "confirmed", "broad")
    else:
        out["definition"] = definition
    out = out.sort_values(["unit", "time"], kind="stable").reset_index(drop=True)
    out.attrs.update({"source": name, "vintage": str(vintage_ts.date())})
    return out


def _load_events(path_or_json: Any) -> tuple[list, str]:
    if isinstance(path_or_json, list):
        return path_or_json, "<list>"
    data, name = read_json(path_or_json, "police events")
    if not isinstance(data, list):
        raise DataError(
            f"police events {name}: expected a JSON list of events (as served by "
            f"polisen.se/api/events), got a JSON {type(data).__name__}."
        )
    return data, name


def read_police_events(path_or_json: str | os.PathLike | IO | list[dict]) -> pd.DataFrame:
    """Read a response of the Police events API (``polisen.se/api/events``).

    Parameters
    ----------
    path_or_json : str, path-like, file-like or list of dict
        A saved JSON file, the JSON text itself, or the already parsed list of events.
        The input is never modified.

    Returns
    -------
    pandas.DataFrame
        One row per event, sorted by ``datetime``: ``incident_id`` (int), ``datetime``
        (tz-aware, Europe/Stockholm), ``date`` (local calendar date, datetime64),
        ``type``, ``name``, ``location_name``, ``lat``, ``lon``, ``summary`` and ``url``
        (made absolute with ``https://polisen.se`` when relative).

    Raises
    ------
    DataError
        An event lacks a key (named by id, or by list index when the id is missing), has an
        unparseable ``datetime``, a malformed or out-of-Sweden ``gps``, or a repeated id.

    Warnings
    --------
    - ``location.gps`` is the centroid of the municipality or county named in
      ``location.name``, **not** the place of the incident: do not geocode events to
      neighbourhoods or DeSO areas with it.
    - The API serves only the latest ~500 events. A history has to be built by saving
      responses regularly; a single response is not a sample of past months.
    - The events are notices selected by the police for publication, not the register of
      reported crimes; counts of them are not crime counts. ``datetime`` may be the time of
      the notice rather than of the incident (the ``name`` usually carries the latter).
    """
    events, name = _load_events(path_or_json)
    records = []
    for k, ev in enumerate(events):
        where = (
            f"event {ev.get('id')!r} (index {k})"
            if isinstance(ev, dict) and "id" in ev
            else f"event at index {k}"
        )
        if not isinstance(ev, dict):
            raise DataError(f"police events {name}: {where} is not a JSON object.")
        lacking = [key for key in EVENT_KEYS if key not in ev]
        loc = ev.get("location")
        if isinstance(loc, dict):
            lacking += [f"location.{key}" for key in ("name", "gps") if key not in loc]
        elif "location" in ev:
            lacking.append("location.name/gps (location is not an object)")
        if lacking:
            raise DataError(
                f"police events {name}: {where} lacks {lacking}. Every event needs "
                f"{list(EVENT_KEYS)} and location.name/gps; save the API response unchanged."
            )
        m = _EVENT_TIME.match(str(ev["datetime"]).strip())
        if not m:
            raise DataError(
                f"police events {name}: {where} has an unparseable datetime "
                f"{ev['datetime']!r}; expected 'YYYY-MM-DD HH:MM:SS +01:00'."
            )
        iso = (
            f"{m.group(1)}T{int(m.group(2)):02d}:{m.group(3)}:{m.group(4)}{m.group(5)}:{m.group(6)}"
        )
        gps = str(loc["gps"]).split(",")
        try:
            lat, lon = (float(x) for x in gps)
        except ValueError:
            lat = lon = float("nan")
        if not (_LAT[0] <= lat <= _LAT[1] and _LON[0] <= lon <= _LON[1]):
            raise DataError(
                f"police events {name}: {where} has gps {loc['gps']!r}, which is not 'lat,lon' "
                f"inside Sweden (lat {_LAT[0]}–{_LAT[1]}, lon {_LON[0]}–{_LON[1]}). Check for "
                "swapped or missing coordinates."
            )
        raw_id = ev["id"]
        if isinstance(raw_id, str) and raw_id.strip().isdigit():
            raw_id = int(raw_id)
        if not isinstance(raw_id, int) or isinstance(raw_id, bool) or not 0 <= raw_id < 2**63:
            raise DataError(
                f"police events {name}: {where} has id {ev['id']!r}, not a whole number from 0 "
                "to 2^63 - 1; the API's ids are integers of that size. Check that the file is an unmodified API response."
            )
        url = str(ev["url"])
        records.append(
            (raw_id, iso, ev["datetime"], ev["type"], ev["name"], loc["name"], lat, lon,
             ev["summary"], "https://polisen.se" + url if url.startswith("/") else url)
        )  # fmt: skip
    columns = ["incident_id", "iso", "raw", "type", "name", "location_name", "lat", "lon",
               "summary", "url"]  # fmt: skip
    out = pd.DataFrame.from_records(records, columns=columns)
    out["incident_id"] = out["incident_id"].astype(np.int64)
    dup = out["incident_id"].duplicated(keep=False)
    if dup.any():
        raise DataError(
            f"police events {name}: event id(s) {sorted(set(out.incident_id[dup]))[:10]} occur "
            "more than once (overlapping saved responses?). Deduplicate on 'id' before reading."
        )
    stamps = pd.to_datetime(out.pop("iso"), utc=True, format="ISO8601", errors="coerce")
    raw = out.pop("raw")
    if stamps.isna().any():
        bad = [
            f"event {i}: {v!r}" for i, v in zip(out.incident_id[stamps.isna()], raw[stamps.isna()])
        ]
        raise DataError(
            f"police events {name}: unparseable datetime(s), not a calendar date/time: "
            f"{bad[:5]}. Check the file against the API response."
        )
    local = stamps.dt.tz_convert("Europe/Stockholm")
    out.insert(1, "datetime", local)
    out.insert(2, "date", local.dt.tz_localize(None).dt.normalize())
    out = out.sort_values(["datetime", "incident_id"], kind="stable").reset_index(drop=True)
    out.attrs["source"] = name
    return out
