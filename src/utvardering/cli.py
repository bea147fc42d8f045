"""The ``utvardering`` command line.

Subcommands::

    utvardering datasets list
    utvardering datasets export NAME FILE
    utvardering validate FILE --unit U --time T --outcome Y [--count] [--exposure COL]
    utvardering validate FILE --survey --unit U --time T --respondent R --weight W --item NAME=LOW:HIGH
    utvardering simulate WORLD --seed N --out FILE [--set key=value ...]
    utvardering estimate METHOD --data FILE --unit U --time T --outcome Y
                         (--treated A,B --start PERIOD | --cohort COL | --group COL --post COL)
                         [--dropna] [--allow-gaps] [--set key=value ...] [--json]
    utvardering estimate --list
    utvardering run NAME|all [--quick] [--out DIR] [--analyses-dir DIR]

Exit codes: 0 success; 1 ``validate`` found problems; 2 an error (bad file, unknown column,
impossible design, unwritable output, or an estimator that stopped), reported on one line as
``error: <message>`` without a traceback (``utvardering --traceback ...`` shows it).

Adding a subcommand
-------------------
Put it in its own module ``utvardering/cli_<name>.py`` with a function
``register(subparsers)`` that adds the parser and sets ``handler=`` (a function of the parsed
arguments returning the exit code). Such modules are found automatically (see
:func:`subcommand_modules`); nothing in this file needs to change. Keep their top-level imports
light (import estimators and plotting inside the handler) so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .cli_io import (
    UserError,
    like_column,
    parse_settings,
    period_arg,
    read_table,
    split_list,
    write_table,
)
from .data.schema import check_panel
from .data.schema_micro import validate_survey
from .errors import DataError, DesignError
from .options import check_level

__all__ = ["build_parser", "describe_error", "main", "subcommand_modules"]

#: Estimator packages imported so that their estimators register themselves.
ESTIMATOR_PACKAGES = ("utvardering.did", "utvardering.synth", "utvardering.timeseries")


def _import_estimators() -> list[str]:
    """Import the estimator packages and their public modules, so that every estimator
    registers itself; return a note for each module that could not be imported.
    """
    notes = []
    for name in ESTIMATOR_PACKAGES:
        try:
            package = importlib.import_module(name)
        except Exception as exc:  # a family still being written must not break the CLI
            notes.append(f"{name} could not be imported ({type(exc).__name__}: {exc}).")
            continue
        for module in pkgutil.iter_modules(getattr(package, "__path__", [])):
            if module.name.startswith("_"):
                continue
            try:
                importlib.import_module(f"{name}.{module.name}")
            except Exception as exc:
                notes.append(f"{name}.{module.name} could not be imported "
                             f"({type(exc).__name__}: {exc}); its estimators are not available.")
    return notes


# -- subcommands -------------------------------------------------------------------------------
def cmd_datasets_list(args: argparse.Namespace) -> int:
    """Print every bundled dataset with its provenance."""
    from .data.datasets import list_datasets

    table = list_datasets()
    from .data.public_record import public_record_rows  # the public record (issue 13)

    table = pd.concat([table, pd.DataFrame(public_record_rows())], ignore_index=True)
    for kind in ("simulated", "reference", "public"):
        rows = table[table["kind"] == kind]
        print(f"{kind.capitalize()} datasets ({len(rows)})")
        print("=" * (len(kind) + 14))
        for row in rows.itertuples(index=False):
            shape = f"{row.shape[0]} rows × {row.shape[1]} columns" if row.shape else "file not bundled"
            call = row.loader if "(" in row.loader else f"{row.loader}()"
            print(f"{row.name}  [{shape}]  utvardering.datasets.{call}")
            print(f"  {row.description}")
            print(f"  source:    {row.source}")
            print(f"  study:     {row.original_study}")
            print(f"  licence:   {row.licence}")
            print(f"  used for:  {row.reproduces}")
            if row.sha256:
                print(f"  sha256:    {row.sha256}")
            print()
    return 0


def cmd_datasets_export(args: argparse.Namespace) -> int:
    """Write a bundled dataset to CSV or Parquet."""
    from .data.datasets import load_dataset

    frame = load_dataset(args.name)
    path = write_table(frame, args.file)
    extra = f" (true effects in {args.file}.truth.json)" if "truth" in frame.attrs else ""
    print(f"wrote {args.name}: {len(frame)} rows × {frame.shape[1]} columns to {path}{extra}")
    return 0


def _parse_items(items: Sequence[str] | None) -> dict[str, tuple[int, int]]:
    parsed = {}
    for item in items or []:
        name, _, bounds = item.partition("=")
        low, _, high = bounds.partition(":")
        try:
            parsed[name.strip()] = (int(low), int(high))
        except ValueError:
            raise UserError(f"--item {item!r} is not NAME=LOW:HIGH (e.g. --item unsafe_evening=1:4).") from None
    return parsed


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a file against the Panel (or survey) contract and print every problem."""
    frame = read_table(args.file)
    if args.survey:
        try:
            survey = validate_survey(
                frame, respondent=args.respondent, unit=args.unit, time=args.time,
                weight=args.weight, items=_parse_items(args.item))
        except DataError as exc:
            print(f"[survey] {exc}")
            print(f"1 problem found in {args.file}.")
            return 1
        data = survey.data
        print(f"OK: {args.file} is valid survey data: {len(data)} responses, "
              f"{data[args.unit].nunique()} units × {data[args.time].nunique()} periods.")
        return 0
    if not args.outcome:
        raise UserError("validate needs --outcome (or --survey for survey micro-data).")
    outcomes = split_list(args.outcome)
    problems, cleaned, _ = check_panel(
        frame, unit=args.unit, time=args.time, outcomes=outcomes,
        counts=outcomes if args.count else (), exposure=args.exposure, allow_gaps=args.allow_gaps)
    if problems:
        for problem in problems:
            print(str(problem).replace("\n", " "))
        print(f"{len(problems)} problem(s) found in {args.file}.")
        return 1
    times = cleaned[args.time]
    print(f"OK: {args.file} is a valid panel: {cleaned[args.unit].nunique()} units × "
          f"{times.nunique()} periods ({times.min()} to {times.max()}), {len(cleaned)} rows, "
          f"outcome {', '.join(outcomes)}{' (counts)' if args.count else ''}.")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run a simulated world and write its data (CSV/Parquet) and true effects (JSON)."""
    from .data.simulate import SIMULATORS

    if args.world not in SIMULATORS:
        raise UserError(f"no simulated world named {args.world!r}; choose one of "
                        f"{', '.join(SIMULATORS)}.")
    function = SIMULATORS[args.world]
    options = parse_settings(args.set)
    if "seed" in options:
        raise UserError("give the seed with --seed N, not --set seed=N.")
    _check_options(function, f"simulate_{args.world}", options, skip_first=False)
    frame = function(seed=args.seed, **options)
    if not isinstance(frame, pd.DataFrame):
        raise UserError(f"simulate_{args.world} returned {type(frame).__name__}, not a table.")
    path = write_table(frame, args.out)
    sidecar = f"; true effects in {args.out}.truth.json" if "truth" in frame.attrs else ""
    print(f"wrote simulate_{args.world}(seed={args.seed}): {len(frame)} rows × "
          f"{frame.shape[1]} columns to {path}{sidecar}")
    return 0


def _check_options(function, name: str, options: dict, skip_first: bool) -> None:
    signature = inspect.signature(function)
    params = list(signature.parameters.values())[1 if skip_first else 0:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    allowed = [p.name for p in params if p.kind in (inspect.Parameter.KEYWORD_ONLY,
                                                    inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise UserError(f"{name} has no option(s) {', '.join(map(repr, unknown))}; "
                        f"its options are: {', '.join(allowed) or 'none'}.")


#: Python keywords in library messages and the command-line flags that set them.
CLI_WORDS = {
    "lower min_pre_periods": "lower --min-pre-periods",
    "min_pre_periods": "--min-pre-periods",
    "pass dropna=True": "pass --dropna",
    "dropna=True": "--dropna",
    "pass allow_gaps=True": "pass --allow-gaps",
    "allow_gaps=True": "--allow-gaps",
}


def in_cli_words(message: str) -> str:
    """A library message with its keyword advice (``dropna=True``) in flags (``--dropna``)."""
    for words, flag in CLI_WORDS.items():
        message = message.replace(words, flag)
    return message


def group_post_design(frame: pd.DataFrame, unit: str, time: str, group: str,
                      post: str) -> dict:
    """``treated=`` and ``start=`` of a Study from a 2×2 group/post coding.

    ``group`` marks the treated units (1/true), ``post`` the periods from the start on
    (1/true). Both must be 0/1, ``group`` constant within each unit and ``post`` constant
    within each period and switching on once.

    Raises
    ------
    UserError
        Naming the column and the units or periods at fault.
    """
    codes = {}
    for flag, column in (("--group", group), ("--post", post)):
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any() or not values.isin([0, 1]).all():
            bad = frame.loc[values.isna() | ~values.isin([0, 1]), column].unique().tolist()[:5]
            raise UserError(f"{flag} column {column!r} must hold 0 and 1 only; it holds "
                            f"{', '.join(map(repr, bad))}.")
        codes[flag] = values.astype(int)
    by_unit = codes["--group"].groupby(frame[unit]).nunique()
    if (by_unit > 1).any():
        raise UserError(f"--group column {group!r} changes within unit(s) "
                        f"{', '.join(map(str, by_unit.index[by_unit > 1][:5]))}; it must mark "
                        "the treated units (1 in every row of a treated unit).")
    by_time = codes["--post"].groupby(frame[time]).agg(["min", "max"])
    if (by_time["min"] != by_time["max"]).any():
        raise UserError(f"--post column {post!r} differs between rows of the same period "
                        f"({', '.join(map(str, by_time.index[by_time['min'] != by_time['max']][:5]))}); "
                        "it must mark the periods from the start on.")
    post_times = by_time.index[by_time["max"] == 1]
    if len(post_times) == 0 or len(post_times) == len(by_time):
        raise UserError(f"--post column {post!r} must be 0 before the start and 1 from it on; "
                        f"it is {'never' if len(post_times) == 0 else 'always'} 1.")
    start = min(post_times)
    if (by_time.loc[by_time.index >= start, "max"] != 1).any():
        raise UserError(f"--post column {post!r} switches off again after {start}; it must be 1 "
                        "in every period from the start on.")
    treated = sorted(frame.loc[codes["--group"] == 1, unit].unique().tolist(), key=str)
    if not treated:
        raise UserError(f"--group column {group!r} marks no unit as treated (no 1s).")
    return {"treated": treated, "start": start.item() if hasattr(start, "item") else start}


def cmd_estimate(args: argparse.Namespace) -> int:
    """Build a Study from the arguments, run a registered estimator and print the Effect."""
    from .estimators import get_estimator, list_estimators
    from .study import Study

    notes = _import_estimators()
    if args.list:
        table = list_estimators()
        if table.empty:
            print("No estimators are registered yet.")
        else:
            wide = [max(len(c), *(len(str(v)) for v in table[c])) for c in ("name", "family")]
            print(f"{'name':<{wide[0]}}  {'family':<{wide[1]}}  summary")
            for row in table.itertuples(index=False):
                print(f"{row.name:<{wide[0]}}  {row.family:<{wide[1]}}  {row.summary}")
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    if not args.method:
        raise UserError("name the estimator: utvardering estimate METHOD ... "
                        "(utvardering estimate --list shows them).")
    missing = [f"--{k}" for k in ("data", "outcome") if getattr(args, k) is None]
    if missing:
        raise UserError(f"estimate needs {' and '.join(missing)}.")
    options = parse_settings(args.set)
    flags = {"dropna": "--dropna", "allow_gaps": "--allow-gaps", "group": "--group COL",
             "post": "--post COL", "min_pre_periods": "--min-pre-periods N"}
    misplaced = [k for k in options if k in flags]
    if misplaced:
        raise UserError(f"{', '.join(misplaced)} describe the data, not the estimator: give "
                        f"{' and '.join(flags[k] for k in misplaced)} instead of --set.")
    ways = [args.treated is not None, args.cohort is not None,
            args.group is not None or args.post is not None]
    if sum(ways) != 1:
        raise UserError("say who is treated in one way: --treated A,B with --start PERIOD, "
                        "--cohort COL, or --group COL with --post COL (the 2×2 form).")
    if args.treated is not None and args.start is None:
        raise UserError("--treated needs --start PERIOD (the first treated period, e.g. 2018-10).")
    if ways[2] and (args.group is None or args.post is None):
        raise UserError("the 2×2 form needs both --group COL (1 = treated unit) and --post COL "
                        "(1 = period after the start).")
    try:
        info = get_estimator(args.method)
    except DesignError:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        raise
    _check_options(info.function, f"estimator {args.method!r}", options, skip_first=True)
    if "level" in options:
        options["level"] = check_level(options["level"])
    frame = read_table(args.data)
    for flag, column in (("--unit", args.unit), ("--time", args.time), ("--group", args.group),
                         ("--post", args.post), ("--cohort", args.cohort)):
        if column is not None and column not in frame.columns:
            raise DataError(f"{flag} column {column!r} is not in {args.data!r}; its columns are "
                            f"{', '.join(map(str, frame.columns))}.")
    units, times = frame[args.unit], frame[args.time]
    design = dict(
        treated=like_column(split_list(args.treated), units),
        start=period_arg(args.start, times),
        cohort=args.cohort,
    )
    if ways[2]:
        design = group_post_design(frame, args.unit, args.time, args.group, args.post)
        if args.min_pre_periods is None:
            design["min_pre_periods"] = 1  # a 2×2 needs one pre-period
    elif args.min_pre_periods is not None:
        design["min_pre_periods"] = args.min_pre_periods
    try:
        study = (info.design or Study)(
            frame, outcome=args.outcome, unit=args.unit, time=args.time,
            end=period_arg(args.end, times),
            donors=like_column(split_list(args.donors), units),
            exclude=like_column(split_list(args.exclude), units), exposure=args.exposure,
            covariates=split_list(args.covariates), counts=True if args.count else None,
            dropna=args.dropna, allow_gaps=args.allow_gaps, **design,
        )
        effect = info.function(study, **options)
    except (UserError, DataError, DesignError) as exc:
        raise type(exc)(in_cli_words(str(exc))) from exc
    except Exception as exc:
        if getattr(args, "traceback", False):
            raise
        given = ", ".join(f"{k}={v!r}" for k, v in options.items())
        raise UserError(
            f"estimator {args.method!r} stopped with {type(exc).__name__}: {exc}"
            + (f" (options: {given})" if given else "")
            + ". Check the options and the design; `utvardering --traceback estimate ...` "
            "shows where it stopped.") from exc
    print(effect.to_json(indent=2) if args.json else effect.summary())
    return 0


# -- parser -------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``utvardering`` command."""
    parser = argparse.ArgumentParser(
        prog="utvardering",
        description="Evaluate crime-prevention interventions (DiD, synthetic control, BSTS).")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an error (for bug reports)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ds = sub.add_parser("datasets", help="list or export the bundled datasets")
    ds_sub = ds.add_subparsers(dest="action", metavar="ACTION", required=True)
    ds_sub.add_parser("list", help="every bundled dataset with its provenance").set_defaults(
        handler=cmd_datasets_list)
    export = ds_sub.add_parser("export", help="write a bundled dataset to CSV or Parquet")
    export.add_argument("name", help="dataset name (see `utvardering datasets list`)")
    export.add_argument("file", help="output file (.csv, or .parquet with pyarrow)")
    export.set_defaults(handler=cmd_datasets_export)

    val = sub.add_parser("validate", help="check a panel or survey file and print every problem")
    val.add_argument("file", help="CSV or Parquet file")
    val.add_argument("--unit", default="unit", help="unit column (default: unit)")
    val.add_argument("--time", default="time", help="time column (default: time)")
    val.add_argument("--outcome", help="outcome column(s), comma-separated")
    val.add_argument("--count", action="store_true", help="the outcomes are event counts")
    val.add_argument("--exposure", help="population (exposure) column")
    val.add_argument("--allow-gaps", action="store_true", help="accept an unbalanced panel")
    val.add_argument("--survey", action="store_true", help="check survey micro-data instead")
    val.add_argument("--respondent", default="respondent", help="respondent id column (survey)")
    val.add_argument("--weight", default="weight", help="survey weight column (survey)")
    val.add_argument("--item", action="append", metavar="NAME=LOW:HIGH",
                     help="survey item and its answer range (repeatable)")
    val.set_defaults(handler=cmd_validate)

    sim = sub.add_parser("simulate", help="run a simulated Malmö world and write it to a file")
    sim.add_argument("world", help="world name, e.g. shootings, area_crime, safety_survey, schools")
    sim.add_argument("--seed", type=int, required=True, help="random seed")
    sim.add_argument("--out", required=True, help="output file (.csv or .parquet)")
    sim.add_argument("--set", action="append", metavar="KEY=VALUE", help="simulator option")
    sim.set_defaults(handler=cmd_simulate)

    est = sub.add_parser("estimate", help="run a registered estimator on a panel")
    est.add_argument("method", nargs="?", help="estimator name (see --list)")
    est.add_argument("--list", action="store_true", help="list the registered estimators")
    est.add_argument("--data", help="CSV/Parquet file or bundled dataset name")
    est.add_argument("--unit", default="unit", help="unit column (default: unit)")
    est.add_argument("--time", default="time", help="time column (default: time)")
    est.add_argument("--outcome", help="outcome column")
    est.add_argument("--treated", help="treated units, comma-separated")
    est.add_argument("--start", help="first treated period, e.g. 2018-10 or 1989")
    est.add_argument("--end", help="last period the intervention was in force")
    est.add_argument("--cohort", help="column with each unit's first treated period (0 = never)")
    est.add_argument("--group", help="2×2 form: column marking the treated units (0/1), with --post")
    est.add_argument("--post", help="2×2 form: column marking the periods from the start on (0/1)")
    est.add_argument("--donors", help="comparison units, comma-separated")
    est.add_argument("--exclude", help="units kept out of the donor pool, comma-separated")
    est.add_argument("--exposure", help="population (exposure) column")
    est.add_argument("--count", action="store_true", help="the outcome is an event count")
    est.add_argument("--covariates", help="numeric covariate columns, comma-separated")
    est.add_argument("--dropna", action="store_true",
                     help="drop unit-periods whose outcome is missing (they are reported)")
    est.add_argument("--allow-gaps", action="store_true",
                     help="accept an unbalanced panel (for estimators that can use one)")
    est.add_argument("--min-pre-periods", type=int, default=None,
                     help="fewest pre-treatment periods allowed per treated unit "
                          "(default: the Study's)")
    est.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="estimator option; values parsed as JSON when possible (repeatable)")
    est.add_argument("--json", action="store_true", help="print the Effect as JSON")
    est.set_defaults(handler=cmd_estimate)
    for module in subcommand_modules():
        module.register(sub)
    return parser


