"""Minimum detectable changes, the sample size they need, and the report section (fast cases)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from utvardering.data.worlds.annual_survey import simulate_annual_followup
from utvardering.errors import DesignError
from utvardering.followup import (
    benjamini_hochberg,
    bh_threshold,
    detectable_by_size,
    detectable_change,
    follow_up,
    required_sample_size,
    write_report,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from test_i18n import english_words


@pytest.fixture(scope="module")
def result():
    world = simulate_annual_followup(seed=7, n_areas=30, years=(2018, 2022), n_changes=12, change_scale=2.5)
    return follow_up(world.survey, world.counts, year=2022)


def test_required_sample_size_matches_a_hand_computation():
    """A rise of 8 points from 30 %, 80 % power, deff 1.2, 50 % response, vs last year (c = 1):
    p1 = 0.38, pooled 0.34; s0 = sqrt(0.34 * 0.66 * 2) = 0.669925, s1 = sqrt(0.38 * 0.62 + 0.21)
    = 0.667533. Single 5 % test: sqrt(n_e) = (1.959964 * 0.669925 + 0.841621 * 0.667533) / 0.08
    = 23.4356, n_e = 549.22, respondents 659.07, sampled 1318.1 -> 1319. FDR 10 % over 1,360
    tests, nothing else flagged: p = 0.1 / 1360, z = 3.964567, sqrt(n_e) = 40.2222, n_e = 1617.8,
    sampled 3882.8 -> 3883. (The symmetric formula 2 p(1-p)(z + z_power)^2 / 0.08^2 gives 515 and
    1516 effective: the rise needs more because the variance grows towards 50 %.)"""
    n = required_sample_size(0.08, 0.30, deff=1.2, response_rate=0.5)
    assert n.loc["single", "z_crit"] == pytest.approx(1.959964, abs=1e-6)
    assert n.loc["single", "n_effective"] == pytest.approx(549.22, abs=0.01)
    assert n.loc["single", "n_sampled"] == 1319
    assert n.loc["fdr", "p_threshold"] == pytest.approx(0.1 / 1360)
    assert n.loc["fdr", "z_crit"] == pytest.approx(3.964567, abs=1e-6)
    assert n.loc["fdr", "n_effective"] == pytest.approx(1617.8, abs=0.1)
    assert n.loc["fdr", "n_sampled"] == 3883
    # a fall of 8 points needs fewer; vs the mean of 4 years (c = 4) at 70 % power fewer still
    assert required_sample_size(-0.08, 0.30, deff=1.2, response_rate=0.5).loc["fdr", "n_sampled"] < 3883
    b = required_sample_size(0.08, 0.30, comparison="baseline", power=0.7, deff=1.2, response_rate=0.5)
    pbar = (0.38 + 4 * 0.30) / 5
    hand = ((3.964567 * np.sqrt(pbar * (1 - pbar) * 1.25) + 0.524401 * np.sqrt(0.38 * 0.62 + 0.21 / 4))
            / 0.08) ** 2 * 1.2 / 0.5
    assert b.loc["fdr", "n_sampled"] == int(np.ceil(hand)) == 2058


def test_mdc_and_sample_size_invert_each_other():
    """A share at 30 % with 120 effective answers in both years: the MDC of that row, fed back into
    required_sample_size (deff 1, everyone answers), needs exactly 120 effective answers; for a
    mean the MDC is the symmetric (z_crit + z_power) * SE."""
    n, p = 120.0, 0.30
    var_year = 1 / (n * p * (1 - p))
    pvals = np.array([0.5, 0.2, 1e-6])
    table = pd.DataFrame({"unit": ["a", "b", "c"], "indicator": "x", "kind": ["share", "share", "mean"],
                          "size": n, "level": [p, p, 2.0], "slope": [p * (1 - p), p * (1 - p), 1.0],
                          "se_last": [np.sqrt(2 * var_year)] * 2 + [0.1], "var_now": [var_year] * 2 + [0.005],
                          "p_last": pvals})
    table["se_baseline"], table["p_baseline"] = table["se_last"], table["p_last"]
    table["flag_last"] = benjamini_hochberg(pvals) <= 0.1
    table["flag_baseline"] = table["flag_last"]
    table.attrs["fdr"] = 0.1
    mdc = detectable_change(table)
    th = mdc.attrs["thresholds"]["last"]
    assert th["n_flagged"] == 1 and th["p_threshold"] == pytest.approx(0.1 / 3)
    last = mdc[mdc["comparison"] == "last"]
    row = last.iloc[0]
    assert row["direction"] == "up" and row["mdc"] == row["mdc_up"] > row["mdc_down"]
    for change in (row["mdc_up"], -row["mdc_down"]):
        back = required_sample_size(float(change), p, p_threshold=th["p_threshold"], deff=1.0, response_rate=1.0)
        assert back.loc["fdr", "n_effective"] == pytest.approx(n, rel=1e-6)
    back1 = required_sample_size(float(row["mdc_single"]), p, deff=1.0, response_rate=1.0)
    assert back1.loc["single", "n_effective"] == pytest.approx(n, rel=1e-6)
    z = stats.norm.isf(0.1 / 6) + stats.norm.ppf(0.8)
    assert last.iloc[2]["mdc"] == pytest.approx(z * 0.1) == last.iloc[2]["mdc_down"]


def test_bh_threshold_is_the_step_up_cut():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, 15)])
    flagged = benjamini_hochberg(p) <= 0.1
    th = bh_threshold(p, flagged, 0.1)
    assert th["n_flagged"] == flagged.sum() > 0
    np.testing.assert_array_equal(p <= th["p_threshold"], flagged)     # flagged iff below the cut
    assert th["largest_flagged_p"] <= th["p_threshold"]
    none = bh_threshold(np.array([0.5, 0.9, np.nan]), np.zeros(3, bool), 0.1)
    assert none["m"] == 2 and none["p_threshold"] == pytest.approx(0.05)


def test_detectable_change_uses_the_follow_ups_standard_errors(result):
    mdc = detectable_change(result)
    assert set(mdc["comparison"]) == {"last", "baseline"} and len(mdc) == 2 * len(result.changes)
    for comp in ("last", "baseline"):
        th = mdc.attrs["thresholds"][comp]
        k = int(result.changes[f"flag_{comp}"].sum())
        assert th["n_flagged"] == k and th["p_threshold"] == pytest.approx(0.1 * max(k, 1) / th["m"])
        rows = mdc[mdc["comparison"] == comp]
        z = th["z_crit"] + stats.norm.ppf(0.8)
        means = rows[rows["kind"] == "mean"]
        assert np.allclose(means["mdc"] / means["se_change"], z)    # symmetric for a normal test
        shares = rows[(rows["kind"] == "share") & ~rows["rare"]]
        assert (shares["mdc"] == shares[["mdc_up", "mdc_down"]].max(axis=1)).all()
        assert (shares["mdc"] / (z * shares["se_change"])).between(0.9, 1.6).all()
        assert (rows["mdc"] > rows["mdc_single"]).all()               # the correction costs
    # shares: the change's SE in points is the two-sample binomial SE on Kish effective sizes (up
    # to the difference between last year's and this year's null level: measured 0.98-1.19)
    est = result.estimates
    share = mdc[(mdc["kind"] == "share") & (mdc["comparison"] == "last")].set_index(["unit", "indicator"])
    n = est[est["kind"] == "share"].pivot_table(index=["unit", "indicator"], columns="time", values="n_eff")
    p = share["level"]
    binomial = np.sqrt(p * (1 - p) * (1 / n[2022] + 1 / n[2021]).reindex(share.index))
    ratio = share["se_change"] / binomial
    assert ratio.median() == pytest.approx(1.0, abs=0.03) and ratio.between(0.9, 1.25).all(), ratio.describe()
    # against the area's 4-year level the SE is smaller than against last year
    last = mdc[mdc["comparison"] == "last"]["se_change"].to_numpy()
    base = mdc[mdc["comparison"] == "baseline"]["se_change"].to_numpy()
    assert np.nanmedian(base / last) < 0.85
    higher = detectable_change(result, power=0.7)
    assert (higher["mdc"] < mdc["mdc"]).all()


def test_detectable_by_size_bands(result):
    table = detectable_by_size(result)
    assert list(table.columns[:3]) == ["band", "areas", "respondents"]
    assert table["areas"].sum() == 30
    assert (table["mdc_last"] > table["mdc_single_last"]).all()


def test_bad_input_is_named():
    with pytest.raises(DesignError, match=r"power=1\.5"):
        required_sample_size(0.08, 0.3, power=1.5)
    with pytest.raises(DesignError, match="change=0"):
        required_sample_size(0, 0.3)
    with pytest.raises(DesignError, match=r"deff=0\.9"):
        required_sample_size(0.08, 0.3, deff=0.9)
    with pytest.raises(DesignError, match="response_rate=0"):
        required_sample_size(0.08, 0.3, response_rate=0)
    with pytest.raises(DesignError, match="comparison='trend'"):
        required_sample_size(0.08, 0.3, comparison="trend")
    with pytest.raises(DesignError, match="leaves the 0-1 range"):
        required_sample_size(-0.08, 0.05)
    with pytest.raises(DesignError, match=r"level=1\.2"):
        required_sample_size(0.08, 1.2)
    with pytest.raises(DesignError, match="n_flagged=-1"):
        required_sample_size(0.08, 0.3, n_flagged=-1)
    with pytest.raises(DesignError, match="'trend'"):
        detectable_change(pd.DataFrame(), comparisons=["trend"])
    with pytest.raises(DesignError, match="lacks"):
        detectable_change(pd.DataFrame({"p_last": [0.1]}))


def test_world_plants_explicit_changes():
    changes = pd.DataFrame({"unit": ["Möllevången", "Kirseberg", "Annelund"],
                            "indicator": ["unsafe_evening", "problem_index", "robbery"],
                            "change": [-0.123, 0.4, 2.0]})
    world = simulate_annual_followup(seed=4, n_areas=40, years=(2019, 2022), changes=changes)
    t = world.truth[world.truth["changed"]].set_index(["unit", "indicator"])
    assert len(t) == 3
    assert t.loc[("Möllevången", "unsafe_evening"), "value"] - t.loc[("Möllevången", "unsafe_evening"), "value_y0"] \
        == pytest.approx(-0.123, abs=1e-9)
    assert t.loc[("Annelund", "robbery"), "value"] / t.loc[("Annelund", "robbery"), "value_y0"] == pytest.approx(2.0)
    same = simulate_annual_followup(seed=4, n_areas=40, years=(2019, 2022), n_changes=0)
    assert (same.survey["weight"].to_numpy() == world.survey["weight"].to_numpy()).all()   # same sample
    with pytest.raises(DesignError, match="leaves the range"):
        simulate_annual_followup(seed=4, n_areas=40, years=(2019, 2022),
                                 changes=pd.DataFrame({"unit": ["Kirseberg"], "indicator": ["victim_violence"],
                                                       "change": [-0.5]}))
    with pytest.raises(DesignError, match="unknown area"):
        simulate_annual_followup(seed=4, n_areas=40, years=(2019, 2022),
                                 changes=pd.DataFrame({"unit": ["Atlantis"], "indicator": ["robbery"], "change": [2]}))


def test_report_section_in_both_languages_and_no_english_in_swedish(tmp_path, result):
    for lang, heading in (("en", "## What this survey can detect"), ("sv", "## Vad undersökningen kan upptäcka")):
        written = write_report(result, tmp_path / lang, lang=lang, figures=False, real_example=False)
        text = written["report.md"].read_text(encoding="utf-8")
        section = text[text.index(heading):].split("\n## ")[0]
        assert "|" in section and (tmp_path / lang / "tables" / "detectable_change.csv").exists()
        if lang == "sv":
            assert english_words(section) == [], english_words(section)
            assert "går inte att skilja från slumpen" in result.summary("sv")
        else:
            assert "cannot be told apart from chance" in result.summary("en")
