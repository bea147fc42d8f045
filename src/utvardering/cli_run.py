"""``utvardering run NAME|all``: run the Malmö evaluations in ``analyses/`` and write their reports.

On a terminal each analysis shows a progress bar over its steps (and the MCMC sampler its own
bar); ``--quiet`` or a non-terminal standard error (CI, redirected output) draws nothing.
Without ``--quiet`` and off a terminal the step lines are logged to standard error instead.
Every run writes ``run.log`` (steps with timings) beside its report.
"""

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
    from .progress import is_terminal

    draw = not args.quiet and is_terminal(sys.stderr)
    # Step lines on stderr only when no bar is drawn (CI logs); --quiet: warnings only.
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING if args.quiet or draw else logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    package = logging.getLogger("utvardering")
    package.addHandler(handler)
    try:
        return _run_each(args, draw)
    finally:
        package.removeHandler(handler)


def _run_each(args: argparse.Namespace, draw: bool) -> int:
    from .report.runner import find_analyses_dir, list_analyses, run_analysis

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
                                   lang=args.lang, directory=folder, show_progress=draw)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{name}: {written['report.html']} ({time.perf_counter() - began:.1f} s)")
    if args.name == "all":  # the three bottom lines side by side (issue 16)
        from pathlib import Path

        from .report.index import write_index

        root = Path(args.out) if args.out else Path("results")
        print(f"index: {write_index(root, names, lang=args.lang)}")
    return 0


def add_run_parser(sub) -> None:
    """Register the ``run`` subcommand on an argparse subparsers object."""
    run = sub.add_parser("run", help="run an evaluation in analyses/ (or all) and write its report")
    run.add_argument("name", help="analysis name (sluta_skjut, ordningsvakter_mollevangen, drogfri_skola) or 'all'")
    run.add_argument("--config", help="TOML file overriding keys of the analysis's default configuration")
    run.add_argument("--out", help="output folder (default results/<name>)")
    run.add_argument("--quick", action="store_true", help="small draws and few replications (CI, docs)")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no step lines on the terminal "
                     "(warnings only); run.log is still written")
    run.add_argument("--lang", choices=["en", "sv"], default="en", help="report language")
    run.set_defaults(handler=cmd_run)
