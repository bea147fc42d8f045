"""Poisson PML DiD: agreement with a dummy-variable GLM, zero units, offsets, events prevented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import utvardering as utv
from utvardering.did.poisson import poisson_did
from utvardering.did.result import PoissonDiDEffect

import budget


def simulate_counts(n_units=30, n_t=24, n_treated=10, start=12, rate_ratio=0.8, seed=0,
                    zero_units=0, base=3.0):
    rng = np.random.default_rng(seed)
    units = [f"area{i:03d}" for i in range(n_units)]
    pop = rng.integers(2_000, 20_000, n_units)
    alpha = rng.normal(0, 0.4, n_units)
    season = 0.2 * np.sin(np.arange(n_t) / 2)
    rows = []
    for i, u in enumerate(units):
        for t in range(n_t):
            on = i < n_treated and t >= start
            mu = base * pop[i] / 10_000 * np.exp(alpha[i] + season[t]) * (rate_ratio if on else 1.0)
            y = 0 if i >= n_units - zero_units else rng.poisson(mu)
            rows.append((u, t, y, float(on), int(pop[i])))
    frame = pd.DataFrame(rows, columns=["unit", "time", "crimes", "d", "population"])
    return frame, {u: start for u in units[:n_treated]}


def test_equals_dummy_glm_with_offset():
    frame, _ = simulate_counts(n_units=15, n_t=10, n_treated=5, start=5)
    effect = poisson_did(frame, outcome="crimes", treatment="d", exposure="population")
    X = pd.get_dummies(frame[["unit", "time"]].astype(str), drop_first=True, dtype=float)
    X.insert(0, "d", frame["d"])
    X = sm.add_constant(X)
    glm = sm.GLM(frame["crimes"], X, family=sm.families.Poisson(),
                 offset=np.log(frame["population"])).fit(tol=1e-12)
    assert effect.estimate == pytest.approx(glm.params["d"], abs=1e-7)
    mu = glm.fittedvalues.to_numpy()
    np.testing.assert_allclose(effect.diagnostics["fitted_treated_events"],
                               mu[frame["d"].to_numpy() == 1].sum(), rtol=1e-7)


def test_rate_ratio_and_events_prevented():
    frame, starts = simulate_counts(rate_ratio=0.7, seed=2)
    study = utv.Study(frame, outcome="crimes", starts=starts, exposure="population")
    effect = poisson_did(study)
    assert isinstance(effect, PoissonDiDEffect)
    assert effect.rate_ratio == pytest.approx(np.exp(effect.estimate))
    assert effect.relative == pytest.approx(effect.rate_ratio - 1)
    # at the PML solution the fitted treated counts equal the observed ones
    observed = effect.diagnostics["observed_treated_events"]
    assert effect.diagnostics["fitted_treated_events"] == pytest.approx(observed, rel=1e-8)
    assert effect.events_prevented == pytest.approx(observed * (np.exp(-effect.estimate) - 1))
    lo, hi = effect.events_prevented_interval
    assert lo < effect.events_prevented < hi and lo > 0  # a clear fall: events were prevented


def test_exposure_scale_does_not_change_the_effect():
    frame, _ = simulate_counts(seed=3)
    a = poisson_did(frame, outcome="crimes", treatment="d", exposure="population")
    b = poisson_did(frame.assign(population=frame["population"] * 7), outcome="crimes",
                    treatment="d", exposure="population")
    assert a.estimate == pytest.approx(b.estimate, abs=1e-9)


def test_all_zero_units_are_reported_by_name():
    frame, _ = simulate_counts(zero_units=2, seed=4)
    with_zero = poisson_did(frame, outcome="crimes", treatment="d")
    assert with_zero.dropped_units == ["area028", "area029"]
    assert with_zero.diagnostics["dropped_units"] == ["area028", "area029"]
    assert any("area028, area029" in w for w in with_zero.warnings)
    without = poisson_did(frame.loc[~frame["unit"].isin(["area028", "area029"])],
                          outcome="crimes", treatment="d")
    assert with_zero.estimate == pytest.approx(without.estimate, abs=1e-10)


def test_rejects_non_counts():
    frame, _ = simulate_counts()
    with pytest.raises(utv.DataError, match="counts"):
        poisson_did(frame.assign(crimes=frame["crimes"] + 0.5), outcome="crimes", treatment="d")


def test_event_study_form_and_round_trip():
    frame, starts = simulate_counts(n_units=40, n_treated=15, seed=5)
    effect = poisson_did(frame, outcome="crimes", starts=starts, event_study=True, leads=4, lags=5)
    assert list(effect.event_study.index) == [-4, -3, -2, -1, 0, 1, 2, 3, 4, 5]
    assert effect.event_study.loc[-1, "estimate"] == 0
    assert 0 <= effect.diagnostics["pretrend"]["p_F"] <= 1
    back = PoissonDiDEffect.from_dict(effect.to_dict())
    assert back.rate_ratio == effect.rate_ratio and back.dropped_units == []
    pd.testing.assert_frame_equal(back.event_study, effect.event_study, check_dtype=False)


def test_malmo_sized_panel_runs():
    # 136 areas × 84 months, the size of Malmö's delområden over seven years
    frame, _ = simulate_counts(n_units=136, n_t=84, n_treated=1, start=60, seed=6)
    effect = poisson_did(frame, outcome="crimes", treatment="d", exposure="population")
    assert effect.diagnostics["n_obs"] == 136 * 84
    assert any("only 1 treated cluster" in w for w in effect.warnings)


@pytest.mark.slow
def test_recovery_poisson_did():
    """Bias within 10% of log(0.8) and 95% coverage in [90%, 99%] over repeated draws."""
    reps = budget.draws(full=300, fast=60)
    truth = np.log(0.8)
    est, cover = [], []
    for seed in range(reps):
        frame, _ = simulate_counts(n_units=40, n_treated=15, rate_ratio=0.8, seed=500 + seed)
        e = poisson_did(frame, outcome="crimes", treatment="d", exposure="population")
        est.append(e.estimate)
        cover.append(e.interval[0] <= truth <= e.interval[1])
    assert abs(np.mean(est) - truth) < 0.1 * abs(truth)
    assert budget.choose(full=0.90, fast=0.85) <= np.mean(cover) <= 0.99


def test_randomization_inference_single_treated_area():
    frame, _ = simulate_counts(n_units=12, n_t=16, n_treated=1, start=8, rate_ratio=0.5, seed=8)
    effect = poisson_did(frame, outcome="crimes", treatment="d", exposure="population",
                         inference="randomization")
    info = effect.diagnostics["randomization"]
    assert info["exact"] and info["n_permutations"] == 12
    assert effect.p_value == info["p_value"] >= 1 / 12
    assert any("randomization inference reported here" in w for w in effect.warnings)
    # 11 placebos cannot give a 95% interval (19 needed): unbounded, and said so
    assert effect.interval == (-np.inf, np.inf)
    assert any("11 placebo assignment(s): a 95% randomization interval needs at least 19"
               in w for w in effect.warnings)


def test_placebo_interval_inverts_the_randomization_test():
    """The interval contains exactly the values the placebo test does not reject."""
    import numpy as np

    from utvardering.did.poisson_placebo import placebo_shift_interval

    placebo = np.array([0.05, -0.2, 0.1, -0.35, 0.3, 0.02, -0.12, 0.4, -0.07, 0.15,
                        -0.25, 0.08, 0.01, -0.03, 0.22, -0.18, 0.11, -0.09, 0.06])  # N = 19
    lo, hi = placebo_shift_interval(-0.5, placebo, 0.95)
    # N + 1 = 20, alpha (N + 1) = 1: keep beta_0 while at least one |e_j| >= |d| -> radius max|e| = 0.4
    assert (lo, hi) == (-0.9, -0.09999999999999998)
    for beta0, accepted in [(-0.5, True), (-0.11, True), (-0.95, False), (0.0, False)]:
        p = (1 + np.sum(np.abs(placebo) >= abs(-0.5 - beta0))) / 20
        assert (p > 0.05) == accepted == (lo <= beta0 <= hi)
    assert placebo_shift_interval(0.0, placebo[:10], 0.95) == (-np.inf, np.inf)  # too few placebos


def _random_panel(seed, n_units=25, n_t=14, zero_unit=False):
    rng = np.random.default_rng(seed)
    pop = rng.integers(500, 20_000, n_units)
    mu = pop[:, None] / 5_000 * np.exp(rng.normal(0, 0.5, n_units)[:, None]
                                       + rng.normal(0, 0.3, n_t)[None, :])
    y = rng.poisson(mu).astype(float)
    y[:, 0] += 1  # no all-zero unit
    return y, np.log(np.broadcast_to(pop[:, None], (n_units, n_t)).astype(float))


@pytest.mark.parametrize("with_offset", [False, True])
def test_batched_fit_equals_fe_poisson_per_assignment(with_offset):
    """Batched PML on (J, N, T) arrays = fe_poisson refitted for each assignment (to 1e-8)."""
    from utvardering.did.pml import batched_fe_poisson, fe_poisson

    y, off = _random_panel(11)
    n_units, n_t = y.shape
    rng = np.random.default_rng(12)
    # one-unit placebos with an on-off window, and random multi-unit absorbing designs
    d = np.zeros((n_units + 6, n_units, n_t))
    d[np.arange(n_units), np.arange(n_units), 5:11] = 1.0
    for j in range(n_units, n_units + 6):
        starts = np.where(rng.random(n_units) < 0.4, rng.integers(3, n_t, n_units), n_t)
        d[j] = np.arange(n_t)[None, :] >= starts[:, None]
    offset = off if with_offset else None
    beta, iterations = batched_fe_poisson(y, d, offset=offset)
    codes = [np.repeat(np.arange(n_units), n_t), np.tile(np.arange(n_t), n_units)]
    for j in range(len(d)):
        ref = fe_poisson(y.ravel(), d[j].reshape(-1, 1), codes, codes[0],
                         offset=None if offset is None else offset.ravel())
        if np.isinf(beta[j]):  # no event in the placebo window: fe_poisson drifts off to -inf
            assert beta[j] < 0 and ref.coef[0] < -10 and (y * d[j]).sum() == 0
        else:
            assert beta[j] == pytest.approx(ref.coef[0], abs=1e-8)
    assert np.isfinite(beta).sum() >= n_units and iterations.max() < 50


def test_batched_fit_marks_unidentified_assignments():
    """nan for designs absorbed by the fixed effects, -inf / +inf when the PML has no solution."""
    from utvardering.did.pml import batched_fe_poisson

    y, _ = _random_panel(13, n_units=6, n_t=8)
    y[4, 5:] = 0.0  # no events in unit 4 from period 5
    y[5, :5] = 0.0  # ... nor in unit 5 before period 5
    d = np.zeros((5, 6, 8))
    d[1, 2] = 1.0  # a whole unit treated: absorbed by its unit effect
    d[2, 3, 4:] = 1.0
    d[3, 4, 5:] = 1.0
    d[4, 5, 5:] = 1.0
    beta, _ = batched_fe_poisson(y, d)
    assert np.isnan(beta[0]) and np.isnan(beta[1]) and np.isfinite(beta[2])
    assert beta[3] == -np.inf and beta[4] == np.inf


def test_randomization_batched_equals_one_by_one():
    """p-value, placebo estimates (and so the interval) agree with refits one at a time."""
    from utvardering.did.poisson_placebo import poisson_randomization

    frame, _ = simulate_counts(n_units=12, n_t=16, n_treated=1, start=8, rate_ratio=0.5, seed=8)
    frame.loc[(frame["unit"] == "area000") & (frame["time"] >= 13), "d"] = 0.0  # on-off window
    y = frame["crimes"].to_numpy(float)
    ucodes = frame["unit"].str[4:].astype(int).to_numpy()
    tcodes = frame["time"].to_numpy()
    pattern = np.zeros((12, 16))
    pattern[ucodes, tcodes] = frame["d"].to_numpy()
    codes = [ucodes, tcodes]
    off = np.log(frame["population"].to_numpy(float))
    fast = poisson_randomization(y, ucodes, tcodes, pattern, codes, ucodes, offset=off)
    slow = poisson_randomization(y, ucodes, tcodes, pattern, codes, ucodes, offset=off,
                                 batched=False)
    assert fast["p_value"] == slow["p_value"]
    np.testing.assert_allclose(fast["placebo"], slow["placebo"], atol=1e-8)
    assert fast["estimate"] == pytest.approx(slow["estimate"], abs=1e-8)


def test_randomization_reassigns_the_whole_treatment_path():
    """A treatment that ends: the observed randomization estimate is the main estimate."""
    frame, _ = simulate_counts(n_units=12, n_t=16, n_treated=1, start=8, rate_ratio=0.5, seed=8)
    frame.loc[(frame["unit"] == "area000") & (frame["time"] >= 13), "d"] = 0.0
    effect = poisson_did(frame, outcome="crimes", treatment="d", exposure="population",
                         inference="randomization")
    assert effect.diagnostics["randomization"]["estimate"] == pytest.approx(effect.estimate,
                                                                           abs=1e-8)


def test_batched_fit_equals_fe_poisson_on_the_area_crime_world():
    """136 areas × 84 months; area 87 stopped 8e-8 early on the deviance rule alone."""
    from utvardering.data.simulate import simulate_area_crime
    from utvardering.did.pml import batched_fe_poisson, fe_poisson

    df = simulate_area_crime(seed=20_000).sort_values(["unit", "time"])
    y = df["violence"].to_numpy(float).reshape(136, 84)
    off = np.log(df["population"].to_numpy(float)).reshape(136, 84)
    path = df["treated"].to_numpy(float).reshape(136, 84)
    d = np.zeros((136, 136, 84))
    d[np.arange(136), np.arange(136)] = path[path.any(axis=1)][0]
    beta, _ = batched_fe_poisson(y, d, offset=off)
    codes = [np.repeat(np.arange(136), 84), np.tile(np.arange(84), 136)]
    for j in (87, 0, 40, 123):
        ref = fe_poisson(y.ravel(), d[j].reshape(-1, 1), codes, codes[0], offset=off.ravel())
        assert beta[j] == pytest.approx(ref.coef[0], abs=1e-8)


def test_randomization_on_an_unbalanced_panel_refits_one_by_one():
    """A missing cell: no batch (balanced_grid is None), the loop gives the same placebos."""
    from utvardering.did.pml import balanced_grid

    frame, _ = simulate_counts(n_units=12, n_t=16, n_treated=1, start=8, rate_ratio=0.5, seed=8)
    frame = frame.drop(index=40).reset_index(drop=True)  # area002, period 8
    ucodes = frame["unit"].str[4:].astype(int).to_numpy()
    assert balanced_grid(ucodes, frame["time"].to_numpy()) is None
    effect = poisson_did(frame, outcome="crimes", treatment="d", exposure="population",
                         inference="randomization")
    info = effect.diagnostics["randomization"]
    assert info["exact"] and info["n_permutations"] == 12
    assert info["estimate"] == pytest.approx(effect.estimate, abs=1e-8)
    assert effect.interval == (-np.inf, np.inf)  # 11 placebos are too few for 95%
