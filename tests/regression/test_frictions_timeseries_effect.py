"""Regression tests for the newcomer frictions (shared/reviews/newcomer-frictions.md) in
causal_impact, compare() and the Effect's JSON round trip: F2, F7, F9, F12 and F15 (part)."""

from __future__ import annotations

import json
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering import DesignError, UtvarderingWarning


def _sim(n: int = 100, start: int = 70, effect: float = 10.0) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x1 = 100 + np.cumsum(rng.normal(0, 1, n))
    y = 1.2 * x1 + rng.normal(0, 1, n)
    y[start:] += effect
    return pd.DataFrame({"y": y, "x1": x1})


def _comparison() -> pd.DataFrame:
    path = resources.files("utvardering") / "data/files/causalimpact_comparison.csv"
    with resources.as_file(path) as file:
        return pd.read_csv(file, parse_dates=["DATE"]).set_index("DATE")


def test_f2_causal_impact_refuses_period_labels_not_in_the_data():
    sim = _sim()
    # R-style 1-based periods on a 0-based index: 100 is not a row label
    with pytest.raises(DesignError, match=r"100 is not a label.*counts rows from 0"):
        utv.causal_impact(sim, pre_period=(1, 70), post_period=(71, 100), backend="mle")
    with pytest.raises(DesignError, match="5000 is not a label"):
        utv.causal_impact(sim, pre_period=(0, 69), post_period=(70, 5000), backend="mle")
    with pytest.raises(DesignError, match="2030-01-01 is not a label"):
        utv.causal_impact(_comparison(), pre_period=("2019-04-16", "2019-07-14"),
                          post_period=("2019-07-15", "2030-01-01"), backend="mle")
    fit = utv.causal_impact(sim, pre_period=(0, 69), post_period=(70, 99), backend="mle",
                            random_state=1)
    assert fit.estimate == pytest.approx(10.0, abs=1.5)


def test_f2_causal_impact_says_when_leading_rows_are_left_out():
    with pytest.warns(utv.DataWarning, match="the 1 earlier row"):
        utv.causal_impact(_sim(), pre_period=(1, 69), post_period=(70, 99), backend="mle")


def test_f7_compare_carries_each_effects_warnings():
    quiet = utv.Effect(method="a", estimate=1.0, interval=(0.5, 1.5), p_value=0.01)
    loud = utv.Effect(method="b", estimate=1.0, interval=(0.9, 1.1), p_value=0.0,
                      diagnostics={"warnings": ["cluster SEs with one treated cluster are invalid"]})
    table = utv.compare({"A": quiet, "B": loud})
    assert list(table["n_warnings"]) == [0, 1]
    assert table.loc[1, "warnings"] == "cluster SEs with one treated cluster are invalid"
    fig = utv.plot_comparison({"A": quiet, "B": loud})
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["A", "B *"][::-1] or labels == ["A", "B *"]
    assert any("estimator warned" in t.get_text() for t in fig.texts)


def test_f9_causal_impact_reference_data_quiet_at_defaults_and_warnings_point_at_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = utv.causal_impact(_comparison(), pre_period=("2019-04-16", "2019-07-14"),
                                post_period=("2019-07-15", "2019-08-01"), random_state=11)
    ours = [w for w in caught if issubclass(w.category, UtvarderingWarning)]
    assert ours == []
    # the conservative calibration is still reported, as a note
    assert any("too wide" in note for note in fit.diagnostics["notes"])
    # a real problem warns from the caller's line with a category of the hierarchy
    sim = _sim()
    sim["y"] = np.abs(sim["y"] - sim["y"].mean()) / 10  # non-negative, noisy: negative band
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        utv.causal_impact(sim, pre_period=(0, 69), post_period=(70, 99), backend="mle")
    design = [w for w in caught if issubclass(w.category, utv.DesignWarning)]
    assert design and all(w.filename == __file__ for w in design)


