"""Events prevented (utvardering.inference.counts): the one conversion, on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utvardering.inference.counts import (
    events_difference,
    events_prevented,
    events_prevented_draws,
    events_prevented_rate_ratio,
)


def test_events_difference_sums_the_effect_in_events():
    # counts: the effect in events summed; rates per 100,000: times population / 100,000
    assert events_difference([-1.0, -2.0, -3.0]) == -6.0
    assert events_difference([-2.0, -4.0], [50_000, 100_000], 100_000) == -1.0 - 4.0


def test_events_prevented_by_hand():
    # 80 observed events, 100 expected: Δ = -20, the estimate -2 per period over 10 periods
    # with interval (-3, -1) → factor Δ / estimate = 10, prevented 20 in (10, 30);
    # rate ratio 80 / 100 = 0.8 in (80 / 110, 80 / 90)
    out = events_prevented(-20.0, estimate=-2.0, interval=(-3.0, -1.0), observed=80.0)
    assert out.difference == -20.0 and out.prevented == 20.0
    assert out.interval == (10.0, 30.0)
    assert out.rate_ratio == 0.8
    assert out.rate_ratio_interval == pytest.approx((80 / 110, 80 / 90), rel=1e-15)


def test_events_prevented_without_an_interval_or_observed_events():
    out = events_prevented(5.0, estimate=0.5, interval=(math.nan, math.nan))
    assert out.prevented == -5.0 and out.interval is None
    assert out.rate_ratio is None and out.rate_ratio_interval is None
    # no counterfactual events left: no rate ratio
    assert events_prevented(10.0, observed=10.0).rate_ratio is None


def test_events_prevented_draws_by_hand():
    observed = np.array([3.0, 4.0])
    draws = np.array([[5.0, 6.0], [4.0, 4.0], [6.0, 9.0], [3.0, 5.0], [5.0, 5.0]])
    # per draw: cf total − 7 = 4, 1, 8, 1, 3; mean 3.4; 50 % interval = quartiles 1 and 4
    estimate, interval = events_prevented_draws(draws, observed, 0.5)
    assert estimate == pytest.approx(3.4, rel=1e-15)
    assert interval == (1.0, 4.0)
    # the point estimate from the counterfactual's expectation (CausalImpact)
    estimate, _ = events_prevented_draws(draws, observed, 0.5, expected=np.full((5, 2), 4.5))
    assert estimate == 2.0


def test_events_prevented_rate_ratio_by_hand():
    # 90 fitted events at a rate ratio e^β = 0.9: counterfactual 100, prevented 10
    beta = math.log(0.9)
    prevented, (lo, hi) = events_prevented_rate_ratio(90.0, beta, (math.log(0.8), math.log(1.0)))
    assert prevented == pytest.approx(10.0, rel=1e-12)
    assert (lo, hi) == (0.0, pytest.approx(90 / 0.8 - 90, rel=1e-12))
