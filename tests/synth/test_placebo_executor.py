"""The synthetic-control placebo refits run on the library's one executor (issue 12): the same
gaps and p-value serially, with joblib and on Dask."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

import utvardering as utv


@pytest.fixture(scope="module")
def fit():
    rng = np.random.default_rng(3)
    months = pd.period_range("2019-01", periods=24, freq="M").astype(str)
    rows = [(f"U{i:02d}", t, 50 + 2 * i + 0.3 * k + rng.normal(0, 1.5) - (6 if i == 0 and k >= 16 else 0))
            for i in range(8) for k, t in enumerate(months)]
    data = pd.DataFrame(rows, columns=["unit", "time", "y"])
    return utv.synthetic_control(data, outcome="y", unit="unit", time="time", treated="U00",
                                 start="2020-05", inference=None)


def test_placebo_refits_are_identical_on_every_backend(fit):
    serial = fit.placebo_in_space()
    pooled = fit.placebo_in_space(n_jobs=2)
    pd.testing.assert_frame_equal(serial.table, pooled.table, check_exact=True)
    assert serial.p_value == pooled.p_value
    if importlib.util.find_spec("distributed") is not None:
        on_dask = fit.placebo_in_space(backend="dask", n_jobs=2)
        pd.testing.assert_frame_equal(serial.table, on_dask.table, check_exact=True)
