"""Reader and fetcher for the Police's yearly PDF "skjutningar per polisregion YYYY".

The Police publish confirmed shootings (the definition since November 2016) as one PDF per
year. Its first page holds three tables with one layout (the layout a public transcription
of the 2017–2024 PDFs documents and checks):

.. code-block:: text

    Skjutningar per polisregion 2019                                  <- title with the year
    Skjutningar                                                       <- table heading
    Polisregion  Jan Feb Mar Apr Maj Jun Jul Aug Sep Okt Nov Dec Totalt
    Bergslagen    2   1   3 ...                                  14   <- 7 region rows:
    Mitt ... Nord ... Stockholm ... Syd ... Väst ... Öst ...           name, 12 months, year
    Totalt       25  30  ...                                    360   <- national row
    Avlidna                                                           <- same layout: dead
    ...
    Skadade                                                           <- same layout: injured

:func:`read_police_shootings_pdf` extracts the text with ``pdfplumber`` (pure Python), parses
the three tables and checks them: every region once, 13 numbers per row, each region's year
total equal to the sum of its months, and — the check that catches a misread cell — the seven
regions summing to the ``Totalt`` row in every month. A failed check raises
:class:`~utvardering.DataError` naming the table, the month and the difference.

:func:`fetch_police_shootings` downloads the PDFs of the years asked for (URLs in
:data:`POLICE_PDF_URLS`, which the Police may move: pass ``urls=`` then) through a
:class:`~utvardering.data.sources.fetching.Fetcher` (cache, rate limit, provenance).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from typing import IO

import pandas as pd

from ...errors import DataError
from .fetching import Fetcher

__all__ = ["POLICE_PDF_URLS", "REGIONS", "fetch_police_shootings", "read_police_shootings_pdf"]

_BASE = "https://polisen.se/{h}/contentassets/5fe3039dff9745e39999f5ff4e67e27f/"
#: The per-year PDFs as recorded in 2025–2026 (the hash-prefixed paths may change).
POLICE_PDF_URLS: dict[int, str] = {
    year: _BASE.format(h=h) + f"skjutningar-per-polisregion-{year}.pdf" for year, h in {
        2017: "46cb5257d765487b24a8ea5134501036", 2018: "0e0f73ef70caf0b2a47ca55252fc36e2",
        2019: "eb1d659e125ed9e31ec26965edc8e28b", 2020: "aa77c886c802659201044204de4c4542",
        2021: "9f7e0fcabcd7277e657976dbe10bb010", 2022: "b1c395330762ccc2b7e7884e6531dc40",
        2023: "a666154837bb5e75618a41fbb0b0e4af", 2024: "d0ed5dc12358dd04fbba3409f0fe8c65",
    }.items()}

#: The seven police regions (since 2015), in the PDFs' order.
REGIONS = ("Bergslagen", "Mitt", "Nord", "Stockholm", "Syd", "Väst", "Öst")
_TABLES = {"skjutningar": "shootings", "avlidna": "dead", "döda": "dead", "skadade": "injured"}
_TABLE_NAMES = {"shootings": "Skjutningar", "dead": "Avlidna", "injured": "Skadade"}
_MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
              "september", "oktober", "november", "december")
_TOTAL = ("totalt", "total", "hela landet", "riket")
_NUMBER = re.compile(r"^(\d{1,3}(?:[ \u00a0]\d{3})*|\d+|[-–—])$")


def _pdf_text(source: str | os.PathLike | bytes | IO) -> str:
    try:
        import pdfplumber
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("reading the Police's PDFs needs pdfplumber: pip install pdfplumber"
                          ) from exc
    handle = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        with pdfplumber.open(handle) as pdf:
            return "\n".join(page.extract_text() or "" for page in pdf.pages)
    except Exception as exc:  # pdfminer raises several unrelated types on a damaged file
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataError(f"could not read the PDF ({type(exc).__name__}: {exc}); is it the "
                        "Police's 'skjutningar per polisregion' PDF?") from exc


def _region(label: str) -> str | None:
    text = re.sub(r"^(polisregion|region)\s+", "", label.strip(), flags=re.IGNORECASE)
    return next((r for r in REGIONS if r.lower() == text.lower()), None)


def _split_row(line: str) -> tuple[str, list[str]]:
    """Label and trailing number tokens of a table row ('Syd 4 5 - 7 ...')."""
    tokens = line.split()
    numbers: list[str] = []
    while tokens and _NUMBER.match(tokens[-1]):
        numbers.insert(0, tokens.pop())
    # thousands written with a space ('1 025') were split into two tokens; the layout has no
    # number above 999 per cell except the national year total, handled by the 13-count check
    return " ".join(tokens), numbers


def _as_int(token: str) -> int:
    return 0 if token in ("-", "–", "—") else int(token.replace(" ", "").replace("\u00a0", ""))


def read_police_shootings_pdf(
    source: str | os.PathLike | bytes | IO,
    *,
    year: int | None = None,
    vintage: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Read one yearly PDF "skjutningar per polisregion YYYY" into a region × month panel.

    Parameters
    ----------
    source : path, bytes or binary file
        The PDF.
    year : int, optional
        The year of the tables; read from the title ("... polisregion 2019") when not given,
        and the two must agree when both are present.
    vintage : str or Timestamp, optional
        When the file was published or downloaded (the PDFs carry no date; the fetcher passes
        the download date). Stored in the ``vintage`` column (NaT when not given).

    Returns
    -------
    pandas.DataFrame
        84 rows (7 regions × 12 months), sorted by region and month: ``unit`` (region name,
        e.g. ``"Syd"``), ``time`` (``Period[M]``), ``shootings``, ``dead``, ``injured``
        (int64), ``vintage`` (datetime64) and ``definition`` (``"confirmed"``) — the columns
        of :func:`~utvardering.data.sources.read_police_shootings`, so the two can be combined.

    Raises
    ------
    DataError
        No year, a table or region missing or repeated, a row without 12 months and a total,
        a region's total not the sum of its months, or — for any month — the regions not
        summing to the ``Totalt`` row (the message names the table, the month, both sums and
        the difference).

    Examples
    --------
    >>> from utvardering.data.sources.police_pdf import read_police_shootings_pdf
    >>> panel = read_police_shootings_pdf("skjutningar-per-polisregion-2019.pdf")  # doctest: +SKIP
    >>> panel.groupby("unit")["shootings"].sum()  # doctest: +SKIP
    """
    text = _pdf_text(source)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    found_year = next((int(m.group(1)) for ln in lines[:5]
                       if (m := re.search(r"polisregion\w*\s+((?:19|20)\d{2})\b", ln, re.I))), None)
    if year is not None and found_year is not None and int(year) != found_year:
        raise DataError(f"year={year} but the PDF's title says {found_year}; check the file.")
    year = int(year) if year is not None else found_year
    if year is None:
        raise DataError("the PDF's title gives no year ('Skjutningar per polisregion YYYY'); "
                        "pass year=YYYY.")
    tables: dict[str, dict[str, list[int]]] = {}
    current: str | None = None
    for line in lines:
        label, numbers = _split_row(line)
        first = label.split(" ")[0].lower().rstrip(":") if label else ""
        if first in _TABLES and _region(label) is None:
            current = _TABLES[first]
            if tables.get(current):  # a second heading after rows (a title then a heading is fine)
                raise DataError(f"the PDF has two '{_TABLE_NAMES[current]}' tables; expected "
                                "one each of Skjutningar, Avlidna and Skadade.")
            tables.setdefault(current, {})
            continue
        if current is None:
            continue
        region = _region(label)
        is_total = label.lower() in _TOTAL
        if region is None and not is_total:
            continue  # header row ('Polisregion Jan Feb ... Totalt'), notes, page furniture
        key = "Totalt" if is_total else region
        where = f"table '{_TABLE_NAMES[current]}', row '{key}'"
        if len(numbers) != 13:
            raise DataError(f"skjutningar per polisregion {year}, {where}: {len(numbers)} "
                            "numbers, expected 13 (12 months and the year's total). The PDF's "
                            "layout may have changed, or a cell is empty.")
        if key in tables[current]:
            raise DataError(f"skjutningar per polisregion {year}, {where} appears twice.")
        tables[current][key] = [_as_int(t) for t in numbers]
    missing_tables = [_TABLE_NAMES[k] for k in ("shootings", "dead", "injured") if k not in tables]
    if missing_tables:
        raise DataError(f"skjutningar per polisregion {year}: no table(s) "
                        f"{', '.join(missing_tables)} found (found: "
                        f"{', '.join(_TABLE_NAMES[k] for k in tables) or 'none'}).")
    for measure, rows in tables.items():
        name = _TABLE_NAMES[measure]
        missing = [r for r in (*REGIONS, "Totalt") if r not in rows]
        if missing:
            raise DataError(f"skjutningar per polisregion {year}, table '{name}': no row for "
                            f"{', '.join(missing)}.")
        for key, values in rows.items():
            if sum(values[:12]) != values[12]:
                raise DataError(
                    f"skjutningar per polisregion {year}, table '{name}', row '{key}': the "
                    f"months sum to {sum(values[:12])} but the row's total is {values[12]} "
                    f"(difference {sum(values[:12]) - values[12]:+d}).")
        problems = []
        for m in range(12):
            regions = sum(rows[r][m] for r in REGIONS)
            if regions != rows["Totalt"][m]:
                problems.append(f"{_MONTHS_SV[m]} {year}: the regions sum to {regions} but "
                                f"Totalt is {rows['Totalt'][m]} (difference "
                                f"{regions - rows['Totalt'][m]:+d})")
        if problems:
            raise DataError(f"skjutningar per polisregion {year}, table '{name}': the regions "
                            f"do not sum to the Totalt row — {'; '.join(problems)}. A cell was "
                            "misread or the PDF is inconsistent; check it against the "
                            "published file.")
    when = pd.NaT if vintage is None else pd.Timestamp(vintage).normalize()
    records = [{"unit": region, "time": pd.Period(year=year, month=m + 1, freq="M"),
                **{measure: tables[measure][region][m] for measure in ("shootings", "dead",
                                                                         "injured")}}
               for region in REGIONS for m in range(12)]
    panel = pd.DataFrame(records)
    for column in ("shootings", "dead", "injured"):
        panel[column] = panel[column].astype("int64")
    panel["vintage"] = pd.Series([when] * len(panel), dtype="datetime64[ns]")
    panel["definition"] = "confirmed"
    panel.attrs["national_totals"] = {measure: tables[measure]["Totalt"][12]
                                      for measure in ("shootings", "dead", "injured")}
    return panel


