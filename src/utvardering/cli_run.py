"""``utvardering run NAME|all``: run the Malmö evaluations and write their reports.

The analyses are loaded from the package (``utvardering/analyses/``) or, with
``--analyses-dir DIR``, from that folder only; never from the working directory.

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

__all__ = ["add_run_parser", "cmd_run", "register"]


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
    from .cli_io import UserError, check_output_folder, read_config_file
    from .report.runner import (
        check_analysis_name,
        check_output_links,
        find_analyses_dir,
        list_analyses,
        run_analysis,
    )

    try:
        folder = find_analyses_dir(args.analyses_dir)
        if args.name != "all":
            check_analysis_name(args.name)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None
    known = list_analyses(folder)
    if args.name != "all" and args.name not in known:
        raise UserError(f"no analysis named {args.name!r} in {folder}; known: "
                        f"{', '.join(known) or 'none'}.")
    names = known if args.name == "all" else [args.name]
    if args.name == "all" and args.config:
        raise UserError("--config applies to one analysis; run them one at a time.")
    if args.config:
        read_config_file(args.config)  # a bad file stops here, before minutes of work
    out_root = check_output_folder(args.out or "results", create=True)
    try:
        check_output_links(out_root)
    except ValueError as exc:
        raise UserError(str(exc)) from None
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
    run = sub.add_parser("run", help="run a Malmö evaluation (or all) and write its report")
    run.add_argument("name", help="analysis name (sluta_skjut, ordningsvakter_mollevangen, drogfri_skola) or 'all'")
    run.add_argument("--analyses-dir", metavar="DIR",
                     help="load the analysis from this folder (NAME.py with NAME.toml beside it) "
                          "instead of the package's own analyses")
    run.add_argument("--config", help="TOML file overriding keys of the analysis's default configuration")
    run.add_argument("--out", help="output folder (default results/<name>)")
    run.add_argument("--quick", action="store_true", help="small draws and few replications (CI, docs)")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no step lines on the terminal "
                     "(warnings only); run.log is still written")
    run.add_argument("--lang", choices=["en", "sv"], default="en", help="report language")
    run.set_defaults(handler=cmd_run)


#: Found by :func:`utvardering.cli.subcommand_modules`.
register = add_run_parser
