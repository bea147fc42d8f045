"""Statistics Sweden (SCB) PxWeb: JSON-stat2 responses to tidy frames, and query building.

SCB's statistical database is served by the PxWeb API. Version 1 takes a POST of a JSON query
to ``https://api.scb.se/OV0104/v1/doris/{lang}/ssd/{path to table}``; version 2 takes a GET of
``https://statistikdatabasen.scb.se/api/v2/tables/{id}/data?lang=sv&valueCodes[Dim]=a,b``.
Both can answer in JSON-stat 2.0, which this module reads. Fetching is left to the user
(``requests``, ``urllib``, a browser): the library never touches the network.

JSON-stat2 dataset (the parts used here)::

    {"version": "2.0", "class": "dataset", "label": "...", "source": "SCB",
     "updated": "2023-02-21T07:00:00Z",
     "id": ["Region", "Kon", "Tid"], "size": [2, 2, 3],
     "dimension": {"Region": {"label": "region",
                              "category": {"index": {"1280": 0, "1281": 1},   # or a list
                                           "label": {"1280": "Malmö", "1281": "Lund"}}},
                   ...},
     "value": [1, 2, ...] or {"0": 1, "5": 7},     # dense list or sparse {flat index: value}
     "status": {"3": ".."}}                        # optional; string, list or sparse object

The flat index of a cell is row-major over ``id`` (the last dimension varies fastest):
:math:`k = \\sum_{d} i_d \\prod_{e > d} n_e`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from ...errors import DataError
from ._text import read_json

__all__ = ["PxWebRequest", "pxweb_query", "read_jsonstat2"]

PXWEB_V1_URL = "https://api.scb.se/OV0104/v1/doris"
PXWEB_V2_URL = "https://statistikdatabasen.scb.se/api/v2"
#: The most cells :func:`read_jsonstat2` accepts (a PxWeb answer is limited to ~150,000).
MAX_CELLS = 10_000_000
_TOP = re.compile(r"^top\((\d+)\)$", re.IGNORECASE)


def _load(path_or_dict: Any) -> tuple[dict, str]:
    if isinstance(path_or_dict, dict):
        return path_or_dict, "<dict>"
    return read_json(path_or_dict, "JSON-stat2")


def _categories(dim: str, spec: Any, n: int, where: str) -> tuple[list[str], list[str]]:
    """Category codes in index order and their labels."""
    category = spec.get("category") if isinstance(spec, dict) else None
    if not isinstance(category, dict):
        raise DataError(f"{where}: dimension {dim!r} has no 'category' object.")
    labels = category.get("label") or {}
    index = category.get("index")
    if index is None:
        if len(labels) != 1:
            raise DataError(
                f"{where}: dimension {dim!r} has no category.index; JSON-stat allows that only "
                f"for a single category, but it has {len(labels)} labels."
            )
        codes = list(labels)
    elif isinstance(index, list):
        codes = [str(c) for c in index]
    elif isinstance(index, dict):
        try:
            positions = {str(c): int(p) for c, p in index.items()}
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{where}: dimension {dim!r} has a non-integer position in category.index."
            ) from exc
        if sorted(positions.values()) != list(range(len(positions))):
            raise DataError(
                f"{where}: bad category.index for dimension {dim!r}: positions "
                f"{sorted(positions.values())} are not 0..{len(positions) - 1} without gaps or "
                "repeats. The response is corrupt; fetch it again."
            )
        codes = sorted(positions, key=positions.__getitem__)
    else:
        raise DataError(
            f"{where}: category.index of dimension {dim!r} must be an object or a list."
        )
    if len(set(codes)) != len(codes):
        raise DataError(f"{where}: dimension {dim!r} lists a category code twice.")
    if len(codes) != n:
        raise DataError(
            f"{where}: size/id mismatch: 'size' gives {n} categories for dimension {dim!r} but "
            f"its category.index has {len(codes)}. The response is inconsistent; fetch it again."
        )
    return codes, [str(labels.get(c, c)) for c in codes]


def _flat(values: Any, total: int, key: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Dense array of ``total`` cells from a list or a sparse object; returns (values, present)."""
    if isinstance(values, list):
        if len(values) != total:
            raise DataError(
                f"{where}: '{key}' has {len(values)} entries but the product of 'size' is "
                f"{total}. The response is truncated or inconsistent; fetch it again."
            )
        dense = np.empty(total, dtype=object)
        dense[:] = values
        return dense, np.array([v is not None for v in values], dtype=bool)
    if isinstance(values, dict):
        out = np.full(total, None, dtype=object)
        present = np.zeros(total, dtype=bool)
        for k, v in values.items():
            try:
                pos = int(k)
            except ValueError:
                pos = -1
            if not 0 <= pos < total:
                raise DataError(
                    f"{where}: sparse '{key}' has key {k!r}, which is not a flat index in "
                    f"0..{total - 1}."
                )
            out[pos], present[pos] = v, v is not None
        return out, present
    raise DataError(f"{where}: '{key}' must be a list or an object, got {type(values).__name__}.")


