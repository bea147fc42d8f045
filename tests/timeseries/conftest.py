"""Fixtures for the time-series tests: simulated counts with a known rate ratio."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def simulate_counts(seed: int, rate_ratio: float = 0.7, n_pre: int = 60, n_post: int = 36,
                    k: int = 5, phi: float = 0.1):
    """Treated monthly counts (mean 2–6) sharing a log random-walk factor with ``k`` control
    count series (means 15–40); negative-binomial noise (variance mu + phi mu^2); the
    treated rate is multiplied by ``rate_ratio`` in the post-period."""
    rng = np.random.default_rng(seed)
    n = n_pre + n_post
    t = np.arange(n)
    f = np.cumsum(rng.normal(0, 0.04, n)) + 0.1 * np.sin(2 * np.pi * t / 12)
    f -= f[:n_pre].mean()
    X = rng.poisson(rng.uniform(15, 40, k)[None, :] * np.exp(f)[:, None])
    mu = rng.uniform(2, 6) * np.exp(f + rng.normal(0, 0.05, n)) * np.where(t >= n_pre, rate_ratio, 1.0)
    y = rng.negative_binomial(1 / phi, (1 / phi) / (1 / phi + mu))
    idx = pd.period_range("2015-01", periods=n, freq="M", name="time")
    df = pd.DataFrame(X, index=idx, columns=[f"c{j}" for j in range(k)])
    df.insert(0, "y", y)
    return df, (idx[0], idx[n_pre - 1]), (idx[n_pre], idx[-1])


@pytest.fixture
def count_series():
    """The :func:`simulate_counts` function."""
    return simulate_counts
