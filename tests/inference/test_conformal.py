"""Conformal inference (Chernozhukov–Wüthrich–Zhu 2021) for synthetic controls."""

from __future__ import annotations

import numpy as np
import pytest

from utvardering.inference.conformal import conformal_interval, conformal_pvalue, sc_residuals

import budget


def world(T: int = 40, T1: int = 8, J: int = 10, effect: float = 0.0, noise: float = 1.0,
          seed: int = 0):
    """Treated unit = convex mix of donors + iid noise (+ effect in the last T1 periods)."""
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(size=(T, 2)), axis=0)
    Y0 = 50 + f @ rng.uniform(0.5, 2, size=(2, J)) + rng.normal(scale=0.3, size=(T, J))
    w = rng.dirichlet(np.ones(J))
    y = Y0 @ w + rng.normal(scale=noise, size=T)
    post = np.arange(T) >= T - T1
    y[post] += effect
    return y, Y0, post


def test_residuals_vectorised():
    y, Y0, _ = world()
    many = sc_residuals(np.vstack([y, y + 1.0]), Y0)
    np.testing.assert_allclose(many[0], sc_residuals(y, Y0))
    assert many.shape == (2, y.size)


def test_pvalue_bounds_and_large_effect():
    y, Y0, post = world(effect=0.0, seed=1)
    p0 = conformal_pvalue(y, Y0, post)
    assert 1 / y.size <= p0 <= 1
    # an effect of 20 noise s.d.: the observed statistic is the largest of the T shifts
    y2, Y0, post = world(effect=20.0, seed=1)
    assert conformal_pvalue(y2, Y0, post) == pytest.approx(1 / y.size)
    # testing the true effect as the null gives back the no-effect p-value
    assert conformal_pvalue(y2, Y0, post, 20.0) == pytest.approx(p0)
    # iid permutations: reproducible with a seed, and p >= 1/(n+1)
    a = conformal_pvalue(y2, Y0, post, scheme="iid", n_permutations=199, random_state=3)
    b = conformal_pvalue(y2, Y0, post, scheme="iid", n_permutations=199, random_state=3)
    assert a == b and a >= 1 / 200
    with pytest.raises(ValueError, match="scheme"):
        conformal_pvalue(y, Y0, post, scheme="block")


def test_interval_inverts_the_test():
    y, Y0, post = world(effect=-4.0, seed=2)
    lo, hi = conformal_interval(y, Y0, post, level=0.9)
    assert lo < -4.0 < hi
    # the ends are accepted nulls, and just beyond them the nulls are rejected
    eps = 1e-3 * (hi - lo)
    assert conformal_pvalue(y, Y0, post, lo) > 0.1
    assert conformal_pvalue(y, Y0, post, hi) > 0.1
    assert conformal_pvalue(y, Y0, post, lo - eps) <= 0.1
    assert conformal_pvalue(y, Y0, post, hi + eps) <= 0.1
    # a single post-period (pointwise interval)
    one = np.zeros_like(post)
    one[-1] = True
    keep = ~post | one
    lo1, hi1 = conformal_interval(y[keep], Y0[keep], one[keep], level=0.9)
    assert lo1 < hi1


@pytest.mark.slow
def test_size_and_coverage():
    """Under no effect the moving-block test rejects at about the nominal 10 %; the constant-
    effect interval covers a true effect of −3 at about 90 %."""
    reps = budget.draws(full=200, fast=30)
    rejections, covered = [], []
    for seed in range(reps):
        y, Y0, post = world(effect=0.0, seed=100 + seed)
        rejections.append(conformal_pvalue(y, Y0, post) <= 0.1)
        y, Y0, post = world(effect=-3.0, seed=900 + seed)
        lo, hi = conformal_interval(y, Y0, post, level=0.9)
        covered.append(lo <= -3.0 <= hi)
    size, coverage = np.mean(rejections), np.mean(covered)
    print(f"conformal size {size:.3f} (nominal 0.10), coverage {coverage:.3f} (nominal 0.90)")
    assert size <= budget.choose(full=0.15, fast=0.25)  # Monte Carlo s.e. 0.02 at 200 reps
    assert coverage >= budget.choose(full=0.81, fast=0.75)  # ≥ 90 % of the nominal 0.90


def test_block_means_align_the_post_period_as_the_last_block():
    from utvardering.inference.conformal import block_means

    y = np.arange(11.0)
    Y0 = np.column_stack([y, 2 * y])
    post = np.arange(11) >= 8  # T1 = 3, T0 = 8: two pre-blocks, the first two periods dropped
    yb, Y0b, postb = block_means(y, Y0, post)
    np.testing.assert_allclose(yb, [3.0, 6.0, 9.0])
    np.testing.assert_allclose(Y0b[:, 1], [6.0, 12.0, 18.0])
    assert postb.tolist() == [False, False, True]
    with pytest.raises(ValueError, match="shorter than the post-period"):
        block_means(y, Y0, np.arange(11) >= 5)
    with pytest.raises(ValueError, match="last periods"):
        block_means(y, Y0, np.arange(11) == 3)


def test_average_effect_test_allows_a_varying_effect():
    """Effects +6, −6 (average 0): the constant-effect test rejects θ = 0, the CWZ
    average-effect test (block means, Appendix A.1) does not, and its interval holds 0."""
    from utvardering.inference.conformal import conformal_average

    y, Y0, post = world(T=40, T1=2, noise=0.5, seed=5)
    y = y.copy()
    y[post] += [6.0, -6.0]
    assert conformal_pvalue(y, Y0, post, 0.0) <= 0.05
    p, (lo, hi), n_blocks = conformal_average(y, Y0, post, 0.0, level=0.95)
    assert n_blocks == 20 and p > 0.05 and lo < 0.0 < hi
    # a constant effect: the average test on blocks agrees with the constant-effect test there
    y2, Y0, post = world(T=40, T1=2, noise=0.5, effect=-3.0, seed=6)
    p2, (lo2, hi2), _ = conformal_average(y2, Y0, post, -3.0, level=0.95)
    assert p2 > 0.05 and lo2 < -3.0 < hi2


@pytest.mark.slow
def test_average_effect_coverage_under_a_varying_effect():
    """Effect path alternating around an average of −3: the average-effect interval covers
    the average at ≥ 90 % of its nominal 95 % (20 blocks: exact level)."""
    from utvardering.inference.conformal import conformal_average

    reps = budget.draws(full=200, fast=30)
    covered = []
    for seed in range(reps):
        y, Y0, post = world(T=40, T1=2, effect=0.0, seed=2000 + seed)
        y = y.copy()
        y[post] += [-3.0 + 4.0, -3.0 - 4.0]
        _, (lo, hi), _ = conformal_average(y, Y0, post, level=0.95)
        covered.append(lo <= -3.0 <= hi)
    coverage = float(np.mean(covered))
    # measured (200 seeds): 0.970; the constant-effect interval covers the average −3 in
    # 0 of these 200 worlds (the ±4 deviations are rejected as non-constant)
    print(f"average-effect coverage {coverage:.3f} (nominal 0.95) over {reps} seeds")
    assert coverage >= budget.choose(full=0.9 * 0.95, fast=0.8)
