"""Sun–Abraham and imputation (BJS) on mpdta: cross-checks and exact identities.

No published Sun–Abraham or Borusyak–Jaravel–Spiess numbers on mpdta were found, so the
expected values are cross-checks produced here (2026-11-26) with other implementations:

* pyfixest 0.60.0: ``feols("lemp ~ i(cr, ref='ref') | countyreal + year", vcov={"CRV1":
  "countyreal"})`` where ``cr`` = "cohort_relative-year" for treated units and "ref" for
  never-treated units and relative year -1 (the saturated Sun–Abraham regression);
* diff-diff 3.13.0: ``SunAbraham().fit(...)`` and ``ImputationDiD().fit(...,
  aggregate="event_study")`` with ``outcome="lemp", unit="countyreal", time="year",
  first_treat="first.treat"``.

The identities (SA with never-treated controls = Callaway–Sant'Anna with a universal base
period; BJS with one cohort and one pre-period = Callaway–Sant'Anna) are exact algebra on a
balanced panel and are tested to 1e-10.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from utvardering.did import callaway_santanna, imputation_did, sun_abraham

COLUMNS = {"unit": "countyreal", "time": "year", "outcome": "lemp", "cohort": "first.treat"}

# (cohort, relative year): (coefficient, CRV1 SE) — pyfixest 0.60.0, run here
SA_CELLS = {
    (2004, 0): (-0.0105032462, 0.0233491897), (2004, 1): (-0.0704231581, 0.0311155677),
    (2004, 2): (-0.1372587389, 0.0365894760), (2004, 3): (-0.1008113631, 0.0345042719),
    (2006, -3): (-0.0037692937, 0.0314743367), (2006, -2): (0.0027508188, 0.0196411267),
    (2006, 0): (-0.0045946070, 0.0178301495), (2006, 1): (-0.0412244715, 0.0203145774),
    (2007, -4): (0.0033063567, 0.0245550955), (2007, -3): (0.0338130123, 0.0212183709),
    (2007, -2): (0.0310871194, 0.0179529805), (2007, 0): (-0.0260544107, 0.0167257456),
}
# event time: (effect, SE) — diff-diff 3.13.0 SunAbraham, run here
SA_PATH = {
    -4: (0.003306356692512411, 0.024555095531863465),
    -3: (0.025021829597555036, 0.01815434441004838),
    -2: (0.024458744971169538, 0.014266792154618112),
    0: (-0.01993181678925932, 0.01185753896345325),
    1: (-0.05095736706519376, 0.016870678384610108),
    2: (-0.13725873888940313, 0.03658947596376607),
    3: (-0.10081136308540406, 0.03450427191020789),
}
SA_OVERALL = (-0.03995127515517629, 0.011796277441754278)  # diff-diff 3.13.0 SunAbraham
# event time: (effect, SE) — diff-diff 3.13.0 ImputationDiD (BJS Theorem 3 variance), run here
BJS_PATH = {
    0: (-0.031066927191940524, 0.013577249746179961),
    1: (-0.052234856747866425, 0.01881242682276271),
    2: (-0.13607811443998677, 0.03534197213337396),
    3: (-0.10470747157562328, 0.033765853357791635),
}
BJS_OVERALL = (-0.04770991827781727, 0.013222488650016436)  # diff-diff 3.13.0 ImputationDiD


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    try:
        from utvardering.data.datasets import load_mpdta
    except ImportError:  # loader not there yet: read the packaged copy
        return pd.read_csv(resources.files("utvardering") / "data" / "files" / "mpdta.csv")
    return load_mpdta()


@pytest.fixture(scope="module")
def sa(mpdta):
    return sun_abraham(mpdta, **COLUMNS)


@pytest.fixture(scope="module")
def bjs(mpdta):
    return imputation_did(mpdta, **COLUMNS)


def test_sun_abraham_cells_match_pyfixest(sa):
    cells = sa.cohort_effects.set_index(["group", "event_time"])
    assert len(cells) == len(SA_CELLS)
    for key, (coef, se) in SA_CELLS.items():
        assert cells.loc[key, "effect"] == pytest.approx(coef, abs=1e-9)  # pyfixest 0.60.0
        assert cells.loc[key, "se"] == pytest.approx(se, abs=1e-9)  # pyfixest 0.60.0 CRV1


def test_sun_abraham_event_study_matches_diff_diff(sa):
    for e, (est, se) in SA_PATH.items():
        assert sa.path.loc[e, "effect"] == pytest.approx(est, abs=1e-9)  # diff-diff 3.13.0
        assert sa.path.loc[e, "se"] == pytest.approx(se, abs=1e-9)  # diff-diff 3.13.0
    assert sa.path.loc[-1, "effect"] == 0.0  # the reference period
    assert sa.estimate == pytest.approx(SA_OVERALL[0], abs=1e-9)  # diff-diff 3.13.0
    assert sa.se == pytest.approx(SA_OVERALL[1], abs=1e-9)  # diff-diff 3.13.0


def test_imputation_matches_diff_diff(bjs):
    assert list(bjs.path.index[bjs.path.index >= 0]) == list(BJS_PATH)
    for e, (est, se) in BJS_PATH.items():
        assert bjs.path.loc[e, "effect"] == pytest.approx(est, abs=1e-9)  # diff-diff 3.13.0
        assert bjs.path.loc[e, "se"] == pytest.approx(se, abs=1e-9)  # diff-diff 3.13.0
    assert bjs.estimate == pytest.approx(BJS_OVERALL[0], abs=1e-9)  # diff-diff 3.13.0
    assert bjs.se == pytest.approx(BJS_OVERALL[1], abs=1e-9)  # diff-diff 3.13.0


def test_sun_abraham_equals_cs_universal_never_treated(mpdta, sa):
    """δ(g, ℓ) = CS ATT(g, g+ℓ) with base g−1 and never-treated controls (exact)."""
    cs = callaway_santanna(mpdta, **COLUMNS, base_period="universal")
    table = cs.att_gt.set_index(["group", "event_time"])["att"]
    cells = sa.cohort_effects.set_index(["group", "event_time"])["effect"]
    np.testing.assert_allclose(cells.to_numpy(), table.loc[cells.index].to_numpy(), atol=1e-10)
    path = cs.aggregate("dynamic").path
    np.testing.assert_allclose(sa.path["effect"].to_numpy(),
                               path.loc[sa.path.index, "effect"].to_numpy(), atol=1e-10)
    # overall ATT over treated observations = CS "simple" (post cells share the base g−1)
    assert sa.estimate == pytest.approx(cs.estimate, abs=1e-10)


def test_imputation_equals_cs_single_cohort_one_pre_period(mpdta):
    """Cohort 2004 vs never treated: the only pre-period is 2003, so BJS = CS, SEs too."""
    sub = mpdta[mpdta["first.treat"].isin([0, 2004])]
    bjs = imputation_did(sub, **COLUMNS, pretrend_periods=0)
    cs = callaway_santanna(sub, **COLUMNS)
    table = cs.att_gt.set_index("event_time")
    np.testing.assert_allclose(bjs.path["effect"], table.loc[bjs.path.index, "att"], atol=1e-10)
    np.testing.assert_allclose(bjs.path["se"], table.loc[bjs.path.index, "se"], atol=1e-10)
    assert bjs.estimate == pytest.approx(cs.estimate, abs=1e-10)


def test_last_treated_control_equals_never_treated_after_recoding(mpdta):
    """SA with the last cohort as control = SA on data where that cohort is never treated."""
    sa_last = sun_abraham(mpdta, **COLUMNS, control_group="last_treated")
    recoded = mpdta[mpdta["year"] < 2007].copy()
    recoded.loc[recoded["first.treat"] == 2007, "first.treat"] = 0
    sa_never = sun_abraham(recoded, **COLUMNS)
    pd.testing.assert_frame_equal(sa_last.path, sa_never.path, atol=1e-12)


def test_imputation_pretrend_matches_pyfixest(bjs):
    """BJS pre-trend regression on untreated observations vs pyfixest 0.60.0, run here.

    ``feols("lemp ~ l1 + l2 + l3 | countyreal + year", data=untreated rows,
    vcov={"CRV1": "countyreal"}, ssc=ssc(adj=False, cluster_adj=True))`` with ``lk`` =
    1{year − first.treat = −k}. pyfixest drops the 20 singleton units (cohort 2004 has one
    untreated year), so its G/(G−1) uses G = 480 where we use 500; their scores are zero, so
    the SEs differ by exactly sqrt((480/479)/(500/499)).
    """
    expected = {-1: (0.001395350206, 0.023160668618), -2: (0.023077625015, 0.019280340150),
                -3: (0.025236350611, 0.014760521997)}
    singleton = np.sqrt((480 / 479) / (500 / 499))
    for k, (gamma, se) in expected.items():
        # 1e-9: pyfixest demeans iteratively (its printed values carry ~1e-10 error)
        assert bjs.path.loc[k, "effect"] == pytest.approx(gamma, abs=1e-9)  # pyfixest 0.60.0
        assert bjs.path.loc[k, "se"] * singleton == pytest.approx(se, abs=1e-9)
    # pyfixest's joint test: F = 1.843784075238 with 3 restrictions, i.e. Wald = 3 F
    assert bjs.diagnostics["pretrend_wald"] == pytest.approx(3 * 1.843784075238 * singleton**2,
                                                             rel=1e-7)
