"""Reader for Brå reported-crime exports ("anmälda brott").

Brå (Brottsförebyggande rådet, the Swedish National Council for Crime Prevention) publishes
the official statistics on reported crime. Its statistics database exports a table with the
offence hierarchy as rows and periods as columns. This module turns such a monthly export into
a tidy long frame, one row per offence × area × month.

Assumed layout (written from the public exports; real files vary a little, hence the checks)::

    Anmälda brott, Malmö kommun, 2021, per månad                 <- title lines (any number)
    Område: Malmö kommun                                          <- optional area line
    Källa: Brottsförebyggande rådet (Brå)
                                                                  <- blank line(s)
    Brottskod;Brott;2021 januari;2021 februari;...;2021 december*  <- header row
    ;Samtliga brott;3 512;3 188;...                               <- offence rows; hierarchy by
    ;  Brott mot person (3-7 kap. BrB);612;588;...                   leading spaces (or by one
    0375;    Misshandel inkl. grov;201;184;...                       label column per level)
    ;    Våldtäkt inkl. grov;..;x;...                             <- suppression markers
                                                                  <- blank line ends the table
    * Preliminära uppgifter                                       <- footnotes

- Separator ``;`` (tab and ``,`` are tried if no header row is found with ``;``).
- Encoding UTF-8 (with or without BOM), Windows-1252 or Latin-1, detected from the bytes.
- Month headers: ``2021 januari``, ``januari 2021``, ``2021 jan``, ``2021M01``, ``2021-01``
  (Swedish or English month names, any case). A trailing ``*`` or ``(prel.)`` marks a
  preliminary month; a title or footnote line mentioning "preliminär" without any starred
  column marks every month preliminary.
- Numbers: digits with space / no-break-space thousands separators and a decimal comma
  (``10 234``, ``12,5``).
- Markers: ``..`` (not available / too uncertain), ``.`` (cannot occur), ``x`` (confidential),
  ``…``, and ``-`` / ``–``. In the convention of Swedish official statistics a dash means
  *zero*; because a misread suppression turned into zeros would bias an evaluation silently, the
  default treats dashes as suppressed like the other markers; pass ``dash="zero"`` when the
  file's legend says the dash means zero.
"""

from __future__ import annotations

import csv
import io
import os
import re
from typing import IO, Literal

import numpy as np
import pandas as pd

from ...errors import DataError
from ._text import parse_month_label, read_text, source_name

__all__ = ["read_bra_export"]

MARKERS = frozenset({"..", ".", "x", "X", "…", "-", "–", "—"})
DASHES = frozenset({"-", "–", "—"})
TOTAL_LABELS = frozenset({"totalt", "total", "summa", "hela året", "helår", "år totalt"})
_YEARISH = re.compile(r"(19|20)\d\d")
_NUMBER = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?$|^\d+(?:,\d+)?$")
_AREA_LINE = re.compile(r"^\s*(område|region|kommun|geografi|area)\s*:\s*(.+?)\s*$", re.IGNORECASE)
_AREA_HEADER = re.compile(
    r"^(område|region|kommun|area|län|stadsdel|polisområde|geografi)", re.IGNORECASE
)
_CODE_HEADER = re.compile(r"kod|code", re.IGNORECASE)
_CODE_VALUE = re.compile(r"^\d{1,5}[A-Za-z]?$")


def _clip(text: str, limit: int = 30) -> str:
    """``text`` shortened for a message (``'99999…(400 characters)'``)."""
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} characters)"


# ----------------------------------------------------------------------------- layout
def _find_header(rows: list[list[str]]) -> int | None:
    for i, row in enumerate(rows):
        if any(parse_month_label(c) for c in row if c.strip()):
            return i
    return None


def _split_rows(text: str) -> tuple[list[list[str]], list[int], str, int]:
    """Split text with the first separator that yields a month header row."""
    for sep in (";", "\t", ","):
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        rows, line_numbers = [], []
        for row in reader:
            rows.append(row)
            line_numbers.append(reader.line_num)
        header = _find_header(rows)
        if header is not None:
            return rows, line_numbers, sep, header
    return [], [], ";", -1


