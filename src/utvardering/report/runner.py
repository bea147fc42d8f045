"""Running an analysis reproducibly: configuration, logged steps, timings and provenance.

An analysis script (``analyses/<name>.py``) defines ``run(ctx)`` and a TOML configuration
beside it. :func:`run_analysis` loads the configuration (a user file may override any key of
the default), creates an :class:`AnalysisContext` that times and logs each step, lets the
script fill a :class:`~utvardering.report.document.Report`, and writes the report with a
``provenance.json`` (package versions, git commit, SHA-256 of every input, seeds, the full
resolved configuration and timings). The same inputs and seeds give the same numbers.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import logging
import os
import sys
import time
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .document import Report
from .provenance import provenance_record, write_provenance

__all__ = ["AnalysisContext", "find_analyses_dir", "list_analyses", "load_config", "run_analysis"]

log = logging.getLogger("utvardering.analysis")


def _merge(base: dict, override: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(default: str | Path, override: str | Path | None = None) -> dict[str, Any]:
    """Read a TOML configuration, optionally overridden key by key by a second file."""
    with open(default, "rb") as handle:
        config = tomllib.load(handle)
    if override is not None:
        with open(override, "rb") as handle:
            config = _merge(config, tomllib.load(handle))
    return config


def find_analyses_dir(start: str | Path | None = None) -> Path:
    """Locate the repository's ``analyses/`` folder.

    Looks at ``$UTV_ANALYSES_DIR``, then upwards from ``start`` (default: the working
    directory), then beside the source tree of the installed package (editable installs).
    """
    env = os.environ.get("UTV_ANALYSES_DIR")
    if env:
        return Path(env)
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "analyses").is_dir() and any((folder / "analyses").glob("*.toml")):
            return folder / "analyses"
    source = Path(__file__).resolve().parents[3] / "analyses"
    if source.is_dir():
        return source
    raise FileNotFoundError(
        "could not find the analyses/ folder: run from a clone of the repository or set UTV_ANALYSES_DIR."
    )


def list_analyses(directory: str | Path | None = None) -> list[str]:
    """Names of the analyses (scripts with a TOML configuration beside them)."""
    folder = Path(directory) if directory else find_analyses_dir()
    return sorted(p.stem for p in folder.glob("*.toml") if (folder / f"{p.stem}.py").exists())


@dataclass
class AnalysisContext:
    """What an analysis script receives: configuration, report, step timer and recorded inputs.

    Attributes
    ----------
    name : str
        Analysis name.
    config : dict
        Resolved configuration.
    report : Report
        The report being built.
    quick : bool
        Small draws / few replications (CI and docs builds).
    quiet : bool
        No progress output.
    out : pathlib.Path
        Output folder.
    """

    name: str
    config: dict
    report: Report
    quick: bool = False
    quiet: bool = False
    out: Path = Path("results")
    inputs: dict[str, Any] = field(default_factory=dict)
    seeds: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time and log a named step (``with ctx.step("synthetic control"): ...``)."""
        log.info("[%s] %s ...", self.name, name)
        if not self.quiet and sys.stderr.isatty():
            print(f"  {self.name}: {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - began
            self.timings[name] = self.timings.get(name, 0.0) + elapsed
            log.info("[%s] %s done in %.2f s", self.name, name, elapsed)

    def record_input(self, name: str, source: str | Path | pd.DataFrame) -> None:
        """Record an input file or table so its SHA-256 goes into the provenance."""
        self.inputs[name] = source

    def seed(self, name: str) -> int:
        """The configured seed ``seeds.<name>`` (recorded in the provenance)."""
        value = int(self.config.get("seeds", {}).get(name, self.config.get("seeds", {}).get("default", 0)))
        self.seeds[name] = value
        return value

    def draws(self, full: int, quick: int) -> int:
        """``full`` normally, ``quick`` with ``--quick``."""
        return quick if self.quick else full


def _load_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"utvardering_analysis_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import analysis script {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_analysis(
    name: str,
    *,
    config: str | Path | None = None,
    out: str | Path | None = None,
    quick: bool = False,
    quiet: bool = False,
    lang: str = "en",
    directory: str | Path | None = None,
) -> dict[str, Path]:
    """Run ``analyses/<name>.py`` and write its report and provenance.

    Parameters
    ----------
    name : str
        Analysis name (``"sluta_skjut"``, ``"ordningsvakter_mollevangen"``, ``"drogfri_skola"``).
    config : path, optional
        TOML file overriding keys of the default configuration beside the script.
    out : path, optional
        Output folder (default ``results/<name>``).
    quick : bool
        Small draws and few replications.
    quiet : bool
        No progress output.
    lang : {"en", "sv"}
        Report language.
    directory : path, optional
        Folder holding the analyses (default: :func:`find_analyses_dir`).

    Returns
    -------
    dict
        Output name → path (``report.html``, ``report.md``, ``effects.json``,
        ``provenance.json``, tables and figures).
    """
    folder = Path(directory) if directory else find_analyses_dir()
    script, default = folder / f"{name}.py", folder / f"{name}.toml"
    if not script.exists() or not default.exists():
        known = ", ".join(list_analyses(folder)) or "none"
        raise FileNotFoundError(f"no analysis named {name!r} in {folder}; known: {known}.")
    resolved = load_config(default, config)
    resolved.setdefault("run", {}).update({"quick": quick, "lang": lang})
    target = Path(out) if out else Path("results") / name
    module = _load_script(script)
    report = Report(resolved.get("title", name), lang=lang,
                    suppress_below=resolved.get("privacy", {}).get("suppress_below", 5))
    ctx = AnalysisContext(name, resolved, report, quick=quick, quiet=quiet, out=target)
    began = time.perf_counter()
    module.run(ctx)
    ctx.timings["total"] = time.perf_counter() - began
    written = report.write(target)
    inputs = {"config": default, **({"config_override": Path(config)} if config else {}), **ctx.inputs}
    record = provenance_record(config=resolved, inputs=inputs, seeds=ctx.seeds, timings=ctx.timings)
    written["provenance.json"] = write_provenance(record, target / "provenance.json")
    return written
