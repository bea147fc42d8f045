"""Text helpers shared by the readers: encoding detection and Swedish month labels."""

from __future__ import annotations

import codecs
import json
import os
import re
from pathlib import Path
from typing import IO

import pandas as pd

from ...errors import DataError

__all__ = ["MONTHS", "parse_month_label", "read_json", "read_text", "source_name"]

MONTHS = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "feb": 2,
    "mars": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "maj": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "augusti": 8, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip

# å ä ö Å Ä Ö encoded as UTF-8: their presence in a file that is not valid UTF-8 means a
# corrupted or mixed-encoding file, which a Windows-1252 fallback would turn into mojibake.
_UTF8_SWEDISH = tuple("åäöÅÄÖ".encode()[i : i + 2] for i in range(0, 12, 2))
_PRELIM = re.compile(r"\s*(\*|\(prel\.?\)|prel\.?)\s*$", re.IGNORECASE)
_YM_NUM = re.compile(r"^(\d{4})\s*(?:M|-|/)\s*(\d{1,2})$", re.IGNORECASE)
_Y_NAME = re.compile(r"^(\d{4})\s+([a-zåäö]+)\.?$", re.IGNORECASE)
_NAME_Y = re.compile(r"^([a-zåäö]+)\.?\s+(\d{4})$", re.IGNORECASE)


def read_text(
    source: str | os.PathLike | bytes | IO, encoding: str | None = None
) -> tuple[str, str]:
    """Read a text file whose encoding may be UTF-8 (with BOM), Windows-1252 or Latin-1.

    Parameters
    ----------
    source : str, path-like, bytes or file-like
        A path, the raw bytes, or an open binary or text file.
    encoding : str, optional
        Force an encoding; otherwise it is detected: a UTF-8 / UTF-16 byte-order mark, then a
        strict UTF-8 decode, then Windows-1252, then Latin-1 (which never fails). Bytes that
        do not fit a forced or BOM-declared encoding raise :class:`DataError`.

    Returns
    -------
    text : str
        The decoded text without a byte-order mark.
    encoding : str
        The encoding used.
    """
    if isinstance(source, str | os.PathLike):
        raw: bytes | str = Path(source).read_bytes()
    elif isinstance(source, bytes | bytearray):
        raw = bytes(source)
    elif hasattr(source, "read"):
        raw = source.read()
    else:
        raise TypeError(f"expected a path, bytes or a file object, got {type(source).__name__}")
    if isinstance(raw, str):
        return raw.lstrip("\ufeff"), "str"
    declared = encoding
    if declared is None and raw.startswith(codecs.BOM_UTF8):
        declared = "utf-8-sig"
    elif declared is None and raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        declared = "utf-16"
    if declared is not None:
        try:
            return raw.decode(declared).lstrip("\ufeff"), declared
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{source_name(source)}: byte {exc.start} is not valid {declared} "
                f"({'as requested' if encoding else 'as its byte-order mark declares'}). "
                "Re-export the file in one encoding, or pass the right encoding=."
            ) from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if any(seq in raw for seq in _UTF8_SWEDISH):
            raise DataError(
                f"{source_name(source)}: mixed encodings: the file has UTF-8 letters (å, ä, ö) "
                f"but byte {exc.start} is not UTF-8. Re-export the file in one encoding."
            ) from None
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def source_name(source: object) -> str:
    """A short name of a data source for error messages (file name or type)."""
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return getattr(source, "name", None) or f"<{type(source).__name__}>"


def parse_month_label(label: str) -> tuple[pd.Period, bool] | None:
    """Parse a month header such as ``"2021 januari"``, ``"2021M01"`` or ``"jan 2021*"``.

    Parameters
    ----------
    label : str
        The header text.

    Returns
    -------
    (pandas.Period, bool) or None
        The monthly period and whether the label carries a preliminary marker (``*``,
        ``(prel.)``), or None when the label is not a month.
    """
    text = str(label).strip()
    prelim = bool(_PRELIM.search(text))
    text = _PRELIM.sub("", text).strip()
    year = month = None
    if m := _YM_NUM.match(text):
        year, month = int(m.group(1)), int(m.group(2))
    elif m := _Y_NAME.match(text):
        year, month = int(m.group(1)), MONTHS.get(m.group(2).lower())
    elif m := _NAME_Y.match(text):
        year, month = int(m.group(2)), MONTHS.get(m.group(1).lower())
    if year is None or month is None or not 1 <= month <= 12:
        return None
    return pd.Period(year=year, month=month, freq="M"), prelim


def read_json(source: str | os.PathLike | bytes | IO, what: str) -> tuple[object, str]:
    """Parse JSON from a path, bytes, JSON text or a file; errors become DataError.

    JSON is UTF-8 (RFC 8259); a byte-order mark is accepted. ``what`` names the source
    kind in messages (e.g. ``"police events"``).
    """
    if isinstance(source, str) and source.lstrip()[:1] in ("[", "{"):
        raw: bytes | str = source
        name = "<json text>"
    elif isinstance(source, str | os.PathLike):
        raw, name = Path(source).read_bytes(), Path(source).name
    elif isinstance(source, bytes | bytearray):
        raw, name = bytes(source), "<bytes>"
    elif hasattr(source, "read"):
        raw, name = source.read(), source_name(source)
    else:
        raise TypeError(f"expected a path, JSON text, bytes or a file, got {type(source).__name__}")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{what} {name}: not UTF-8 (byte {exc.start}); JSON responses are UTF-8. Save "
                "the response as it came, without re-encoding."
            ) from None
    try:
        return json.loads(raw), name
    except RecursionError:
        raise DataError(
            f"{what} {name}: the JSON is nested too deeply to read (thousands of levels); no "
            "real response is. The file is corrupt or not what it claims to be."
        ) from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{what} {name}: not valid JSON ({exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}). Save the response unchanged or fetch it again."
        ) from None