def subcommand_modules() -> list:
    """The modules ``utvardering.cli_<name>`` that define ``register(subparsers)``, by name.

    Each adds one subcommand (``cli_run`` adds ``run``); a new subcommand is a new module, so
    several people can add commands without editing this file.
    """
    found = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("cli_"):
            module = importlib.import_module(f"utvardering.{info.name}")
            if callable(getattr(module, "register", None)):
                found.append(module)
    return found


def describe_error(exc: BaseException) -> str:
    """One line saying what went wrong, for ``error: ...`` (no traceback).

    The library's own errors (:class:`~utvardering.errors.DataError`,
    :class:`~utvardering.errors.DesignError`) and command-line mistakes already say what to
    fix; file-system errors name the file; anything else is reported with its type, as an
    estimator or reader that stopped, with the hint to rerun with ``--traceback``.
    """
    if isinstance(exc, UserError | DataError | DesignError):
        text = str(exc)
    elif isinstance(exc, tomllib.TOMLDecodeError):
        text = f"a configuration file is not valid TOML: {exc}"
    elif isinstance(exc, IsADirectoryError):
        text = f"{exc.filename!s} is a folder, not a file."
    elif isinstance(exc, FileExistsError):
        text = f"{exc.filename!s} already exists and is not a folder."
    elif isinstance(exc, OSError) and exc.filename is not None:
        text = f"cannot use {exc.filename!s}: {exc.strerror or exc}."
    elif isinstance(exc, OSError):
        text = f"{exc.strerror or exc}."
    else:
        text = (f"stopped with {type(exc).__name__}: {exc} (rerun with "
                "`utvardering --traceback ...` to see where; please report it if the input is "
                "valid).")
    return " ".join(text.split("\n")) if "\n" in text else text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 validation problems, 2 errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    previous = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        return int(args.handler(args))
    except BrokenPipeError:  # e.g. `utvardering datasets list | head`
        return 0
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(f"error: {describe_error(exc)}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = previous


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings on the command line: ``warning (DataWarning): ...``, no source line."""
    return f"warning ({category.__name__}): {message}\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
