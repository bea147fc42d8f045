"""Recovery on the simulated shootings world (issue acceptance): size, coverage, Bayesian SC.

Design (see docs/methods/synthetic_control.md, "Recovery on the shootings world"):

* World: :func:`~utvardering.data.worlds.shootings.simulate_shootings`, 20 cities × 120
  months (2014-01 … 2023-12), start 2018-10 (57 pre-, 63 post-months), synthetic control on
  monthly rates per 100,000 with population exposure, as ``analyses/sluta_skjut.py`` does.
* Malmö's level. At the default ``malmo_level`` (62 shootings a month, about 17 per 100,000
  and year) Malmö's expected rate is above every donor's: it lies outside the donors' convex
  hull and no synthetic control can fit its level (monthly noise in the small cities' rates
  hides this from the fit's hull warning, which fires in only ~1 % of seeds). The
  procedures are therefore checked in the default world with one change, ``malmo_level`` = 6
  per 100,000 and year (mid-range of the donors' 2–11), which puts Malmö inside the hull.
  Everything else is the default world (Malmö's own trend 0, the national trend 0.04 a year).
  A harder variant — Malmö's own trend drawn like the other cities' — is measured and
  reported in docs/methods/synthetic_control.md, not asserted here.
* No effect: ``rate_ratio=1``. Effect: ``rate_ratio=0.6``; truth = the realised effect on the
  rate, :math:`(Y_t(1) - Y_t(0)) / \\text{population}_t \\cdot 10^5`, from ``shootings_y0``.
* Attainable levels. Placebo-in-space over J + 1 = 20 cities: p is a multiple of 1/20, so the
  5 % test (p ≤ 0.05) has exact size 1/20 under exchangeability. Conformal test of no effect,
  moving blocks over T = 120 months: multiples of 1/120, exact size 6/120 = 5 %. Pointwise
  95 % intervals (T = 58: the pre-period and one post-month): accepted iff p > 0.05, i.e.
  p ≥ 3/58, nominal coverage 1 − 2/58 = 96.6 %. Average effect over the first post-quarter
  (CWZ Appendix A.1, 3-month blocks): K + 1 = 20 blocks, nominal coverage exactly 95 %.
* Seeds: 200 (slow); ``UTV_TEST_FAST=1``: 20, with bounds wide enough for 20 draws (below).
  Bayesian SC is MCMC (≈ 15–20 s per fit on one core), so 50 seeds (FAST: 6).

Bounds. Full run: rejection rates within the issue's 3–8 % (Monte Carlo s.d. of a 5 % rate
over 200 seeds: 1.5 points) and coverage ≥ 90 % of the nominal rate. FAST (20 seeds): at most
4 rejections of 20 (P(Bin(20, 0.05) ≥ 5) = 0.003; no lower bound — 0 of 20 happens with
probability 0.36) and coverage ≥ 75 % (P(Bin(20, 0.95) ≤ 14) = 0.0003).

Measured (full run, seeds 0–199; Bayesian 0–49): placebo 3.5 %, conformal 8.0 % (at the
edge: heteroskedastic post-period residuals from the national trend, see the docs page),
pointwise coverage 96.3 %, average-effect coverage 94.5 %, Bayesian SC coverage 94 %
(median rate ratio 0.650).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from utvardering.data.worlds.shootings import simulate_shootings
from utvardering.inference.conformal import conformal_average, conformal_interval, conformal_pvalue
from utvardering.study import Study
from utvardering.synth.adh import synthetic_control

import budget

N_SEEDS = budget.draws(full=200, fast=20)
N_BAYES = budget.draws(full=50, fast=6)
MALMO_RATE = 6.0  # per 100,000 and year, inside the donors' 2-11 (shootings.CITIES)
MALMO_LEVEL = MALMO_RATE * 357_000 / 1e5 / 12  # expected shootings per month (pop. 357,000)
START = pd.Period("2018-10", "M")
POINTWISE_MONTHS = (0, 12, 24, 36, 48, 60)  # post-months checked per seed (of 63)
ALPHA = 0.05


def world(seed: int, rate_ratio: float) -> pd.DataFrame:
    """The default shootings world with Malmö's level inside the donors' hull."""
    return simulate_shootings(seed=seed, rate_ratio=rate_ratio, malmo_level=MALMO_LEVEL)


def study_of(df: pd.DataFrame) -> Study:
    return Study(df[["unit", "time", "shootings", "population"]], outcome="shootings", unit="unit",
                 time="time", treated="Malmö", start=str(START), exposure="population",
                 counts=True)


def arrays(fit):
    """Treated rates, donor rates (T × J) and the post mask of a synthetic-control fit."""
    Y = fit.spec["Y"]
    study = fit.study
    y = Y.loc["Malmö"].to_numpy(float)
    Y0 = Y.loc[list(study.donors)].to_numpy(float).T
    post = np.array([t >= START for t in Y.columns])
    return y, Y0, post


def true_rate_effect(df: pd.DataFrame) -> pd.Series:
    """Realised effect on Malmö's rate per 100,000, by month."""
    m = df[df["unit"] == "Malmö"].set_index("time")
    return (m["shootings"] - m["shootings_y0"]) / m["population"] * 1e5


def rejection_bounds() -> tuple[float, float]:
    return budget.choose(full=(0.03, 0.08), fast=(0.0, 4 / 20))  # see the module docstring


def coverage_floor(nominal: float) -> float:
    return budget.choose(full=0.9 * nominal, fast=0.75)  # issue: >= 90 % of the nominal rate