def _cell_name(position: int, ids: list[str], sizes: list[int], cats: list) -> str:
    """The categories of flat cell ``position`` (row-major over ``id``), e.g. ``Tid=2021M01``."""
    index = np.unravel_index(position, sizes) if sizes else ()
    return ", ".join(f"{dim}={codes[k]}" for dim, k, (codes, _) in zip(ids, index, cats)) \
        or "the only cell"


def read_jsonstat2(path_or_dict: str | os.PathLike | IO | dict) -> pd.DataFrame:
    """Turn a JSON-stat 2.0 dataset (a PxWeb response) into a tidy frame.

    Parameters
    ----------
    path_or_dict : str, path-like, file-like or dict
        A saved response, the JSON text, or the parsed dict (never modified).

    Returns
    -------
    pandas.DataFrame
        One row per cell in row-major order over ``id``: for each dimension ``d`` a column
        ``d`` with the category codes (str) and ``d_label`` with their labels, then ``value``
        (float64, NaN for missing cells) and, when the response has one, ``status`` (the
        cell's status symbol, e.g. ``".."``, or None). ``attrs`` carries ``label``,
        ``source``, ``updated``, ``note`` and ``role`` when present.

    Raises
    ------
    DataError
        Not a JSON-stat2 dataset (e.g. JSON-stat 1 from ``"format": "json-stat"``),
        ``id`` and ``size`` of different length or disagreeing with the categories, a bad
        ``category.index``, a ``value`` whose length is not the product of ``size``, a
        sparse key out of range, or a non-numeric value.

    Notes
    -----
    Codes are kept as strings (``"1280"`` keeps its leading digits, ``"2021M01"`` stays a
    code); convert time codes with :func:`pandas.Period` when needed.
    """
    data, name = _load(path_or_dict)
    where = f"JSON-stat2 {name}"
    if not isinstance(data, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(data).__name__}.")
    if "class" not in data and "dataset" in data:
        raise DataError(
            f"{where}: this is JSON-stat 1 (a 'dataset' wrapper). Ask PxWeb for "
            "'json-stat2' (v1: response.format; v2: outputFormat=json-stat2)."
        )
    if data.get("class") != "dataset":
        raise DataError(f"{where}: 'class' is {data.get('class')!r}; expected 'dataset'.")
    missing = [k for k in ("id", "size", "dimension", "value") if k not in data]
    if missing:
        raise DataError(f"{where}: missing key(s) {missing}; found {sorted(data)}.")
    ids, sizes, dims = data["id"], data["size"], data["dimension"]
    if not (isinstance(ids, list) and all(isinstance(d, str) for d in ids)):
        raise DataError(f"{where}: 'id' must be a list of dimension names, got {ids!r}.")
    if not (
        isinstance(sizes, list)
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in sizes)
    ):
        raise DataError(f"{where}: 'size' must be a list of category counts, got {sizes!r}.")
    if not isinstance(dims, dict):
        raise DataError(f"{where}: 'dimension' must be an object keyed by dimension name.")
    if len(ids) != len(sizes):
        raise DataError(
            f"{where}: size/id mismatch: 'id' names {len(ids)} dimensions {ids} but 'size' has "
            f"{len(sizes)} entries {sizes}."
        )
    absent = [d for d in ids if d not in dims]
    if absent:
        raise DataError(f"{where}: dimension(s) {absent} are in 'id' but not in 'dimension'.")
    clash = [d for d in ids if d in ("value", "status") or f"{d}_label" in ids]
    if clash:
        raise DataError(f"{where}: dimension name(s) {clash} clash with output column names.")
    total = math.prod(sizes) if sizes else 1
    if total > MAX_CELLS:
        raise DataError(
            f"{where}: 'size' {sizes} describes {total:,} cells, more than this reader takes "
            f"({MAX_CELLS:,}). PxWeb answers are far smaller: the response is corrupt, or ask "
            "for fewer categories per request and combine the answers."
        )
    cats = [_categories(d, dims[d], n, where) for d, n in zip(ids, sizes)]
    raw, present = _flat(data["value"], total, "value", where)
    numeric = np.array([isinstance(v, int | float) and not isinstance(v, bool)
                        for v in raw[present].tolist()], dtype=bool)
    if not numeric.all():
        bad = raw[present][~numeric][0]
        cell = _cell_name(int(np.flatnonzero(present)[~numeric][0]), ids, sizes, cats)
        raise DataError(f"{where}: 'value' holds a non-numeric entry {bad!r} at {cell}; "
                        "values are numbers or null.")
    values = np.full(total, np.nan)
    values[present] = np.array(raw[present].tolist(), dtype=float)
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        cells = "; ".join(_cell_name(int(i), ids, sizes, cats) for i in infinite[:3])
        raise DataError(
            f"{where}: 'value' holds {infinite.size} number(s) too large for a float (read as "
            f"infinite), at {cells}. The response is corrupt; fetch it again."
        )

    grid = np.indices(sizes, dtype=np.int64).reshape(len(sizes), -1) if sizes else np.zeros((0, 1))
    columns: dict[str, Any] = {}
    for k, (dim, (codes, labels)) in enumerate(zip(ids, cats)):
        columns[dim] = np.asarray(codes, dtype=object)[grid[k]]
        columns[f"{dim}_label"] = np.asarray(labels, dtype=object)[grid[k]]
    out = pd.DataFrame(columns)
    for dim in ids:
        out[dim] = out[dim].astype(str)
        out[f"{dim}_label"] = out[f"{dim}_label"].astype(str)
    out["value"] = values
    status = data.get("status")
    if status is not None:
        if isinstance(status, str):
            out["status"] = status
        else:
            flags, _ = _flat(status, total, "status", where)
            out["status"] = pd.Series(flags, dtype=object)
    out.attrs.update(
        {k: data[k] for k in ("label", "source", "updated", "note", "role") if k in data}
    )
    out.attrs["source_file"] = name
    return out


