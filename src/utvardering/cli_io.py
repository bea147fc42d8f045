"""Reading, writing and argument parsing for the ``utvardering`` command line.

Kept apart from :mod:`utvardering.cli` (the parser and subcommands) so that each file has one
job. Nothing outside the command line imports this module.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "UserError",
    "check_output_folder",
    "check_writable_file",
    "has_pyarrow",
    "like_column",
    "parse_settings",
    "parse_value",
    "period_arg",
    "read_config_file",
    "read_table",
    "split_list",
    "write_table",
]


class UserError(Exception):
    """A mistake on the command line (reported as ``error: ...``, exit code 2)."""


def read_table(source: str) -> pd.DataFrame:
    """Read a CSV or Parquet file, or load a bundled dataset when ``source`` names one."""
    path = Path(source)
    if path.is_file():
        try:
            if path.suffix.lower() == ".parquet":
                return pd.read_parquet(path)
            return pd.read_csv(path)
        except ImportError as exc:
            raise UserError(f"reading {source!r} needs pyarrow ({exc}); pip install pyarrow.") from exc
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise UserError(f"could not read {source!r}: {exc}") from exc
    from .data.datasets import dataset_names, load_dataset

    if source in dataset_names():
        return load_dataset(source)
    raise UserError(
        f"{source!r} is neither a file nor a bundled dataset; give a CSV/Parquet path or one of "
        f"{', '.join(dataset_names())}."
    )


def _portable(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy with Period columns as text (``"2018-10"``), as the CSV convention stores them."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.PeriodDtype):
            out[col] = out[col].astype(str)
    return out


def has_pyarrow() -> bool:
    """Whether pyarrow (needed for Parquet) is installed."""
    return importlib.util.find_spec("pyarrow") is not None


def write_table(frame: pd.DataFrame, file: str) -> Path:
    """Write ``frame`` as CSV, or Parquet when ``file`` ends in ``.parquet`` (needs pyarrow)."""
    path = Path(file)
    if path.suffix.lower() == ".parquet" and not has_pyarrow():
        raise UserError(
            f"writing Parquet ({file!r}) needs pyarrow, which is not installed: "
            "pip install pyarrow, or give a file name ending in .csv."
        )
    check_writable_file(path)
    data = _portable(frame)
    try:
        if path.suffix.lower() == ".parquet":
            data.to_parquet(path, index=False)
        else:
            data.to_csv(path, index=False)
        truth = frame.attrs.get("truth")
        if truth is not None:
            Path(f"{file}.truth.json").write_text(
                json.dumps(truth, indent=2, ensure_ascii=False, default=str) + "\n",
                encoding="utf-8")
    except OSError as exc:
        raise UserError(f"could not write {file!r}: {exc.strerror or exc}.") from None
    return path


def check_writable_file(path: Path) -> None:
    """Raise :class:`UserError` unless a file can be written at ``path`` (not a folder, the
    folder exists and is writable).
    """
    file = str(path)
    if path.is_dir():
        raise UserError(f"{file!r} is a folder; give a file name (e.g. {str(path / 'data.csv')!r}).")
    if not path.parent.is_dir():
        raise UserError(f"the folder {str(path.parent)!r} for {file!r} does not exist; create it "
                        "first.")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"cannot write {file!r}: no permission to write in {str(path.parent)!r} "
                        "(or the file is read-only); choose another location.")


def check_output_folder(folder: str | Path, flag: str = "--out", create: bool = False) -> Path:
    """Raise :class:`UserError` unless ``folder`` is, or can be created as, a writable folder
    (with ``create=True`` it is created).
    """
    path = Path(folder).expanduser()
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {str(folder)!r} is an existing file, not a folder; give a folder "
                        "(it is created if needed).")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {str(folder)!r} cannot be written: no permission to write in "
                        f"{str(existing)!r} (read-only file system or folder); choose another "
                        "folder.")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{flag} {str(folder)!r} cannot be created: "
                            f"{exc.strerror or exc}.") from None
    return path


def read_config_file(file: str | Path) -> dict:
    """Read a TOML configuration given on the command line; errors as one-line UserErrors."""
    import tomllib

    path = Path(file).expanduser()
    if path.is_dir():
        raise UserError(f"--config {str(file)!r} is a folder; give a TOML file.")
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UserError(f"--config {str(file)!r} does not exist.") from None
    except OSError as exc:
        raise UserError(f"--config {str(file)!r} cannot be read: {exc.strerror or exc}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"--config {str(file)!r} is not valid TOML: {exc}.") from None


def parse_value(text: str) -> Any:
    """A ``--set`` value: JSON when it parses (numbers, true/false, null, lists), else text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_settings(items: Sequence[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` to a dict, values through :func:`parse_value`."""
    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item!r} is not key=value (e.g. --set n_placebos=200).")
        options[key.strip()] = parse_value(value)
    return options


def split_list(text: str | None) -> list[str] | None:
    """``"A, B"`` to ``["A", "B"]`` (``None`` stays ``None``)."""
    return None if text is None else [v.strip() for v in text.split(",") if v.strip()]


def like_column(values: list[str] | None, column: pd.Series) -> list | None:
    """Convert unit names typed on the command line to the unit column's type."""
    if values is None:
        return None
    if pd.api.types.is_integer_dtype(column):
        caster = int
    elif pd.api.types.is_float_dtype(column):
        caster = float
    else:
        return values
    try:
        return [caster(v) for v in values]
    except ValueError:
        return values


def period_arg(text: str | None, column: pd.Series) -> Any:
    """``--start 1989`` is an integer when the time column holds integers (e.g. years)."""
    if text is not None and pd.api.types.is_integer_dtype(column) and text.strip().lstrip("-").isdigit():
        return int(text)
    return text
