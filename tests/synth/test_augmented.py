"""Ridge-augmented synthetic control: limits, covariates, cross-validation, recovery."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from utvardering._numerics.simplex import simplex_lstsq
from utvardering.effect import Effect
from utvardering.errors import DesignError
from utvardering.estimators import get_estimator
from utvardering.study import Study
from utvardering.synth.augmented import (
    AugmentedSynthEffect,
    augmented_synthetic_control,
    lambda_grid,
    ridge_augmented_weights,
)

import budget


def panel(seed: int = 0, n_co: int = 25, t_pre: int = 15, t_post: int = 5, tau: float = 0.0,
          outside: float = 0.0, exact: bool = False, covariate: bool = False) -> pd.DataFrame:
    """Factor panel; ``outside`` pushes the treated unit's loading beyond every donor's."""
    rng = np.random.default_rng(seed)
    T = t_pre + t_post
    load = rng.uniform(0.5, 1.5, (n_co, 2))
    f = np.cumsum(rng.normal(0, 1, (T, 2)), axis=0) + 10
    Y0 = load @ f.T + rng.normal(0, 0.3, (n_co, T))
    if exact:  # treated = convex combination of donors in every period
        w = np.zeros(n_co)
        w[:3] = [0.5, 0.3, 0.2]
        y = w @ Y0
    else:
        y = (load.max(axis=0) + outside) @ f.T + rng.normal(0, 0.3, T)
    y = y + np.where(np.arange(T) >= t_pre, tau, 0.0)
    rows = [(f"d{i:02d}", 2000 + t, Y0[i, t]) for i in range(n_co) for t in range(T)]
    rows += [("treated", 2000 + t, y[t]) for t in range(T)]
    df = pd.DataFrame(rows, columns=["unit", "year", "y"])
    if covariate:
        z = {f"d{i:02d}": load[i, 0] for i in range(n_co)} | {"treated": load.max(axis=0)[0] + outside}
        df["z"] = df["unit"].map(z) + np.random.default_rng(seed + 7).normal(0, 0.01, len(df))
    return df


def study_of(df: pd.DataFrame, **kw) -> Study:
    return Study(df, outcome="y", unit="unit", time="year", treated="treated", start=2015, **kw)


def sc_estimate(df: pd.DataFrame) -> float:
    wide = df.pivot(index="unit", columns="year", values="y")
    donors = wide.drop(index="treated")
    pre = wide.columns < 2015
    w = simplex_lstsq(donors.loc[:, pre].to_numpy().T, wide.loc["treated", pre].to_numpy()).w
    gap = wide.loc["treated"].to_numpy() - w @ donors.to_numpy()
    return float(gap[~pre].mean())


def test_infinite_ridge_is_synthetic_control():
    df = panel(1, outside=0.5, tau=1.0)
    effect = augmented_synthetic_control(study_of(df), penalty=1e14, inference=None)
    assert effect.estimate == pytest.approx(sc_estimate(df), abs=1e-6)
    assert effect.diagnostics["bias_correction"] == pytest.approx(0.0, abs=1e-6)
    assert isinstance(effect, AugmentedSynthEffect)


def test_perfect_prefit_leaves_nothing_to_augment():
    df = panel(2, exact=True, tau=2.0)
    effect = augmented_synthetic_control(study_of(df), inference=None)
    assert abs(effect.diagnostics["bias_correction"]) < 1e-4
    assert effect.estimate == pytest.approx(2.0, abs=1e-4)


def test_weights_sum_to_one_and_small_ridge_fits_exactly():
    df = panel(3, outside=0.8)
    effect = augmented_synthetic_control(study_of(df), penalty=1e-8, inference=None)
    assert effect.weights.sum() == pytest.approx(1.0, abs=1e-9)
    # with more donors than pre-periods a tiny ridge interpolates the pre-period
    assert effect.diagnostics["pre_rmspe"] < 1e-3
    assert effect.weights.min() < 0  # extrapolation shows as negative weights


def test_cross_validation_picks_a_grid_value_by_the_one_se_rule():
    rng = np.random.default_rng(4)
    X0 = rng.normal(size=(20, 10))
    X0 -= X0.mean(axis=0)
    x1 = rng.normal(size=10)
    _, _, lam, cv = ridge_augmented_weights(X0, x1)
    grid = lambda_grid(X0)
    assert lam in grid and len(cv) == 21
    best = cv["error"].idxmin()
    eligible = cv["lambda"][cv["error"] <= cv["error"][best] + cv["se"][best]]
    assert lam == eligible.max()
    assert grid[0] == pytest.approx(np.linalg.svd(X0, compute_uv=False)[0] ** 2)
    assert grid[-1] == pytest.approx(grid[0] * 1e-8)


def test_augmentation_reduces_bias_when_treated_is_outside_the_hull():
    sc_bias, ascm_bias = [], []
    for seed in range(12):
        df = panel(100 + seed, outside=0.6, tau=0.0)
        sc_bias.append(sc_estimate(df))
        ascm_bias.append(augmented_synthetic_control(study_of(df), inference=None).estimate)
    assert abs(np.mean(ascm_bias)) < 0.5 * abs(np.mean(sc_bias))


def test_residualized_covariates_are_balanced_exactly():
    df = panel(5, outside=0.3, covariate=True)
    study = study_of(df, covariates=["z"])
    effect = augmented_synthetic_control(study, inference=None)
    z = df[df["year"] < 2015].groupby("unit")["z"].mean()
    assert effect.weights @ z.loc[effect.weights.index] == pytest.approx(z["treated"], abs=1e-8)
    appended = augmented_synthetic_control(study, residualize=False, inference=None)
    assert np.isfinite(appended.estimate)
    assert effect.params["covariates"] == ["z"]


def test_jackknife_se_and_round_trip():
    df = panel(6, outside=0.3, tau=1.0)
    effect = augmented_synthetic_control(study_of(df))
    assert effect.se > 0 and effect.interval[0] < effect.estimate < effect.interval[1]
    back = Effect.from_dict(json.loads(json.dumps(effect.to_dict())))
    assert isinstance(back, AugmentedSynthEffect)
    assert back.penalty == effect.penalty
    assert np.allclose(back.weights.to_numpy(), effect.weights.to_numpy())
    assert np.allclose(back.cv["error"].to_numpy(), effect.cv["error"].to_numpy())


def test_fixedeff_removes_level_differences():
    df = panel(7, exact=True, tau=1.0)
    shifted = df.copy()
    shifted.loc[shifted["unit"] == "treated", "y"] += 50.0
    effect = augmented_synthetic_control(study_of(shifted), fixedeff=True, inference=None)
    assert effect.estimate == pytest.approx(1.0, abs=0.05)


def test_rates_events_and_registry_and_no_mutation():
    df = panel(8, tau=-1.0)
    df["y"] = np.round(df["y"] * 10).astype(int)
    df["pop"] = 50_000
    before = df.copy()
    effect = augmented_synthetic_control(df, outcome="y", unit="unit", time="year", treated="treated",
                                         start=2015, exposure="pop", inference=None)
    pd.testing.assert_frame_equal(df, before)
    assert effect.scale == "rate per 100,000"
    post = effect.path["effect"].to_numpy()[15:]
    assert effect.diagnostics["events_prevented"] == pytest.approx(-(post * 0.5).sum())
    assert get_estimator("augmented_synthetic_control").function is augmented_synthetic_control


def test_several_treated_units_are_averaged():
    df = panel(9, tau=1.0)
    other = df[df["unit"] == "treated"].assign(unit="treated2")
    other["y"] += 0.1
    both = pd.concat([df, other])
    study = Study(both, outcome="y", unit="unit", time="year", treated=["treated", "treated2"], start=2015)
    effect = augmented_synthetic_control(study, inference=None)
    assert effect.estimate == pytest.approx(effect.unit_effects["estimate"].mean())
    assert effect.n_treated == 2


def test_bad_se_option():
    with pytest.raises(DesignError, match="inference="):
        augmented_synthetic_control(study_of(panel(10)), inference="bootstrap")


def test_staggered_units_are_fitted_on_their_own_pre_periods():
    df = panel(11, tau=1.0)
    late = df[df["unit"] == "treated"].assign(unit="late")
    late["y"] = late["y"] + np.where(late["year"] >= 2017, 0.5, 0.0)
    both = pd.concat([df, late])
    study = Study(both, outcome="y", unit="unit", time="year", starts={"treated": 2015, "late": 2017})
    effect = augmented_synthetic_control(study, inference=None)
    assert effect.path.index.name == "event_time"
    assert effect.unit_effects["start"].to_dict() == {"late": "2017", "treated": "2015"}
    assert effect.estimate == pytest.approx(effect.unit_effects["estimate"].mean())


# -- inference: conformal (CWZ) and placebo-in-space ------------------------------------------


def test_conformal_with_infinite_ridge_is_synthetic_control_conformal():
    """λ → ∞ makes ASCM synthetic control, so its conformal refits equal the SC machinery's."""
    from utvardering.synth.adh import synthetic_control

    df = panel(seed=4, n_co=10, t_pre=15, t_post=5, tau=-2.0)
    aug = augmented_synthetic_control(study_of(df), penalty=1e12, inference=None)
    sc = synthetic_control(study_of(df), inference=None)
    a, b = aug.conformal(), sc.conformal()
    assert a.p_value == pytest.approx(b.p_value)
    np.testing.assert_allclose(a.interval, b.interval, atol=1e-3)
    np.testing.assert_allclose(a.pointwise[["low", "high"]], b.pointwise[["low", "high"]], atol=1e-3)
    pa, pb = aug.placebo_in_space(), sc.placebo_in_space()
    assert pa.p_value == pytest.approx(pb.p_value)
    np.testing.assert_allclose(pa.table["ratio"], pb.table["ratio"], rtol=1e-4)


