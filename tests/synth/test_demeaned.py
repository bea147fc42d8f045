"""Demeaned synthetic control (``synthetic_control(..., demean=True)``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering import DesignError
from utvardering.synth._panel import SynthPanel
from utvardering.synth.adh import fit_study, synthetic_control
from utvardering.synth.result import SynthEffect

PER = 100_000


@pytest.fixture(scope="module")
def sluta_skjut():
    """The Sluta skjut design of analyses/sluta_skjut.toml on the bundled shootings world."""
    data = utv.datasets.load_dataset("shootings")
    return utv.Study(data, outcome="shootings", treated="Malmö", start="2018-10",
                     exposure="population", window=("2014-01", "2023-12"))


def analysis_demeaned_sc(study, *, random_state=None):
    """The demeaned SC as analyses/sluta_skjut.py computed it before it moved into the library
    (commit 1728662, ``demeaned_synthetic_control``): numbers only, warnings left out."""
    data = study.data.copy()
    rate = data[study.outcome] / data[study.exposure] * PER
    pre = data[study.time] < study.start
    means = rate[pre].groupby(data.loc[pre, study.unit]).mean()
    data["rate_net_of_pre_mean"] = rate - data[study.unit].map(means)
    inner = study.replace(data=data, outcome="rate_net_of_pre_mean", exposure=None, counts=False)
    fit = synthetic_control(inner, rate=False, random_state=random_state)
    (unit,) = study.treated
    shift = float(means[unit])
    for column in ("observed", "counterfactual"):
        fit.path[column] = fit.path[column] + shift
    post = list(study.post_times)
    cf = float(fit.path.loc[post, "counterfactual"].mean())
    fit.relative = fit.estimate / cf
    if np.all(np.isfinite(fit.interval)):
        fit.relative_interval = (fit.interval[0] / cf, fit.interval[1] / cf)
    pop = data[data[study.unit] == unit].set_index(study.time)[study.exposure].reindex(post)
    events = float((fit.path.loc[post, "effect"] * pop / PER).sum())
    fit.diagnostics.update(events_difference=events, events_prevented=-events,
                           treated_pre_mean=shift)
    return fit


def test_equals_the_former_analysis_function_on_sluta_skjut(sluta_skjut):
    old = analysis_demeaned_sc(sluta_skjut, random_state=1)
    new = synthetic_control(sluta_skjut, demean=True, random_state=1)
    assert new.estimate == pytest.approx(old.estimate, abs=1e-10)
    np.testing.assert_allclose(new.interval, old.interval, rtol=0, atol=1e-10)
    np.testing.assert_allclose(new.relative_interval, old.relative_interval, rtol=0, atol=1e-10)
    assert new.relative == pytest.approx(old.relative, abs=1e-10)
    assert new.p_value == pytest.approx(old.p_value, abs=1e-10)
    for column in old.path.columns:
        np.testing.assert_allclose(new.path[column], old.path[column], rtol=0, atol=1e-10)
    np.testing.assert_allclose(new.weights, old.weights, rtol=0, atol=1e-10)
    for key in ("events_difference", "events_prevented", "treated_pre_mean", "pre_rmspe"):
        assert new.diagnostics[key] == pytest.approx(old.diagnostics[key], abs=1e-10)
    # `utvardering run sluta_skjut` effects.json at commit 1728662, "synthetic control (demeaned)"
    assert new.estimate == pytest.approx(-0.5301003760034716, abs=1e-10)
    np.testing.assert_allclose(new.interval, (-2.259651163042222, -0.025901862152298737),
                               rtol=0, atol=1e-10)
    assert new.relative == pytest.approx(-0.3388664712677183, abs=1e-10)
    assert new.p_value == pytest.approx(0.03333333333333333, abs=1e-10)
    assert new.diagnostics["events_prevented"] == pytest.approx(117.88988722255024, abs=1e-10)



def test_demeaned_panel_removes_each_units_pre_period_mean(sluta_skjut):
    panel = SynthPanel.from_study(sluta_skjut)
    demeaned = panel.demeaned()
    pre = [t < sluta_skjut.start for t in panel.Y.columns]
    # every unit's pre-period mean is zero on the transformed panel ...
    np.testing.assert_allclose(demeaned.Y.loc[:, pre].mean(axis=1), 0.0, rtol=0, atol=1e-13)
    # ... the shift is the mean that was removed, and puts the panel back on its scale
    np.testing.assert_allclose(demeaned.shift, panel.Y.loc[:, pre].mean(axis=1), rtol=1e-14)
    np.testing.assert_allclose(demeaned.Y.add(demeaned.shift, axis=0), panel.Y, rtol=1e-14)
    # exposure, counts, rate and scale are those of the original panel
    assert demeaned.exposure is panel.exposure and demeaned.counts is panel.counts
    assert (demeaned.rate, demeaned.per, demeaned.scale) == (panel.rate, panel.per, panel.scale)
    assert panel.shift is None
    with pytest.raises(DesignError, match="already demeaned"):
        demeaned.demeaned()
    staggered = utv.Study(sluta_skjut.data, outcome="shootings", exposure="population",
                          starts={"Malmö": "2018-10", "Göteborg": "2019-06"})
    with pytest.raises(DesignError, match="one common start"):
        SynthPanel.from_study(staggered).demeaned()


def test_demeaned_fit_is_the_adh_fit_on_the_demeaned_panel(sluta_skjut):
    """demean=True is fit_study on SynthPanel.demeaned(), with the same numbers, to the last
    bit, as before it became a panel transform (values of the Study-with-an-extra-column
    implementation, commit cbe16a6)."""
    fit = synthetic_control(sluta_skjut, demean=True, random_state=1)
    direct = fit_study(sluta_skjut, predictors=None, optimize_periods=None, v=None, n_starts=6,
                       rate=True, per=PER, inference="conformal", random_state=1, level=0.95,
                       panel=SynthPanel.from_study(sluta_skjut).demeaned())
    assert direct.to_dict() == fit.to_dict()
    assert fit.estimate == -0.5301003760034716
    assert fit.interval == (-2.259651163042222, -0.025901862152298737)
    assert fit.relative == -0.3388664712677183
    assert fit.relative_interval == (-1.4444811786194593, -0.016557755897073458)
    assert fit.p_value == 0.03333333333333333
    assert fit.events_prevented == 117.88988722255024
    assert fit.events_prevented_interval == (5.76035737044741, 502.52750768018217)
    assert fit.rate_ratio == 0.6611287319566885
    assert fit.rate_ratio_interval == (0.31398138307239765, 0.975566895831447)
    assert fit.diagnostics["pre_rmspe"] == 0.8754825119645556
    assert fit.diagnostics["treated_pre_mean"] == 1.5972732267999081
    assert fit.weights["Borås"] == 0.3107810400822698
    assert sum(fit.path["counterfactual"].tolist()) == 189.59762216302875
    # the refits work on the demeaned panel: spec["Y"] is it, spec["shift"] the treated mean
    assert fit.spec["demean"] is True and fit.spec["shift"] == 1.5972732267999081
    pre = [t < sluta_skjut.start for t in fit.spec["Y"].columns]
    assert abs(fit.spec["Y"].loc["Malmö", pre].mean()) < 1e-13

def level_shifted_panel(effect: float = -2.0, noise: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Donors a_j + f_t + noise; the treated unit has the same dynamics 5 above every donor."""
    rng = np.random.default_rng(seed)
    n_donors, n_times = 10, 40
    f = np.cumsum(rng.normal(size=n_times))
    levels = rng.uniform(10, 20, size=n_donors)
    y = levels[:, None] + f + rng.normal(scale=noise, size=(n_donors, n_times))
    treated = levels.max() + 5 + f + rng.normal(scale=noise, size=n_times)
    treated[30:] += effect
    rows = [("t", 2000 + s, treated[s]) for s in range(n_times)]
    rows += [(f"d{j}", 2000 + s, y[j, s]) for j in range(n_donors) for s in range(n_times)]
    return pd.DataFrame(rows, columns=["unit", "time", "y"])


