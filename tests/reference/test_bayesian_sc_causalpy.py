"""Bayesian synthetic control against CausalPy's ``WeightedSumFitter`` on Proposition 99.

Reference: CausalPy 0.9.0 ``SyntheticControl`` with ``WeightedSumFitter`` (documented
default priors: weights ~ Dirichlet(1, ..., 1), sigma ~ HalfNormal(1), Gaussian likelihood),
fitted to California's cigarette sales 1970-1988 with the 38 other states as controls
(the package's ``prop99.csv``). Numbers produced by ``benchmarks/reference_bayesian_sc_causalpy.py`` run with
``benchmarks/.venv-peers/bin/python`` (PyMC NUTS, 4 chains x 2000 draws after
1000 tuning, target_accept 0.9, random_seed 20240601; 35 divergences, max r-hat
1.001). Each value is a posterior mean with its Monte Carlo standard error
(arviz ``mcse``); ours must agree within 4 combined MC standard errors (4.5 for the 38
weights jointly). The average effect is CausalPy's ``post_impact`` (observed minus posterior
predictive) averaged over 1989-2000, the same quantity as our ``estimate``.
"""

from __future__ import annotations

from importlib import resources

import arviz as az
import numpy as np
import pandas as pd
import pytest

from utvardering.study import Study
from utvardering.synth.bayesian import bayesian_synthetic_control

import budget

# CausalPy 0.9.0, benchmarks/reference_bayesian_sc_causalpy.py, seed 20240601: posterior mean, MC standard error
CAUSALPY_WEIGHTS = {
    "Utah": (0.25436, 0.00103), "Nevada": (0.07494, 0.00057), "New Mexico": (0.05396, 0.00059),
    "Idaho": (0.0514, 0.00052), "Montana": (0.04581, 0.0004), "Colorado": (0.03707, 0.00031),
    "New Hampshire": (0.02638, 0.00023), "Connecticut": (0.02423, 0.00022), "Nebraska": (0.0241, 0.00022),
    "North Carolina": (0.02317, 0.00021), "West Virginia": (0.02067, 0.00019), "Wisconsin": (0.02037, 0.00018),
    "Illinois": (0.01993, 0.00019), "Iowa": (0.01904, 0.00017), "South Dakota": (0.01873, 0.00018),
    "Minnesota": (0.01832, 0.00017), "North Dakota": (0.01723, 0.00016), "Maine": (0.01565, 0.00015),
    "Delaware": (0.01557, 0.00016), "Kansas": (0.01504, 0.00014), "Wyoming": (0.01464, 0.00016),
    "Texas": (0.01431, 0.00013), "Indiana": (0.01389, 0.00013), "Pennsylvania": (0.01383, 0.00012),
    "Ohio": (0.01308, 0.00012), "Louisiana": (0.01245, 0.00011), "Mississippi": (0.01214, 0.00011),
    "Missouri": (0.0121, 0.0001), "Oklahoma": (0.0117, 0.00011), "Rhode Island": (0.01092, 0.00011),
    "Virginia": (0.01083, 0.0001), "Alabama": (0.01059, 0.0001), "Georgia": (0.01023, 0.0001),
    "South Carolina": (0.01011, 9e-05), "Arkansas": (0.00917, 9e-05), "Vermont": (0.00911, 9e-05),
    "Tennessee": (0.00878, 9e-05), "Kentucky": (0.00614, 6e-05),
}
CAUSALPY_EFFECT = (-26.2318, 0.0219)  # posterior sd 1.749
CAUSALPY_SIGMA = (3.8368, 0.0071)


@pytest.fixture(scope="module")
def prop99() -> Study:
    path = resources.files("utvardering") / "data" / "files" / "prop99.csv"
    with path.open() as fh:
        data = pd.read_csv(fh)
    return Study(data, outcome="PacksPerCapita", unit="State", time="Year",
                 treated="California", start=1989)


def _mcse(draws: np.ndarray) -> np.ndarray:
    """arviz MC standard error of the mean of (chain, draw, ...) draws."""
    return np.asarray(az.mcse(az.convert_to_dataset({"x": np.asarray(draws)}))["x"])


def _mcse_of_effect(effect, study: Study) -> float:
    """MC standard error of ``estimate``: the weights' part (arviz, autocorrelated draws)
    plus the independent predictive noise averaged over the post-period."""
    wide = study.wide()
    post = [t for t in wide.columns if t >= 1989]
    x_post = wide.loc[effect.weights.index, post].to_numpy().mean(axis=1)
    w = np.asarray(effect.idata.posterior["w"])  # (chain, draw, donor)
    mu = w @ x_post
    sigma = np.asarray(effect.idata.posterior["sigma"])
    noise = float(np.mean(sigma)) / np.sqrt(len(post)) / np.sqrt(sigma.size)
    return float(np.hypot(_mcse(mu), noise))


@pytest.mark.slow
@pytest.mark.parametrize("parametrization", ["dirichlet", "gamma"])
def test_matches_causalpy_weighted_sum_fitter(prop99, parametrization):
    # Same prior and likelihood as the reference: Dirichlet(1) weights, HalfNormal(1) noise.
    # "dirichlet" samples PyMC's Dirichlet like CausalPy; "gamma" the normalised-Gamma
    # reparametrisation of the same prior (must give the same posterior).
    draws, chains = budget.choose(full=(2000, 4), fast=(600, 2))
    effect = bayesian_synthetic_control(prop99, concentration=1.0, sigma_prior=1.0,
                                        parametrization=parametrization, draws=draws, tune=1000,
                                        chains=chains, random_state=11)
    post = effect.idata.posterior
    ref, ref_se = CAUSALPY_EFFECT
    ours_se = _mcse_of_effect(effect, prop99)
    assert abs(effect.estimate - ref) <= 4 * np.hypot(ours_se, ref_se)
    sigma_se = float(_mcse(post["sigma"]))
    assert abs(float(post["sigma"].mean()) - CAUSALPY_SIGMA[0]) <= 4 * np.hypot(sigma_se, CAUSALPY_SIGMA[1])
    w_se = _mcse(post["w"])  # one per donor
    names = list(effect.weights.index)
    z = [(effect.weights[k] - m) / np.hypot(w_se[names.index(k)], s) for k, (m, s) in CAUSALPY_WEIGHTS.items()]
    assert len(z) == 38 and max(abs(np.array(z))) <= 4.5
    assert effect.weights.idxmax() == "Utah"
