"""Running an analysis reproducibly: configuration, logged steps, timings and provenance.

An analysis script (``<name>.py`` in the package's ``utvardering/analyses/`` folder, or in a
folder given explicitly) defines ``run(ctx)`` and a TOML configuration beside it. :func:`run_analysis` loads the configuration (a user file may override any key of
the default), creates an :class:`AnalysisContext` that times and logs each step, lets the
script fill a :class:`~utvardering.report.document.Report`, and writes the report with a
``provenance.json`` (package versions, git commit, SHA-256 of every input, seeds, the full
resolved configuration and timings) and ``run.log`` (every step with its start, end and wall
time, the effects' warnings, and the error if the run failed). On a terminal a progress bar
over the steps is drawn (:class:`~utvardering.progress.StepBar`) and samplers may draw their
own (:func:`utvardering.progress.enabled`); with ``quiet=True`` or when standard error is not a
terminal nothing is drawn. The same inputs and seeds give the same numbers.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
import logging
import os
import sys
import time
import tomllib
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import progress
from .document import Report
from .provenance import provenance_record, write_provenance

__all__ = [
    "PACKAGED_ANALYSES",
    "AnalysisContext",
    "check_analysis_name",
    "check_output_links",
    "find_analyses_dir",
    "list_analyses",
    "load_config",
    "run_analysis",
]

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


#: The analyses shipped with the package (``utvardering/analyses/``).
PACKAGED_ANALYSES = Path(__file__).resolve().parents[1] / "analyses"


def find_analyses_dir(directory: str | Path | None = None) -> Path:
    """The folder the analyses are loaded from: ``directory`` when given, else the package's.

    Analyses are code, so they are loaded only from the installed package
    (``utvardering/analyses/``) or from a folder named explicitly (``--analyses-dir``); never
    from the working directory or its parents.

    Raises
    ------
    FileNotFoundError
        When ``directory`` is not a folder.
    """
    if directory is None:
        return PACKAGED_ANALYSES
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"--analyses-dir {str(directory)!r} is not a folder.")
    return folder.resolve()


def check_analysis_name(name: str) -> str:
    """``name`` when it is a plain analysis name (letters, digits, ``_``, ``-``), else an error.

    A name is never a path: ``../x``, ``a/b`` or an absolute path are refused, so that a run
    loads only ``<folder>/<name>.py`` and writes only below its output folder.
    """
    if not name or not all(c.isalnum() or c in "_-" for c in name) or name.startswith("-"):
        raise ValueError(f"analysis name {name!r} is not a plain name (letters, digits, _ or -; "
                         "no path separators or '..'); give the folder with --analyses-dir.")
    return name


def check_output_links(folder: str | Path) -> None:
    """Refuse an output folder holding symbolic links that lead out of it.

    A run writes ``report.html``, ``effects.json``, ``run.log``, tables and figures into its
    folder with ordinary file writes, which follow links; a link planted there (``run.log`` →
    ``~/.bashrc``) would make the run overwrite a file elsewhere. Links that stay inside the
    folder are harmless and allowed. Only the depth a run writes to is searched
    (``<out>/<name>/figures/<file>``), so a large existing folder is not walked.

    Raises
    ------
    ValueError
        Naming the first link and where it leads.
    """
    root = Path(folder)
    if not root.exists():
        return
    base = root.resolve()
    for parent, dirs, files in os.walk(root, followlinks=False):
        depth = len(Path(parent).relative_to(root).parts)
        if depth >= 2:  # a run writes at most <out>/<name>/figures/<file>: look no deeper
            dirs[:] = []
        for entry in [*dirs, *files]:
            path = Path(parent) / entry
            if path.is_symlink():
                resolved = path.resolve()
                if resolved != base and base not in resolved.parents:
                    raise ValueError(
                        f"the output folder {str(root)!r} holds {str(path)!r}, a symbolic link to "
                        f"{str(resolved)!r} outside it; a run does not write through such links. "
                        "Remove the link or choose a fresh output folder.")


def list_analyses(directory: str | Path | None = None) -> list[str]:
    """Names of the analyses (scripts with a TOML configuration beside them)."""
    folder = find_analyses_dir(directory)
    return sorted(p.stem for p in folder.glob("*.toml")
                  if (folder / f"{p.stem}.py").is_file() and p.stem != "__init__")


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
    bar : StepBar or None
        Progress bar over the steps (drawn only on a terminal).
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
    bar: progress.StepBar | None = None

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time and log a named step (``with ctx.step("synthetic control"): ...``).

        The step is written to the run log when it starts and ends (with its wall time, or
        the error that stopped it) and advances the progress bar.
        """
        log.info("[%s] %s ...", self.name, name)
        if self.bar is not None:
            self.bar.start(name)
        began = time.perf_counter()
        failed = True
        try:
            yield
            failed = False
        finally:
            elapsed = time.perf_counter() - began
            self.timings[name] = self.timings.get(name, 0.0) + elapsed
            if self.bar is not None:
                self.bar.finish()
            if failed:
                log.error("[%s] %s failed after %.2f s", self.name, name, elapsed)
            else:
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