def _month_columns(header: list[str], first: int, where: str, line: int) -> tuple:
    """Positions, periods and preliminary flags of the month columns; totals and blanks."""
    month_cols: list[int] = []
    periods: list[pd.Period] = []
    prelim_cols: list[bool] = []
    ignored: list[str] = []
    empty_cols: list[int] = []
    for j in range(first, len(header)):
        c = header[j]
        if not c:
            empty_cols.append(j)
            continue
        if c.lower().rstrip("*").strip() in TOTAL_LABELS:
            ignored.append(c)
            continue
        parsed = parse_month_label(c)
        if parsed is None:
            raise DataError(
                f"{where}: unparseable month header {c!r} (column {j + 1}, line {line}). "
                "Write month headers as '2021 januari', '2021M01' or '2021-01'."
            )
        month_cols.append(j)
        periods.append(parsed[0])
        prelim_cols.append(parsed[1])
    index = pd.Index(periods)
    if index.duplicated().any():
        raise DataError(
            f"{where}: month column(s) {sorted({str(p) for p in index[index.duplicated()]})} "
            "appear more than once in the header. Remove the repeated columns."
        )
    return month_cols, periods, prelim_cols, ignored, empty_cols


def _check_complete(rows: list[list[str]], line_no: list[int], h: int, width: int,
                    first_month: int, text: str, where: str) -> None:
    """Refuse a file that was cut off (an interrupted download) or a row that lost cells.

    Every row of an export has as many fields as the header. A row below the header with
    more than one field but fewer than the header's (for example a last line cut in the
    middle, ``0300;    Misshandel in``), or a last line with its offence label but no
    separator before the months, means the table is incomplete: its missing months would
    otherwise be read as blank and its missing rows would vanish.
    """
    for k in range(h + 1, len(rows)):
        filled = [c for c in rows[k] if c.strip()]
        if 1 < len(rows[k]) < width and filled:
            last = k == max(i for i, r in enumerate(rows) if any(c.strip() for c in r))
            raise DataError(
                f"{where}: line {line_no[k]} has {len(rows[k])} fields but the header has "
                f"{width}"
                + (" and it is the last line: the file looks cut off (an interrupted "
                   "download). Download the export again."
                   if last else ": a row lost cells or separators. Re-export the table; every "
                   "row needs a cell (a number or a marker such as '..') for every month.")
            )
    if text and not text.endswith(("\n", "\r")) and len(rows) > h + 1:
        tail = rows[-1]
        if len(tail) == 1 and tail[0].strip() and first_month > 1 and \
                _CODE_VALUE.match(tail[0].strip()):
            raise DataError(
                f"{where}: the file ends in the middle of line {line_no[-1]} "
                f"({tail[0].strip()!r}): it looks cut off (an interrupted download). "
                "Download the export again."
            )


def _table_rows(
    rows: list[list[str]],
    h: int,
    line_no: list[int],
    width: int,
    month_cols: list[int],
    empty_cols: list[int],
    first_month: int,
    where: str,
) -> tuple[list[list[str]], list[int], int]:
    """Data rows under the header up to the first row without values; checks the rest."""
    body, body_lines = [], []
    end = len(rows)
    for k in range(h + 1, len(rows)):
        row = rows[k] + [""] * (width - len(rows[k]))
        if not any(row[j].strip() for j in month_cols):
            end = k
            break
        extra = [c for c in row[width:] if c.strip()]
        if extra or any(row[j].strip() for j in empty_cols):
            raise DataError(
                f"{where}: line {line_no[k]} has values under no header ({extra or ''}). "
                "Check that every row has the same number of separators as the header."
            )
        body.append(row[:width])
        body_lines.append(line_no[k])
    for k in range(end, len(rows)):
        row = rows[k]
        if any(parse_month_label(c) for c in row if c.strip()) or (
            len(row) > first_month and any(_NUMBER.match(c.strip()) for c in row[first_month:])
        ):
            raise DataError(
                f"{where}: line {line_no[k]} looks like a data row but comes after the end of "
                f"the table (line {line_no[end]} has no values). Remove blank or footnote lines "
                "inside the table, or give the row its values."
            )
    if not body:
        raise DataError(f"{where}: the table under the header has no rows with values.")
    return body, body_lines, end


