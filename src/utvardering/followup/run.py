"""The annual follow-up in one call: estimates, small-area estimates, changes, programmes."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DesignError
from ..options import check_level, check_option
from .changes import detect_changes
from .counts import count_estimates
from .indicators import COUNT_INDICATORS, SURVEY_INDICATORS, Indicator, survey_estimates
from .programmes import programme_cooccurrence
from .smallarea import fit_small_area

__all__ = ["FollowUp", "follow_up", "truth_check"]


@dataclass
class FollowUp:
    """Result of :func:`follow_up`.

    Attributes
    ----------
    year : int
        The report year.
    estimates : pandas.DataFrame
        Every area × year × indicator (and ``unit == "City"``): the direct design-based
        estimate with its interval (``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``deff_kish``, ``n_eff`` or ``count``) and the small-area estimate (``sae``,
        ``sae_low``, ``sae_high``; areas only).
    changes : pandas.DataFrame
        One row per area × indicator for the report year (see
        :func:`~utvardering.followup.changes.detect_changes`).
    programmes : pandas.DataFrame
        Programmes in force in the areas (description, not evaluation).
    indicators : dict
        Name → :class:`~utvardering.followup.indicators.Indicator`.
    fits : dict
        Name → :class:`~utvardering.followup.smallarea.SmallAreaFit`.
    diagnostics : dict
        Timings, variance components, PQL iterations, the settings used and warnings.
    """

    year: int
    estimates: pd.DataFrame
    changes: pd.DataFrame
    programmes: pd.DataFrame
    indicators: dict
    fits: dict = field(repr=False)
    diagnostics: dict = field(default_factory=dict)

    # -- the Effect-like interface ----------------------------------------------------------
    @property
    def real_changes(self) -> pd.DataFrame:
        """The flagged area × indicator changes (either comparison), strongest first."""
        c = self.changes
        flagged = c[c["flag_last"] | c["flag_baseline"]].copy()
        flagged["q_min"] = flagged[["q_last", "q_baseline"]].min(axis=1)
        return flagged.sort_values("q_min").reset_index(drop=True)

    @property
    def p_value(self) -> pd.Series:
        """P-values of the year-on-year comparison, indexed by (unit, indicator)."""
        return self.changes.set_index(["unit", "indicator"])["p_last"]

    def to_frame(self) -> pd.DataFrame:
        """The changes table (one row per area × indicator)."""
        return self.changes.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary: settings, flagged changes, city values, diagnostics."""
        city = self.estimates[(self.estimates["unit"] == "City") & (self.estimates["time"] == self.year)]
        return _jsonable({
            "year": self.year,
            "settings": self.diagnostics.get("settings", {}),
            "n_tests": {"last": int(self.changes["p_last"].notna().sum()),
                        "baseline": int(self.changes["p_baseline"].notna().sum())},
            "real_changes": self.real_changes.to_dict(orient="records"),
            "city": city[["indicator", "estimate", "ci_low", "ci_high"]].to_dict(orient="records"),
            "diagnostics": {k: v for k, v in self.diagnostics.items() if k != "settings"},
        })

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def summary(self, lang: str = "en") -> str:
        """A plain-text summary: the real changes first."""
        from .text import summary_text

        return summary_text(self, lang)

    def plot(self, kind: str = "funnel", indicator: str | None = None, **kwargs):
        """``kind="funnel"`` (:func:`~utvardering.followup.plots.plot_funnel`) or ``"trends"``
        (:func:`~utvardering.followup.plots.plot_trends`).
        """
        from .plots import plot_funnel, plot_trends

        check_option("kind", kind, ("funnel", "trends"))
        if kind == "funnel":
            return plot_funnel(self, indicator or next(iter(self.indicators)), **kwargs)
        return plot_trends(self, indicator=indicator, **kwargs)


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    return value


