"""Poisson DiD randomization inference: size-rescaled placebos, covariates, ``inference="auto"``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from utvardering.did.poisson import poisson_did
from utvardering.did.poisson_placebo import placebo_size_terms, poisson_randomization
from utvardering.inference.randomization import size_variance_rescale

from .test_poisson import simulate_counts


def test_size_variance_rescale_recovers_the_variance_function():
    """Placebos drawn with variance A + B s: NNLS recovers (A, B), rescaled placebos have the
    observed assignment's variance, the observed estimate is unchanged."""
    rng = np.random.default_rng(3)
    a_true, b_true = 0.01, 0.8
    s = rng.uniform(0.001, 0.2, 200_000)  # s.e. of A about 0.001, of B 0.3 %
    e = rng.normal(0.0, np.sqrt(a_true + b_true * s))
    e[0], s[0] = 0.37, 0.002
    scaled, model = size_variance_rescale(e, s, observed=0)
    assert model["rescaled"] and model["n_fit"] == 199_999
    assert model["A"] == pytest.approx(a_true, abs=0.003)
    assert model["B"] == pytest.approx(b_true, rel=0.02)
    assert scaled[0] == 0.37
    v_obs = model["A"] + model["B"] * 0.002
    assert model["sd"] == pytest.approx(np.sqrt(v_obs))
    np.testing.assert_allclose(scaled[1:], e[1:] * np.sqrt(v_obs / (model["A"] + model["B"] * s[1:])))
    assert np.std(scaled[1:]) == pytest.approx(np.sqrt(a_true + b_true * 0.002), rel=0.02)


def test_size_variance_rescale_keeps_infinite_and_missing_placebos():
    e = np.array([0.1, -np.inf, np.nan, 0.3, -0.2, 0.05, np.inf])
    s = np.array([0.01, 0.5, 0.1, 0.2, 0.1, 0.05, 0.3])
    scaled, model = size_variance_rescale(e, s, observed=0)
    assert model["n_fit"] == 3  # only finite placebos enter the variance regression
    assert scaled[1] == -np.inf and np.isnan(scaled[2]) and scaled[6] == np.inf
    assert model["A"] >= 0 and model["B"] >= 0


def test_size_variance_rescale_with_too_few_placebos_is_a_no_op():
    e = np.array([0.1, 0.2, -0.3])
    scaled, model = size_variance_rescale(e, np.array([0.1, 0.2, 0.3]), observed=0)
    assert not model["rescaled"] and np.array_equal(scaled, e)


def test_placebo_size_terms_are_inverse_expected_counts():
    mu0 = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 10.0, 10.0], [0.5, 0.5, 0.5, 0.5]])
    designs = np.zeros((3, 3, 4))
    for j in range(3):
        designs[j, j, 2:] = 1.0
    s = placebo_size_terms(designs, mu0)
    # unit 0: treated cells 3 + 4 = 7, untreated 1 + 2 = 3
    np.testing.assert_allclose(s, [1 / 7 + 1 / 3, 1 / 20 + 1 / 20, 1 / 1 + 1 / 1])


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_size_corrections_shrink_the_interval_of_a_large_treated_area():
    """A treated area 30× larger than 119 comparison areas (no size-free noise): its Poisson
    noise is far smaller than theirs. Both corrections narrow the raw placebo interval around
    the same estimate — rescaling (Ferman–Pinto) most, matching on size (the 19 largest
    areas) less — and both still cover the true log rate ratio."""
    frame, _ = simulate_counts(n_units=120, n_t=24, n_treated=1, start=12, rate_ratio=0.7, seed=5)
    big = frame["unit"] == "area000"
    frame.loc[big, "crimes"] = np.random.default_rng(6).poisson(
        30 * frame.loc[big, "crimes"].mean() * np.where(frame.loc[big, "d"] == 1, 0.7, 1.0))
    fits = {h: _quiet(poisson_did, frame, outcome="crimes", treatment="d", exposure="population",
                      inference="randomization", heteroskedasticity=h)
            for h in ("none", "matched", "size")}
    width = {h: f.interval[1] - f.interval[0] for h, f in fits.items()}
    assert fits["matched"].estimate == fits["size"].estimate == fits["none"].estimate
    # measured: none 1.42, matched 0.55, size 0.16
    assert width["size"] < width["matched"] < 0.5 * width["none"]
    for h in ("matched", "size"):
        assert fits[h].interval[0] < np.log(0.7) < fits[h].interval[1]
    matched = fits["matched"].diagnostics["randomization"]
    assert matched["heteroskedasticity"] == "matched" and matched["n_matched"] == 19
    assert matched["n_permutations"] == 20  # the observed assignment and its 19 matches
    lo, hi = matched["matched_size_range"]
    assert matched["size_term"] < lo <= hi  # the largest area: every match is smaller
    sized = fits["size"].diagnostics["randomization"]
    assert sized["variance_model"]["rescaled"]
    assert "Ferman–Pinto" in fits["size"].diagnostics["interval_method"]
    assert "19 placebos closest" in fits["matched"].diagnostics["interval_method"]


