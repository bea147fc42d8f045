"""``utvardering power`` and ``utvardering speccurve``: design diagnosis from the command line.

Subcommands::

    utvardering power NAME [--n-sims N] [--effects -0.1,-0.2,-0.3,-0.5] [--quick]
    utvardering power FILE --method M --outcome Y --treated A --start PERIOD [--exposure COL] ...
    utvardering speccurve NAME [--quick] [--no-joint]
    utvardering speccurve FILE --methods M1,M2 --outcome Y --treated A --start P
                          [--choice start=2018-02,2018-10 ...] [--no-joint]

``NAME`` is one of the Malmö analyses (``sluta_skjut``, ``ordningsvakter_mollevangen``,
``drogfri_skola``): its primary design and method with its default configuration. ``FILE`` is
a CSV/Parquet panel or a bundled dataset name, with the Study given by the flags as for
``utvardering estimate``. Every run takes ``--backend serial|joblib|dask``, ``--scheduler
ADDRESS`` (a Dask scheduler, e.g. ``tcp://scheduler:8786``) and ``--n-jobs N``, and can write
the table (``--out FILE.csv``), the figure (``--plot FILE.png``) or JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["cmd_power", "cmd_speccurve", "register"]


def _study_from_args(args: argparse.Namespace):
    from .cli_io import UserError, like_column, period_arg, read_table, split_list
    from .design.analyses import analysis_design, analysis_names

    if args.target in analysis_names():
        return analysis_design(args.target, quick=args.quick)
    missing = [f"--{k}" for k in ("outcome", "treated", "start") if getattr(args, k) is None]
    if missing:
        raise UserError(f"{args.target!r} is not an analysis ({', '.join(analysis_names())}), so it "
                        f"is read as a data file: give {', '.join(missing)} for its Study.")
    from .study import Study

    frame = read_table(args.target)
    units, times = frame[args.unit], frame[args.time]
    study = Study(frame, outcome=args.outcome, unit=args.unit, time=args.time,
                  treated=like_column(split_list(args.treated), units),
                  start=period_arg(args.start, times), end=period_arg(args.end, times),
                  donors=like_column(split_list(args.donors), units),
                  exclude=like_column(split_list(args.exclude), units), exposure=args.exposure,
                  counts=True if args.count else None)
    return {"study": study, "method": None, "options": {}, "choices": {}, "methods": None}


def _execution(args: argparse.Namespace) -> dict:
    return {"backend": args.backend, "n_jobs": args.n_jobs, "scheduler": args.scheduler,
            "progress": None if not args.quiet else False}


def _write(result, args: argparse.Namespace, table) -> None:
    from .cli_io import write_table

    if args.out:
        write_table(table, args.out)
        print(f"wrote the table to {args.out}", file=sys.stderr)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        result.plot().savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"wrote the figure to {args.plot}", file=sys.stderr)


def cmd_power(args: argparse.Namespace) -> int:
    """Power curve and MDE of a design (an analysis's primary method, or any estimator)."""
    from .cli_io import UserError, parse_settings
    from .design import power
    spec = _study_from_args(args)
    method = args.method or spec["method"]
    if method is None:
        raise UserError("power on a data file needs --method (utvardering estimate --list shows them).")
    options = {**spec["options"], **parse_settings(args.set)}
    effects = [float(e) for e in args.effects.split(",")] if args.effects else (-0.1, -0.2, -0.3, -0.5)
    n_sims = args.n_sims or (20 if args.quick else 200)
    result = power(spec["study"], method, effects, n_sims=n_sims, level=args.level,
                   random_state=args.seed, placebo=args.placebo, **_execution(args), **options)
    print(json.dumps(result.to_dict(), indent=2, default=str, ensure_ascii=False) if args.json
          else result.summary())
    print(f"({result.info['backend']}, {result.info['workers']} worker(s), "
          f"{result.info['seconds']:.1f} s)", file=sys.stderr)
    _write(result, args, result.table)
    return 0


def cmd_speccurve(args: argparse.Namespace) -> int:
    """Specification curve of a design over its choices and methods."""
    from .cli_io import UserError, parse_value, split_list
    from .design import specification_curve
    spec = _study_from_args(args)
    choices = dict(spec["choices"])
    for item in args.choice or []:
        key, sep, values = item.partition("=")
        if not sep:
            raise UserError(f"--choice {item!r} is not NAME=V1,V2 (e.g. start=2018-02,2018-10).")
        choices[key.strip()] = [parse_value(v) for v in split_list(values)]
    methods = split_list(args.methods) or spec.get("methods") or (
        [spec["method"]] if spec["method"] else None)
    if not methods:
        raise UserError("speccurve on a data file needs --methods M1,M2.")
    curve = specification_curve(spec["study"], choices, methods, level=args.level,
                                random_state=args.seed, joint=not args.no_joint,
                                n_placebos=args.n_placebos, **_execution(args))
    print(json.dumps(curve.to_dict(), indent=2, default=str, ensure_ascii=False) if args.json
          else curve.summary())
    print(f"({curve.info['backend']}, {curve.info['workers']} worker(s), "
          f"{curve.info['seconds']:.1f} s)", file=sys.stderr)
    _write(curve, args, curve.table)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="NAME|FILE",
                   help="an analysis (sluta_skjut, ordningsvakter_mollevangen, drogfri_skola), or a "
                        "CSV/Parquet panel or bundled dataset with the Study flags below")
    p.add_argument("--quick", action="store_true", help="small draws (an analysis's quick settings)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--seed", type=int, default=2018, help="root random seed (default 2018)")
    p.add_argument("--backend", choices=["serial", "joblib", "dask"],
                   help="where the cells run (default: serial; joblib with --n-jobs; dask with "
                        "--scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://scheduler:8786 (implies --backend dask)")
    p.add_argument("--n-jobs", type=int, help="worker processes (joblib, or a local Dask cluster)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", help="write the table to this CSV/Parquet file")
    p.add_argument("--plot", help="write the figure to this PNG/PDF file")
    study = p.add_argument_group("Study (for a data file)")
    study.add_argument("--unit", default="unit", help="unit column (default: unit)")
    study.add_argument("--time", default="time", help="time column (default: time)")
    study.add_argument("--outcome", help="outcome column")
    study.add_argument("--treated", help="treated units, comma-separated")
    study.add_argument("--start", help="first treated period")
    study.add_argument("--end", help="last period the intervention was in force")
    study.add_argument("--donors", help="comparison units, comma-separated")
    study.add_argument("--exclude", help="units kept out of the donor pool, comma-separated")
    study.add_argument("--exposure", help="population (exposure) column")
    study.add_argument("--count", action="store_true", help="the outcome is an event count")


