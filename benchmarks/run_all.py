"""Run every benchmark family in one go and print the tables.

Run: ``/work/venv/bin/python benchmarks/run_all.py [--quick] [--only TEXT]``
(the output is also kept in ``benchmarks/results/run_all.txt`` when run through ``tee``).
Creates the peer environment on first use (see ``peers.py``); a full run takes 45–60
minutes on the 2-core machine, most of it spent waiting for the slowest peers (pysyncon,
HonestDiD's ports, synthdid-py) up to their timeouts.
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
from options import parse

FAMILIES = ("bench_did", "bench_synth", "bench_bsts", "bench_bsts_reference", "bench_design",
            "bench_followup")


def main(argv=None) -> None:
    args = parse(__doc__, argv)
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for name, version in peers.ensure().items():
        print(f"  peer {name:<16} {version or 'not installed'}")
    forwarded = (["--quick"] if args.quick else []) + (["--only", args.only] if args.only else [])
    for family in FAMILIES:
        if not (Path(__file__).resolve().parent / f"{family}.py").exists():
            print(f"\n{family}: script missing, skipped")
            continue
        start = time.perf_counter()
        try:
            importlib.import_module(family).main(forwarded)
        except Exception:
            traceback.print_exc()
            print(f"\n{family}: FAILED (traceback above)")
        print(f"[{family}: {time.perf_counter() - start:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
