"""Report sections of design diagnosis: "Could this design detect an effect?" and the curve.

:func:`detectability` runs :func:`~utvardering.design.power` for a study's primary method at
the effects a programme could plausibly have (−10 %, −20 %, −30 %, −50 %) and turns the result
into a sentence with the minimum detectable effect in the outcome's natural unit (shootings per
year, crimes per month ...). :func:`design_diagnosis_section` writes it — and, given choices, a
specification curve — into a :class:`~utvardering.report.document.Report`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import get_language
from ..study import Study
from .power import MDE, PowerResult, power
from .speccurve import SpecCurve, specification_curve

__all__ = ["Detectability", "design_diagnosis_section", "detectability"]

def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


#: Plural period words by periods per year (translated through the catalogue).
_PERIOD_WORDS = {12.0: N_("months"), 4.0: N_("quarters"), 1.0: N_("years"), 365.25: N_("days"),
                 52.18: N_("weeks")}
#: Why a specification curve has no joint inference (``SpecCurve.info["joint_reason"]``).
_JOINT_NOTES = {
    "not_requested": N_("Joint inference was not requested for this run."),
    "staggered": N_("Joint inference was not done: placebo curves need one common start, and "
                    "this study has staggered starts."),
    "few_donors": N_("Joint inference was not done: too few comparison units to serve as "
                     "placebos."),
}


def _number(value: float, tr) -> str:
    """Whole numbers from 100 on, three significant digits below, in the report's language."""
    return tr.number(value, 0) if abs(value) >= 100 else tr.significant(value, 3)


@dataclass
class Detectability:
    """Power of a study's primary method, read for a report.

    Attributes
    ----------
    power : PowerResult
    mde : MDE
        At 80 % power.
    text : str
        The finding in words: false-positive rate, power at each effect, the MDE per year.
    table : pandas.DataFrame
        Effect (%), power, its Monte Carlo s.e., coverage, mean interval width, and the
        injected change per year in the outcome's unit.
    """

    power: PowerResult
    mde: MDE
    text: str
    table: pd.DataFrame

    def plot(self, ax=None):
        """The power curve (:meth:`PowerResult.plot`)."""
        return self.power.plot(ax=ax)


def detectability(study: Study, method: str | Callable, *,
                  effects: Sequence[float] = (-0.1, -0.2, -0.3, -0.5), n_sims: int = 100,
                  random_state: int | None = None, unit_name: str | None = None,
                  target: float = 0.8, lang: str = "en", **kwargs: Any) -> Detectability:
    """Power of ``method`` on ``study`` at ``effects``, with the MDE in the outcome's unit.

    Parameters
    ----------
    study : Study
    method : str or callable
        The primary estimator.
    effects : sequence of float
        Relative effects to inject (default −10 %, −20 %, −30 %, −50 %).
    n_sims : int, default 100
        Draws per effect.
    random_state : int, optional
    unit_name : str, optional
        The outcome's natural unit in words (default: the outcome's name), e.g. ``"shootings"``.
    target : float, default 0.8
        Power for the MDE.
    lang : {"en", "sv"}, default "en"
        Language of ``text`` (the report's message catalogue).
    **kwargs
        Passed to :func:`~utvardering.design.power` (``n_jobs=``, ``backend=``, estimator
        options).

    Returns
    -------
    Detectability
    """
    res = power(study, method, effects, n_sims=n_sims, random_state=random_state, **kwargs)
    tr = get_language(lang)
    mde = res.mde(target)
    unit = tr(unit_name or study.outcome)
    per = tr(_PERIOD_WORDS.get(res.periods_per_year, N_("periods")))
    t = res.table
    fpr = res.false_positive_rate
    parts = [f"{tr.percent(e, sign=True)}: {tr.percent(p)}" for e, p in zip(t["effect"], t["power"])
             if e != 0]
    placebos = (tr("fake start dates inside the pre-period") if res.placebo == "time"
                else tr("comparison units standing in for the treated"))
    text = tr("Known effects were injected into {n} placebo versions of the design ({placebos}; "
              "{designs} distinct; post-period of {post} {per}) and {method} was run with its own "
              "inference at level {level}. With no effect its interval excluded zero in {fpr} of "
              "the draws (nominal {nominal}). Power by effect: {parts}. ",
              n=res.n_sims, placebos=placebos, designs=res.n_designs, post=res.post_periods,
              per=per, method=tr.method(str(res.method)), level=tr.percent(res.level),
              fpr=tr.percent(fpr), nominal=tr.percent(1 - res.level), parts="; ".join(parts))
    if math.isfinite(mde.relative):
        low, high = mde.interval
        ends = [tr("beyond the grid") if not math.isfinite(v) else tr.percent(v, 1, sign=True)
                for v in (low, high)]
        text += tr("The minimum detectable effect at {target} power is {mde} (Monte Carlo 95 % "
                   "interval {low} to {high}), about {per_year} {unit} a year fewer per treated "
                   "unit against a pre-period level of {level_year} a year.",
                   target=tr.percent(target), mde=tr.percent(mde.relative, sign=True),
                   low=ends[0], high=ends[1], per_year=_number(abs(mde.per_year), tr), unit=unit,
                   level_year=_number(res.baseline * res.periods_per_year, tr))
    else:
        text += tr("No effect up to {largest} reaches {target} power: the design cannot reliably "
                   "detect effects of the size the grid covers.",
                   largest=tr.percent(min(t["effect"]), sign=True), target=tr.percent(target))
    if fpr > (1 - res.level) + 2 * t.loc[t["effect"] == 0, "power_se"].iloc[0]:
        text += " " + tr("The false-positive rate is above the nominal level, so this method's "
                         "power is overstated here; read its intervals as too narrow.")
    table = pd.DataFrame({
        "effect_%": (t["effect"] * 100).round(0),
        "power": t["power"].round(3), "mc_se": t["power_se"].round(3),
        "coverage": t["coverage"].round(3), "mean_width": t["mean_width"].round(3),
        "change_per_year": (t["effect"] * res.baseline * res.periods_per_year).round(2),
    }).replace([np.inf, -np.inf], np.nan)  # an unbounded interval's width: blank
    return Detectability(power=res, mde=mde, text=text, table=table)


