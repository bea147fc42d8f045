"""TWFE, event study, 2×2 DiD and Bacon decomposition on small simulated panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering.did.bacon import bacon_decomposition
from utvardering.did.basic import diff_in_diff as did
from utvardering.did.result import DiDEffect
from utvardering.did.twfe import event_study, twfe
from utvardering.errors import DataError, DesignError
from utvardering.estimators import get_estimator

import budget


def simulate(n_units=40, n_t=12, n_treated=15, start=6, effect=1.0, seed=0, dynamic=0.0,
             staggered=False):
    """Balanced panel: unit and period effects, AR-free noise, constant (or growing) effect."""
    rng = np.random.default_rng(seed)
    units = [f"u{i:02d}" for i in range(n_units)]
    starts = {}
    for i in range(n_treated):
        starts[units[i]] = start + (i % 3 if staggered else 0)
    rows = []
    alpha = rng.normal(size=n_units)
    lam = rng.normal(size=n_t)
    for i, u in enumerate(units):
        for t in range(n_t):
            s = starts.get(u)
            on = s is not None and t >= s
            eff = (effect + dynamic * (t - s)) if on else 0.0
            rows.append((u, 2000 + t, alpha[i] + lam[t] + eff + rng.normal(), float(on)))
    frame = pd.DataFrame(rows, columns=["unit", "time", "y", "d"])
    return frame, {u: 2000 + s for u, s in starts.items()}


def test_study_and_columns_agree_and_data_untouched():
    frame, starts = simulate()
    before = frame.copy()
    study = utv.Study(frame, outcome="y", starts=starts)
    a = twfe(study)
    b = twfe(frame, outcome="y", treatment="d")
    c = twfe(frame, outcome="y", starts=starts)
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12) == pytest.approx(c.estimate, abs=1e-12)
    assert a.se == pytest.approx(b.se, rel=1e-10)
    assert isinstance(a, DiDEffect) and a.method == "twfe"
    assert a.n_treated == 15 and a.n_control == 25
    pd.testing.assert_frame_equal(frame, before)


def test_excluded_units_are_left_out():
    frame, starts = simulate()
    study = utv.Study(frame, outcome="y", starts=starts, exclude=["u39"])
    effect = twfe(study)
    assert effect.diagnostics["n_obs"] == 39 * 12
    assert effect.diagnostics["left_out_units"] == ["u39"]


def test_twfe_equals_2x2_did_in_balanced_common_timing():
    frame, starts = simulate()
    study = utv.Study(frame, outcome="y", starts=starts)
    assert twfe(study).estimate == pytest.approx(did(study).estimate, abs=1e-10)


def test_cr2_and_wild_options():
    frame, _starts = simulate()
    cr1 = twfe(frame, outcome="y", treatment="d")
    cr2 = twfe(frame, outcome="y", treatment="d", vcov="CR2")
    assert cr2.estimate == cr1.estimate and cr2.se != cr1.se
    wild = twfe(frame, outcome="y", treatment="d", inference="wild", n_draws=999, random_state=1)
    assert wild.diagnostics["wild_bootstrap"]["n_draws"] == 999
    assert wild.interval[0] < wild.estimate < wild.interval[1]
    assert wild.p_value == wild.diagnostics["wild_bootstrap"]["p_value"]


def test_few_treated_clusters_warn():
    frame, _starts = simulate(n_treated=1)
    effect = twfe(frame, outcome="y", treatment="d")
    assert any("only 1 treated cluster" in w for w in effect.warnings)
    ri = twfe(frame, outcome="y", treatment="d", inference="randomization")
    assert ri.diagnostics["randomization"]["exact"] and ri.diagnostics["randomization"]["n_permutations"] == 40
    assert ri.p_value >= 1 / 40
    low, high = ri.diagnostics["conley_taber"]["interval"]
    assert ri.interval == (low, high) and low < ri.estimate < high
    frame5, _ = simulate(n_treated=5, n_units=20)
    warns = twfe(frame5, outcome="y", treatment="d").warnings
    assert any("5 treated clusters" in w for w in warns) and any("20 clusters" in w for w in warns)


def test_covariates_and_collinear_drop():
    frame, _ = simulate()
    rng = np.random.default_rng(1)
    frame = frame.assign(x=rng.normal(size=len(frame)), x_copy=lambda f: 2 * f["x"],
                         const_in_unit=lambda f: f["unit"].str[1:].astype(int))
    effect = twfe(frame, outcome="y", treatment="d", covariates=["x", "x_copy", "const_in_unit"])
    assert effect.diagnostics["dropped_collinear"] == ["x_copy", "const_in_unit"]
    assert list(effect.coefficients.index) == ["treatment", "x"]


def test_errors_name_the_problem():
    frame, _ = simulate()
    with pytest.raises(DataError, match="missing column"):
        twfe(frame, outcome="y", treatment="dd")
    with pytest.raises(DesignError):
        twfe(frame.drop(columns="d"), outcome="y")
    with pytest.raises(ValueError, match="inference"):
        twfe(frame, outcome="y", treatment="d", inference="magic")
    with pytest.raises(DataError, match="more than once"):
        twfe(pd.concat([frame, frame.iloc[[3]]]), outcome="y", treatment="d")


def test_event_study_recovers_dynamic_path_and_pretrend():
    frame, starts = simulate(n_units=60, n_treated=30, dynamic=0.5, seed=3)
    es = event_study(frame, outcome="y", starts=starts)
    table = es.event_study
    assert table.loc[-1, "estimate"] == 0 and np.isnan(table.loc[-1, "se"])
    post = table.loc[table.index >= 0, "estimate"]
    truth = 1.0 + 0.5 * post.index.to_numpy()
    assert np.all(np.abs(post.to_numpy() - truth) < 4 * table.loc[post.index, "se"].to_numpy())
    pre = es.pretrend()
    assert pre["df"] == 5 and pre["df_denom"] == 59 and 0 <= pre["p_F"] <= 1
    assert es.path.index.name == "event_time"
    assert list(es.path.columns) == ["effect", "low", "high"]


def test_event_study_binning_and_window():
    frame, starts = simulate(staggered=True, seed=4)
    binned = event_study(frame, outcome="y", starts=starts, leads=3, lags=2)
    assert list(binned.event_study.index) == [-3, -2, -1, 0, 1, 2]
    trimmed = event_study(frame, outcome="y", starts=starts, leads=3, lags=2, bin_endpoints=False)
    assert trimmed.diagnostics["dropped_outside_window"] > 0
    with pytest.raises(ValueError, match="reference"):
        event_study(frame, outcome="y", starts=starts, leads=3, lags=2, reference=-5)


def test_pretrend_flags_violation():
    frame, starts = simulate(n_units=60, n_treated=30, seed=5)
    trend = frame["unit"].isin(list(starts)) * (frame["time"] - 2000) * 0.4
    es = event_study(frame.assign(y=frame["y"] + trend), outcome="y", starts=starts)
    assert es.diagnostics["pretrend_p_value"] < 0.001
    assert any("pre-trend" in w for w in es.warnings)


def test_round_trip_and_registry():
    frame, starts = simulate()
    es = event_study(frame, outcome="y", starts=starts)
    back = DiDEffect.from_dict(es.to_dict())
    assert isinstance(back, DiDEffect)
    pd.testing.assert_frame_equal(back.event_study, es.event_study, check_dtype=False)
    pd.testing.assert_frame_equal(back.coefficients, es.coefficients, check_dtype=False)
    assert back.pretrend()["F"] == pytest.approx(es.pretrend()["F"])
    for name in ("diff_in_diff", "twfe", "event_study", "bacon_decomposition", "poisson_did", "survey_did"):
        import utvardering.did.poisson
        import utvardering.did.survey  # noqa: F401

        assert get_estimator(name).family == "did"


def test_bacon_with_heterogeneous_timing_effects():
    frame, _starts = simulate(staggered=True, dynamic=0.5, seed=6)
    result = bacon_decomposition(frame, outcome="y", treatment="d")
    assert result.estimate == pytest.approx(twfe(frame, outcome="y", treatment="d").estimate, abs=1e-10)
    assert result.diagnostics["weight_later_vs_earlier_treated"] > 0
    with pytest.raises(DesignError, match="switches off"):
        bacon_decomposition(frame.assign(d=np.where(frame["time"] == 2011, 0, frame["d"])),
                            outcome="y", treatment="d")


def test_did_repeated_cross_sections_hc1():
    rng = np.random.default_rng(0)
    n = 2000
    g, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
    y = 1 + g + p + 0.5 * g * p + rng.normal(size=n)
    effect = did(pd.DataFrame({"y": y, "g": g, "p": p}), outcome="y", group="g", post="p")
    assert effect.diagnostics["vcov"] == "HC1"
    assert abs(effect.estimate - 0.5) < 4 * effect.se


@pytest.mark.slow
def test_recovery_twfe_and_did():
    """Bias within 10% of the effect and 95% coverage between 90% and 99% over repeated draws."""
    reps = budget.draws(full=300, fast=60)
    est_t, cov_t, est_d, cov_d = [], [], [], []
    for seed in range(reps):
        frame, starts = simulate(n_units=40, n_treated=15, effect=1.0, seed=1000 + seed)
        study = utv.Study(frame, outcome="y", starts=starts)
        a, b = twfe(study), did(study)
        est_t.append(a.estimate)
        cov_t.append(a.interval[0] <= 1.0 <= a.interval[1])
        est_d.append(b.estimate)
        cov_d.append(b.interval[0] <= 1.0 <= b.interval[1])
    assert abs(np.mean(est_t) - 1.0) < 0.1 and abs(np.mean(est_d) - 1.0) < 0.1
    lo = budget.choose(full=0.90, fast=0.85)
    assert lo <= np.mean(cov_t) <= 0.99 and lo <= np.mean(cov_d) <= 0.99


def test_figures():
    import matplotlib.figure

    frame, starts = simulate(staggered=True, seed=7)
    bacon = bacon_decomposition(frame, outcome="y", treatment="d")
    assert isinstance(bacon.plot(), matplotlib.figure.Figure)
    es = event_study(frame, outcome="y", starts=starts)
    assert isinstance(es.plot(), matplotlib.figure.Figure)


def test_did_study_with_end_leaves_out_later_periods():
    frame, starts = simulate(n_units=20, n_treated=8, seed=9)
    # the programme ends in 2008: 2009-2011 are neither pre nor post for the 2×2
    study = utv.Study(frame, outcome="y", treated=list(starts), start=2006, end=2008)
    effect = did(study)
    assert effect.diagnostics["n_obs"] == 20 * 9
    trimmed = utv.Study(frame.loc[frame["time"] <= 2008], outcome="y", treated=list(starts),
                        start=2006)
    assert effect.estimate == pytest.approx(did(trimmed).estimate, abs=1e-12)