@pytest.fixture(scope="module")
def null_runs() -> pd.DataFrame:
    rows = []
    for seed in range(N_SEEDS):
        df = world(seed, 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = synthetic_control(study_of(df), inference=None)
        placebo = fit.placebo_in_space()
        y, Y0, post = arrays(fit)
        rows.append({"seed": seed, "placebo_p": placebo.p_value,
                     "conformal_p": conformal_pvalue(y, Y0, post)})
    return pd.DataFrame(rows)


def expected_pre_rates(df: pd.DataFrame) -> pd.Series:
    """Expected untreated rate per 100,000 and year (mu0 / population), pre-period mean."""
    pre = df[df["time"] < START]
    return (pre["mu0"] / pre["population"] * 1e5 * 12).groupby(pre["unit"]).mean()


def test_malmo_inside_the_hull_only_with_the_lowered_level():
    """The design premise: Malmö's expected rate is inside the donors' range with
    ``malmo_level`` = 6 per 100,000, and above every donor's at the default level."""
    for seed in range(5):
        inside = expected_pre_rates(world(seed, 1.0))
        donors = inside.drop("Malmö")
        assert donors.min() < inside["Malmö"] < donors.max()
        default = expected_pre_rates(simulate_shootings(seed=seed, rate_ratio=1.0))
        assert default["Malmö"] > default.drop("Malmö").max()


@pytest.mark.slow
def test_placebo_in_space_size_under_no_effect(null_runs):
    """RMSPE-ratio placebo test at 5 % (exact nominal size 1/20 with 20 cities)."""
    rate = float((null_runs["placebo_p"] <= ALPHA + 1e-12).mean())
    print(f"placebo-in-space rejection at 5%: {rate:.3f} over seeds 0..{N_SEEDS - 1}")
    lo, hi = rejection_bounds()
    assert lo <= rate <= hi, f"placebo rejection rate {rate:.3f} over {N_SEEDS} seeds"


@pytest.mark.slow
def test_conformal_size_under_no_effect(null_runs):
    """CWZ moving-block test of no effect at 5 % (exact nominal size 6/120)."""
    rate = float((null_runs["conformal_p"] <= ALPHA + 1e-12).mean())
    print(f"conformal rejection at 5%: {rate:.3f} over seeds 0..{N_SEEDS - 1}")
    lo, hi = rejection_bounds()
    assert lo <= rate <= hi, f"conformal rejection rate {rate:.3f} over {N_SEEDS} seeds"


@pytest.mark.slow
def test_conformal_intervals_cover_the_realised_effect():
    """rate_ratio = 0.6: pointwise 95 % intervals and the CWZ average-effect interval."""
    point_hits, point_n, avg_hits = 0, 0, 0
    for seed in range(N_SEEDS):
        df = world(seed, 0.6)
        truth = true_rate_effect(df)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = synthetic_control(study_of(df), inference=None)
        y, Y0, post = arrays(fit)
        times = list(fit.spec["Y"].columns)
        pre, post_idx = ~post, np.flatnonzero(post)
        for k in POINTWISE_MONTHS:
            t = post_idx[k]
            sel = pre.copy()
            sel[t] = True
            lo, hi = conformal_interval(y[sel], Y0[sel], (np.arange(y.size) == t)[sel],
                                        level=1 - ALPHA)
            point_hits += lo <= truth[times[t]] <= hi
            point_n += 1
        # average over the first post-quarter: 57 pre-months = 19 blocks of 3 (+ the post block)
        keep = pre | np.isin(np.arange(y.size), post_idx[:3])
        _, (lo, hi), n_blocks = conformal_average(y[keep], Y0[keep], post[keep], level=1 - ALPHA)
        assert n_blocks == 20
        avg_hits += lo <= truth[[times[t] for t in post_idx[:3]]].mean() <= hi
    point_cov, avg_cov = point_hits / point_n, avg_hits / N_SEEDS
    print(f"conformal coverage: pointwise {point_cov:.3f} ({point_n} intervals), average "
          f"{avg_cov:.3f} over seeds 0..{N_SEEDS - 1}")
    assert point_cov >= coverage_floor(1 - 2 / 58), f"pointwise coverage {point_cov:.3f}"
    assert avg_cov >= coverage_floor(0.95), f"average-effect coverage {avg_cov:.3f}"


@pytest.mark.slow
def test_bayesian_sc_rate_ratio_coverage():
    """Negative-binomial Bayesian SC with exposure: 95 % interval for the rate ratio 0.6."""
    from utvardering.synth.bayesian import bayesian_synthetic_control

    draws = budget.draws(full=500, fast=300)
    hits, estimates = 0, []
    for seed in range(N_BAYES):
        df = world(seed, 0.6)
        effect = bayesian_synthetic_control(study_of(df), likelihood="negative_binomial",
                                            draws=draws, tune=draws, random_state=seed)
        lo, hi = effect.rate_ratio_interval
        hits += lo <= 0.6 <= hi  # truth: expected ratio = rate_ratio (mu1 = 0.6 mu0)
        estimates.append(effect.rate_ratio)
    coverage = hits / N_BAYES
    print(f"Bayesian SC rate-ratio coverage {coverage:.3f}, median {np.median(estimates):.3f} "
          f"over seeds 0..{N_BAYES - 1}")
    # FAST (6 fits): at most one miss; full: >= 90 % of nominal 95 %
    assert coverage >= budget.choose(full=0.9 * 0.95, fast=5 / 6), f"Bayesian SC coverage {coverage:.3f}"
    est = np.array(estimates)
    # bias: per-fit posterior s.d. of the ratio is about 0.1, so the median over 50 fits has
    # Monte Carlo s.d. about 0.02 (FAST, 6 fits: 0.05); allow 5 and 3 of them
    tol = budget.choose(full=0.1, fast=0.15)
    assert abs(np.median(est) - 0.6) < tol, f"median rate ratio {np.median(est):.3f}"