@contextlib.contextmanager
def _run_log(path: Path) -> Iterator[None]:
    """Write every record of the ``utvardering`` loggers (INFO and up) to ``path``.

    Python warnings raised during the run (convergence, numerical) are copied there too;
    they are still shown (or recorded by ``warnings.catch_warnings``) as before.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s",
                                           datefmt="%Y-%m-%dT%H:%M:%S"))
    package = logging.getLogger("utvardering")
    copies = logging.getLogger("utvardering_run_log.warnings")  # outside the package: not re-shown
    copies.propagate = False
    level = package.level
    # a third party's logging.config.dictConfig (Dask's distributed does one on import) disables
    # every logger that existed before it; the run log must still receive the library's records
    disabled = [logger for name, logger in logging.root.manager.loggerDict.items()
                if name.startswith("utvardering") and isinstance(logger, logging.Logger)
                and logger.disabled]
    for logger in disabled:
        logger.disabled = False
    package.addHandler(handler)
    copies.addHandler(handler)
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    previous = warnings.showwarning

    def tee(message, category, filename, lineno, file=None, line=None):
        copies.warning("%s", warnings.formatwarning(message, category, filename, lineno, line).strip())
        previous(message, category, filename, lineno, file, line)

    warnings.showwarning = tee
    try:
        yield
    finally:
        warnings.showwarning = previous
        copies.removeHandler(handler)
        package.removeHandler(handler)
        package.setLevel(level)
        for logger in disabled:
            logger.disabled = True
        handler.close()


def _log_summary(ctx: AnalysisContext) -> None:
    """Step timings and every effect's warnings, at the end of the run log."""
    for step, seconds in ctx.timings.items():
        log.info("[%s] timing %-40s %9.2f s", ctx.name, step, seconds)
    for label_, effect in ctx.report.effects.items():
        for warning in (effect.diagnostics or {}).get("warnings", []) or []:
            log.info("[%s] warning from %s: %s", ctx.name, label_, warning)


def _previous_timings(path: Path, quick: bool) -> dict[str, float]:
    """Step times of the last run into the same folder with the same ``quick`` (for the ETA)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if record.get("config", {}).get("run", {}).get("quick") != quick:
        return {}
    return {k: float(v) for k, v in record.get("timings", {}).items() if k != "total"}


def run_analysis(
    name: str,
    *,
    config: str | Path | None = None,
    out: str | Path | None = None,
    quick: bool = False,
    quiet: bool = False,
    lang: str = "en",
    directory: str | Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, Path]:
    """Run the analysis ``<name>.py`` and write its report, provenance and run log.

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
        Folder holding the analyses (default: the package's own, :data:`PACKAGED_ANALYSES`).
    show_progress : bool, optional
        Draw the step bar on standard error and let samplers draw theirs. Default: when
        standard error is a terminal and ``quiet`` is false. ``quiet=True`` always wins.

    Returns
    -------
    dict
        Output name → path (``report.html``, ``report.md``, ``effects.json``,
        ``provenance.json``, ``run.log``, tables and figures).

    Notes
    -----
    The script may declare ``STEPS`` (the names of its steps) so that the bar shows
    ``k/N``; a previous run into the same folder (same ``quick``) gives the time left. ``run.log`` is written even when the analysis fails (the error is its last line).
    """
    check_analysis_name(name)
    folder = find_analyses_dir(directory)
    script, default = folder / f"{name}.py", folder / f"{name}.toml"
    if not script.exists() or not default.exists():
        known = ", ".join(list_analyses(folder)) or "none"
        raise FileNotFoundError(f"no analysis named {name!r} in {folder}; known: {known}.")
    resolved = load_config(default, config)
    resolved.setdefault("run", {}).update({"quick": quick, "lang": lang})
    target = Path(out) if out else Path("results") / name
    check_output_links(target)
    module = _load_script(script)
    from ..i18n import get_language

    report = Report(get_language(lang).gettext(resolved.get("title", name)), lang=lang,
                    suppress_below=resolved.get("privacy", {}).get("suppress_below", 5))
    draw = (not quiet) and (progress.is_terminal(sys.stderr) if show_progress is None else show_progress)
    steps = getattr(module, "STEPS", None)
    bar = progress.StepBar(name, len(steps) if steps else None, stream=sys.stderr, draw=draw,
                           expected=_previous_timings(target / "provenance.json", quick))
    ctx = AnalysisContext(name, resolved, report, quick=quick, quiet=quiet, out=target, bar=bar)
    log_path = target / "run.log"
    with _run_log(log_path):
        log.info("[%s] run: quick=%s lang=%s out=%s config=%s", name, quick, lang, target,
                 config or default)
        began = time.perf_counter()
        try:
            with bar, progress.enable(draw):
                module.run(ctx)
        except BaseException as exc:
            log.error("[%s] failed after %.2f s: %s: %s", name, time.perf_counter() - began,
                      type(exc).__name__, exc)
            raise
        ctx.timings["total"] = time.perf_counter() - began
        _log_summary(ctx)
        inputs = {"config": default, **({"config_override": Path(config)} if config else {}),
                  **ctx.inputs}
        record = provenance_record(config=resolved, inputs=inputs, seeds=ctx.seeds,
                                   timings=ctx.timings, log=log_path.name)
        written = report.write(target, generated=record["created"])
        written["provenance.json"] = write_provenance(record, target / "provenance.json")
        log.info("[%s] finished in %.2f s; report %s", name, ctx.timings["total"],
                 written["report.html"])
    written["run.log"] = log_path
    return written
