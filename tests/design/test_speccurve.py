"""specification_curve(): every cell, failures kept, joint inference by placebo curves."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import utvardering as utv
from utvardering.design import SpecCurve, specification_curve

from .world import null_world


@pytest.fixture(scope="module")
def study():
    data = null_world(n_units=8, seed=4)
    data["y2"] = data["y"] + 1
    return utv.Study(data, outcome="y", treated="u00", start="2018-01")


def test_grid_is_complete_and_failures_are_kept(study):
    curve = specification_curve(
        study, {"start": ["2017-07", "2018-01", "2030-01"], "outcome": ["y", "y2"]},
        methods=["diff_in_diff", "twfe"], random_state=0, joint=False)
    assert isinstance(curve, SpecCurve)
    t = curve.table
    assert len(t) == 3 * 2 * 2 and t["spec"].tolist() == list(range(12))
    bad = t[t["start"] == "2030-01"]
    assert (bad["error"] != "").all() and bad["error"].str.contains("DesignError").all()
    ok = t[t["error"] == ""]
    assert len(ok) == 8 and ok["estimate"].notna().all()
    assert curve.n_failed == 4
    # outcome y2 = y + 1: the same DiD estimate
    a = ok[(ok["outcome"] == "y") & (ok["method"] == "diff_in_diff")].set_index("start")["estimate"]
    b = ok[(ok["outcome"] == "y2") & (ok["method"] == "diff_in_diff")].set_index("start")["estimate"]
    pd.testing.assert_series_equal(a, b, check_names=False)
    assert curve.median == pytest.approx(ok["estimate"].median())
    assert 0 <= curve.share_significant <= 1
    assert "Joint inference not requested" in curve.summary()
    json.dumps(curve.to_dict(), default=str)
    assert len(curve.plot().axes) == 2


def test_estimator_options_are_passed_through_and_methods_labelled(study):
    curve = specification_curve(
        study, {"level": {"90%": 0.9, "99%": 0.99}},
        methods={"SDID": ("synthetic_did", {"estimator": "did"}), "DiD": "diff_in_diff"}, joint=False,
        random_state=1)
    t = curve.table.set_index(["method", "level"])
    assert set(curve.table["method"]) == {"SDID", "DiD"}
    wide90 = t.loc[("DiD", "90%"), "high"] - t.loc[("DiD", "90%"), "low"]
    wide99 = t.loc[("DiD", "99%"), "high"] - t.loc[("DiD", "99%"), "low"]
    assert wide99 > wide90


def test_joint_inference_by_placebo_curves(study):
    curve = specification_curve(study, {"start": ["2017-07", "2018-01"]}, methods=["diff_in_diff"],
                                random_state=2)
    assert curve.joint["n_placebos"] == len(study.donors) == 7
    assert curve.joint["smallest_p"] == pytest.approx(1 / 8)
    assert 1 / 8 <= curve.joint["p_median"] <= 1
    assert len(curve.placebos) == 7
    assert "no p-value can fall below 0.05" in curve.joint_note


def test_joint_inference_not_feasible_is_said():
    data = null_world(n_units=8, seed=5)
    study = utv.Study(data, outcome="y", starts={"u00": "2017-07", "u01": "2018-01"})
    curve = specification_curve(study, {"control_group": ["never_treated", "not_yet_treated"]},
                                methods=["callaway_santanna"])
    assert curve.joint is None
    assert "staggered starts" in curve.joint_note


def test_same_curve_serially_and_with_joblib(study):
    args = dict(choices={"start": ["2017-07", "2018-01"]}, methods=["diff_in_diff", "poisson_did"], random_state=3,
                n_placebos=3)
    a = specification_curve(study, **args)
    b = specification_curve(study, **args, n_jobs=2)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a.joint == b.joint
