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

import pandas as pd

from ..study import Study
from .power import MDE, PowerResult, power
from .speccurve import SpecCurve, specification_curve

__all__ = ["Detectability", "design_diagnosis_section", "detectability"]

_PERIOD_WORDS = {12.0: "month", 4.0: "quarter", 1.0: "year", 365.25: "day", 52.18: "week"}


def _number(value: float) -> str:
    """``1,660`` for large numbers, three significant digits for small ones."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


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
                  target: float = 0.8, **kwargs: Any) -> Detectability:
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
    **kwargs
        Passed to :func:`~utvardering.design.power` (``n_jobs=``, ``backend=``, estimator
        options).

    Returns
    -------
    Detectability
    """
    res = power(study, method, effects, n_sims=n_sims, random_state=random_state, **kwargs)
    mde = res.mde(target)
    unit = unit_name or study.outcome
    per = _PERIOD_WORDS.get(res.periods_per_year, "period")
    t = res.table
    fpr = res.false_positive_rate
    parts = [f"{e:+.0%}: {p:.0%}" for e, p in zip(t["effect"], t["power"]) if e != 0]
    text = (f"Known effects were injected into {res.n_sims} placebo versions of the design "
            f"({res.placebo} placebos: "
            + ("fake start dates inside the pre-period, " if res.placebo == "time"
               else "comparison units standing in for the treated, ")
            + f"{res.n_designs} distinct; post-period of {res.post_periods} {per}s) and "
            f"{res.method} was run with its own inference at level {res.level:.0%}. With no effect "
            f"its interval excluded zero in {fpr:.0%} of the draws (nominal "
            f"{1 - res.level:.0%}). Power by effect: {'; '.join(parts)}. ")
    if math.isfinite(mde.relative):
        text += (f"The minimum detectable effect at {target:.0%} power is {mde.relative:+.0%} "
                 f"(Monte Carlo 95% {mde.interval_text()}), "
                 f"about {_number(abs(mde.per_year))} {unit} a year fewer per treated unit "
                 f"against a pre-period level of {_number(res.baseline * res.periods_per_year)} "
                 "a year.")
    else:
        text += (f"No effect up to {min(t['effect']):+.0%} reaches {target:.0%} power: the design "
                 "cannot reliably detect effects of the size the grid covers.")
    if fpr > (1 - res.level) + 2 * t.loc[t["effect"] == 0, "power_se"].iloc[0]:
        text += (" The false-positive rate is above the nominal level, so this method's power "
                 "is overstated here; read its intervals as too narrow.")
    table = pd.DataFrame({
        "effect_%": (t["effect"] * 100).round(0),
        "power": t["power"].round(3), "mc_se": t["power_se"].round(3),
        "coverage": t["coverage"].round(3), "mean_width": t["mean_width"].round(3),
        f"{unit}_per_year": (t["effect"] * res.baseline * res.periods_per_year).round(2),
    })
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
    found = detectability(study, method, n_sims=n_sims, random_state=random_state,
                          unit_name=unit_name, **run, **options)
    report.heading("Could this design detect an effect?")
    report.text(found.text)
    report.table(f"{name}_power", found.table,
                 caption="Power, Monte Carlo s.e., coverage and mean interval width by injected effect.")
    report.figure(f"{name}_power", found.plot(),
                  caption="Power curve on the real panel (±2 Monte Carlo s.e.); dashed: nominal size.")
    curve: SpecCurve | None = None
    if choices:
        curve = specification_curve(study, choices, methods or [method], random_state=random_state,
                                    joint=joint, n_placebos=n_placebos, **run)
        report.heading("Specification curve")
        text = (f"{len(curve.table)} specifications over {', '.join(curve.dimensions)} "
                f"({curve.n_failed} failed). Median {curve.value_label}: {curve.median:.3g}; "
                f"{curve.share_same_sign:.0%} share its sign and {curve.share_significant:.0%} have "
                "an interval excluding zero. ")
        if curve.joint:
            text += (f"Against {curve.joint['n_placebos']} placebo curves the median has "
                     f"p = {curve.joint['p_median']:.2f} and the share significant "
                     f"p = {curve.joint['p_share']:.2f}. ")
        report.text(text + curve.joint_note)
        keep = [*curve.dimensions, "estimate", "low", "high", "relative", "error"]
        report.table(f"{name}_specification_curve", curve.table[keep].round(4),
                     caption="Every specification: estimate, interval and relative effect.")
        report.figure(f"{name}_specification_curve", curve.plot(),
                      caption="Specification curve: estimates sorted, intervals (red: excluding "
                              "zero); below, the choices each specification made.")
    return {"detectability": found, "curve": curve}
