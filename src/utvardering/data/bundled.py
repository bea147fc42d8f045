"""The bundled fixed-seed realisations of the simulated worlds: writing and reading.

``scripts/make_simulated_datasets.py`` writes each world in :data:`BUNDLED_SIMULATIONS`
to ``utvardering/data/files/`` as a gzip CSV (monthly periods as ``"2018-10"``) with a JSON
sidecar holding the truth; :func:`read_bundled_simulation` reads them back with the same
dtypes the simulator returns.
"""

from __future__ import annotations

import gzip
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError

__all__ = ["BUNDLED_SIMULATIONS", "read_bundled_simulation", "write_bundled_simulation"]

#: Name → how the bundled realisation was made and where it lives in the package.
BUNDLED_SIMULATIONS: dict[str, dict[str, Any]] = {
    "shootings": {
        "function": "simulate_shootings",
        "seed": 2018,
        "file": "sim_shootings.csv.gz",
        "truth_file": "sim_shootings.truth.json",
        "period_columns": ["time"],
        "description": "Simulated monthly confirmed shootings (with dead and injured) in 20 "
                       "Swedish cities 2014-2023; Malmö treated by Sluta skjut from 2018-10 "
                       "with a true rate ratio of 0.6.",
    },
    "area_crime": {
        "function": "simulate_area_crime",
        "seed": 2021,
        "file": "sim_area_crime.csv.gz",
        "truth_file": "sim_area_crime.truth.json",
        "period_columns": ["time"],
        "description": "Simulated monthly reported crime (violence, theft, drugs, public "
                       "order) in 136 Malmö areas 2017-2023; security guards at Möllevången "
                       "14 June 2021 - 31 Dec 2022.",
    },
    "safety_survey": {
        "function": "simulate_safety_survey",
        "seed": 2022,
        "file": "sim_safety_survey.csv.gz",
        "truth_file": "sim_safety_survey.truth.json",
        "period_columns": [],
        "description": "Simulated yearly local safety survey 2017-2023 (respondents only, "
                       "design and calibration weights) in Möllevången, its neighbours and "
                       "24 comparison areas; the share feeling unsafe falls by 0.08.",
    },
    "schools": {
        "function": "simulate_schools",
        "seed": 2019,
        "file": "sim_schools.csv.gz",
        "truth_file": "sim_schools.truth.json",
        "period_columns": ["time", "first_search"],
        "description": "Simulated monthly drug and other offences near 60 schools 2017-2022; "
                       "12 searched by narcotics dogs on staggered dates in spring 2019.",
    },
    "school_survey": {
        "function": "simulate_school_survey",
        "seed": 2019,
        "file": "sim_school_survey.csv.gz",
        "truth_file": "sim_school_survey.truth.json",
        "period_columns": ["first_search"],
        "description": "Simulated yearly student survey 2017-2022 (drug use, feeling safe) "
                       "in the same 60 schools; true prevalence ratio 0.85 after a search.",
    },
}


def _entry(name: str) -> dict[str, Any]:
    try:
        return BUNDLED_SIMULATIONS[name]
    except KeyError:
        raise DataError(
            f"no bundled simulation called {name!r}; choose one of {sorted(BUNDLED_SIMULATIONS)}."
        ) from None


def _to_csv_frame(df: pd.DataFrame, period_columns: list[str]) -> pd.DataFrame:
    out = df.copy()
    for col in period_columns:
        out[col] = out[col].astype(str).where(out[col].notna(), None)
    return out


def write_bundled_simulation(name: str, directory: str | Path) -> tuple[Path, Path]:
    """Simulate the bundled realisation ``name`` and write its gzip CSV and truth sidecar.

    Parameters
    ----------
    name : str
        A key of :data:`BUNDLED_SIMULATIONS`.
    directory : str or pathlib.Path
        Where to write (normally ``src/utvardering/data/files``).

    Returns
    -------
    tuple of pathlib.Path
        The CSV and JSON paths. Output bytes are reproducible (gzip ``mtime`` is 0).
    """
    import numpy as np
    import scipy

    from . import simulate as sim

    entry = _entry(name)
    df = getattr(sim, entry["function"])(seed=entry["seed"])
    directory = Path(directory)
    csv_path, json_path = directory / entry["file"], directory / entry["truth_file"]
    text = _to_csv_frame(df, entry["period_columns"]).to_csv(index=False, lineterminator="\n")
    with open(csv_path, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9
    ) as gz:
        gz.write(text.encode("utf-8"))
    sidecar = {
        "dataset": name,
        "description": entry["description"],
        "file": entry["file"],
        "function": f"utvardering.data.simulate.{entry['function']}",
        "seed": entry["seed"],
        "generator_version": df.attrs["truth"]["generator_version"],
        "created_with": {"numpy": np.__version__, "scipy": scipy.__version__,
                         "pandas": pd.__version__},
        "made_by": "scripts/make_simulated_datasets.py",
        "truth": df.attrs["truth"],
    }
    json_path.write_text(json.dumps(sidecar, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return csv_path, json_path


def read_bundled_simulation(name: str) -> pd.DataFrame:
    """Read a bundled simulated world with its truth.

    Parameters
    ----------
    name : str
        ``"shootings"``, ``"area_crime"``, ``"safety_survey"``, ``"schools"`` or
        ``"school_survey"`` (the keys of :data:`BUNDLED_SIMULATIONS`).

    Returns
    -------
    pandas.DataFrame
        The data with the simulator's dtypes (monthly ``time`` and ``first_search`` as
        Period, yearly ``time`` as int), ``attrs["truth"]`` from the JSON sidecar and
        ``attrs["provenance"]`` (seed, generator version, library versions used).

    Raises
    ------
    DataError
        If ``name`` is unknown.
    """
    entry = _entry(name)
    folder = resources.files("utvardering.data") / "files"
    with (folder / entry["file"]).open("rb") as raw:
        text = gzip.decompress(raw.read()).decode("utf-8")
    # pandas >= 3 parses floats exactly by default and deprecates the option.
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    df = pd.read_csv(io.StringIO(text), **exact)
    for col in entry["period_columns"]:
        df[col] = pd.to_datetime(df[col], format="%Y-%m").dt.to_period("M")
    sidecar = json.loads((folder / entry["truth_file"]).read_text(encoding="utf-8"))
    df.attrs["truth"] = sidecar.pop("truth")
    df.attrs["provenance"] = sidecar
    return df
