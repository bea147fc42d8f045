"""Survey DiD: weighted LPM against a dummy WLS, the ordered logit against statsmodels, few areas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.miscmodels.ordinal_model import OrderedModel

from utvardering import validate_survey
from utvardering.did.result import SurveyDiDEffect
from utvardering.did.survey import survey_did


def simulate_survey(n_areas=12, n_treated=6, waves=(2018, 2019, 2020, 2021), start=2020,
                    n_per_cell=60, effect=-0.6, seed=0):
    """Respondents answering a 1–4 item from a latent logistic model; weights vary."""
    rng = np.random.default_rng(seed)
    rows = []
    area_eff = rng.normal(0, 0.5, n_areas)
    rid = 0
    for a in range(n_areas):
        for t, wave in enumerate(waves):
            for _ in range(n_per_cell):
                treated = a < n_treated and wave >= start
                z = area_eff[a] + 0.1 * t + (effect if treated else 0) + rng.logistic()
                answer = 1 + int(np.searchsorted([-0.5, 0.8, 2.0], z))
                rows.append((f"r{rid}", f"area{a:02d}", wave, rng.uniform(0.5, 2.0), answer))
                rid += 1
    return pd.DataFrame(rows, columns=["respondent", "unit", "time", "weight", "unsafe"])


@pytest.fixture(scope="module")
def survey():
    return simulate_survey()


TREATED = [f"area{a:02d}" for a in range(6)]


def test_linear_equals_weighted_dummy_regression(survey):
    effect = survey_did(survey, item="unsafe", treated=TREATED, start=2020, threshold=3)
    y = (survey["unsafe"] >= 3).astype(float)
    d = (survey["unit"].isin(TREATED) & (survey["time"] >= 2020)).astype(float)
    X = pd.get_dummies(survey[["unit", "time"]].astype(str), drop_first=True, dtype=float)
    X = sm.add_constant(X.assign(d=d))
    fit = sm.WLS(y, X, weights=survey["weight"]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(survey["unit"])[0]})
    assert effect.estimate == pytest.approx(fit.params["d"], abs=1e-10)
    # statsmodels counts all K = 16 dummies; ours (fixest-style) counts 1 + 4 wave levels
    n = len(survey)
    rescale = (n - X.shape[1]) / (n - 5)
    assert effect.se == pytest.approx(fit.bse["d"] * np.sqrt(rescale), rel=1e-8)
    assert effect.scale == "share (population)"
    cells = effect.cell_means
    assert cells.loc[("treated", 2021), "n"] == 6 * 60


def test_ordered_logit_equals_statsmodels_when_unweighted(survey):
    small = survey.loc[survey["unit"].isin([*TREATED[:3], "area06", "area07", "area08"])]
    small = small.assign(weight=1.0)
    effect = survey_did(small, item="unsafe", treated=TREATED[:3], start=2020,
                        model="ordered_logit")
    d = (small["unit"].isin(TREATED[:3]) & (small["time"] >= 2020)).astype(float)
    X = pd.get_dummies(small[["unit", "time"]].astype(str), drop_first=True, dtype=float)
    X.insert(0, "d", d)
    ref = OrderedModel(small["unsafe"].to_numpy() - 1, X, distr="logit").fit(
        method="bfgs", disp=False, gtol=1e-9, maxiter=5000)
    assert effect.estimate == pytest.approx(ref.params["d"], abs=1e-4)
    assert effect.scale.startswith("log odds ratio")


def test_one_treated_area_warns_and_offers_randomization(survey):
    single = survey_did(survey, item="unsafe", treated="area00", start=2020, threshold=3)
    assert any("only 1 treated cluster" in w for w in single.warnings)
    ri = survey_did(survey, item="unsafe", treated="area00", start=2020, threshold=3,
                    inference="randomization")
    info = ri.diagnostics["randomization"]
    assert info["exact"] and info["n_permutations"] == 12 and ri.p_value >= 1 / 12
    wild = survey_did(survey, item="unsafe", treated=TREATED, start=2020, threshold=3,
                      inference="wild", n_draws=999, random_state=0)
    assert wild.diagnostics["wild_bootstrap"]["weights_type"] == "webb"


def test_survey_data_input_nonresponse_and_round_trip(survey):
    data = survey.copy()
    data.loc[data.index[:7], "unsafe"] = np.nan
    validated = validate_survey(data, items={"unsafe": (1, 4)})
    effect = survey_did(validated, item="unsafe", treated=TREATED, start=2020)
    assert effect.diagnostics["item_nonresponse"] == 7
    assert effect.scale == "mean answer (population)"
    back = SurveyDiDEffect.from_dict(effect.to_dict())
    assert back.item == "unsafe" and back.estimate == effect.estimate
    pd.testing.assert_frame_equal(back.cell_means, effect.cell_means, check_dtype=False)


def test_bundled_safety_survey_world():
    from utvardering.data.worlds.safety_survey import simulate_safety_survey

    df = simulate_safety_survey(seed=1)
    neighbours = df.loc[df["neighbour"] == 1, "unit"].unique().tolist()
    effect = survey_did(df, item="unsafe_evening", treated="Möllevången", start=2021, end=2022,
                        threshold=3, exclude=neighbours)
    truth = df.attrs["truth"]["realised_effect_weighted"]
    assert abs(effect.estimate - truth) < 0.01
    assert effect.n_treated == 1 and any("treated cluster" in w for w in effect.warnings)


def test_design_errors(survey):
    with pytest.raises(ValueError, match="not in column"):
        survey_did(survey, item="unsafe", treated="Nowhere", start=2020)
    with pytest.raises(ValueError, match="no pre- or no post"):
        survey_did(survey, item="unsafe", treated=TREATED, start=2030)


def test_auto_inference_follows_the_number_of_treated_areas(survey):
    """``inference="auto"``: exact randomization with one treated area, the wild bootstrap
    below WILD_BELOW_TREATED treated areas, CR1 otherwise (and always for the ordered logit)."""
    from utvardering.did.survey import WILD_BELOW_TREATED

    one = survey_did(survey, item="unsafe", treated="area00", start=2020, threshold=3)
    assert one.diagnostics["inference"]["method"] == "randomization"
    assert one.diagnostics["randomization"]["exact"]
    few = survey_did(survey, item="unsafe", treated=TREATED, start=2020, threshold=3,
                     n_draws=999, random_state=0)
    assert few.diagnostics["inference"]["method"] == "wild" and len(TREATED) < WILD_BELOW_TREATED
    asked = survey_did(survey, item="unsafe", treated=TREATED, start=2020, threshold=3,
                       inference="cluster")
    assert asked.diagnostics["inference"] == {"method": "cluster", "reason": "asked for"}
    assert few.estimate == asked.estimate and few.interval != asked.interval
    assert few.interval == tuple(few.diagnostics["wild_bootstrap"]["interval"])
    many = simulate_survey(n_areas=50, n_treated=WILD_BELOW_TREATED, n_per_cell=8, seed=3)
    big = survey_did(many, item="unsafe", treated=[f"area{a:02d}" for a in range(20)],
                     start=2020, threshold=3)
    assert big.diagnostics["inference"]["method"] == "cluster"
    with pytest.raises(ValueError, match="inference='bogus'"):
        survey_did(survey, item="unsafe", treated=TREATED, start=2020, inference="bogus")


def test_one_treated_area_interval_comes_from_the_placebos(survey):
    """With one treated area the default interval inverts the placebo test (Conley–Taber),
    not the invalid cluster-robust one."""
    one = survey_did(survey, item="unsafe", treated="area00", start=2020, threshold=3)
    ct = one.diagnostics["conley_taber"]
    assert one.interval == tuple(ct["interval"])
    cr1 = survey_did(survey, item="unsafe", treated="area00", start=2020, threshold=3,
                     inference="cluster")
    assert one.interval != cr1.interval and one.estimate == cr1.estimate
