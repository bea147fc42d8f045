"""Command-line options shared by the benchmark scripts."""

from __future__ import annotations

import argparse

import harness


def parse(doc: str | None, argv=None) -> argparse.Namespace:
    """``--quick`` (small sizes, for a smoke run) and ``--only TEXT`` (tasks containing TEXT)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--only", default=None, help="run only tasks whose name contains TEXT")
    args = parser.parse_args(argv)
    harness.TAG = ".".join(t for t in ("quick" if args.quick else "",
                                       "partial" if args.only else "") if t)
    return args
