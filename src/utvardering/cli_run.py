"""``utvardering run NAME|all``: run the Malmö evaluations in ``analyses/`` and write their reports."""

from __future__ import annotations

import argparse
import logging
import sys
import time

__all__ = ["add_run_parser", "cmd_run"]


def cmd_run(args: argparse.Namespace) -> int:
    """Run one analysis or all of them; print where each report is."""
    import matplotlib

    matplotlib.use("Agg")
    from .report.runner import find_analyses_dir, list_analyses, run_analysis

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(message)s", stream=sys.stderr)
    folder = find_analyses_dir()
    names = list_analyses(folder) if args.name == "all" else [args.name]
    if args.name == "all" and args.config:
        print("error: --config applies to one analysis; run them one at a time.", file=sys.stderr)
        return 2
    for name in names:
        began = time.perf_counter()
        out = f"{args.out}/{name}" if args.out and args.name == "all" else args.out
        try:
            written = run_analysis(name, config=args.config, out=out, quick=args.quick, quiet=args.quiet,
                                   lang=args.lang, directory=folder)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{name}: {written['report.html']} ({time.perf_counter() - began:.1f} s)")
    return 0


def add_run_parser(sub) -> None:
    """Register the ``run`` subcommand on an argparse subparsers object."""
    run = sub.add_parser("run", help="run an evaluation in analyses/ (or all) and write its report")
    run.add_argument("name", help="analysis name (sluta_skjut, ordningsvakter_mollevangen, drogfri_skola) or 'all'")
    run.add_argument("--config", help="TOML file overriding keys of the analysis's default configuration")
    run.add_argument("--out", help="output folder (default results/<name>)")
    run.add_argument("--quick", action="store_true", help="small draws and few replications (CI, docs)")
    run.add_argument("--quiet", action="store_true", help="no progress output; log warnings only")
    run.add_argument("--lang", choices=["en", "sv"], default="en", help="report language")
    run.set_defaults(handler=cmd_run)
