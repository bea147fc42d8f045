"""Regression tests for the reliability review, staggered part (R2, R10, R13).

R2: Sun–Abraham's joint pre-trend test no longer inverts a singular cluster-robust covariance
(p = 1 or p ≈ 0 depending on unit labels). R10: Sun–Abraham, Callaway–Sant'Anna and the
imputation estimator grow with the data, not with units × periods × cells. R13: the imputation
estimator does not present a zero-width interval with p ≈ 0, and does not depend on the
outcome's scale.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import utvardering as utv

import budget


def _parallel_trends_panel(n_units: int = 10) -> pd.DataFrame:
    """The review's reproduction: 2 treated units from 2020-01, parallel pre-trends."""
    rng = np.random.default_rng(0)
    periods = pd.period_range("2019-01", periods=24, freq="M")
    rows = [(i, str(t), int(rng.poisson(20 + 3 * i + 0.2 * j - (5 if i < 2 and j >= 12 else 0))))
            for i in range(n_units) for j, t in enumerate(periods)]
    df = pd.DataFrame(rows, columns=["unit", "time", "y"])
    return df.assign(cohort=np.where(df.unit < 2, "2020-01", None))


def _sun_abraham(df: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return utv.sun_abraham(df, outcome="y", unit="unit", time="time", cohort="cohort")


def test_r2_pretrend_invariant_to_unit_labels():
    df = _parallel_trends_panel(10)
    a = _sun_abraham(df.assign(unit="U" + df.unit.astype(str).str.zfill(2)))
    b = _sun_abraham(df.assign(unit=df.unit + 1))
    c = _sun_abraham(df.assign(unit=9 - df.unit))  # reversed order
    # 11 leads, 10 clusters: the covariance has rank <= 9 — the test is not computed
    for effect in (a, b, c):
        assert effect.diagnostics["pretrend_df"] == 11
        assert np.isnan(effect.diagnostics["pretrend_wald"])
        assert np.isnan(effect.diagnostics["pretrend_p_value"])
        assert any("11 pre-treatment event times but only 10 clusters" in w
                   for w in effect.warnings)
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    # with enough clusters the test is computed and the same under any relabelling
    df = _parallel_trends_panel(30)
    tests = [_sun_abraham(d).diagnostics for d in (
        df.assign(unit="U" + df.unit.astype(str).str.zfill(2)), df.assign(unit=df.unit + 1),
        df.assign(unit=29 - df.unit))]
    assert np.isfinite(tests[0]["pretrend_p_value"])
    for other in tests[1:]:
        assert other["pretrend_wald"] == pytest.approx(tests[0]["pretrend_wald"], rel=1e-9)
        assert other["pretrend_p_value"] == pytest.approx(tests[0]["pretrend_p_value"],
                                                          rel=1e-9, abs=1e-15)


def _staggered(n: int, periods: int, step: int = 5, seed: int = 0) -> pd.DataFrame:
    """n units × periods, cohorts every ``step`` periods (periods/step of them) + never treated."""
    rng = np.random.default_rng(seed)
    starts = np.arange(step, periods + 1, step)
    g = rng.choice(np.append(starts, 0), size=n)
    unit, t = np.repeat(np.arange(1, n + 1), periods), np.tile(np.arange(1, periods + 1), n)
    gg = np.repeat(g, periods)
    y = (np.repeat(rng.normal(size=n), periods) + 0.05 * t
         + np.where((gg > 0) & (t >= gg), 1.0, 0.0) + rng.normal(size=n * periods))
    return pd.DataFrame({"unit": unit, "time": t, "y": y, "g": gg})


def _peak_bytes(function, study) -> tuple[object, int]:
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            effect = function(study)
        return effect, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("estimator", "factor"), [("sun_abraham", 20), ("imputation_did", 40)])
