"""Medicaid expansion event study (HonestDiD README sample): coefficients and clustered SEs.

The HonestDiD R README (asheshrambachan/HonestDiD, README.md) fits
``fixest::feols(dins ~ i(year, D, ref = 2013) | stfips + year, cluster = "stfips")`` on years
before 2016 without the 2015 expanders (D = 1 for the 2014 expanders: 22 treated vs 21
control states) and passes ``betahat``/``sigma`` to HonestDiD, but it does not print them
(nor does its knitr cache keep them), so there is no published number to assert. These tests
pin the design (5 pre-periods, 2 post) and check our absorbed-effects fit and fixest-style
CR1 variance against an independent dummy-variable regression computed here; the robust
intervals that depend on them are the HonestDiD reference (REFERENCES.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering.did.twfe import event_study

FILES = Path(utv.__file__).parent / "data" / "files"


@pytest.fixture(scope="module")
def ehec() -> pd.DataFrame:
    data = pd.read_csv(FILES / "ehec.csv")
    return data.loc[(data["year"] < 2016) & (data["yexp2"] != 2015)].reset_index(drop=True)


@pytest.fixture(scope="module")
def fit(ehec):
    treated = sorted(ehec.loc[ehec["yexp2"] == 2014, "stfips"].unique())
    return event_study(ehec, outcome="dins", unit="stfips", time="year", treated=treated,
                       start=2014)


def _dummy_regression(ehec):
    """OLS with explicit state and year dummies and fixest's CR1 (K = coefs + year levels)."""
    d = (ehec["yexp2"] == 2014).astype(float).to_numpy()
    years = [y for y in range(2008, 2016) if y != 2013]
    inter = np.column_stack([d * (ehec["year"] == y) for y in years])
    state = pd.get_dummies(ehec["stfips"], dtype=float).to_numpy()
    year = pd.get_dummies(ehec["year"], dtype=float).to_numpy()[:, 1:]
    X = np.column_stack([inter, state, year])
    y = ehec["dins"].to_numpy()
    xtx_inv = np.linalg.inv(X.T @ X)
    beta = xtx_inv @ X.T @ y
    u = y - X @ beta
    g_codes = pd.factorize(ehec["stfips"])[0]
    scores = np.zeros((g_codes.max() + 1, X.shape[1]))
    np.add.at(scores, g_codes, X * u[:, None])
    n, g = len(y), g_codes.max() + 1
    k = inter.shape[1] + 8  # fixest "nested": state effects nested in clusters; 8 year levels
    V = g / (g - 1) * (n - 1) / (n - k) * xtx_inv @ scores.T @ scores @ xtx_inv
    return years, beta[:7], V[:7, :7]


def test_design_matches_readme(ehec, fit):
    assert ehec["stfips"].nunique() == 43
    assert fit.n_treated == 22 and fit.n_control == 21
    # event times -6..1 around 2014 (years 2008–2015), reference 2013 = -1
    assert list(fit.event_study.index) == [-6, -5, -4, -3, -2, -1, 0, 1]
    assert len(fit.pretrend()["terms"]) == 5


def test_coefficients_and_cluster_se_match_dummy_regression(ehec, fit):
    _years, beta, V = _dummy_regression(ehec)
    table = fit.event_study.drop(index=-1)
    np.testing.assert_allclose(table["estimate"].to_numpy(), beta, atol=1e-12)
    np.testing.assert_allclose(table["se"].to_numpy(), np.sqrt(np.diag(V)), rtol=1e-10)
    np.testing.assert_allclose(fit.vcov.to_numpy(), V, rtol=1e-9, atol=1e-16)


def test_first_post_period_effect(fit):
    # Regression value of this implementation (equal to the dummy regression above); the
    # 2014 effect is the target of the README's sensitivity analysis
    row = fit.event_study.loc[0]
    assert row["estimate"] == pytest.approx(0.046447, abs=1e-6)
    assert row["se"] == pytest.approx(0.009152, abs=1e-6)
