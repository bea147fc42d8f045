"""The generated bottom line: the evidence rule, the headline in events per year, conflicts, caveats."""

from __future__ import annotations

import math

import pytest

from utvardering import Effect
from utvardering.report.conclusion import NullTest, bottom_line, grade
from utvardering.report.document import Report


def _e(est, low, high, **kw):
    return Effect("demo", est, (low, high), **kw)


@pytest.mark.parametrize(("others", "expected"), [
    ([_e(-1, -2, -0.1), _e(-1, -2, -0.2), _e(-0.5, -1, 0.1)], "strong"),     # 4/4 agree, 3/4 exclude
    ([_e(-1, -2, 0.1), _e(-1, -2, 0.2), _e(0.5, -1, 1.1)], "moderate"),      # 3/4 agree, 1/4 exclude
    ([_e(1, 0.1, 2), _e(1, 0.2, 2), _e(0.5, 0.1, 1.1)], "weak"),             # primary excludes, 1/4 agree
])
def test_grade_follows_the_documented_rule_when_the_primary_excludes_zero(others, expected):
    assert grade(_e(-1.0, -2.0, -0.5), others)[0] == expected


def test_grade_when_the_primary_includes_zero():
    assert grade(_e(-1, -2, 0.5), [_e(-1, -2, -0.1)])[0] == "weak"
    assert grade(_e(-1, -2, 0.5), [_e(-1, -2, 0.1)])[0] == "inconclusive"
    assert grade(_e(-1, -2, 0.5), [_e(1, 0.1, 2), _e(1, 0.1, 2)])[0] == "inconclusive"
    assert grade(_e(-1.0, -2.0, -0.5), [_e(-1, -2, -0.1)], downgrades=1)[0] == "moderate"
    assert grade(_e(-1.0, -2.0, -0.5), [], downgrades=5)[0] == "inconclusive"


def _report(lang="en"):
    report = Report("Toy", lang=lang)
    report.overlap = ["Operation Rimfrost"]
    report.effect("sc", Effect("synthetic_control", -0.5, (-2.0, -0.1), p_value=0.03, relative=-0.3,
                               relative_interval=(-0.6, -0.05), n_treated=1))
    report.effect("did", Effect("poisson_did", -0.4, (-1.0, 0.05), relative=-0.3, relative_interval=(-0.6, 0.05),
                                n_treated=1, diagnostics={"pretrend_p_value": 0.01}))
    return report


def test_headline_in_events_per_year_with_its_interval_and_caveats():
    report = _report()
    c = bottom_line(report, programme="Toy", primary="sc", compared=["did"], noun="shootings",
                    per_year=40.0, observed_per_year=30.0)
    assert math.isclose(c.numbers["per_year"], -20.0) and math.isclose(c.numbers["per_year_low"], -80.0)
    assert c.sentences[0] == ("Toy: the primary analysis, sc, estimates about 20 fewer shootings a year than "
                              "without the programme (−30% change; 95% CI −80 to −4 a year).")
    assert "2 of 2 methods" in c.sentences[1] and "1 of them" in c.sentences[1]
    assert "Main caveats:" in c.sentences[-1] and "Operation Rimfrost" in c.sentences[-1]
    assert "pre-trend test of did: p = 0.010" in c.sentences[-1] and "1 treated unit" in c.sentences[-1]
    assert len(c.sentences) <= 5 and report._conclusion is c


def test_relative_effect_becomes_events_per_year_without_a_factor():
    report = _report()
    c = bottom_line(report, programme="Toy", primary="did", compared=["sc"], noun="crimes",
                    observed_per_year=70.0)
    # 70 observed a year at −30 %: the counterfactual is 100, so 30 fewer
    assert math.isclose(c.numbers["per_year"], -30.0)


def test_conflicting_tests_are_explained_in_one_sentence_and_lower_the_grade():
    report = _report()
    c = bottom_line(report, programme="Toy", primary="sc", compared=["did"], noun="shootings", per_year=40.0,
                    tests=[NullTest("conformal", 0.033), NullTest("placebo_in_space", 0.70, supported=True)],
                    supported_because="because it compares with real cities")
    conflict = c.sentences[2]
    assert conflict.startswith("The conformal test gives p = 0.033 but the placebo-in-space test gives p = 0.700")
    assert conflict.endswith("the design supports the placebo-in-space test, because it compares with real cities.")
    assert conflict.count(". ") == 0  # one sentence
    assert c.strength == "moderate"  # strong by agreement, one step down for the conflict
    assert len(c.sentences) <= 5


def test_the_swedish_bottom_line_is_swedish():
    report = _report("sv")
    c = bottom_line(report, programme="Toy", primary="sc", compared=["did"], noun=report.tr("shootings"),
                    per_year=40.0)
    assert c.sentences[0].startswith("Toy: den primära analysen, sc, skattar att det blev ungefär 20 färre "
                                     "skjutningar per år")
    assert "95\xa0% KI −80 till −4 per år" in c.sentences[0]
    assert "stödet är **starkt**" in c.sentences[1] or "stödet är **måttligt**" in c.sentences[1]