def test_matched_placebos_are_the_nearest_in_size():
    from utvardering.did.poisson_placebo import _nearest_in_size

    betas = np.array([0.1, 0.5, np.nan, -0.2, 0.3, -np.inf, 0.05])
    sizes = np.array([0.01, 0.011, 0.0101, 0.05, 0.009, 0.012, 0.5])
    keep, span = _nearest_in_size(betas, sizes, 3)
    # the nan placebo (size 0.0101) is skipped; nearest in log size: 0.009, 0.011, 0.012
    assert sorted(keep.tolist()) == [1, 4, 5]
    assert sorted(betas[keep].tolist()) == sorted([0.3, 0.5, -np.inf])
    assert span == [0.009, 0.012]
    with pytest.raises(ValueError, match="n_matched=0"):
        _nearest_in_size(betas, sizes, 0)


def test_randomization_refits_include_the_covariates():
    """With a covariate the observed assignment's refit equals the main fit (it used to be
    refitted without the covariate)."""
    frame, _ = simulate_counts(n_units=12, n_t=16, n_treated=1, start=8, rate_ratio=0.6, seed=9)
    rng = np.random.default_rng(10)
    frame["patrols"] = rng.normal(size=len(frame))
    frame["crimes"] = rng.poisson(frame["crimes"] * np.exp(0.3 * frame["patrols"]) + 0.5)
    fit = _quiet(poisson_did, frame, outcome="crimes", treatment="d", exposure="population",
                 covariates=["patrols"], inference="randomization")
    assert fit.diagnostics["randomization"]["estimate"] == pytest.approx(fit.estimate, abs=1e-9)
    assert fit.diagnostics["randomization"]["n_permutations"] == 12


def test_auto_inference_follows_the_number_of_treated_clusters():
    one, _ = simulate_counts(n_units=12, n_t=16, n_treated=1, start=8, seed=8)
    fit = _quiet(poisson_did, one, outcome="crimes", treatment="d", exposure="population")
    assert fit.diagnostics["inference"] == "randomization"
    assert "1 treated cluster" in fit.diagnostics["inference_reason"]
    assert fit.p_value == fit.diagnostics["randomization"]["p_value"]
    many, _ = simulate_counts(n_units=50, n_t=12, n_treated=25, start=6, seed=8)
    fit = _quiet(poisson_did, many, outcome="crimes", treatment="d", exposure="population")
    assert fit.diagnostics["inference"] == "cluster" and "randomization" not in fit.diagnostics
    es = _quiet(poisson_did, one, outcome="crimes", treatment="d", exposure="population",
                event_study=True)
    assert es.diagnostics["inference"] == "cluster"
    assert "event study" in es.diagnostics["inference_reason"]
    with pytest.raises(ValueError, match="inference='bootstrap' is not an option"):
        poisson_did(one, outcome="crimes", treatment="d", inference="bootstrap")