def _label_roles(headers: list[str], body: list[list[str]]) -> dict[str, list[int]]:
    roles: dict[str, list[int]] = {"code": [], "area": [], "offence": []}
    for j, name in enumerate(headers):
        values = [r[j].strip() for r in body if r[j].strip()]
        if _CODE_HEADER.search(name) or (
            not name and values and all(_CODE_VALUE.match(v) for v in values)
        ):
            roles["code"].append(j)
        elif name and _AREA_HEADER.match(name):
            roles["area"].append(j)
        else:
            roles["offence"].append(j)
    return roles


def _hierarchy(body: list[list[str]], columns: list[int]) -> tuple[list[str], list[int]]:
    """Offence label and level per row: rightmost filled label column, or indentation."""
    if len(columns) > 1:
        labels, levels = [], []
        for r in body:
            filled = [k for k, j in enumerate(columns) if r[j].strip()]
            k = filled[-1] if filled else 0
            labels.append(r[columns[k]].strip())
            levels.append(k)
        return labels, levels
    j = columns[0]
    raw = [r[j].replace("\t", "    ").replace("\u00a0", " ") for r in body]
    indents = [len(s) - len(s.lstrip(" ")) for s in raw]
    rank = {v: k for k, v in enumerate(sorted(set(indents)))}
    return [s.strip() for s in raw], [rank[v] for v in indents]


def _parents(labels: list[str], levels: list[int], areas: list[str]) -> list[str | None]:
    """Label of the nearest row above at a lower level, within the same area."""
    stack: list[tuple[int, str]] = []
    parents: list[str | None] = []
    for k, (label, level) in enumerate(zip(labels, levels)):
        if k and areas[k] != areas[k - 1]:
            stack = []
        while stack and stack[-1][0] >= level:
            stack.pop()
        parents.append(stack[-1][1] if stack else None)
        stack.append((level, label))
    return parents


def _parse_cells(cells: pd.DataFrame, dash: str, where: str) -> tuple[pd.DataFrame, ...]:
    """Vectorised parse of the month cells into values, suppression flags and markers."""
    stripped = cells.apply(lambda s: s.str.strip())
    is_marker = stripped.isin(list(MARKERS))
    if dash == "zero":
        is_zero = stripped.isin(list(DASHES))
        is_marker &= ~is_zero
    else:
        is_zero = pd.DataFrame(False, index=cells.index, columns=cells.columns)
    is_blank = stripped.eq("")
    is_number = stripped.apply(lambda s: s.str.match(_NUMBER.pattern))
    bad = ~(is_marker | is_zero | is_blank | is_number)
    if bad.to_numpy().any():
        r, c = np.nonzero(bad.to_numpy())
        shown = [
            f"row {cells.index[i]!r}, column {cells.columns[j]!r}: {stripped.iat[i, j]!r}"
            for i, j in zip(r[:5], c[:5])
        ]
        raise DataError(
            f"{where}: {len(r)} cell(s) are neither numbers nor suppression markers: "
            + "; ".join(shown)
            + ". Numbers may use space thousands separators and a decimal comma ('10 234', "
            "'12,5'); markers are '..', '.', 'x', '…', '-'. Correct or blank the cell(s)."
        )
    numeric = stripped.where(is_number, "").apply(
        lambda s: s.str.replace(r"[ \u00a0\u202f]", "", regex=True).str.replace(",", ".")
    )
    values = numeric.apply(pd.to_numeric, errors="coerce").mask(is_zero, 0.0)
    markers = stripped.where(is_marker)
    return values, is_marker, markers


