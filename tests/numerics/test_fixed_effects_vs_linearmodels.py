"""The fixed-effects absorber behind ``twfe`` cross-checked against linearmodels' ``PanelOLS``.

linearmodels is a runtime dependency for exactly this role: an independent implementation of
the within estimator (entity and time effects, weights, clustered covariance) that our
alternating-projection absorber must reproduce on real data (castle doctrine, Cheng & Hoekstra
2013) and on an unbalanced simulated panel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from linearmodels.panel import PanelOLS

import utvardering as utv

FILES = Path(utv.__file__).parent / "data" / "files"


def _panel_ols(data, outcome, regressors, weights=None):
    frame = data.set_index(["sid", "year"])
    model = PanelOLS(frame[outcome], frame[regressors], entity_effects=True, time_effects=True,
                     weights=None if weights is None else frame[weights])
    return model.fit(cov_type="clustered", cluster_entity=True, group_debias=True)


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    return pd.read_csv(FILES / "castle.csv")


@pytest.mark.parametrize("weights", [None, "popwt"])
def test_twfe_equals_panelols_on_castle(castle, weights):
    ours = utv.twfe(castle, outcome="l_homicide", unit="sid", time="year", treatment="post",
                    weights=weights)
    peer = _panel_ols(castle, "l_homicide", ["post"], weights)
    assert ours.estimate == pytest.approx(peer.params["post"], abs=1e-10)
    # Both are CR1: G/(G-1)·(N-1)/(N-K)·(sandwich). They differ only in K: linearmodels counts
    # every absorbed effect (1 + 49 states + 10 years + intercept = 61); we follow pyfixest and
    # Stata's reghdfe, which leave out the state effects nested in the state clusters (K = 12).
    n, states, years = len(castle), castle["sid"].nunique(), castle["year"].nunique()
    k_all, k_nested = 1 + (states - 1) + (years - 1) + 1, 1 + (years - 1) + 1
    expected = peer.std_errors["post"] * np.sqrt((n - k_all) / (n - k_nested))
    assert ours.se == pytest.approx(expected, rel=1e-8)


def test_twfe_equals_panelols_on_unbalanced_panel_with_covariate():
    rng = np.random.default_rng(7)
    rows = []
    for unit in range(40):
        alpha = rng.normal()
        for year in range(2000, 2012):
            if rng.random() < 0.15:  # unbalanced: drop about 15 % of cells
                continue
            x = rng.normal()
            treated = int(unit < 12 and year >= 2006)
            rows.append({"sid": unit, "year": year, "x": x, "post": treated,
                         "y": alpha + 0.1 * (year - 2000) + 0.5 * x + 0.8 * treated
                         + rng.normal(scale=0.5)})
    data = pd.DataFrame(rows)
    ours = utv.twfe(data, outcome="y", unit="sid", time="year", treatment="post",
                    covariates=["x"])
    peer = _panel_ols(data, "y", ["post", "x"])
    assert ours.estimate == pytest.approx(peer.params["post"], abs=1e-10)
