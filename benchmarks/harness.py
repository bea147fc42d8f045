"""Timing utilities shared by the benchmark scripts.

Every measurement runs in a fresh Python subprocess (ours in the project's interpreter, the
peers' in ``benchmarks/.venv-peers``), so imports, JIT caches and peak memory of one task do
not leak into another and a slow peer can be stopped by a timeout. Inside the subprocess a
small driver executes ``setup`` (imports, data loading — not timed), runs ``stmt`` once as a
warm-up, then ``repeats`` more times, and reports the median wall time, the process's peak
resident memory (``ru_maxrss``) and the increase of that peak over the level reached after
``setup`` (the memory the timed work needed), plus a dict of numbers from ``result`` (an
expression evaluated after the last run) so our estimates can be set against the peer's.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = RESULTS / "data"
MARK = "@@BENCH-RESULT@@"
#: suffix for partial runs (``--quick`` / ``--only``) so they never overwrite a full run's file
TAG = ""

_DRIVER = r"""
import json, resource, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
spec = json.loads(sys.argv[1])

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

ns = {"__name__": "__bench__"}
exec(compile(spec["setup"], "<setup>", "exec"), ns)
base = peak_mb()
code = compile(spec["stmt"], "<stmt>", "exec")

def once():
    t0 = time.perf_counter()
    exec(code, ns)
    return time.perf_counter() - t0

first = once()
times = []
if spec["warmup"] and first * spec["repeats"] <= spec["budget"]:
    times = [once() for _ in range(spec["repeats"])]
else:
    times = [first]
out = {"times": times, "first": first, "median": statistics.median(times),
       "peak_mb": peak_mb(), "base_mb": base}
if spec.get("result"):
    res = eval(spec["result"], ns)
    out["result"] = {k: (None if v is None else float(v)) for k, v in dict(res).items()}
