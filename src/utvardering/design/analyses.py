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

__all__ = ["analysis_design", "analysis_names", "report_design_diagnosis"]


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
    pre-period rule picks (demeaned when Malmö's pre-period mean rate is outside the donors').
    """
    module, config, ctx = _context("sluta_skjut")
    d = config["design"]
    data = module.load_data(ctx)
    data["casualties"] = data["dead"] + data["injured"]
    study = Study(data, outcome="shootings", treated=d["treated"], start=d["start"],
                  exposure="population", exclude=d["exclude"] or None, window=tuple(d["window"]),
                  intervention="sluta_skjut")
    primary = module.demeaned_synthetic_control if _outside(study) else module.level_synthetic_control
    return _with_primary(_sluta_skjut_choices(config), study, primary, {})


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
    neighbours (possible displacement) left out of the data as in the analysis.
    """
    module, config, ctx = _context("ordningsvakter_mollevangen")
    d = config["design"]
    crime, _ = module.load_data(ctx)
    crime = crime.assign(total=crime[d["offences"]].sum(axis=1))
    controls = crime[~crime["unit"].isin(d["neighbours"])]
    study = Study(controls, outcome="total", treated=d["treated"], start=d["start"], end=d["end"],
                  exposure="population", window=tuple(d["window"]),
                  intervention="ordningsvakter_mollevangen")
    entry = _mollevangen_choices(config)
    return _with_primary(entry, study, entry["method"], entry["options"])


def drogfri_skola_design(quick: bool = False) -> dict[str, Any]:
    """Drogfri skola: drug offences near 12 searched schools, Callaway–Sant'Anna with
    not-yet-treated controls (staggered: placebo-unit power, no joint inference).
    """
    module, config, ctx = _context("drogfri_skola")
    d = config["design"]
    schools, _ = module.load_data(ctx)
    study = Study(schools, outcome=d["outcomes"][0], cohort=d["cohort"], intervention="drogfri_skola")
    entry = _drogfri_choices(config)
    return _with_primary(entry, study, entry["method"], entry["options"])


def _with_primary(entry: dict, study: Study, method, options: dict) -> dict:
    methods = {entry["primary_label"]: (method, options), **entry["methods"]}
    return {"study": study, "method": method, "options": options, "methods": methods,
            "choices": entry["choices"], "unit_name": entry["unit_name"]}


_DESIGNS = {"sluta_skjut": sluta_skjut_design,
            "ordningsvakter_mollevangen": ordningsvakter_mollevangen_design,
            "drogfri_skola": drogfri_skola_design}


def analysis_design(name: str, quick: bool = False) -> dict[str, Any]:
    """``{"study", "method", "options", "methods", "choices", "unit_name"}`` of analysis ``name``."""
    if name not in _DESIGNS:
        raise DesignError(f"no analysis named {name!r}; choose one of {', '.join(analysis_names())}.")
    return _DESIGNS[name](quick)


#: Defaults of an analysis's ``[design_diagnosis]`` configuration table.
DIAGNOSIS_DEFAULTS = {"n_sims": 40, "quick_n_sims": 4, "effects": [-0.1, -0.2, -0.3, -0.5],
                      "n_placebos": 19, "quick_joint": False, "n_jobs": None}


def _without_excluded(study: Study) -> Study:
    """The study with the excluded units' rows left out of the data (not only of the pool)."""
    if not study.excluded:
        return study
    data = study.panel.data
    return study.replace(data=data.loc[~data[study.unit].isin(study.excluded)], exclude=None)


def report_design_diagnosis(ctx, name: str, study: Study, method=None, **options: Any) -> dict:
    """Write an analysis's design-diagnosis sections: power of ``method`` (default: the
    analysis's primary method) and the specification curve over its choices.

    Parameters
    ----------
    ctx : AnalysisContext
        Gives ``report``, ``config`` (``[design_diagnosis]`` overrides
        :data:`DIAGNOSIS_DEFAULTS`), ``quick`` and ``seed("design")``.
    name : str
        The analysis (its choices and methods come from :func:`analysis_design`'s entry).
    study : Study
        The analysis's primary study.
    method : str or callable, optional
        The primary method as the analysis ran it.
    **options
        Its options.

    Returns
    -------
    dict
        ``{"detectability": Detectability, "curve": SpecCurve}``.
    """
    from .sections import design_diagnosis_section

    cfg = {**DIAGNOSIS_DEFAULTS, **ctx.config.get("design_diagnosis", {})}
    entry = {"sluta_skjut": _sluta_skjut_choices, "ordningsvakter_mollevangen": _mollevangen_choices,
             "drogfri_skola": _drogfri_choices}[name](ctx.config)
    if method is None:
        method, options = entry["method"], {**entry["options"], **options}
    methods = dict(entry["methods"])
    if entry.get("primary_label"):
        methods = {entry["primary_label"]: (method, options), **methods}
    quick = bool(getattr(ctx, "quick", False))
    return design_diagnosis_section(
        ctx.report, _without_excluded(study), method,
        n_sims=cfg["quick_n_sims"] if quick else cfg["n_sims"], random_state=ctx.seed("design"),
        unit_name=entry["unit_name"], choices=entry["choices"], methods=methods,
        joint=cfg["quick_joint"] if quick else True, n_placebos=cfg["n_placebos"],
        n_jobs=cfg["n_jobs"], name="design", **options)


def N_(message: str) -> str:
    """Mark a label for the report's catalogue (translated where it is shown)."""
    return message


def _sluta_skjut_choices(config: dict) -> dict:
    d = config["design"]
    rimfrost = str(pd.Period(d["rimfrost_start"], "M") - 1)
    return {"method": None, "options": {}, "primary_label": N_("SC (primary form)"),
            "methods": {N_("synthetic DiD"): "synthetic_did", N_("Poisson DiD"): "poisson_did"},
            "choices": {"start": [d["alternative_start"], d["start"]],
                        "window": {N_("full"): tuple(d["window"]),
                                   N_("before Rimfrost"): (d["window"][0], rimfrost)},
                        "outcome": {N_("shootings"): "shootings",
                                    N_("dead + injured"): "casualties"}},
            "unit_name": N_("shootings")}


def _mollevangen_choices(config: dict) -> dict:
    d = config["design"]
    options = {"inference": "randomization"}
    return {"method": "poisson_did", "options": options, "primary_label": N_("Poisson DiD"),
            "methods": {N_("synthetic DiD"): "synthetic_did"},
            "choices": {"outcome": {o: o for o in [*d["offences"], "total"]},
                        "exposure": {N_("rates"): "population", N_("counts"): None}},
            "unit_name": N_("reported crimes")}


def _drogfri_choices(config: dict) -> dict:
    d = config["design"]
    options = {"control_group": d["control_group"]}
    return {"method": "callaway_santanna", "options": options,
            "primary_label": "Callaway–Sant'Anna",
            "methods": {N_("imputation"): "imputation_did", "Sun–Abraham": "sun_abraham"},
            "choices": {"outcome": {o: o for o in d["outcomes"]}},
            "unit_name": N_("drug offences")}
