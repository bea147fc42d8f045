"""Design-based estimates, exact Poisson intervals, BH and the exact conditional tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from utvardering.errors import DataError
from utvardering.followup import (
    Indicator,
    benjamini_hochberg,
    count_estimates,
    garwood_interval,
    survey_estimates,
)
from utvardering.followup.changes import conditional_exact_p as fisher_nc_p
from utvardering.followup.indicators import weighted_estimates


def test_weighted_mean_se_equals_wls_hc1_sandwich():
    """One stratum: the linearisation variance of the weighted mean is the HC1 sandwich of a
    weighted intercept-only regression (statsmodels as the peer)."""
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(1)
    y = rng.binomial(1, 0.3, 150).astype(float)
    w = rng.gamma(4.0, 50.0, 150)
    res = weighted_estimates(y, w, np.zeros(150, int), 1)
    fit = sm.WLS(y, np.ones(150), weights=w).fit(cov_type="HC1")
    assert res["estimate"][0] == pytest.approx(fit.params[0], rel=1e-12)
    assert res["se"][0] == pytest.approx(fit.bse[0], rel=1e-10)
    assert res["deff_kish"][0] == pytest.approx(150 * np.sum(w**2) / np.sum(w) ** 2, rel=1e-12)
    assert res["n_eff"][0] == pytest.approx(np.sum(w) ** 2 / np.sum(w**2), rel=1e-12)


def test_equal_weights_give_the_srs_standard_error_and_strata_add_up():
    y = np.array([1.0, 0, 0, 1, 1, 0, 0, 0, 1, 0])
    res = weighted_estimates(y, np.ones(10), np.zeros(10, int), 1)
    assert res["se"][0] == pytest.approx(np.std(y, ddof=1) / np.sqrt(10), rel=1e-12)
    assert res["deff_kish"][0] == pytest.approx(1.0)
    # two strata: V = sum_h n_h/(n_h-1) sum (z - zbar_h)^2 with z = w (y - ybar) / W
    strata = np.array([0] * 5 + [1] * 5)
    w = np.arange(1.0, 11.0)
    res = weighted_estimates(y, w, np.zeros(10, int), 1, strata)
    ybar = np.sum(w * y) / w.sum()
    z = w * (y - ybar) / w.sum()
    v = sum(5 / 4 * np.sum((z[strata == h] - z[strata == h].mean()) ** 2) for h in (0, 1))
    assert res["se"][0] == pytest.approx(np.sqrt(v), rel=1e-12)


def test_survey_estimates_item_nonresponse_and_thresholds():
    frame = pd.DataFrame({
        "unit": ["A"] * 4 + ["B"] * 3, "time": [2021] * 7, "weight": [1.0, 2, 1, 1, 1, 1, 1],
        "unsafe": [1, 3, 4, np.nan, 2, 2, 3],
    })
    ind = Indicator("unsafe", "unsafe", "share", threshold=3)
    out = survey_estimates(frame, [ind]).set_index("unit")
    assert out.loc["A", "n"] == 3 and out.loc["A", "n_missing"] == 1
    assert out.loc["A", "estimate"] == pytest.approx(3 / 4)     # weights 2 + 1 of 4
    assert out.loc["B", "estimate"] == pytest.approx(1 / 3)
    assert out.loc["City", "n"] == 6
    assert 0 <= out.loc["A", "ci_low"] < out.loc["A", "estimate"] < out.loc["A", "ci_high"] <= 1


def test_survey_estimates_errors_name_the_column():
    frame = pd.DataFrame({"unit": ["A"], "time": [2021], "weight": [1.0], "x": [2]})
    with pytest.raises(DataError, match="'nope'"):
        survey_estimates(frame, [Indicator("n", "nope", "share")])
    with pytest.raises(DataError, match="0/1"):
        survey_estimates(frame, [Indicator("x", "x", "share")])


def test_garwood_matches_published_table_values():
    """Exact Poisson 95 % limits (e.g. Ulm 1990 / standard tables): 0 -> [0, 3.689],
    1 -> [0.0253, 5.572], 10 -> [4.795, 18.390]."""
    low, high = garwood_interval(np.array([0, 1, 10]))
    np.testing.assert_allclose(low, [0.0, 0.0253, 4.795], atol=6e-4)
    np.testing.assert_allclose(high, [3.689, 5.572, 18.390], atol=6e-4)


def test_count_estimates_rates_and_city_rows():
    counts = pd.DataFrame({"unit": ["A", "B", "A", "B"], "time": [2021, 2021, 2022, 2022],
                           "population": [5000, 20000, 5000, 20000], "robbery": [2, 30, 0, 25]})
    ind = Indicator("robbery", "robbery", "rate")
    out = count_estimates(counts, [ind])
    a = out[(out["unit"] == "A") & (out["time"] == 2021)].iloc[0]
    assert a["estimate"] == pytest.approx(2 / 5000 * 1e5)
    assert a["ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 6) / 2 / 0.05)
    city = out[(out["unit"] == "City") & (out["time"] == 2022)].iloc[0]
    assert city["count"] == 25 and city["population"] == 25000
    bad = counts.assign(robbery=[1.5, 2, 3, 4])
    with pytest.raises(DataError, match="whole non-negative"):
        count_estimates(bad, [ind])


def test_benjamini_hochberg_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(3).uniform(size=200) ** 3
    p[[5, 17]] = np.nan
    ours = benjamini_hochberg(p)
    ok = np.isfinite(p)
    theirs = multitest.multipletests(p[ok], method="fdr_bh")[1]
    np.testing.assert_allclose(ours[ok], theirs, rtol=1e-12)
    assert np.isnan(ours[~ok]).all()


def test_conditional_exact_test_equals_fisher_when_the_odds_ratio_is_one():
    y1, n1, y0, n0 = np.array([3, 0, 12]), np.array([100, 120, 90]), np.array([9, 4, 11]), np.array([110, 118, 95])
    ours = fisher_nc_p(y1, n1, y0, n0, np.ones(3))
    theirs = [stats.fisher_exact([[a, n - a], [b, m - b]]).pvalue for a, n, b, m in zip(y1, n1, y0, n0, strict=True)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
