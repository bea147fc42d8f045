"""Triangulation table and forest plot."""

from __future__ import annotations

import matplotlib.figure
import pandas as pd
import pytest

from utvardering import Effect
from utvardering.triangulation import compare, plot_comparison


def _effects():
    return [
        Effect("synthetic_control", -1.5, (-2.5, -0.4), p_value=0.03, relative=-0.35,
               relative_interval=(-0.5, -0.1)),
        Effect("poisson_did", -0.4, (-0.6, -0.2), scale="log points", p_value=0.001, relative=-0.33,
               relative_interval=(-0.45, -0.18)),
        Effect("synthetic_control", -1.1, (-2.0, 0.2), p_value=0.1),
    ]


def test_compare_table_rows_and_labels():
    table = compare(_effects(), truth=-1.2)
    assert table["label"].tolist() == ["synthetic_control", "poisson_did", "synthetic_control (2)"]
    assert table.loc[1, "scale"] == "log points"
    assert table["covers_truth"].tolist() == [True, False, True]


def test_compare_mapping_and_truth_per_label():
    table = compare({"SC": _effects()[0], "PPML": _effects()[1]}, truth={"SC": -3.0})
    assert not table.loc[0, "covers_truth"]
    assert pd.isna(table.loc[1, "truth"]) and pd.isna(table.loc[1, "covers_truth"])
    with pytest.raises(TypeError, match="compare\\(\\) takes Effects; 'x' is a float"):
        compare({"x": 1.0})


def test_forest_plot():
    fig = plot_comparison(_effects(), relative=True, truth=-0.3)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "synthetic_control", "poisson_did", "synthetic_control (2)"]