def read_bra_export(
    path_or_buffer: str | os.PathLike | bytes | IO,
    *,
    area: str | None = None,
    encoding: str | None = None,
    dash: Literal["suppressed", "zero"] = "suppressed",
) -> pd.DataFrame:
    """Read a Brå monthly reported-crime export into a tidy long frame.

    Parameters
    ----------
    path_or_buffer : str, path-like, bytes or file-like
        The exported ``.csv`` / ``.txt`` file (layout in the module docstring).
    area : str, optional
        The area the table describes. Needed when the file has neither an area column
        (``Område``, ``Region``, ``Kommun``, ...) nor an ``Område: ...`` title line; overrides
        such a title line. Not allowed together with an area column.
    encoding : str, optional
        Force the text encoding; by default UTF-8 (with BOM), Windows-1252 and Latin-1 are
        detected.
    dash : {"suppressed", "zero"}, default "suppressed"
        How to read a cell holding only a dash: as a suppressed value (missing, flagged) or as
        zero, the convention of Swedish official statistics.

    Returns
    -------
    pandas.DataFrame
        One row per offence × area × month, in table order, with columns ``offence`` (label
        without indentation), ``offence_code`` (only when the file has a code column),
        ``level`` (0 = top of the hierarchy), ``parent`` (label of the enclosing offence row),
        ``area``, ``time`` (``Period[M]``), ``count`` (``Int64`` when every value is whole,
        else ``float64``; missing where suppressed or blank), ``suppressed`` (bool),
        ``marker`` (the symbol found in a suppressed cell) and ``preliminary`` (bool).
        ``attrs`` holds ``encoding``, ``separator``, ``title``, ``footnotes`` and
        ``ignored_columns`` (total columns such as ``Totalt``, which are not read).

    Raises
    ------
    DataError
        No month columns; a header that looks like a period but cannot be parsed (named);
        duplicate month columns; a non-numeric cell (named by row label, column and value);
        duplicate offence rows; data rows after the end of the table; no area.

    Notes
    -----
    Rows at different levels of the hierarchy overlap (``Samtliga brott`` contains every
    other row), so never sum ``count`` across levels; filter on ``level`` or ``offence_code``
    first. The offence codes (brottskoder) are revised yearly, so check that a code means the
    same over the whole period before building a series from it.

    Examples
    --------
    >>> from utvardering.data.sources import example_path, read_bra_export
    >>> df = read_bra_export(example_path("bra_example.csv"))
    >>> df.columns.tolist()[:4]
    ['offence', 'offence_code', 'level', 'parent']
    """
    if dash not in ("suppressed", "zero"):
        raise ValueError(f"dash must be 'suppressed' or 'zero', got {dash!r}")
    name = source_name(path_or_buffer)
    text, used_encoding = read_text(path_or_buffer, encoding)
    rows, line_no, sep, h = _split_rows(text)
    if h < 0:
        first = [ln for ln in text.splitlines() if ln.strip()][:3]
        raise DataError(
            f"Brå export {name}: no month columns found (looked for headers like "
            f"'2021 januari', '2021M01', '2021-01'; first lines: {first}). This reader reads "
            "monthly tables; export the table with months as columns."
        )
    header = [c.strip() for c in rows[h]]
    first_month = next(j for j, c in enumerate(header) if c and parse_month_label(c))
    for j, c in enumerate(header[:first_month]):
        if _YEARISH.search(c):
            raise DataError(
                f"Brå export {name}: unparseable month header {c!r} (column {j + 1}, line "
                f"{line_no[h]}). Write month headers as '2021 januari', '2021M01' or '2021-01'."
            )
    month_cols, periods, prelim_cols, ignored, empty_cols = _month_columns(
        header, first_month, f"Brå export {name}", line_no[h]
    )
    _check_complete(rows, line_no, h, len(header), first_month, text, f"Brå export {name}")
    body, body_lines, end = _table_rows(
        rows, h, line_no, len(header), month_cols, empty_cols, first_month, f"Brå export {name}"
    )
    footer = rows[end:]

    roles = _label_roles(header[:first_month], body)
    if not roles["offence"]:
        raise DataError(
            f"Brå export {name}: no offence label column before the month columns (found "
            f"{header[:first_month]}). The first columns must hold the offence labels."
        )
    labels, levels = _hierarchy(body, roles["offence"])
    unlabelled = [ln for ln, lab in zip(body_lines, labels) if not lab]
    if unlabelled:
        raise DataError(
            f"Brå export {name}: row(s) on line(s) {unlabelled[:8]} have values but no offence "
            "label. Give every row its label (or remove it)."
        )
    codes = [r[roles["code"][0]].strip() or None for r in body] if roles["code"] else None
    title = [" ".join(c.strip() for c in r if c.strip()) for r in rows[:h]]
    title = [t for t in title if t]
    footnotes = [" ".join(c.strip() for c in r if c.strip()) for r in footer]
    footnotes = [t for t in footnotes if t]

    if roles["area"]:
        if area is not None:
            raise DataError(
                f"Brå export {name}: the table has an area column "
                f"({header[roles['area'][0]]!r}); do not pass area= as well."
            )
        areas = [r[roles["area"][0]].strip() for r in body]
    else:
        found = [m.group(2) for t in title if (m := _AREA_LINE.match(t))]
        chosen = area if area is not None else (found[0] if found else None)
        if chosen is None:
            raise DataError(
                f"Brå export {name}: no area found (no area column and no 'Område: ...' line). "
                "Pass area='Malmö kommun' (or the area the table describes)."
            )
        areas = [chosen] * len(body)

    parents = _parents(labels, levels, areas)
    key = pd.DataFrame(
        {"area": areas, "code": codes or [None] * len(body), "parent": parents, "label": labels}
    )
    key_cols = ["area", "code"] if codes and all(codes) else ["area", "parent", "label"]
    dup = key.duplicated(key_cols, keep=False)
    if dup.any():
        shown = [f"{labels[i]!r} (line {body_lines[i]})" for i in np.flatnonzero(dup)[:6]]
        raise DataError(
            f"Brå export {name}: duplicate offence rows: {', '.join(shown)}. Each offence may "
            "appear once per area and parent; remove the repeated rows."
        )

    row_names = [f"{lab} (line {ln})" for lab, ln in zip(labels, body_lines)]
    cells = pd.DataFrame(
        [[r[j] for j in month_cols] for r in body],
        index=row_names,
        columns=[header[j] for j in month_cols],
        dtype=object,
    ).astype(str)
    values, suppressed, markers = _parse_cells(cells, dash, f"Brå export {name}")

    all_prelim = not any(prelim_cols) and any("prelimin" in t.lower() for t in title + footnotes)
    n_rows, n_months = len(body), len(month_cols)
    out = pd.DataFrame(
        {
            "offence": np.repeat(labels, n_months),
            **(
                {"offence_code": np.repeat(np.array(codes, dtype=object), n_months)}
                if codes
                else {}
            ),
            "level": np.repeat(np.asarray(levels, dtype=np.int64), n_months),
            "parent": np.repeat(np.array(parents, dtype=object), n_months),
            "area": np.repeat(areas, n_months),
            "time": pd.PeriodIndex(periods * n_rows, freq="M"),
        }
    )
    count = values.to_numpy(dtype=float).ravel()
    huge = np.abs(np.nan_to_num(count)) >= 2.0**53  # also inf: hundreds of digits
    if huge.any():
        i, j = divmod(int(np.flatnonzero(huge)[0]), len(month_cols))
        raise DataError(
            f"Brå export {name}: {int(huge.sum())} cell(s) hold numbers too large to be counts "
            f"(at least 2^53), e.g. row {cells.index[i]!r}, column {cells.columns[j]!r}: "
            f"{_clip(cells.iat[i, j].strip())!r}. The cell is corrupt (merged cells or a lost "
            "separator?); correct it from the published table."
        )
    missing = np.isnan(count)
    whole = np.all(count[~missing] == np.round(count[~missing]))
    out["count"] = (
        pd.arrays.IntegerArray(np.where(missing, 0, count).astype(np.int64), missing)
        if whole
        else count
    )
    out["suppressed"] = suppressed.to_numpy().ravel()
    out["marker"] = pd.Series(markers.to_numpy().ravel(), dtype=object).where(
        out["suppressed"].to_numpy(), None
    )
    out["preliminary"] = np.tile(np.asarray(prelim_cols) | all_prelim, n_rows)
    out.attrs.update(
        {
            "source": name,
            "encoding": used_encoding,
            "separator": sep,
            "title": title,
            "footnotes": footnotes,
            "ignored_columns": ignored,
        }
    )
    return out
