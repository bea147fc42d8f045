"""Regression tests for the newcomer-frictions review, staggered part (F1, F3, F10).

F1: covariates declared on the Study reach callaway_santanna. F3: HonestDiD runs on the
staggered estimators' event studies (Sun–Abraham, Callaway–Sant'Anna's dynamic aggregation,
imputation), and on Callaway–Sant'Anna it agrees with moderndid's HonestDiD on the same event
study (numbers recorded by tests/reference/moderndid/cs_mpdta_honestdid.py).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering as utv

COLUMNS = {"unit": "countyreal", "time": "year", "outcome": "lemp", "cohort": "first.treat"}
MODERNDID = Path(__file__).parents[1] / "reference" / "moderndid" / "cs_mpdta_honestdid.json"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(resources.files("utvardering") / "data" / "files" / "mpdta.csv")


@pytest.fixture(scope="module")
def moderndid() -> dict:
    return json.loads(MODERNDID.read_text())


def test_f1_study_covariates_reach_callaway_santanna(mpdta):
    """mpdta with lpop: R did's att_gt(xformla = ~lpop) + aggte simple is -0.041752."""
    study = utv.Study(mpdta, **COLUMNS, covariates=["lpop"], min_pre_periods=1)
    from_study = utv.callaway_santanna(study)
    assert from_study.estimate == pytest.approx(-0.041752, abs=5e-7)
    assert from_study.params["covariates"] == ["lpop"]
    explicit = utv.callaway_santanna(study.replace(covariates=None), covariates=["lpop"])
    assert from_study.estimate == explicit.estimate
    frame = utv.callaway_santanna(mpdta, **COLUMNS, covariates=["lpop"])
    assert frame.estimate == from_study.estimate
    # an explicit empty list still means "no covariates" (the unadjusted -0.039951)
    plain = utv.callaway_santanna(study, covariates=[])
    assert plain.estimate == pytest.approx(-0.039951, abs=5e-7)


@pytest.mark.parametrize("estimator", ["sun_abraham", "callaway_santanna", "imputation_did"])
def test_f3_honest_did_runs_on_staggered_event_studies(mpdta, estimator):
    if estimator == "callaway_santanna":
        effect = utv.callaway_santanna(mpdta, **COLUMNS, base_period="universal").aggregate(
            "dynamic")
    else:
        effect = getattr(utv, estimator)(mpdta, **COLUMNS)
    vcov = effect.vcov
    assert isinstance(vcov, pd.DataFrame) and list(vcov.index) == list(vcov.columns)
    assert all(name.startswith("event_time[") for name in vcov.index)
    times = [int(n[len("event_time["):-1]) for n in vcov.index]
    # the diagonal is the path's squared standard errors; a reference period is left out
    np.testing.assert_allclose(np.sqrt(np.diag(vcov.to_numpy())),
                               effect.path.loc[times, "se"].to_numpy(), rtol=1e-10)
    assert np.all(np.linalg.eigvalsh(vcov.to_numpy()) > -1e-12)
    honest = utv.honest_did(effect, m_values=[0.0, 1.0], grid_points=200)
    assert honest.diagnostics["n_pre"] == sum(e < 0 for e in times)
    assert honest.estimate == pytest.approx(effect.path.loc[0, "effect"])
    low, high = honest.path.loc[1.0, ["low", "high"]]
    assert low < honest.estimate < high
    # the JSON round trip keeps the labelled covariance
    back = utv.Effect.from_dict(json.loads(effect.to_json()))
    if back.vcov is not None and list(back.vcov.index) == list(vcov.index):
        np.testing.assert_allclose(back.vcov.to_numpy(), vcov.to_numpy())


def test_f3_honest_did_on_cs_dynamic_matches_moderndid(mpdta, moderndid):
    """CS on mpdta (universal base period) → aggregate("dynamic") → honest_did, against
    moderndid 0.4.1's att_gt → aggte(type="dynamic") → honest_did on the same data."""
    dyn = utv.callaway_santanna(mpdta, **COLUMNS, base_period="universal").aggregate("dynamic")
    times = moderndid["event_times"]
    np.testing.assert_allclose(dyn.path.loc[times, "effect"], moderndid["att_by_event"],
                               rtol=1e-12, atol=1e-15)
    keep = [i for i, e in enumerate(times) if e != -1]  # -1: the reference period (0 by design)
    V = np.asarray(moderndid["vcov"])[np.ix_(keep, keep)]
    assert list(dyn.vcov.index) == [f"event_time[{times[i]}]" for i in keep]
    np.testing.assert_allclose(dyn.vcov.to_numpy(), V, rtol=1e-10, atol=1e-18)

    m_bar = moderndid["relative_magnitude"]["Mbar"]
    # the conditional test is deterministic: on R's θ grid every bound is the same grid point
    cond = utv.honest_did(dyn, m_values=m_bar, hybrid=False)
    ref = moderndid["conditional_r_grid"]
    np.testing.assert_allclose(cond.path["low"].iloc[:-1].astype(float), ref["lb"], atol=1e-12)
    np.testing.assert_allclose(cond.path["high"].iloc[:-1].astype(float), ref["ub"], atol=1e-12)
    original = cond.path.loc["original"]
    np.testing.assert_allclose([original["low"], original["high"]], moderndid["original_ci"],
                               rtol=1e-10)

    # C-LF (the default): the least-favourable critical value is simulated — R's rnorm stream
    # here (as R HonestDiD), numpy's in moderndid — so a bound may move by one grid step
    clf = utv.honest_did(dyn, m_values=m_bar)
    ref = moderndid["relative_magnitude_r_grid"]
    lo, hi, step = moderndid["r_grid"]
    step = (hi - lo) / (step - 1)
    ours = np.r_[clf.path["low"].iloc[:-1].astype(float), clf.path["high"].iloc[:-1].astype(float)]
    theirs = np.r_[ref["lb"], ref["ub"]]
    assert np.all(np.abs(ours - theirs) <= step * (1 + 1e-9))
    assert np.sum(np.abs(ours - theirs) < 1e-12) >= 7

    # smoothness (FLCI): moderndid uses the exact folded-normal quantile
    sd = utv.honest_did(dyn, method="smoothness", m_values=moderndid["smoothness"]["m"],
                        simulated_quantile=False)
    np.testing.assert_allclose(sd.path["low"].iloc[:-1].astype(float),
                               moderndid["smoothness"]["lb"], atol=2e-6)
    np.testing.assert_allclose(sd.path["high"].iloc[:-1].astype(float),
                               moderndid["smoothness"]["ub"], atol=2e-6)


def test_f10_sun_abraham_takes_control_group(mpdta):
    """callaway_santanna(control_group=) vs sun_abraham(control=): one name now."""
    new = utv.sun_abraham(mpdta, **COLUMNS, control_group="last_treated")
    assert new.params["control_group"] == "last_treated"
    with pytest.warns(DeprecationWarning, match="control= is renamed control_group="):
        old = utv.sun_abraham(mpdta, **COLUMNS, control="last_treated")
    assert old.estimate == new.estimate
    with pytest.raises(utv.DesignError, match="choose one of"):
        utv.sun_abraham(mpdta, **COLUMNS, control_group="not_yet")
