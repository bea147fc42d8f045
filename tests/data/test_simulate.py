"""Tests of the simulated Malmö worlds and their bundled realisations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from utvardering.data import simulate as sim
from utvardering.errors import DataError, DesignError

import budget

N_SEEDS = budget.draws(full=200, fast=20)  # replications for the Monte Carlo recovery tests
Z = 4.0  # tolerance = Z Monte Carlo standard errors (two-sided false alarm ~6e-5 per check)
OFFENCES = ["violence", "theft", "drugs", "public_order"]


COLUMNS = {
    "shootings": ["unit", "region", "time", "shootings", "dead", "injured", "population", "treated",
                  "shootings_y0", "mu0", "mu"],
    "area_crime": ["unit", "time", *OFFENCES, "population", "treated", "treated_share", "neighbour",
                   *[f"{o}_y0" for o in OFFENCES]],
    "safety_survey": ["respondent", "unit", "time", "age", "age_group", "sex", "design_weight",
                      "weight", "treated", "neighbour", "unsafe_evening", "unsafe_evening_y0",
                      "problem_drugs", "problem_litter", "problem_vandalism", "problem_loitering",
                      "problem_disturbance", "problem_index", "problem_index_y0", "victim"],
    "schools": ["unit", "school_type", "enrolment", "time", "drug_offences", "other_offences",
                "first_search", "treated", "drug_offences_y0", "other_offences_y0"],
    "school_survey": ["respondent", "unit", "school_type", "time", "sex", "weight", "first_search",
                      "treated", "drug_use", "drug_use_y0", "safe_school", "safe_school_y0"],
}
STRINGS = {"unit", "region", "age_group", "sex", "school_type"}
FLOATS = {"mu0", "mu", "treated_share", "design_weight", "weight", "problem_index", "problem_index_y0"}


@pytest.fixture(scope="module")
def worlds() -> dict[str, pd.DataFrame]:
    """Each world at its default (= bundled) seed."""
    return {name: f() for name, f in sim.SIMULATORS.items()}


def pooled_ratio(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Ratio sum(a)/sum(b) over replications and its delta-method Monte Carlo SE."""
    r = a.sum() / b.sum()
    se = np.std(a - r * b, ddof=1) / np.sqrt(len(a)) / b.mean()
    return r, se


# ---------------------------------------------------------------- all worlds

@pytest.mark.parametrize("name", list(sim.SIMULATORS))
def test_same_seed_same_data_and_other_seed_differs(name):
    f = sim.SIMULATORS[name]
    a, b, c = f(seed=7), f(seed=7), f(seed=8)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.attrs["truth"] == b.attrs["truth"]
    assert not a.equals(c)
    g1, g2 = f(seed=np.random.default_rng(3)), f(seed=np.random.default_rng(3))
    pd.testing.assert_frame_equal(g1, g2, check_exact=True)
    assert g1.attrs["truth"]["seed"] is None


@pytest.mark.parametrize("name", list(sim.SIMULATORS))
def test_truth_is_json_and_counts_are_nonnegative_ints(name, worlds, capsys):
    df = worlds[name]
    assert list(df.columns) == COLUMNS[name]
    for col in df.columns:
        if col in STRINGS:
            assert pd.api.types.is_string_dtype(df[col]), col
        elif col == "first_search" or (col == "time" and "survey" not in name):
            assert str(df[col].dtype) == "period[M]", col
        else:
            assert df[col].dtype == (np.float64 if col in FLOATS else np.int64), col
    truth = df.attrs["truth"]
    assert json.loads(json.dumps(truth)) == truth
    assert truth["world"] == name and truth["generator_version"] == sim.GENERATOR_VERSION
    assert not df[["unit", "time"] + (["respondent"] if "respondent" in df else [])].duplicated().any()
    ints = df.select_dtypes("integer")
    assert (ints >= 0).all().all() and "treated" in ints
    assert df.notna().drop(columns=["first_search"], errors="ignore").all().all()
    sim.simulate(name, seed=1)
    assert capsys.readouterr().out == ""


