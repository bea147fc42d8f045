"""The peer packages' virtual environment and how their timing snippets are run.

The peers (diff-diff, csdid, differences, moderndid, pyfixest, wildboottest, honestdid,
pysyncon, synthdid, CausalPy) need pins that clash with the project's own environment (several
need ``pandas<3``), so they live in ``benchmarks/.venv-peers`` (gitignored), created here from
PyPI with the ordinary ``pip``. Run ``python benchmarks/peers.py`` to create or update it and
print the installed versions; the benchmark scripts call :func:`ensure` themselves.

Special cases:

- ``honestdid`` depends on ``torch``; PyPI's default Linux torch wheel drags in several GB of
  CUDA libraries, so a CPU-only torch wheel found in pip's ``find-links`` directories (e.g.
  ``/opt/wheels``) or given by ``UTV_TORCH_WHEEL`` is installed first when there is one.
- ``synthdid`` (synthdid-py) 0.10.1 pins every dependency exactly (numpy 1.23, pandas 1.5,
  black 19.3b0 ...), which cannot be installed on Python 3.11 beside the others, and its sdist
  downloads its README from the network at build time; the wheel is installed with
  ``--no-deps`` (it needs only numpy, pandas, scipy and matplotlib, all present).
- ``moderndid`` 0.3+ requires Python >= 3.12; with a ``python3.12`` on PATH (or in pyenv) it
  is installed into ``benchmarks/.venv-peers-py312`` and timed there.
- ``tfcausalimpact`` needs full ``tensorflow`` (2.21: a 572 MB wheel, 1.87 GB unpacked), over
  the ~1 GB we allow for a benchmark peer; it is skipped unless ``--with-tensorflow`` is given.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

from harness import HERE, Measurement, Row, Snippet, missing, ours, run_snippet

VENV = HERE / ".venv-peers"
PYTHON = VENV / "bin" / "python"
#: moderndid >= 0.3 requires Python >= 3.12; when a 3.12 interpreter is found it gets its own
#: small venv (only moderndid), otherwise moderndid 0.2 from the main venv is used.
VENV312 = HERE / ".venv-peers-py312"
PYTHON312 = VENV312 / "bin" / "python"
PY312_PACKAGES = ["moderndid"]
PY312_INSTALL = ["moderndid[didhonest]"]  # the extra brings cvxpy for honest_did

#: distribution name -> import name, for the version report
PACKAGES = {
    "diff-diff": "diff_diff",
    "csdid": "csdid",
    "differences": "differences",
    "moderndid": "moderndid",
    "pyfixest": "pyfixest",
    "wildboottest": "wildboottest",
    "honestdid": "honestdid",
    "pysyncon": "pysyncon",
    "synthdid": "synthdid",
    "causalpy": "causalpy",
    "scpi-pkg": "scpi_pkg",
    "tfcausalimpact": "causalimpact",
}
PINS = ["pandas<3", "numpy<2.4"]  # honestdid 0.1.1 calls float() on 1×1 arrays (error in 2.4)
NO_DEPS = ["synthdid==0.10.1"]
TENSORFLOW_SKIP = ("tfcausalimpact skipped: it needs full tensorflow (2.21.0: 572 MB wheel, "
                   "1.87 GB unpacked), over the ~1 GB limit for a benchmark peer; "
                   "run `python benchmarks/peers.py --with-tensorflow` to try it anyway")


def _pip(*args: str) -> int:
    cmd = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", *args]
    print("[peers] " + " ".join(cmd[3:]), flush=True)
    return subprocess.run(cmd).returncode


def _cpu_torch_wheel() -> str | None:
    given = os.environ.get("UTV_TORCH_WHEEL")
    if given:
        return given
    dirs = ["/opt/wheels"]
    found = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                           text=True).stdout
    for line in found.splitlines():
        if "find-links" in line:
            dirs.append(line.split("=", 1)[1].strip().strip("'\""))
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    for folder in dirs:
        hits = sorted(glob.glob(os.path.join(folder, f"torch-*+cpu-{py}-*.whl")))
        if hits:
            return hits[-1]
    return None


def _python312() -> str | None:
    for cand in [shutil.which("python3.12"), *glob.glob(os.path.expanduser(
            "~/.pyenv/versions/3.12*/bin/python3.12"))]:
        if cand and subprocess.run([cand, "-V"], capture_output=True).returncode == 0:
            return cand
    return None


def install(with_tensorflow: bool = False) -> None:
    """Create ``.venv-peers`` if needed and install (or update) the peer packages."""
    if not PYTHON.exists():
        print(f"[peers] creating {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    wheel = _cpu_torch_wheel()
    main = [name for name in PACKAGES if name not in ("synthdid", "tfcausalimpact")]
    if _pip(*([wheel] if wheel else []), *PINS, *main) != 0:
        print("[peers] the joint install failed; installing one at a time", flush=True)
        for name in main:
            if _pip(*PINS, name) != 0:
                print(f"[peers] {name}: install failed (see pip output above)", flush=True)
    if _pip("--no-deps", *NO_DEPS) != 0:
        print("[peers] synthdid: install failed", flush=True)
    py312 = _python312()
    if py312:
        if not PYTHON312.exists():
            subprocess.run([py312, "-m", "venv", str(VENV312)], check=True)
        cmd = [str(PYTHON312), "-m", "pip", "install", "--disable-pip-version-check", *PINS,
               *PY312_INSTALL]
        print("[peers] (py3.12) " + " ".join(cmd[3:]), flush=True)
        subprocess.run(cmd)
    if with_tensorflow:
        if _pip("pandas<=2.2.3", "tfcausalimpact") != 0:
            print("[peers] tfcausalimpact: install failed", flush=True)
    else:
        print("[peers] " + TENSORFLOW_SKIP, flush=True)


def versions() -> dict[str, str | None]:
    """Installed peer versions (None when a package is missing or does not import)."""
    if not PYTHON.exists():
        return {name: None for name in PACKAGES}
    code = (
        "import importlib, importlib.metadata as md, json\n"
        f"pk = {PACKAGES!r}\n"
        "out = {}\n"
        "for dist, mod in pk.items():\n"
        "    try:\n"
        "        out[dist] = md.version(dist)\n"
        "    except md.PackageNotFoundError:\n"
        "        out[dist] = None\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([str(PYTHON), "-c", code], capture_output=True, text=True)
    out = json.loads(proc.stdout) if proc.returncode == 0 else {n: None for n in PACKAGES}
    if PYTHON312.exists():
        proc = subprocess.run([str(PYTHON312), "-c", code], capture_output=True, text=True)
        if proc.returncode == 0:
            newer = json.loads(proc.stdout)
            out.update({k: newer[k] for k in PY312_PACKAGES if newer.get(k)})
    return out


_VERSIONS: dict | None = None


def ensure(install_missing: bool = True) -> dict[str, str | None]:
    """Make sure the venv exists (installing it on first use) and return the versions."""
    global _VERSIONS
    if _VERSIONS is None:
        if not PYTHON.exists() and install_missing:
            install()
        _VERSIONS = versions()
    return _VERSIONS


def run(package: str, snippet: Snippet) -> Measurement:
    """Time ``snippet`` in the peer venv, or say why the peer cannot run."""
    found = ensure()
    if package == "tfcausalimpact" and not found.get(package):
        return missing("skipped: tensorflow 1.87 GB > 1 GB limit")
    if not found.get(package):
        return missing(f"{package} not installed")
    python = PYTHON312 if package in PY312_PACKAGES and PYTHON312.exists() else PYTHON
    return run_snippet(python, snippet, env={"PYTHONWARNINGS": "ignore"})


def compare(task: str, mine: Snippet | None, theirs: dict[str, Snippet], *, keys=(),
            tol=1e-6, available: bool = True, only: str | None = None) -> list[Row]:
    """Time our snippet once and every peer's, one table row per peer.

    ``mine=None`` or ``available=False`` records "ours: not available yet" (the peers are
    still timed, so their numbers are on record for when ours lands).
    """
    if only and only not in task:
        return []
    print(f"[bench] {task}", flush=True)
    mine_m = ours(mine) if (mine is not None and available) else missing()
    rows = [Row(task, label(pkg), mine_m, run(pkg, snip), tuple(keys), tol)
            for pkg, snip in theirs.items()]
    return rows or [Row(task, "—", mine_m, missing("no peer"), tuple(keys), tol)]


def label(package: str) -> str:
    """``package version`` for the table's peer column."""
    version = ensure().get(package)
    return f"{package} {version}" if version else package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-tensorflow", action="store_true",
                        help="also try tfcausalimpact (needs ~1.9 GB of tensorflow)")
    args = parser.parse_args()
    install(with_tensorflow=args.with_tensorflow)
    for name, version in versions().items():
        print(f"{name:<16} {version or 'NOT INSTALLED'}")


if __name__ == "__main__":
    main()
