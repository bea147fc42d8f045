"""The Gibbs backend of the Gaussian BSTS: kernels against closed forms, reproducibility,
agreement with the MLE and PyMC backends, and convergence on the benchmark-shaped case."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from utvardering import DesignError
from utvardering.timeseries.causal_impact import causal_impact
from utvardering.timeseries.gibbs_linalg import draw_coefficients, log_marginal
from utvardering.timeseries.kalman import ffbs_level, ffbs_trend, innovations, loglik, seed_numba

import budget


def _trend_prior(n, llt, q1, q2, a1, p1, s1):
    """Dense prior mean and covariance of the state path (level, then slope if llt).

    Built from the state equations written as ``M x = e`` with independent ``e``:
    x_1 = a1 + e, x_{t+1} - x_t - d_t = e (level), d_1 = e, d_{t+1} - d_t = e (slope)."""
    m = 2 * n if llt else n
    M, var, mean_e = np.zeros((m, m)), np.zeros(m), np.zeros(m)
    M[0, 0], var[0], mean_e[0] = 1.0, p1, a1
    for t in range(1, n):
        M[t, t], M[t, t - 1], var[t] = 1.0, -1.0, q1
        if llt:
            M[t, n + t - 1] = -1.0
    if llt:
        M[n, n], var[n] = 1.0, s1
        for t in range(1, n):
            M[n + t, n + t], M[n + t, n + t - 1], var[n + t] = 1.0, -1.0, q2
    Minv = np.linalg.inv(M)
    return Minv @ mean_e, Minv @ np.diag(var) @ Minv.T


def _dense_posterior(r, h, prior_mean, prior_cov, n):
    """Exact Gaussian posterior of the path given r_t = level_t + N(0, h)."""
    H = np.zeros((n, len(prior_mean)))
    H[:, :n] = np.eye(n)
    prec = np.linalg.inv(prior_cov) + H.T @ H / h
    cov = np.linalg.inv(prec)
    mean = cov @ (np.linalg.solve(prior_cov, prior_mean) + H.T @ r / h)
    return mean, cov


def test_ffbs_level_matches_the_exact_smoother():
    # Closed form: the path posterior is N(mean, cov) from the dense precision matrix; the
    # average and covariance of 20,000 FFBS draws must match (Monte Carlo s.e. ≈ sd/141).
    rng = np.random.default_rng(0)
    n, h, q, a1, p1 = 8, 0.5, 0.2, 1.0, 2.0
    r = rng.normal(1, 1, n)
    mean, cov = _dense_posterior(r, h, *_trend_prior(n, False, q, 0, a1, p1, 0), n)
    seed_numba(1)
    m, c, out = np.empty(n), np.empty(n), np.empty(n)
    S = 20000
    draws = np.empty((S, n))
    for s in range(S):
        ffbs_level(r, h, q, a1, p1, m, c, out)
        draws[s] = out
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * sd / np.sqrt(S))
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.05 * cov.max())


def test_ffbs_trend_matches_the_exact_smoother():
    rng = np.random.default_rng(1)
    n, h, q1, q2, a1, p1, s1 = 7, 0.4, 0.1, 0.05, 0.0, 1.0, 0.3
    r = np.cumsum(rng.normal(0.3, 0.5, n))
    mean, cov = _dense_posterior(r, h, *_trend_prior(n, True, q1, q2, a1, p1, s1), n)
    seed_numba(2)
    m, c = np.empty((n, 2)), np.empty((n, 3))
    level, slope = np.empty(n), np.empty(n)
    S = 20000
    draws = np.empty((S, 2 * n))
    for s in range(S):
        ffbs_trend(r, h, q1, q2, a1, p1, s1, m, c, level, slope)
        draws[s, :n], draws[s, n:] = level, slope
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * sd / np.sqrt(S))
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.05 * cov.max())


@pytest.mark.parametrize("llt", [False, True])
def test_innovations_and_loglik_equal_dense_gls(llt):
    # Closed form: with the trend integrated out, y ~ N(prior_mean + Z theta, cov_trend + h I);
    # A = Z' Sigma^-1 Z, b = Z' Sigma^-1 (y - prior_mean), and the log-likelihood is the
    # multivariate normal log-density.
    rng = np.random.default_rng(2)
    n, p, h, q1, q2, a1, p1, s1 = 12, 3, 0.3, 0.1, 0.02, 0.5, 1.5, 0.2
    Z, y = rng.normal(size=(n, p)), rng.normal(size=n)
    pm, pc = _trend_prior(n, llt, q1, q2, a1, p1, s1)
    Sigma = pc[:n, :n] + h * np.eye(n)
    A, b, V = np.empty((p, p)), np.empty(p), np.empty((p + 1, 2))
    innovations(y, Z, llt, h, q1, q2, a1, p1, s1, V, A, b)
    np.testing.assert_allclose(A, Z.T @ np.linalg.solve(Sigma, Z), rtol=1e-9)
    np.testing.assert_allclose(b, Z.T @ np.linalg.solve(Sigma, y - pm[:n]), rtol=1e-9)
    want = stats.multivariate_normal(pm[:n], Sigma).logpdf(y)
    assert loglik(y, llt, h, q1, q2, a1, p1, s1) == pytest.approx(want, rel=1e-10)


def test_conjugate_coefficient_draws_and_marginal_likelihood():
    # Closed form: Bayesian linear regression y = Z theta + N(0, s2), theta ~ N(0, diag(v))
    # (no states: A = Z'Z/s2, b = Z'y/s2). Posterior N(P^-1 b, P^-1), P = A + diag(1/v); the
    # log marginal likelihood difference between two prior variance vectors equals that of
    # the dense N(0, s2 I + Z diag(v) Z') densities.
    rng = np.random.default_rng(3)
    n, p, s2 = 30, 3, 0.5
    Z = rng.normal(size=(n, p))
    y = Z @ np.array([1.0, 0.0, -0.5]) + rng.normal(0, np.sqrt(s2), n)
    A, b = Z.T @ Z / s2, Z.T @ y / s2
    v = np.array([4.0, 1e-4, 4.0])
    P = A + np.diag(1 / v)
    want_mean, want_cov = np.linalg.solve(P, b), np.linalg.inv(P)
    work = [np.empty((p, p)), np.empty((p, p)), np.empty(p), np.empty(p)]
    seed_numba(4)
    S = 20000
    draws = np.empty((S, p))
    out = np.empty(p)
    for s in range(S):
        draw_coefficients(A, b, v, work[0], work[1], work[2], work[3], out)
        draws[s] = out
    sd = np.sqrt(np.diag(want_cov))
    assert np.all(np.abs(draws.mean(axis=0) - want_mean) < 4 * sd / np.sqrt(S))
    # Monte Carlo s.e. of a sample covariance is about sqrt(c_ii c_jj / S); allow 5 of them.
    assert np.all(np.abs(np.cov(draws.T) - want_cov) < 5 * np.sqrt(np.outer(sd**2, sd**2) / S))
    v2 = np.array([4.0, 4.0, 4.0])
    got = (log_marginal(A, b, v2, work[0], work[1], work[2])
           - log_marginal(A, b, v, work[0], work[1], work[2]))
    dense = [stats.multivariate_normal(np.zeros(n), s2 * np.eye(n) + Z @ np.diag(w) @ Z.T)
             .logpdf(y) for w in (v2, v)]
    assert got == pytest.approx(dense[0] - dense[1], rel=1e-8)


def _regression_series(seed=7, n=120):
    # The series of test_bsts_mcmc.test_gaussian_agrees_with_unobserved_components.
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 1, n)) + 100
    y = 0.8 * x + np.cumsum(rng.normal(0, 0.05, n)) + rng.normal(0, 0.5, n)
    y[90:] -= 2.0
    idx = pd.period_range("2014-01", periods=n, freq="M")
    return pd.DataFrame({"y": y, "x": x}, index=idx), ("2014-01", "2021-06"), ("2021-07", "2023-12")


def _fit(df, pre, post, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return causal_impact(df, pre_period=pre, post_period=post, **kw)


def test_default_backend_is_gibbs_and_reproducible():
    df, pre, post = _regression_series()
    a = _fit(df, pre, post, draws=300, tune=300, random_state=5)
    b = _fit(df, pre, post, draws=300, tune=300, random_state=5)
    c = _fit(df, pre, post, draws=300, tune=300, random_state=6)
    assert a.diagnostics["backend"] == "gibbs" and a.params["backend"] == "gibbs"
    assert a.estimate == b.estimate and a.interval == b.interval  # same seed, same output
    np.testing.assert_array_equal(a.idata.posterior["sigma_obs"], b.idata.posterior["sigma_obs"])
    assert a.estimate != c.estimate
    assert a.diagnostics["divergences"] == 0
    assert a.idata.posterior["level"].shape == (2, 300, 90)
    with pytest.raises(DesignError, match="no Poisson sampler"):
        _fit(df, pre, post, backend="gibbs", likelihood="poisson")


@pytest.mark.parametrize("seed", [7, 8])
def test_gibbs_agrees_with_mle(seed):
    # Same criterion as issue 3's PyMC check: posterior mean effect within 0.5 posterior s.d.
    # of the UnobservedComponents path (strong regression signal, priors matter little).
    df, pre, post = _regression_series(seed)
    gibbs = _fit(df, pre, post, random_state=3)
    mle = _fit(df, pre, post, backend="mle", random_state=3)
    assert abs(gibbs.estimate - mle.estimate) < 0.5 * gibbs.se
    assert gibbs.interval[0] < -2.0 < gibbs.interval[1]
    assert gibbs.diagnostics["r_hat_max"] <= 1.01


def _bench_frame(n):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_bsts import gaussian_data

    return gaussian_data(n).drop(columns="t")


@pytest.mark.parametrize("trend", ["local_level", "local_linear_trend"])
def test_converges_on_the_benchmark_case(trend):
    # The benchmark case: 365 daily points, 5 controls (spike-and-slab with inclusion
    # probability 3/5), weekly Fourier seasonality, 2 chains x 1,000 draws. Acceptance:
    # r-hat <= 1.01 (Vehtari et al. 2021) over sigmas, coefficients and the level path.
    d = _bench_frame(365)
    e = _fit(d, (0, 291), (292, 364), seasonality=(7, 3), trend=trend, random_state=1)
    assert e.diagnostics["r_hat_max"] <= 1.01
    assert e.diagnostics["ess_bulk_min"] >= 200
    # Simulated effect -2 on top of a drifting level: the realised gap is about -3 (PyMC
    # backend -3.11, CausalPy -3.04, MLE -2.94 in benchmarks/bench_bsts.py). The local level
    # finds it; the trend's forecast variance grows like h^3, so its interval is wide.
    if trend == "local_level":
        assert e.interval[1] < 0
    else:
        assert e.interval[0] < -3.0 < e.interval[1]
    assert 0 <= e.idata.posterior["inclusion"].mean() <= 1


def test_horseshoe_runs_and_converges():
    d = _bench_frame(365)
    # Five controls sharing one factor: which carries the signal mixes more slowly under the
    # horseshoe (bulk ESS of the coefficients ~300 of 2,000 draws, r-hat up to 1.011 with
    # 2 x 1,000), so this check uses 2 x 2,000 draws.
    e = _fit(d, (0, 291), (292, 364), seasonality=(7, 3), regression_prior="horseshoe",
             draws=2000, random_state=2)
    assert e.diagnostics["r_hat_max"] <= 1.01
    assert "tau" in e.idata.posterior
    assert e.interval[1] < 0


@pytest.mark.slow
def test_gibbs_agrees_with_pymc():
    # Both backends sample the same posterior (spike-and-slab mixture, local level, weekly
    # seasonality); their effect estimates agree within 0.25 posterior s.d. and the interval
    # widths within 15 %.
    draws = budget.draws(full=1000, fast=300)
    d = _bench_frame(120)
    kw = dict(seasonality=(7, 2), draws=draws, tune=draws, random_state=4)
    gibbs = _fit(d, (0, 95), (96, 119), **kw)
    nuts = _fit(d, (0, 95), (96, 119), backend="pymc", **kw)
    assert abs(gibbs.estimate - nuts.estimate) < 0.25 * nuts.se
    w_g, w_n = (e.interval[1] - e.interval[0] for e in (gibbs, nuts))
    assert abs(w_g / w_n - 1) < 0.15
    s_g, s_n = (float(e.idata.posterior["sigma_obs"].mean()) for e in (gibbs, nuts))
    assert abs(s_g / s_n - 1) < 0.05
