"""BSTSEffect through the fast ``backend="mle"`` path: shape, export, text, plot, inputs."""

from __future__ import annotations

import json
import warnings

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest

from utvardering import DesignError, Effect, Study, get_estimator
from utvardering.timeseries.causal_impact import causal_impact
from utvardering.timeseries.its import interrupted_time_series  # noqa: F401  (registers)
from utvardering.timeseries.placebo import placebo_in_time
from utvardering.timeseries.result import BSTSEffect

PRE, POST = ("2016-01", "2019-12"), ("2020-01", "2021-12")


def _series(effect=-3.0, seed=0, n_controls=2):
    rng = np.random.default_rng(seed)
    idx = pd.period_range("2016-01", periods=72, freq="M", name="time")
    common = np.cumsum(rng.normal(0, 0.3, 72))
    X = {f"c{j}": 50 + common + rng.normal(0, 0.5, 72) for j in range(n_controls)}
    y = 40 + common + rng.normal(0, 0.5, 72)
    y[48:] += effect
    return pd.DataFrame({"y": y, **X}, index=idx)


def _fit(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return causal_impact(df, pre_period=PRE, post_period=POST, backend="mle", **kw)


def test_mle_recovers_a_level_shift_and_fills_the_effect():
    df = _series()
    before = df.copy()
    e = _fit(df, random_state=0)
    pd.testing.assert_frame_equal(df, before)  # the caller's data are not modified
    assert isinstance(e, BSTSEffect) and e.method == "bsts"
    assert e.interval[0] < -3.0 < e.interval[1] and e.estimate == pytest.approx(-3.0, abs=0.6)
    assert e.prob > 0.99 and e.p_value < 0.01
    assert list(e.path.columns[:4]) == ["observed", "counterfactual", "counterfactual_low",
                                        "counterfactual_high"]
    assert len(e.path) == 72 and len(e.cumulative) == 24
    assert e.cumulative["effect"].iloc[-1] == pytest.approx(24 * e.estimate)
    assert e.rate_ratio is None and e.n_control == 2


def test_same_seed_same_result():
    df = _series()
    a, b = _fit(df, random_state=5), _fit(df, random_state=5)
    assert a.estimate == b.estimate and a.interval == b.interval


def test_round_trip_to_dict_and_json():
    e = _fit(_series(), random_state=1)
    back = Effect.from_dict(json.loads(json.dumps(e.to_dict(), allow_nan=False)))
    assert isinstance(back, BSTSEffect) and back.idata is None and back.inputs is None
    assert back.estimate == e.estimate and back.interval == e.interval
    pd.testing.assert_frame_equal(back.table, e.table, check_exact=False)
    pd.testing.assert_frame_equal(back.cumulative, e.cumulative, check_exact=False,
                                  check_freq=False)
    assert "idata" not in e.to_dict()


def test_summary_table_layout_and_reports():
    e = _fit(_series(), random_state=2)
    text = e.summary()
    for label in ("Average", "Cumulative", "Actual", "Prediction (s.d.)", "95% CI",
                  "Absolute effect (s.d.)", "Relative effect (s.d.)",
                  "Posterior tail-area probability p:", "Posterior prob. of a causal effect:"):
        assert label in text
    en, sv = e.summary("report"), e.summary("report", lang="sv")
    assert "unlikely to be due to chance" in en and "2020-01" in en
    assert "troligen inte på slumpen" in sv and "perioder" in sv
    with pytest.raises(ValueError, match="kind"):
        e.summary("nope")


def test_three_panel_plot():
    fig = _fit(_series(), random_state=3).plot()
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 3


def test_study_input_uses_donors_as_controls():
    df = _series().reset_index().melt(id_vars="time", var_name="unit", value_name="crimes")
    study = Study(df, outcome="crimes", treated="y", start="2020-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = causal_impact(study, backend="mle", random_state=0)
    assert e.n_control == 2 and e.params["controls"] == ["c0", "c1"] and e.start == "2020-01"
    assert e.estimate == pytest.approx(-3.0, abs=0.6)


def test_option_errors():
    df = _series()
    with pytest.raises(DesignError, match="Gaussian model only"):
        causal_impact(df, pre_period=PRE, post_period=POST, backend="mle", likelihood="poisson")
    with pytest.raises(DesignError, match="trend"):
        causal_impact(df, pre_period=PRE, post_period=POST, trend="wiggly")


def test_registered():
    assert get_estimator("causal_impact").family == "timeseries"
    assert get_estimator("interrupted_time_series").family == "timeseries"


def test_placebo_in_time_with_mle():
    df = _series(effect=0.0, seed=4)
    table = placebo_in_time(df, pre_period=PRE, post_period=POST, n_draws=4, backend="mle",
                            random_state=0)
    assert len(table) == 4 and set(table.columns) >= {"start", "estimate", "low", "high", "excludes_zero"}
    assert 0.0 <= table.attrs["false_positive_share"] <= 1.0
    assert table["start"].iloc[0] == "2018-01"  # half of the 48 pre-periods come first
    e = _fit(df, random_state=0)
    again = e.placebo_in_time(n_draws=4, random_state=0)
    pd.testing.assert_frame_equal(again, table)


def test_exposure_column_is_not_a_control_and_periods_serialise():
    df = _series()
    df["pop"] = 1000.0 + np.arange(72)
    e = _fit(df[["y", "c0", "pop"]], exposure="pop", random_state=0)
    assert e.params["controls"] == ["c0"] and e.params["pre_period"] == list(PRE)
    json.dumps(e.to_dict(), allow_nan=False)


def test_mle_is_invariant_to_standardising():
    # The MLE of the Gaussian model is equivariant under an affine change of the outcome scale.
    df = _series(seed=6)
    a, b = _fit(df, standardize=True, random_state=2), _fit(df, standardize=False, random_state=2)
    assert a.estimate == pytest.approx(b.estimate, rel=1e-3)
    assert a.interval == pytest.approx(b.interval, rel=2e-2)
