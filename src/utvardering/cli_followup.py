"""``utvardering followup --year 2022``: the annual follow-up report by area.

Without data files it runs on the simulated annual world (136 areas, 2015–2022, known real
changes) and adds a truth check; with ``--survey FILE`` (and/or ``--counts FILE``) it runs on
those files. A TOML ``--config`` may set any of: ``year``, ``lang``, ``fdr``, ``baseline``
(``"level"`` / ``"linear"``), ``baseline_years``, ``small_area`` (``"eb"`` / ``"nuts"``),
``seed``, ``n_areas``, ``n_sampled``, ``survey``, ``counts``, ``real_example``, ``figures`` — at the top
level or under a ``[followup]`` table. Command-line flags win over the file.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

__all__ = ["cmd_followup", "register"]

_KEYS = {"year", "lang", "fdr", "baseline", "baseline_years", "small_area", "seed", "n_areas",
         "n_sampled", "survey", "counts", "real_example", "out", "figures"}


def _config(path: str | None) -> dict:
    if not path:
        return {}
    from .cli_io import UserError

    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    conf = dict(raw.get("followup", {}), **{k: v for k, v in raw.items() if k != "followup"})
    unknown = sorted(set(conf) - _KEYS)
    if unknown:
        raise UserError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}.")
    return conf


def cmd_followup(args: argparse.Namespace) -> int:
    """Run the follow-up and write the report; print where it is and the real changes."""
    import matplotlib

    matplotlib.use("Agg")
    from .cli_io import UserError, read_table
    from .followup import follow_up, truth_check, write_report

    conf = _config(args.config)
    pick = lambda name, default=None: (getattr(args, name, None)  # noqa: E731
                                       if getattr(args, name, None) is not None else conf.get(name, default))
    year = pick("year")
    if year is None:
        raise UserError("say which year to report: utvardering followup --year 2022.")
    year = int(year)
    lang = pick("lang", "en")
    if lang not in ("en", "sv"):
        raise UserError(f"lang={lang!r} must be 'en' or 'sv'.")
    began = time.perf_counter()
    survey_file, counts_file = pick("survey"), pick("counts")
    truth = None
    extra = {}
    if survey_file or counts_file:
        survey = read_table(survey_file) if survey_file else None
        counts = read_table(counts_file) if counts_file else None
        extra["data"] = {"survey": survey_file, "counts": counts_file}
    else:
        from .data.worlds.annual_survey import simulate_annual_followup

        seed = int(pick("seed", 2022))
        world_opts = {k: int(conf[k]) for k in ("n_areas", "n_sampled") if k in conf}
        world = simulate_annual_followup(seed=seed, **world_opts)
        if year not in set(world.survey["time"]) or year == world.survey["time"].min():
            raise UserError(f"the simulated world covers {world.info['years'][0]}–{world.info['years'][1]}; "
                            f"choose --year after {world.info['years'][0]}.")
        survey, counts, truth = world.survey, world.counts, world.truth
        extra["data"] = {"simulated_world": "annual_survey", "seed": seed, **world_opts,
                         "real_changes": world.info["changes"]}
    result = follow_up(survey, counts, year=year, fdr=float(pick("fdr", 0.10)),
                       baseline=pick("baseline", "level"), baseline_years=int(pick("baseline_years", 4)),
                       small_area=pick("small_area", "eb"), random_state=pick("seed"))
    check = truth_check(result, truth) if truth is not None and year == max(truth["time"]) else None
    out = Path(pick("out") or f"results/followup_{year}")
    written = write_report(result, out, lang=lang, truth_check=check, extra=extra,
                           real_example=bool(pick("real_example", True)),
                           figures=bool(pick("figures", True)))
    if not args.quiet:
        print(result.summary(lang))
        if check is not None:
            c = check["last"]
            b = check["baseline"]
            print(f"\ntruth check: vs last year {c['found']}/{c['true_changes']} real changes found, "
                  f"{c['false_flags']} false of {c['flags']} flags; vs baseline {b['found']}/"
                  f"{b['true_changes']} found, {b['false_flags']} false of {b['flags']} flags.")
    print(f"followup {year}: {written['report.html']} ({time.perf_counter() - began:.1f} s)", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add ``followup`` to the ``utvardering`` subcommands."""
    p = sub.add_parser("followup", help="annual follow-up by area: survey and crime, real changes vs noise")
    p.add_argument("--year", type=int, help="report year (e.g. 2022)")
    p.add_argument("--lang", choices=["en", "sv"], help="report language (default en)")
    p.add_argument("--config", help="TOML file with follow-up settings (see the methods page)")
    p.add_argument("--out", help="output folder (default results/followup_<year>)")
    p.add_argument("--survey", help="survey micro-data file (CSV/Parquet: unit, time, weight, items)")
    p.add_argument("--counts", help="police counts file (unit, time, population, offences)")
    p.add_argument("--seed", type=int, help="seed of the simulated world (default 2022)")
    p.add_argument("--fdr", type=float, help="false discovery rate of the change flags (default 0.10)")
    p.add_argument("--small-area", dest="small_area", choices=["eb", "nuts"],
                   help="small-area model: empirical Bayes (default) or PyMC NUTS")
    p.add_argument("--quiet", action="store_true", help="print only where the report is")
    p.set_defaults(handler=cmd_followup)
