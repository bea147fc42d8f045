"""Callaway–Sant'Anna on mpdta against R ``did`` 2.5.0 (REFERENCES.md, mpdta section).

Expected values: R ``did`` 2.5.0, ``att_gt(yname="lemp", tname="year", idname="countyreal",
gname="first.treat", control_group="nevertreated", est_method="dr")`` with analytic standard
errors, and ``aggte()`` of that fit; the pre-test p-value is the one printed in the R ``did``
README (0.16812; R's Wald pre-test uses the analytic covariance even when bootstrapping).
Cross-checks marked "diff-diff 3.13.0" were produced here (2026-11-26) with
``diff_diff.CallawaySantAnna(...).fit(mpdta, outcome="lemp", unit="countyreal", time="year",
first_treat="first.treat" [, covariates=["lpop"]])``.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from utvardering import Study
from utvardering.did import callaway_santanna

TOL = 1e-6  # absolute, as R did's own tests of published tables

# (g, t, ATT, SE) — REFERENCES.md, R did 2.5.0 att_gt, never-treated controls, dr, analytic SEs
ATT_GT = [
    (2004, 2004, -0.0105032462, 0.0232510364),
    (2004, 2005, -0.0704231581, 0.0309847668),
    (2004, 2006, -0.1372587389, 0.0364356643),
    (2004, 2007, -0.1008113631, 0.0343592258),
    (2006, 2004, 0.0065201124, 0.0233268051),
    (2006, 2005, -0.0027508188, 0.0195585610),
    (2006, 2006, -0.0045946070, 0.0177551967),
    (2006, 2007, -0.0412244715, 0.0202291807),
    (2007, 2004, 0.0305066556, 0.0150335603),
    (2007, 2005, -0.0027258929, 0.0163958329),
    (2007, 2006, -0.0310871194, 0.0178775113),
    (2007, 2007, -0.0260544107, 0.0166554353),
]

# aggte() overall (estimate, se) and path {label: (estimate, se)} — REFERENCES.md, R did 2.5.0
AGGTE = {
    "simple": ((-0.0399512752, 0.0120340128), {}),
    "group": ((-0.0310182822, 0.0124460593), {
        2004: (-0.0797491266, 0.0263677994), 2006: (-0.0229095392, 0.0167033303),
        2007: (-0.0260544107, 0.0166554353)}),
    "dynamic": ((-0.0772398215, 0.0199649891), {
        -3: (0.0305066556, 0.0150335603), -2: (-0.0005630846, 0.0132916447),
        -1: (-0.0244587450, 0.0142364022), 0: (-0.0199318168, 0.0118263641),
        1: (-0.0509573671, 0.0168934763), 2: (-0.1372587389, 0.0364356643),
        3: (-0.1008113631, 0.0343592258)}),
    "calendar": ((-0.0417004321, 0.0159718519), {
        2004: (-0.0105032462, 0.0232510364), 2005: (-0.0704231581, 0.0309847668),
        2006: (-0.0488159843, 0.0201258613), 2007: (-0.0370593399, 0.0137470791)}),
}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    try:
        from utvardering.data.datasets import load_mpdta
    except ImportError:  # loader not there yet: read the packaged copy
        path = resources.files("utvardering") / "data" / "files" / "mpdta.csv"
        return pd.read_csv(path)
    return load_mpdta()


@pytest.fixture(scope="module")
def fit(mpdta):
    study = Study(mpdta, outcome="lemp", unit="countyreal", time="year", cohort="first.treat",
                  min_pre_periods=1)
    return callaway_santanna(study)


def test_att_gt_matches_r_did(fit):
    table = fit.att_gt.set_index(["group", "time"])
    assert len(table) == len(ATT_GT)
    for g, t, att, se in ATT_GT:
        assert table.loc[(g, t), "att"] == pytest.approx(att, abs=TOL)  # R did 2.5.0, 1e-6
        assert table.loc[(g, t), "se"] == pytest.approx(se, abs=TOL)  # R did 2.5.0, 1e-6


@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_aggte_matches_r_did(fit, kind):
    (overall, overall_se), path = AGGTE[kind]
    agg = fit.aggregate(kind)
    assert agg.estimate == pytest.approx(overall, abs=TOL)  # R did 2.5.0 aggte, 1e-6
    assert agg.se == pytest.approx(overall_se, abs=TOL)  # R did 2.5.0 aggte, 1e-6
    if not path:
        assert agg.path is None
        return
    assert list(agg.path.index) == list(path)
    for label, (est, se) in path.items():
        assert agg.path.loc[label, "effect"] == pytest.approx(est, abs=TOL)  # R did 2.5.0
        assert agg.path.loc[label, "se"] == pytest.approx(se, abs=TOL)  # R did 2.5.0


def test_top_level_is_simple_and_path_is_dynamic(fit):
    (overall, overall_se), path = AGGTE["simple"][0], AGGTE["dynamic"][1]
    assert fit.estimate == pytest.approx(overall, abs=TOL)  # R did 2.5.0 aggte simple
    assert fit.se == pytest.approx(overall_se, abs=TOL)
    assert fit.path.index.name == "event_time"
    assert fit.path.loc[2, "effect"] == pytest.approx(path[2][0], abs=TOL)


def test_pretest_p_value_matches_r_readme(fit):
    # R did README: "P-value for pre-test of parallel trends assumption: 0.16812" (5 decimals)
    assert round(fit.diagnostics["pretrend_p_value"], 5) == 0.16812
    assert fit.diagnostics["pretrend_df"] == 5


def test_plain_arguments_equal_study(mpdta, fit):
    plain = callaway_santanna(mpdta, unit="countyreal", time="year", outcome="lemp",
                              cohort="first.treat")
    pd.testing.assert_frame_equal(plain.att_gt, fit.att_gt)


def test_callers_data_not_modified(mpdta):
    before = mpdta.copy()
    callaway_santanna(mpdta, unit="countyreal", time="year", outcome="lemp",
                      cohort="first.treat", inference="bootstrap", n_draws=49, random_state=0)
    pd.testing.assert_frame_equal(mpdta, before)


def test_not_yet_treated_matches_diff_diff(mpdta):
    fit = callaway_santanna(mpdta, unit="countyreal", time="year", outcome="lemp",
                            cohort="first.treat", control_group="not_yet_treated")
    # diff-diff 3.13.0 CallawaySantAnna(control_group="not_yet_treated"), run here
    assert fit.estimate == pytest.approx(-0.039763625623043676, abs=1e-9)
    assert fit.se == pytest.approx(0.012052424787341894, abs=1e-9)
    cell = fit.att_gt.set_index(["group", "time"])
    assert cell.loc[(2004, 2004), "att"] == pytest.approx(-0.019372363675922134, abs=1e-9)
    assert cell.loc[(2004, 2004), "se"] == pytest.approx(0.022310112883680573, abs=1e-9)
    assert cell.loc[(2006, 2006), "att"] == pytest.approx(0.004660876319976151, abs=1e-9)
    assert cell.loc[(2006, 2006), "se"] == pytest.approx(0.01633558424682359, abs=1e-9)


@pytest.mark.parametrize(("method", "overall", "overall_se", "cell", "cell_se"), [
    # diff-diff 3.13.0 CallawaySantAnna(estimation_method=...), covariates=["lpop"], run here;
    # cell = ATT(2004, 2006)
    ("ipw", -0.041777082199140295, 0.011499719363981283, -0.14046460265549193,
     0.03537100178568243),
    ("reg", -0.04196861242154323, 0.011444829768215072, -0.14108010462858764,
     0.03483628695361846),
])
def test_covariates_match_diff_diff(mpdta, method, overall, overall_se, cell, cell_se):
    fit = callaway_santanna(mpdta, unit="countyreal", time="year", outcome="lemp",
                            cohort="first.treat", covariates=["lpop"], estimation=method)
    assert fit.estimate == pytest.approx(overall, abs=1e-9)
    assert fit.se == pytest.approx(overall_se, abs=1e-9)
    row = fit.att_gt.set_index(["group", "time"]).loc[(2004, 2006)]
    assert row["att"] == pytest.approx(cell, abs=1e-9)
    assert row["se"] == pytest.approx(cell_se, abs=1e-9)


def test_dr_with_covariates_equals_hand_computation(mpdta):
    """ATT(2004, 2006) with lpop, doubly robust (Sant'Anna & Zhao 2020, eq. 3.1) by hand."""
    import statsmodels.api as sm

    fit = callaway_santanna(mpdta, unit="countyreal", time="year", outcome="lemp",
                            cohort="first.treat", covariates=["lpop"])
    wide = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    unit = mpdta.groupby("countyreal")[["first.treat", "lpop"]].first()
    keep = unit["first.treat"].isin([0, 2004])
    dy = (wide[2006] - wide[2003])[keep].to_numpy()
    d = (unit.loc[keep, "first.treat"] == 2004).to_numpy(dtype=float)
    X = sm.add_constant(unit.loc[keep, "lpop"].to_numpy())
    ps = sm.Logit(d, X).fit(disp=0, tol=1e-12).predict(X)
    beta = np.linalg.lstsq(X[d == 0], dy[d == 0], rcond=None)[0]
    resid = dy - X @ beta
    odds = ps * (1 - d) / (1 - ps)
    expected = resid[d == 1].mean() - np.sum(odds * resid) / np.sum(odds)
    got = fit.att_gt.set_index(["group", "time"]).loc[(2004, 2006), "att"]
    assert got == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize(("method", "covariates", "overall", "overall_se", "cell", "cell_se"), [
    # diff-diff 3.13.0 CallawaySantAnna(panel=False, estimation_method=...), run here, with a
    # row id as unit; cell = ATT(2004, 2004). (diff-diff's "reg"/"dr" RCS SEs with covariates
    # differ from DRDID's reg_did_rc/drdid_rc formulas, so only these cases are compared.)
    ("dr", None, -0.03995127515517549, 0.1620999495775451, -0.01050324622096177,
     0.4758294503021401),
    ("ipw", ["lpop"], -0.04177708219913923, 0.1672262321650166, -0.014548431154138619,
     0.47984800299914565),
])
def test_repeated_cross_sections_match_diff_diff(mpdta, method, covariates, overall,
                                                 overall_se, cell, cell_se):
    fit = callaway_santanna(mpdta, time="year", outcome="lemp", cohort="first.treat",
                            panel=False, estimation=method, covariates=covariates)
    assert fit.estimate == pytest.approx(overall, abs=1e-9)
    assert fit.se == pytest.approx(overall_se, abs=1e-9)
    row = fit.att_gt.set_index(["group", "time"]).loc[(2004, 2004)]
    assert row["att"] == pytest.approx(cell, abs=1e-9)
    assert row["se"] == pytest.approx(cell_se, abs=1e-9)


def test_repeated_cross_sections_not_yet_treated_match_diff_diff(mpdta):
    fit = callaway_santanna(mpdta, time="year", outcome="lemp", cohort="first.treat",
                            panel=False, control_group="not_yet_treated")
    # diff-diff 3.13.0 CallawaySantAnna(panel=False, control_group="not_yet_treated"), run here
    assert fit.estimate == pytest.approx(-0.03976362562304271, abs=1e-9)
    assert fit.se == pytest.approx(0.16577188835228326, abs=1e-9)
