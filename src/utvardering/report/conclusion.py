"""The bottom line of an evaluation, generated from its Effects (never written by hand).

:func:`bottom_line` reads the primary Effect and the other methods answering the same
question and writes at most five sentences:

1. the headline estimate in the reader's unit (events per year prevented or added, % change,
   with its interval);
2. how many methods agree in sign and exclude zero, and the strength of evidence;
3. one sentence per pair of tests that disagree (what each asks, which one the design supports);
4. the two or three caveats that matter most for this design.

**Strength of evidence** (the rule, also on the docs page "Reading a report"). Let *n* be the number of methods compared (primary included), *agree* those whose estimate
has the primary's sign, and *exclude* those among them whose interval excludes zero.

* **strong** — the primary interval excludes zero, agree ≥ ¾·n and exclude ≥ ½·n;
* **moderate** — the primary interval excludes zero and agree ≥ ½·n (but not strong);
* **weak** — the primary interval includes zero but agree ≥ ½·n and exclude ≥ 1; or the
  primary interval excludes zero but fewer than half the methods agree;
* **inconclusive** — otherwise.

The grade is lowered one step when a test the design supports does not reject
(p ≥ 0.05) while another does, and one step when the primary shows a design problem (its
pre-trend test has p < 0.05, or its estimator warns of a poor pre-period fit or a treated unit
outside the donors' range).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..effect import Effect
from ..i18n import Language

__all__ = ["STRENGTHS", "Conclusion", "NullTest", "bottom_line", "grade"]

def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here (gettext convention)."""
    return message


#: The strength-of-evidence scale, weakest first.
STRENGTHS = (N_("inconclusive"), N_("weak"), N_("moderate"), N_("strong"))
_ALPHA = 0.05



@dataclass
class NullTest:
    """A test of no effect reported beside the primary estimate.

    Parameters
    ----------
    kind : str
        ``"conformal"``, ``"placebo_in_space"``, ``"randomization"``, ``"placebo_estimate"``,
        ``"bootstrap"`` or ``"posterior"`` (what the test asks is in the catalogue).
    p : float
        Its p-value.
    supported : bool
        Whether the design supports this test (at most one per conclusion).
    """

    kind: str
    p: float
    supported: bool = False


_ASKS = {
    "conformal": N_("the conformal test asks whether the gap after the start is unusual compared with "
                 "the same unit's gaps at other times, and is valid only if the model is right"),
    "placebo_in_space": N_("the placebo-in-space test asks whether the gap is unusual compared with the "
                        "gaps found when each comparison unit in turn is treated as if it had had "
                        "the programme"),
    "placebo_estimate": N_("the placebo test on the average gap asks the same question of the average "
                        "gap rather than of the fit ratio"),
    "randomization": N_("the randomization test asks whether the estimate is unusual among the same "
                     "estimates for the comparison units"),
    "bootstrap": N_("the bootstrap interval asks how much the estimate varies when the units are "
                 "resampled"),
}
_TEST_NAMES = {
    "conformal": N_("the conformal test"),
    "placebo_in_space": N_("the placebo-in-space test"),
    "placebo_estimate": N_("the placebo test on the average gap"),
    "randomization": N_("the randomization test"),
    "bootstrap": N_("the bootstrap"),
}


def _excludes_zero(effect: Effect) -> bool:
    low, high = effect.interval
    return bool(math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0))


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def grade(primary: Effect, others: Sequence[Effect], *, downgrades: int = 0) -> tuple[str, int, int, int]:
    """Strength of evidence by the documented rule; returns (strength, n, agree, exclude)."""
    every = [primary, *others]
    sign = _sign(primary.estimate)
    n = len(every)
    agree = [e for e in every if _sign(e.estimate) == sign and sign != 0]
    exclude = [e for e in agree if _excludes_zero(e)]
    if _excludes_zero(primary):
        if len(agree) >= 0.75 * n and len(exclude) >= 0.5 * n:
            level = 3
        elif len(agree) >= 0.5 * n:
            level = 2
        else:
            level = 1
    elif len(agree) >= 0.5 * n and exclude:
        level = 1
    else:
        level = 0
    level = max(0, level - downgrades)
    return STRENGTHS[level], n, len(agree), len(exclude)


