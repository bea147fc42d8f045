"""Every registered estimator honours the Effect contract (architecture review, item 5).

One small design per estimator kind; each registered estimator is run through the registry
(``get_estimator(name).function``, as the command line does) and its result is checked for the
shared interface: estimate and interval, p-value or posterior probability, diagnostics with a
``warnings`` list and the library's one key vocabulary, ``summary()``, ``to_frame()``,
``to_dict()``/``from_dict()`` and ``to_json()``/``from_json()`` round trips, and ``plot()``.
A newly registered estimator without a case here fails ``test_every_registered_estimator_has_a_case``.
"""

from __future__ import annotations

import math
import os
import warnings

import matplotlib
import pandas as pd
import pytest

import utvardering as utv
from utvardering.estimators import get_estimator

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def area_study() -> utv.Study:
    """Violence in 20 Malmö-like areas, 2019-01..2022-12; Möllevången guarded from 2021-06."""
    crime = utv.simulate_area_crime(first="2019-01", last="2022-12")
    keep = sorted(crime["unit"].unique())
    keep = ["Möllevången", *[u for u in keep if u != "Möllevången"][:19]]
    data = crime[crime["unit"].isin(keep)].reset_index(drop=True)
    return utv.Study(data, outcome="violence", treated="Möllevången", start="2021-06",
                     exposure="population")


@pytest.fixture(scope="module")
def staggered_study() -> utv.Study:
    mpdta = pd.read_csv(os.path.join(os.path.dirname(utv.__file__), "data", "files", "mpdta.csv"))
    return utv.Study(mpdta, outcome="lemp", unit="countyreal", time="year", cohort="first.treat",
                     min_pre_periods=1)


@pytest.fixture(scope="module")
def survey_frame() -> pd.DataFrame:
    return utv.simulate_safety_survey()


# name -> (fixture, options); MCMC estimators get small draws (they are also slow-marked)
CASES: dict[str, tuple[str, dict]] = {
    "bacon_decomposition": ("staggered_study", {}),
    "callaway_santanna": ("staggered_study", {}),
    "diff_in_diff": ("area_study", {}),
    "event_study": ("area_study", {}),
    "imputation_did": ("staggered_study", {}),
    "poisson_did": ("area_study", {"random_state": 1}),
    "sun_abraham": ("staggered_study", {}),
    "survey_did": ("survey_frame", {"item": "unsafe_evening", "treated": "Möllevången",
                                    "start": 2021, "random_state": 1, "n_draws": 199}),
    "twfe": ("area_study", {}),
    "augmented_synthetic_control": ("area_study", {}),
    "penalized_synthetic_control": ("area_study", {}),
    "synthetic_control": ("area_study", {}),
    "synthetic_did": ("area_study", {"random_state": 1}),
    "bayesian_synthetic_control": ("area_study", {"draws": 200, "tune": 200, "chains": 2,
                                                  "random_state": 1}),
    "causal_impact": ("area_study", {"draws": 200, "tune": 200, "random_state": 1}),
    "interrupted_time_series": ("area_study", {}),
}
SLOW = {"bayesian_synthetic_control"}
# Keys that have one spelling across the library (review §3.3): old spelling -> new.
OLD_KEYS = {"pretrend_p": "pretrend_p_value", "r_hat": "r_hat_max", "ess_bulk": "ess_bulk_min",
            "ess_tail": "ess_tail_min"}


def _library_estimators() -> set[str]:
    """Registered names whose function is the library's own (tests may register toy ones)."""
    return {name for name in utv.list_estimators()["name"]
            if get_estimator(name).function.__module__.startswith("utvardering.")}


def test_every_registered_estimator_has_a_case():
    names = _library_estimators()
    assert names <= set(CASES), f"add a contract case for {sorted(names - set(CASES))}"


def _params():
    names = _library_estimators()
    for name in sorted(set(CASES) & names):
        marks = [pytest.mark.slow] if name in SLOW else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_registered_estimator_honours_the_effect_contract(name, request):
    fixture, options = CASES[name]
    design = request.getfixturevalue(fixture)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effect = get_estimator(name).function(design, **options)
    assert isinstance(effect, utv.Effect)
    assert math.isfinite(effect.estimate), name
    low, high = effect.interval
    assert (math.isnan(low) and math.isnan(high)) or low <= effect.estimate <= high or \
        name == "bacon_decomposition", (name, effect.interval, effect.estimate)
    assert effect.p_value is not None or effect.prob is not None or math.isnan(low), name
    assert isinstance(effect.diagnostics.get("warnings", []), list)
    for old, new in OLD_KEYS.items():
        assert old not in effect.diagnostics, f"{name}: diagnostics key {old!r} is spelt {new!r}"
    if effect.p_value is not None and not (0.0 <= effect.p_value <= 1.0):
        pytest.fail(f"{name}: p-value {effect.p_value} outside [0, 1]")
    text = effect.summary()
    assert isinstance(text, str) and text.strip()
    frame = effect.to_frame()
    assert {"estimate", "p_value"} <= set(frame.columns)
    back = utv.Effect.from_dict(effect.to_dict())
    assert type(back) is type(effect)
    assert (back.estimate == effect.estimate and tuple(back.interval) == tuple(effect.interval)) \
        or (math.isnan(back.interval[0]) and math.isnan(effect.interval[0]))
    assert utv.Effect.from_json(effect.to_json()).to_json() == effect.to_json()
    figure = effect.plot()
    assert figure is not None and len(figure.axes) >= 1
    import matplotlib.pyplot as plt

    plt.close("all")
