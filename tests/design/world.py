"""A simulated world with known truth for design-diagnosis tests (no effect anywhere)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def null_world(n_units: int = 16, n_periods: int = 48, seed: int = 0, counts: bool = True) -> pd.DataFrame:
    """Monthly panel of exchangeable units with unit and period effects and no treatment effect."""
    rng = np.random.default_rng(seed)
    times = pd.period_range("2015-01", periods=n_periods, freq="M")
    unit_fe = rng.normal(0, 0.2, n_units)
    time_fe = 0.3 * np.sin(np.arange(n_periods) / 6.0)
    rows = []
    for i in range(n_units):
        mu = np.exp(np.log(20.0) + unit_fe[i] + time_fe)
        y = rng.poisson(mu) if counts else mu + rng.normal(0, 2.0, n_periods)
        for t, v in zip(times, y):
            rows.append((f"u{i:02d}", str(t), v, 50_000))
    frame = pd.DataFrame(rows, columns=["unit", "time", "y", "population"])
    if counts:
        frame["y"] = frame["y"].astype("int64")
    return frame
