"""The primary designs of the three Malmö analyses, for ``utvardering power|speccurve NAME``.

Each entry reads the analysis's default configuration and data (through the analysis's own
``load_data``) and returns its Study, primary method and options, and the choices and methods
of its specification curve.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pandas as pd

from ..errors import DesignError
from ..study import Study

__all__ = ["analysis_design", "analysis_names"]


def analysis_names() -> list[str]:
    """The analyses with a design entry."""
    return ["drogfri_skola", "ordningsvakter_mollevangen", "sluta_skjut"]


def _context(name: str):
    from ..report.runner import PACKAGED_ANALYSES, load_config

    module = importlib.import_module(f"utvardering.analyses.{name}")
    config = load_config(PACKAGED_ANALYSES / f"{name}.toml")
    ctx = SimpleNamespace(config=config, record_input=lambda *args, **kwargs: None)
    return module, config, ctx


def sluta_skjut_design(quick: bool = False) -> dict[str, Any]:
    """Sluta skjut: shootings per 100,000, Malmö vs donor cities; primary SC in the form the
    pre-period rule picks (demeaned when Malmö's pre-period mean rate is outside the donors')."""
    module, config, ctx = _context("sluta_skjut")
    d = config["design"]
    data = module.load_data(ctx)
    data["casualties"] = data["dead"] + data["injured"]
    study = Study(data, outcome="shootings", treated=d["treated"], start=d["start"],
                  exposure="population", exclude=d["exclude"] or None, window=tuple(d["window"]),
                  intervention="sluta_skjut")
    primary = module.demeaned_synthetic_control if _outside(study) else module.level_synthetic_control
    rimfrost = str(pd.Period(d["rimfrost_start"], "M") - 1)
    return {"study": study, "method": primary, "options": {},
            "methods": {"SC (primary form)": primary, "synthetic DiD": "synthetic_did",
                        "Poisson DiD": "poisson_did"},
            "choices": {"start": [d["alternative_start"], d["start"]],
                        "window": {"full": tuple(d["window"]),
                                   "before Rimfrost": (d["window"][0], rimfrost)},
                        "outcome": {"shootings": "shootings", "dead + injured": "casualties"}},
            "unit_name": "shootings"}


def _outside(study: Study) -> bool:
    data = study.data
    pre = data[study.time] < study.start
    rate = data[study.outcome] / data[study.exposure]
    means = rate[pre].groupby(data.loc[pre, study.unit]).mean()
    (unit,) = study.treated
    donors = means.drop(unit)
    return not donors.min() <= means[unit] <= donors.max()


def ordningsvakter_mollevangen_design(quick: bool = False) -> dict[str, Any]:
    """Möllevången: total reported crime, Poisson DiD with randomization inference; the
    neighbours (possible displacement) left out of the data as in the analysis."""
    module, config, ctx = _context("ordningsvakter_mollevangen")
    d = config["design"]
    crime, _ = module.load_data(ctx)
    crime = crime.assign(total=crime[d["offences"]].sum(axis=1))
    controls = crime[~crime["unit"].isin(d["neighbours"])]
    study = Study(controls, outcome="total", treated=d["treated"], start=d["start"], end=d["end"],
                  exposure="population", window=tuple(d["window"]),
                  intervention="ordningsvakter_mollevangen")
    return {"study": study, "method": "poisson_did", "options": {"inference": "randomization"},
            "methods": {"Poisson DiD": ("poisson_did", {"inference": "randomization"}),
                        "synthetic DiD": "synthetic_did"},
            "choices": {"outcome": {o: o for o in [*d["offences"], "total"]},
                        "exposure": {"rates": "population", "counts": None}},
            "unit_name": "reported crimes"}


def drogfri_skola_design(quick: bool = False) -> dict[str, Any]:
    """Drogfri skola: drug offences near 12 searched schools, Callaway–Sant'Anna with
    not-yet-treated controls (staggered: placebo-unit power, no joint inference)."""
    module, config, ctx = _context("drogfri_skola")
    d = config["design"]
    schools, _ = module.load_data(ctx)
    study = Study(schools, outcome=d["outcomes"][0], cohort=d["cohort"], intervention="drogfri_skola")
    options = {"control_group": d["control_group"]}
    return {"study": study, "method": "callaway_santanna", "options": options,
            "methods": {"Callaway–Sant'Anna": ("callaway_santanna", options),
                        "imputation": "imputation_did", "Sun–Abraham": "sun_abraham"},
            "choices": {"outcome": {o: o for o in d["outcomes"]}},
            "unit_name": "drug offences"}


_DESIGNS = {"sluta_skjut": sluta_skjut_design,
            "ordningsvakter_mollevangen": ordningsvakter_mollevangen_design,
            "drogfri_skola": drogfri_skola_design}


def analysis_design(name: str, quick: bool = False) -> dict[str, Any]:
    """``{"study", "method", "options", "methods", "choices", "unit_name"}`` of analysis ``name``."""
    if name not in _DESIGNS:
        raise DesignError(f"no analysis named {name!r}; choose one of {', '.join(analysis_names())}.")
    return _DESIGNS[name](quick)
