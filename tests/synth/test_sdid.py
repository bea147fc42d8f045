"""Synthetic difference-in-differences: special cases, staggered adoption, inference, rates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from utvardering.effect import Effect
from utvardering.errors import DataError, DesignError, UtvarderingWarning
from utvardering.estimators import get_estimator
from utvardering.study import Study
from utvardering.synth.sdid import SyntheticDiDEffect, sdid_design, synthetic_did
from utvardering.synth.sdid_inference import placebo_assignments, placebo_estimates
from utvardering.synth.sdid_weights import frank_wolfe_simplex, noise_level, sparsify

import budget


def factor_panel(seed: int = 0, n_co: int = 30, n_tr: int = 3, t_pre: int = 20, t_post: int = 6,
                 tau: float = 0.0, starts: list[int] | None = None, counts: bool = False,
                 shift: float = 1.0) -> pd.DataFrame:
    """Two-factor panel with unit and time effects; treated units load ``shift`` more on factor 1."""
    rng = np.random.default_rng(seed)
    n, T = n_co + n_tr, t_pre + t_post
    alpha = rng.normal(0, 2, n)
    beta = np.cumsum(rng.normal(0, 0.5, T))
    load = rng.normal(0, 1, (n, 2))
    load[n_co:, 0] += shift
    factors = np.cumsum(rng.normal(0, 0.3, (T, 2)), axis=0)
    Y = 20 + alpha[:, None] + beta[None, :] + load @ factors.T + rng.normal(0, 0.5, (n, T))
    rows = []
    years = 2000 + np.arange(T)
    for i in range(n):
        name = f"c{i:02d}" if i < n_co else f"t{i - n_co}"
        s = None
        if i >= n_co:
            s = 2000 + (starts[i - n_co] if starts else t_pre)
        for t in range(T):
            y = Y[i, t] + (tau if s is not None and years[t] >= s else 0.0)
            rows.append((name, int(years[t]), y, s if s is not None else 0, 10_000 + 100 * i))
    df = pd.DataFrame(rows, columns=["unit", "year", "y", "first", "pop"])
    if counts:
        df["y"] = np.random.default_rng(seed + 1).poisson(np.clip(df["y"], 1, None)).astype(int)
    return df


def study_of(df: pd.DataFrame, **kw) -> Study:
    return Study(df, outcome="y", unit="unit", time="year", cohort="first", **kw)


def manual_did(df: pd.DataFrame, start: int) -> float:
    treated = df["first"] > 0
    post = df["year"] >= start
    m = df.groupby([treated, post])["y"].mean()
    return float((m[True, True] - m[True, False]) - (m[False, True] - m[False, False]))


def test_did_special_case_is_the_two_by_two_difference():
    df = factor_panel(1, tau=2.0)
    effect = synthetic_did(study_of(df), estimator="did", inference=None)
    assert effect.estimate == pytest.approx(manual_did(df, 2020), abs=1e-10)
    assert np.allclose(effect.weights, 1 / 30)
    assert np.allclose(effect.time_weights, 1 / 20)


def test_sc_special_case_has_no_time_weights_and_no_intercept():
    df = factor_panel(2, tau=1.0)
    effect = synthetic_did(study_of(df), estimator="sc", inference=None)
    assert np.all(effect.time_weights == 0)
    assert effect.intercept == 0
    path = effect.path
    post = path.index >= 2020
    assert effect.estimate == pytest.approx(path.loc[post, "effect"].mean(), abs=1e-10)
    assert effect.weights.min() >= 0 and effect.weights.sum() == pytest.approx(1)


def test_sdid_estimate_is_mean_of_effect_path_and_recovers_effect():
    df = factor_panel(3, tau=3.0)
    effect = synthetic_did(study_of(df), inference=None)
    post = effect.path.index >= 2020
    assert effect.estimate == pytest.approx(effect.path.loc[post, "effect"].mean(), abs=1e-10)
    assert effect.estimate == pytest.approx(3.0, abs=1.0)
    assert effect.time_weights.sum() == pytest.approx(1.0)
    assert isinstance(effect, SyntheticDiDEffect)


def test_sdid_and_did_are_invariant_to_unit_shifts():
    df = factor_panel(4, tau=1.0)
    shifted = df.copy()
    shifted["y"] += shifted["unit"].map({u: 5.0 * k for k, u in enumerate(sorted(df["unit"].unique()))})
    for est in ("sdid", "did"):
        a = synthetic_did(study_of(df), estimator=est, inference=None).estimate
        b = synthetic_did(study_of(shifted), estimator=est, inference=None).estimate
        assert a == pytest.approx(b, abs=1e-6)


def test_staggered_is_the_weighted_average_of_cohort_fits():
    df = factor_panel(5, n_tr=4, starts=[14, 14, 18, 18], tau=2.0)
    effect = synthetic_did(study_of(df), inference=None)
    parts = []
    for start in (2014, 2018):
        keep = (df["first"] == 0) | (df["first"] == start)
        single = synthetic_did(study_of(df[keep]), inference=None)
        parts.append((single.estimate, 2 * (2026 - start)))
    expected = sum(e * w for e, w in parts) / sum(w for _, w in parts)
    assert effect.estimate == pytest.approx(expected, abs=1e-10)
    assert list(effect.cohorts["start"]) == ["2014", "2018"]
    assert effect.path.index.name == "event_time"
    assert effect.time_weights is None


@pytest.mark.parametrize("method", ["placebo", "bootstrap", "jackknife"])
def test_standard_errors_with_several_treated_units(method):
    df = factor_panel(6, n_tr=3, tau=1.0)
    effect = synthetic_did(study_of(df), inference=method, n_draws=50, random_state=1)
    assert effect.se > 0
    assert effect.interval[0] < effect.estimate < effect.interval[1]
    again = synthetic_did(study_of(df), inference=method, n_draws=50, random_state=1)
    assert again.se == effect.se


def test_jackknife_matches_fixed_weight_formula():
    df = factor_panel(17, n_tr=3, tau=1.0)
    effect = synthetic_did(study_of(df), inference="jackknife")
    wide = df.pivot(index="unit", columns="year", values="y")
    Y = wide.loc[[*effect.weights.index, "t0", "t1", "t2"]].to_numpy()
    omega, lam = effect.weights.to_numpy(), effect.time_weights.to_numpy()

    def tau(rows_c, rows_t):
        w = omega[rows_c] / omega[rows_c].sum()
        col = np.r_[-lam, np.full(6, 1 / 6)]
        return Y[30 + np.array(rows_t)].mean(axis=0) @ col - w @ Y[rows_c] @ col

    draws = [tau(np.delete(np.arange(30), i), [0, 1, 2]) for i in range(30)]
    draws += [tau(np.arange(30), [k for k in range(3) if k != j]) for j in range(3)]
    draws = np.array(draws)
    expected = np.sqrt(32 / 33 * np.sum((draws - draws.mean()) ** 2))
    assert effect.se == pytest.approx(expected, rel=1e-10)


def test_staggered_standard_errors():
    df = factor_panel(7, n_tr=4, starts=[14, 14, 18, 18], tau=2.0)
    for method in ("placebo", "bootstrap", "jackknife"):
        assert synthetic_did(study_of(df), inference=method, n_draws=30, random_state=0).se > 0


def test_placebo_enumeration_lists_every_assignment_once():
    df = factor_panel(7, n_co=8, n_tr=3, starts=[14, 14, 18], tau=2.0)
    design = sdid_design(study_of(df))
    # cohorts: two units start 2014, one 2018 -> C(8,2) * C(6,1) = 168 assignments
    assert placebo_assignments(design, 167) is None
    rows = placebo_assignments(design, 168)
    assert rows.shape == (168, 8)
    assert (np.sort(rows, axis=1) == np.arange(8)).all()  # each row a permutation
    t0 = design.treated_t0
    keys = {(frozenset(r[5:][t0 == t0.min()]), frozenset(r[5:][t0 == t0.max()])) for r in rows}
    assert len(keys) == 168  # all distinct
    # the random procedure's draws are exactly those assignments' estimates (order-free)
    rng = np.random.default_rng(0)
    perms = np.array([rng.permutation(8) for _ in range(40)])
    exact = dict(zip(((frozenset(r[5:7]), r[7]) for r in rows), placebo_estimates(design, rows)))
    draws = placebo_estimates(design, perms)
    np.testing.assert_allclose(draws, [exact[(frozenset(p[5:7]), p[7])] for p in perms], atol=1e-8)


def test_enumerated_placebo_se_is_deterministic_and_switchable():
    df = factor_panel(6, n_co=12, n_tr=1, tau=1.0)
    a = synthetic_did(study_of(df), random_state=1)
    b = synthetic_did(study_of(df), random_state=2)
    assert len(a.replicates) == 12 and a.se == b.se
    assert a.se == pytest.approx(np.std(a.replicates), rel=1e-12)  # population sd of the 12
    c = synthetic_did(study_of(df), random_state=1, enumerate_placebos=False)
    assert len(c.replicates) == 200
    assert np.abs(np.subtract.outer(c.replicates, a.replicates)).min(axis=1).max() < 1e-8
    d = synthetic_did(study_of(df), random_state=1, n_draws=11)  # 12 > 11: random draws
    assert len(d.replicates) == 11


def test_jackknife_refused_when_one_control_carries_all_weight():
    df = factor_panel(8, n_co=1, n_tr=2, tau=1.0)  # one control: all unit weight on it
    with pytest.raises(DesignError, match="single control"):
        synthetic_did(study_of(df), estimator="sc", inference="jackknife")


def test_placebo_needs_more_controls_than_treated():
    df = factor_panel(9, n_co=2, n_tr=2)
    with pytest.raises(DesignError, match="more controls"):
        synthetic_did(study_of(df), inference="placebo")


def test_bad_options_fail_fast():
    df = factor_panel(10)
    with pytest.raises(DesignError, match="estimator"):
        synthetic_did(study_of(df), estimator="synth")
    with pytest.raises(DesignError, match="inference="):
        synthetic_did(study_of(df), inference="wild")


def test_dataframe_input_and_registry_and_no_mutation():
    df = factor_panel(11, n_tr=1)
    before = df.copy()
    effect = synthetic_did(df, outcome="y", unit="unit", time="year", treated="t0", start=2020, inference=None)
    pd.testing.assert_frame_equal(df, before)
    assert get_estimator("synthetic_did").function is synthetic_did
    assert effect.n_treated == 1 and effect.n_control == 30


def test_round_trip_to_dict():
    df = factor_panel(12, n_tr=2, tau=1.0)
    effect = synthetic_did(study_of(df), inference="placebo", n_draws=20, random_state=3)
    data = json.loads(json.dumps(effect.to_dict()))
    back = Effect.from_dict(data)
    assert isinstance(back, SyntheticDiDEffect)
    assert back.estimate == effect.estimate and back.se == effect.se
    pd.testing.assert_series_equal(back.weights, effect.weights, check_names=False, check_index_type=False)
    assert np.allclose(back.time_weights.to_numpy(), effect.time_weights.to_numpy())
    assert np.allclose(back.path["effect"].to_numpy(), effect.path["effect"].to_numpy())


def test_rates_and_events_prevented():
    df = factor_panel(13, n_tr=1, tau=-3.0, counts=True)
    study = Study(df, outcome="y", unit="unit", time="year", cohort="first", exposure="pop")
    effect = synthetic_did(study, inference=None)
    assert effect.scale == "rate per 100,000"
    counts = synthetic_did(study, inference=None, rate=False)
    assert counts.scale == "outcome units"
    # events = rate effect per period × population / 100,000, summed over post-periods
    pop = df[(df["unit"] == "t0") & (df["year"] >= 2020)]["pop"].to_numpy()
    post = effect.path["effect"].to_numpy()[20:]
    assert effect.diagnostics["events_prevented"] == pytest.approx(-(post * pop / 1e5).sum())
    assert counts.diagnostics["events_prevented"] == pytest.approx(-counts.estimate * 6)


def test_missing_outcome_is_a_data_error():
    df = factor_panel(14)
    df.loc[5, "y"] = np.nan
    with pytest.warns(UtvarderingWarning, match="dropped 1"):
        study = Study(df, outcome="y", unit="unit", time="year", cohort="first", dropna=True,
                      allow_gaps=True)
    with pytest.raises(DataError, match="missing for unit 'c00' in period 2005"):
        synthetic_did(study, inference=None)


def test_frank_wolfe_solver_pieces():
    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(30, 5)), rng.normal(size=30)
    x, _, _ = frank_wolfe_simplex(A, b, zeta=0.1, min_decrease=1e-8, max_iter=100_000)
    assert x.min() >= 0 and x.sum() == pytest.approx(1)
    # optimality: the Frank–Wolfe duality gap x'g - min g is (nearly) zero
    Ac, bc = A - A.mean(0), b - b.mean()
    grad = Ac.T @ (Ac @ x - bc) + 30 * 0.01 * x
    assert grad @ x - grad.min() < 1e-3  # FW converges at rate 1/t: gap 1.9e-4 here
    assert sparsify(np.array([0.5, 0.1, 0.4])).tolist() == pytest.approx([0.5 / 0.9, 0, 0.4 / 0.9])
    Y = np.arange(12.0).reshape(3, 4) ** 2
    assert noise_level(Y, 2, 3) == pytest.approx(np.std(np.diff(Y[:2, :3], axis=1), ddof=1))


def test_plot_returns_figure():
    import matplotlib.pyplot as plt

    df = factor_panel(15, n_tr=1, tau=1.0)
    fig = synthetic_did(study_of(df), inference=None).plot()
    assert len(fig.axes) >= 2
    plt.close(fig)
    stag = synthetic_did(study_of(factor_panel(16, n_tr=2, starts=[14, 18])), inference=None)
    plt.close(stag.plot())


@pytest.mark.slow
def test_recovery_bias_and_placebo_coverage():
    """Factor model, true effect 2.

    Treated units drawn like the controls (the paper's placebo design, under which the
    placebo variance is valid): bias ≈ 0 and 95% placebo-interval coverage within Monte Carlo
    error. Treated units selected on a factor loading: the bias is still ≈ 0.
    """
    reps = budget.draws(full=300, fast=40)
    est, covered, selected = [], [], []
    for seed in range(reps):
        df = factor_panel(1000 + seed, n_co=30, n_tr=3, tau=2.0, shift=0.0)
        effect = synthetic_did(study_of(df), inference="placebo", n_draws=budget.draws(full=200, fast=50),
                               random_state=seed)
        est.append(effect.estimate)
        covered.append(effect.interval[0] <= 2.0 <= effect.interval[1])
        biased = factor_panel(5000 + seed, n_co=30, n_tr=3, tau=2.0, shift=1.0)
        selected.append(synthetic_did(study_of(biased), inference=None).estimate)
    for values in (np.array(est), np.array(selected)):
        mc_se = values.std(ddof=1) / np.sqrt(reps)
        assert abs(values.mean() - 2.0) < 4 * mc_se + 0.05
    cover = np.mean(covered)
    # within 3 Monte Carlo standard errors of the nominal 95% (fast mode: 40 draws, ±0.1)
    assert abs(cover - 0.95) <= budget.choose(full=3 * np.sqrt(0.95 * 0.05 / reps), fast=0.1)


def test_end_of_intervention_truncates_the_post_period():
    df = factor_panel(18, n_tr=2, tau=1.0)
    ended = synthetic_did(study_of(df, end=2022), inference=None)
    truncated = synthetic_did(study_of(df[df["year"] <= 2022]), inference=None)
    assert ended.estimate == pytest.approx(truncated.estimate, abs=1e-12)
    assert ended.path.index.max() == 2022