def register(sub) -> None:
    """Add the ``power`` and ``speccurve`` subcommands."""
    pw = sub.add_parser("power", help="power curve and minimum detectable effect of a design")
    _common(pw)
    pw.add_argument("--method", help="estimator (default for an analysis: its primary method)")
    pw.add_argument("--effects", help="relative effects, comma-separated (default -0.1,-0.2,-0.3,-0.5)")
    pw.add_argument("--n-sims", type=int, help="draws per effect (default 200; 20 with --quick)")
    pw.add_argument("--placebo", choices=["auto", "time", "unit"], default="auto",
                    help="placebo designs: fake starts (time) or donors as treated (unit)")
    pw.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="estimator option passed through unchanged (repeatable)")
    pw.set_defaults(handler=cmd_power)
    sc = sub.add_parser("speccurve", help="specification curve over choices and methods")
    _common(sc)
    sc.add_argument("--methods", help="estimators, comma-separated (default for an analysis: its own)")
    sc.add_argument("--choice", action="append", metavar="NAME=V1,V2",
                    help="a choice and its values (a Study keyword or an estimator option; repeatable)")
    sc.add_argument("--no-joint", action="store_true", help="skip the placebo curves (joint inference)")
    sc.add_argument("--n-placebos", type=int, help="placebo curves to run (default: every donor)")
    sc.set_defaults(handler=cmd_speccurve)