def test_size_rescaling_needs_expected_counts():
    frame, _ = simulate_counts(n_units=8, n_t=10, n_treated=1, start=5, seed=1)
    y = frame["crimes"].to_numpy(float)
    u = frame["unit"].str[4:].astype(int).to_numpy()
    t = frame["time"].to_numpy()
    pattern = np.zeros((8, 10))
    pattern[u, t] = frame["d"].to_numpy()
    for h in ("size", "matched"):
        with pytest.raises(ValueError, match="needs mu0"):
            poisson_randomization(y, u, t, pattern, [u, t], u, heteroskedasticity=h)
    with pytest.raises(ValueError, match="heteroskedasticity='x'"):
        poisson_randomization(y, u, t, pattern, [u, t], u, heteroskedasticity="x")


def test_several_treated_units_get_placebos_from_comparison_units_only():
    """Five treated areas: placebo sets are drawn among the 35 comparison areas (the treated
    areas' real effect cannot leak into the placebos), reproducibly with a seed."""
    frame, _ = simulate_counts(n_units=40, n_t=16, n_treated=5, start=8, rate_ratio=0.5, seed=4)
    kw = dict(outcome="crimes", treatment="d", exposure="population", n_draws=99)
    a = _quiet(poisson_did, frame, random_state=7, **kw)
    b = _quiet(poisson_did, frame, random_state=7, **kw)
    info = a.diagnostics["randomization"]
    assert a.diagnostics["inference"] == "randomization" and not info["exact"]
    # the default keeps the 19 of 99 placebo sets closest in expected counts
    assert info["scheme"] == "comparison units" and info["n_permutations"] == 20
    assert a.interval == b.interval and a.p_value == b.p_value
    # a halved rate in five areas is beyond every matched placebo (the smallest p-value, 1/20)
    assert a.p_value == pytest.approx(1 / 20) and a.interval[1] < 0
    assert a.interval[0] < np.log(0.5) < a.interval[1]
    every = _quiet(poisson_did, frame, random_state=7, heteroskedasticity="none", **kw)
    assert every.diagnostics["randomization"]["n_permutations"] == 100
    assert every.p_value == pytest.approx(1 / 100)


def test_placebo_table_and_plot():
    """The effect carries every placebo assignment (comparison units by name, the 19 matched
    flagged), survives the JSON round trip, and draws the placebo funnel."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    from utvardering import Effect

    frame, _ = simulate_counts(n_units=40, n_t=16, n_treated=1, start=8, rate_ratio=0.6, seed=2)
    fit = _quiet(poisson_did, frame, outcome="crimes", treatment="d", exposure="population")
    table = fit.placebo
    assert list(table.columns) == ["assignment", "estimate", "size_term", "used",
                                   "reference_value"]
    assert len(table) == 39 and "area000" not in set(table["assignment"])
    assert table["used"].sum() == 19 == fit.diagnostics["randomization"]["n_matched"]
    assert (table["size_term"] > 0).all()
    used = table.loc[table["used"], "reference_value"].to_numpy()
    lo, hi = fit.interval  # the interval's radius is the largest |placebo| of the reference set
    assert max(hi - fit.estimate, fit.estimate - lo) == pytest.approx(np.abs(used).max())
    back = Effect.from_dict(json.loads(fit.to_json()))
    pd.testing.assert_frame_equal(back.placebo.reset_index(drop=True), table, check_dtype=False)
    fig = fit.plot_placebos()
    assert fig.axes[0].get_xscale() == "log"
    cluster = _quiet(poisson_did, frame, outcome="crimes", treatment="d", inference="cluster")
    with pytest.raises(ValueError, match="no placebo estimates"):
        cluster.plot_placebos()
