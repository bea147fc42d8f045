"""Tests of the Pólya-Gamma Gibbs sampler for the negative-binomial BSTS (backend="gibbs")."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from utvardering import DesignError
from utvardering.timeseries.causal_impact import GIBBS_AUTO, causal_impact
from utvardering.timeseries.gibbs_counts import nb_loglik, pg_mean

import budget


def _fit(df, pre, post, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw.setdefault("likelihood", "negative_binomial")
        return causal_impact(df, pre_period=pre, post_period=post, **kw)


def _poisson_bench_frame():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_bsts import poisson_data

    return poisson_data().drop(columns="t")


@pytest.mark.parametrize(("b", "c"), [(1.0, 0.0), (5.5, 1.5), (3.0, -3.0), (30.0, 6.0),
                                      (104.0, -3.2)])
def test_polya_gamma_draws_have_the_known_mean(b, c):
    from polyagamma import random_polyagamma

    # E[PG(b, c)] = b / (2c) tanh(c / 2) (Polson, Scott & Windle 2013, section 2.2);
    # Var[PG(b, c)] = b / (4 c^3) (sinh(c) - c) sech^2(c / 2) (same paper), b / 24 at c = 0.
    draws = random_polyagamma(np.full(200_000, b), np.full(200_000, c),
                              random_state=np.random.default_rng(1))
    var = b / 24.0 if c == 0 else b / (4 * c**3) * (np.sinh(c) - c) / np.cosh(c / 2) ** 2
    se = np.sqrt(var / draws.size)
    assert abs(draws.mean() - pg_mean(b, c)) < 4 * se
    assert draws.var() == pytest.approx(var, rel=0.03)


def test_pg_mean_formula():
    # b / 4 at c = 0 (limit of tanh(c/2) / (2c) = 1/4); symmetric in c.
    assert pg_mean(2.0, 0.0) == pytest.approx(0.5)
    assert pg_mean(3.0, 2.0) == pytest.approx(3.0 / 4.0 * np.tanh(1.0))
    assert pg_mean(3.0, -2.0) == pytest.approx(pg_mean(3.0, 2.0))


def test_nb_loglik_matches_scipy():
    rng = np.random.default_rng(0)
    y = rng.poisson(4.0, 50).astype(float)
    eta, offset = rng.normal(1.0, 0.3, 50), rng.normal(0.0, 0.2, 50)
    for r in (0.7, 5.0, 300.0):
        m = np.exp(eta + offset)
        want = stats.nbinom.logpmf(y, r, r / (r + m)).sum()  # size r, success prob r/(r+m)
        assert nb_loglik(y, eta, offset, r) == pytest.approx(want, rel=1e-10)


def test_gibbs_counts_is_reproducible_and_reports_its_backend(count_series):
    df, pre, post = count_series(3)
    kw = dict(backend="gibbs", draws=200, tune=200)
    a = _fit(df, pre, post, random_state=5, **kw)
    b = _fit(df, pre, post, random_state=5, **kw)
    c = _fit(df, pre, post, random_state=6, **kw)
    assert a.diagnostics["backend"] == "gibbs" and a.diagnostics["sampler"] == "gibbs-pg"
    np.testing.assert_array_equal(a.idata.posterior["phi"], b.idata.posterior["phi"])
    np.testing.assert_array_equal(a.idata.posterior["level"], b.idata.posterior["level"])
    assert a.rate_ratio == b.rate_ratio and a.rate_ratio_interval == b.rate_ratio_interval
    assert not np.array_equal(a.idata.posterior["phi"], c.idata.posterior["phi"])
    assert a.idata.posterior["level"].shape == (2, 200, 60)
    assert a.idata.posterior["beta"].shape == (2, 200, 5)
    assert 0.2 < a.diagnostics["accept_dispersion"] < 0.7
    assert a.diagnostics["divergences"] == 0


def test_gibbs_counts_options():
    df = _poisson_bench_frame()
    with pytest.raises(DesignError, match="no Poisson sampler"):
        _fit(df, (0, 83), (84, 119), backend="gibbs", likelihood="poisson")
    # horseshoe and local linear trend run and give the extra posterior variables
    e = _fit(df.iloc[:, :6], (0, 83), (84, 119), backend="gibbs", draws=100, tune=100,
             regression_prior="horseshoe", trend="local_linear_trend", random_state=1)
    assert {"tau", "slope", "sigma_slope", "phi"} <= set(e.idata.posterior)
    assert e.idata.posterior["slope"].shape == (2, 100, 84)


def test_auto_uses_gibbs_for_negative_binomial(count_series):
    df, pre, post = count_series(4)
    e = _fit(df, pre, post, draws=50, tune=50, random_state=1)
    assert "negative_binomial" in GIBBS_AUTO and "poisson" not in GIBBS_AUTO
    assert e.diagnostics["backend"] == "gibbs"
    assert e.idata.posterior["phi"].shape == (2, 50)


def test_converges_on_the_benchmark_case():
    # benchmarks/bench_bsts.py's count case: 120 months (84 pre), 15 controls, yearly
    # seasonality, 2 x 1,000 draws. Thresholds: Vehtari et al. (2021), r-hat <= 1.01; the
    # issue asks bulk ESS >= 400 (NUTS on the Poisson model: r-hat 1.09, bulk ESS 14).
    df = _poisson_bench_frame()
    e = _fit(df, (0, 83), (84, 119), backend="gibbs", seasonality=(12, 2), draws=1000,
             tune=1000, random_state=1)
    assert e.diagnostics["r_hat_max"] <= 1.01
    assert e.diagnostics["ess_bulk_min"] >= 400
    assert e.diagnostics["sample_seconds"] < 30
    # the simulated rate ratio is 0.7 (expected rates); the interval must cover it
    assert e.rate_ratio_interval[0] < 0.7 < e.rate_ratio_interval[1]


@pytest.mark.slow
def test_gibbs_counts_agrees_with_pymc(count_series):
    # Both backends sample the same negative-binomial posterior; the posterior median rate
    # ratios agree within 0.5 posterior s.d. (s.d. from the 95 % interval width / 3.92) and
    # the interval widths within 20 %.
    draws = budget.draws(full=1000, fast=300)
    df, pre, post = count_series(2)
    kw = dict(draws=draws, tune=draws, random_state=3)
    gibbs = _fit(df, pre, post, backend="gibbs", **kw)
    nuts = _fit(df, pre, post, backend="pymc", **kw)
    w_g, w_n = (e.rate_ratio_interval[1] - e.rate_ratio_interval[0] for e in (gibbs, nuts))
    assert abs(gibbs.rate_ratio - nuts.rate_ratio) < 0.5 * w_n / 3.92
    assert abs(w_g / w_n - 1) < 0.2
    ev_g, ev_n = gibbs.events_prevented, nuts.events_prevented
    assert abs(ev_g - ev_n) < 0.5 * (nuts.events_prevented_interval[1]
                                     - nuts.events_prevented_interval[0]) / 3.92


@pytest.mark.slow
def test_rate_ratio_coverage(count_series):
    # conftest.simulate_counts: mean 2-6 a month, 60 pre, 36 post, 5 controls, NB noise
    # (phi 0.1), true rate ratio 0.7. Over 40 seeds the 95 % interval should cover 0.7 in at
    # least 34 (P(X <= 33) = 0.0034 for X ~ Bin(40, 0.95)); FAST: 10 seeds, >= 7 covering
    # (P(X <= 6) = 0.0010 for Bin(10, 0.95)).
    n_seeds, draws, need = budget.choose(full=(40, 1000, 34), fast=(10, 300, 7))
    covered = 0
    for seed in range(n_seeds):
        df, pre, post = count_series(seed)
        e = _fit(df, pre, post, backend="gibbs", draws=draws, tune=draws, random_state=seed)
        lo, hi = e.rate_ratio_interval
        covered += lo <= 0.7 <= hi
    assert covered >= need, covered
