"""Cluster-robust variance (CR1, CR2), Wald test and the few-cluster checks."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from utvardering.inference.cluster import (
    MIN_CLUSTERS,
    MIN_TREATED_CLUSTERS,
    cluster_vcov,
    few_cluster_warnings,
    small_sample_factor,
    wald_test,
)


@pytest.fixture
def regression():
    rng = np.random.default_rng(7)
    n, g = 400, 25
    clusters = rng.integers(0, g, n)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    y = X @ [1.0, 0.5, -0.2] + rng.normal(size=g)[clusters] + rng.normal(size=n)
    return X, y, clusters


def test_cr1_equals_statsmodels(regression):
    X, y, clusters = regression
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    V = cluster_vcov(X, fit.resid, clusters)
    # statsmodels' default cluster correction is G/(G-1)·(N-1)/(N-K), the same CR1
    np.testing.assert_allclose(V, fit.cov_params(), rtol=1e-10)


def test_weighted_cr1_equals_statsmodels_wls(regression):
    X, y, clusters = regression
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    fit = sm.WLS(y, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    V = cluster_vcov(X, fit.resid, clusters, weights=w)
    np.testing.assert_allclose(V, fit.cov_params(), rtol=1e-10)


def test_cr2_unbiased_under_iid_errors_one_obs_per_cluster():
    # with singleton clusters CR2 is HC2: (1 - h_ii)^{-1} scaling of squared residuals
    rng = np.random.default_rng(3)
    n = 60
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = X @ [0.0, 1.0] + rng.normal(size=n)
    fit = sm.OLS(y, X).fit(cov_type="HC2")
    V = cluster_vcov(X, fit.resid, np.arange(n), kind="CR2")
    np.testing.assert_allclose(V, fit.cov_params(), rtol=1e-10)


def test_small_sample_factor():
    assert small_sample_factor(550, 12, 50) == pytest.approx(50 / 49 * 549 / 538)


def test_wald_test_single_coefficient_is_t_squared():
    out = wald_test(np.array([2.0]), np.array([[0.25]]), df_denom=30)
    assert out["chi2"] == pytest.approx(16.0)
    assert out["F"] == pytest.approx(16.0)
    assert out["p_chi2"] < out["p_F"] < 0.001


def test_few_cluster_warnings():
    assert few_cluster_warnings(50, 21) == []
    one = few_cluster_warnings(50, 1)
    assert len(one) == 1 and "invalid" in one[0] and "randomization" in one[0]
    few_treated = few_cluster_warnings(50, MIN_TREATED_CLUSTERS - 1)
    assert len(few_treated) == 1 and "wild" in few_treated[0]
    few_all = few_cluster_warnings(MIN_CLUSTERS - 1, 12)
    assert len(few_all) == 1 and "CR2" in few_all[0]
    assert len(few_cluster_warnings(12, 3)) == 2


@pytest.mark.parametrize("weighted", [False, True])
def test_cr2_with_absorbed_effects_equals_dummy_regression(weighted):
    """CR2 with unit and period effects absorbed = CR2 of the dummy-variable regression."""
    from utvardering._numerics.fixed_effects import Absorber, fe_ols

    rng = np.random.default_rng(11)
    n_units, n_t = 9, 6
    unit = np.repeat(np.arange(n_units), n_t)
    time = np.tile(np.arange(n_t), n_units)
    d = ((unit < 4) & (time >= 3)).astype(float)
    x = rng.normal(size=len(unit))
    y = rng.normal(size=n_units)[unit] + 0.3 * time + 0.5 * d + x + rng.normal(size=len(unit))
    w = rng.uniform(0.5, 2, len(y)) if weighted else np.ones(len(y))
    absorber = Absorber([unit, time], weights=w)
    fit = fe_ols(y, np.column_stack([d, x]), absorber)
    got = cluster_vcov(fit.Xd, fit.resid, unit, weights=w, bread=fit.bread, kind="CR2",
                       absorber=absorber)
    # brute force: full design with dummies in the W^(1/2) space, generalised inverses
    D = np.column_stack([d, x, np.eye(n_units)[unit], np.eye(n_t)[time][:, 1:]])
    sw = np.sqrt(w)
    Dw, yw = D * sw[:, None], y * sw
    pinv = np.linalg.pinv(Dw.T @ Dw)
    u = yw - Dw @ (pinv @ Dw.T @ yw)
    H = Dw @ pinv @ Dw.T
    meat = np.zeros((D.shape[1], D.shape[1]))
    for g in range(n_units):
        idx = np.flatnonzero(unit == g)
        vals, vecs = np.linalg.eigh(np.eye(len(idx)) - H[np.ix_(idx, idx)])
        keep = vals > 1e-10
        a = (vecs[:, keep] / np.sqrt(vals[keep])) @ vecs[:, keep].T
        s = Dw[idx].T @ a @ u[idx]
        meat += np.outer(s, s)
    expected = (pinv @ meat @ pinv)[:2, :2]
    np.testing.assert_allclose(got, expected, rtol=1e-7)


def test_cr2_fixed_effect_blocks_dense_and_projection_paths_agree(monkeypatch):
    import utvardering.inference.cluster as cluster
    from utvardering._numerics.fixed_effects import Absorber, fe_ols

    rng = np.random.default_rng(5)
    unit = np.repeat(np.arange(8), 7)
    time = np.tile(np.arange(7), 8)
    X = np.column_stack([((unit < 3) & (time >= 4)).astype(float), rng.normal(size=56)])
    y = X @ [0.4, 1.0] + rng.normal(size=8)[unit] + rng.normal(size=56)
    w = rng.uniform(0.5, 2, 56)
    absorber = Absorber([unit, time], weights=w)
    fit = fe_ols(y, X, absorber)
    args = (fit.Xd, fit.resid, unit)
    kw = dict(weights=w, bread=fit.bread, kind="CR2", absorber=absorber)
    dense = cluster_vcov(*args, **kw)
    monkeypatch.setattr(cluster, "_DENSE_FE_LIMIT", 0)
    np.testing.assert_allclose(cluster_vcov(*args, **kw), dense, rtol=1e-8)
