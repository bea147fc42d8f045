"""Repeated draws of the simulated annual world: false flags, power, small-area MSE (slow).

With ``UTV_TEST_FAST=1`` 20 draws instead of 200 (the Monte Carlo standard errors in the
assertions widen accordingly). Measured over 200 draws: see docs/methods/followup.md.
"""

from __future__ import annotations

import os

import pytest

from utvardering.followup.calibration import calibrate

FAST = os.environ.get("UTV_TEST_FAST", "0") == "1"
N_DRAWS = 20 if FAST else 200


@pytest.fixture(scope="module")
def draws():
    return calibrate(N_DRAWS, seed=11)


@pytest.mark.slow
def test_false_flag_rate_at_most_the_nominal_fdr(draws):
    for comparison in ("last", "baseline"):
        c = draws[comparison]
        assert c["fdr"] <= draws["fdr_nominal"] + 2 * c["fdr_mc_se"], (comparison, c)


@pytest.mark.slow
def test_small_area_mse_below_direct_mse_in_every_size_band(draws):
    mse = draws["mse"]
    assert (mse["mse_small_area"] < mse["mse_direct"]).all(), mse
    assert (mse["coverage_direct"] > 0.93).all() and (mse["coverage_small_area"] > 0.9).all(), mse


@pytest.mark.slow
def test_power_for_large_changes_with_300_sampled():
    """Changes 3 times the default size (24 points for shares) in areas with 300 sampled are
    flagged against the area's own baseline at least 70 % of the time."""
    out = calibrate(10 if FAST else 40, seed=12, change_scale=3.0)
    c = out["baseline"]
    assert c["power_share_300"] >= 0.70 - 2 * c["power_share_300_mc_se"], c
    assert c["fdr"] <= out["fdr_nominal"] + 2 * c["fdr_mc_se"], c


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "issue 14 asks for power >= 70 % to flag an 8-point change with 300 sampled; with ~140 "
    "respondents per area (50 % response, Kish deff ~1.15) the standard error of an 8-point "
    "change is ~5-6 points, and FDR control over 1,360 tests needs z of about 3.5: no valid "
    "procedure reaches it (measured ~0.1-0.2, see docs/methods/followup.md)."))
def test_issue_target_power_8_points_300_sampled(draws):
    assert draws["baseline"]["power_share_300"] >= 0.70
