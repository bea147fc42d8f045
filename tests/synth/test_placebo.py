"""Placebo-in-space, placebo-in-time, leave-one-out; slow recovery of bias and test size."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from utvardering import DesignError, Study
from utvardering.synth.adh import synthetic_control
from utvardering.synth.robustness import rmspe_ratio_pvalue

import budget

# the factor-model simulator lives in test_adh.py (tests run in importlib mode, no packages)
_spec = importlib.util.spec_from_file_location("_synth_test_adh", Path(__file__).with_name("test_adh.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
factor_panel = _mod.factor_panel


@pytest.fixture(scope="module")
def fit():
    panel = factor_panel(n_units=10, effect=-6.0, seed=11)
    study = Study(panel, outcome="y", treated="u0", start=2020, covariates=["x"])
    return synthetic_control(study, inference=None)


def test_rmspe_ratio_pvalue():
    assert rmspe_ratio_pvalue(10.0, np.arange(1.0, 39.0) / 10) == pytest.approx(1 / 39)
    assert rmspe_ratio_pvalue(1.0, np.array([2.0, 0.5, 1.0])) == pytest.approx(3 / 4)  # ties count


def test_placebo_in_space(fit):
    pl = fit.placebo_in_space()
    t = pl.table
    assert list(t.index) == ["u0"] + [f"u{i}" for i in range(1, 10)]
    assert t["treated"].sum() == 1
    # the treated refit reproduces the fit
    assert t.loc["u0", "estimate"] == pytest.approx(fit.estimate, abs=1e-10)
    assert t.loc["u0", "pre_rmspe"] == pytest.approx(fit.pre_rmspe, abs=1e-10)
    expected = (1 + (t["ratio"].iloc[1:] >= t["ratio"].iloc[0]).sum()) / 10
    assert pl.p_value == pytest.approx(expected)
    assert pl.p_value == pytest.approx(0.1)  # effect −6 against noise 0.5: the largest ratio
    np.testing.assert_allclose(pl.gaps["u0"], fit.path["effect"])
    # dropping placebos with a much worse pre-fit
    strict = fit.placebo_in_space(max_pre_mspe_ratio=1.0)
    kept = strict.table["kept"]
    assert kept.iloc[0]
    assert kept.sum() == 1 + (t["pre_rmspe"].iloc[1:] ** 2 <= t["pre_rmspe"].iloc[0] ** 2).sum()
    assert strict.p_value == pytest.approx(1 / kept.sum())
    # parallel workers give the same numbers
    par = fit.placebo_in_space(n_jobs=2)
    pd.testing.assert_frame_equal(par.table, t)


def test_placebo_in_time_and_leave_one_out(fit):
    fake = fit.placebo_in_time(2014)
    assert fake.start == "2014"
    assert fake.path.index.max() == 2019  # only data before the real start
    assert abs(fake.estimate) < 1.0  # no effect before the real start (noise 0.5)
    with pytest.raises(DesignError, match="before the real start"):
        fit.placebo_in_time(2022)
    loo = fit.leave_one_out()
    positive = fit.weights[fit.weights > 1e-6]
    assert list(loo.table.index) == ["(none)", *positive.sort_values(ascending=False).index]
    assert loo.table.loc["(none)", "estimate"] == fit.estimate
    assert set(loo.counterfactuals.columns) == set(loo.table.index)
    assert (loo.table["estimate"].iloc[1:] < -3).all()  # robust to dropping any donor


def test_placebo_in_time_restricts_predictors():
    panel = factor_panel(n_units=8, seed=3)
    study = Study(panel, outcome="y", treated="u0", start=2020, covariates=["x"])
    fit = synthetic_control(study, predictors=[("x", range(2010, 2020)), ("y", [2018]),
                                               ("y", [2005])], random_state=0, inference=None)
    fake = fit.placebo_in_time(2015)
    text = " ".join(fake.warnings)
    assert "restricted to 'x mean 2010–2014'" in text and "'y 2018' left out" in text
    # a given V follows the predictors that are left; optimisation periods are cut too
    given = synthetic_control(study, predictors=[("x", range(2010, 2020)), ("y", [2018]),
                                                 ("y", [2005])], v=[0.5, 0.3, 0.2],
                              optimize_periods=range(2008, 2020), inference=None)
    fake = given.placebo_in_time(2015)
    assert fake.diagnostics["v_method"] == "given"
    np.testing.assert_allclose(fake.v_weights.to_numpy(), [0.5 / 0.7, 0.2 / 0.7])
    assert "optimize_periods restricted" in " ".join(fake.warnings)


def test_multiple_treated_refused():
    panel = factor_panel(n_units=8, seed=3)
    fit = synthetic_control(panel, outcome="y", treated=["u0", "u7"], start=2020, inference=None)
    with pytest.raises(DesignError, match="one treated unit"):
        fit.placebo_in_space()


def test_plots(fit):
    import matplotlib.pyplot as plt

    from utvardering.plotting.synth import plot_ratio_histogram

    pl = fit.placebo_in_space()
    assert pl.plot().axes and plot_ratio_histogram(pl).axes
    assert fit.leave_one_out().plot().axes
    plt.close("all")


@pytest.mark.slow
def test_recovery_bias_and_placebo_size():
    """Factor model with known effect: bias of the estimate and size of the placebo test.

    Under no effect the RMSPE-ratio test with 15 units rejects at 1/15 ≈ 6.7 % (p ≤ 0.067 is
    the smallest attainable level), so its rejection rate should be near 6.7 %.
    """
    reps = budget.draws(full=200, fast=20)
    estimates, rejections = [], []
    for seed in range(reps):
        panel = factor_panel(n_units=15, effect=-3.0, noise=0.5, seed=1000 + seed)
        fit = synthetic_control(panel, outcome="y", treated="u0", start=2020, inference=None)
        estimates.append(fit.estimate)
        null = factor_panel(n_units=15, effect=0.0, noise=0.5, seed=5000 + seed)
        pl = synthetic_control(null, outcome="y", treated="u0", start=2020,
                               inference=None).placebo_in_space()
        rejections.append(pl.p_value <= 1 / 15 + 1e-12)
    bias = np.mean(estimates) + 3.0
    print(f"SC bias {bias:+.3f} (effect −3), placebo rejection rate {np.mean(rejections):.3f} "
          f"(nominal {1 / 15:.3f}) over {reps} draws")
    assert abs(bias) < 0.3  # noise 0.5 per period, 10 post-periods
    rate = np.mean(rejections)
    assert rate <= budget.choose(full=0.12, fast=0.25)  # nominal 1/15; Monte Carlo error ±0.035 at 200


def test_conformal_reports_the_average_effect_test(fit):
    """The SC conformal result carries CWZ's block-mean average-effect test (App. A.1)."""
    from utvardering.inference.conformal import conformal_average

    res = fit.conformal()
    study = fit.study
    Y = fit.spec["Y"]
    y = Y.loc["u0"].to_numpy(float)
    Y0 = Y.loc[list(study.donors)].to_numpy(float).T
    post = np.array([t >= study.start for t in Y.columns])
    p, _ci, n = conformal_average(y, Y0, post, level=fit.level)
    assert n == res.n_blocks == 3  # 20 pre-periods = 2 blocks of 10, plus the post block
    assert res.average_p_value == pytest.approx(p)
    assert res.average_interval == (-np.inf, np.inf)  # 1/3 > 5 %: no finite 95 % interval
    assert res.pointwise.shape[0] == post.sum() == 10
