"""The public record: real published figures on shootings, safety and Malmö's programmes.

Every number in these tables was read in a public source (a police, Brå or Malmö stad page, or
a news article or blog quoting them) and carries that source's id (``source_id``, resolved by
:func:`sources`), its publication date (``as_of``, the *vintage*) and a quality flag. The files
ship inside the package (``utvardering/data/files/public/``); nothing here touches the network.

**Vintages.** The Police's shooting counts are preliminary and are revised upward for months,
and news reports quote whatever was current, so one unit × measure × period (a *cell*) can
appear several times, once per vintage. Summing or averaging across vintages is always wrong.
:func:`load_public_record` therefore keeps one row per cell unless ``all_vintages=True``:

1. the source recommended for that series, where there is one (:data:`PREFERRED_SOURCES`:
   the Police's final per-year PDFs, S01/S02, for Sweden; Malmö stad's page, S37 then S36, for
   Malmö);
2. otherwise the best quality flag (:data:`QUALITY_RANK`);
3. then the latest ``as_of``.

Where a cell's vintages differ, the difference is classified: a **revision** (values rise
with the publication date — the normal upward revision, resolved by taking the later one),
**rounding** (values within one unit, one of them a decimal) or a **conflict** (anything else:
a later vintage lower than an earlier one, or an undated value that disagrees). Conflicts are
never resolved silently: the loader issues one :class:`~utvardering.errors.DataWarning`
naming every conflicting cell, its values with their sources, and the value kept — e.g.
Malmö's shootings in 2016 (61 from Malmö stad vs 59 from NRK citing polisen.se) and
Sweden's in 2017 (281 in the Police's final PDF vs 324 in January 2019).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DataWarning, warn

__all__ = [
    "PREFERRED_SOURCES",
    "PUBLIC_RECORD",
    "QUALITY_RANK",
    "PublicDataset",
    "load_public_record",
    "public_record_names",
    "public_record_rows",
    "sources",
]

_FOLDER = ("files", "public")
OBSERVATION_COLUMNS = ["unit", "unit_type", "period", "period_start", "period_end", "measure",
                       "value", "as_of", "source_id", "quality", "note"]
FACT_COLUMNS = ["programme", "item", "period", "value", "unit_of_value", "source_id", "quality",
                "note"]

#: Quality flags from most to least trustworthy (rule 2 of the vintage choice).
QUALITY_RANK: dict[str, int] = {
    "official": 0, "official_via_media": 1, "secondary_transcription": 2, "media_own_count": 3,
    "secondary_blog": 4, "secondary_thesis": 5, "expert_op_ed": 6, "secondary_low": 7,
}

#: Recommended sources per (unit, measure), best first (rule 1 of the vintage choice). Sweden:
#: the Police's final per-year PDFs (S01 shootings, S02 detonations; transcribed and checked
#: against the PDFs' "Totalt" row). Malmö: Malmö stad's statistics page citing the Police, its
#: 2023 version (S37) first and its 2021 version (S36) for earlier years; the two agree on
#: 2018–2020.
PREFERRED_SOURCES: dict[tuple[str, str], tuple[str, ...]] = {
    ("Sverige", "confirmed_shootings"): ("S01",),
    ("Sverige", "detonations"): ("S02",),
    **{("Malmö", m): ("S37", "S36")
       for m in ("shootings", "killed", "injured", "explosions", "fatal_shootings")},
}


@dataclass(frozen=True)
class PublicDataset:
    """One named table of the public record."""

    name: str
    files: tuple[str, ...]
    description: str
    kind: str = "observations"  # or "facts" (programme_facts: no vintages)


#: The public-record tables by name.
PUBLIC_RECORD: dict[str, PublicDataset] = {d.name: d for d in (
    PublicDataset("shootings_malmo", ("shootings_malmo.csv",),
                  "Malmö: shootings, killed, injured and explosions per year 2016–2022 and "
                  "partial periods (Malmö stad, police and media; several vintages)"),
    PublicDataset("shootings_sweden", ("shootings_sweden_national_annual.csv",
                                       "shootings_sweden_national_subannual.csv"),
                  "Sweden: confirmed shootings, killed, injured, detonations per year "
                  "2017–2024 and partial periods (the Police's final PDFs and earlier vintages)"),
    PublicDataset("shootings_regions", ("shootings_police_regions.csv",),
                  "Police regions: confirmed shootings, killed, injured — 2019 (6 of 7 "
                  "regions), Jan–15 Oct 2021 (all 7), 2024 (3) and scattered periods"),
    PublicDataset("trygghet_malmo", ("malmo_trygghetsmatning.csv",),
                  "Malmö's safety survey (trygghetsmätning), city level 2017–2023: sample "
                  "sizes, victimisation, worry, problem index"),
    PublicDataset("ntu", ("ntu_selected.csv",),
                  "Brå's national crime survey (NTU): 2010 and 2013 regional tables, pooled "
                  "2017–2020 district highlights"),
    PublicDataset("programme_facts", ("programme_facts.csv",),
                  "Sluta skjut, Drogfri skola and the Möllevången guards: published evaluation "
                  "results, activity counts and dates", kind="facts"),
)}


def _path(file: str) -> Path:
    return Path(str(resources.files("utvardering.data").joinpath(*_FOLDER, file)))


def _read(file: str) -> pd.DataFrame:
    return pd.read_csv(_path(file), dtype=str, keep_default_na=False, encoding="utf-8")


def public_record_names() -> list[str]:
    """Names accepted by :func:`load_public_record`."""
    return list(PUBLIC_RECORD)


def sources() -> pd.DataFrame:
    """The source table of the public record: one row per source id, with its URL.

    Returns
    -------
    pandas.DataFrame
        Columns ``source_id`` (``"S01"`` …), ``description`` (publisher, date, title),
        ``url`` (empty for four local sources without a stable address) and ``datasets``
        (the bundled files that cite it, ``;``-separated).

    Examples
    --------
    >>> from utvardering.data.public_record import sources
    >>> sources().set_index("source_id").loc["S36", "url"]
    'https://malmo.se/Fakta-och-statistik/Trygghet--sakerhet.html'
    """
    return _read("sources.csv")


def _as_of_date(value: str) -> pd.Timestamp:
    """The start of a vintage label ('2021', '2019-11', '2019-01-31', 'NTU 2010'); NaT if none."""
    match = re.search(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value or "")
    if not match:
        return pd.NaT
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    return pd.Timestamp(f"{year}-{month}-{day}")


def _classify(values: list[float], dates: list[pd.Timestamp]) -> str:
    """'single', 'agree', 'rounding', 'revision' or 'conflict' for one cell's vintages."""
    if len(values) == 1:
        return "single"
    v = np.asarray(values, float)
    if np.ptp(v) == 0:
        return "agree"
    if np.ptp(v) < 1 and not np.allclose(v, np.round(v)):
        return "rounding"
    if all(pd.notna(d) for d in dates):
        by_date: dict[pd.Timestamp, set[float]] = {}
        for d, x in zip(dates, values):
            by_date.setdefault(d, set()).add(x)
        ordered = [by_date[d] for d in sorted(by_date)]
        if all(len(xs) == 1 for xs in ordered):
            seq = [next(iter(xs)) for xs in ordered]
            if all(a <= b for a, b in itertools.pairwise(seq)):
                return "revision"
    return "conflict"