def test_unknown_world_and_bad_seed():
    with pytest.raises(DesignError, match=r"unknown simulated world 'guns'.*shootings"):
        sim.simulate("guns")
    with pytest.raises(DesignError, match=r"seed=-1 .*non-negative integer"):
        sim.simulate_shootings(seed=-1)


# ---------------------------------------------------------------- shootings

def test_shootings_shape_and_treatment(worlds):
    df = worlds["shootings"]
    assert df.shape == (20 * 120, 11)
    assert str(df["time"].dtype) == "period[M]"
    assert df["time"].min() == pd.Period("2014-01", "M") and df["time"].max() == pd.Period("2023-12", "M")
    assert (df["dead"] + df["injured"] <= df["shootings"]).all()
    treated = df[df["treated"] == 1]
    assert set(treated["unit"]) == {"Malmö"} and treated["time"].min() == pd.Period("2018-10", "M")


def test_malmo_pre2018_totals_near_public_figures(worlds):
    # Public figures (Police, via DOMAIN.md): Malmö had 59 confirmed shootings in 2016, 65 in 2017.
    m = worlds["shootings"].query("unit == 'Malmö'")
    yearly = m.groupby(m["time"].dt.year)["shootings"].sum()
    assert 40 <= yearly[2016] <= 90 and 40 <= yearly[2017] <= 90
    # The model's expected 2016-2017 mean is malmo_level * 12 = 62 a year exactly; check it over seeds.
    totals = []
    for s in range(20):
        d = sim.simulate_shootings(seed=100 + s).query("unit == 'Malmö'")
        totals.append(d.loc[d["time"].dt.year.isin([2016, 2017]), "shootings"].sum() / 2)
    assert abs(np.mean(totals) - 62) < Z * np.std(totals, ddof=1) / np.sqrt(20)


def test_shootings_oracle_truth(worlds):
    df = worlds["shootings"]
    t = df.attrs["truth"]
    post = df[(df["unit"] == "Malmö") & (df["treated"] == 1)]
    diff = post["shootings"] - post["shootings_y0"]
    assert abs(diff.mean() - t["att_per_month"]) < 1e-12
    assert t["events_prevented"] == -diff.sum() and t["n_post_months"] == 63
    assert t["realised_ratio"] == pytest.approx(post["shootings"].sum() / post["shootings_y0"].sum(), abs=1e-12)
    assert t["expected_ratio"] == pytest.approx(0.6, abs=1e-12)
    assert abs((post["mu"] - post["mu0"]).mean() - t["expected_att_per_month"]) < 1e-12


def test_shootings_common_random_numbers():
    a, b = sim.simulate_shootings(rate_ratio=0.6), sim.simulate_shootings(rate_ratio=0.8)
    for col in ["shootings_y0", "mu0", "population", "treated"]:
        pd.testing.assert_series_equal(a[col], b[col])
    untreated = a["mu"] == a["mu0"]
    pd.testing.assert_frame_equal(a[untreated], b[untreated])
    assert (a.loc[~untreated, "shootings"] <= b.loc[~untreated, "shootings"]).all()


def test_shootings_null_effect_gives_y_equal_y0():
    df = sim.simulate_shootings(rate_ratio=1.0)
    assert (df["shootings"] == df["shootings_y0"]).all()
    assert df.attrs["truth"]["att_per_month"] == 0 and df.attrs["truth"]["realised_ratio"] == 1


