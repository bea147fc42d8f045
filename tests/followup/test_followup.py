"""The annual world, the small-area model, change detection, report and CLI (fast cases)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from utvardering.data.worlds.annual_survey import simulate_annual_followup
from utvardering.errors import DesignError
from utvardering.followup import (
    city_change_example,
    fit_small_area,
    follow_up,
    load_city_survey,
    programme_cooccurrence,
    truth_check,
    write_report,
)


@pytest.fixture(scope="module")
def small_world():
    return simulate_annual_followup(seed=7, n_areas=30, years=(2018, 2022), n_changes=12, change_scale=2.5)


@pytest.fixture(scope="module")
def small_result(small_world):
    return follow_up(small_world.survey, small_world.counts, year=2022)


def test_world_changes_are_exact_and_the_seed_reproduces(small_world):
    t = small_world.truth
    changed = t[t["changed"]]
    assert len(changed) == 12 and set(changed["time"]) == {2022}
    shares = changed[changed["indicator"].isin(["unsafe_evening", "worried_crime", "victim_any",
                                                "refrained_activity", "victim_theft"])]
    np.testing.assert_allclose((shares["value"] - shares["value_y0"]).abs(), 0.2, atol=1e-9)
    unchanged = t[~t["changed"]]
    np.testing.assert_array_equal(unchanged["value"], unchanged["value_y0"])
    again = simulate_annual_followup(seed=7, n_areas=30, years=(2018, 2022), n_changes=12, change_scale=2.5)
    pd.testing.assert_frame_equal(again.survey, small_world.survey)
    rate = small_world.info["n_responded"] / small_world.info["n_sampled_total"]
    assert 0.4 < rate < 0.6                              # realistic non-response, about half answer


def test_world_rejects_impossible_settings():
    with pytest.raises(DesignError, match="change_year"):
        simulate_annual_followup(years=(2020, 2022), change_year=2020)
    with pytest.raises(DesignError, match="n_areas"):
        simulate_annual_followup(n_areas=1)


def test_direct_estimates_are_unbiased_and_cover(small_result, small_world):
    e = small_result.estimates[small_result.estimates["unit"] != "City"].merge(
        small_world.truth, on=["unit", "time", "indicator"])
    e = e[e["kind"] == "share"]
    z = (e["estimate"] - e["value"]) / e["se"].where(e["se"] > 0)
    assert abs(np.nanmean(z)) < 0.1
    cover = np.mean((e["ci_low"] <= e["value"]) & (e["value"] <= e["ci_high"]))
    assert 0.92 < cover < 0.98


def test_small_area_beats_direct_estimates(small_result, small_world):
    check = truth_check(small_result, small_world.truth)
    for name in ("unsafe_evening", "victim_any", "problem_index"):
        row = check["estimates"][name]
        assert row["mse_small_area"] < row["mse_direct"]
        assert row["coverage_small_area"] > 0.85


def test_eb_recovers_variance_components_of_a_gaussian_model():
    rng = np.random.default_rng(11)
    a, t = 200, 6
    area = rng.normal(0, 0.5, a)
    cell = rng.normal(0, 0.2, (a, t))
    year = np.linspace(-0.2, 0.2, t)
    se = rng.uniform(0.1, 0.4, (a, t))
    est = year[None] + area[:, None] + cell + rng.normal(0, 1, (a, t)) * se
    table = pd.DataFrame({"unit": np.repeat(np.arange(a), t), "time": np.tile(np.arange(t), a),
                          "estimate": est.ravel(), "se": se.ravel()})
    _, fit = fit_small_area(table, kind="mean")
    assert fit.sigma_a == pytest.approx(0.5, abs=0.07)
    assert fit.sigma_u == pytest.approx(0.2, abs=0.05)
    np.testing.assert_allclose(fit.beta - fit.beta.mean(), year - year.mean(), atol=0.06)


def test_large_changes_are_flagged_and_false_flags_are_rare(small_result, small_world):
    """One draw (seed 7): 10 of 12 20-point changes found against the baseline, 2 false of 12
    flags; the long-run false discovery rate is checked over many draws in the slow test."""
    check = truth_check(small_result, small_world.truth)
    assert check["baseline"]["found"] >= 8
    assert check["baseline"]["false_flags"] <= 2
    assert check["last"]["false_flags"] <= 2


def test_real_change_listing_and_effect_like_interface(small_result):
    real = small_result.real_changes
    assert (real["flag_last"] | real["flag_baseline"]).all()
    d = small_result.to_dict()
    json.dumps(d)
    assert d["n_tests"]["last"] == 30 * 10
    assert "Conclusion" in small_result.summary("en") and "Slutsats" in small_result.summary("sv")


def test_changes_need_an_earlier_year(small_world):
    with pytest.raises(DesignError, match="earlier year"):
        follow_up(small_world.survey, small_world.counts, year=2018)


def test_programmes_are_listed_as_cooccurrence():
    table = programme_cooccurrence(["Möllevången", "Kirseberg", "Delområde 050"], 2022)
    moll = set(table.loc[table["unit"] == "Möllevången", "key"])
    assert {"ordningsvakter_mollevangen", "medborgarlofte_mollevangen", "bid_mollevangen",
            "communities_that_care"} <= moll
    assert "Delområde 050" not in set(table["unit"])
    guards = table[table["key"] == "ordningsvakter_mollevangen"].iloc[0]
    assert guards["analysis"] == "ordningsvakter_mollevangen"
    assert set(programme_cooccurrence(["Möllevången"], 2016)["key"]) == set()


def test_real_city_values_are_copied_with_sources():
    table = load_city_survey()
    pi = table[table["measure"] == "problemindex"].set_index("period")["value"]
    assert pi[2021] == 2.27 and pi[2022] == 2.41
    assert table["source"].str.len().gt(0).all()
    changes, problem = city_change_example()
    row = changes[(changes["measure"] == "pct_not_victimised_12m") & (changes["to"] == 2021)].iloc[0]
    assert row["change"] == pytest.approx(74.5 - 70.2)
    assert problem["change"] == pytest.approx(0.14)
    assert 0 < problem["max_sd_for_significance"] < 10


def test_report_writes_both_languages(tmp_path, small_result, small_world):
    check = truth_check(small_result, small_world.truth)
    for lang, word, figures in (("en", "Conclusion", True), ("sv", "Slutsats", False)):
        written = write_report(small_result, tmp_path / lang, lang=lang, truth_check=check,
                               figures=figures)
        text = written["report.md"].read_text(encoding="utf-8")
        assert text.index(word) < text.index("|")            # conclusion before any table
        assert (tmp_path / lang / "figures" / "trends.png").exists() == figures
        payload = json.loads(written["followup.json"].read_text(encoding="utf-8"))
        assert payload["truth_check"]["last"]["true_changes"] == 12


def test_cli_followup_runs_on_a_small_simulated_world(tmp_path, capsys):
    from utvardering.cli import main

    config = tmp_path / "small.toml"
    config.write_text("[followup]\nn_areas = 20\nfdr = 0.2\nfigures = false\n", encoding="utf-8")
    code = main(["followup", "--year", "2022", "--lang", "sv", "--config", str(config),
                 "--out", str(tmp_path / "out")])
    assert code == 0
    assert (tmp_path / "out" / "report.html").exists()
    assert "Slutsats" in capsys.readouterr().out
    assert main(["followup", "--lang", "sv", "--out", str(tmp_path / "x")]) == 2
