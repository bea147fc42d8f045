"""Write the bundled fixed-seed realisations of the simulated Malmö worlds.

Usage::

    python scripts/make_simulated_datasets.py            # (re)write all five worlds
    python scripts/make_simulated_datasets.py --check    # exit 1 if the files are stale

Each world in ``utvardering.data.bundled.BUNDLED_SIMULATIONS`` is simulated with its fixed
seed and written to ``src/utvardering/data/files/sim_<name>.csv.gz`` (gzip CSV, monthly
periods as "2018-10", reproducible bytes) with a sidecar ``sim_<name>.truth.json`` holding
the true effects, the seed and the generator version. Re-run it whenever
``GENERATOR_VERSION`` changes; ``tests/data/test_simulate.py`` fails while the files are
out of date.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from utvardering.data.bundled import BUNDLED_SIMULATIONS, write_bundled_simulation

FILES = Path(__file__).resolve().parents[1] / "src" / "utvardering" / "data" / "files"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FILES, help="output folder")
    parser.add_argument("--check", action="store_true",
                        help="only compare freshly made files with those in --out")
    args = parser.parse_args(argv)
    if args.check:
        stale = []
        with tempfile.TemporaryDirectory() as tmp:
            for name in BUNDLED_SIMULATIONS:
                for path in write_bundled_simulation(name, tmp):
                    old = args.out / path.name
                    if not old.exists() or old.read_bytes() != path.read_bytes():
                        stale.append(path.name)
        for name in stale:
            print(f"stale: {name} (run scripts/make_simulated_datasets.py)", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in BUNDLED_SIMULATIONS:
        csv_path, json_path = write_bundled_simulation(name, args.out)
        print(f"{name}: {csv_path.name} ({csv_path.stat().st_size / 1e6:.2f} MB), {json_path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