def test_recovers_a_constant_level_gap_that_levels_sc_cannot():
    panel = level_shifted_panel(effect=-2.0)
    study = utv.Study(panel, outcome="y", treated="t", start=2030)
    levels = synthetic_control(study, inference=None)
    demeaned = synthetic_control(study, demean=True, inference=None)
    # true effect -2; noise sd 0.05 per unit-period, so the demeaned fit is within a few 0.01
    assert demeaned.estimate == pytest.approx(-2.0, abs=0.05)
    assert levels.estimate - (-2.0) > 4.0  # biased by about the level gap of 5 (measured 5.03)
    assert any("demean=True" in w for w in levels.warnings)
    assert not any("convex hull" in w for w in demeaned.warnings)
    # the effect path is the same on both scales; observed is the data
    observed = panel[panel.unit == "t"].set_index("time")["y"]
    np.testing.assert_allclose(demeaned.path["observed"], observed.to_numpy(), rtol=0, atol=1e-12)
    means = panel[panel.time < 2030].groupby("unit")["y"].mean()
    wide = panel.pivot(index="unit", columns="time", values="y")
    tilde = wide.sub(means, axis=0)
    w = demeaned.weights
    cf = means["t"] + w.to_numpy() @ tilde.loc[w.index].to_numpy()
    np.testing.assert_allclose(demeaned.path["counterfactual"], cf, rtol=0, atol=1e-12)
    np.testing.assert_allclose(demeaned.path["effect"],
                               demeaned.path["observed"] - demeaned.path["counterfactual"],
                               rtol=0, atol=1e-12)
    post_cf = demeaned.path.loc[2030:, "counterfactual"].mean()
    assert demeaned.relative == pytest.approx(demeaned.estimate / post_cf, rel=1e-12)
    d = demeaned.diagnostics
    assert d["demean"] is True and demeaned.params["demean"] is True
    assert d["treated_pre_mean"] == pytest.approx(means["t"], abs=1e-12)
    assert d["pre_means"] == pytest.approx({str(u): m for u, m in means.items()}, abs=1e-12)
    assert demeaned.unit_effects.loc["t", "counterfactual"] == pytest.approx(post_cf, abs=1e-12)
    assert levels.params["demean"] is False