def follow_up(
    survey=None,
    counts: pd.DataFrame | None = None,
    *,
    year: int,
    survey_indicators: Sequence[Indicator] = SURVEY_INDICATORS,
    count_indicators: Sequence[Indicator] = COUNT_INDICATORS,
    strata: str | None = None,
    fdr: float = 0.10,
    baseline: str = "level",
    baseline_years: int = 4,
    small_area: str = "eb",
    level: float = 0.95,
    registry=None,
    random_state=None,
) -> FollowUp:
    """Run the annual follow-up for ``year``: indicators, small-area estimates, real changes.

    Parameters
    ----------
    survey : SurveyData or pandas.DataFrame, optional
        Survey micro-data (``unit``, ``time`` = year, ``weight`` and the item columns).
    counts : pandas.DataFrame, optional
        Police counts per area and year (``unit``, ``time``, ``population`` and one column
        per count indicator).
    year : int
        Report year; the data must hold at least the year before as well.
    survey_indicators, count_indicators : sequence of Indicator
        What to compute (defaults: the safety survey's and the police's indicators).
    strata : str, optional
        Survey column with design strata within areas.
    fdr : float, default 0.10
        False discovery rate of the change flags (Benjamini–Hochberg).
    baseline : {"level", "linear"}, default "level"
        The area's own baseline for the second comparison.
    baseline_years : int, default 4
        Years before ``year`` that make the baseline.
    small_area : {"eb", "nuts"}, default "eb"
        Empirical-Bayes (fast) or PyMC NUTS small-area model.
    level : float, default 0.95
        Coverage of intervals.
    registry : mapping, optional
        Intervention registry (default :data:`utvardering.interventions.MALMO_PROGRAMMES`).
    random_state : int or numpy.random.Generator, optional
        For ``small_area="nuts"``.

    Returns
    -------
    FollowUp
    """
    check_option("small_area", small_area, ("eb", "nuts"))
    check_option("baseline", baseline, ("level", "linear"))
    level = check_level(level)
    if survey is None and counts is None:
        raise DataError("follow_up needs survey micro-data, counts, or both.")
    timings: dict[str, float] = {}
    began = time.perf_counter()
    parts = []
    if survey is not None and survey_indicators:
        parts.append(survey_estimates(survey, survey_indicators, strata=strata, level=level))
    if counts is not None and count_indicators:
        parts.append(count_estimates(counts, count_indicators, level=level))
    estimates = pd.concat(parts, ignore_index=True)
    if year not in set(estimates["time"]):
        raise DesignError(f"year {year} is not in the data (years {sorted(set(estimates['time']))}).")
    if year - 1 not in set(estimates["time"]) and not (estimates["time"] < year).any():
        raise DesignError(f"year {year} has no earlier year to compare with.")
    estimates = estimates[estimates["time"] <= year].reset_index(drop=True)
    timings["direct_estimates"] = time.perf_counter() - began
    began = time.perf_counter()
    area = estimates[estimates["unit"] != "City"]
    fits, sae_frames, components = {}, [], {}
    for name, g in area.groupby("indicator", sort=False):
        frame, fit = fit_small_area(g, kind=g["kind"].iloc[0], method=small_area, level=level,
                                    random_state=random_state)
        fits[name] = fit
        frame.insert(2, "indicator", name)
        sae_frames.append(frame)
        components[name] = {"sigma_area": fit.sigma_a, "sigma_area_year": fit.sigma_u,
                            "link": fit.link, "iterations": fit.iterations}
        if getattr(fit, "diagnostics", None):
            components[name]["sampler"] = fit.diagnostics
    estimates = estimates.merge(pd.concat(sae_frames, ignore_index=True),
                                on=["unit", "time", "indicator"], how="left")
    timings["small_area"] = time.perf_counter() - began
    began = time.perf_counter()
    changes = detect_changes(area, fits, year, fdr=fdr, baseline=baseline, baseline_years=baseline_years)
    timings["changes"] = time.perf_counter() - began
    programmes = programme_cooccurrence(sorted(set(area["unit"])), year, registry=registry)
    indicators = {i.name: i for i in [*survey_indicators, *count_indicators]
                  if i.name in set(estimates["indicator"])}
    settings = {"year": year, "fdr": fdr, "baseline": baseline, "baseline_years": baseline_years,
                "small_area": small_area, "level": level, "strata": strata}
    diagnostics = {"settings": settings, "timings_s": {k: round(v, 3) for k, v in timings.items()},
                   "small_area": components,
                   "n_areas": int(area["unit"].nunique()), "n_years": int(area["time"].nunique()),
                   "n_indicators": len(indicators)}
    return FollowUp(year, estimates, changes, programmes, indicators, fits, diagnostics)


def truth_check(result: FollowUp, truth: pd.DataFrame) -> dict[str, Any]:
    """Compare a follow-up of a simulated world with the world's truth.

    Parameters
    ----------
    result : FollowUp
    truth : pandas.DataFrame
        ``AnnualWorld.truth`` (``unit``, ``time``, ``indicator``, ``value``, ``changed``).

    Returns
    -------
    dict
        Per comparison (``last``, ``baseline``): ``flags``, ``false_flags``,
        ``false_discovery_proportion``, ``true_changes``, ``found`` and ``power``; the
        mean squared error of the direct and small-area estimates by indicator; the
        coverage of both intervals.
    """
    tr = truth[truth["time"] == result.year][["unit", "indicator", "changed"]]
    m = result.changes.merge(tr, on=["unit", "indicator"], how="left")
    if m["changed"].isna().any():
        raise DataError("the truth table does not cover every area × indicator of the follow-up.")
    out: dict[str, Any] = {}
    for comp in ("last", "baseline"):
        flag = m[f"flag_{comp}"].to_numpy(bool)
        changed = m["changed"].to_numpy(bool)
        out[comp] = {"flags": int(flag.sum()), "false_flags": int((flag & ~changed).sum()),
                     "false_discovery_proportion": float((flag & ~changed).sum() / max(flag.sum(), 1)),
                     "true_changes": int(changed.sum()), "found": int((flag & changed).sum()),
                     "power": float((flag & changed).sum() / max(changed.sum(), 1))}
    e = result.estimates[result.estimates["unit"] != "City"].merge(
        truth, on=["unit", "time", "indicator"], how="inner")
    rows = {}
    for name, g in e.groupby("indicator"):
        rows[name] = {
            "mse_direct": float(np.mean((g["estimate"] - g["value"]) ** 2)),
            "mse_small_area": float(np.mean((g["sae"] - g["value"]) ** 2)),
            "coverage_direct": float(np.mean((g["ci_low"] <= g["value"]) & (g["value"] <= g["ci_high"]))),
            "coverage_small_area": float(np.mean((g["sae_low"] <= g["value"]) & (g["value"] <= g["sae_high"]))),
        }
    out["estimates"] = rows
    return out