@dataclass(frozen=True)
class PxWebRequest:
    """A PxWeb request, built but not sent.

    Attributes
    ----------
    method : str
        ``"POST"`` (API v1) or ``"GET"`` (API v2).
    url : str
        Full URL, including the query string for v2.
    json : dict or None
        JSON body for v1; None for v2.
    """

    method: str
    url: str
    json: dict | None


def _values(dim: str, spec: Any) -> list[str]:
    vals = [spec] if isinstance(spec, str) else list(spec)
    if not vals or not all(isinstance(v, str) and v for v in vals):
        raise ValueError(
            f"selection[{dim!r}] must be a code or a non-empty list of codes, got {spec!r}"
        )
    return vals


def pxweb_query(
    table_id: str,
    selection: dict[str, Any],
    *,
    version: int = 2,
    language: str = "sv",
    base_url: str | None = None,
    output_format: str = "json-stat2",
) -> PxWebRequest:
    """Build (never send) a PxWeb data request for a table and a selection of values.

    Parameters
    ----------
    table_id : str
        v2: the table id, e.g. ``"TAB638"``. v1: the table's path under the database,
        e.g. ``"BE/BE0101/BE0101A/BefolkningNy"``.
    selection : dict
        Dimension code → value codes: a list (``["1280", "1281"]``), one code, ``"*"`` (all
        values), ``"top(3)"`` (latest three periods) or, for filters the API defines
        (aggregations, code lists), a dict ``{"filter": ..., "values": [...]}`` (v1) or
        ``{"codelist": ..., "values": [...]}`` (v2). Not modified.
    version : {1, 2}, default 2
        PxWeb API version.
    language : str, default "sv"
        ``"sv"`` or ``"en"``.
    base_url : str, optional
        API root; defaults to SCB's (v1 ``https://api.scb.se/OV0104/v1/doris``, v2
        ``https://statistikdatabasen.scb.se/api/v2``). Other PxWeb hosts work the same way.
    output_format : str, default "json-stat2"
        Response format, as read by :func:`read_jsonstat2`.

    Returns
    -------
    PxWebRequest
        ``method``, ``url`` and ``json`` body. Send it yourself, e.g. with ``requests``:
        ``requests.request(req.method, req.url, json=req.json).json()``; this library does
        no network access. SCB allows about 10 calls per 10 seconds and a limited number of
        cells per call: split large selections.

    Examples
    --------
    >>> req = pxweb_query("TAB638", {"Region": ["1280"], "Tid": ["2021", "2022"]})
    >>> req.url
    'https://statistikdatabasen.scb.se/api/v2/tables/TAB638/data?lang=sv&valueCodes[Region]=1280&valueCodes[Tid]=2021,2022&outputFormat=json-stat2'
    """
    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, got {version!r}")
    if not isinstance(table_id, str) or not table_id.strip("/ "):
        raise ValueError("table_id must be a non-empty string")
    if not isinstance(selection, dict):
        raise ValueError(
            f"selection must be a dict of dimension -> codes, got {type(selection).__name__}"
        )
    table = table_id.strip("/ ")
    if version == 1:
        if "/" not in table:
            raise ValueError(
                f"PxWeb v1 needs the table's path (e.g. 'BE/BE0101/BE0101A/BefolkningNy'), got "
                f"{table_id!r}; use version=2 for table ids like 'TAB638'."
            )
        query = []
        for dim, spec in selection.items():
            if isinstance(spec, dict):
                sel = {"filter": spec["filter"], "values": _values(dim, spec["values"])}
            else:
                vals = _values(dim, spec)
                top = _TOP.match(vals[0]) if len(vals) == 1 else None
                if top:
                    sel = {"filter": "top", "values": [top.group(1)]}
                elif any("*" in v for v in vals):
                    sel = {"filter": "all", "values": vals}
                else:
                    sel = {"filter": "item", "values": vals}
            query.append({"code": dim, "selection": sel})
        root = (base_url or PXWEB_V1_URL).rstrip("/")
        return PxWebRequest(
            "POST",
            f"{root}/{quote(language)}/ssd/{quote(table)}",
            {"query": query, "response": {"format": output_format}},
        )
    params = [f"lang={quote(language)}"]
    for dim, spec in selection.items():
        key = quote(str(dim), safe="")
        if isinstance(spec, dict):
            if "codelist" in spec:
                params.append(f"codelist[{key}]={quote(str(spec['codelist']), safe='')}")
            spec = spec["values"]
        vals = _values(dim, spec)
        if any("," in v for v in vals):
            raise ValueError(f"selection[{dim!r}] has a code containing ',': {vals}")
        params.append(f"valueCodes[{key}]=" + ",".join(quote(v, safe="*()") for v in vals))
    params.append(f"outputFormat={quote(output_format)}")
    root = (base_url or PXWEB_V2_URL).rstrip("/")
    return PxWebRequest(
        "GET", f"{root}/tables/{quote(table, safe='')}/data?" + "&".join(params), None
    )