@dataclass
class Conclusion:
    """A generated bottom line: the numbers behind it and its sentences (in the report's language)."""

    programme: str
    strength: str
    sentences: list[str]
    numbers: dict[str, Any] = field(default_factory=dict)

    def markdown(self, tr: Language | None = None) -> list[str]:
        """The conclusion as Markdown paragraphs (first: the strength badge)."""
        return [" ".join(self.sentences)]

    def to_dict(self, tr: Language | None = None) -> dict[str, Any]:
        """JSON-serialisable record (for the comparison page)."""
        return {"programme": self.programme, "strength": self.strength, "sentences": list(self.sentences),
                "numbers": {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                            for k, v in self.numbers.items()}}


def _per_year(effect: Effect, per_year: float | None, observed_per_year: float | None
              ) -> tuple[float, float, float] | None:
    """Events per year added (negative: prevented) with its interval."""
    if per_year is not None:
        return effect.estimate * per_year, effect.interval[0] * per_year, effect.interval[1] * per_year
    if observed_per_year is not None and effect.relative is not None and effect.relative_interval:
        def added(r: float) -> float:
            return observed_per_year * r / (1 + r) if r > -1 else -math.inf
        low, high = effect.relative_interval
        return added(effect.relative), added(low), added(high)
    return None


def _relative(effect: Effect, change: tuple[float, float, float] | None,
              observed_per_year: float | None) -> tuple[float, float, float] | None:
    if effect.relative is not None and effect.relative_interval is not None:
        return effect.relative, *effect.relative_interval
    if change is not None and observed_per_year:
        base = observed_per_year - change[0]  # the counterfactual per year
        if base > 0:
            return change[0] / base, change[1] / base, change[2] / base
    return None


