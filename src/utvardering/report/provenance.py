"""Provenance records: what produced a set of results, so that a run can be repeated exactly.

A record holds the versions of Python and the scientific packages, the git commit of the
code (and whether the work tree was dirty), the SHA-256 of every input file, the seeds, the
fully resolved configuration and step timings. :func:`write_provenance` stores it as JSON
beside the outputs.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..serialize import encode

__all__ = [
    "git_state",
    "package_versions",
    "provenance_record",
    "sha256_file",
    "sha256_frame",
    "write_provenance",
]

_PACKAGES = ("utvardering", "numpy", "scipy", "pandas", "statsmodels", "pymc", "pytensor", "arviz",
             "matplotlib", "numba", "polyagamma", "nutpie")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_frame(frame: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame's content (values, index, column names and dtypes).

    Stable across runs and machines for the same data: the frame is hashed row-wise with
    :func:`pandas.util.hash_pandas_object` together with its column names and dtypes.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(json.dumps([str(t) for t in frame.dtypes]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def package_versions(packages: Iterable[str] = _PACKAGES) -> dict[str, str | None]:
    """Installed versions of the given distributions (``None`` when not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(directory: str | Path | None = None) -> dict[str, Any]:
    """Git commit and dirty flag of the repository holding ``directory`` (``None`` s outside git)."""
    cwd = Path(directory) if directory else Path(__file__).resolve().parent

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "--no-optional-locks", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def provenance_record(
    *,
    config: Mapping[str, Any],
    inputs: Mapping[str, str | Path | pd.DataFrame] = (),
    seeds: Mapping[str, int] | None = None,
    timings: Mapping[str, float] | None = None,
    command: list[str] | None = None,
    log: str | None = None,
) -> dict[str, Any]:
    """Build a JSON-serialisable provenance record.

    Parameters
    ----------
    config : mapping
        The fully resolved configuration of the run.
    inputs : mapping of name to path or DataFrame
        Input files (hashed from their bytes) or in-memory tables (hashed from content).
    seeds : mapping, optional
        Named random seeds used.
    timings : mapping, optional
        Wall time per step, in seconds.
    command : list of str, optional
        The command line (defaults to ``sys.argv``).
    log : str, optional
        File name of the run's step log (e.g. ``"run.log"``), relative to the record.

    Returns
    -------
    dict
        ``created`` (UTC time, to the minute), ``packages``, ``platform``, ``git``, ``inputs`` (name → {kind, sha256, ...}),
        ``seeds``, ``config``, ``timings``, ``command`` and, when given, ``log``.
    """
    hashed = {}
    for name, source in dict(inputs).items():
        if isinstance(source, pd.DataFrame):
            hashed[name] = {"kind": "table", "sha256": sha256_frame(source), "shape": list(source.shape)}
        else:
            path = Path(source)
            hashed[name] = {"kind": "file", "path": str(path), "sha256": sha256_file(path),
                            "bytes": path.stat().st_size}
    return {
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "packages": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "python": sys.version.split()[0]},
        "git": git_state(),
        "inputs": hashed,
        "seeds": dict(seeds or {}),
        "config": encode(dict(config)),
        "timings": {k: round(float(v), 3) for k, v in dict(timings or {}).items()},
        "command": list(command if command is not None else sys.argv),
        **({"log": log} if log else {}),
    }


def write_provenance(record: Mapping[str, Any], path: str | Path) -> Path:
    """Write a provenance record as indented JSON (UTF-8) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    return path