def test_conformal_properties_and_average_effect():
    df = panel(seed=5, n_co=12, t_pre=38, t_post=2, tau=-6.0)
    study = Study(df, outcome="y", unit="unit", time="year", treated="treated", start=2038)
    fit = augmented_synthetic_control(study, inference=None)
    res = fit.conformal(level=0.95)
    T = 40
    assert res.p_value == pytest.approx(1 / T)  # 20 noise s.d.: the largest of the T shifts
    # testing the true effect gives an unremarkable p-value
    assert fit.conformal(null=-6.0).p_value > 0.05
    assert res.pointwise.shape[0] == 2 and (res.pointwise["low"] < res.pointwise["high"]).all()
    # average effect by block means: T0 = 38 = 19 blocks of 2, plus the post block
    assert res.n_blocks == 20
    lo, hi = res.average_interval
    assert lo < -6.0 < hi
    assert res.average_p_value == pytest.approx(1 / 20)


def test_placebo_in_space_refits_each_donor():
    df = panel(seed=6, n_co=9, t_pre=15, t_post=5, tau=-8.0)
    fit = augmented_synthetic_control(study_of(df), inference=None)
    pl = fit.placebo_in_space()
    assert list(pl.table.index[:1]) == ["treated"] and len(pl.table) == 10
    assert pl.p_value == pytest.approx(1 / 10)  # a large effect ranks first
    np.testing.assert_allclose(pl.gaps["treated"].to_numpy(), fit.path["effect"].to_numpy())
    # a placebo is the same estimator fitted on that donor (λ cross-validated again)
    others = df[df["unit"] != "treated"]
    d = pl.table.index[1]
    alone = augmented_synthetic_control(others, outcome="y", unit="unit", time="year", treated=d,
                                        start=2015, inference=None)
    np.testing.assert_allclose(pl.gaps[d].to_numpy(), alone.path["effect"].to_numpy(), atol=1e-8)