def test_r10_memory_grows_with_the_data(estimator, factor):
    """400 units × 60 periods, 12 cohorts: Sun–Abraham used to build a 400 × 60 × 708 design
    (396 MB traced), imputation three 400 × 60 × 71 weight arrays (44 MB); the outcome is
    0.18 MB. Now each stays within a small multiple of the data."""
    df = _staggered(400, 60)
    study = utv.Study(df, unit="unit", time="time", outcome="y", cohort="g", min_pre_periods=1)
    effect, peak = _peak_bytes(getattr(utv, estimator), study)
    assert peak < factor * df["y"].to_numpy().nbytes
    assert np.isfinite(effect.estimate)
    assert effect.vcov is not None and np.isfinite(effect.vcov.to_numpy()).all()


def test_r10_callaway_santanna_pretest_never_forms_the_cells_matrix(monkeypatch):
    """With more pre-treatment cells than clusters the Wald pre-test cannot be computed; it used
    to form the q × q covariance and take its full SVD (25 of 29 s at 2,000 × 200). Nor are the
    bootstrap's cells × cells linear forms built for analytic standard errors."""
    from utvardering.did.staggered import influence

    df = _staggered(60, 40)
    study = utv.Study(df, unit="unit", time="time", outcome="y", cohort="g", min_pre_periods=1)

    def forbidden(*args, **kwargs):
        raise AssertionError("cells × cells work on the analytic path")

    monkeypatch.setattr(influence.Inference, "gram", forbidden)
    monkeypatch.setattr(influence.LinearForm, "identity", forbidden)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effect = utv.callaway_santanna(study)
    assert effect.diagnostics["pretrend_df"] >= 60
    assert np.isnan(effect.diagnostics["pretrend_p_value"])
    assert any("but only 60 clusters" in w for w in effect.warnings)
    dynamic = effect.aggregate("dynamic")
    assert dynamic.vcov.shape[0] == len(dynamic.path)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["callaway_santanna", "sun_abraham", "imputation_did"])
def test_r10_two_thousand_units_by_two_hundred_periods(estimator):
    """The review's scale case (40 cohorts): each estimator under 10 s and 2 GiB."""
    n, periods = budget.choose(full=(2_000, 200), fast=(500, 100))
    study = utv.Study(_staggered(n, periods), unit="unit", time="time", outcome="y", cohort="g",
                      min_pre_periods=1)
    function = getattr(utv, estimator)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        function(study)
    assert time.perf_counter() - start < 10
    effect, peak = _peak_bytes(function, study)  # (tracemalloc slows the run: timed above)
    assert peak < 2 * 2**30
    assert effect.estimate == pytest.approx(1.0, abs=0.2)


def _two_units(scale: float = 1.0, n_units: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    names = "ABCDEFGH"[:n_units]
    rows = [(u, t, scale * (10 + rng.normal() + (2 if (u == "A" and t >= 6) else 0)))
            for u in names for t in range(10)]
    df = pd.DataFrame(rows, columns=["unit", "time", "y"])
    return df.assign(cohort=np.where(df.unit == "A", 6, 0))


def _imputation(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return utv.imputation_did(df, unit="unit", time="time", outcome="y", cohort="cohort")


def test_r13_imputation_two_units_no_zero_width_interval():
    """One treated and one comparison unit: the SE used to be 3e-16, the interval zero-width
    and p = 0.0."""
    effect = _imputation(_two_units())
    assert np.isfinite(effect.estimate)
    assert effect.se is None and effect.p_value is None
    assert np.isnan(effect.interval[0]) and np.isnan(effect.interval[1])
    assert any("only 2 clusters" in w for w in effect.warnings)
    assert effect.path["se"].isna().all()


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_r13_imputation_extreme_scaling(scale):
    """Outcomes × 1e-300 gave SE 0 (zero-width interval), × 1e300 no SE at all; now the
    answer scales with the data."""
    base = _imputation(_two_units(n_units=5))
    scaled = _imputation(_two_units(scale, n_units=5))
    assert scaled.estimate / scale == pytest.approx(base.estimate, rel=1e-9)
    assert scaled.se / scale == pytest.approx(base.se, rel=1e-9)
    assert scaled.p_value == pytest.approx(base.p_value, rel=1e-9)
    assert scaled.interval[1] - scaled.interval[0] > 0
