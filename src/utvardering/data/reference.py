"""The bundled reference datasets (published replication data): provenance and reading.

Each ``load_<name>()`` (here, in :mod:`~utvardering.data.reference_synth` and in
:mod:`~utvardering.data.reference_did`) reads ``utvardering/data/files/<name>.csv`` (located with
:mod:`importlib.resources`, so it works from an installed wheel), keeps the column names of
the source file, checks it against the Panel contract
(:func:`~utvardering.data.schema.validate_panel`) and returns a new DataFrame sorted by unit
and time with the source's column order. Provenance, licences and SHA-256 hashes of the
files are in :data:`REFERENCE_DATASETS` and ``data/files/README.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import numpy as np
import pandas as pd

from ..errors import DataError
from .schema import validate_panel

__all__ = [
    "REFERENCE_DATASETS",
    "ReferenceDataset",
    "bundled_file",
    "file_sha256",
    "integer_columns",
    "load_causalimpact_comparison",
    "read_reference",
    "reference_panel",
]


@dataclass(frozen=True)
class ReferenceDataset:
    """Provenance of one bundled reference file (facts from its source)."""

    name: str
    description: str
    shape: tuple[int, int]
    source: str
    original_study: str
    licence: str
    sha256: str
    reproduces: str

    @property
    def file(self) -> str:
        """File name under ``utvardering/data/files/``."""
        return f"{self.name}.csv"

    @property
    def loader(self) -> str:
        """Name of the loader function."""
        return f"load_{self.name}"


_ENTRIES = [
    ReferenceDataset(
        "prop99", "Per-capita cigarette sales, 39 US states 1970–2000; California treated from 1989",
        (1209, 4),
        "PyPI synthdid-py 0.1.0 synthdid/data/california_prop99.csv (identical to R "
        "synthdid::california_prop99 and CausalPy's copy)",
        "Abadie, Diamond & Hainmueller (2010), JASA 105(490):493–505",
        "BSD-3-Clause (synthdid-py); Apache-2.0 (CausalPy)",
        "369ea135d3b5bfc5b8bf987a3f8143a422bbc004e7d9bdacd7136ca666b027a2",
        "ADH (2010) synthetic control; Arkhangelsky et al. (2021) Table 1 SDID/SC/DiD",
    ),
    ReferenceDataset(
        "prop99_covariates", "ADH (2010) predictors for the 39 states of prop99 (gaps in early years)",
        (1209, 8),
        "nilshg/SynthControl.jl data/smoking.csv (cigsale equals prop99 within 5e-8)",
        "Abadie, Diamond & Hainmueller (2010), their covariate set",
        "MIT",
        "acbbe8cc0a727a5a3e4dd29fe8a69a63bc5e2ebabbb3597e9d74cf3b2ea673b4",
        "ADH (2010) synthetic control with their predictor set (Table 2 weights)",
    ),
    ReferenceDataset(
        "mpdta", "Log teen employment, 500 US counties 2003–2007, staggered minimum-wage rises",
        (2500, 6),
        "d2cml-ai/csdid data/mpdta.csv, a copy of R did::mpdta",
        "Callaway & Sant'Anna (2021), J. Econometrics 225(2):200–230",
        "MIT (csdid); R did is GPL-2",
        "6de12307bf51f8ed0d19e7445f4b2eff6ae6e7205959507926e2b815610bb25d",
        "R did 2.5.0 att_gt()/aggte() group-time ATTs and aggregations",
    ),
    ReferenceDataset(
        "castle", "Crime rates, 50 US states 2000–2010, staggered castle-doctrine laws",
        (550, 139),
        "PyPI causaldata 0.1.5 castle/castle.dta, converted to CSV",
        "Cheng & Hoekstra (2013), JHR 48(3):821–854 (FBI UCR data)",
        "MIT (causaldata)",
        "4de40a11d5f8efc44f865bc88f8d3824a52009691fc7adebf6bdc77d13698e57",
        "Cheng & Hoekstra (2013) ~8% homicide increase; TWFE cross-checks (pyfixest 0.60.0)",
    ),
    ReferenceDataset(
        "ehec", "Share insured, 46 US states 2008–2019, Medicaid expansion (HonestDiD example)",
        (552, 5),
        "Mixtape-Sessions/Advanced-DID Exercises/Data/ehec_data.csv",
        "Rambachan & Roth (2023) example (ACS-derived)",
        "none stated",
        "05bbae29421078afa724ad76f3610ac035c8e594c201b452123db2ee0fc07d84",
        "HonestDiD README robust intervals (relative magnitudes, smoothness)",
    ),
    ReferenceDataset(
        "causalimpact_comparison", "Daily series CHANGED and 3 controls, 2019-04-16 to 2019-08-01",
        (108, 5),
        "WillianFuks/tfcausalimpact tests/fixtures/comparison_data.csv",
        "CausalImpact R/Python comparison example",
        "Apache-2.0",
        "94cffe8a24a05a954db09cc939548a747632e3194c8f19385cf5dd8a22f84190",
        "R CausalImpact defaults: absolute effect −657, posterior probability 80%",
    ),
    ReferenceDataset(
        "basque", "GDP per capita and predictors, 17 Spanish regions and Spain 1955–1997",
        (774, 17),
        "sdfordham/pysyncon data/basque.csv (same data as R Synth::basque)",
        "Abadie & Gardeazabal (2003), AER 93(1):113–132",
        "MIT (repository)",
        "7f7f90d7a01984a33a2ea3efc311ce826c05b61234a52c27445adacc6f52bf70",
        "Example data; REFERENCES.md lists no results",
    ),
    ReferenceDataset(
        "germany", "GDP per capita and predictors, 17 OECD countries 1960–2003",
        (748, 11),
        "sdfordham/pysyncon data/germany.csv",
        "Abadie, Diamond & Hainmueller (2015), AJPS 59(2):495–510",
        "MIT (repository)",
        "d8350db086a3b4b4fc1c0a1c6f705d1e3a6c2be926a8685abcb61ed2f61a1b3a",
        "Example data; REFERENCES.md lists no results",
    ),
    ReferenceDataset(
        "card_krueger", "Employment in 410 fast-food stores, New Jersey and Pennsylvania, 2 waves 1992",
        (820, 27),
        "UChicago-pol-methods/SOSC13200-W22 data/card-krueger.csv (Angrist–Pischke MHE archive)",
        "Card & Krueger (1994), AER 84(4):772–793",
        "GPL-3.0 (repository)",
        "38473a9e61101ca3e52fe9c1345cfd8b1ddde075ab32ce05b4a1de41c0ef5ca7",
        "Example data; REFERENCES.md lists no results",
    ),
]

#: Provenance of every bundled reference file, by dataset name.
REFERENCE_DATASETS: dict[str, ReferenceDataset] = {e.name: e for e in _ENTRIES}


def bundled_file(file: str) -> Traversable:
    """The bundled file ``utvardering/data/files/<file>`` (located via importlib.resources)."""
    resource = resources.files("utvardering.data").joinpath("files", file)
    if not resource.is_file():
        raise DataError(
            f"bundled data file {file!r} is missing from the installed package "
            f"({resource}); reinstall utvardering (the wheel ships data/files/*)."
        )
    return resource


def file_sha256(file: str) -> str:
    """SHA-256 (hex) of a bundled file, to check it against its recorded hash."""
    return hashlib.sha256(bundled_file(file).read_bytes()).hexdigest()


def read_reference(name: str, **kwargs) -> pd.DataFrame:
    """Read the bundled reference dataset ``name`` (``kwargs`` go to :func:`pandas.read_csv`)."""
    with bundled_file(REFERENCE_DATASETS[name].file).open("rb") as handle:
        return pd.read_csv(handle, **kwargs)


def reference_panel(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcomes: Sequence[str] = (),
    counts: Sequence[str] = (),
    covariates: Sequence[str] = (),
) -> pd.DataFrame:
    """Validate ``frame`` as a panel; return it sorted by unit and time, source column order."""
    panel = validate_panel(frame, unit=unit, time=time, outcomes=list(outcomes),
                           counts=list(counts), covariates=list(covariates))
    ordered = panel.data.sort_values([unit, time], kind="stable", ignore_index=True)
    return ordered[list(frame.columns)]


def integer_columns(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Integral float columns (e.g. years written ``1955.0``) to int64."""
    for col in columns:
        values = frame[col].to_numpy(dtype=float)
        if not np.all(np.isfinite(values) & (values == np.round(values))):
            raise DataError(f"column {col!r} should hold whole numbers; the bundled file is corrupt.")
        frame[col] = values.astype(np.int64)
    return frame