def test_inference_needs_the_fit_and_one_treated_unit():
    df = panel(seed=7, n_co=8)
    fit = augmented_synthetic_control(study_of(df), inference=None)
    back = Effect.from_dict(json.loads(json.dumps(fit.to_dict())))
    assert "study" not in fit.to_dict() and "spec" not in fit.to_dict()
    with pytest.raises(DesignError, match="rebuilt from a dict"):
        back.conformal()
    two = df.copy()
    two.loc[two["unit"] == "d00", "unit"] = "treated2"
    many = augmented_synthetic_control(two, outcome="y", unit="unit", time="year",
                                       treated=["treated", "treated2"], start=2015, inference=None)
    with pytest.raises(DesignError, match="one treated unit"):
        many.placebo_in_space()


@pytest.mark.slow
def test_conformal_size_and_pointwise_coverage():
    """No effect: the 5 % conformal test (T = 20, exact size 1/20) rejects at about 5 %;
    effect −2: pointwise 90 % intervals (T = 16, accepted iff p ≥ 2/16, nominal 93.75 %) cover."""
    reps = budget.draws(full=200, fast=20)
    rejections, covered = [], []
    for seed in range(reps):
        null = augmented_synthetic_control(study_of(panel(seed=300 + seed)), inference=None).conformal(level=0.9)
        rejections.append(null.p_value <= 0.05 + 1e-12)
        fit = augmented_synthetic_control(study_of(panel(seed=600 + seed, tau=-2.0)), inference=None)
        band = fit.conformal(level=0.9).pointwise
        covered.extend(((band["low"] <= -2.0) & (band["high"] >= -2.0)).tolist())
    size, coverage = float(np.mean(rejections)), float(np.mean(covered))
    print(f"ASCM conformal size {size:.3f} (nominal 0.05), pointwise coverage {coverage:.3f} "
          f"(nominal 0.9375) over {reps} seeds")
    # measured (200 seeds): size 0.070, coverage 0.894
    # full: within 3 Monte Carlo s.d. of 5 % (s.d. 0.015 at 200); FAST: at most 4 of 20
    assert size <= budget.choose(full=0.095, fast=0.2)
    assert coverage >= budget.choose(full=0.9 * 0.9375, fast=0.75)  # >= 90 % of nominal