def _describe(rows: list[dict], kept: dict) -> str:
    head = f"{kept['unit']} {kept['measure']} {kept['period']}"
    by_value: dict[float, list[str]] = {}
    for r in rows:
        by_value.setdefault(r["value"], []).append(
            f"{r['source_id']} as of {r['as_of'] or 'undated'}")
    parts = [f"{value:g} ({', '.join(refs)})" for value, refs in by_value.items()]
    return f"{head}: {' vs '.join(parts)}; kept {kept['value']:g} ({kept['source_id']})"


def _rank(row: dict) -> tuple:
    preferred = PREFERRED_SOURCES.get((row["unit"], row["measure"]), ())
    pref = preferred.index(row["source_id"]) if row["source_id"] in preferred else 99
    date = row["_as_of"]
    return (pref, QUALITY_RANK.get(row["quality"], len(QUALITY_RANK)),
            -(date.value if pd.notna(date) else -np.inf), row["source_id"])


def _select(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Mark the one row kept per cell and classify each cell's vintages."""
    frame = frame.copy()
    frame["_as_of"] = frame["as_of"].map(_as_of_date)
    rows = frame.to_dict("records")
    cells: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        key = (r["unit"], r["measure"], r["period"], r["period_start"], r["period_end"])
        cells.setdefault(key, []).append(i)
    selected = np.zeros(len(rows), bool)
    status = np.empty(len(rows), object)
    conflicts, revisions = [], []
    for members in cells.values():
        ordered = sorted(members, key=lambda i: _rank(rows[i]))
        selected[ordered[0]] = True
        cell_rows = [rows[i] for i in ordered]
        kind = _classify([r["value"] for r in cell_rows], [r["_as_of"] for r in cell_rows])
        status[members] = kind
        if kind == "conflict":
            conflicts.append(_describe(cell_rows, cell_rows[0]))
        elif kind == "revision":
            revisions.append(_describe(cell_rows, cell_rows[0]))
    frame["selected"] = selected
    frame["vintage_status"] = status.astype(str)
    frame.attrs["conflicts"] = sorted(conflicts)
    frame.attrs["revisions"] = sorted(revisions)
    return frame


def load_public_record(name: str, all_vintages: bool = False) -> pd.DataFrame:
    """Load one table of the public record: real published figures with their sources.

    Parameters
    ----------
    name : str
        ``"shootings_malmo"``, ``"shootings_sweden"``, ``"shootings_regions"``,
        ``"trygghet_malmo"``, ``"ntu"`` or ``"programme_facts"``.
    all_vintages : bool, default False
        Return every vintage of every cell (unit × measure × period) with a ``selected``
        column marking the one the default keeps. By default exactly one vintage per cell is
        returned, chosen by the rules in this module's description (recommended source, then
        quality, then the latest ``as_of``).

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per value: ``unit``, ``unit_type``, ``period`` (label),
        ``period_start``, ``period_end`` (Timestamps; NaT where the source gives none, e.g.
        survey years), ``measure``, ``value`` (float), ``as_of`` (the vintage as published),
        ``source_id`` (see :func:`sources`), ``quality``, ``note`` and ``vintage_status``
        (``"single"``, ``"agree"``, ``"rounding"``, ``"revision"`` or ``"conflict"``).
        ``programme_facts`` has ``programme, item, period, value`` (text: dates and ranges
        occur), ``unit_of_value, source_id, quality, note``. ``attrs`` holds ``name``,
        ``files``, ``conflicts`` and ``revisions`` (one sentence per cell).

    Raises
    ------
    DataError
        If ``name`` is not a public-record table.

    Warns
    -----
    DataWarning
        When vintages of a returned cell conflict (not a plain upward revision): each
        conflicting cell is named with its values, their sources and the value kept. Pass
        ``all_vintages=True`` to see and choose for yourself.

    Examples
    --------
    >>> import warnings
    >>> from utvardering.data.public_record import load_public_record
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     malmo = load_public_record("shootings_malmo")
    >>> annual = malmo[(malmo["measure"] == "shootings") & (malmo["period"].str.len() == 4)]
    >>> annual.set_index("period")["value"].astype(int).to_dict()
    {'2016': 61, '2017': 65, '2018': 47, '2019': 34, '2020': 20, '2021': 21, '2022': 29}
    """
    if name not in PUBLIC_RECORD:
        raise DataError(f"no public-record table named {name!r}; choose one of "
                        f"{', '.join(PUBLIC_RECORD)} (utvardering.datasets.sources() lists "
                        "the sources).")
    spec = PUBLIC_RECORD[name]
    frame = pd.concat([_read(f) for f in spec.files], ignore_index=True)
    attrs: dict[str, Any] = {"name": name, "files": list(spec.files)}
    if spec.kind == "facts":
        out = frame[FACT_COLUMNS].copy()
        out.attrs.update(attrs, conflicts=[], revisions=[])
        return out
    bad = pd.to_numeric(frame["value"], errors="coerce").isna()
    if bad.any():
        raise DataError(f"{name}: value(s) {frame.loc[bad, 'value'].tolist()} are not numbers "
                        f"(rows {frame.index[bad].tolist()}); the bundled file is damaged.")
    frame["value"] = frame["value"].astype(float)
    marked = _select(frame, name)
    for column in ("period_start", "period_end"):
        marked[column] = pd.to_datetime(marked[column].replace("", None), format="%Y-%m-%d")
    kept = marked if all_vintages else marked[marked["selected"]]
    columns = OBSERVATION_COLUMNS + ["vintage_status"] + (["selected"] if all_vintages else [])
    out = kept[columns].sort_values(["unit", "measure", "period_start", "period"],
                                    kind="stable", ignore_index=True)
    out.attrs.update(attrs, conflicts=marked.attrs["conflicts"],
                     revisions=marked.attrs["revisions"])
    if not all_vintages and out.attrs["conflicts"]:
        listed = "; ".join(out.attrs["conflicts"])
        warn(f"public record {name!r}: {len(out.attrs['conflicts'])} cell(s) have conflicting "
             f"vintages that a revision cannot explain — {listed}. The kept values follow the "
             "documented rule (recommended source, quality, latest as_of); pass "
             "all_vintages=True to see every vintage and choose, and report the choice.",
             DataWarning)
    return out


def public_record_rows() -> list[dict[str, Any]]:
    """One row per public-record table for :func:`utvardering.data.datasets.list_datasets`."""
    table = sources().set_index("source_id")
    rows = []
    for spec in PUBLIC_RECORD.values():
        frames = [_read(f) for f in spec.files]
        ids = pd.concat([f["source_id"] for f in frames]).str.split(";").explode().str.strip()
        counts = ids.value_counts()
        top = [f"{s} {table.loc[s, 'url'] or table.loc[s, 'description']}"
               for s in counts.index[:3]]
        more = f"; and {len(counts) - 3} more" if len(counts) > 3 else ""
        rows.append({
            "name": spec.name, "kind": "public", "description": spec.description,
            "shape": (sum(len(f) for f in frames), frames[0].shape[1]),
            "source": f"{len(counts)} public sources: {'; '.join(top)}{more} "
                      "(utvardering.datasets.sources())",
            "original_study": "real published figures with source id, as_of and quality "
                              "(files/public/README.md)",
            "licence": "facts from Swedish public authorities and media, cite the source "
                       "(compilation MIT)",
            "sha256": " + ".join(hashlib.sha256(_path(f).read_bytes()).hexdigest()
                                 for f in spec.files),
            "loader": f"load_public_record({spec.name!r})",
            "reproduces": "the public-record section of the Sluta skjut report"
                          if spec.name in ("shootings_malmo", "shootings_sweden", "programme_facts")
                          else "reference figures for the reports",
        })
    return rows
