"""The synth family speaks the one vocabulary (issue 11 item 3): new names, old names with a
DeprecationWarning and the same numbers, options validated before any fitting, and events
prevented / rate ratio as Effect fields."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering import DesignError, Study


def panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units = [f"area{i}" for i in range(8)]
    rows = []
    for i, u in enumerate(units):
        level = 40 + 4 * i
        for t in range(2010, 2024):
            effect = -8 if (u == "area3" and t >= 2020) else 0
            rows.append((u, t, int(rng.poisson(level + effect)), 50_000.0 + 5_000 * i))
    return pd.DataFrame(rows, columns=["unit", "year", "crimes", "population"])


@pytest.fixture(scope="module")
def study() -> Study:
    return Study(panel(), outcome="crimes", unit="unit", time="year", treated="area3",
                 start=2020, exposure="population", counts=True)


def _same(a, b):
    assert a.estimate == b.estimate
    assert a.interval == b.interval or np.allclose(a.interval, b.interval, equal_nan=True)
    pd.testing.assert_series_equal(a.weights, b.weights, check_exact=True)


@pytest.mark.parametrize("call, new, old", [
    (utv.synthetic_control, {"rate": True, "inference": None}, {"rates": True, "inference": None}),
    (utv.augmented_synthetic_control, {"penalty": 1.0, "inference": None},
     {"lambda_": 1.0, "se": None}),
    (utv.penalized_synthetic_control, {"penalty": 0.1, "inference": None},
     {"penalty": 0.1, "se": None}),
    (utv.synthetic_did, {"inference": "placebo", "n_draws": 5, "random_state": 0,
                         "enumerate_placebos": False},
     {"se": "placebo", "replications": 5, "random_state": 0, "enumerate_placebos": False}),
])
def test_issue11_old_synth_keywords_warn_and_give_the_same_numbers(study, call, new, old):
    fresh = call(study, **new)
    with pytest.warns(DeprecationWarning, match="is renamed"):
        legacy = call(study, **{k: v for k, v in old.items()})
    _same(fresh, legacy)


def test_issue11_conformal_n_draws_replaces_n_permutations(study):
    fit = utv.synthetic_control(study, inference=None)
    new = fit.conformal(scheme="iid", n_draws=49, random_state=1)
    with pytest.warns(DeprecationWarning, match="n_permutations= is renamed n_draws="):
        old = fit.conformal(scheme="iid", n_permutations=49, random_state=1)
    assert new.p_value == old.p_value and new.interval == old.interval
    with pytest.raises(TypeError, match="unexpected keyword"):
        fit.conformal(n_perms=10)
    ascm = utv.augmented_synthetic_control(study, inference=None)
    with pytest.warns(DeprecationWarning):
        ascm.conformal(scheme="iid", n_permutations=19, random_state=1)


def test_issue11_old_and_new_name_together_is_an_error(study):
    with pytest.raises(DesignError, match="give rate= only"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        utv.synthetic_control(study, rate=False, rates=True)
    with pytest.raises(DesignError, match="give n_draws= only"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        utv.synthetic_did(study, n_draws=10, replications=20)


@pytest.mark.parametrize("call, bad", [
    (utv.synthetic_control, {"inference": "placebo"}),
    (utv.synthetic_control, {"level": 95}),
    (utv.augmented_synthetic_control, {"inference": "bootstrap"}),
    (utv.penalized_synthetic_control, {"inference": "wild"}),
    (utv.synthetic_did, {"inference": "wild"}),
    (utv.synthetic_did, {"estimator": "ols"}),
    (utv.bayesian_synthetic_control, {"prior_weights": "lasso"}),
    (utv.bayesian_synthetic_control, {"likelihood": "normal"}),
])
def test_issue11_options_are_validated_before_fitting(study, call, bad):
    start = time.perf_counter()
    with pytest.raises(DesignError, match=f"{next(iter(bad))}="):
        call(study, **bad)
    assert time.perf_counter() - start < 0.5  # refused up front, nothing fitted


def test_issue11_bayesian_prior_weights_rename(study):
    with pytest.warns(DeprecationWarning, match="weights= is renamed prior_weights="), \
            pytest.raises(DesignError, match="prior_weights='lasso'"):
        utv.bayesian_synthetic_control(study, weights="lasso")


@pytest.mark.parametrize("call, kw", [
    (utv.synthetic_control, {"inference": None}),
    (utv.synthetic_control, {"demean": True, "inference": None}),
    (utv.augmented_synthetic_control, {}),
    (utv.penalized_synthetic_control, {}),
    (utv.synthetic_did, {}),
])
def test_issue11_events_prevented_and_rate_ratio_are_effect_fields(study, call, kw):
    fit = call(study, **kw)
    data = study.data
    post = data[(data["unit"] == "area3") & (data["year"] >= 2020)]
    observed = float(post["crimes"].sum())
    # the events difference is the rate gap times population / 100,000, summed
    gap = fit.path.loc[2020:, "effect"].to_numpy()
    events = float((gap * post["population"].to_numpy() / 100_000).sum())
    assert fit.events_prevented == pytest.approx(-events, rel=1e-9)
    assert fit.diagnostics["events_prevented"] == fit.events_prevented
    assert fit.rate_ratio == pytest.approx(observed / (observed - events), rel=1e-9)
    if np.all(np.isfinite(fit.interval)):
        lo, hi = fit.events_prevented_interval
        assert lo <= fit.events_prevented <= hi
        rlo, rhi = fit.rate_ratio_interval
        assert rlo <= fit.rate_ratio <= rhi
    again = utv.Effect.from_dict(fit.to_dict())
    assert again.events_prevented == fit.events_prevented