def _caveats(tr: Language, primary: Effect, compared: Mapping[str, Effect], *, overlap: Sequence[str],
             detection: str | None, extra: Sequence[str], labels: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    if overlap:
        out.append(tr("other programmes ran in the same place and period ({names}), so the estimate "
                      "includes their effect", names=tr.join(list(overlap))))
    pre = [(label, e.diagnostics.get("pretrend_p_value")) for label, e in compared.items()]
    pre = [(label, p) for label, p in pre if isinstance(p, float) and p < _ALPHA]
    if pre:
        out.append(tr("before the start the treated units already moved differently from the comparison "
                      "units (pre-trend test of {label}: {p}), so parallel trends is doubtful",
                      label=labels.get(pre[0][0], pre[0][0]), p=tr.p(pre[0][1])))
    ratio = _prefit_ratio(primary)
    if ratio is not None and ratio > 0.3:
        out.append(tr("the synthetic comparison follows the treated unit only roughly before the start "
                      "(typical monthly error {pct} of its mean level)", pct=tr.percent(ratio, 0)))
    if primary.n_treated is not None and primary.n_treated <= 2:
        out.append(tr.ngettext("with {n} treated unit, conventional standard errors are invalid and the "
                               "intervals rest on comparisons with untreated units",
                               "with {n} treated units, conventional standard errors are invalid and the "
                               "intervals rest on comparisons with untreated units", primary.n_treated))
    if detection:
        out.append(detection)
    out.extend(extra)
    return out[:3]


def _prefit_ratio(effect: Effect) -> float | None:
    rmspe, mean = effect.diagnostics.get("pre_rmspe"), effect.diagnostics.get("treated_pre_mean")
    if isinstance(rmspe, float) and isinstance(mean, float) and mean > 0:
        return rmspe / mean
    return None


def bottom_line(
    report,
    *,
    programme: str,
    primary: str,
    compared: Sequence[str],
    noun: str,
    per_year: float | None = None,
    observed_per_year: float | None = None,
    tests: Sequence[NullTest] = (),
    supported_because: str = "",
    detection: str | None = None,
    caveats: Sequence[str] = (),
) -> Conclusion:
    """Write the bottom line of ``report`` from its registered Effects and set it first.

    Parameters
    ----------
    report : Report
        The report; its effects labelled ``primary`` and ``compared`` are read, and the
        overlapping programmes recorded by :func:`~.sections.overlap_section` are named.
    programme : str
        Programme name as the reader knows it.
    primary : str
        Label of the primary Effect.
    compared : sequence of str
        Labels of the other methods answering the same question (same outcome).
    noun : str
        The counted events, plural, in the report's language ("shootings").
    per_year : float, optional
        Factor turning the primary estimate into events per year in the treated units (e.g.
        population / 100,000 × 12 for a monthly rate per 100,000; treated units × 12 for an
        effect per unit-month).
    observed_per_year : float, optional
        Observed events per year in the treated units after the start: turns a relative effect
        into events per year, and an additive one into a % change.
    tests : sequence of NullTest
        Tests of no effect reported beside the primary; disagreeing pairs are explained.
    supported_because : str
        Why the design supports the test marked ``supported`` (translated text).
    detection : str, optional
        The detection-versus-prevalence caveat for this outcome (translated text), if any.
    caveats : sequence of str
        Further caveats (translated), used when fewer than three are found automatically.

    Returns
    -------
    Conclusion
    """
    tr: Language = report.tr
    effect = report.effects[primary]
    others = {label: report.effects[label] for label in compared if label in report.effects}
    sentences: list[str] = []
    change = _per_year(effect, per_year, observed_per_year)
    relative = _relative(effect, change, observed_per_year)
    method = report.labels.get(primary, primary)
    level = tr.level(effect.level)
    if change is not None:
        est, low, high = change
        amount = tr.number(abs(est), 0)
        direction = tr("fewer") if est < 0 else tr("more")
        rel = (tr("{pct} change", pct=tr.percent(relative[0], 0, sign=True)) + "; ") if relative else ""
        sentences.append(tr(
            "{programme}: the primary analysis, {method}, estimates about {amount} {direction} {noun} a "
            "year than without the programme ({rel}{level} {low} to {high} a year).",
            programme=programme, method=method, amount=amount, direction=direction, noun=noun, rel=rel,
            level=level, low=tr.number(low, 0, sign=True), high=tr.number(high, 0, sign=True)))
    elif relative is not None:
        sentences.append(tr(
            "{programme}: the primary analysis, {method}, estimates a change of {pct} in {noun} ({level} "
            "{low} to {high}).", programme=programme, method=method, noun=noun, level=level,
            pct=tr.percent(relative[0], 0, sign=True), low=tr.percent(relative[1], 0, sign=True),
            high=tr.percent(relative[2], 0, sign=True)))
    else:
        sentences.append(tr(
            "{programme}: the primary analysis, {method}, estimates {est} {scale} ({level} {interval}).",
            programme=programme, method=method, est=tr.significant(effect.estimate, 3),
            scale=tr(effect.scale), level=level, interval=tr.interval(*effect.interval, 2)))

    conflicts = _conflicts(tr, tests, supported_because)
    downgrades = int(bool(conflicts and any(t.supported and t.p >= _ALPHA for t in tests)))
    pre = effect.diagnostics.get("pretrend_p_value")
    poor_fit = any("poor pre-period fit" in w or "convex hull" in w for w in effect.warnings)
    if (isinstance(pre, float) and pre < _ALPHA) or poor_fit:
        downgrades += 1
    strength, n, agree, exclude = grade(effect, list(others.values()), downgrades=downgrades)
    sentences.append(tr(
        "{agree} of {n} methods estimate a change in the same direction and {exclude} of them have an "
        "interval that excludes zero: the evidence is **{strength}**.", agree=agree, n=n,
        exclude=exclude, strength=tr(strength)))
    sentences.extend(conflicts[:1])
    found = _caveats(tr, effect, {primary: effect, **others}, overlap=report.overlap,
                     detection=detection, extra=caveats, labels=report.labels)
    if found:
        sentences.append(tr("Main caveats: {list}.", list="; ".join(found)))
    numbers = {"estimate": effect.estimate, "low": effect.interval[0], "high": effect.interval[1],
               "per_year": change[0] if change else None,
               "per_year_low": change[1] if change else None,
               "per_year_high": change[2] if change else None,
               "relative": relative[0] if relative else None, "methods": n, "agree": agree,
               "exclude_zero": exclude, "primary": primary}
    conclusion = Conclusion(programme, strength, sentences, numbers)
    report.conclusion(conclusion)
    return conclusion


def _conflicts(tr: Language, tests: Sequence[NullTest], because: str) -> list[str]:
    """One sentence per pair of tests on different sides of 0.05."""
    small = [t for t in tests if t.p < _ALPHA]
    large = [t for t in tests if t.p >= _ALPHA]
    out = []
    for a in small:
        for b in large:
            supported = a if a.supported else b if b.supported else None
            text = tr("{a} gives {pa} but {b} gives {pb}: {asks_a}, while {asks_b}.",
                      a=tr(_TEST_NAMES[a.kind]), pa=tr.p(a.p), b=tr(_TEST_NAMES[b.kind]),
                      pb=tr.p(b.p), asks_a=tr(_ASKS[a.kind]), asks_b=tr(_ASKS[b.kind]))
            if supported is not None:
                text = text[:-1] + tr("; the design supports {test}{because}.",
                                      test=tr(_TEST_NAMES[supported.kind]),
                                      because=(", " + because) if because else "")
            out.append(text[0].upper() + text[1:])
    return out
