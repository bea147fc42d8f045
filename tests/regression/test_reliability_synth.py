"""Regression tests for the synth items of the reliability review: R1 (non-finite values
never reach an estimate or a p-value) and R13 (extreme scales give a DataError, not a bare
numpy or ZeroDivision error)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering import DataError

KW = {"outcome": "y", "unit": "unit", "time": "time", "treated": ["U00"], "start": "2020-01"}

ESTIMATORS = {
    "synthetic_control": lambda d, **k: utv.synthetic_control(d, inference=None, **k),
    "synthetic_control_predictors": lambda d, **k: utv.synthetic_control(
        d, predictors=[("y", ["2019-03"], "mean"), ("y", ["2019-06"], "mean")], inference=None,
        **k),
    "demeaned": lambda d, **k: utv.synthetic_control(d, demean=True, inference=None, **k),
    "augmented": lambda d, **k: utv.augmented_synthetic_control(d, **k),
    "penalized": lambda d, **k: utv.penalized_synthetic_control(d, **k),
    "synthetic_did": lambda d, **k: utv.synthetic_did(d, n_draws=20, random_state=0, **k),
}


def panel() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    units = [f"U{i:02d}" for i in range(10)]
    months = pd.period_range("2019-01", periods=24, freq="M").astype(str)
    return pd.DataFrame([(u, t, float(rng.poisson(20 + 3 * i)), 10000.0 + 1000 * i)
                         for i, u in enumerate(units) for t in months],
                        columns=["unit", "time", "y", "population"])


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_r1_synth_estimators_refuse_an_infinite_outcome(name):
    data = panel()
    data.loc[5, "y"] = np.inf  # U00, 2019-06
    # the Study's one check for non-finite data names the column, the unit and the period
    with pytest.raises(DataError, match=r"column 'y' holds inf .*'U00 2019-06'"):
        ESTIMATORS[name](data, **KW)


@pytest.mark.parametrize("name", ["synthetic_control", "synthetic_did", "augmented"])
def test_r1_synth_estimators_refuse_an_infinite_population(name):
    data = panel()
    data.loc[30, "population"] = np.inf  # U01, 2019-07: its rate would silently be 0
    with pytest.raises(DataError, match=r"column 'population' holds inf .*'U01 2019-07'"):
        ESTIMATORS[name](data, exposure="population", **KW)


def test_r1_synthetic_did_never_returns_a_p_value_next_to_a_nonfinite_estimate():
    data = panel()
    data.loc[5, "y"] = -np.inf
    with pytest.raises(DataError):
        utv.synthetic_did(data, n_draws=30, random_state=0, **KW)
    fit = utv.synthetic_did(panel(), n_draws=30, random_state=0, **KW)
    assert np.isfinite(fit.estimate) and np.isfinite(fit.se) and 0.0 <= fit.p_value <= 1.0
    low, high = fit.interval
    assert low < fit.estimate < high


@pytest.mark.parametrize("scale", [1e300, 1e-300])
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_r13_synth_extreme_scales_are_a_data_error(name, scale):
    data = panel()
    data["y"] = data["y"] * scale
    with pytest.raises(DataError, match="Rescale the column"):
        ESTIMATORS[name](data, **KW)


def test_r13_moderate_scales_give_the_scaled_answer():
    base = utv.synthetic_control(panel(), inference=None, **KW)
    data = panel()
    data["y"] = data["y"] * 1e50
    scaled = utv.synthetic_control(data, inference=None, **KW)
    assert scaled.estimate == pytest.approx(base.estimate * 1e50, rel=1e-8)
    np.testing.assert_allclose(scaled.weights, base.weights, atol=1e-8)
