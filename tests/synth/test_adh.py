"""Classic (ADH) synthetic control: behaviour, options, errors, serialisation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from utvardering import DataError, DesignError, Effect, Study, get_estimator
from utvardering.synth.adh import synthetic_control
from utvardering.synth.result import SynthEffect


def factor_panel(n_units: int = 12, n_times: int = 30, start: int = 20, effect: float = 0.0,
                 noise: float = 0.5, seed: int = 0, treated_weights=None) -> pd.DataFrame:
    """Two-factor panel; unit u0 is a convex mix of donors plus ``effect`` from ``start``."""
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(size=(n_times, 2)), axis=0)
    load = rng.uniform(0.5, 2.0, size=(n_units, 2))
    level = rng.uniform(20, 40, size=n_units)
    if treated_weights is None:
        treated_weights = np.r_[0.5, 0.3, 0.2, np.zeros(n_units - 4)]
    load[0] = treated_weights @ load[1:]
    level[0] = treated_weights @ level[1:]
    y = level[:, None] + load @ f.T + rng.normal(scale=noise, size=(n_units, n_times))
    y[0, start:] += effect
    x = load[:, 0] + rng.normal(scale=0.01, size=n_units)
    rows = [(f"u{i}", 2000 + t, y[i, t], x[i], 1000 + 10 * i)
            for i in range(n_units) for t in range(n_times)]
    return pd.DataFrame(rows, columns=["unit", "time", "y", "x", "pop"])


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return factor_panel(effect=-5.0, seed=1)


@pytest.fixture(scope="module")
def study(panel) -> Study:
    return Study(panel, outcome="y", treated="u0", start=2020, covariates=["x"])


PRED = [("x", range(2010, 2020), "mean"), ("y", [2005], "mean"), ("y", [2015], "mean"),
        ("y", range(2016, 2020), "mean")]


def test_outcome_only_fit(study):
    fit = synthetic_control(study, inference=None)
    assert isinstance(fit, SynthEffect)
    assert fit.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert (fit.weights >= 0).all()
    assert fit.v_weights is None and fit.diagnostics["v_method"] == "outcome"
    path = fit.path
    assert list(path.columns) == ["observed", "counterfactual", "effect"]
    np.testing.assert_allclose(path["effect"], path["observed"] - path["counterfactual"])
    assert fit.estimate == pytest.approx(path.loc[2020:, "effect"].mean(), abs=1e-12)
    assert fit.pre_rmspe == pytest.approx(np.sqrt((path.loc[:2019, "effect"] ** 2).mean()))
    # true effect -5, noise 0.5
    assert fit.estimate == pytest.approx(-5.0, abs=1.0)
    assert fit.p_value is None and np.isnan(fit.interval[0])


def test_nested_fit_predictors_and_balance(study):
    fit = synthetic_control(study, predictors=PRED, random_state=3)
    assert fit.diagnostics["v_method"] == "nested"
    assert list(fit.v_weights.index) == ["x mean 2010–2019", "y 2005", "y 2015", "y mean 2016–2019"]
    assert fit.v_weights.sum() == pytest.approx(1.0)
    bal = fit.predictor_balance
    assert list(bal.columns) == ["treated", "synthetic", "donor_mean", "v"]
    assert bal.loc["y 2015", "treated"] == pytest.approx(study.wide().loc["u0", 2015])
    info = fit.diagnostics["optimizer"]["u0"]
    assert len(info["start_losses"]) == info["n_starts"]
    # the reported loss is recomputed by the cold solver at the best V (agrees to round-off)
    assert fit.diagnostics["v_loss"] <= min(info["start_losses"]) * (1 + 1e-6)
    # the outcome-only fit is the lower bound of every V
    lower = synthetic_control(study, inference=None).diagnostics["v_loss"]
    assert lower <= fit.diagnostics["v_loss"] + 1e-12
    # conformal inference by default
    assert 0 < fit.p_value <= 1 and fit.interval[0] < fit.estimate < fit.interval[1]
    assert {"low", "high"} <= set(fit.path.columns)
    assert fit.path.loc[:2019, "low"].isna().all() and fit.path.loc[2020:, "low"].notna().all()


def test_same_seed_same_result_and_data_untouched(panel, study):
    before = panel.copy()
    a = synthetic_control(study, predictors=PRED, random_state=7, inference=None)
    b = synthetic_control(study, predictors=PRED, random_state=7, inference=None)
    pd.testing.assert_series_equal(a.weights, b.weights)
    pd.testing.assert_frame_equal(panel, before)


def test_v_choices_and_reuse(study):
    first = synthetic_control(study, predictors=PRED, random_state=0, inference=None)
    again = synthetic_control(study, predictors=PRED, v=first.v_weights, inference=None)
    assert again.diagnostics["v_method"] == "given"
    np.testing.assert_allclose(again.weights, first.weights, atol=1e-8)
    by_array = synthetic_control(study, predictors=PRED, v=[1, 1, 1, 1], inference=None)
    assert by_array.v_weights.tolist() == [0.25] * 4
    reg = synthetic_control(study, predictors=PRED, v="regression", inference=None)
    assert reg.diagnostics["v_method"] == "regression"
    with pytest.raises(DesignError, match="not one of"):
        synthetic_control(study, predictors=PRED, v="nestd")
    with pytest.raises(DesignError, match="not predictors of this fit"):
        synthetic_control(study, predictors=PRED, v={"income": 1.0})
    with pytest.raises(DesignError, match="4 predictors"):
        synthetic_control(study, predictors=PRED, v=[1, 2])
    with pytest.raises(DesignError, match="predictors= is not given"):
        synthetic_control(study, v="nested")
    outcome = synthetic_control(study, predictors=PRED, v="outcome", inference=None)
    assert outcome.v_weights is None and outcome.diagnostics["v_method"] == "outcome"


def test_predictor_errors(study, panel):
    with pytest.raises(DesignError, match="not in the study data"):
        synthetic_control(study, predictors=[("income", [2010], "mean")])
    with pytest.raises(DesignError, match="not before the start"):
        synthetic_control(study, predictors=[("y", [2019, 2020], "mean")])
    with pytest.raises(DesignError, match="aggregation"):
        synthetic_control(study, predictors=[("y", [2010], "average")])
    with pytest.raises(DesignError, match="not in the panel"):
        synthetic_control(study, predictors=[("y", [1990], "mean")])
    gappy = panel.copy()
    gappy.loc[(gappy.unit == "u3") & (gappy.time < 2012), "x"] = np.nan
    s = Study(gappy, outcome="y", treated="u0", start=2020, covariates=["x"])
    with pytest.raises(DataError, match="u3"):
        synthetic_control(s, predictors=[("x", range(2000, 2012), "mean")])
    # available periods are averaged, like Synth
    fit = synthetic_control(s, predictors=[("x", range(2000, 2015), "mean"), ("y", [2019])],
                            inference=None, random_state=0)
    expected = gappy[(gappy.unit == "u3") & gappy.time.between(2012, 2014)].x.mean()
    X = fit.predictor_balance
    assert X.loc["x mean 2000–2014", "donor_mean"] == pytest.approx(
        pd.Series({u: (expected if u == "u3" else gappy[(gappy.unit == u) & (gappy.time < 2015)].x.mean())
                   for u in s.donors}).mean())


def test_dataframe_input_and_registry(panel):
    fit = synthetic_control(panel, outcome="y", treated="u0", start=2020, inference=None)
    assert fit.n_treated == 1 and fit.n_control == 11
    assert get_estimator("synthetic_control").function is synthetic_control
    with pytest.raises(DesignError, match="Study and also"):
        synthetic_control(Study(panel, outcome="y", treated="u0", start=2020), outcome="y")


def test_round_trip(study):
    fit = synthetic_control(study, predictors=PRED, random_state=0)
    text = json.dumps(fit.to_dict(), allow_nan=False)
    back = Effect.from_dict(json.loads(text))
    assert isinstance(back, SynthEffect)
    pd.testing.assert_series_equal(back.weights, fit.weights, check_names=False)
    pd.testing.assert_series_equal(back.v_weights, fit.v_weights, check_names=False)
    pd.testing.assert_frame_equal(back.predictor_balance, fit.predictor_balance)
    pd.testing.assert_frame_equal(back.path, fit.path)
    assert back.pre_rmspe == fit.pre_rmspe and back.estimate == fit.estimate
    with pytest.raises(DesignError, match="rebuilt from a dict"):
        back.placebo_in_space()


def test_warnings_poor_fit_and_concentration():
    panel = factor_panel(seed=2)
    panel.loc[panel.unit == "u0", "y"] += 100  # above every donor
    fit = synthetic_control(panel, outcome="y", treated="u0", start=2020, inference=None)
    text = " ".join(fit.warnings)
    assert "outside the donors' convex hull" in text
    assert "poor pre-period fit" in text
    assert "concentrate on one donor" in text


def test_several_treated_units_and_staggered():
    panel = factor_panel(seed=4, effect=-3.0)
    panel.loc[(panel.unit == "u11") & (panel.time >= 2020), "y"] -= 3.0
    fit = synthetic_control(panel, outcome="y", treated=["u0", "u11"], start=2020, inference=None)
    assert fit.n_treated == 2
    assert list(fit.unit_weights.columns) == ["u0", "u11"]
    assert fit.estimate == pytest.approx(fit.unit_effects["estimate"].mean())
    assert fit.p_value is None and "inference" not in fit.diagnostics
    with_inf = synthetic_control(panel, outcome="y", treated=["u0", "u11"], start=2020)
    assert with_inf.p_value is None and "one treated unit" in with_inf.diagnostics["inference"]
    stag = synthetic_control(panel, outcome="y", starts={"u0": 2020, "u11": 2022}, inference=None)
    assert stag.path.index.name == "event_time"
    assert stag.unit_effects.loc["u11", "start"] == "2022"


def test_rates_and_events():
    panel = factor_panel(seed=5, effect=-2.0)
    panel["count"] = np.round((panel["y"] + 100) * panel["pop"] / 1000).astype(int)
    s = Study(panel, outcome="count", treated="u0", start=2020, exposure="pop")
    fit = synthetic_control(s, inference=None)
    assert fit.scale == "rate per 100,000"
    # events: gap in rate × population / 100,000 summed over the post-period
    pop = panel[(panel.unit == "u0") & (panel.time >= 2020)]["pop"].to_numpy()
    gap = fit.path.loc[2020:, "effect"].to_numpy()
    assert fit.diagnostics["events_difference"] == pytest.approx(float((gap * pop / 1e5).sum()))
    assert fit.diagnostics["events_prevented"] == -fit.diagnostics["events_difference"]
    counts = synthetic_control(s, rate=False, inference=None)
    assert counts.scale == "outcome units"
    assert counts.diagnostics["events_difference"] == pytest.approx(
        counts.path.loc[2020:, "effect"].sum())
    with pytest.raises(DesignError, match="exposure"):
        synthetic_control(Study(panel, outcome="y", treated="u0", start=2020), rate=True)


def test_plots(study):
    import matplotlib.pyplot as plt

    fit = synthetic_control(study, predictors=PRED, random_state=0)
    assert fit.plot().axes and fit.plot(kind="weights").axes
    with pytest.raises(ValueError, match="kind"):
        fit.plot(kind="pie")
    plt.close("all")


def test_hull_warning_uses_pre_period_means_for_noisy_donors():
    """Noisy small donors exceed the treated unit in most single months, but no donor's
    pre-period mean reaches the treated unit's, so no convex combination matches its level
    (the bundled Sluta skjut world: Malmö's monthly rate is above every donor city's mean)."""
    rng = np.random.default_rng(5)
    n_donors, n_times = 8, 40
    rows = [("t", 2000 + s, 12.0 + rng.normal(scale=0.3)) for s in range(n_times)]
    for j in range(n_donors):
        rows += [(f"d{j}", 2000 + s, 8.0 + j * 0.2 + rng.normal(scale=4.0))
                 for s in range(n_times)]
    panel = pd.DataFrame(rows, columns=["unit", "time", "y"])
    fit = synthetic_control(panel, outcome="y", treated="t", start=2030, inference=None)
    pre = panel[panel.time < 2030]
    above_max = (pre[pre.unit == "t"].set_index("time").y
                 > pre[pre.unit != "t"].groupby("time").y.max()).mean()
    assert above_max < 0.5  # the month-by-month check alone would stay silent
    assert any("pre-period mean" in w and "above every donor" in w for w in fit.warnings)


def test_conformal_average_effect_in_diagnostics():
    fit = synthetic_control(factor_panel(effect=-5.0, seed=1, n_times=60, start=55),
                            outcome="y", treated="u0", start=2055)
    avg = fit.diagnostics["conformal_average"]
    assert avg["n_blocks"] == 12  # 55 pre-periods give 11 blocks of 5, plus the post block
    assert 0.0 < avg["p_value"] <= 1.0