def fetch_police_shootings(
    years: Iterable[int],
    *,
    cache: str | os.PathLike | None = None,
    offline: bool = False,
    urls: dict[int, str] | None = None,
    fetcher: Fetcher | None = None,
) -> pd.DataFrame:
    """Download (or read from the cache) the yearly PDFs and stack their region × month panels.

    Parameters
    ----------
    years : iterable of int
        Years to get (2017 onward; November–December 2016 are in no yearly PDF).
    cache : str or Path, optional
        Cache directory; files already there are not downloaded again.
    offline : bool, default False
        Use only the cache (an error names any year that is not there).
    urls : dict, optional
        Year → URL, overriding :data:`POLICE_PDF_URLS` (the Police's paths change).
    fetcher : Fetcher, optional
        A configured fetcher (transport, rate limit); overrides ``cache`` and ``offline``.

    Returns
    -------
    pandas.DataFrame
        The stacked panels of :func:`read_police_shootings_pdf` (``vintage`` = the download
        date), with ``attrs["provenance"]``: one record per PDF (URL, time, SHA-256, size,
        whether it came from the cache).
    """
    fetcher = fetcher if fetcher is not None else Fetcher(cache, offline=offline)
    table = {**POLICE_PDF_URLS, **(urls or {})}
    frames = []
    for year in sorted(set(int(y) for y in years)):
        if year not in table:
            raise DataError(f"no URL known for the {year} PDF (known: {min(table)}–"
                            f"{max(table)}); pass urls={{{year}: 'https://...pdf'}}.")
        content = fetcher.get(table[year])
        record = fetcher.records[-1]
        frames.append(read_police_shootings_pdf(content, year=year,
                                                vintage=record.fetched_at[:10]))
    if not frames:
        raise DataError("no years asked for; pass e.g. years=range(2017, 2025).")
    panel = pd.concat(frames, ignore_index=True)
    panel.attrs["provenance"] = fetcher.provenance()
    return panel