def load_causalimpact_comparison() -> pd.DataFrame:
    """Daily series with three controls, 2019-04-16 to 2019-08-01 (CausalImpact comparison).

    Returns
    -------
    pandas.DataFrame
        108 rows, one per day (PROVENANCE.md says 107; the file has 108 days and no final
        newline):

        - ``DATE`` (datetime64): the day (parsed from ``YYYY-MM-DD``);
        - ``CHANGED`` (float): the series that received the intervention on 2019-07-15;
        - ``NOT_CHANGED_1``, ``NOT_CHANGED_2``, ``NOT_CHANGED_3`` (float): control series.

    Notes
    -----
    Source: WillianFuks/tfcausalimpact ``tests/fixtures/comparison_data.csv``, Apache-2.0.
    The four series are checked as a daily panel (no duplicate or missing days, numeric, no
    missing values).

    Reproduces R ``CausalImpact(data, pre.period = c("2019-04-16", "2019-07-14"),
    post.period = c("2019-07-15", "2019-08-01"))`` with its defaults: average actual 78574,
    prediction 79232 (s.d. 736); absolute effect −657, 95% CI [−2076, 832]; relative −0.83%;
    posterior tail-area probability 0.20061 (probability of a causal effect 80%).

    References
    ----------
    Brodersen, K. H., Gallusser, F., Koehler, J., Remy, N. & Scott, S. L. (2015). Inferring
    causal impact using Bayesian structural time-series models. *Annals of Applied
    Statistics*, 9(1), 247–274.
    """
    frame = read_reference("causalimpact_comparison")
    try:
        dates = pd.to_datetime(frame["DATE"], format="%Y-%m-%d")
    except (ValueError, TypeError) as exc:
        raise DataError(f"column 'DATE' of the bundled file does not parse as dates ({exc}).") from exc
    long = frame.melt(id_vars="DATE", var_name="series", value_name="value")
    validate_panel(long, unit="series", time="DATE", outcomes=["value"], freq="D")
    frame["DATE"] = dates
    return frame