def design_diagnosis_section(report, study: Study, method: str | Callable, *, n_sims: int,
                             random_state: int | None = None, unit_name: str | None = None,
                             choices: Mapping[str, Any] | None = None, methods=None,
                             joint: bool = True, n_placebos: int | None = None,
                             n_jobs: int | None = None, backend: str | None = None,
                             name: str = "design", **options: Any) -> dict:
    """Write "Could this design detect an effect?" (and a specification curve) into ``report``.

    Parameters
    ----------
    report : Report
        Has ``heading``, ``text``, ``table`` and ``figure``.
    study, method, n_sims, random_state, unit_name
        As in :func:`detectability`.
    choices, methods, joint, n_placebos
        When ``choices`` is given, a specification curve
        (:func:`~utvardering.design.specification_curve`) follows.
    n_jobs, backend
        Execution of both.
    name : str
        Prefix of the table and figure files.
    **options
        Estimator options of ``method`` for the power run.

    Returns
    -------
    dict
        ``{"detectability": Detectability, "curve": SpecCurve or None}``.
    """
    run = {"n_jobs": n_jobs, "backend": backend, "progress": False}
    lang = getattr(report, "lang", "en")
    tr = get_language(lang)
    found = detectability(study, method, n_sims=n_sims, random_state=random_state,
                          unit_name=unit_name, lang=lang, **run, **options)
    unit = tr(unit_name or study.outcome)
    report.heading(tr("Could this design detect an effect?"))
    report.text(found.text)
    report.table(f"{name}_power", found.table,
                 caption=tr("Power, Monte Carlo standard error, coverage and mean interval width "
                            "by injected effect; the last column is the injected change in {unit} "
                            "a year.", unit=unit))
    report.figure(f"{name}_power", found.power.plot(lang=lang),
                  caption=tr("Power curve on the real panel (±2 Monte Carlo standard errors); "
                             "dashed: nominal size."))
    curve: SpecCurve | None = None
    if choices:
        curve = specification_curve(study, choices, methods or [method], random_state=random_state,
                                    joint=joint, n_placebos=n_placebos, **run)
        report.heading(tr("Specification curve"))
        text = tr("{n} specifications over {dimensions} ({failed} failed). Median: {median}; "
                  "{same} share its sign and {significant} have an interval excluding zero. ",
                  n=len(curve.table), dimensions=", ".join(tr.column(d) for d in curve.dimensions),
                  failed=curve.n_failed, median=tr.significant(curve.median),
                  same=tr.percent(curve.share_same_sign),
                  significant=tr.percent(curve.share_significant))
        if curve.joint:
            text += tr("Against {k} placebo curves (Simonsohn, Simmons & Nelson 2020: each "
                       "comparison unit in turn as the placebo-treated unit) the median has "
                       "p = {p_median} and the share significant p = {p_share}; the smallest "
                       "attainable p-value is {smallest}.",
                       k=curve.joint["n_placebos"], p_median=tr.number(curve.joint["p_median"]),
                       p_share=tr.number(curve.joint["p_share"]),
                       smallest=tr.number(curve.joint["smallest_p"], 3))
        else:
            text += tr(_JOINT_NOTES.get(curve.info.get("joint_reason", ""),
                                        N_("Joint inference was not done.")))
        report.text(text)
        keep = [*curve.dimensions, "estimate", "low", "high", "relative", "error"]
        table = curve.table[keep].round(4).replace([np.inf, -np.inf], np.nan)
        report.table(f"{name}_specification_curve", table,
                     caption=tr("Every specification: estimate, interval and relative effect (a "
                                "blank interval end: unbounded)."))
        report.figure(f"{name}_specification_curve", curve.plot(lang=lang),
                      caption=tr("Specification curve: estimates sorted, intervals (red: "
                                 "excluding zero); below, the choices each specification made."))
    return {"detectability": found, "curve": curve}