@pytest.mark.slow
def test_f9_prop99_causal_impact_converges_at_defaults():
    study = _prop99_study()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = utv.causal_impact(study, random_state=1)
    assert not [w for w in caught if issubclass(w.category, utv.ConvergenceWarning)]
    assert fit.diagnostics["r_hat_max"] <= 1.01
    assert fit.diagnostics["draws"] > 1000  # extended because 1,000 draws did not converge


def _prop99_study() -> utv.Study:
    path = resources.files("utvardering") / "data/files/prop99.csv"
    with resources.as_file(path) as file:
        prop99 = pd.read_csv(file)
    return utv.Study(prop99, outcome="PacksPerCapita", unit="State", time="Year",
                     treated="California", start=1989)


def test_f12_effect_json_round_trip_keeps_vcov_labels_and_has_from_json():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = utv.twfe(_prop99_study())
    assert fit.vcov is not None and fit.vcov.index.name is None
    labels = list(fit.vcov.index)
    back = utv.Effect.from_json(fit.to_json())
    assert type(back) is type(fit)
    assert list(back.vcov.index) == labels and back.vcov.index.name is None
    assert np.array_equal(back.vcov.to_numpy(), fit.vcov.to_numpy())
    effect = utv.Effect(method="m", estimate=1.0, interval=(0.0, 2.0),
                        diagnostics={"sample_seconds": 1.23, "r_hat": 1.0})
    assert "sample_seconds" not in json.loads(effect.to_json())["diagnostics"]
    assert "sample_seconds" in json.loads(effect.to_json(timings=True))["diagnostics"]
    assert effect.to_json() == utv.Effect.from_json(effect.to_json()).to_json()


def test_f15_causal_impact_names_a_non_numeric_column():
    frame = _comparison().reset_index()[["CHANGED", "DATE", "NOT_CHANGED_1"]]
    with pytest.raises(utv.DataError, match="control column 'DATE' is not numeric"):
        utv.causal_impact(frame, pre_period=(0, 89), post_period=(90, 107), backend="mle")


def test_f14_its_figure_has_fitted_segments_and_the_datas_time_label():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    index = pd.period_range("2015-01", periods=60, freq="M", name="month")
    calls = pd.Series(50 + 0.2 * np.arange(60) + rng.normal(0, 2, 60) - 8 * (np.arange(60) >= 40),
                      index=index, name="calls")
    fit = utv.interrupted_time_series(calls, pre_period=("2015-01", "2018-04"),
                                      post_period=("2018-05", "2019-12"))
    figure = fit.plot()
    top = figure.axes[0]
    fitted = [line for line in top.get_lines() if line.get_color() == "C1"]
    assert len(fitted) == 2  # one line per segment: the break is drawn, not bridged
    assert len(fitted[0].get_xdata()) == 40 and len(fitted[1].get_xdata()) == 20
    assert figure.axes[-1].get_xlabel() == "month"
    plt.close(figure)


def test_f10_time_series_estimators_speak_the_one_vocabulary():
    sim = _sim()
    new = utv.interrupted_time_series(sim[["y"]], pre_period=(0, 69), post_period=(70, 99),
                                      likelihood="gaussian", vcov="iid")
    with pytest.warns(DeprecationWarning, match="errors= is renamed vcov="):
        old = utv.interrupted_time_series(study_or_series=sim[["y"]], pre_period=(0, 69),
                                          post_period=(70, 99), family="gaussian", errors="iid")
    assert old.estimate == new.estimate and old.se == new.se
    with pytest.raises(DesignError, match="vcov='robust' is not an option"):
        utv.interrupted_time_series(sim[["y"]], pre_period=(0, 69), post_period=(70, 99),
                                    vcov="robust")
    with pytest.warns(DeprecationWarning, match="study_or_series= is renamed study="):
        utv.causal_impact(study_or_series=sim, pre_period=(0, 69), post_period=(70, 99),
                          backend="mle")


