"""Report sections shared by the analyses: design (pre-registration), triangulation, truth check.

Labels come in English and Swedish (``lang="sv"``) so that reports can be read by Malmö's
practitioners; the analyses' own prose is written by each analysis.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..compare import compare, plot_comparison
from ..effect import Effect
from .document import Report

__all__ = [
    "LABELS",
    "design_section",
    "label",
    "overlap_section",
    "triangulation_section",
    "truth_check_section",
]

LABELS: dict[str, dict[str, str]] = {
    "design": {"en": "Design (pre-registered)", "sv": "Design (förregistrerad)"},
    "question": {"en": "Question", "sv": "Fråga"},
    "estimand": {"en": "Estimand", "sv": "Skattningsmål"},
    "treated": {"en": "Treated units and start", "sv": "Behandlade enheter och start"},
    "comparison": {"en": "Comparison pool", "sv": "Jämförelsegrupp"},
    "outcomes": {"en": "Outcomes", "sv": "Utfall"},
    "windows": {"en": "Windows", "sv": "Tidsfönster"},
    "primary": {"en": "Primary analysis", "sv": "Primär analys"},
    "secondary": {"en": "Secondary analyses", "sv": "Sekundära analyser"},
    "robustness": {"en": "Robustness", "sv": "Robusthet"},
    "triangulation": {"en": "Triangulation", "sv": "Triangulering"},
    "truth": {"en": "Truth check (simulated data)", "sv": "Kontroll mot sanningen (simulerade data)"},
    "overlap": {"en": "Overlapping programmes", "sv": "Överlappande insatser"},
    "caveats": {"en": "Caveats", "sv": "Förbehåll"},
    "data": {"en": "Data", "sv": "Data"},
}


def label(key: str, lang: str) -> str:
    """The label ``key`` in ``lang`` (English when no translation exists)."""
    entry = LABELS.get(key, {})
    return entry.get(lang, entry.get("en", key))


def design_section(report: Report, design: Mapping[str, str]) -> None:
    """Write the pre-registration-style design: question, estimand, units, pool, outcomes, windows."""
    report.heading(label("design", report.lang))
    for key in ("question", "estimand", "treated", "comparison", "outcomes", "windows", "primary",
                "secondary", "robustness"):
        if key in design:
            report.text(f"**{label(key, report.lang)}.** {design[key]}")


def overlap_section(report: Report, overlap: pd.DataFrame) -> None:
    """List other registry programmes in force in the treated units during the post-period."""
    report.heading(label("overlap", report.lang))
    if overlap.empty:
        report.text("No other programme in the registry overlaps the treated units and period.")
        return
    report.text("These programmes were in force in the treated unit(s) during the post-period; an "
                "estimate attributes their combined effect to the intervention unless a design "
                "separates them.")
    report.table("overlapping_programmes", overlap[["name", "units", "start", "end", "start_uncertain",
                                                     "end_uncertain"]])


def triangulation_section(report: Report, effects: Mapping[str, Effect], *, name: str = "triangulation") -> pd.DataFrame:
    """Table and forest plot of several estimates on the common relative scale."""
    report.heading(label("triangulation", report.lang))
    table = compare(effects)
    shown = table[["label", "scale", "estimate", "low", "high", "relative", "relative_low",
                   "relative_high", "p_value", "prob"]]
    report.table(name, shown, caption="Every estimate side by side; relative = share of the counterfactual.")
    report.figure(f"{name}_forest", plot_comparison(effects, relative=True),
                  caption="Relative effects with their intervals.")
    return table


def truth_check_section(report: Report, effects: Mapping[str, Effect], truth: float,
                        *, primary: list[str] | None = None, name: str = "truth_check",
                        on: str = "relative") -> pd.DataFrame:
    """Set each estimate and its interval beside the known true effect.

    ``on="relative"`` compares relative effects (share of the counterfactual); ``on="estimate"``
    compares the estimates themselves (same outcome units as ``truth``).
    """
    report.heading(label("truth", report.lang))
    columns = (["relative", "relative_low", "relative_high"] if on == "relative"
               else ["estimate", "low", "high"])
    table = compare(effects)[["label", *columns]].copy()
    table["truth"] = truth
    covered = (table[columns[1]] <= truth) & (truth <= table[columns[2]])
    table["covers_truth"] = covered.where(table[columns[1]].notna())
    table["primary"] = table["label"].isin(primary or [])
    shown = f"{truth:+.1%}" if on == "relative" else f"{truth:+.4g}"
    report.text(f"The simulated world's true {'relative ' if on == 'relative' else ''}effect is {shown}. "
                "An honest method covers it most of the time; one realisation can miss by chance "
                "(5% of the time at 95%).")
    report.table(name, table)
    missed = table.loc[table["primary"] & (table["covers_truth"] == False), "label"].tolist()  # noqa: E712
    if missed:
        report.text("**Primary estimate(s) missing the truth:** " + ", ".join(missed)
                    + ". Possible reasons, visible in the diagnostics above: a violated identifying "
                    "assumption in this world (unit-specific trends break parallel trends; a treated "
                    "unit outside the donors' range breaks synthetic control), too few treated units "
                    "for the interval's asymptotics, or chance (1 in 20 at 95%).")
    return table


def relative_truth(observed: np.ndarray, counterfactual: np.ndarray) -> float:
    """True relative effect sum(y)/sum(y0) − 1 from the simulated potential outcomes."""
    return float(np.sum(observed) / np.sum(counterfactual) - 1.0)
