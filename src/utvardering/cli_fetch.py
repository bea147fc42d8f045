"""``utvardering fetch``: download the real panels into a cache and write them as tidy files.

Subcommands::

    utvardering fetch police-shootings [--years 2017-2024] [--cache DIR] [--offline] [--out FILE]
    utvardering fetch kolada KPI [KPI ...] --years 2015-2023 [--municipality 1280,0180]
                             [--gender T|K|M|all] [--cache DIR] [--offline] [--out FILE]

Files are kept in the cache directory (default ``$UTVARDERING_CACHE`` or
``~/.cache/utvardering``); ``--offline`` reads only the cache. Beside the output file,
``<out>.provenance.json`` records every download (URL, UTC time, SHA-256, from cache or not)
and the output's own SHA-256. This is the only command that uses the network.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .cli_io import split_list, write_table

__all__ = ["add_fetch_parser", "cmd_fetch_kolada", "cmd_fetch_police"]


def _years(text: str) -> list[int]:
    from .data.sources.kolada import parse_years as parse

    try:
        return parse(text)
    except ValueError:
        from .cli_io import UserError

        raise UserError(f"--years {text!r} is not a year list such as 2017-2024 or "
                        "2019,2021.") from None


def _write(frame: pd.DataFrame, out: str | None, default: Path, args: argparse.Namespace,
           what: str) -> int:
    from .report.provenance import sha256_file

    path = Path(out) if out else default
    if not out:
        path.parent.mkdir(parents=True, exist_ok=True)
    written = write_table(frame, str(path))
    record = {
        "arguments": {k: v for k, v in vars(args).items() if k != "handler"},
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "output": str(written), "output_sha256": sha256_file(written), "rows": len(frame),
        "fetches": frame.attrs.get("provenance", []),
        "source": frame.attrs.get("source"),
    }
    Path(f"{written}.provenance.json").write_text(
        json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    cached = sum(1 for f in record["fetches"] if f.get("from_cache"))
    print(f"wrote {what}: {len(frame)} rows × {frame.shape[1]} columns to {written} "
          f"({len(record['fetches'])} file(s), {cached} from the cache; provenance in "
          f"{written}.provenance.json)")
    return 0


def cmd_fetch_police(args: argparse.Namespace) -> int:
    """Download the Police's yearly PDFs and write the region × month panel."""
    from .data.sources.fetching import default_cache_dir
    from .data.sources.police_pdf import fetch_police_shootings

    cache = Path(args.cache) if args.cache else default_cache_dir()
    years = _years(args.years)
    panel = fetch_police_shootings(years, cache=cache, offline=args.offline)
    default = cache / f"police_shootings_{min(years)}-{max(years)}.csv"
    return _write(panel, args.out, default, args, "police shootings (region × month)")


def cmd_fetch_kolada(args: argparse.Namespace) -> int:
    """Download Kolada KPI values and write the municipality × year panel."""
    from .data.sources.fetching import default_cache_dir
    from .data.sources.kolada import fetch_kolada

    cache = Path(args.cache) if args.cache else default_cache_dir()
    years = _years(args.years)
    gender = None if args.gender == "all" else args.gender
    panel = fetch_kolada(args.kpi, years, municipalities=split_list(args.municipality),
                         gender=gender, cache=cache, offline=args.offline)
    default = cache / f"kolada_{'_'.join(args.kpi)}_{min(years)}-{max(years)}.csv"
    return _write(panel, args.out, default, args, f"Kolada {', '.join(args.kpi)}")


def add_fetch_parser(sub) -> None:
    """Register ``fetch police-shootings`` and ``fetch kolada`` on an argparse subparsers object."""
    fetch = sub.add_parser("fetch", help="download real public panels into a cache "
                                         "(the only command that uses the network)")
    fsub = fetch.add_subparsers(dest="source", metavar="SOURCE", required=True)

    def common(p):
        p.add_argument("--cache", help="cache directory (default $UTVARDERING_CACHE or "
                                       "~/.cache/utvardering)")
        p.add_argument("--offline", action="store_true", help="read only the cache")
        p.add_argument("--out", help="output file (.csv or .parquet; default in the cache)")

    police = fsub.add_parser("police-shootings", help="the Police's yearly PDFs: 7 regions × "
                                                      "12 months, shootings, dead, injured")
    police.add_argument("--years", default="2017-2024", help="years, e.g. 2017-2024 (default)")
    common(police)
    police.set_defaults(handler=cmd_fetch_police)

    kolada = fsub.add_parser("kolada", help="Kolada KPIs per municipality and year "
                                            "(e.g. N07540, N07403)")
    kolada.add_argument("kpi", nargs="+", help="KPI id(s), e.g. N07540")
    kolada.add_argument("--years", required=True, help="years, e.g. 2015-2023")
    kolada.add_argument("--municipality", help="municipality codes, comma-separated "
                                               "(default all), e.g. 1280,0180")
    kolada.add_argument("--gender", default="T", choices=["T", "K", "M", "all"],
                        help="T total (default), K women, M men, or all")
    common(kolada)
    kolada.set_defaults(handler=cmd_fetch_kolada)


def register(sub) -> None:
    """Add the ``fetch`` subcommand (found by :func:`utvardering.cli.subcommand_modules`)."""
    add_fetch_parser(sub)
