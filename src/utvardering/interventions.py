"""The intervention registry: what was done, where, from when, and how sure we are.

Each :class:`Intervention` records treated units, start and optional end (with flags for
uncertain dates and the alternatives sources give), optional per-unit starts for staggered
roll-outs, a description and its sources. :data:`MALMO_PROGRAMMES` holds the Malmö
programmes from public sources; :func:`overlapping_programmes` reports which programmes
touch a given unit and period, so that analyses can flag co-occurring treatments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

import pandas as pd

from .errors import DataError

__all__ = [
    "MALMO_PROGRAMMES",
    "Intervention",
    "get_intervention",
    "overlapping_programmes",
    "registry_from_frame",
]


def _day(value, what: str, name: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Period):
        return value.start_time
    try:
        return pd.Timestamp(str(value))
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"intervention {name!r}: {what} {value!r} is not a date; use 'YYYY-MM-DD' or 'YYYY-MM'."
        ) from exc


@dataclass(frozen=True)
class Intervention:
    """One programme in the registry.

    Parameters
    ----------
    key : str
        Short identifier, e.g. ``"sluta_skjut"``.
    name : str
        Human-readable name.
    units : tuple of str
        Treated units (city, area or school ids), as named in the panels.
    start : str
        First day in force (``YYYY-MM-DD`` or ``YYYY-MM``).
    end : str, optional
        Last day in force; ``None`` while ongoing or unknown.
    start_uncertain, end_uncertain : bool
        Whether sources disagree on or do not pin down the date.
    start_alternatives : tuple of str
        Other start dates given by sources (for sensitivity analyses).
    unit_starts : mapping, optional
        Per-unit starts for staggered roll-outs.
    level : str
        ``"city"``, ``"area"`` or ``"school"``.
    description, sources : str, tuple of str
        What was done, and where the facts come from.
    """

    key: str
    name: str
    units: tuple[str, ...]
    start: str
    end: str | None = None
    start_uncertain: bool = False
    end_uncertain: bool = False
    start_alternatives: tuple[str, ...] = ()
    unit_starts: Mapping[str, str] = field(default_factory=dict)
    level: str = "area"
    description: str = ""
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key or not self.name:
            raise DataError("an intervention needs a non-empty key and name.")
        start = _day(self.start, "start", self.key)
        if start is None:
            raise DataError(f"intervention {self.key!r} has no start date; give start='YYYY-MM-DD'.")
        end = _day(self.end, "end", self.key)
        if end is not None and end < start:
            raise DataError(
                f"intervention {self.key!r} ends ({self.end}) before it starts ({self.start}); "
                "swap the dates or correct the end."
            )
        for unit, unit_start in dict(self.unit_starts).items():
            if unit not in self.units:
                raise DataError(
                    f"intervention {self.key!r}: unit_starts names {unit!r}, which is not among "
                    f"its units {list(self.units)}; add it to units."
                )
            _day(unit_start, f"start of unit {unit!r}", self.key)

    @property
    def start_date(self) -> pd.Timestamp:
        """Start as a Timestamp."""
        return _day(self.start, "start", self.key)

    @property
    def end_date(self) -> pd.Timestamp | None:
        """End as a Timestamp (``None`` when open-ended)."""
        return _day(self.end, "end", self.key)

    def active_between(self, first, last) -> bool:
        """Whether the programme was in force at any time in ``[first, last]``."""
        first, last = _day(first, "period start", self.key), _day(last, "period end", self.key)
        end = self.end_date or pd.Timestamp.max
        return self.start_date <= last and end >= first

    def to_dict(self) -> dict:
        """JSON-serialisable dict."""
        out = asdict(self)
        out["units"], out["sources"] = list(self.units), list(self.sources)
        out["start_alternatives"], out["unit_starts"] = list(self.start_alternatives), dict(self.unit_starts)
        return out


_POLICE = "Polisen, Region Syd / Malmö local police, public statements"
MALMO_PROGRAMMES: dict[str, Intervention] = {
    p.key: p
    for p in [
        Intervention(
            "sluta_skjut", "Sluta skjut (Group Violence Intervention)", ("Malmö",), "2018-10-01",
            start_uncertain=True, start_alternatives=("2018-02-01",), level="city",
            description="Focused deterrence against group-related shootings: call-ins, custom "
            "notifications, social-services exits and enforcement against groups that shoot. "
            "Pilot to 31 Jan 2020, then continued.",
            sources=("Malmö University evaluation for Brå (2021)", "Malmö stad", _POLICE),
        ),
        Intervention(
            "ordningsvakter_mollevangen", "Ordningsvakter kring Möllevången", ("Möllevången",),
            "2021-06-14", end="2022-12-31", end_uncertain=True, level="area",
            description="Five city-hired security guards in the blocks around Möllevångstorget "
            "(afternoons, evenings, weekends), an 18-month trial extendable to 30 months.",
            sources=("Malmö stad, decision on security guards (2021)",),
        ),
        Intervention(
            "drogfri_skola", "Drogfri skola (narcotics-dog searches)", (), "2019-02-01",
            end="2019-12-31", start_uncertain=True, level="school",
            description="Spring 2019 pilot: 12 searches of volunteering municipal schools (dogs "
            "reacted at 7), about 20 searches over 2019. Schools are not named: use pseudonymous "
            "ids and per-school search dates from the study's data.",
            sources=("Malmö stad, Drogfri skola pilot report (2019)",),
        ),
        Intervention(
            "medborgarlofte_mollevangen", "Medborgarlöfte Möllevången–Rådmansvången",
            ("Möllevången", "Rådmansvången"), "2021-04-01", end="2022-04-30", start_uncertain=True,
            level="area", description="Police citizen promise (medborgarlöfte) with the city.",
            sources=(_POLICE,),
        ),
        Intervention(
            "bid_mollevangen", "BID Möllevången", ("Möllevången",), "2020-01-01",
            start_uncertain=True, end_uncertain=True, level="area",
            description="Business improvement district (property owners, businesses and the city).",
            sources=("Malmö stad", "BID Möllevången"),
        ),
        Intervention(
            "communities_that_care", "Communities That Care",
            ("Möllevången", "Bellevuegården", "Bunkeflostrand", "Hermodsdal", "Kirseberg"),
            "2018-01-01", start_uncertain=True, end_uncertain=True, level="area",
            description="Prevention-science model for youth problem behaviour, area by area.",
            sources=("Malmö stad, Communities That Care",),
        ),
        Intervention(
            "rimfrost", "Operation Rimfrost", ("Malmö",), "2019-11-01", end_uncertain=True,
            level="city",
            description="National police operation against gang crime and shootings, started in "
            "Region Syd (Malmö first); a confounder for Sluta skjut.",
            sources=(_POLICE,),
        ),
    ]
}


def get_intervention(key: str) -> Intervention:
    """Look up a programme by key; the error lists the keys that exist."""
    try:
        return MALMO_PROGRAMMES[key]
    except KeyError:
        raise DataError(
            f"no intervention {key!r} in the registry; known: {sorted(MALMO_PROGRAMMES)}."
        ) from None


def overlapping_programmes(
    units: str | Iterable[str],
    first,
    last,
    *,
    exclude: str | Iterable[str] = (),
    registry: Mapping[str, Intervention] | None = None,
) -> pd.DataFrame:
    """Which programmes were in force in any of ``units`` at any time in ``[first, last]``.

    Parameters
    ----------
    units : str or iterable of str
        Units to query (e.g. ``"Möllevången"``).
    first, last : date-like
        The period of interest (e.g. the post-period of an evaluation).
    exclude : str or iterable of str
        Registry keys to leave out (normally the programme being evaluated).
    registry : mapping, optional
        Defaults to :data:`MALMO_PROGRAMMES`.

    Returns
    -------
    pandas.DataFrame
        One row per overlapping programme: ``key``, ``name``, ``units`` (the overlap),
        ``start``, ``end``, ``start_uncertain``, ``end_uncertain``, ``sources``.
    """
    units = {units} if isinstance(units, str) else set(units)
    exclude = {exclude} if isinstance(exclude, str) else set(exclude)
    rows = []
    for prog in (registry or MALMO_PROGRAMMES).values():
        shared = sorted(units & set(prog.units))
        if prog.key in exclude or not shared or not prog.active_between(first, last):
            continue
        rows.append({
            "key": prog.key, "name": prog.name, "units": ", ".join(shared), "start": prog.start,
            "end": prog.end, "start_uncertain": prog.start_uncertain,
            "end_uncertain": prog.end_uncertain, "sources": "; ".join(prog.sources),
        })
    columns = ["key", "name", "units", "start", "end", "start_uncertain", "end_uncertain", "sources"]
    return pd.DataFrame(rows, columns=columns)


def registry_from_frame(frame: pd.DataFrame) -> dict[str, Intervention]:
    """Build a registry from a table with columns ``key, name, units, start`` (+ optional ones).

    ``units`` is a ``;``-separated list. Errors name the row at fault.
    """
    required = ["key", "name", "units", "start"]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"registry table misses column(s) {missing}; it has {list(frame.columns)}.")
    out: dict[str, Intervention] = {}
    optional = ["end", "start_uncertain", "end_uncertain", "level", "description"]
    for row_number, row in frame.reset_index(drop=True).iterrows():
        if row["key"] in out:
            raise DataError(f"registry row {row_number}: key {row['key']!r} is used twice.")
        kwargs = {c: row[c] for c in optional if c in frame.columns and pd.notna(row[c])}
        try:
            out[row["key"]] = Intervention(
                key=row["key"], name=row["name"],
                units=tuple(u.strip() for u in str(row["units"]).split(";") if u.strip()),
                start=row["start"], **kwargs,
            )
        except DataError as exc:
            raise DataError(f"registry row {row_number}: {exc}") from exc
    return out
