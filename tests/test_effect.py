"""The Effect result shape: summary, export, JSON round trip, plot."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest

from utvardering import Effect


def _effect(**kwargs) -> Effect:
    path = pd.DataFrame(
        {"observed": [4.0, 3.0, 2.0], "counterfactual": [4.1, 4.2, 4.0],
         "effect": [-0.1, -1.2, -2.0], "low": [-1.0, -2.0, -3.0], "high": [0.8, -0.4, -1.0]},
        index=pd.PeriodIndex(["2018-09", "2018-10", "2018-11"], freq="M", name="time"),
    )
    base = dict(method="demo", estimate=-1.6, interval=(-2.5, -0.7), se=0.46, relative=-0.39,
                relative_interval=(-0.6, -0.17), p_value=0.004, path=path, outcome="shootings",
                n_treated=1, n_control=19, start="2018-10",
                diagnostics={"pre_rmspe": 0.42, "warnings": ["only one treated unit"]})
    base.update(kwargs)
    return Effect(**base)


def test_summary_is_returned_text():
    text = _effect().summary()
    assert text.startswith("demo — shootings (outcome units)")
    assert "Effect" in text and "[-2.5, -0.7]" in text and "-39.0%" in text
    assert "pre_rmspe 0.42" in text and "  - only one treated unit" in text
    assert str(_effect()) == text
    assert "<table>" in _effect()._repr_html_()


def test_to_frame_one_row_and_path():
    row = _effect().to_frame()
    assert row.shape == (1, 16)
    assert row.loc[0, "low"] == -2.5 and row.loc[0, "relative_high"] == -0.17
    path = _effect().to_frame(path=True)
    assert path["method"].unique().tolist() == ["demo"] and len(path) == 3


def test_json_round_trip():
    effect = _effect(prob=None, diagnostics={"r_hat": np.float64(1.01), "x": float("nan"), "warnings": []})
    text = effect.to_json()
    back = Effect.from_dict(json.loads(text))
    assert back.estimate == effect.estimate and back.interval == effect.interval
    assert back.relative_interval == effect.relative_interval
    pd.testing.assert_frame_equal(back.path, effect.path)
    assert back.diagnostics["x"] is None and back.diagnostics["r_hat"] == 1.01


@dataclass(repr=False)
class _WeightsEffect(Effect):
    weights: pd.Series | None = None
    idata: object | None = None
    _transient = ("idata",)


def test_subclass_round_trip_keeps_extras_and_drops_transient():
    weights = pd.Series([0.7, 0.3], index=pd.Index(["Göteborg", "Uppsala"], name="donor"), name="weight")
    effect = _WeightsEffect(**_effect().__dict__, weights=weights, idata=object())
    data = effect.to_dict()
    assert data["class"] == "_WeightsEffect" and "idata" not in data
    back = Effect.from_dict(json.loads(json.dumps(data, allow_nan=False)))
    assert isinstance(back, _WeightsEffect)
    pd.testing.assert_series_equal(back.weights, weights)


def test_event_time_path_and_nan_interval():
    path = pd.DataFrame({"effect": [0.1, 0.0, -0.5], "low": [-0.2, 0.0, -0.9], "high": [0.4, 0.0, -0.1]},
                        index=pd.Index([-2, -1, 0], name="event_time"))
    effect = Effect("event_study", -0.5, path=path)
    assert math.isnan(effect.interval[0])
    back = Effect.from_dict(json.loads(effect.to_json()))
    pd.testing.assert_frame_equal(back.path, path)
    assert isinstance(effect.plot(), matplotlib.figure.Figure)


def test_plot_returns_figure_with_two_panels():
    fig = _effect().plot()
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 2
    assert isinstance(Effect("x", 1.0, (0.0, 2.0)).plot(), matplotlib.figure.Figure)


def test_bad_level():
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        Effect("x", 1.0, level=95)


def test_timings_can_be_left_out_for_reproducible_exports():
    effect = _effect(diagnostics={"compile_seconds": 12.5, "cache_hit": False, "r_hat_max": 1.0, "warnings": []})
    assert "compile_seconds" in effect.to_dict()["diagnostics"]
    stable = effect.to_dict(timings=False)["diagnostics"]
    assert "compile_seconds" not in stable and "cache_hit" not in stable and stable["r_hat_max"] == 1.0
