"""Report sections shared by the analyses: design (pre-registration), triangulation, truth check.

Every label and sentence is an English msgid translated by the message catalogue
(:mod:`utvardering.i18n`), so reports read fully in Swedish with ``lang="sv"``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..effect import Effect
from ..i18n import get_language
from ..triangulation import compare, plot_comparison
from .document import Report

__all__ = [
    "LABELS",
    "design_section",
    "label",
    "overlap_section",
    "triangulation_section",
    "truth_check_section",
]

def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here (gettext convention)."""
    return message


#: Section labels (English msgids; translated by the message catalogue).
LABELS: dict[str, str] = {
    "design": N_("Design (pre-registered)"),
    "question": N_("Question"),
    "estimand": N_("Estimand"),
    "treated": N_("Treated units and start"),
    "comparison": N_("Comparison pool"),
    "outcomes": N_("Outcomes"),
    "windows": N_("Windows"),
    "primary": N_("Primary analysis"),
    "secondary": N_("Secondary analyses"),
    "robustness": N_("Robustness"),
    "triangulation": N_("Triangulation"),
    "truth": N_("Truth check (simulated data)"),
    "overlap": N_("Overlapping programmes"),
    "caveats": N_("Caveats"),
    "data": N_("Data"),
}


def label(key: str, lang: str) -> str:
    """The label ``key`` in ``lang`` (from the message catalogue)."""
    return get_language(lang).gettext(LABELS.get(key, key))


def design_section(report: Report, design: Mapping[str, str]) -> None:
    """Write the pre-registration-style design: question, estimand, units, pool, outcomes, windows."""
    report.heading(label("design", report.lang))
    for key in ("question", "estimand", "treated", "comparison", "outcomes", "windows", "primary",
                "secondary", "robustness"):
        if key in design:
            report.text(f"**{label(key, report.lang)}.** {design[key]}")  # text translated by the caller


def overlap_section(report: Report, overlap: pd.DataFrame) -> None:
    """List other registry programmes in force in the treated units during the post-period."""
    _ = report.tr
    report.heading(label("overlap", report.lang))
    if overlap.empty:
        report.text(_("No other programme in the registry overlaps the treated units and period."))
        return
    report.overlap = [str(n) for n in overlap["name"]]
    report.text(_("These programmes were in force in the treated unit(s) during the post-period; an "
                  "estimate attributes their combined effect to the intervention unless a design "
                  "separates them."))
    report.table("overlapping_programmes", overlap[["name", "units", "start", "end", "start_uncertain",
                                                     "end_uncertain"]])


def triangulation_section(report: Report, effects: Mapping[str, Effect], *, name: str = "triangulation") -> pd.DataFrame:
    """Table and forest plot of several estimates on the common relative scale."""
    report.heading(label("triangulation", report.lang))
    table = compare(effects)
    shown = table[["label", "scale", "estimate", "low", "high", "relative", "relative_low",
                   "relative_high", "p_value", "prob"]]
    _ = report.tr
    shown = shown.assign(label=[report.labels.get(x, _(x)) for x in shown["label"]],
                         scale=[_(x) for x in shown["scale"]])
    report.table(name, shown, caption=_("Every estimate side by side; relative = share of the "
                                        "counterfactual."))
    report.figure(f"{name}_forest", plot_comparison(effects, relative=True),
                  caption=_("Relative effects with their intervals."),
                  alt=_("Forest plot: each method's relative effect as a point with its interval; "
                        "the vertical line marks no effect."))
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
    _ = report.tr
    if on == "relative":
        report.text(_("The simulated world's true relative effect is {value}. An honest method covers it "
                      "most of the time; one realisation can miss by chance (5% of the time at 95%).",
                      value=_.percent(truth, 1, sign=True)))
    else:
        report.text(_("The simulated world's true effect is {value}. An honest method covers it most of "
                      "the time; one realisation can miss by chance (5% of the time at 95%).",
                      value=_.significant(truth, 4)))
    table = table.assign(label=[report.labels.get(x, _(x)) for x in table["label"]])
    report.table(name, table)
    missed = table.loc[table["primary"] & (table["covers_truth"] == False), "label"].tolist()  # noqa: E712
    if missed:
        report.text(_("**Primary estimate(s) missing the truth:** {labels}. Possible reasons, visible in "
                      "the diagnostics above: a violated identifying assumption in this world "
                      "(unit-specific trends break parallel trends; a treated unit outside the donors' "
                      "range breaks synthetic control), too few treated units for the interval's "
                      "asymptotics, or chance (1 in 20 at 95%).", labels=", ".join(missed)))
    return table


def relative_truth(observed: np.ndarray, counterfactual: np.ndarray) -> float:
    """True relative effect sum(y)/sum(y0) − 1 from the simulated potential outcomes."""
    return float(np.sum(observed) / np.sum(counterfactual) - 1.0)
