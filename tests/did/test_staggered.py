"""Staggered-adoption estimators: options, inference machinery, identities, recovery."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from utvardering import DesignError, Effect, Study, list_estimators
from utvardering.did import (
    EventStudyEffect,
    StaggeredEffect,
    callaway_santanna,
    imputation_did,
    sun_abraham,
)

import budget

COLUMNS = {"unit": "countyreal", "time": "year", "outcome": "lemp", "cohort": "first.treat"}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(resources.files("utvardering") / "data" / "files" / "mpdta.csv")


@pytest.fixture(scope="module")
def cs(mpdta):
    return callaway_santanna(mpdta, **COLUMNS)


def simulate(n_units=120, n_times=8, cohorts=(3, 5, 7), sd=1.0, seed=0, months=False):
    """Staggered panel: y = a_i + l_t + (1 + 0.5 e) 1{e >= 0} + noise; cohort 0 = never."""
    rng = np.random.default_rng(seed)
    cohort = rng.choice(np.array([0, *cohorts]), size=n_units)
    times = np.arange(1, n_times + 1)
    e = times[None, :] - cohort[:, None]
    treated = (cohort[:, None] > 0) & (e >= 0)
    tau = np.where(treated, 1.0 + 0.5 * e, 0.0)
    y = rng.normal(0, 1, n_units)[:, None] + 0.3 * times[None, :] + tau
    y = y + rng.normal(0, sd, y.shape)
    frame = pd.DataFrame({
        "unit": np.repeat([f"u{i:03d}" for i in range(n_units)], n_times),
        "time": np.tile(times, n_units), "y": y.ravel(), "cohort": np.repeat(cohort, n_times),
        "district": np.repeat(np.arange(n_units) % 20, n_times),
    })
    if months:
        frame["time"] = [str(pd.Period("2018-01", "M") + int(t - 1)) for t in frame["time"]]
        frame["cohort"] = [str(pd.Period("2018-01", "M") + int(c - 1)) if c else None
                           for c in frame["cohort"]]
    return frame, float(tau[treated].mean())


SIM = {"unit": "unit", "time": "time", "outcome": "y", "cohort": "cohort"}


# -- options ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("option", "value"), [
    ("control_group", "nevertreated"), ("estimation", "ols"), ("base_period", "fixed"),
    ("weights_type", "normal"), ("inference", "wild"),
])
def test_unknown_option_lists_allowed_values(mpdta, option, value):
    with pytest.raises(DesignError, match="choose one of"):
        callaway_santanna(mpdta, **COLUMNS, **{option: value})


def test_old_option_names_still_work_with_a_deprecation_warning(mpdta):
    """Issue 11: bootstrap=/bootstrap_weights=/study_or_data= (CS) and control= (SA) map to
    inference=/n_draws=/weights_type=/study= and control_group=, with the same numbers."""
    new = callaway_santanna(mpdta, **COLUMNS, inference="bootstrap", n_draws=99,
                            weights_type="rademacher", random_state=3)
    with pytest.warns(DeprecationWarning, match="bootstrap="):
        old = callaway_santanna(study_or_data=mpdta, **COLUMNS, bootstrap=99,
                                bootstrap_weights="rademacher", random_state=3)
    assert old.se == new.se and old.params["n_draws"] == 99
    assert old.params["inference"] == "bootstrap" and old.params["weights_type"] == "rademacher"
    with pytest.warns(DeprecationWarning, match="bootstrap="):
        analytic = callaway_santanna(mpdta, **COLUMNS, bootstrap=False)
    assert analytic.params["inference"] == "cluster" and analytic.params["n_draws"] == 0
    sa_new = sun_abraham(mpdta, **COLUMNS, control_group="last_treated")
    with pytest.warns(DeprecationWarning, match="control= is renamed control_group="):
        sa_old = sun_abraham(mpdta, **COLUMNS, control="last_treated")
    assert sa_old.estimate == sa_new.estimate
    with pytest.raises(DesignError, match="give control_group= only"):
        sun_abraham(mpdta, **COLUMNS, control="last_treated", control_group="last_treated")
    with pytest.warns(DeprecationWarning, match="study_or_data"):
        imp = imputation_did(study_or_data=mpdta, **COLUMNS)
    assert imp.estimate == imputation_did(mpdta, **COLUMNS).estimate
    with pytest.raises(TypeError, match="bootstrp"):
        callaway_santanna(mpdta, **COLUMNS, bootstrp=99)


def test_options_validated_before_fitting(mpdta):
    with pytest.raises(DesignError, match="n_draws=1"):
        callaway_santanna(mpdta, **COLUMNS, inference="bootstrap", n_draws=1)
    with pytest.raises(DesignError, match=r"level=1\.5"):
        sun_abraham(mpdta, **COLUMNS, level=1.5)
    with pytest.raises(DesignError, match="got a Study and also"):
        imputation_did(Study(mpdta, outcome="lemp", unit="countyreal", time="year",
                             cohort="first.treat", min_pre_periods=1), unit="countyreal")


def test_aggregate_type_validated(cs):
    with pytest.raises(DesignError, match="'simple', 'group', 'dynamic', 'calendar'"):
        cs.aggregate("event")


def test_dataframe_without_columns_says_what_is_missing(mpdta):
    with pytest.raises(DesignError, match="cohort="):
        callaway_santanna(mpdta, unit="countyreal", time="year", outcome="lemp")


def test_anticipation_without_pre_period_is_an_error(mpdta):
    with pytest.raises(DesignError, match="2004"):
        callaway_santanna(mpdta, **COLUMNS, anticipation=1)


def test_without_never_treated_units_last_cohort_is_comparison(mpdta):
    """As R did: the last cohort only serves as comparison; periods from its start dropped."""
    treated_only = mpdta[mpdta["first.treat"] != 0]
    with pytest.raises(DesignError, match="not_yet_treated"):
        callaway_santanna(treated_only, **COLUMNS)
    fit = callaway_santanna(treated_only, **COLUMNS, control_group="not_yet_treated")
    recoded = treated_only[treated_only["year"] < 2007].copy()
    recoded.loc[recoded["first.treat"] == 2007, "first.treat"] = 0
    same = callaway_santanna(recoded, **COLUMNS, control_group="not_yet_treated")
    pd.testing.assert_frame_equal(fit.att_gt, same.att_gt)
    assert any("cohort 2007 serves only as comparison" in w for w in fit.warnings)
    rcs = callaway_santanna(treated_only, **COLUMNS, control_group="not_yet_treated", panel=False)
    np.testing.assert_allclose(rcs.att_gt["att"], fit.att_gt["att"], atol=1e-12)


def test_unbalanced_panel_is_an_error(mpdta):
    holes = mpdta.drop(index=[3, 7])
    study = Study(holes, outcome="lemp", unit="countyreal", time="year", cohort="first.treat",
                  min_pre_periods=1, allow_gaps=True)
    with pytest.raises(DesignError, match="balanced"):
        callaway_santanna(study)


# -- estimation details ------------------------------------------------------------------------
def test_anticipation_moves_the_base_period(mpdta):
    sub = mpdta[mpdta["first.treat"] != 2004]
    fit = callaway_santanna(sub, **COLUMNS, anticipation=1)
    wide = sub.pivot(index="countyreal", columns="year", values="lemp")
    cohort = sub.groupby("countyreal")["first.treat"].first()
    change = wide[2006] - wide[2004]  # base = 2006 - 1 - anticipation
    expected = change[cohort == 2006].mean() - change[cohort == 0].mean()
    got = fit.att_gt.set_index(["group", "time"]).loc[(2006, 2006)]
    assert got["att"] == pytest.approx(expected, abs=1e-12)
    assert got["base_period"] == 2004


def test_event_time_windows(cs):
    table = cs.att_gt
    sizes = {2004: 20, 2006: 40, 2007: 131}  # units per cohort in mpdta
    balanced = cs.aggregate("dynamic", balance_e=1)
    assert list(balanced.path.index) == [-2, -1, 0, 1]  # cohort 2007 has no e = 1
    e0 = table[(table.event_time == 0) & table.group.isin([2004, 2006])]
    expected = np.average(e0.att, weights=[sizes[g] for g in e0.group])
    assert balanced.path.loc[0, "effect"] == pytest.approx(expected, abs=1e-12)
    short = cs.aggregate("simple", max_e=1)
    cells = table[(table.event_time >= 0) & (table.event_time <= 1)]
    expected = np.average(cells.att, weights=[sizes[g] for g in cells.group])
    assert short.estimate == pytest.approx(expected, abs=1e-12)
    window = cs.aggregate("dynamic", min_e=-1, max_e=2)
    assert list(window.path.index) == [-1, 0, 1, 2]


def test_weights_equal_duplicated_units(mpdta):
    doubled_ids = mpdta["countyreal"].unique()[::7]
    copy = mpdta[mpdta["countyreal"].isin(doubled_ids)].copy()
    copy["countyreal"] += 100_000
    duplicated = pd.concat([mpdta, copy], ignore_index=True)
    weighted = mpdta.assign(w=np.where(mpdta["countyreal"].isin(doubled_ids), 2.0, 1.0))
    a = callaway_santanna(duplicated, **COLUMNS)
    b = callaway_santanna(weighted, **COLUMNS, weights="w")
    np.testing.assert_allclose(a.att_gt["att"], b.att_gt["att"], atol=1e-12)
    for kind in ("simple", "group", "dynamic", "calendar"):
        assert a.aggregate(kind).estimate == pytest.approx(b.aggregate(kind).estimate, abs=1e-12)


def test_exact_additive_data_recovered_by_all_three():
    frame, _ = simulate(sd=0.0, seed=3)
    e = frame["time"] - frame["cohort"]
    truth = {k: 1.0 + 0.5 * k for k in range(0, 7)}
    for fit in (callaway_santanna(frame, **SIM), sun_abraham(frame, **SIM),
                imputation_did(frame, **SIM)):
        path = fit.path
        for k, value in path["effect"].items():
            assert value == pytest.approx(truth.get(k, 0.0), abs=1e-9), (fit.method, k)
    treated = (frame["cohort"] > 0) & (e >= 0)
    assert fit.estimate == pytest.approx((1 + 0.5 * e[treated]).mean(), abs=1e-9)


def test_monthly_periods_and_starts():
    frame, _ = simulate(n_units=60, months=True, seed=1)
    starts = frame.dropna(subset=["cohort"]).groupby("unit")["cohort"].first().to_dict()
    study = Study(frame.drop(columns="cohort"), outcome="y", unit="unit", time="time",
                  starts=starts, min_pre_periods=1)
    fit = callaway_santanna(study)
    assert isinstance(fit.att_gt["group"].iloc[0], pd.Period)
    assert isinstance(fit.att_gt["time"].iloc[0], pd.Period)
    calendar = fit.aggregate("calendar").path
    assert calendar.index.name == "time" and isinstance(calendar.index[0], pd.Period)
    ints, _ = simulate(n_units=60, seed=1)
    same = callaway_santanna(ints, **SIM)
    np.testing.assert_allclose(fit.att_gt["att"], same.att_gt["att"], atol=1e-12)


# -- repeated cross-sections -------------------------------------------------------------------
def test_repeated_cross_sections_from_study_equal_dataframe(mpdta):
    study = Study(mpdta, outcome="lemp", unit="countyreal", time="year", cohort="first.treat",
                  min_pre_periods=1)
    a = callaway_santanna(study, panel=False)
    b = callaway_santanna(mpdta, time="year", outcome="lemp", cohort="first.treat", panel=False)
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    assert a.params["panel"] is False


@pytest.mark.parametrize("panel", [True, False])
@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_influence_function_se_matches_row_bootstrap(panel, method):
    """Covariate-adjusted 2x2 DiD: IF-based SE vs a nonparametric bootstrap (300 draws).

    The covariate shifts with treatment and drives the outcome, so the estimation-error
    terms of the outcome regression and propensity score matter; a mis-scaled correction
    would miss the bootstrap by far more than its Monte Carlo error (about 4 %).
    """
    from utvardering.did.staggered.att_gt import did_panel_2x2
    from utvardering.did.staggered.att_gt_rcs import did_rc_2x2

    rng = np.random.default_rng(7)
    n = 800
    d = (rng.random(n) < 0.4).astype(float)
    x = rng.normal(2.0 * d, 1.0)
    X = np.column_stack([np.ones(n), x])
    w = np.ones(n)
    if panel:
        dy = 0.5 + 1.5 * x + 1.0 * d + rng.normal(0, 1, n)
        estimate = lambda i: did_panel_2x2(dy[i], d[i], X[i], w[i], method)  # noqa: E731
    else:
        post = (rng.random(n) < 0.5).astype(float)
        y = 1 + 2 * x + 0.5 * post + 1.0 * d * post + rng.normal(0, 1, n)
        estimate = lambda i: did_rc_2x2(y[i], post[i], d[i], X[i], w[i], method)  # noqa: E731
    _att, inf = estimate(np.arange(n))
    se = np.sqrt(np.sum(inf**2)) / n
    draws = [estimate(rng.integers(0, n, n))[0] for _ in range(300)]
    assert 0.85 < se / np.std(draws, ddof=1) < 1.15


# -- inference ---------------------------------------------------------------------------------
def test_bootstrap_is_reproducible_and_close_to_analytic(mpdta, cs):
    a = callaway_santanna(mpdta, **COLUMNS, inference="bootstrap", n_draws=999, random_state=11)
    b = callaway_santanna(mpdta, **COLUMNS, inference="bootstrap", n_draws=999, random_state=11)
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    ratio = a.att_gt["se"] / cs.att_gt["se"]
    assert ratio.between(0.85, 1.15).all()  # IQR-based SE from 999 draws: MC error ~ 5 %
    crit = a.diagnostics["critical_value"]
    assert 1.96 < crit < 3.5  # sup-t over 12 correlated cells exceeds the pointwise value
    assert a.aggregate("dynamic").diagnostics["critical_value"] > 1.96
    rad = callaway_santanna(mpdta, **COLUMNS, inference="bootstrap", n_draws=499, weights_type="rademacher",
                            random_state=2)
    assert (rad.att_gt["se"] / cs.att_gt["se"]).between(0.8, 1.2).all()


def test_cluster_analytic_standard_errors(mpdta, cs):
    by_unit = callaway_santanna(mpdta, **COLUMNS, cluster="countyreal")
    pd.testing.assert_frame_equal(by_unit.att_gt, cs.att_gt)
    data = mpdta.assign(state=mpdta["countyreal"] // 1000)
    fit = callaway_santanna(data, **COLUMNS, cluster="state")
    state = data.groupby("countyreal")["state"].first()
    state = state.loc[sorted(state.index, key=str)].to_numpy()  # Study orders units by str
    inf = fit._influence
    sums = pd.DataFrame(inf).groupby(state).sum().to_numpy()
    expected = np.sqrt((sums**2).sum(axis=0)) / inf.shape[0]  # R did: sqrt(sum S_c^2) / n
    np.testing.assert_allclose(fit.att_gt["se"], expected, rtol=1e-12)
    boot = callaway_santanna(data, **COLUMNS, cluster="state", inference="bootstrap", n_draws=999, random_state=4)
    assert (boot.att_gt["se"] / fit.att_gt["se"]).between(0.75, 1.3).all()


def test_few_clusters_warn():
    frame, _ = simulate(n_units=40, seed=5)
    keep = (frame["cohort"] == 0) | frame["unit"].isin(
        frame.loc[frame["cohort"] == 5, "unit"].unique()[:3])
    fit = callaway_santanna(frame[keep], **SIM)
    assert any("only 3 treated units" in w for w in fit.warnings)


def test_excluded_units_are_left_out_and_named(mpdta):
    study = Study(mpdta, outcome="lemp", unit="countyreal", time="year", cohort="first.treat",
                  min_pre_periods=1, exclude=[13011])
    fit = callaway_santanna(study)
    assert fit.n_control == 308
    assert any("13011" in w for w in fit.warnings)


# -- results -----------------------------------------------------------------------------------
def test_round_trip(cs, mpdta):
    back = Effect.from_dict(json.loads(cs.to_json()))
    assert isinstance(back, StaggeredEffect)
    assert back.estimate == cs.estimate and back.interval == cs.interval
    pd.testing.assert_frame_equal(back.att_gt, cs.att_gt, check_index_type=False)
    pd.testing.assert_frame_equal(back.path, cs.path, check_index_type=False)
    with pytest.raises(DesignError, match="re-run"):
        back.aggregate("group")
    sa = sun_abraham(mpdta, **COLUMNS)
    back = Effect.from_dict(json.loads(sa.to_json()))
    assert isinstance(back, EventStudyEffect)
    pd.testing.assert_frame_equal(back.cohort_effects, sa.cohort_effects, check_dtype=False)


def test_plots(cs, mpdta):
    import matplotlib.pyplot as plt

    from utvardering.plotting.did_event_study import plot_event_study

    fig = cs.plot()
    assert len(fig.axes[0].lines) >= 1
    others = [sun_abraham(mpdta, **COLUMNS), imputation_did(mpdta, **COLUMNS)]
    fig2 = plot_event_study(cs, others=others)
    assert len(fig2.axes[0].get_legend().get_texts()) == 3
    with pytest.raises(ValueError, match="event_time"):
        plot_event_study(cs.aggregate("group"))
    plt.close("all")


def test_registered():
    table = list_estimators().set_index("name")
    for name in ("callaway_santanna", "sun_abraham", "imputation_did"):
        assert table.loc[name, "family"] == "did"


# -- recovery ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_recovery_bias_and_coverage():
    """Bias ≈ 0 and 95 % coverage within Monte Carlo error, heterogeneous dynamic effects."""
    reps = budget.draws(full=300, fast=60)
    estimators = {"cs": callaway_santanna, "sa": sun_abraham, "bjs": imputation_did}
    errors = {k: [] for k in estimators}
    covered = {k: [] for k in estimators}
    for r in range(reps):
        frame, truth = simulate(n_units=150, seed=1000 + r)
        for name, estimator in estimators.items():
            fit = estimator(frame, **SIM)
            errors[name].append(fit.estimate - truth)
            covered[name].append(fit.interval[0] <= truth <= fit.interval[1])
    for name in estimators:
        err = np.asarray(errors[name])
        # mean error within 4 Monte Carlo standard errors of zero
        assert abs(err.mean()) < 4 * err.std(ddof=1) / np.sqrt(reps), name
        # coverage within 4 binomial standard errors of 0.95
        rate = np.mean(covered[name])
        assert abs(rate - 0.95) < 4 * np.sqrt(0.95 * 0.05 / reps) + 1 / reps, (name, rate)