def test_inference_on_the_demeaned_panel():
    panel = level_shifted_panel(effect=-2.0, noise=0.3, seed=1)
    fit = synthetic_control(panel, outcome="y", treated="t", start=2030, demean=True,
                            random_state=0)
    assert fit.interval[0] < -2.0 < fit.interval[1]
    assert fit.p_value < 0.1
    assert fit.relative_interval[0] == pytest.approx(
        fit.interval[0] / fit.path.loc[2030:, "counterfactual"].mean())
    placebo = fit.placebo_in_space()
    assert placebo.table.index[0] == "t" and len(placebo.table) == 11
    assert placebo.table.loc["t", "estimate"] == pytest.approx(fit.estimate, abs=1e-12)
    loo = fit.leave_one_out()
    # refitted counterfactuals are on the original scale, near the original one
    gap = (loo.counterfactuals.sub(loo.counterfactuals["(none)"], axis=0)).abs().max().max()
    assert gap < 1.0
    fake = fit.placebo_in_time(2025)
    assert fake.diagnostics["demean"] is True
    assert fake.diagnostics["treated_pre_mean"] == pytest.approx(
        panel[(panel.unit == "t") & (panel.time < 2025)]["y"].mean(), abs=1e-12)
    assert abs(fake.estimate) < 0.5  # no effect before 2030 (noise sd 0.3)


def test_rates_events_and_round_trip(sluta_skjut):
    fit = synthetic_control(sluta_skjut, demean=True, inference=None)
    assert fit.scale == "rate per 100,000" and fit.outcome == "shootings"
    data = sluta_skjut.data
    post = data[(data.unit == "Malmö") & (data.time >= sluta_skjut.start)].set_index("time")
    gap = fit.path.loc[post.index, "effect"]
    assert fit.diagnostics["events_difference"] == pytest.approx(
        float((gap * post["population"] / 1e5).sum()), rel=1e-12)
    rate = post["shootings"] / post["population"] * 1e5
    np.testing.assert_allclose(fit.path.loc[post.index, "observed"], rate, rtol=1e-12)
    back = utv.Effect.from_dict(json.loads(json.dumps(fit.to_dict())))
    assert isinstance(back, SynthEffect)
    pd.testing.assert_frame_equal(back.path, fit.path)
    assert back.diagnostics["pre_means"] == fit.diagnostics["pre_means"]


def test_design_errors():
    panel = level_shifted_panel()
    with pytest.raises(DesignError, match="outcome path only"):
        synthetic_control(panel, outcome="y", treated="t", start=2030, demean=True,
                          predictors=[("y", [2005], "mean")])
    with pytest.raises(DesignError, match="common start"):
        synthetic_control(panel, outcome="y", starts={"t": 2030, "d0": 2032}, demean=True)
