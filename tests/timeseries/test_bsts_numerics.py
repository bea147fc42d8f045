"""Pure numerics of the BSTS path: inputs, Fourier terms, forecasts, impact statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utvardering import DataError, DesignError
from utvardering.timeseries.causal_impact import check_option
from utvardering.timeseries.forecast import forecast_eta, observe
from utvardering.timeseries.impact import impact_table, tail_probability
from utvardering.timeseries.inputs import fourier_terms, series_inputs


def _frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.period_range("2015-01", periods=n, freq="M")
    x = rng.normal(10, 1, n)
    return pd.DataFrame({"y": 2 * x + rng.normal(0, 0.5, n), "x": x}, index=idx)


def test_inputs_dataframe_first_column_is_outcome():
    inp = series_inputs(_frame(), pre_period=("2015-01", "2016-12"), post_period=("2017-01", "2018-04"))
    assert inp.outcome == "y" and inp.control_names == ["x"]
    assert inp.pre.sum() == 24 and inp.post.sum() == 16 and inp.forecast.sum() == 16
    assert inp.start == "2017-01"


def test_inputs_gap_between_periods_is_forecast_not_summarised():
    inp = series_inputs(_frame(), pre_period=("2015-01", "2016-12"), post_period=("2017-03", "2018-04"))
    assert inp.forecast.sum() == 16 and inp.post.sum() == 14


def test_inputs_missing_value_names_the_period():
    df = _frame()
    df.iloc[5, 1] = np.nan
    with pytest.raises(DataError, match=r"'x'.*2015-06"):
        series_inputs(df, pre_period=("2015-01", "2016-12"), post_period=("2017-01", "2018-04"))


def test_inputs_post_before_pre_and_empty_window():
    df = _frame()
    with pytest.raises(DesignError, match="must start after"):
        series_inputs(df, pre_period=("2015-01", "2016-12"), post_period=("2016-06", "2018-04"))
    with pytest.raises(DesignError, match="2030-01, 2030-04 is not a label of the series index"):
        series_inputs(df, pre_period=("2015-01", "2016-12"), post_period=("2030-01", "2030-04"))


def test_inputs_misaligned_controls_and_constant_control():
    df = _frame()
    with pytest.raises(DataError, match="same index"):
        series_inputs(df["y"], controls=df[["x"]].iloc[::-1], pre_period=("2015-01", "2016-12"),
                      post_period=("2017-01", "2018-04"))
    df["x"] = 1.0
    with pytest.raises(DataError, match="constant"):
        series_inputs(df, pre_period=("2015-01", "2016-12"), post_period=("2017-01", "2018-04"))


def test_check_option_lists_allowed_values():
    with pytest.raises(DesignError, match="'poisson'"):
        check_option("likelihood", "poison")


def test_fourier_terms_shapes_and_values():
    F = fourier_terms(24, (12, 6))
    assert F.shape == (24, 11)  # the sin term of harmonic 6 (period/2) is identically zero
    np.testing.assert_allclose(F[:, 0], np.cos(2 * np.pi * np.arange(24) / 12))
    D = fourier_terms(14, (7, "dummies"))
    assert D.shape == (14, 6) and D[1, 0] == 1 and D[0].sum() == 0
    with pytest.raises(DesignError, match="harmonics"):
        fourier_terms(10, (12, 7))


def test_forecast_random_walk_variance_grows_linearly():
    # Var(mu_{T+h}) = h * sigma^2 for a local level (sum of h independent innovations).
    S, H = 40000, 5
    post = {"level": np.zeros((S, 3)), "sigma_level": np.full(S, 0.5)}
    eta = forecast_eta(post, None, None, H, np.random.default_rng(1))
    np.testing.assert_allclose(eta.var(axis=0), 0.25 * np.arange(1, H + 1), rtol=0.05)


def test_forecast_local_linear_trend_mean_extrapolates_slope():
    S, H = 10, 4
    post = {"level": np.ones((S, 3)), "sigma_level": np.zeros(S), "slope_last": np.full(S, 2.0),
            "sigma_slope": np.zeros(S)}
    eta = forecast_eta(post, None, None, H, np.random.default_rng(0))
    np.testing.assert_allclose(eta[0], [3.0, 5.0, 7.0, 9.0])


def test_forecast_adds_regression_and_counts_are_non_negative():
    S = 2000
    post = {"level": np.zeros((S, 2)), "sigma_level": np.full(S, 0.1), "beta": np.ones((S, 1)),
            "phi": np.full(S, 0.2)}
    X = np.array([[1.0], [2.0], [3.0]])
    rng = np.random.default_rng(2)
    eta = forecast_eta(post, X, None, 3, rng)
    assert np.allclose(eta.mean(axis=0), [1, 2, 3], atol=0.02)
    for lik in ("poisson", "negative_binomial"):
        rate, draws = observe(eta, post, lik, np.zeros(3), rng)
        assert (draws >= 0).all() and (rate > 0).all()
        np.testing.assert_allclose(draws.mean(axis=0), rate.mean(axis=0), rtol=0.08)


def test_tail_probability_matches_causalimpact_formula():
    # R: min(sum(c(s, y) >= y), sum(c(s, y) <= y)) / (length(s) + 1)
    samples = np.arange(1.0, 10.0)  # 1..9
    assert tail_probability(2.5, samples) == pytest.approx(3 / 10)
    assert tail_probability(9.5, samples) == pytest.approx(1 / 10)
    assert tail_probability(5.0, samples) == pytest.approx(6 / 10)  # ties count on both sides


def test_impact_table_definitions():
    rng = np.random.default_rng(3)
    state = rng.normal(10, 0.1, (500, 4))
    samples = state + rng.normal(0, 1, state.shape)
    y = np.array([8.0, 9.0, 8.5, 9.5])
    t = impact_table(y, samples, state, 0.9)
    assert t.at["Average", "actual"] == pytest.approx(8.75)
    assert t.at["Cumulative", "actual"] == pytest.approx(35.0)
    assert t.at["Average", "pred"] == pytest.approx(state.mean())
    assert t.at["Average", "abs_effect"] == pytest.approx(8.75 - state.mean())
    assert t.at["Cumulative", "pred_sd"] == pytest.approx(samples.sum(axis=1).std(ddof=1))
    assert t.at["Average", "abs_effect_lower"] == pytest.approx(np.quantile(8.75 - samples.mean(axis=1), 0.05))
    rel = 35.0 / samples.sum(axis=1) - 1
    assert t.at["Average", "rel_effect"] == pytest.approx(rel.mean())
    assert t.at["Cumulative", "rel_effect"] == pytest.approx(rel.mean())
