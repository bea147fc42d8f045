"""The bundled datasets: simulated Malmö worlds and published reference data.

Two kinds of data ship inside the package (under ``utvardering/data/files/``, found with
:mod:`importlib.resources`, never read from anywhere else):

- **simulated** — one fixed-seed realisation of each simulated Malmö world
  (:mod:`utvardering.data.simulate`), with the true effects stored alongside;
- **reference** — public replication datasets of the papers whose numbers the test suite
  reproduces (Proposition 99, mpdta, castle doctrine, ...), byte-identical to their sources,
  with provenance and SHA-256 hashes in :data:`~utvardering.data.reference.REFERENCE_DATASETS`.

:func:`list_datasets` describes them all; ``load_<name>()`` returns a validated DataFrame;
:func:`load_dataset` loads any of them by name. The same functions are available as
``utvardering.datasets.list()`` and ``utvardering.datasets.load_prop99()`` etc.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import hashlib
import io
from typing import Any

import pandas as pd

from ..errors import DataError
from .bundled import BUNDLED_SIMULATIONS, read_bundled_simulation
from .reference import REFERENCE_DATASETS, bundled_file, file_sha256, load_causalimpact_comparison
from .reference_did import load_card_krueger, load_castle, load_ehec, load_mpdta
from .reference_synth import load_basque, load_germany, load_prop99, load_prop99_covariates
from .schema import validate_panel
from .schema_micro import validate_survey

__all__ = [
    "bundled_file",
    "dataset_names",
    "file_sha256",
    "list_datasets",
    "load_area_crime",
    "load_basque",
    "load_card_krueger",
    "load_castle",
    "load_causalimpact_comparison",
    "load_dataset",
    "load_ehec",
    "load_germany",
    "load_mpdta",
    "load_prop99",
    "load_prop99_covariates",
    "load_safety_survey",
    "load_school_survey",
    "load_schools",
    "load_shootings",
]

#: How each bundled simulation is checked on loading: a panel (count outcomes, exposure)
#: or survey micro-data (items and their answer ranges).
_SIMULATED_CONTRACTS: dict[str, dict[str, Any]] = {
    "shootings": {"counts": ["shootings", "dead", "injured", "shootings_y0"],
                  "exposure": "population"},
    "area_crime": {"counts": ["violence", "theft", "drugs", "public_order", "violence_y0",
                              "theft_y0", "drugs_y0", "public_order_y0"],
                   "exposure": "population"},
    "schools": {"counts": ["drug_offences", "other_offences", "drug_offences_y0",
                           "other_offences_y0"]},
    "safety_survey": {"items": {
        "unsafe_evening": (1, 4), "unsafe_evening_y0": (1, 4), "problem_drugs": (1, 5),
        "problem_litter": (1, 5), "problem_vandalism": (1, 5), "problem_loitering": (1, 5),
        "problem_disturbance": (1, 5), "victim": (0, 1)}},
    "school_survey": {"items": {"drug_use": (0, 1), "drug_use_y0": (0, 1),
                                "safe_school": (1, 4), "safe_school_y0": (1, 4)}},
}

_LIST_COLUMNS = ["name", "kind", "description", "shape", "source", "original_study", "licence",
                 "sha256", "loader", "reproduces"]


def _file_facts(file: str) -> tuple[tuple[int, int], str]:
    """(rows, columns) and SHA-256 of a bundled CSV or gzip CSV, without parsing it."""
    raw = bundled_file(file).read_bytes()
    text = gzip.decompress(raw) if file.endswith(".gz") else raw
    first = text.split(b"\n", 1)[0].decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(first)), [])
    rows = text.count(b"\n") - (1 if text.endswith(b"\n") else 0)
    return (rows, len(header)), hashlib.sha256(raw).hexdigest()


def _simulated_rows() -> list[dict[str, Any]]:
    rows = []
    for name, entry in BUNDLED_SIMULATIONS.items():
        shape, digest = _file_facts(entry["file"])
        rows.append({
            "name": name, "kind": "simulated", "description": entry["description"],
            "shape": shape,
            "source": f"utvardering.data.simulate.{entry['function']}(seed={entry['seed']}), "
                      f"file {entry['file']} (made by scripts/make_simulated_datasets.py)",
            "original_study": "simulated Malmö-like world; true effects in "
                              f"{entry.get('truth_file', 'the truth sidecar')}",
            "licence": "MIT (utvardering)", "sha256": digest, "loader": f"load_{name}",
            "reproduces": "its stored true effects (attrs['truth'])",
        })
    return rows


def list_datasets() -> pd.DataFrame:
    """Describe every bundled dataset, simulated and reference, with its provenance.

    Available as ``utvardering.datasets.list()``.

    Returns
    -------
    pandas.DataFrame
        One row per dataset with columns ``name``, ``kind`` (``"simulated"`` or
        ``"reference"``), ``description``, ``shape`` ((rows, columns) of the file),
        ``source`` (where the file comes from, or the simulator call that made it),
        ``original_study``, ``licence``, ``sha256`` (of the bundled file), ``loader`` (the
        ``load_<name>`` function) and ``reproduces`` (the published results it is used for).

    Examples
    --------
    >>> from utvardering.data.datasets import list_datasets
    >>> table = list_datasets()
    >>> table.loc[table["name"] == "prop99", "shape"].item()
    (1209, 4)
    """
    rows = _simulated_rows()
    rows += [{
        "name": e.name, "kind": "reference", "description": e.description, "shape": e.shape,
        "source": e.source, "original_study": e.original_study, "licence": e.licence,
        "sha256": e.sha256, "loader": e.loader, "reproduces": e.reproduces,
    } for e in REFERENCE_DATASETS.values()]
    return pd.DataFrame(rows, columns=_LIST_COLUMNS)


def dataset_names() -> list[str]:
    """Names of all bundled datasets (simulated first, then reference)."""
    return [*BUNDLED_SIMULATIONS, *REFERENCE_DATASETS]


def load_dataset(name: str, **kwargs: Any) -> pd.DataFrame:
    """Load a bundled dataset by name (``"prop99"``, ``"shootings"``, ...).

    Parameters
    ----------
    name : str
        A name listed by :func:`list_datasets`.
    **kwargs
        Passed to the dataset's loader (e.g. ``covariates=True`` for ``"prop99"``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        If no dataset has that name (the message lists the names and close matches).
    """
    names = dataset_names()
    if name not in names:
        close = difflib.get_close_matches(str(name), names, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise DataError(
            f"no bundled dataset named {name!r}.{hint} Bundled datasets: {', '.join(names)} "
            "(see utvardering.datasets.list())."
        )
    loader = globals().get(f"load_{name}")
    return loader(**kwargs) if loader is not None else _load_simulated(name)


def _load_simulated(name: str) -> pd.DataFrame:
    """Read a bundled simulation and check it against its data contract."""
    frame = read_bundled_simulation(name)
    attrs = dict(frame.attrs)
    contract = _SIMULATED_CONTRACTS.get(name, {})
    if "items" in contract:
        checked = validate_survey(frame, respondent="respondent", unit="unit", time="time",
                                  weight="weight", items=contract["items"]).data
    else:
        panel = validate_panel(frame, unit="unit", time="time", counts=contract.get("counts", ()),
                               exposure=contract.get("exposure"))
        checked = panel.data.sort_values(["unit", "time"], kind="stable", ignore_index=True)
        checked = checked[list(frame.columns)]
    checked.attrs.update(attrs)
    return checked


_SIM_NOTES = """Notes
    -----
    Simulated by utvardering (MIT licence) with the seed recorded in
    :data:`~utvardering.data.bundled.BUNDLED_SIMULATIONS` (see :func:`list_datasets`); the
    generative model is on the documentation page of the simulated worlds. ``attrs["truth"]``
    holds the true and realised effects computed from the potential outcomes (the ``*_y0``
    columns), which estimators should recover; ``attrs["provenance"]`` records the seed,
    generator version and library versions."""


def _with_notes(function):
    function.__doc__ = function.__doc__.replace("NOTES", _SIM_NOTES)
    return function


@_with_notes
def load_shootings() -> pd.DataFrame:
    """Simulated confirmed shootings in 20 Swedish cities, 2014–2023 (Sluta skjut).

    The bundled realisation of :func:`utvardering.data.simulate.simulate_shootings`: Malmö is
    treated from 2018-10 with a true rate ratio of 0.6; Malmö's pre-2018 level follows the
    public figures (59 and 65 confirmed shootings in 2016 and 2017).

    Returns
    -------
    pandas.DataFrame
        2400 rows (20 cities × 120 months), sorted by ``unit`` and ``time``:

        - ``unit`` (str): city / police area; ``region`` (str): police region;
        - ``time`` (monthly Period): 2014-01 … 2023-12;
        - ``shootings``, ``dead``, ``injured`` (int): confirmed shootings and casualties;
        - ``population`` (int): residents (exposure);
        - ``treated`` (int): 1 for Malmö from 2018-10;
        - ``shootings_y0`` (int): shootings without the programme (potential outcome);
        - ``mu0``, ``mu`` (float): expected counts without and with the programme.
    """
    return _load_simulated("shootings")


@_with_notes
def load_area_crime() -> pd.DataFrame:
    """Simulated reported crime in 136 Malmö areas, 2017–2023 (Möllevången guards).

    The bundled realisation of :func:`utvardering.data.simulate.simulate_area_crime`:
    security guards at Möllevången from 14 June 2021 to 31 December 2022.

    Returns
    -------
    pandas.DataFrame
        11424 rows (136 areas × 84 months), sorted by ``unit`` and ``time``:

        - ``unit`` (str): area; ``time`` (monthly Period): 2017-01 … 2023-12;
        - ``violence``, ``theft``, ``drugs``, ``public_order`` (int): reported offences;
        - ``population`` (int): residents (exposure);
        - ``treated`` (int): 1 in months with any day of guarding; ``treated_share``
          (float): share of the month in force;
        - ``neighbour`` (int): 1 for areas bordering Möllevången (candidates for
          displacement or diffusion — keep them out of the donor pool);
        - ``violence_y0``, ``theft_y0``, ``drugs_y0``, ``public_order_y0`` (int): counts
          without the guards.
    """
    return _load_simulated("area_crime")


@_with_notes
def load_safety_survey() -> pd.DataFrame:
    """Simulated yearly local safety survey, 2017–2023 (repeated cross-sections).

    The bundled realisation of :func:`utvardering.data.simulate.simulate_safety_survey`:
    respondents only (about 50% response, related to age) in Möllevången, its neighbours and
    24 comparison areas; the share feeling unsafe in Möllevången falls by 0.08 after the
    guards start. Validated with :func:`~utvardering.data.schema_micro.validate_survey`.

    Returns
    -------
    pandas.DataFrame
        31159 rows, one per respondent:

        - ``respondent`` (int), ``unit`` (str): area, ``time`` (int): survey year;
        - ``age`` (int), ``age_group`` (str), ``sex`` (str);
        - ``design_weight`` (float), ``weight`` (float): calibrated to the area's population
          by age group × sex;
        - ``treated``, ``neighbour`` (int);
        - ``unsafe_evening`` (int, 1 very safe … 4 very unsafe) and ``unsafe_evening_y0``;
        - ``problem_drugs``, ``problem_litter``, ``problem_vandalism``,
          ``problem_loitering``, ``problem_disturbance`` (int, 1 no problem … 5 very big
          problem); ``problem_index`` (float, their mean) and ``problem_index_y0``;
        - ``victim`` (int, 0/1).
    """
    return _load_simulated("safety_survey")


@_with_notes
def load_schools() -> pd.DataFrame:
    """Simulated offences near 60 schools, 2017–2022 (Drogfri skola).

    The bundled realisation of :func:`utvardering.data.simulate.simulate_schools`: 12 schools
    searched by narcotics dogs on staggered dates in spring 2019.

    Returns
    -------
    pandas.DataFrame
        4320 rows (60 schools × 72 months), sorted by ``unit`` and ``time``:

        - ``unit`` (str): pseudonymous school id; ``school_type`` (str); ``enrolment`` (int);
        - ``time`` (monthly Period): 2017-01 … 2022-12;
        - ``drug_offences``, ``other_offences`` (int): reported offences near the school;
        - ``first_search`` (monthly Period, missing if never searched): the cohort;
        - ``treated`` (int): 1 from the school's first search;
        - ``drug_offences_y0``, ``other_offences_y0`` (int): counts without searches.
    """
    return _load_simulated("schools")


@_with_notes
def load_school_survey() -> pd.DataFrame:
    """Simulated yearly student survey in the 60 schools, 2017–2022 (Drogfri skola).

    The bundled realisation of :func:`utvardering.data.simulate.simulate_school_survey`
    (same schools and search dates as :func:`load_schools`); true prevalence ratio of drug
    use 0.85 after a search. Validated with
    :func:`~utvardering.data.schema_micro.validate_survey`.

    Returns
    -------
    pandas.DataFrame
        43997 rows, one per responding student:

        - ``respondent`` (int), ``unit`` (str): school, ``school_type`` (str),
          ``time`` (int): survey year, ``sex`` (str);
        - ``weight`` (float): students of the grade by sex / respondents by sex;
        - ``first_search`` (monthly Period, missing if never searched), ``treated`` (int);
        - ``drug_use`` (int, 0/1) and ``drug_use_y0``;
        - ``safe_school`` (int, 1 … 4) and ``safe_school_y0``.
    """
    return _load_simulated("school_survey")
