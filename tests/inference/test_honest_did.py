"""HonestDiD sensitivity: input checks, numerics, result object and FLCI coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utvardering.effect import Effect
from utvardering.errors import DataError, DesignError
from utvardering.inference.honest_did import HonestEffect, honest_did
from utvardering.inference.honest_rm import rm_confidence_set, rm_constraints
from utvardering.inference.honest_sd import flci, folded_normal_quantile, r_quantile7, r_rnorm

import budget


def _ar1_sigma(n: int, sd: float = 0.01, rho: float = 0.5) -> np.ndarray:
    idx = np.arange(n)
    return sd**2 * rho ** np.abs(idx[:, None] - idx[None, :])


@pytest.fixture
def small():
    """4 pre + 2 post coefficients with a flat pre-trend and a post effect of 0.05."""
    betahat = np.array([0.002, -0.001, 0.001, 0.0, 0.05, 0.06])
    return betahat, _ar1_sigma(6)


# -- input validation --------------------------------------------------------------------------
def test_sigma_shape_mismatch_is_a_data_error(small):
    betahat, sigma = small
    with pytest.raises(DataError, match=r"sigma has shape \(5, 5\) but betahat has 6"):
        honest_did(betahat, sigma[:5, :5], num_pre_periods=4, num_post_periods=2)


def test_sigma_not_psd_is_a_data_error(small):
    betahat, sigma = small
    bad = sigma.copy()
    bad[0, 1] = bad[1, 0] = 1.0  # |correlation| > 1
    with pytest.raises(DataError, match="not positive semi-definite"):
        honest_did(betahat, bad, num_pre_periods=4, num_post_periods=2)


def test_sigma_not_symmetric_or_missing_is_a_data_error(small):
    betahat, sigma = small
    bad = sigma.copy()
    bad[0, 1] += 1e-5
    with pytest.raises(DataError, match="not symmetric"):
        honest_did(betahat, bad, num_pre_periods=4, num_post_periods=2)
    with pytest.raises(DataError, match=r"sigma \(the covariance matrix of betahat\) is required"):
        honest_did(betahat, num_pre_periods=4, num_post_periods=2)
    nan = sigma.copy()
    nan[2, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        honest_did(betahat, nan, num_pre_periods=4, num_post_periods=2)


def test_period_counts_l_vec_m_and_method_are_checked(small):
    betahat, sigma = small
    with pytest.raises(DataError, match="give num_pre_periods and num_post_periods"):
        honest_did(betahat, sigma)
    with pytest.raises(DataError, match="must equal the number of coefficients"):
        honest_did(betahat, sigma, num_pre_periods=3, num_post_periods=2)
    with pytest.raises(DataError, match="l_vec must hold 2"):
        honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, l_vec=[1, 0, 0])
    with pytest.raises(DataError, match="non-negative"):
        honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, m_values=[-1])
    with pytest.raises(DataError, match="level"):
        honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, level=95)
    with pytest.raises(DesignError, match="method must be"):
        honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, method="sd")
    with pytest.raises(DataError, match="finite"):
        honest_did(np.array([0.0, np.nan, 0, 0, 0, 0]), sigma, num_pre_periods=4,
                   num_post_periods=2)


def test_effect_without_event_study_is_rejected():
    with pytest.raises(DataError, match="event-study coefficients"):
        honest_did(Effect(method="x", estimate=1.0))


# -- numerics ----------------------------------------------------------------------------------
def test_r_rnorm_reproduces_r():
    # R 4.x: set.seed(0); rnorm(5)
    expected = [1.262954284880793, -0.326233360705649, 1.329799262922501, 1.272429321429405,
                0.414641434456408]
    np.testing.assert_allclose(r_rnorm(5, 0), expected, atol=1e-14)


def test_r_quantile7_and_folded_normal():
    x = np.arange(1.0, 11.0)
    assert r_quantile7(x, 0.995) == pytest.approx(9.955)  # R: quantile(1:10, 0.995)
    exact = folded_normal_quantile(0.95, 0.0, simulated=False)
    assert exact == pytest.approx(1.959963985, abs=1e-8)
    assert folded_normal_quantile(0.95, 0.0) == pytest.approx(exact, abs=5e-3)
    big = folded_normal_quantile(0.95, 10.0, simulated=False)
    assert big == pytest.approx(10 + 1.644853627, abs=1e-6)  # |N(10,1)| ≈ N(10,1)


def test_rm_constraints_shape_and_content():
    A = rm_constraints(3, 2, 1.0, 0, True)
    assert A.shape[1] == 5
    # the post-period first difference δ_1 − δ_0 is bounded by the s = 0 pre difference
    # (δ_0 − δ_{-1}) = −δ_{-1}:  δ_1 − (−δ_{-1})·1 ≤ 0  → row (0, 0, 1, 1, 0)
    assert any(np.allclose(row, [0, 0, 1, 1, 0]) for row in A)


def test_rm_sets_are_nested_in_mbar(small):
    betahat, sigma = small
    prev = None
    for mbar in (0.0, 0.5, 1.0, 2.0):
        grid, acc = rm_confidence_set(betahat, sigma, 4, np.array([1.0, 0.0]), mbar)
        if prev is not None:
            assert np.all(acc[prev])
        prev = acc
    assert acc[np.argmin(np.abs(grid - 0.05))]


def test_flci_m0_is_linear_extrapolation_with_exact_quantile(small):
    betahat, sigma = small
    bounds = flci(betahat, sigma, 4, np.array([1.0, 0.0]), [0.0], simulated_quantile=False)[0]
    # at M = 0 the FLCI is the minimum-variance unbiased-under-linear-trends estimator ± z·sd
    # (check by brute force over pre-period weights v with Σ v_s·s = −Σ t·l_t, Σ v_s·s² free)
    half = (bounds[1] - bounds[0]) / 2
    assert half > 1.96 * np.sqrt(sigma[4, 4]) * 0.5
    from scipy import optimize

    t_pre = np.arange(-4, 0)

    def var(v):
        full = np.concatenate([v, [1.0, 0.0]])
        return full @ sigma @ full

    cons = [{"type": "eq", "fun": lambda v: v @ t_pre + 1.0}]
    res = optimize.minimize(var, np.zeros(4), constraints=cons, method="SLSQP",
                            options={"ftol": 1e-16})
    assert half == pytest.approx(1.959963985 * np.sqrt(res.fun), rel=1e-6)
    centre = res.x @ betahat[:4] + betahat[4]
    assert (bounds[0] + bounds[1]) / 2 == pytest.approx(centre, abs=1e-7)


def test_flci_widens_with_m(small):
    betahat, sigma = small
    b = flci(betahat, sigma, 4, np.array([1.0, 0.0]), [0.0, 0.005, 0.01, 0.02])
    widths = b[:, 1] - b[:, 0]
    assert np.all(np.diff(widths) > 0)


# -- result object -----------------------------------------------------------------------------
def test_result_path_breakdown_roundtrip_and_plot(small):
    betahat, sigma = small
    res = honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, method="smoothness",
                     m_values=[0.0, 0.01, 0.02, 0.05, 0.1])
    assert isinstance(res, HonestEffect)
    assert list(res.path.index) == [0.0, 0.01, 0.02, 0.05, 0.1, "original"]
    assert res.path.index.name == "M" and list(res.path.columns) == ["low", "high", "low_at_grid_end", "high_at_grid_end"]
    robust = res.path.drop(index="original")
    covers = (robust["low"] <= 0) & (robust["high"] >= 0)
    assert res.breakdown == float(robust.index[covers.to_numpy()][0])
    assert res.estimate == pytest.approx(0.05)
    back = Effect.from_dict(res.to_dict())
    assert isinstance(back, HonestEffect) and back.breakdown == res.breakdown
    pd.testing.assert_frame_equal(back.path, res.path, check_index_type=False)
    fig = res.plot()
    assert fig.axes[0].get_xlabel() == "M"


def test_breakdown_none_when_robust_everywhere(small):
    betahat, sigma = small
    res = honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, m_values=[0.0, 0.2])
    assert res.breakdown is None
    assert res.method == "honest_did_rm" and res.diagnostics["inference"] == "C-LF"


def test_default_m_values(small):
    betahat, sigma = small
    res = honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2)
    np.testing.assert_allclose(res.params["m_values"], np.linspace(0, 2, 10))


def test_accepts_event_study_effect():
    from utvardering.did.twfe import event_study

    rng = np.random.default_rng(3)
    units, years = 20, range(2010, 2018)
    rows = [(u, y, rng.normal() + (0.5 if u < 10 and y >= 2015 else 0.0))
            for u in range(units) for y in years]
    data = pd.DataFrame(rows, columns=["unit", "year", "y"])
    fit = event_study(data, outcome="y", unit="unit", time="year", treated=list(range(10)),
                      start=2015)
    res = honest_did(fit, method="smoothness", m_values=[0.0])
    table = fit.event_study.drop(index=-1)
    names = [f"event_time[{e}]" for e in table.index]
    direct = honest_did(table["estimate"].to_numpy(), fit.vcov.loc[names, names].to_numpy(),
                        num_pre_periods=int((table.index < 0).sum()),
                        num_post_periods=int((table.index >= 0).sum()), method="smoothness",
                        m_values=[0.0])
    pd.testing.assert_frame_equal(res.path, direct.path)
    assert res.n_treated == 10 and res.outcome == "y"


# -- coverage (slow) ---------------------------------------------------------------------------
@pytest.mark.slow
def test_flci_m0_covers_under_linear_pretrends():
    """With M = 0 and a linear difference in trends the FLCI covers the true effect ~95%."""
    n_rep = budget.draws(full=1000, fast=150)
    rng = np.random.default_rng(2024)
    n_pre, n_post = 4, 2
    sigma = _ar1_sigma(n_pre + n_post, sd=0.02, rho=0.3)
    t = np.r_[np.arange(-n_pre, 0), np.arange(1, n_post + 1)]
    tau = np.r_[np.zeros(n_pre), 0.1, 0.15]
    delta = 0.03 * t  # linear violation of parallel trends (δ_0 = 0)
    draws = rng.multivariate_normal(tau + delta, sigma, size=n_rep)
    covered = 0
    for b in draws:
        lo, hi = flci(b, sigma, n_pre, np.array([1.0, 0.0]), [0.0])[0]
        covered += lo <= 0.1 <= hi
    rate = covered / n_rep
    half_width = 3 * np.sqrt(0.95 * 0.05 / n_rep)  # 3 Monte Carlo standard errors
    assert abs(rate - 0.95) <= half_width


def test_dual_vertices_give_the_lp_value():
    """η = min_δ max_i (y_i − X_i δ)/σ_i equals the best dual vertex (checked with HiGHS)."""
    from scipy.optimize import linprog

    from utvardering.inference.honest_rm import _dual_vertices

    rng = np.random.default_rng(11)
    for m, k in [(4, 1), (6, 2), (8, 3)]:
        X = rng.normal(size=(m, k))
        sd = rng.uniform(0.5, 2.0, m)
        G = _dual_vertices(sd, X)
        for _ in range(5):
            y = rng.normal(size=m)
            # variables (η, δ): minimise η subject to σ η + X δ ≥ y
            res = linprog(np.r_[1.0, np.zeros(k)], A_ub=-np.column_stack([sd, X]), b_ub=-y,
                          bounds=[(None, None)] * (k + 1), method="highs")
            assert res.status == 0
            assert (G @ y).max() == pytest.approx(res.fun, abs=1e-9)


def test_open_grid_warning_and_plain_conditional_test(small):
    betahat, sigma = small
    wide = honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, m_values=[20.0])
    assert any("end of the θ grid" in w for w in wide.warnings)
    plain = honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, m_values=[0.0, 1.0],
                       hybrid=False)
    hyb = honest_did(betahat, sigma, num_pre_periods=4, num_post_periods=2, m_values=[0.0, 1.0])
    assert plain.diagnostics["inference"] == "conditional"
    assert np.all(np.isfinite(plain.path.to_numpy(float)))
    # both contain the estimate and widen with M̄
    for res in (plain, hyb):
        assert res.path.loc[1.0, "high"] - res.path.loc[1.0, "low"] > (
            res.path.loc[0.0, "high"] - res.path.loc[0.0, "low"])


# -- polynomial-time vertices of the Δ^RM dual (many post periods) -----------------------------
def _rm_piece(n_pre, n_post, mbar, s, positive, l_vec, sigma):
    """Post-period moments of one Δ^RM piece as honest_rm sets them up (rows, sd, C, X)."""
    from utvardering.inference.honest_rm import _gamma_matrix

    A = rm_constraints(n_pre, n_post, mbar, s, positive)
    rows = np.where((A[:, n_pre:] != 0).any(axis=1))[0]
    X = (A[:, n_pre:] @ np.linalg.inv(_gamma_matrix(l_vec)))[rows, 1:]
    sd = np.sqrt(np.diag((A @ sigma @ A.T)[np.ix_(rows, rows)]))
    return A[rows][:, n_pre:], sd, X


def test_structured_rm_vertices_equal_basis_enumeration():
    """The O(T̄²) vertex list is exactly the set found by enumerating all bases (small T̄)."""
    from utvardering.inference.honest_rm import _dual_vertices, _rm_dual_vertices

    rng = np.random.default_rng(5)
    for n_pre, n_post in [(1, 2), (3, 2), (2, 3), (4, 4), (2, 5)]:
        n = n_pre + n_post
        Z = rng.normal(size=(n, n))
        sigma = Z @ Z.T / n * 1e-4 + 1e-6 * np.eye(n)
        for l_vec in (np.eye(n_post)[0], np.ones(n_post) / n_post,
                      rng.choice([0.0, 1.0, -1.0, 0.5], size=n_post) + np.eye(n_post)[-1] * 2):
            for mbar in (0.0, 0.7, 2.0):
                for s in range(-(n_pre - 1), 1):
                    for positive in (True, False):
                        C, sd, X = _rm_piece(n_pre, n_post, mbar, s, positive, l_vec, sigma)
                        fast = _rm_dual_vertices(sd, C, l_vec)
                        slow = _dual_vertices(sd, X)
                        assert fast is not None and len(fast) == len(slow)
                        key = {tuple(np.round(g, 7)) for g in slow}
                        assert {tuple(np.round(g, 7)) for g in fast} == key
                        assert np.allclose(fast @ sd, 1.0) and np.allclose(fast @ X, 0.0, atol=1e-9)


def test_structured_rm_vertices_give_the_lp_value_with_12_post_periods():
    """With T̄ = 12 (2.7 million bases) the T̄ + 2 vertices still give the LP optimum (HiGHS)."""
    from scipy.optimize import linprog

    from utvardering.inference.honest_rm import _rm_dual_vertices

    rng = np.random.default_rng(12)
    n_pre, n_post = 3, 12
    sigma = _ar1_sigma(n_pre + n_post, sd=0.02, rho=0.4)
    l_vec = np.ones(n_post) / n_post
    C, sd, X = _rm_piece(n_pre, n_post, 1.0, -1, True, l_vec, sigma)
    G = _rm_dual_vertices(sd, C, l_vec)
    assert G.shape == (n_post + 2, 2 * n_post)
    k = X.shape[1]
    for _ in range(5):
        y = rng.normal(size=len(sd))
        res = linprog(np.r_[1.0, np.zeros(k)], A_ub=-np.column_stack([sd, X]), b_ub=-y,
                      bounds=[(None, None)] * (k + 1), method="highs")
        assert res.status == 0
        assert (G @ y).max() == pytest.approx(res.fun, abs=1e-8)


def test_relative_magnitudes_with_12_post_periods_is_fast_and_nested():
    """12 post periods, 10 values of M̄: polynomial time (was ~25 min by basis enumeration)."""
    import time

    n_pre, n_post = 4, 12
    sigma = _ar1_sigma(n_pre + n_post)
    rng = np.random.default_rng(3)
    betahat = np.r_[rng.normal(0, 0.005, n_pre), 0.05 + rng.normal(0, 0.005, n_post)]
    t0 = time.perf_counter()
    res = honest_did(betahat, sigma, num_pre_periods=n_pre, num_post_periods=n_post,
                     l_vec=np.ones(n_post) / n_post)
    elapsed = time.perf_counter() - t0
    assert elapsed < 20.0  # ~1 s measured on one loaded core
    width = (res.path["high"] - res.path["low"]).to_numpy(float)[:-1]
    assert np.all(np.diff(width) >= -1e-12)


def test_seed_is_renamed_random_state():
    """Issue 11: honest_did(seed=) is the old name of random_state= (DeprecationWarning)."""
    beta = np.array([0.01, -0.02, 0.3, 0.4])
    sigma = np.diag([0.01, 0.01, 0.02, 0.02])
    new = honest_did(beta, sigma, num_pre_periods=2, num_post_periods=2, random_state=0,
                     grid_points=50, m_values=[0.5])
    with pytest.warns(DeprecationWarning, match="seed= is renamed random_state="):
        old = honest_did(beta, sigma, num_pre_periods=2, num_post_periods=2, seed=0,
                         grid_points=50, m_values=[0.5])
    pd.testing.assert_frame_equal(old.path, new.path)
    assert new.params["random_state"] == 0