def test_shootings_early_true_start_and_rimfrost():
    base = sim.simulate_shootings()
    early = sim.simulate_shootings(true_start="2018-02", rimfrost_ratio=0.5)
    m0, m1 = base.query("unit == 'Malmö'"), early.query("unit == 'Malmö'")
    before = (m1["time"] >= pd.Period("2018-02", "M")) & (m1["treated"] == 0)
    assert early.attrs["truth"]["events_prevented_before_start"] == (
        m1.loc[before, "shootings_y0"] - m1.loc[before, "shootings"]).sum()
    rim = m1["time"] >= pd.Period("2019-11", "M")
    np.testing.assert_allclose(m1.loc[rim, "mu0"], 0.5 * m0.loc[rim, "mu0"], rtol=1e-12)
    np.testing.assert_array_equal(m1.loc[~rim, "mu0"], m0.loc[~rim, "mu0"])


def test_shootings_unit_subset_keeps_series():
    full = sim.simulate_shootings()
    sub = sim.simulate_shootings(units=["Stockholm", "Malmö"])
    assert list(sub["unit"].unique()) == ["Malmö", "Stockholm"]
    expected = full[full["unit"].isin(["Malmö", "Stockholm"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub, expected)


def test_shootings_bad_arguments():
    with pytest.raises(DesignError, match=r"unknown unit.*'Gotham'.*choose from"):
        sim.simulate_shootings(units=["Malmö", "Gotham"])
    with pytest.raises(DesignError, match="must include 'Malmö'"):
        sim.simulate_shootings(units=["Lund"])
    with pytest.raises(DesignError, match="rate_ratio=0 must be a positive"):
        sim.simulate_shootings(rate_ratio=0)
    with pytest.raises(DesignError, match="start=2030-01 lies outside"):
        sim.simulate_shootings(start="2030-01")


# ---------------------------------------------------------------- area crime

def test_area_crime_shape_and_mollevangen_level(worlds):
    df = worlds["area_crime"]
    assert df.shape == (136 * 84, 14) and df["unit"].nunique() == 136
    moll = df[df["unit"] == "Möllevången"]
    # DOMAIN.md: roughly 400+ reported crimes a month in Möllevången (?), ~10% of Malmö's.
    pre = moll[moll["time"] < pd.Period("2021-06", "M")]
    assert 330 <= pre[OFFENCES].sum(axis=1).mean() <= 550
    share = pre[OFFENCES].sum().sum() / df[df["time"] < pd.Period("2021-06", "M")][OFFENCES].sum().sum()
    assert 0.07 <= share <= 0.16
    june = moll.set_index("time").loc[pd.Period("2021-06", "M")]
    assert june["treated"] == 1 and june["treated_share"] == pytest.approx(17 / 30)
    treated = df[df["treated"] == 1]
    assert set(treated["unit"]) == {"Möllevången"} and len(treated) == 19
    assert set(df.loc[df["neighbour"] == 1, "unit"]) == set(sim.simulate_area_crime.__kwdefaults__["neighbours"])


def test_area_crime_oracle_and_displacement():
    df = sim.simulate_area_crime(displacement={"violence": 0.2, "theft": 0.1})
    t = df.attrs["truth"]
    moll = df[(df["unit"] == "Möllevången") & (df["treated"] == 1)]
    months = moll["time"]
    neigh = df[(df["neighbour"] == 1) & df["time"].isin(months)]
    for off in OFFENCES:
        assert abs((moll[off] - moll[f"{off}_y0"]).mean() - t["att"][off]) < 1e-12
        assert abs((neigh[off] - neigh[f"{off}_y0"]).mean() - t["neighbour_att"][off]) < 1e-12
        assert t["events_changed"][off] == (moll[off] - moll[f"{off}_y0"]).sum()
    assert t["displacement"] == {"violence": 0.2, "theft": 0.1, "drugs": 0.0, "public_order": 0.0}
    assert (neigh["drugs"] == neigh["drugs_y0"]).all()  # no displacement given for drugs
    other = df[(df["neighbour"] == 0) & (df["unit"] != "Möllevången")]
    assert all((other[o] == other[f"{o}_y0"]).all() for o in OFFENCES)


def test_area_crime_common_random_numbers_and_null():
    a = sim.simulate_area_crime()
    b = sim.simulate_area_crime(effects={"violence": 0.5}, displacement=0.3)
    y0 = [f"{o}_y0" for o in OFFENCES]
    pd.testing.assert_frame_equal(a[y0], b[y0])
    keep = (a["unit"] != "Möllevången") & (a["neighbour"] == 0)
    pd.testing.assert_frame_equal(a[keep], b[keep])
    null = sim.simulate_area_crime(effects=dict.fromkeys(OFFENCES, 1.0))
    assert all((null[o] == null[f"{o}_y0"]).all() for o in OFFENCES)
    with pytest.raises(DesignError, match=r"unknown offence\(s\) \['guns'\]"):
        sim.simulate_area_crime(effects={"guns": 0.5})
    with pytest.raises(DesignError, match=r"neighbours.*not valid"):
        sim.simulate_area_crime(neighbours=["Möllevången"])


# ---------------------------------------------------------------- safety survey

def test_safety_survey_structure(worlds):
    df = worlds["safety_survey"]
    t = df.attrs["truth"]
    assert set(df["time"]) == set(range(2017, 2024)) and df["unit"].nunique() == 30
    assert df["unsafe_evening"].between(1, 4).all() and df["problem_drugs"].between(1, 5).all()
    assert 0.4 <= t["n_responded"] / t["n_sampled"] <= 0.6  # DOMAIN.md: about 50% respond
    assert t["n_sampled"] == 30 * 7 * 300
    sums = df.groupby(["unit", "time"]).agg(w=("weight", "sum"), d=("design_weight", "first"))
    np.testing.assert_allclose(sums["w"], 300 * sums["d"], rtol=1e-9)  # calibrated to N
    # Older people answer more often, so weighting lowers the mean age.
    assert np.average(df["age"], weights=df["weight"]) < df["age"].mean() - 2
    treated = df[df["treated"] == 1]
    assert set(treated["unit"]) == {"Möllevången"} and set(treated["time"]) == {2021, 2022}
    # DOMAIN.md: about 30% of Malmö residents feel unsafe outdoors in the evening.
    assert 0.2 <= np.average(df["unsafe_evening_y0"] >= 3, weights=df["weight"]) <= 0.45


def test_safety_survey_oracle_truth(worlds):
    df = worlds["safety_survey"]
    t = df.attrs["truth"]
    tr = df[df["treated"] == 1]
    d = (tr["unsafe_evening"] >= 3).astype(float) - (tr["unsafe_evening_y0"] >= 3)
    assert abs(np.sum(tr["weight"] * d) / tr["weight"].sum() - t["realised_effect_weighted"]) < 1e-12
    assert all(abs(v - (-0.08)) < 1e-10 for v in t["population_effect"].values())
    untreated = df[df["treated"] == 0]
    assert (untreated["unsafe_evening"] == untreated["unsafe_evening_y0"]).all()
    assert (untreated["problem_index"] == untreated["problem_index_y0"]).all()


def test_safety_survey_common_random_numbers_and_null():
    a = sim.simulate_safety_survey()
    b = sim.simulate_safety_survey(effect=-0.15, problem_effect=0.0)
    pd.testing.assert_frame_equal(a[a["treated"] == 0], b[b["treated"] == 0])
    pd.testing.assert_series_equal(a["unsafe_evening_y0"], b["unsafe_evening_y0"])
    null = sim.simulate_safety_survey(effect=0.0, problem_effect=0.0)
    assert (null["unsafe_evening"] == null["unsafe_evening_y0"]).all()
    with pytest.raises(DesignError, match=r"effect=-0.9 is impossible"):
        sim.simulate_safety_survey(effect=-0.9)


# ---------------------------------------------------------------- schools

def test_schools_structure(worlds):
    df = worlds["schools"]
    assert df.shape == (60 * 72, 10) and set(df["school_type"]) == {"grundskola", "gymnasium"}
    first = df.groupby("unit")["first_search"].first().dropna()
    assert len(first) == 12 and first.nunique() >= 2  # staggered
    assert first.between(pd.Period("2019-02", "M"), pd.Period("2019-06", "M")).all()
    on = df["first_search"].notna() & (df["time"] >= df["first_search"])
    assert (df["treated"] == on.astype(int)).all()


def test_schools_oracle_truth(worlds):
    df = worlds["schools"]
    t = df.attrs["truth"]
    tr = df[df["treated"] == 1].assign(
        e=lambda d: (d["time"] - d["first_search"]).map(lambda x: x.n),
        diff=lambda d: d["drug_offences"] - d["drug_offences_y0"],
    )
    assert abs(tr["diff"].mean() - t["att"]) < 1e-12
    by_e = tr.groupby("e")["diff"].mean()
    assert max(abs(by_e[int(k)] - v) for k, v in t["att_by_event_time"].items()) < 1e-12
    for cohort, g in tr.groupby(tr["first_search"].astype(str)):
        got = g.groupby("e")["diff"].mean()
        stored = t["att_by_cohort_event_time"][cohort]
        assert max(abs(got[int(k)] - v) for k, v in stored.items()) < 1e-12
    assert t["expected_ratio_by_event_time"]["0"] == pytest.approx(2.5 * 0.85)
    assert (df["other_offences"] == df["other_offences_y0"]).all()  # other_effect = 1


def test_schools_common_random_numbers_null_and_selection():
    a = sim.simulate_schools()
    b = sim.simulate_schools(detection_effect=4.0, prevalence_effect=0.5)
    pd.testing.assert_frame_equal(a[a["treated"] == 0], b[b["treated"] == 0])
    pd.testing.assert_series_equal(a["drug_offences_y0"], b["drug_offences_y0"])
    null = sim.simulate_schools(detection_effect=1.0, prevalence_effect=1.0)
    assert (null["drug_offences"] == null["drug_offences_y0"]).all()
    # selection_on_trend > 0: searched schools had rising drug offences (over 20 seeds).
    gaps = [(lambda t: t["mean_trend_searched"] - t["mean_trend_not_searched"])(
        sim.simulate_schools(seed=s, selection_on_trend=2.0).attrs["truth"]) for s in range(20)]
    assert np.mean(gaps) > Z * np.std(gaps, ddof=1) / np.sqrt(20)


def test_school_survey_matches_schools_and_oracle(worlds):
    survey, schools = worlds["school_survey"], worlds["schools"]
    pd.testing.assert_series_equal(survey.groupby("unit")["first_search"].first(),
                                   schools.groupby("unit")["first_search"].first())
    t = survey.attrs["truth"]
    tr = survey[survey["treated"] == 1]
    assert set(tr["time"]) == {2019, 2020, 2021, 2022}
    d = tr["drug_use"] - tr["drug_use_y0"]
    assert abs(np.sum(tr["weight"] * d) / tr["weight"].sum() - t["realised_effect_weighted"]) < 1e-12
    assert t["population_effect"] == pytest.approx((0.85 - 1) * t["population_prevalence_y0"], abs=1e-12)
    assert (survey["safe_school"] == survey["safe_school_y0"]).all()  # safety_effect = 0
    b = sim.simulate_school_survey(prevalence_effect=0.5, safety_effect=0.4)
    pd.testing.assert_series_equal(survey["drug_use_y0"], b["drug_use_y0"])
    pd.testing.assert_frame_equal(survey[survey["treated"] == 0], b[b["treated"] == 0])


# ---------------------------------------------------------------- bundled files

@pytest.mark.parametrize("name", list(sim.BUNDLED_SIMULATIONS))
def test_bundled_file_equals_generator(name, worlds):
    entry = sim.BUNDLED_SIMULATIONS[name]
    fresh = getattr(sim, entry["function"])(seed=entry["seed"])
    bundled = sim.read_bundled_simulation(name)
    msg = f"{entry['file']} is stale: run `python scripts/make_simulated_datasets.py`"
    pd.testing.assert_frame_equal(bundled, fresh, check_exact=True, obj=msg)
    assert bundled.attrs["truth"] == fresh.attrs["truth"], msg
    assert bundled.attrs["provenance"]["seed"] == entry["seed"]
    pd.testing.assert_frame_equal(worlds[name], fresh)  # default seed = bundled seed


def test_bundled_registry():
    assert set(sim.BUNDLED_SIMULATIONS) == set(sim.SIMULATORS)
    with pytest.raises(DataError, match="no bundled simulation called 'x'; choose one of"):
        sim.read_bundled_simulation("x")


# ---------------------------------------------------------------- Monte Carlo recovery

@pytest.mark.slow
def test_shootings_recovery_over_seeds():
    a, b, att, expected = [], [], [], []
    for s in range(1000, 1000 + N_SEEDS):
        df = sim.simulate_shootings(seed=s)
        post = df[df["treated"] == 1]
        a.append(post["shootings"].sum())
        b.append(post["shootings_y0"].sum())
        att.append(df.attrs["truth"]["att_per_month"])
        expected.append(df.attrs["truth"]["expected_att_per_month"])
    r, se = pooled_ratio(np.array(a, float), np.array(b, float))
    assert abs(r - 0.6) < Z * se
    gap = np.array(att) - np.array(expected)
    assert abs(gap.mean()) < Z * gap.std(ddof=1) / np.sqrt(N_SEEDS)


@pytest.mark.slow
def test_area_crime_recovery_over_seeds():
    sums = {o: ([], []) for o in OFFENCES}
    for s in range(1000, 1000 + N_SEEDS):
        df = sim.simulate_area_crime(seed=s)
        full = df[df["treated_share"] == 1.0]  # whole months in force: ratio is exactly theta
        for o in OFFENCES:
            sums[o][0].append(full[o].sum())
            sums[o][1].append(full[f"{o}_y0"].sum())
    for o, theta in {"violence": 0.85, "theft": 0.9, "drugs": 1.1, "public_order": 0.8}.items():
        r, se = pooled_ratio(np.array(sums[o][0], float), np.array(sums[o][1], float))
        assert abs(r - theta) < Z * se, o


@pytest.mark.slow
def test_safety_survey_recovery_over_seeds():
    est = np.array([sim.simulate_safety_survey(seed=s).attrs["truth"]["realised_effect_weighted"]
                    for s in range(1000, 1000 + N_SEEDS)])
    assert abs(est.mean() - (-0.08)) < Z * est.std(ddof=1) / np.sqrt(N_SEEDS)


@pytest.mark.slow
def test_schools_recovery_over_seeds():
    sums = {e: ([], []) for e in (0, 1, 12)}
    gap = []
    for s in range(1000, 1000 + N_SEEDS):
        df = sim.simulate_schools(seed=s)
        e = (df["time"] - df["first_search"]).map(lambda x: x.n if pd.notna(x) else -1)
        for k in sums:
            sums[k][0].append(df.loc[e == k, "drug_offences"].sum())
            sums[k][1].append(df.loc[e == k, "drug_offences_y0"].sum())
        t = sim.simulate_school_survey(seed=s).attrs["truth"]
        gap.append(t["realised_effect_weighted"] - t["population_effect"])
    expected = sim.simulate_schools().attrs["truth"]["expected_ratio_by_event_time"]
    for k in sums:
        r, se = pooled_ratio(np.array(sums[k][0], float), np.array(sums[k][1], float))
        assert abs(r - expected[str(k)]) < Z * se, k
    gap = np.array(gap)
    assert abs(gap.mean()) < Z * gap.std(ddof=1) / np.sqrt(N_SEEDS)
