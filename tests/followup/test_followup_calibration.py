"""Repeated draws of the simulated annual world: false flags, power, small-area MSE (slow).

With ``UTV_TEST_FAST=1`` 20 draws instead of 200 (the Monte Carlo standard errors in the
assertions widen accordingly). Measured over 200 draws: see docs/methods/followup.md.
"""

from __future__ import annotations

import pytest

from utvardering.followup.calibration import calibrate, calibrate_mdc

import budget

N_DRAWS = budget.draws(full=200, fast=20)


@pytest.fixture(scope="module")
def draws():
    return calibrate(N_DRAWS, seed=11)


@pytest.mark.slow
def test_false_flag_rate_at_most_the_nominal_fdr(draws):
    """Year-on-year flags on the default world (areas drift slowly, so only sudden changes are
    real changes for this comparison)."""
    c = draws["last"]
    assert c["fdr"] <= draws["fdr_nominal"] + 2 * c["fdr_mc_se"], c


@pytest.mark.slow
def test_false_flag_rate_of_the_baseline_comparison_without_drift():
    """The comparison with the area's recent level tests "no difference from that level": its
    null holds exactly only in areas that do not drift (trend_sd=0). With drift it also flags
    the drift (measured false-flag share 0.255 against sudden changes only over 295 draws, and
    0.058 without drift over 125; see the docs)."""
    out = calibrate(budget.draws(full=100, fast=20), seed=13, trend_sd=0.0)
    c = out["baseline"]
    assert c["fdr"] <= out["fdr_nominal"] + 2 * c["fdr_mc_se"], c


@pytest.mark.slow
def test_small_area_mse_below_direct_mse_in_every_size_band(draws):
    mse = draws["mse"]
    assert (mse["mse_small_area"] < mse["mse_direct"]).all(), mse
    assert (mse["coverage_direct"] > 0.93).all() and (mse["coverage_small_area"] > 0.9).all(), mse


@pytest.mark.slow
def test_power_for_large_changes_with_300_sampled():
    """Changes 3 times the default size (24 points for shares) in areas with 300 sampled are
    flagged at least 70 % of the time by both comparisons (measured over 14 draws: 0.79 vs last
    year, 0.96 vs the baseline)."""
    out = calibrate(budget.draws(full=40, fast=10), seed=12, change_scale=3.0)
    for comparison in ("last", "baseline"):
        c = out[comparison]
        assert c["power_share_300"] >= 0.70 - 2 * c["power_share_300_mc_se"], (comparison, c)
    assert out["last"]["fdr"] <= out["fdr_nominal"] + 2 * out["last"]["fdr_mc_se"], out["last"]


#: Allowed systematic error of the MDC's power beyond Monte Carlo error (see the test below).
MDC_ALLOWANCE = 0.03


@pytest.mark.slow
def test_power_at_the_minimum_detectable_change():
    """Changes planted at exactly each cell's reported MDC (80 % power) are flagged 80 % of the time.

    ``calibrate_mdc`` plants, in 20 survey cells per comparison and draw, a rise or a fall equal
    to the MDC that ``detectable_change`` reports for that cell and direction, iterating three
    times so that the MDC is computed with the Benjamini–Hochberg threshold of a world that has
    those changes. The check is two-sided, so it fails for an MDC that is too optimistic
    (measured power below 0.8) and for one that is too pessimistic (above 0.8): |measured − 0.8|
    ≤ 3 Monte Carlo s.e. (between-draw s.e. of the per-draw share flagged) + MDC_ALLOWANCE.

    The allowance (0.03) is the measured systematic error of what the MDC approximates on
    purpose, chiefly the normal approximation to the exact conditional tests (Fisher's for
    shares: discrete, slightly conservative). Over 200 draws (4,000 cells per comparison) the
    measured power was 0.783 ± 0.007 (MC s.e.) vs last year in the default world, and 0.776 ±
    0.009 and 0.774 ± 0.010 for the two comparisons over 100 draws without drift: 0.017–0.027
    below 0.8, about 2.5 s.e.; the problem index (a normal test) reached 0.80–0.82, the shares
    0.75–0.79. The BH threshold that moves when changes are planted is not part of it: after
    three refinement runs the MDC recomputed in the last run is within 0.24 % of the one planted
    (median; 1 % at the 90th percentile).

    The comparison with the last year is checked in the default world; the comparison with the
    area's 4-year level in a world without area drift (``trend_sd=0``), for the same reason as
    its false-flag rate above: drift is variance that this comparison's standard error does not
    contain, so with drift its MDC is optimistic (measured power 0.754 ± 0.007 over 200 draws
    instead of 0.8; docs/methods/followup.md).
    """
    drift = calibrate_mdc(budget.draws(full=50, fast=10), seed=21, power=0.8)
    still = calibrate_mdc(budget.draws(full=50, fast=10), seed=22, power=0.8, trend_sd=0.0)
    for out, comparisons in ((drift, ("last",)), (still, ("last", "baseline"))):
        assert out["dropped"] <= 0.05 * out["power"]["all"]["cells"], out["dropped"]
        assert out["mdc_shift"]["median"] < 0.02, out["mdc_shift"]
        for comparison in comparisons:
            c = out["power"][comparison]
            assert abs(c["measured"] - 0.8) <= 3 * c["mc_se"] + MDC_ALLOWANCE, (comparison, c)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "issue 14 asks for power >= 70 % to flag an 8-point change with 300 sampled; with ~140 "
    "respondents per area (50 % response, Kish deff ~1.15) the standard error of an 8-point "
    "change is ~5-6 points, and FDR control over 1,360 tests needs z of about 3.5: no valid "
    "procedure reaches it (measured over 295 draws: 0.016 vs last year, 0.081 vs the baseline; see "
    "docs/methods/followup.md). What the survey can detect instead: detectable_change gives an "
    "MDC at 80 % power of about 29 points vs last year and 21 vs the 4-year level for a share near "
    "30 % in an area with ~140 respondents (single 5 % test: 17 and 13); required_sample_size puts "
    "80 % power for a rise of 8 points from 30 % at ~3,900 sampled per area (FDR, first step) or "
    "~1,300 (single test), at deff 1.2 and 50 % response."))
def test_issue_target_power_8_points_300_sampled(draws):
    assert draws["last"]["power_share_300"] >= 0.70
    assert draws["baseline"]["power_share_300"] >= 0.70


@pytest.mark.slow
def test_eb_small_area_agrees_with_nuts_on_a_small_case():
    """The empirical-Bayes path against PyMC NUTS on the same model (12 areas × 4 years).

    EB plugs in the estimated variance components while NUTS integrates over them, so with
    only 12 areas the posterior means differ by up to about half a posterior s.d. (measured
    0.51 at most, mostly below 0.2); over 30 areas see bench_followup.py."""
    import numpy as np

    from utvardering.data.worlds.annual_survey import simulate_annual_followup
    from utvardering.followup import fit_small_area, survey_estimates

    world = simulate_annual_followup(seed=5, n_areas=12, years=(2019, 2022), n_changes=0)
    est = survey_estimates(world.survey)
    g = est[(est["unit"] != "City") & (est["indicator"] == "unsafe_evening")]
    _, eb = fit_small_area(g, kind="share")
    _, nuts = fit_small_area(g, kind="share", method="nuts", random_state=1,
                             n_draws=budget.draws(full=1000, fast=300))
    z = np.abs(eb.mean - nuts.mean) / nuts.sd
    assert z.mean() < 0.25 and z.max() < 0.75, z
    assert 0.7 < float(np.median(eb.sd / nuts.sd)) < 1.3
