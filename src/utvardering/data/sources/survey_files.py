"""Reader for safety-survey micro-data files (CSV, SPSS ``.sav``, Stata ``.dta``).

The police's local safety surveys (Region Syd) and Brå's NTU are delivered to researchers as
micro-data under confidentiality: one row per respondent with an area, a survey year, a weight
and the item answers. The library keeps them inside; analyses publish weighted aggregates only.

Assumed layouts:

- CSV as exported by Excel or SPSS in Sweden: ``;`` separated with decimal commas
  (``lopnr;omrade;ar;vikt;otrygg_kvall`` / ``17;Möllevången;2021;1,85;3``), or ``,``
  separated with decimal points; UTF-8 (with or without BOM), Windows-1252 or Latin-1.
  The separator is detected from the header line.
- SPSS ``.sav`` / ``.zsav`` and Stata ``.dta`` through the optional dependency pyreadstat
  (``pip install utvardering[survey]``). Answers are kept as their numeric codes; the value
  labels (e.g. ``1 = "Mycket trygg"``) are kept in ``attrs["value_labels"]``, and
  user-defined missing codes (e.g. 9 = "Vet ej") become NaN, pyreadstat's default.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ...errors import DataError
from ._text import read_text

__all__ = ["read_survey_microdata"]

CONTRACT = ("respondent", "unit", "time", "weight")
_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".sav": "sav",
    ".zsav": "sav",
    ".dta": "dta",
}
_COMMA_NUMBER = re.compile(r"^-?\d+(,\d+)?$")


def _numeric(col: pd.Series, rid: pd.Series | None = None, where: str = "",
             name: str | None = None) -> pd.Series:
    """Convert a text column to numbers when every filled cell is a number (',' or '.').

    A column that mixes decimal commas (``1,85``) and decimal points (``2.10``) is refused
    (naming the respondents of both kinds): a file has one decimal mark, and guessing would
    misread one kind.
    """
    s = col.str.strip()
    filled = s.ne("") & s.notna()
    if not filled.any():
        return col
    text = s[filled]
    comma = text.str.match(r"^-?\d+,\d+$")
    point = text.str.match(r"^-?\d+\.\d+$")
    if comma.any() and point.any() and (comma | point | text.str.match(r"^-?\d+$")).all():
        ids = rid if rid is not None else pd.Series(col.index + 1, index=col.index)

        def show(mask: pd.Series) -> str:
            rows = mask[mask].index
            return (f"{int(mask.sum())} cell(s), e.g. respondent(s) "
                    f"{_show(ids.loc[rows], 4)}: {_show(text[mask].map(repr), 3)}")

        raise DataError(
            f"{where}column {name or repr(col.name)} mixes decimal commas ({show(comma)}) and decimal points "
            f"({show(point)}). A file uses one decimal mark; re-export it, or correct the "
            f"{'points' if point.sum() <= comma.sum() else 'commas'}, which are fewer."
        )
    if text.str.match(_COMMA_NUMBER.pattern).all():
        text = text.str.replace(",", ".", regex=False)
    converted = pd.to_numeric(text, errors="coerce")
    if converted.isna().any():
        return col
    out = pd.Series(np.nan, index=col.index, dtype=float)
    out[filled] = converted.astype(float)
    return out


def _read_csv(path: str | os.PathLike, encoding: str | None) -> pd.DataFrame:
    text, _ = read_text(path, encoding)
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    sep = max((";", ",", "\t"), key=header.count)
    if not header:
        raise DataError(f"survey file {Path(path).name} is empty (no header line); export the "
                        "micro-data again.")
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"survey file {Path(path).name} has no columns; export the micro-data "
                        "again.") from None
    except pd.errors.ParserError as exc:
        raise DataError(
            f"survey file {Path(path).name}: cannot be read as {sep!r}-separated text "
            f"({str(exc).strip()}). Check separators and quotes on that line."
        ) from None


def _read_pyreadstat(path: str | os.PathLike, fmt: str) -> pd.DataFrame:
    try:
        import pyreadstat
    except ImportError as exc:
        raise ImportError(
            f"reading {fmt!r} survey files needs the optional package pyreadstat: "
            "pip install utvardering[survey]  (or: pip install pyreadstat)"
        ) from exc
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    errors = tuple(e for e in (getattr(pyreadstat, "ReadstatError", None),
                               getattr(pyreadstat, "PyreadstatError", None)) if e is not None)
    try:
        df, meta = reader(os.fspath(path), apply_value_formats=False)
    except errors as exc:
        kind = "SPSS (.sav/.zsav)" if fmt == "sav" else "Stata (.dta)"
        raise DataError(
            f"survey file {Path(path).name} is not a readable {kind} file ({exc}). It may be "
            "damaged or of another format; export it again or pass format=."
        ) from None
    df.attrs["column_labels"] = dict(zip(meta.column_names, meta.column_labels))
    df.attrs["value_labels"] = dict(meta.variable_value_labels)
    return df


def _show(ids: pd.Series, limit: int = 8) -> str:
    shown = [str(v) for v in ids.head(limit)]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(shown) + more


def read_survey_microdata(
    path: str | os.PathLike,
    *,
    respondent: str,
    unit: str,
    time: str,
    weight: str,
    items: list[str] | dict[str, str] | None = None,
    format: Literal["csv", "sav", "dta"] | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a survey micro-data file and rename it to the survey contract.

    Parameters
    ----------
    path : str or path-like
        The file.
    respondent, unit, time, weight : str
        Names in the file of the respondent id, the area, the survey period (usually the
        year) and the survey weight. They become ``respondent``, ``unit``, ``time`` and
        ``weight``.
    items : list of str or dict, optional
        Item (answer) columns to keep: a list keeps them under their names, a dict renames
        ``{name in file: new name}``. By default every other column is kept as it is.
    format : {"csv", "sav", "dta"}, optional
        File format; by default taken from the suffix (``.csv``/``.txt``/``.tsv``,
        ``.sav``/``.zsav``, ``.dta``).
    encoding : str, optional
        Text encoding of a CSV file; detected when not given.

    Returns
    -------
    pandas.DataFrame
        Columns ``respondent``, ``unit``, ``time``, ``weight`` then the items, in file order.
        In CSV files ``respondent`` and ``unit`` stay text (codes such as ``"0114"`` keep
        their zeros); other columns whose filled cells are all numbers (decimal comma or
        point) become float, and ``time`` becomes int64 when it holds whole numbers.

    Raises
    ------
    DataError
        Missing columns (listing those the file has), a name clash after renaming,
        missing or repeated respondent ids, missing unit or time, and weights that are
        missing, non-numeric, zero, negative or infinite (naming the respondents).
    ImportError
        For ``.sav``/``.dta`` when pyreadstat is not installed.

    Notes
    -----
    Micro-data are confidential: keep them out of reports and version control and publish
    only weighted aggregates. Check whether the weight is a design weight (inverse inclusion
    probability) or a calibrated weight; they give the same point estimates only when the
    calibration is trivial.
    """
    fmt = format or _FORMATS.get(Path(path).suffix.lower())
    if fmt not in ("csv", "sav", "dta"):
        raise ValueError(
            f"cannot tell the format of {os.fspath(path)!r}; pass format='csv', 'sav' or 'dta'."
        )
    name = Path(path).name
    raw = _read_csv(path, encoding) if fmt == "csv" else _read_pyreadstat(path, fmt)
    given = {"respondent": respondent, "unit": unit, "time": time, "weight": weight}
    item_map = (
        dict(items) if isinstance(items, dict)
        else {c: c for c in items} if items is not None
        else {c: c for c in raw.columns if c not in given.values()}
    )  # fmt: skip
    wanted = {**{v: k for k, v in given.items()}, **item_map}
    missing = [
        f"{col!r} (given as {role}=)" if role in CONTRACT else repr(col)
        for col, role in [(v, k) for k, v in given.items()] + [(c, "item") for c in item_map]
        if col not in raw.columns
    ]
    if missing:
        raise DataError(
            f"survey file {name}: missing column(s) {', '.join(missing)}; the file has "
            f"{list(raw.columns)}. Pass the names used in the file."
        )
    both = [c for c in item_map if c in given.values()]
    if both:
        raise DataError(
            f"survey file {name}: column(s) {both} are given both as a contract column and as "
            "items. Leave them out of items=."
        )
    targets = list(given) + list(item_map.values())
    clash = sorted({t for t in targets if targets.count(t) > 1})
    if clash:
        raise DataError(
            f"survey file {name}: after renaming, column name(s) {clash} would occur twice. "
            "Pass items= to choose or rename the item columns."
        )
    out = raw[list(given.values()) + list(item_map)].copy()
    out.columns = [wanted[c] if c in given.values() else item_map[c] for c in out.columns]
    out.attrs = {k: v for k, v in raw.attrs.items()}
    out.attrs["source"] = name

    if fmt == "csv":
        rid_text = out["respondent"].astype(str).str.strip()
        in_file = dict(zip(out.columns, list(given.values()) + list(item_map)))
        for col in out.columns:
            if col not in ("respondent", "unit"):
                out[col] = _numeric(out[col], rid_text, f"survey file {name}: ",
                                    repr(in_file[col]))
    for col in ("respondent", "unit"):
        if pd.api.types.is_string_dtype(out[col]):
            stripped = out[col].str.strip()
            out[col] = stripped.where(stripped.notna() & stripped.ne(""))

    rid = out["respondent"]
    if rid.isna().any():
        rows = list(np.flatnonzero(rid.isna().to_numpy()) + 1)
        raise DataError(
            f"survey file {name}: respondent id ({respondent!r}) is missing in data row(s) "
            f"{rows[:8]}. Every respondent needs an id."
        )
    dup = rid.duplicated(keep=False)
    if dup.any():
        raise DataError(
            f"survey file {name}: respondent id(s) {_show(rid[dup].drop_duplicates())} occur "
            f"more than once in {respondent!r}. Each row must be one respondent; remove repeats."
        )
    for role in ("unit", "time"):
        col = out[role]
        empty = col.isna() | col.astype(str).str.strip().eq("")
        if empty.any():
            raise DataError(
                f"survey file {name}: {role} ({given[role]!r}) is missing for respondent(s) "
                f"{_show(rid[empty])}. Fill it in or remove those rows explicitly."
            )
    for col in out.columns:
        if col != "weight" and pd.api.types.is_float_dtype(out[col]):
            infinite = np.isinf(out[col].to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                raise DataError(
                    f"survey file {name}: column {col!r} is infinite for respondent(s) "
                    f"{_show(rid[infinite])} (an overflow such as 1e400, or 'inf'). Correct "
                    "those cells or set them missing."
                )
    w = pd.to_numeric(out["weight"], errors="coerce").astype(float)
    problems = []
    for label, mask in (
        ("missing or non-numeric", w.isna()),
        ("zero", w.eq(0)),
        ("negative", w.lt(0)),
        ("infinite", np.isinf(w)),
    ):
        if mask.any():
            problems.append(f"{label} for respondent(s) {_show(rid[mask])}")
    if problems:
        raise DataError(
            f"survey file {name}: weight column {weight!r} must be positive and finite; it is "
            + "; ".join(problems)
            + ". Correct the weights (or remove those respondents explicitly) before reading."
        )
    out["weight"] = w.astype(float)
    t = out["time"]
    if pd.api.types.is_float_dtype(t) and np.all(t == np.round(t)):
        out["time"] = t.astype(np.int64)
    return out.reset_index(drop=True)
