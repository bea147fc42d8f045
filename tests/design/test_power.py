"""power(): injection keeps counts, results are reproducible, the false-positive rate is honest."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering.design import PowerResult, power
from utvardering.design.inject import inject, placebo_designs
from utvardering.errors import DesignError, InferenceWarning

import budget
from .world import null_world


@pytest.fixture(scope="module")
def study():
    return utv.Study(null_world(), outcome="y", treated="u00", start="2018-01")


def test_injection_keeps_counts_and_is_coupled_across_effects():
    rng = np.random.default_rng(0)
    y = rng.poisson(8, 500)
    u = rng.random(500)
    out = {e: inject(y, e, counts=True, shift_base=None, uniforms=u) for e in (-0.5, -0.2, 0.0, 0.3)}
    for e, v in out.items():
        assert v.dtype == np.int64 and (v >= 0).all()
        assert abs(v.sum() / y.sum() - (1 + e)) < 0.05  # the mean change is the effect
    assert (out[-0.5] <= out[-0.2]).all() and (out[-0.2] <= y).all() and (out[0.3] >= y).all()
    assert (out[0.0] == y).all()
    shifted = inject(np.array([1.0, 2.0]), -0.1, counts=False, shift_base=np.array([10.0, 10.0]),
                     uniforms=np.zeros(2))
    assert shifted.tolist() == [0.0, 1.0]


def test_time_placebos_lie_inside_the_pre_period(study):
    designs, length = placebo_designs(study, "time")
    assert length == 36 // 3 and len(designs) == 36 - 12 - 12 + 1
    assert all(d.last < study.start for d in designs)
    unit_designs, _ = placebo_designs(study, "unit")
    assert [d.treated for d in unit_designs] == [(u,) for u in study.donors]


def test_power_table_mde_and_exports(study):
    res = power(study, "synthetic_did", effects=[-0.2, -0.5], n_sims=6, random_state=5)
    assert isinstance(res, PowerResult)
    t = res.table
    assert t["effect"].tolist() == [0.0, -0.2, -0.5]
    assert (t["n"] + t["n_failed"] == 6).all()
    assert t["power"].between(0, 1).all()
    # the injected effect on the estimator's scale: zero at effect 0, about -20 % of the level at -0.2
    d = res.draws
    assert (d.loc[d["effect"] == 0, "truth"] == 0).all()
    ratio = d.loc[d["effect"] == -0.2, "truth"].mean() / d.loc[d["effect"] == -0.2, "injected"].mean()
    assert abs(ratio - 1) < 1e-6  # counts analysed as counts: the estimator measures what was injected
    mde = res.mde(0.5)
    assert mde.relative < 0 or math.isnan(mde.relative)
    json.dumps(res.to_dict(), default=str)
    assert "False-positive rate" in res.summary()
    fig = res.plot()
    assert fig.axes
    same = power(study, "synthetic_did", effects=[-0.2, -0.5], n_sims=6, random_state=5)
    # bit-identical in the same process too (the compiled solver does not reassociate sums)
    pd.testing.assert_frame_equal(same.draws, res.draws, check_exact=True)
    pd.testing.assert_frame_equal(same.table, res.table, check_exact=True)


@pytest.mark.filterwarnings("ignore::utvardering.errors.InferenceWarning")
def test_power_is_the_same_serially_and_with_joblib(study):
    a = power(study, "diff_in_diff", effects=[-0.2], n_sims=6, random_state=9)
    b = power(study, "diff_in_diff", effects=[-0.2], n_sims=6, random_state=9, n_jobs=2)
    assert b.info["backend"] == "joblib"
    pd.testing.assert_frame_equal(a.draws, b.draws, check_exact=True)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)


def test_invalid_test_is_flagged_by_its_false_positive_rate(study):
    # a 2x2 DiD with one treated unit and cluster-robust errors over-rejects badly
    with pytest.warns(InferenceWarning, match="false-positive rate"):
        res = power(study, "diff_in_diff", effects=[-0.2], n_sims=13, random_state=1, placebo="time")
    assert res.false_positive_rate > 0.2
    assert res.table.loc[0, "n_effective"] == 13


def test_bad_options_fail_fast_with_the_estimators_message(study):
    with pytest.raises(DesignError, match="failed on the first placebo design"):
        power(study, "synthetic_did", n_sims=50, estimator="nonsense")
    with pytest.raises(DesignError, match="not above -1"):
        power(study, "diff_in_diff", effects=[-1.0])
    with pytest.raises(DesignError, match="needs a Study"):
        power(null_world(), "diff_in_diff")


@pytest.mark.filterwarnings("ignore::utvardering.errors.InferenceWarning")
def test_unit_placebos_for_a_staggered_design():
    data = null_world(n_units=10, seed=2)
    study = utv.Study(data, outcome="y", starts={"u00": "2018-01", "u01": "2018-07"})
    res = power(study, "imputation_did", effects=[-0.3], n_sims=4, random_state=0)
    assert res.placebo == "unit"
    assert res.table["n"].sum() + res.table["n_failed"].sum() == 8


@pytest.mark.slow
def test_power_at_zero_is_the_false_positive_rate_and_the_curve_rises():
    """On worlds without effects, with a valid test (Poisson DiD with randomization inference,
    exact under exchangeable units): power(0) <= 0.05 + 2 MC s.e.; the curve rises with |effect|."""
    worlds = budget.draws(full=12, fast=3)
    effects = [-0.1, -0.2, -0.3, -0.5]
    tables = []
    for w in range(worlds):
        study = utv.Study(null_world(n_units=30, seed=100 + w), outcome="y", treated="u00",
                          start="2018-01")
        res = power(study, "poisson_did", effects=effects, n_sims=29, placebo="unit",
                    random_state=w, inference="randomization")
        assert res.table["n_failed"].sum() == 0
        tables.append(res.table.set_index("effect")["power"])
    p = pd.concat(tables, axis=1).mean(axis=1)
    n = worlds * 29
    se0 = math.sqrt(0.05 * 0.95 / n)
    assert p.loc[0.0] <= 0.05 + 2 * se0
    mags = [0.0, -0.1, -0.2, -0.3, -0.5]
    for a, b in itertools.pairwise(mags):
        se = math.sqrt(p.loc[a] * (1 - p.loc[a]) / n + p.loc[b] * (1 - p.loc[b]) / n)
        assert p.loc[b] >= p.loc[a] - 2 * se
    assert p.loc[-0.5] > p.loc[0.0] + 0.3


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::utvardering.errors.InferenceWarning")
def test_power_at_zero_matches_the_estimators_own_false_positive_rate():
    """power(0) is the method's false-positive rate: SDID's placebo-SE interval over-rejects on
    these 20-unit worlds, and power() at effect 0 measures the same rate as fitting SDID directly
    to fresh null worlds (within Monte Carlo error)."""
    worlds = budget.draws(full=12, fast=4)
    via_power, direct = [], []
    for w in range(worlds):
        data = null_world(n_units=20, seed=300 + w)
        study = utv.Study(data, outcome="y", treated="u00", start="2018-01")
        res = power(study, "synthetic_did", effects=[-0.5], n_sims=19, placebo="unit",
                    random_state=w)
        via_power.append(res.false_positive_rate)
        for u in study.units:  # every unit as the treated one: the direct false-positive rate
            fit = utv.synthetic_did(study.replace(treated=u, donors=None), random_state=w)
            direct.append(fit.interval[0] > 0 or fit.interval[1] < 0)
    a, b = float(np.mean(via_power)), float(np.mean(direct))
    n = worlds * 19
    se = math.sqrt(a * (1 - a) / n + b * (1 - b) / len(direct))
    assert abs(a - b) <= 3 * se + 1e-9
