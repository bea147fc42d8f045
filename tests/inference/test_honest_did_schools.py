"""HonestDiD on the Drogfri skola schools data, called as analyses/drogfri_skola.py calls it.

The analysis fits a TWFE event study of drug offences (cohort ``first_search``, 6 leads and 6
lags, end points binned, clustered by school) on the bundled schools world and passes it to
``honest_did(es, method="relative_magnitudes", m_values=[0, 0.5, 1, 1.5, 2])`` (C-LF intervals
for the first post-period effect, with 5 pre- and 7 post-period coefficients).
"""

from __future__ import annotations

import numpy as np
import pytest

from utvardering.data.simulate import read_bundled_simulation
from utvardering.did.twfe import event_study
from utvardering.inference.honest_did import honest_did
from utvardering.inference.honest_rm import rm_grid
from utvardering.study import Study

M_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0]  # analyses/drogfri_skola.toml, design.honest_m


@pytest.fixture(scope="module")
def schools_es():
    schools = read_bundled_simulation("schools")
    study = Study(schools, outcome="drug_offences", cohort="first_search")
    return event_study(study.data, outcome=study.outcome, cohort="first_search", leads=6, lags=6,
                       cluster="unit")


@pytest.fixture(scope="module")
def sensitivity(schools_es):
    return honest_did(schools_es, method="relative_magnitudes", m_values=M_VALUES)


def _grid_step(es) -> float:
    """Resolution of the θ grid the C-LF interval is read from (±20 s.e., 1000 points)."""
    sigma = es.vcov.loc[["event_time[0]"], ["event_time[0]"]].to_numpy(float)
    grid = rm_grid(sigma, 0, np.ones(1))
    return float(grid[1] - grid[0])


def test_design_is_the_analysis_design(sensitivity):
    assert sensitivity.diagnostics["inference"] == "C-LF"
    assert (sensitivity.diagnostics["n_pre"], sensitivity.diagnostics["n_post"]) == (5, 7)
    assert list(sensitivity.path.index[:-1]) == M_VALUES
    assert sensitivity.path.index[-1] == "original"
    assert np.all(np.isfinite(sensitivity.path.to_numpy(float)))
    assert sensitivity.warnings == []  # no empty set, no interval reaching the grid end


def test_intervals_are_nested_and_widen_with_mbar(sensitivity, schools_es):
    """Δ^RM(M̄) grows with M̄, so each robust interval contains the previous one (up to one
    step of the θ grid the bounds are read from)."""
    step = _grid_step(schools_es)
    robust = sensitivity.path.iloc[:-1].to_numpy(float)
    assert np.all(np.diff(robust[:, 0]) <= step)  # lower bounds fall
    assert np.all(np.diff(robust[:, 1]) >= -step)  # upper bounds rise
    width = robust[:, 1] - robust[:, 0]
    assert np.all(np.diff(width) > 0)  # strictly wider here: the pre-trend diffs are not 0


def test_mbar_zero_matches_the_original_interval(sensitivity, schools_es):
    """At M̄ = 0 post-period trends are exactly parallel, the assumption of the original
    interval: the C-LF interval holds the estimate and has about the original's length (it is
    a different, conditional test, so not identical); every M̄ > 0 interval contains the
    original interval."""
    step = _grid_step(schools_es)
    low0, high0 = sensitivity.path.loc[0.0, ["low", "high"]]
    olow, ohigh = sensitivity.interval
    assert low0 <= sensitivity.estimate <= high0
    assert abs((high0 - low0) / (ohigh - olow) - 1) < 0.10
    assert abs(low0 - olow) < 0.1 * (ohigh - olow) + step
    assert abs(high0 - ohigh) < 0.1 * (ohigh - olow) + step
    for m in M_VALUES[1:]:
        low, high = sensitivity.path.loc[m, ["low", "high"]]
        assert low <= olow and ohigh <= high


def test_breakdown_is_consistent_with_the_intervals(sensitivity):
    """The breakdown M̄ is the first M̄ whose robust interval includes 0; the intervals before
    it exclude 0, those from it on include it (nesting)."""
    olow, ohigh = sensitivity.interval
    assert not olow <= 0 <= ohigh  # the original interval excludes 0 (first-month detection jump)
    robust = sensitivity.path.iloc[:-1]
    covers = ((robust["low"] <= 0) & (robust["high"] >= 0)).to_numpy()
    assert covers.any(), "some M̄ in the grid must reach zero for a breakdown to exist"
    first = M_VALUES[int(np.argmax(covers))]
    assert sensitivity.breakdown == first == sensitivity.diagnostics["breakdown"]
    assert not covers[: M_VALUES.index(first)].any() and covers[M_VALUES.index(first):].all()
