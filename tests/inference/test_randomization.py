"""Randomization inference and the Conley–Taber interval."""

from __future__ import annotations

import numpy as np
import pytest

from utvardering._numerics.fixed_effects import Absorber, factorize, fe_ols
from utvardering.inference.randomization import (
    conley_taber_interval,
    permutation_test,
    placebo_coefficients,
)


def _panel(n_units=15, n_t=10, treated=(0,), start=5, effect=0.0, seed=0):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_t)
    pos = np.tile(np.arange(n_t), n_units).astype(float)
    starts = np.full(n_units, np.inf)
    starts[list(treated)] = start
    d = (pos >= starts[unit]).astype(float)
    y = rng.normal(size=n_units)[unit] + 0.2 * pos + effect * d + rng.normal(size=len(unit))
    return y, unit, pos, starts, d


def test_placebo_coefficients_equal_individual_fits():
    y, unit, pos, _starts, d = _panel()
    absorber = Absorber([unit, pos.astype(int)])
    D = np.column_stack([d, np.roll(d, 10), np.roll(d, 20)])
    got = placebo_coefficients(y, D, absorber)
    for j in range(3):
        assert got[j] == pytest.approx(fe_ols(y, D[:, [j]], absorber).coef[0], abs=1e-12)


def test_single_treated_unit_enumerates_every_unit():
    y, unit, pos, starts, _ = _panel(effect=3.0)
    absorber = Absorber([unit, pos.astype(int)])
    res = permutation_test(y, unit, pos, starts, absorber)
    assert res.exact and res.n_permutations == 15
    # a large effect: the observed unit has the largest |beta| → the smallest p, 1/15
    assert res.p_value == pytest.approx(1 / 15)


def test_random_reassignment_is_reproducible_and_calibrated():
    p_values = []
    for seed in range(40):
        y, unit, pos, starts, _ = _panel(n_units=20, treated=range(6), seed=seed)
        absorber = Absorber([unit, pos.astype(int)])
        res = permutation_test(y, unit, pos, starts, absorber, n_draws=199,
                               random_state=seed)
        again = permutation_test(y, unit, pos, starts, absorber, n_draws=199,
                                 random_state=seed)
        assert res.p_value == again.p_value
        p_values.append(res.p_value)
    # under the null p-values are uniform: with 40 draws, the share below 0.2 is near 0.2
    assert 0.0 <= np.mean(np.array(p_values) < 0.2) <= 0.4


def test_cohort_scheme_keeps_treated_units():
    y, unit, pos, _, _ = _panel(n_units=20)
    starts = np.full(20, np.inf)
    starts[:6] = [3, 3, 5, 5, 7, 7]
    absorber = Absorber([unit, pos.astype(int)])
    res = permutation_test(y, unit, pos, starts, absorber, scheme="cohorts", n_draws=50,
                           random_state=0)
    assert res.scheme == "cohorts" and res.n_permutations == 51
    with pytest.raises(ValueError, match="scheme"):
        permutation_test(y, unit, pos, starts, absorber, scheme="areas")


def test_conley_taber_interval_covers_truth():
    hits = 0
    for seed in range(30):
        y, unit, pos, starts, _ = _panel(n_units=25, effect=1.0, seed=100 + seed)
        t = pos.astype(int)

        def factory(mask, unit=unit, t=t):
            return Absorber([factorize(unit[mask])[0], factorize(t[mask])[0]])

        res = conley_taber_interval(y, unit, pos, starts, factory, level=0.9)
        assert res.n_permutations == 24
        hits += res.interval[0] <= 1.0 <= res.interval[1]
    assert hits >= 22  # nominal 90% of 30 = 27; allow Monte Carlo slack (binomial sd 1.6)
