"""The level prior's scale: CausalImpact's for Gaussian data, net of Poisson noise for counts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from utvardering import DesignError
from utvardering.timeseries.causal_impact import causal_impact
from utvardering.timeseries.design import (
    PRIOR_LEVEL_SD,
    latent_log_rate_sd,
    make_design,
    poisson_log_variance,
)
from utvardering.timeseries.inputs import series_inputs

OPTIONS = dict(trend="local_level", seasonality=None, regression_prior="spike_and_slab",
               standardize=True, expected_model_size=3, log_controls=None)


def _direct_variance(mu: float) -> float:
    # Var(log(Y + 0.5)), Y ~ Poisson(mu), by scipy's pmf over 0..999 (independent of the
    # function under test, which builds the pmf from gammaln).
    y = np.arange(1000)
    p = poisson.pmf(y, mu)
    ly = np.log(y + 0.5)
    return float((p * (ly - (p * ly).sum()) ** 2).sum())


@pytest.mark.parametrize("mu", [0.5, 2.0, 4.0, 20.0, 99.0])
def test_poisson_log_variance_is_the_exact_sum(mu):
    assert poisson_log_variance(mu)[0] == pytest.approx(_direct_variance(mu), rel=1e-9)


def test_poisson_log_variance_switches_to_delta_method_smoothly():
    # Above mu = 100 the delta-method 1/mu is used; the exact value at 100 is within 1 %.
    below, above = poisson_log_variance([100.0, 100.0001])
    assert above == pytest.approx(1 / 100.0001) and below == pytest.approx(above, rel=0.01)
    assert poisson_log_variance(1e4)[0] == pytest.approx(1e-4)


@pytest.mark.parametrize("sd", [0.2, 0.4])
def test_latent_log_rate_sd_recovers_the_rate_variation(sd):
    # Log-normal rates with s.d. `sd` on the log scale, mean 5 events, 2,000 periods:
    # the raw log counts' s.d. is about 0.55–0.65, the Poisson part removed leaves `sd`
    # (tolerance 0.05: Monte Carlo s.d. about 0.02 over repeated draws of this size).
    rng = np.random.default_rng(7)
    y = rng.poisson(5.0 * np.exp(rng.normal(0.0, sd, 2000)))
    assert np.log(y + 0.5).std(ddof=1) > sd + 0.2
    assert latent_log_rate_sd(y, np.zeros(2000)) == pytest.approx(sd, abs=0.05)


def test_latent_log_rate_sd_floor_and_exposure():
    # Constant rate: net variance about 0, floored at 0.01 s_y^2 (s.d. 0.1 s_y).
    rng = np.random.default_rng(3)
    y = rng.poisson(4.0, 60)
    s_y = np.log(y + 0.5).std(ddof=1)
    assert 0.1 * s_y - 1e-12 <= latent_log_rate_sd(y, np.zeros(60)) < 0.5 * s_y
    # With exposure the rate is per unit exposure: doubling every exposure changes nothing.
    expo = rng.uniform(1.0, 3.0, 60)
    y = rng.poisson(2.0 * expo)
    a = latent_log_rate_sd(y, np.log(expo))
    assert latent_log_rate_sd(y, np.log(2 * expo)) == pytest.approx(a)


def _design(frame, pre, post, likelihood, prior_level_sd=None):
    inp = series_inputs(frame, pre_period=pre, post_period=post)
    return make_design(inp, likelihood=likelihood, prior_level_sd=prior_level_sd, **OPTIONS)


def test_level_prior_defaults_by_likelihood(count_series):
    frame, pre, post = count_series(0)
    # Gaussian: CausalImpact's Inv-Gamma(16, 16 (0.01 s_y)^2), s_y = 1 after standardising.
    g = _design(frame.astype(float), pre, post, "gaussian")
    assert PRIOR_LEVEL_SD["gaussian"] == 0.01
    assert g.data["level_alpha"] == 16.0
    assert g.data["level_beta"] == pytest.approx(16.0 * 0.01**2)
    # Counts: share 0.1 of the log rate's s.d. net of Poisson noise.
    y_pre = frame["y"].to_numpy()[:60]
    s = latent_log_rate_sd(y_pre, np.zeros(60))
    for lik in ("poisson", "negative_binomial"):
        d = _design(frame, pre, post, lik)
        assert d.data["level_beta"] == pytest.approx(16.0 * (0.1 * s) ** 2)
        # an explicit share multiplies the same scale
        d = _design(frame, pre, post, lik, prior_level_sd=0.03)
        assert d.data["level_beta"] == pytest.approx(16.0 * (0.03 * s) ** 2)


def test_prior_level_sd_must_be_positive(count_series):
    frame, pre, post = count_series(0)
    with pytest.raises(DesignError, match="prior_level_sd"):
        causal_impact(frame, pre_period=pre, post_period=post, likelihood="negative_binomial",
                      prior_level_sd=0.0)
