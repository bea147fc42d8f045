"""Bayesian synthetic control: input checks (fast), recovery and Prop 99 cross-check (slow)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from utvardering import DesignError, Effect, Study
from utvardering.synth.bayesian import BayesianSynthEffect, bayesian_synthetic_control

import budget


def _count_world(seed: int, rate_ratio: float = 0.6, T: int = 60, T0: int = 40, J: int = 10):
    """Treated unit = fixed convex combination of donor rates; known multiplicative effect."""
    rng = np.random.default_rng(seed)
    times = pd.period_range("2015-01", periods=T, freq="M")
    pop = np.linspace(1e5, 5e5, J + 1).round()
    base = np.exp(rng.normal(scale=0.3, size=J + 1)) * 2e-5
    season = np.exp(0.15 * np.sin(2 * np.pi * np.arange(T) / 12))
    rates = base[None, :] * season[:, None]
    counts = rng.poisson(rates * pop[None, :])
    mu0 = pop[0] * rates[:, 1:4] @ np.array([0.5, 0.3, 0.2])
    effect = np.where(np.arange(T) >= T0, rate_ratio, 1.0)
    counts[:, 0] = rng.poisson(mu0 * effect)
    rows = [(f"u{j}", str(t), int(counts[i, j]), int(pop[j])) for j in range(J + 1) for i, t in enumerate(times)]
    data = pd.DataFrame(rows, columns=["unit", "time", "y", "population"])
    return Study(data, outcome="y", treated="u0", start=str(times[T0]), exposure="population")


def test_bad_options_fail_before_sampling():
    study = _count_world(0)
    with pytest.raises(DesignError, match=r"likelihood='normal' is not an option"):
        bayesian_synthetic_control(study, likelihood="normal")
    with pytest.raises(DesignError, match=r"prior_weights='lasso' is not an option"):
        bayesian_synthetic_control(study, prior_weights="lasso")
    with pytest.raises(DesignError, match=r"parametrization='stick' is not an option"):
        bayesian_synthetic_control(study, parametrization="stick")
    with pytest.raises(DesignError, match=r"concentration=0.0 and sigma_prior=None must be positive"):
        bayesian_synthetic_control(study, concentration=0.0)
    with pytest.raises(DesignError, match=r"sigma_prior=-1.0 must be positive"):
        bayesian_synthetic_control(study, sigma_prior=-1.0)
    rates = study.data.assign(y=study.data["y"] / 3.0)
    with pytest.raises(DesignError, match=r"needs a count outcome, but 'y' is not declared as counts"):
        bayesian_synthetic_control(rates, outcome="y", treated="u0", start="2018-05", likelihood="poisson")


@pytest.mark.slow
def test_count_recovery_coverage():
    """Rate ratio 0.6: bias and 95% interval coverage over repeated simulated worlds."""
    reps = budget.draws(full=30, fast=6)
    draws = budget.draws(full=800, fast=300)
    hits, estimates = 0, []
    for seed in range(reps):
        effect = bayesian_synthetic_control(_count_world(seed), likelihood="poisson", draws=draws, tune=draws,
                                            random_state=seed)
        lo, hi = effect.rate_ratio_interval
        hits += lo <= 0.6 <= hi
        estimates.append(effect.rate_ratio)
        assert effect.path["counterfactual"].min() >= 0  # counts: never a negative counterfactual
    coverage = hits / reps
    # Binomial MC error of coverage around 0.95: sd = sqrt(.95*.05/reps); allow 3 sd (floor at 1 miss).
    assert coverage >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / reps) - 1 / reps
    # Mean rate ratio within 3 Monte Carlo standard errors of the truth.
    est = np.array(estimates)
    assert abs(est.mean() - 0.6) < 3 * est.std(ddof=1) / np.sqrt(reps) + 0.02


@pytest.mark.slow
def test_gaussian_fit_and_round_trip():
    """Gaussian simplex weights sum to one; JSON round trip keeps weights, drops idata."""
    draws = budget.draws(full=800, fast=300)
    study = _count_world(3, rate_ratio=1.0)
    effect = bayesian_synthetic_control(study, draws=draws, tune=draws, random_state=3)
    assert abs(effect.weights.sum() - 1) < 1e-6
    assert effect.interval[0] <= 0 <= effect.interval[1]  # no effect simulated
    back = Effect.from_dict(json.loads(effect.to_json()))
    assert isinstance(back, BayesianSynthEffect) and back.idata is None
    pd.testing.assert_series_equal(back.weights, effect.weights)


@pytest.mark.slow
def test_prop99_default_is_flagged_as_prior_dominated():
    """Dirichlet(1) over 38 donors with 19 pre-periods: the fit warns (docs/methods page)."""
    from importlib import resources

    path = resources.files("utvardering") / "data" / "files" / "prop99.csv"
    with path.open() as fh:
        data = pd.read_csv(fh)
    study = Study(data, outcome="PacksPerCapita", unit="State", time="Year", treated="California",
                  start=1989)
    draws = budget.draws(full=1000, fast=300)
    effect = bayesian_synthetic_control(study, draws=draws, tune=draws, random_state=1)
    assert effect.params["parametrization"] == "gamma"  # default for concentration 1
    # least-squares simplex fit of California 1970-1988 (deterministic): RMSPE 1.6564
    assert effect.diagnostics["pre_rmspe_least_squares"] == pytest.approx(1.6564, abs=1e-3)
    # posterior mean gap -31.18 (2 and 4 chains x 1000 draws, methods page); posterior sd ~3.4,
    # MC s.e. <= 0.3 with 300 draws: tolerance 1.5
    assert effect.estimate == pytest.approx(-31.18, abs=1.5)
    assert any("Dirichlet prior dominates" in w for w in effect.diagnostics["warnings"])


def test_rate_ratio_posterior_inflates_for_negative_binomial_and_sums_units():
    """The rate-ratio draws given counterfactual-mean draws: Poisson = Gamma(Y + 1/2, rate S)
    exactly; negative binomial inflates the variance by phi = 1 + theta sum(mu^2) / (alpha S)
    with the same mean; several treated units enter as totals (not averages)."""
    from utvardering.synth.bayesian import _rate_ratio_draws

    post = np.array([False, True, True, True])
    mean = np.tile([10.0, 20.0, 30.0, 50.0], (200_000, 1))  # S = 100 in every draw
    y = np.array([9.0, 15.0, 20.0, 35.0])  # Y = 70
    poisson = {"y": y, "mean": mean, "inv_alpha": None}
    draws = _rate_ratio_draws([poisson], post, np.random.default_rng(1))
    ref = np.random.default_rng(1).gamma(70.5, 1 / 100, size=200_000)
    np.testing.assert_array_equal(draws, ref)
    nb = {**poisson, "inv_alpha": np.full(200_000, 0.5)}
    inflated = _rate_ratio_draws([nb], post, np.random.default_rng(2))
    phi = 1 + 0.7 * 0.5 * (20**2 + 30**2 + 50**2) / 100  # 14.3
    assert inflated.mean() == pytest.approx((70 / phi + 0.5) * phi / 100, rel=0.01)
    assert inflated.var() == pytest.approx((70 / phi + 0.5) * (phi / 100) ** 2, rel=0.02)
    assert inflated.var() > 10 * draws.var()
    two = _rate_ratio_draws([poisson, poisson], post, np.random.default_rng(3))
    assert two.mean() == pytest.approx(140.5 / 200, rel=0.005)  # Gamma(2Y + 1/2, rate 2S)
    assert two.var() == pytest.approx(140.5 / 200**2, rel=0.02)
