"""Recovery of the DiD family on the library's own simulated worlds (slow, repeated draws).

Each test draws a world many times (seeds ``SEED0 + r``), fits an estimator and compares it to
the world's truth for the *same* estimand:

* ``callaway_santanna`` (simple aggregation: cohort-size weighted mean of the post-treatment
  ATT(g, t) = the mean of Y(1) − Y(0) over treated school-months of a balanced panel) against
  ``truth["att"]``, the realised mean of ``drug_offences − drug_offences_y0`` over the cells with
  ``treated == 1`` of the schools world;
* ``poisson_did`` (log rate ratio) against log ``truth["realised_ratio"]["violence"]``
  (Σ Y(1) / Σ Y(0) over Möllevången's treated months) of the area-crime world, with the
  CR1 interval (``inference="cluster"``, invalid with one treated area: an expected failure)
  and with the default randomization interval (``inference="auto"``: all 135 comparison
  areas refitted in one batch, about 1 s a draw, the 19 closest in expected counts used);
* ``poisson_did`` with its default inference on the schools world (12 staggered treated
  schools) against the log realised ratio of drug offences over the treated school-months;
* ``survey_did`` (change in the weighted share using drugs) against
  ``truth["population_effect"]`` of the school-survey world (the exact change among all
  students of the surveyed grades in searched schools); coverage with the wild cluster
  bootstrap (the CR1 intervals measured 0.895, see the test).

Acceptance (issue "Recovery on the simulated worlds"): with ``N_SEEDS = 200`` the bias
(mean of estimate − truth) is within 10% of the mean true effect, and 95% intervals cover the
truth in 90–99% of the draws. Parameters are chosen so that 200 draws can resolve a 10% bias
(Monte Carlo standard error of the bias well under 10% of the effect); each test says which.
With ``UTV_TEST_FAST=1`` (CI) only 25 draws are made and the bounds widen accordingly: the bias
may exceed 10% of the effect by three Monte Carlo standard errors, and coverage must lie in
[0.80, 1.00] (three binomial standard errors below 0.95 at 25 draws is 0.82).
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pytest

from utvardering.data.simulate import simulate_area_crime, simulate_school_survey, simulate_schools
from utvardering.did import callaway_santanna, imputation_did, sun_abraham
from utvardering.did.poisson import poisson_did
from utvardering.did.survey import survey_did
from utvardering.did.twfe import twfe
from utvardering.study import Study

import budget

N_SEEDS = budget.draws(full=200, fast=25)
SEED0 = 20_000
COVERAGE = budget.choose(full=(0.90, 0.99), fast=(0.80, 1.00))

#: Schools world for Callaway–Sant'Anna: parallel trends hold by design (selection_on_trend=0:
#: searched schools are a random draw). 48 of 120 schools searched and a stronger prevalence
#: effect (P = 0.5) so that the ATT (about −0.3 offences per school-month) is resolvable: with
#: the defaults (12 of 60 schools, P = 0.85) the ATT is about −0.07 with a per-draw standard
#: deviation of 0.3, and 200 draws estimate the bias only to ±30% of the effect.
SCHOOLS_CS = {"n_schools": 120, "n_treated": 48, "prevalence_effect": 0.5,
              "selection_on_trend": 0.0}
#: Schools world with strongly heterogeneous dynamic effects for the TWFE demonstration: a
#: detection jump ×4 in the search month decaying by 0.6 a month, no prevalence change, the
#: panel cut at 2019-12 so that already-searched schools (in their decaying phase) are a large
#: part of TWFE's comparisons for later cohorts; 100 of 120 schools searched.
SCHOOLS_DYNAMIC = {"n_schools": 120, "n_treated": 100, "last": "2019-12", "detection_effect": 4.0,
                   "detection_decay": 0.6, "prevalence_effect": 1.0, "selection_on_trend": 0.0}


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _summary(rows: np.ndarray, name: str) -> dict:
    """Bias, Monte Carlo s.e., relative bias and coverage from rows (truth, est, low, high).

    Printed too (``pytest -s``) so that a full run documents the measured numbers.
    """
    truth, est, low, high = rows.T
    err = est - truth
    s = {"truth": truth.mean(), "bias": err.mean(), "mcse": err.std(ddof=1) / np.sqrt(len(err)),
         "relative_bias": err.mean() / abs(truth.mean()), "sd": err.std(ddof=1),
         "coverage": float(np.mean((low <= truth) & (truth <= high))), "n": len(err)}
    print(f"\n[recovery] {name}: " + ", ".join(f"{k}={v:.4g}" for k, v in s.items()))
    return s


def _assert_unbiased(s: dict, name: str) -> None:
    bound = 0.10 * abs(s["truth"]) + budget.choose(full=0.0, fast=3 * s["mcse"])
    assert abs(s["bias"]) <= bound, (
        f"{name}: bias {s['bias']:+.4f} ({s['relative_bias']:+.1%} of the true effect "
        f"{s['truth']:+.4f}; Monte Carlo s.e. {s['mcse']:.4f}) over {s['n']} draws")


def _assert_covers(s: dict, name: str) -> None:
    lo, hi = COVERAGE
    assert lo <= s["coverage"] <= hi, f"{name}: coverage {s['coverage']:.3f} over {s['n']} draws"


def _schools_study(seed: int, params: dict) -> tuple[Study, float]:
    df = simulate_schools(seed=seed, **params)
    return Study(df, outcome="drug_offences", cohort="first_search"), float(df.attrs["truth"]["att"])


def _row(effect, truth: float) -> tuple[float, float, float, float]:
    return (truth, float(effect.estimate), *map(float, effect.interval))


@cache
def _schools_runs(params_key: tuple, estimators: tuple) -> dict[str, np.ndarray]:
    params = dict(params_key)
    fits = {"cs": lambda s: callaway_santanna(s, control_group="not_yet_treated"),
            "sa": sun_abraham, "bjs": imputation_did, "twfe": twfe}
    rows: dict[str, list] = {k: [] for k in estimators}
    for r in range(N_SEEDS):
        study, att = _schools_study(SEED0 + r, params)
        for k in estimators:
            rows[k].append(_row(_quiet(fits[k], study), att))
    return {k: np.array(v) for k, v in rows.items()}


@cache
def _area_crime_runs() -> np.ndarray:
    rows = []
    for r in range(N_SEEDS):
        df = simulate_area_crime(seed=SEED0 + r)
        truth = float(np.log(df.attrs["truth"]["realised_ratio"]["violence"]))
        fit = _quiet(poisson_did, df, outcome="violence", treatment="treated",
                     exposure="population", inference="cluster")
        rows.append(_row(fit, truth))
    return np.array(rows)


@cache
def _area_crime_randomization_runs(heteroskedasticity: str) -> np.ndarray:
    rows = []
    for r in range(N_SEEDS):
        df = simulate_area_crime(seed=SEED0 + r)
        truth = float(np.log(df.attrs["truth"]["realised_ratio"]["violence"]))
        fit = _quiet(poisson_did, df, outcome="violence", treatment="treated",
                     exposure="population", inference="auto",
                     heteroskedasticity=heteroskedasticity)
        assert fit.diagnostics["inference"] == "randomization"
        rows.append(_row(fit, truth))
    return np.array(rows)


@cache
def _schools_poisson_runs() -> np.ndarray:
    rows = []
    for r in range(N_SEEDS):
        df = simulate_schools(seed=SEED0 + r, selection_on_trend=0.0)
        on = df["treated"] == 1
        truth = float(np.log(df.loc[on, "drug_offences"].sum()
                             / df.loc[on, "drug_offences_y0"].sum()))
        fit = _quiet(poisson_did, df, outcome="drug_offences", treatment="treated",
                     exposure="enrolment", random_state=SEED0 + r)
        assert fit.diagnostics["inference"] == "randomization"
        rows.append(_row(fit, truth))
    return np.array(rows)


@cache
def _school_survey_runs() -> dict[str, np.ndarray]:
    rows: dict[str, list] = {"cluster": [], "wild": []}
    for r in range(N_SEEDS):
        df = simulate_school_survey(seed=SEED0 + r)
        searched = sorted(df.loc[df["treated"] == 1, "unit"].unique())
        truth = float(df.attrs["truth"]["population_effect"])
        for inference in rows:
            fit = _quiet(survey_did, df, item="drug_use", treated=searched, start=2019,
                         item_range=(0, 1), inference=inference, n_draws=999,
                         random_state=SEED0 + r)
            rows[inference].append(_row(fit, truth))
    return {k: np.array(v) for k, v in rows.items()}


@pytest.mark.slow
def test_callaway_santanna_recovers_the_att_on_the_schools_world():
    """Parallel trends by design (random volunteers): CS is unbiased and its intervals cover."""
    s = _summary(_schools_runs(tuple(SCHOOLS_CS.items()), ("cs",))["cs"], "cs schools")
    _assert_unbiased(s, "callaway_santanna, schools")
    _assert_covers(s, "callaway_santanna, schools")


@pytest.mark.slow
def test_callaway_santanna_covers_on_the_default_schools_world():
    """The world as the analysis sees it (12 of 60 schools searched): coverage only.

    The bias is not asserted here: the ATT (≈ −0.07) is small next to the per-draw standard
    deviation (≈ 0.3), so 200 draws cannot resolve 10% of it (see the test above).
    """
    s = _summary(_schools_runs((("selection_on_trend", 0.0),), ("cs",))["cs"],
                 "cs default schools")
    _assert_covers(s, "callaway_santanna, default schools world")


@pytest.mark.slow
def test_selection_on_trend_biases_callaway_santanna_upwards():
    """With volunteers selected on a rising drug-offence trend, parallel trends fails by design
    and CS is biased upwards: the estimated fall in offences is too small (measured: by 41%)."""
    params = {**SCHOOLS_CS, "selection_on_trend": 1.5}
    s = _summary(_schools_runs(tuple(params.items()), ("cs",))["cs"], "cs selection 1.5")
    assert s["bias"] > 0.10 * abs(s["truth"]) + budget.choose(full=0.0, fast=3 * s["mcse"]), s


@pytest.mark.slow
def test_twfe_is_biased_but_cs_sa_bjs_are_not_with_dynamic_effects():
    """Staggered adoption with decaying effects: TWFE's bias exceeds 10% of the ATT (it uses
    already-searched schools as controls), Callaway–Sant'Anna, Sun–Abraham and the imputation
    estimator stay within 10%."""
    runs = _schools_runs(tuple(SCHOOLS_DYNAMIC.items()), ("cs", "sa", "bjs", "twfe"))
    for name in ("cs", "sa", "bjs"):
        _assert_unbiased(_summary(runs[name], f"{name} dynamic"), f"{name}, dynamic schools world")
    s = _summary(runs["twfe"], "twfe dynamic")
    margin = budget.choose(full=0.0, fast=3 * s["mcse"])
    assert abs(s["bias"]) > 0.10 * abs(s["truth"]) + margin, s


@pytest.mark.slow
def test_poisson_did_recovers_the_rate_ratio_on_the_area_crime_world():
    """Log rate ratio of violence in Möllevången (θ = 0.85 from 14 June 2021): unbiased."""
    _assert_unbiased(_summary(_area_crime_runs(), "poisson area crime"), "poisson_did, area crime")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "one treated area (Möllevången): the CR1 variance cannot see the treated area's own noise "
    "(its score on the treatment is ~0 at the PML solution), mean s.e. 0.014 vs a spread of "
    "the error of 0.10; coverage measured 20% over 200 draws. inference='randomization' (all 136 placebo "
    "refits in one batch) is valid but conservative here — see the tests below and "
    "docs/methods/did.md"))
def test_poisson_did_cluster_intervals_cover_on_the_area_crime_world():
    _assert_covers(_summary(_area_crime_runs(), "poisson area crime"), "poisson_did, area crime")


@pytest.mark.slow
def test_poisson_did_default_intervals_cover_on_the_area_crime_world():
    """The default: ``inference="auto"`` picks randomization for one treated area, and the
    placebos are the 19 comparison areas closest to Möllevången in expected counts
    (``heteroskedasticity="matched"``; exact level 1 − 1/20 = 0.95 if areas of similar size
    are exchangeable). Measured over 200 draws: coverage 0.97 (seeds 20 000–20 199) and 0.98
    on fresh seeds 70 000–70 199; conservative because Möllevången, the largest area, has only
    smaller neighbours in size (see docs/methods/did.md)."""
    s = _summary(_area_crime_randomization_runs("matched"),
                 "poisson area crime (randomization, matched)")
    _assert_unbiased(s, "poisson_did (randomization), area crime")
    _assert_covers(s, "poisson_did (randomization, matched placebos), area crime")


@pytest.mark.slow
def test_poisson_did_unmatched_randomization_intervals_are_valid_but_wide():
    """All 135 comparison areas as placebos (``heteroskedasticity="none"``, Conley–Taber):
    never too short, but the placebo errors are not exchangeable with Möllevången's
    (Ferman & Pinto 2019) — it is the largest area (≈1040 violent crimes in its 19 treated
    months against a median of 70), so its error (s.d. 0.10, mostly the size-free
    area-trend/AR(1) part) is smaller than the typical placebo's (Poisson noise of small
    areas). Measured: coverage 1.00 at nominal 0.956 over 200 draws (0.995 on fresh seeds
    70 000–70 199), above the 99% bound, mean half-width 0.43 against 0.25 matched,
    which is why the default matches placebos on size. Asserted: at least the lower bound."""
    s = _summary(_area_crime_randomization_runs("none"),
                 "poisson area crime (randomization, all placebos)")
    assert s["coverage"] >= COVERAGE[0], s


@pytest.mark.slow
def test_poisson_did_default_intervals_cover_with_twelve_staggered_schools():
    """Several treated units: 12 of 60 schools searched on different dates (schools world,
    random volunteers). ``inference="auto"`` gives the treated schools' paths to random sets of
    comparison schools (199 draws, the 19 closest in expected counts kept). Truth: log of
    Σ Y(1) / Σ Y(0) of drug offences over the treated school-months. Measured over 100 draws
    (seeds 30 000–30 099): coverage 0.96 (all 199 placebos: 0.98; CR1: 0.91), bias +0.003
    against a true −0.113; over the 200 test seeds: coverage 0.95, bias +0.017.

    Coverage only: the bias cannot be resolved to 10% here (per-draw s.d. 0.17 against an
    effect of 0.11, so the Monte Carlo s.e. of the bias over 200 draws is 0.012, itself 10% of
    the effect), as for the default schools world above."""
    s = _summary(_schools_poisson_runs(), "poisson schools (randomization, matched)")
    _assert_covers(s, "poisson_did (randomization), schools")


@pytest.mark.slow
def test_survey_did_recovers_the_population_effect_on_the_school_survey_world():
    """Weighted linear DiD for drug use among students of searched schools (12 of 60).

    Coverage is asserted for the wild cluster bootstrap (Webb weights, 999 draws; measured
    0.955 over 200 draws). The default CR1 intervals measured 0.895: with 12 treated clusters
    the CR1 standard error is about 9% too small on average (0.0113 against a spread of 0.0124)
    and varies like a variance estimated from ~12 clusters, while the critical value uses
    t with G − 1 = 59 degrees of freedom (MacKinnon & Webb 2017).
    """
    runs = _school_survey_runs()
    _assert_unbiased(_summary(runs["cluster"], "survey_did school survey (CR1)"),
                     "survey_did, school survey")
    _assert_covers(_summary(runs["wild"], "survey_did school survey (wild)"),
                   "survey_did (wild bootstrap), school survey")