def test_f16_load_castle_documents_the_adoption_year_mismatch():
    castle = utv.datasets.load_castle()
    first_post = castle.loc[castle["post"] == 1].groupby("sid")["year"].min()
    first_lag0 = castle.loc[castle["lag0"] == 1].groupby("sid")["year"].min()
    gap = (first_post - first_lag0).dropna().value_counts().to_dict()
    assert gap == {1: 19, 2: 2} and "effyear" not in castle.columns
    doc = utv.datasets.load_castle.__doc__
    assert "19 of the 21 adopting states" in doc and "effyear" in doc


def test_f15_import_is_lazy_and_every_public_name_resolves():
    import subprocess
    import sys

    code = ("import sys, utvardering; heavy = [m for m in ('pandas', 'scipy', 'numba', 'pymc', "
            "'matplotlib', 'statsmodels') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # `import utvardering` costs ~0.01 s, not 1.2-1.5 s
    import pkgutil

    submodules = {m.name for m in pkgutil.iter_modules(utv.__path__)}
    # a public function named like a submodule would be shadowed by it once that is imported
    assert {n for n in utv.__all__ if n in submodules} == {"datasets", "did"}
    for name in utv.__all__:
        assert getattr(utv, name) is not None, name
    import utvardering.did as did_package

    assert did_package.twfe is utv.twfe
    assert set(utv.list_estimators()["name"]) >= {"twfe", "synthetic_control", "causal_impact"}


def test_f14_two_by_two_figure_is_labelled_and_honest_did_marks_cut_intervals():
    import matplotlib.pyplot as plt

    effect = utv.Effect(method="did", estimate=2.75, interval=(0.1, 5.4), level=0.95,
                        scale="FTE employees")
    figure = effect.plot()
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.get_yticklabels()] == ["did (95 %)"]
    assert axis.get_xlabel() == "effect (FTE employees)"
    plt.close(figure)
    betahat = np.array([0.01, -0.02, 0.015, 0.3, 0.25])
    sigma = np.diag([0.001] * 5)
    sensitivity = utv.honest_did(betahat, sigma, num_pre_periods=3, num_post_periods=2,
                                 method="relative_magnitudes", m_values=[0.5, 8])
    cut = sensitivity.path.loc[8.0]
    assert bool(cut["high_at_grid_end"]) and not bool(sensitivity.path.loc[0.5, "high_at_grid_end"])
    figure = sensitivity.plot()
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert "reaches the θ grid's end (interval cut)" in labels
    plt.close(figure)


def test_report_tables_show_unbounded_interval_ends():
    """An unbounded randomization interval (R3) reaches the report as ∞, not a crash."""
    from utvardering.i18n import get_language
    from utvardering.report.document import format_cell

    assert format_cell(float("inf")) == "∞"
    assert format_cell(float("-inf"), get_language("sv")) == "−∞"


def test_f14_one_event_study_style_and_a_per_cohort_att_gt_figure():
    import matplotlib.pyplot as plt

    mpdta = utv.datasets.load_mpdta()
    study = utv.Study(mpdta, outcome="lemp", unit="countyreal", time="year",
                      cohort="first.treat", min_pre_periods=1)
    cs = utv.callaway_santanna(study)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = utv.event_study(mpdta, outcome="lemp", unit="countyreal", time="year",
                             cohort="first.treat")
    styles = []
    for effect in (cs, cs.aggregate("dynamic"), es):
        figure = effect.plot()
        styles.append(sorted(figure.axes[0].get_legend_handles_labels()[1]))
        assert figure.axes[0].get_xlabel() == "periods since treatment (event time)"
        plt.close(figure)
    assert styles[0] == styles[1] == styles[2] == ["post-treatment", "pre-treatment"]
    figure = cs.plot_att_gt()
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["cohort 2004", "cohort 2006", "cohort 2007"]
    plt.close(figure)