print(spec["mark"] + json.dumps(out))
"""


@dataclass
class Snippet:
    """Code to time: ``setup`` once, then ``stmt`` (warm-up + ``repeats`` runs).

    ``result`` is an expression giving a dict of named numbers (e.g. ``{"att": est}``).
    With ``warmup=False`` (or when the warm-up run alone already exceeds ``budget`` /
    ``repeats`` seconds) the first run is the only measurement — it then includes any
    compilation or caching, which the table marks with ``n=1``.
    """

    setup: str
    stmt: str
    result: str | None = None
    repeats: int = 5
    timeout: float = 300.0
    budget: float = 60.0
    warmup: bool = True


@dataclass
class Measurement:
    """Outcome of one timed snippet."""

    median: float | None = None
    times: list = field(default_factory=list)
    peak_mb: float | None = None
    delta_mb: float | None = None
    result: dict = field(default_factory=dict)
    status: str = "ok"  # ok | timeout | error | missing | reference
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def seconds_text(self) -> str:
        if self.status == "timeout":
            return f"> {self.message}"
        if self.status == "reference":
            return "(published)"
        if self.status != "ok":
            return self.status
        n = len(self.times)
        return f"{self.median:.4g}" + ("" if n > 1 else " (n=1)")


def run_snippet(python: str | os.PathLike, snippet: Snippet, *, cwd: Path | None = None,
                env: dict | None = None) -> Measurement:
    """Run ``snippet`` under interpreter ``python`` in a fresh process and collect timings."""
    spec = {"setup": snippet.setup, "stmt": snippet.stmt, "result": snippet.result,
            "repeats": max(1, int(snippet.repeats)), "budget": snippet.budget,
            "warmup": snippet.warmup, "mark": MARK}
    with tempfile.NamedTemporaryFile("w", suffix="_driver.py", delete=False) as handle:
        handle.write(_DRIVER)
        driver = handle.name
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.run([str(python), driver, json.dumps(spec)], capture_output=True,
                              text=True, timeout=snippet.timeout, cwd=cwd or RESULTS,
                              env=full_env)
    except subprocess.TimeoutExpired:
        return Measurement(status="timeout", message=f"{snippet.timeout:.0f} s timeout")
    finally:
        os.unlink(driver)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            raw = json.loads(line[len(MARK):])
            return Measurement(median=raw["median"], times=raw["times"],
                               peak_mb=raw["peak_mb"],
                               delta_mb=raw["peak_mb"] - raw["base_mb"],
                               result=raw.get("result") or {})
    lines = [x for x in (proc.stderr or proc.stdout).strip().splitlines() if x.strip()]
    return Measurement(status="error", message=(lines[-1] if lines else "no output")[-300:])


def ours(snippet: Snippet) -> Measurement:
    """Time our implementation with the interpreter running the benchmark script."""
    return run_snippet(sys.executable, snippet)


def have(module: str, *names: str) -> bool:
    """True when ``module`` imports (in this interpreter) and defines every one of ``names``."""
    try:
        mod = __import__(module, fromlist=list(names) or ["__name__"])
    except Exception:
        return False
    return all(hasattr(mod, name) for name in names)


@dataclass
class Row:
    """One line of a comparison table."""

    task: str
    peer: str
    ours: Measurement
    theirs: Measurement
    keys: tuple = ()
    tol: float | dict = 1e-6


def agreement(row: Row) -> str:
    """'yes', 'NO: ...' or 'n/a': do the shared numbers agree within ``row.tol``?

    ``tol`` (one value or a dict key -> value): a number is an absolute tolerance, a string
    such as ``"10%"`` a relative one.
    """
    numbers = ("ok", "reference")
    if not (row.ours.status in numbers and row.theirs.status in numbers):
        return "n/a"
    keys = [k for k in row.keys if row.ours.result.get(k) is not None
            and row.theirs.result.get(k) is not None]
    if not keys:
        return "n/a"
    bad = []
    for key in keys:
        a, b = row.ours.result[key], row.theirs.result[key]
        tol = row.tol.get(key, 1e-6) if isinstance(row.tol, dict) else row.tol
        if isinstance(tol, str):  # "10%": relative
            limit = float(tol.rstrip("%")) / 100 * abs(b)
        else:
            limit = tol
        if not (math.isfinite(a) and math.isfinite(b)) or abs(a - b) > limit:
            bad.append(f"{key} Δ{a - b:+.3g}")
    return "yes" if not bad else "NO: " + ", ".join(bad)


def _num(value) -> str:
    return "—" if value is None else f"{value:.6g}"


def _values(m: Measurement, keys) -> str:
    if m.status == "missing":
        return m.message or "not available yet"
    if m.status not in ("ok", "reference"):
        return m.message[:160] if m.status == "error" else m.status
    return " ".join(f"{k}={_num(m.result.get(k))}" for k in keys if k in m.result)


def ratio(row: Row) -> str:
    """peer time / our time as text ('> x' when the peer timed out)."""
    o, t = row.ours, row.theirs
    if o.ok and t.ok and o.median > 0:
        return f"{t.median / o.median:.3g}"
    if o.ok and t.status == "timeout" and o.median > 0:
        return f"> {float(t.message.split()[0]) / o.median:.3g}"
    return "—"


def print_table(title: str, rows: list[Row]) -> None:
    """Print task, ours (s), peer (s), ratio peer/ours, agreement and both sets of numbers."""
    print(f"\n== {title} ==")
    head = f"{'task':<34} {'peer':<16} {'ours (s)':>12} {'peer (s)':>14} {'peer/ours':>10}  agree"
    print(head)
    print("-" * len(head))
    last = None
    for row in rows:
        print(f"{row.task:<34} {row.peer:<16} {row.ours.seconds_text():>12} "
              f"{row.theirs.seconds_text():>14} {ratio(row):>10}  {agreement(row)}")
        if row.task != last:
            print(f"{'':<4}ours: {_values(row.ours, row.keys)}")
            last = row.task
        print(f"{'':<4}peer: {_values(row.theirs, row.keys)}")
        mem = [f"{who} peak {m.peak_mb:.0f} MB (+{m.delta_mb:.0f})"
               for who, m in (("ours", row.ours), ("peer", row.theirs))
               if m.ok and m.peak_mb is not None]
        if mem and any((m.delta_mb or 0) > 50 for m in (row.ours, row.theirs) if m.ok):
            print(f"{'':<4}memory: " + "; ".join(mem))


def save(name: str, rows: list[Row], extra: dict | None = None) -> Path:
    """Write the rows (and ``extra``) to ``benchmarks/results/<name>[.<TAG>].json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"rows": [{"task": r.task, "peer": r.peer, "ours": r.ours.__dict__,
                         "peer_result": r.theirs.__dict__, "ratio": ratio(r),
                         "agree": agreement(r)} for r in rows]}
    payload.update(extra or {})
    path = RESULTS / f"{name}{'.' + TAG if TAG else ''}.json"
    path.write_text(json.dumps(payload, indent=1, default=str))
    return path


def missing(message: str = "ours: not available yet") -> Measurement:
    """Placeholder for an implementation that does not exist (yet)."""
    return Measurement(status="missing", message=message)


def reference(numbers: dict) -> Measurement:
    """Published numbers shown as a pseudo-peer (no timing) so estimates can be checked."""
    return Measurement(status="reference", result=dict(numbers))


def data_path(name: str) -> Path:
    """Path of a benchmark data file under ``benchmarks/results/data`` (directory created)."""
    DATA.mkdir(parents=True, exist_ok=True)
    return DATA / name
