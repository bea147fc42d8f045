"""Castle-doctrine laws and homicide (Cheng & Hoekstra 2013): TWFE, Poisson, wild bootstrap, Bacon.

Expected numbers: pyfixest 0.60.0 cross-check listed in the project's REFERENCES.md (state and
year fixed effects, standard errors clustered by state).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering.did.bacon import bacon_decomposition
from utvardering.did.poisson import poisson_did
from utvardering.did.twfe import twfe
from utvardering.inference.wild_bootstrap import wild_cluster_bootstrap

FILES = Path(utv.__file__).parent / "data" / "files"


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    data = pd.read_csv(FILES / "castle.csv").copy()
    counts = np.round(data["homicide"] * data["popwt"] / 1e5).astype(int)
    return pd.concat([data, counts.rename("homicide_count")], axis=1)


def _twfe(castle, **kwargs):
    return twfe(castle, outcome="l_homicide", unit="sid", time="year", treatment="post", **kwargs)


def test_ols_unweighted(castle):
    effect = _twfe(castle)
    # pyfixest 0.60.0: feols(l_homicide ~ post | sid + year, cluster sid) → 0.069398 (0.05586)
    assert effect.estimate == pytest.approx(0.069398, abs=1e-6)
    assert effect.se == pytest.approx(0.05586, abs=1e-5)


def test_ols_population_weighted(castle):
    effect = _twfe(castle, weights="popwt")
    # pyfixest 0.60.0, weights = popwt → 0.075533 (0.033194)
    assert effect.estimate == pytest.approx(0.075533, abs=1e-6)
    assert effect.se == pytest.approx(0.033194, abs=1e-6)


def test_ols_weighted_region_by_year(castle):
    region_year = [c for c in castle.columns if c.startswith("r20")]
    effect = _twfe(castle, weights="popwt", covariates=region_year)
    # pyfixest 0.60.0, + region-by-year dummies r20001…r20104 → 0.085710 (0.026171)
    assert effect.estimate == pytest.approx(0.085710, abs=1e-6)
    assert effect.se == pytest.approx(0.026171, abs=1e-6)
    # 44 dummies, 30 estimable beyond the state and year effects: 14 dropped and reported
    assert len(effect.diagnostics["dropped_collinear"]) == 14


def test_region_by_year_as_absorbed_effect_same_coefficient(castle):
    region_year = [c for c in castle.columns if c.startswith("r20")]
    data = pd.concat([castle, pd.Series(castle[region_year].to_numpy().argmax(1), name="region_year")], axis=1)
    effect = _twfe(data, weights="popwt", fixed_effects=["region_year"])
    assert effect.estimate == pytest.approx(0.085710, abs=1e-6)


def test_study_route_equals_treatment_column(castle):
    starts = castle.loc[castle["post"] == 1].groupby("sid")["year"].min().to_dict()
    study = utv.Study(castle, outcome="l_homicide", unit="sid", time="year", starts=starts)
    effect = twfe(study, log_outcome=True)
    assert effect.estimate == pytest.approx(_twfe(castle).estimate, abs=1e-12)
    # Cheng & Hoekstra (2013): about an 8% increase in homicides; unweighted TWFE gives +7.2%
    assert effect.relative == pytest.approx(math.expm1(0.069398), abs=1e-6)


def test_poisson_counts(castle):
    effect = poisson_did(castle, outcome="homicide_count", unit="sid", time="year",
                         treatment="post")
    # pyfixest 0.60.0: fepois(round(homicide × popwt / 1e5) ~ post | sid + year) → 0.079416 (0.031303)
    assert effect.estimate == pytest.approx(0.079416, abs=1e-6)
    assert effect.se == pytest.approx(0.031303, abs=1e-6)
    # the paper's ~8% increase, as a rate ratio
    assert effect.rate_ratio == pytest.approx(math.exp(0.079416), abs=1e-6)


def test_wild_bootstrap_p_value(castle):
    y = castle["l_homicide"].to_numpy()
    from utvardering._numerics.fixed_effects import Absorber, factorize

    absorber = Absorber([factorize(castle["sid"])[0], factorize(castle["year"])[0]])
    res = wild_cluster_bootstrap(y, castle[["post"]].to_numpy(float), castle["sid"].to_numpy(),
                                 absorber=absorber, n_draws=9999, random_state=2013,
                                 interval=False)
    # pyfixest 0.60.0 wildboottest (Rademacher, null imposed, 9,999 draws): p = 0.232.
    # Both p-values are Monte Carlo estimates with sd sqrt(p(1-p)/B) = 0.0042 each, so their
    # difference has sd 0.0060; we allow 4 sd of the difference: 0.024.
    sd_diff = math.sqrt(2 * 0.232 * 0.768 / 9999)
    assert abs(res.p_value - 0.232) < 4 * sd_diff
    assert res.estimate == pytest.approx(0.069398, abs=1e-6)


def test_bacon_decomposition_sums_to_twfe(castle):
    result = bacon_decomposition(castle, outcome="l_homicide", unit="sid", time="year",
                                 treatment="post")
    direct = _twfe(castle).estimate
    # Goodman-Bacon (2021) Theorem 1: the weighted 2×2s reproduce the TWFE coefficient exactly
    assert abs(result.estimate - direct) < 1e-10
    assert result.bacon["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (result.bacon["weight"] >= 0).all()
    assert set(result.bacon["type"]) == {"treated vs never treated", "earlier vs later treated",
                                        "later vs earlier treated"}
    # 5 cohorts (2006–2010) vs never treated, and 10 pairs of cohorts × 2 directions
    assert len(result.bacon) == 5 + 20


def test_castle_caller_data_untouched(castle):
    before = castle.copy()
    _twfe(castle, weights="popwt")
    poisson_did(castle, outcome="homicide_count", unit="sid", time="year", treatment="post")
    pd.testing.assert_frame_equal(castle, before)


# Overall ATT (SE) on castle, cohort = first year with post > 0 — diff-diff 3.13.0 run here
# (2026-11-26) by benchmarks/reference_castle_staggered.py: CallawaySantAnna(never_treated),
# SunAbraham(), ImputationDiD() with outcome l_homicide, unit sid, time year.
STAGGERED = {
    "cs": (0.0194028162, 0.0383886460),
    "sa": (0.0194028162, 0.0365893926),
    "bjs": (0.0668998432, 0.0566935514),
}


def test_staggered_estimators_beside_twfe(castle):
    """CS, SA and BJS on the castle data equal diff-diff, and are reported beside TWFE: the
    heterogeneity-robust estimators put the effect on log homicide at 1.9–6.7 % (none
    significant), below the unweighted TWFE's 6.9 %."""
    from utvardering.did import callaway_santanna, imputation_did, sun_abraham
    from utvardering.triangulation import compare

    first = castle.loc[castle["post"] > 0].groupby("sid")["year"].min()
    data = castle.assign(cohort=castle["sid"].map(first).fillna(0).astype(int))
    kw = {"unit": "sid", "time": "year", "outcome": "l_homicide", "cohort": "cohort"}
    fits = {"cs": callaway_santanna(data, **kw), "sa": sun_abraham(data, **kw),
            "bjs": imputation_did(data, **kw)}
    for name, (est, se) in STAGGERED.items():
        assert fits[name].estimate == pytest.approx(est, abs=1e-8), name
        assert fits[name].se == pytest.approx(se, abs=1e-6), name
    table = compare({"TWFE": _twfe(castle), "Callaway–Sant'Anna": fits["cs"],
                     "Sun–Abraham": fits["sa"], "imputation (BJS)": fits["bjs"]})
    assert len(table) == 4
    assert table.set_index("label").loc["TWFE", "estimate"] == pytest.approx(0.069398, abs=1e-6)
