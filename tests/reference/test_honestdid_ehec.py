"""HonestDiD README (Medicaid expansion, ehec): robust intervals for the 2014 effect.

Event study built here with plain numpy, exactly as the README: years < 2016, 2015 expanders
dropped, D = 1 for the 2014 expanders (22 vs 21 states), unweighted
``dins ~ i(year, D, ref = 2013) | stfips + year`` with state-clustered CR1 variance in fixest's
convention G/(G−1)·(N−1)/(N−K), K = 7 event-study coefficients + 8 year levels (the state
effects are nested in the clusters and not counted). This K was checked against the
covariance the README's knitr cache stores for its regression-with-a-control chunk
(asheshrambachan/HonestDiD, README_cache/gfm/unnamed-chunk-8_661915be….rdb at commit
f05ddad): relative difference 5e-6 (the CSV holds 7 significant digits of R's float32 data).

Expected values:

* printed: REFERENCES.md / the README from 2022-09 to 2023-10 (commit 9f8379b; later READMEs
  print a re-run with other package versions). Tolerance: half a unit in the last printed
  digit (3 significant digits: 5e-5 for 0.0240, 5e-6 for 0.00824, 5e-4 for 0.101).
* full precision: the same README's knitr cache (chunks 4, 6 and 7 at commit f05ddad). The
  relative-magnitude bounds are points of R's θ grid; ours agree to 3e-8 (the grid moves with
  the standard error, i.e. with the 7-digit data). Smoothness bounds agree to 4e-8, except
  M = 0 where R's conic solver returns the minimum-variance weights only to ~2e-6 (observed
  1.7e-6; tolerance 1e-7, and 2e-6 for M = 0). For that reason the M = 0 lower bound, whose R
  value lies 4.96e-5 from its printed rounding, is checked at full precision only.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering.inference.honest_did import honest_did
from utvardering.inference.honest_sd import r_rnorm

FILES = Path(utv.__file__).parent / "data" / "files"

# printed as in the README (tibble, 3 significant digits); kept as text to know the last digit
RM_PRINTED = {0.5: ("0.0240", "0.0672"), 1.0: ("0.0170", "0.0720"), 1.5: ("0.00824", "0.0797"),
              2.0: ("-0.000916", "0.0881")}
SD_PRINTED = {0.0: ("0.0259", "0.0607"), 0.01: ("0.0132", "0.0787"), 0.02: ("0.00286", "0.0907"),
              0.03: ("-0.00714", "0.101"), 0.04: ("-0.0171", "0.111"), 0.05: ("-0.0271", "0.121")}
# knitr cache, README_cache/gfm/unnamed-chunk-4/5 (RM), -6 (SD), -7 (RM, l = (0.5, 0.5))
RM_CACHE = {0.0: (0.02876563121251613, 0.06431042392097558),
            0.5: (0.02400189610725870, 0.06724195321651863),
            1.0: (0.01703951403034396, 0.07200568832177609),
            1.5: (0.00824492614371483, 0.07970095272257657),
            2.0: (-0.00091610290485719, 0.08812909944726285)}
SD_CACHE = {0.0: (0.02594955617661810, 0.06073372130940163),
            0.01: (0.01319702515557997, 0.07867074253994308),
            0.02: (0.00285699595143356, 0.09071603940652406),
            0.03: (-0.00714257640305334, 0.10071561176101097),
            0.04: (-0.01714257640222570, 0.11071561176018334),
            0.05: (-0.02714257640139806, 0.12071561175935569)}
RM_AVG_CACHE = {0.0: (0.04083293728436660, 0.07506841308610629),
                0.5: (0.03227406833393168, 0.08006108664052669),
                1.0: (0.01943576490827931, 0.09040305328896886),
                1.5: (0.00552760286382256, 0.10324135671462126),
                2.0: (-0.00838055918063421, 0.11714951875907803)}


@pytest.fixture(scope="module")
def sample():
    df = pd.read_csv(FILES / "ehec.csv")
    df = df.loc[(df["year"] < 2016) & (df["yexp2"] != 2015)].reset_index(drop=True)
    assert df["stfips"].nunique() == 43 and len(df) == 344
    return df


def _twfe(df, extra=None):
    """(betahat, sigma) of the TWFE event study by two-way demeaning; fixest CR1 by state."""
    d = (df["yexp2"] == 2014).to_numpy(float)
    years = [y for y in range(2008, 2016) if y != 2013]
    X = np.column_stack([d * (df["year"].to_numpy() == y) for y in years])
    if extra is not None:
        X = np.column_stack([X, extra])
    y = df["dins"].to_numpy(float)
    state, year = df["stfips"].to_numpy(), df["year"].to_numpy()

    def demean(a):  # balanced panel: two-way within transformation
        a = pd.DataFrame(a)
        return (a - a.groupby(state).transform("mean") - a.groupby(year).transform("mean")
                + a.mean()).to_numpy()

    Xd, yd = demean(X), demean(y[:, None])[:, 0]
    bread = np.linalg.inv(Xd.T @ Xd)
    beta = bread @ Xd.T @ yd
    u = yd - Xd @ beta
    codes = pd.factorize(state)[0]
    G, n, k = codes.max() + 1, len(y), X.shape[1] + 8
    scores = np.zeros((G, X.shape[1]))
    np.add.at(scores, codes, Xd * u[:, None])
    V = G / (G - 1) * (n - 1) / (n - k) * bread @ scores.T @ scores @ bread
    return beta[:7], V[:7, :7]


@pytest.fixture(scope="module")
def es(sample):
    return _twfe(sample)


def test_regression_with_control_matches_readme_cache(sample):
    """README "Regressions with controls": set.seed(0); control <- rnorm(344)."""
    betahat, sigma = _twfe(sample, extra=r_rnorm(len(sample), 0))
    # knitr cache (chunk 8 at f05ddad): betahat and sqrt(diag(sigma)) after dropping the control
    r_beta = [-0.005503459402, -0.011227788204, -0.00246761262, -0.001666161646,
              -0.000239216716, 0.046573191126, 0.069296521139]
    r_se = [0.008922954458, 0.008669370422, 0.007161044754, 0.006432863972, 0.007608066098,
            0.009180331594, 0.010299399906]
    # 7-digit CSV vs R's float32 data: coefficients differ by 1.6e-8, SEs by 3e-7 (relative)
    np.testing.assert_allclose(betahat, r_beta, atol=5e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(sigma)), r_se, rtol=1e-6)
    res = honest_did(betahat, sigma, num_pre_periods=5, num_post_periods=2, method="smoothness",
                     m_values=np.arange(6) / 100)
    printed = [("0.0264", "0.0607"), ("0.0128", "0.0788"), ("0.00186", "0.0908"),
               ("-0.00814", "0.101"), ("-0.0181", "0.111"), ("-0.0281", "0.121")]
    for m, (lo, hi) in zip(np.arange(6) / 100, printed, strict=True):
        got = _bounds(res, m)
        _assert_printed(got[0], lo)
        _assert_printed(got[1], hi)


def _assert_printed(got: float, printed: str) -> None:
    """|got − printed| ≤ half a unit in the last printed digit (5e-5 for 0.0240, 5e-4 for 0.101)."""
    decimals = len(printed.split(".")[1])
    assert got == pytest.approx(float(printed), abs=0.5 * 10.0 ** -decimals)


def _bounds(result, m):
    row = result.path.loc[m]
    return float(row["low"]), float(row["high"])


def test_relative_magnitudes_c_lf_matches_readme(es):
    betahat, sigma = es
    res = honest_did(betahat, sigma, num_pre_periods=5, num_post_periods=2,
                     m_values=[0.0, 0.5, 1.0, 1.5, 2.0])
    for m, (lo, hi) in RM_PRINTED.items():
        got = _bounds(res, m)
        _assert_printed(got[0], lo)
        _assert_printed(got[1], hi)
    for m, (lo, hi) in RM_CACHE.items():
        got = _bounds(res, m)
        assert got[0] == pytest.approx(lo, abs=1e-7) and got[1] == pytest.approx(hi, abs=1e-7)
    # README: "the breakdown value for a significant effect is M̄ = 2"
    assert res.breakdown == 2.0
    assert res.diagnostics["inference"] == "C-LF"


def test_relative_magnitudes_average_effect_matches_cache(es):
    betahat, sigma = es
    res = honest_did(betahat, sigma, num_pre_periods=5, num_post_periods=2,
                     m_values=list(RM_AVG_CACHE), l_vec=[0.5, 0.5])
    for m, (lo, hi) in RM_AVG_CACHE.items():
        got = _bounds(res, m)
        assert got[0] == pytest.approx(lo, abs=1e-7) and got[1] == pytest.approx(hi, abs=1e-7)


def test_smoothness_flci_matches_readme(es):
    betahat, sigma = es
    res = honest_did(betahat, sigma, num_pre_periods=5, num_post_periods=2, method="smoothness",
                     m_values=list(SD_PRINTED))
    for m, (lo, hi) in SD_PRINTED.items():
        got = _bounds(res, m)
        if m != 0:
            _assert_printed(got[0], lo)
        _assert_printed(got[1], hi)
    # M = 0, lower bound: R's own value 0.0259495562 sits 4.96e-5 from the printed 0.0259, and
    # R's conic solver places the minimum-variance centre only to ~2e-6 (the README re-run of
    # 2024 moved it by 8e-6), so this bound is checked against R's full-precision value below
    # (tolerance 2e-6, stricter than the printed digits); ours is 0.0259513.
    for m, (lo, hi) in SD_CACHE.items():
        tol = 2e-6 if m == 0 else 1e-7
        got = _bounds(res, m)
        assert got[0] == pytest.approx(lo, abs=tol) and got[1] == pytest.approx(hi, abs=tol)
    # README: "the breakdown value for a significant effect is M ≈ 0.03"
    assert res.breakdown == 0.03
    # the original interval: 0.0464 ± 1.96 × 0.00915 (constructOriginalCS)
    assert res.path.loc["original", "low"] == pytest.approx(betahat[5] - 1.959964 * np.sqrt(
        sigma[5, 5]), abs=1e-6)


def test_full_mbar_grid_is_fast(es):
    betahat, sigma = es
    start = time.perf_counter()
    res = honest_did(betahat, sigma, num_pre_periods=5, num_post_periods=2)  # 10 values of M̄
    elapsed = time.perf_counter() - start
    assert len(res.path) == 11
    # issue target: the full M̄ grid in under 2 s (measured ~0.6 s on 2 cores); a loose bound
    # here so a loaded CI machine does not fail the test
    assert elapsed < 10
