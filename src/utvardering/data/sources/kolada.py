"""Reader and fetcher for Kolada's municipality × year indicators (v2 JSON API).

Kolada (RKA) publishes key figures per municipality and year, among them reported crime:
``N07540`` reported crimes in total per 100,000 residents and ``N07403`` reported violent
crimes per 100,000. The v2 API (``https://api.kolada.se/v2``) answers

``/v2/data/kpi/{kpi}/year/{years}`` (every municipality) or
``/v2/data/kpi/{kpi}/municipality/{ids}/year/{years}`` (``kpi``, ``ids`` and ``years``
comma-separated) with JSON::

    {"count": 2,
     "values": [{"kpi": "N07540", "municipality": "1280", "period": 2021,
                 "values": [{"count": 1, "gender": "T", "status": "", "value": 11523.4}]},
                ...],
     "next_page": "https://api.kolada.se/v2/...&page=2"}      <- only when there is more

At most 5000 objects per page; ``next_page`` is followed until absent. Each object carries one
``values`` entry per gender (``T`` total, ``K`` women, ``M`` men); ``value`` may be ``null``
(not published) with a ``status`` saying why. Municipality ids are four-digit strings
(``"0180"`` Stockholm, ``"1280"`` Malmö); ids starting with ``G`` are groups whose value is the
unweighted mean of ``count`` members.

:func:`read_kolada` turns response pages into a tidy panel; :func:`fetch_kolada` pages through
the API with a :class:`~utvardering.data.sources.fetching.Fetcher` (cache, polite rate limit,
provenance). Data are © RKA, licensed CC BY 4.0: cite "Källa: Kolada (RKA)".
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataError
from .fetching import Fetcher

__all__ = ["KOLADA_API", "KOLADA_CRIME_KPIS", "fetch_kolada", "kolada_url", "parse_years",
           "read_kolada"]

KOLADA_API = "https://api.kolada.se/v2"
#: Reported-crime indicators named in the project's sources.
KOLADA_CRIME_KPIS = {
    "N07540": "Anmälda brott totalt, antal/100 000 inv",
    "N07403": "Anmälda våldsbrott, antal/100 000 inv",
}
_KPI = re.compile(r"^[A-Z]\d{5}$")
_MAX_PAGES = 1000


def parse_years(years: Iterable[int] | int | str) -> list[int]:
    """Years from an int, an iterable or text such as ``"2015-2023"`` or ``"2019,2021-2022"``."""
    if isinstance(years, str):
        out: list[int] = []
        for part in years.split(","):
            lo, _, hi = part.strip().partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
        return out
    if isinstance(years, int | np.integer):
        return [int(years)]
    return [int(y) for y in years]


def kolada_url(kpi: str | Iterable[str], years: Iterable[int] | int | str,
               municipalities: Iterable[str] | None = None, per_page: int | None = None) -> str:
    """The v2 data URL for KPIs × years (× municipalities).

    Examples
    --------
    >>> kolada_url("N07540", [2020, 2021], ["1280"])
    'https://api.kolada.se/v2/data/kpi/N07540/municipality/1280/year/2020,2021'
    """
    kpis = [kpi] if isinstance(kpi, str) else list(kpi)
    bad = [k for k in kpis if not _KPI.match(k)]
    if bad or not kpis:
        raise DataError(f"Kolada KPI id(s) {bad or kpis} are not of the form 'N07540' (a letter "
                        "and five digits).")
    ys = parse_years(years)
    if not ys:
        raise DataError("no years given for the Kolada query.")
    url = f"{KOLADA_API}/data/kpi/{','.join(kpis)}"
    if municipalities:
        ids = [str(m).strip() for m in municipalities]
        bad_ids = [m for m in ids if not re.match(r"^(\d{4}|G\d+)$", m)]
        if bad_ids:
            raise DataError(f"municipality id(s) {bad_ids} are not four-digit codes (e.g. "
                            "'1280' for Malmö, '0180' for Stockholm; keep the leading zero).")
        url += f"/municipality/{','.join(ids)}"
    url += f"/year/{','.join(map(str, ys))}"
    if per_page:
        url += f"?per_page={int(per_page)}"
    return url


def read_kolada(pages: Iterable[dict | str | bytes], *, gender: str | None = "T") -> pd.DataFrame:
    """Turn Kolada v2 data responses (one or more pages) into a municipality × year panel.

    Parameters
    ----------
    pages : iterable of dict, str or bytes
        Parsed or raw JSON responses of ``/v2/data/kpi/...``.
    gender : {"T", "K", "M"} or None, default "T"
        Keep one gender (``T`` total); ``None`` keeps all.

    Returns
    -------
    pandas.DataFrame
        ``kpi``, ``municipality`` (str, four digits or a group id), ``year`` (int),
        ``gender``, ``value`` (float, NaN when Kolada publishes none), ``status`` and
        ``count``, sorted by kpi, municipality, year, gender.

    Raises
    ------
    DataError
        A page that is not a v2 data response (no ``values`` list, an object without
        ``kpi``/``municipality``/``period``, a non-numeric value), or a repeated
        kpi × municipality × year × gender (pages overlapping).
    """
    if gender is not None and gender not in ("T", "K", "M"):
        raise DataError(f"gender={gender!r} is not 'T' (total), 'K' (women), 'M' (men) or None.")
    rows: list[dict[str, Any]] = []
    for number, page in enumerate(pages, start=1):
        if isinstance(page, bytes | str):
            try:
                page = json.loads(page)
            except json.JSONDecodeError as exc:
                raise DataError(f"Kolada page {number} is not JSON ({exc}).") from None
        if not isinstance(page, dict) or not isinstance(page.get("values"), list):
            raise DataError(f"Kolada page {number} has no 'values' list; is it a response of "
                            "/v2/data/kpi/...? (keys: "
                            f"{sorted(page) if isinstance(page, dict) else type(page).__name__})")
        for i, obj in enumerate(page["values"]):
            missing = [k for k in ("kpi", "municipality", "period", "values") if k not in obj]
            if missing:
                raise DataError(f"Kolada page {number}, object {i}: missing {missing}.")
            for entry in obj["values"]:
                value = entry.get("value")
                try:
                    number_value = np.nan if value is None else float(value)
                except (TypeError, ValueError):
                    raise DataError(f"Kolada page {number}, {obj['kpi']} {obj['municipality']} "
                                    f"{obj['period']}: value {value!r} is not a number.") from None
                rows.append({"kpi": str(obj["kpi"]), "municipality": str(obj["municipality"]),
                             "year": int(obj["period"]), "gender": str(entry.get("gender", "T")),
                             "value": number_value, "status": entry.get("status") or "",
                             "count": int(entry.get("count", 1) or 1)})
    frame = pd.DataFrame(rows, columns=["kpi", "municipality", "year", "gender", "value",
                                        "status", "count"])
    if gender is not None:
        frame = frame[frame["gender"] == gender]
    key = ["kpi", "municipality", "year", "gender"]
    dup = frame.duplicated(key, keep=False)
    if dup.any():
        first = frame.loc[dup, key].iloc[0].tolist()
        raise DataError(f"Kolada responses repeat {dup.sum()} kpi × municipality × year × "
                        f"gender rows (e.g. {first}); were pages fetched twice?")
    return frame.sort_values(key, ignore_index=True)


def fetch_kolada(
    kpi: str | Iterable[str],
    years: Iterable[int] | int | str,
    *,
    municipalities: Iterable[str] | None = None,
    gender: str | None = "T",
    cache: str | os.PathLike | None = None,
    offline: bool = False,
    per_page: int | None = None,
    fetcher: Fetcher | None = None,
) -> pd.DataFrame:
    """Get Kolada KPI values for years (and municipalities), following ``next_page``.

    Parameters
    ----------
    kpi : str or iterable of str
        KPI id(s), e.g. ``"N07540"`` (see :data:`KOLADA_CRIME_KPIS`).
    years : int, iterable of int or str
        e.g. ``range(2015, 2024)`` or ``"2015-2023"``.
    municipalities : iterable of str, optional
        Four-digit municipality codes (all municipalities when not given).
    gender : {"T", "K", "M"} or None, default "T"
        As in :func:`read_kolada`.
    cache, offline : optional
        Cache directory and cache-only mode (see
        :class:`~utvardering.data.sources.fetching.Fetcher`).
    per_page : int, optional
        Page size (Kolada's maximum and default is 5000).
    fetcher : Fetcher, optional
        A configured fetcher (fake transport in tests, rate limit); overrides ``cache`` and
        ``offline``.

    Returns
    -------
    pandas.DataFrame
        The panel of :func:`read_kolada`, with ``attrs["provenance"]`` (one record per page:
        URL, time, SHA-256, whether from the cache) and ``attrs["source"]`` (attribution).
    """
    fetcher = fetcher if fetcher is not None else Fetcher(cache, offline=offline)
    url: str | None = kolada_url(kpi, years, municipalities, per_page)
    pages, seen = [], set()
    while url:
        if url in seen or len(pages) >= _MAX_PAGES:
            raise DataError(f"Kolada paging loops or runs past {_MAX_PAGES} pages at {url}; "
                            "narrow the query (fewer KPIs, years or municipalities).")
        seen.add(url)
        raw = fetcher.get(url)
        try:
            page = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"Kolada answered {url} with something that is not JSON ({exc}); "
                            "the API may be down or have changed.") from None
        pages.append(page)
        url = page.get("next_page") if isinstance(page, dict) else None
    frame = read_kolada(pages, gender=gender)
    frame.attrs["provenance"] = fetcher.provenance()
    frame.attrs["source"] = "Källa: Kolada (RKA), CC BY 4.0"
    return frame
