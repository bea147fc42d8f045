"""Regression tests for reliability-fuzz review item R7 (privacy of published reports)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from utvardering import Effect
from utvardering.errors import DataError
from utvardering.report.document import Report
from utvardering.report.suppression import SuppressionPolicy, publishable


def _counts() -> pd.DataFrame:
    return pd.DataFrame({"year": [2016, 2017], "shootings": [54, 3], "dead": [4, 0]}).set_index("year")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_r7_suppress_below_zero_is_refused_not_silently_disabled(bad):
    with pytest.raises(DataError, match="suppress_below"):
        Report("t", suppress_below=bad)


def test_r7_caption_states_the_rule_actually_applied(tmp_path):
    on = Report("t")
    published = on.table("yearly", _counts(), counts=["shootings", "dead"], caption="Per year.")
    assert published["shootings"].tolist() == [54, "<5"] and published["dead"].tolist() == ["<5", 0]
    assert on.blocks[-1].caption == "Per year. (cells < 5 suppressed)"
    off = Report("t", suppress_below=None)  # `suppress_below = false` in the configuration
    shown = off.table("yearly", _counts(), counts=["shootings", "dead"], caption="Per year.")
    assert shown["shootings"].tolist() == [54, 3]
    assert "not suppressed" in off.blocks[-1].caption and "cells <" not in off.blocks[-1].caption
    sv = Report("t", lang="sv")
    sv.table("yearly", _counts(), counts=["shootings"])
    assert sv.blocks[-1].caption == "(celler < 5 dolda)"


def test_r7_config_false_switches_off_and_zero_fails_in_the_runner(tmp_path):
    from utvardering.report.runner import run_analysis

    (tmp_path / "toy.py").write_text(
        "import pandas as pd\n"
        "def run(ctx):\n"
        "    ctx.report.table('t', pd.DataFrame({'n': [3, 10]}), counts=['n'])\n")
    (tmp_path / "toy.toml").write_text('title = "Toy"\n[privacy]\nsuppress_below = 0\n')
    with pytest.raises(DataError, match="suppress_below = 0"):
        run_analysis("toy", directory=tmp_path, out=tmp_path / "a", quiet=True)
    (tmp_path / "toy.toml").write_text('title = "Toy"\n[privacy]\nsuppress_below = false\n')
    written = run_analysis("toy", directory=tmp_path, out=tmp_path / "b", quiet=True)
    assert "not suppressed" in written["report.md"].read_text()


def _bsts_like() -> Effect:
    times = pd.period_range("2018-01", periods=6, freq="M")
    observed = np.array([3.0, 12.0, 0.0, 4.0, 7.0, 9.0])
    cf = np.array([4.0, 10.0, 1.0, 5.0, 8.0, 8.0])
    path = pd.DataFrame({"observed": observed, "counterfactual": cf, "effect": observed - cf,
                         "low": observed - cf - 2, "high": observed - cf + 2},
                        index=pd.Index(times, name="time"))
    return Effect("bsts", -1.0, (-3.0, 1.0), path=path, n_treated=1,
                  diagnostics={"observed_treated_events": 3.0, "warnings": []})


def test_r7_small_monthly_counts_do_not_leave_through_effects_json(tmp_path):
    report = Report("t")
    report.effect("count BSTS", _bsts_like())
    report.write(tmp_path)
    data = json.loads((tmp_path / "effects.json").read_text())["count BSTS"]
    path = Effect.from_dict(data).path
    # months with 1-4 shootings: observed and everything that reveals it (effect, low, high) blanked
    assert path["observed"].isna().tolist() == [True, False, False, True, False, False]
    assert path["effect"].isna().tolist() == [True, False, False, True, False, False]
    assert path["counterfactual"].notna().all()  # a model output reveals no count
    assert path.loc[pd.Period("2018-03", "M"), "observed"] == 0  # zeros reveal no one
    assert data["diagnostics"]["observed_treated_events"] is None
    assert data["diagnostics"]["suppressed"]["below"] == 5
    # the estimate itself is untouched, and rates (not whole numbers) are not counts
    assert data["estimate"] == -1.0
    rates = _bsts_like()
    rates.path["observed"] = rates.path["observed"] / 3.3
    assert Effect.from_dict(publishable(rates, SuppressionPolicy(5))).path["observed"].notna().all()


def test_r7_survey_cell_means_of_fewer_than_five_respondents_are_not_exported():
    cells = pd.DataFrame({"group": ["treated", "treated", "comparison"], "time": [2017, 2018, 2017],
                          "mean": [3.67, 2.67, 2.1], "n": [3, 40, 500]}).set_index(["group", "time"])
    out = publishable(CellEffect("survey_did", 0.1, (-0.2, 0.4), cell_means=cells), SuppressionPolicy(5))
    frame = Effect.from_dict(out).cell_means
    assert frame["mean"].isna().tolist() == [True, False, False]
    assert frame["n"].tolist() == [3, 40, 500]


@dataclass(repr=False)
class CellEffect(Effect):
    """An Effect carrying survey cell means, as ``survey_did``'s result does."""

    cell_means: pd.DataFrame | None = None
