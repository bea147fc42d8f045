"""A Study defined by a row-level treatment column (``Study(..., treatment="d")``).

The column gives the treated units and each unit's start (first period with ``d > 0``); it is
kept, so TWFE and Poisson DiD use its row-level values (a dose, or a treatment that switches
off again), while the estimators built on start dates refuse such a column, naming the unit
and period. ``twfe(df, treatment="d")`` still works: ``treatment`` is a Study keyword.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering.did.bacon import bacon_decomposition
from utvardering.did.poisson import poisson_did
from utvardering.did.twfe import event_study, twfe
from utvardering.errors import DataError, DesignError
from utvardering.estimators import get_estimator, list_estimators

FILES = Path(utv.__file__).parent / "data" / "files"


def panel(n_units: int = 12, n_t: int = 8, seed: int = 0) -> pd.DataFrame:
    """Units u00..; u00-u02 treated from 2004, u03-u04 from 2006 (0/1 column ``d``)."""
    rng = np.random.default_rng(seed)
    starts = {"u00": 2004, "u01": 2004, "u02": 2004, "u03": 2006, "u04": 2006}
    rows = []
    for i in range(n_units):
        u = f"u{i:02d}"
        for t in range(2000, 2000 + n_t):
            d = float(u in starts and t >= starts[u])
            rows.append((u, t, i * 0.3 + 0.1 * (t - 2000) + 1.5 * d + rng.normal(), d))
    return pd.DataFrame(rows, columns=["unit", "time", "y", "d"])


def fe_ols(frame: pd.DataFrame, regressor: str) -> float:
    """Coefficient of ``regressor`` with unit and period dummies (plain least squares)."""
    X = pd.get_dummies(frame[["unit", "time"]].astype(str), drop_first=True, dtype=float)
    X.insert(0, "const", 1.0)
    X.insert(1, regressor, frame[regressor].to_numpy(float))
    coef, *_ = np.linalg.lstsq(X.to_numpy(), frame["y"].to_numpy(float), rcond=None)
    return float(coef[1])


def test_starts_and_treated_units_come_from_the_column():
    frame = panel()
    study = utv.Study(frame, outcome="y", treatment="d")
    assert study.treatment == "d"
    assert study.treated == ["u00", "u01", "u02", "u03", "u04"]
    assert study.starts == {"u00": 2004, "u01": 2004, "u02": 2004, "u03": 2006, "u04": 2006}
    assert study.start == 2004 and study.is_staggered
    assert study.donors == [f"u{i:02d}" for i in range(5, 12)]
    same = utv.Study(frame, outcome="y", starts=study.starts)
    assert same.starts == study.starts and same.donors == study.donors
    matrix = study.treatment_matrix()
    assert matrix.loc["u03"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    assert study.to_dict()["treatment"] == "d"
    assert "Treatment: column 'd'" in study.describe()
    study.require_absorbing("callaway_santanna")  # 0/1 and absorbing: nothing to refuse


def test_a_study_from_the_column_gives_the_same_estimates_as_from_starts():
    frame = panel()
    by_column = utv.Study(frame, outcome="y", treatment="d")
    by_starts = utv.Study(frame, outcome="y", starts=by_column.starts)
    for estimator in (twfe, event_study, bacon_decomposition, utv.callaway_santanna):
        a, b = estimator(by_column), estimator(by_starts)
        assert a.estimate == pytest.approx(b.estimate, abs=1e-12), estimator.__name__


@pytest.mark.parametrize(("change", "error", "match"), [
    (lambda f: f.assign(d=f["d"].where(~((f["unit"] == "u03") & (f["time"] == 2005)))),
     DataError, r"missing or non-finite.*unit 'u03', period 2005"),
    (lambda f: f.assign(d=np.where((f["unit"] == "u07") & (f["time"] == 2002), -1.0, f["d"])),
     DataError, r"negative value.*unit 'u07', period 2002 \(-1\)"),
    (lambda f: f.assign(d=0.0), DesignError, r"treatment column 'd' is never > 0.*no unit is treated"),
    (lambda f: f.assign(d=np.where((f["unit"] == "u01") & (f["time"] == 2003), np.inf, f["d"])),
     DataError, r"column 'd' holds inf.*u01"),
])
def test_bad_treatment_values_are_refused_naming_unit_and_period(change, error, match):
    with pytest.raises(error, match=match):
        utv.Study(change(panel()), outcome="y", treatment="d")


@pytest.mark.parametrize("other", [
    {"treated": ["u00"], "start": 2004}, {"start": 2004}, {"starts": {"u00": 2004}},
    {"cohort": "d"},
])
def test_treatment_with_another_way_of_saying_who_is_treated_is_ambiguous(other):
    with pytest.raises(DesignError, match=r"treatment='d' says who is treated.*ambiguous"):
        utv.Study(panel(), outcome="y", treatment="d", **other)


def test_treatment_with_end_is_ambiguous():
    with pytest.raises(DesignError, match=r"end=2006 would say it again"):
        utv.Study(panel(), outcome="y", treatment="d", end=2006)


def test_missing_treatment_column_is_named():
    with pytest.raises(DataError, match=r"missing column.*dd"):
        utv.Study(panel(), outcome="y", treatment="dd")


def switching_off() -> pd.DataFrame:
    """u01 is treated in 2004-2005 only (non-absorbing)."""
    frame = panel()
    off = (frame["unit"] == "u01") & (frame["time"] >= 2006)
    return frame.assign(d=np.where(off, 0.0, frame["d"]))


def test_non_absorbing_treatment_is_the_twfe_regressor():
    frame = switching_off()
    study = utv.Study(frame, outcome="y", treatment="d")
    assert study.starts["u01"] == 2004
    effect = twfe(study)
    assert effect.estimate == pytest.approx(fe_ols(frame, "d"), abs=1e-10)
    assert twfe(frame, outcome="y", treatment="d").estimate == effect.estimate
    assert "(switches off)" in study.describe()
    pois = poisson_did(frame.assign(y=np.round(np.exp(frame["y"] / 4) * 5).astype(int)),
                       outcome="y", treatment="d", inference="cluster")
    assert np.isfinite(pois.estimate)


@pytest.mark.parametrize("estimator", [
    utv.callaway_santanna, utv.sun_abraham, utv.imputation_did, event_study, bacon_decomposition,
    utv.diff_in_diff,
])
def test_non_absorbing_treatment_is_refused_by_start_date_estimators(estimator):
    study = utv.Study(switching_off(), outcome="y", treatment="d")
    with pytest.raises(DesignError, match=r"switches off at unit 'u01', period 2006 \(0 after its "
                                          r"first treated period 2004"):
        estimator(study)


def test_callaway_santanna_names_the_unit_where_the_treatment_switches_off():
    study = utv.Study(switching_off(), outcome="y", treatment="d")
    with pytest.raises(DesignError) as info:
        utv.callaway_santanna(study)
    message = str(info.value)
    assert message.startswith("callaway_santanna needs a treatment that stays on")
    assert "'u01'" in message and "2006" in message and "twfe and poisson_did" in message


def test_poisson_event_study_refuses_what_the_static_model_takes():
    frame = switching_off()
    counts = frame.assign(y=np.round(np.exp(frame["y"] / 4) * 5).astype(int))
    with pytest.raises(DesignError, match="poisson_did needs a treatment that stays on"):
        poisson_did(counts, outcome="y", treatment="d", event_study=True)


def dose() -> pd.DataFrame:
    """The treated units' first treated year is a half year (d = 0.5), as in castle-law data."""
    frame = panel()
    first = ((frame["unit"].isin(["u00", "u01", "u02"]) & (frame["time"] == 2004))
             | (frame["unit"].isin(["u03", "u04"]) & (frame["time"] == 2006)))
    return frame.assign(d=np.where(first, 0.5, frame["d"]))


def test_a_dose_is_the_twfe_regressor():
    frame = dose()
    study = utv.Study(frame, outcome="y", treatment="d")
    assert study.starts["u03"] == 2006
    assert study.treatment_matrix().loc["u03", 2006] == 0.5
    effect = twfe(study)
    assert effect.estimate == pytest.approx(fe_ols(frame, "d"), abs=1e-10)
    assert effect.estimate != pytest.approx(twfe(panel(), outcome="y", treatment="d").estimate)
    assert "(a dose)" in study.describe()


@pytest.mark.parametrize("estimator", [utv.callaway_santanna, event_study, utv.diff_in_diff,
                                       bacon_decomposition])
def test_a_dose_is_refused_by_estimators_that_need_0_1(estimator):
    study = utv.Study(dose(), outcome="y", treatment="d")
    with pytest.raises(DesignError, match=r"needs a 0/1 treatment.*holds a dose: 0\.5 at unit "
                                          r"'u00', period 2004"):
        estimator(study)


def test_dataframe_with_treatment_keeps_its_old_defaults():
    """``twfe(df, treatment=...)`` accepts gaps and always-treated units, as it always did."""
    frame = panel()
    always = frame["unit"] == "u11"
    frame = frame.assign(d=np.where(always, 1.0, frame["d"]))
    gappy = frame.drop(index=frame.index[(frame["unit"] == "u08") & (frame["time"] == 2003)])
    effect = twfe(gappy, outcome="y", treatment="d")
    assert effect.estimate == pytest.approx(fe_ols(gappy, "d"), abs=1e-10)
    # a Study built directly says what is unusual, and how to allow it
    with pytest.raises(DesignError, match=r"too few pre-treatment periods.*u11.*min_pre_periods"):
        utv.Study(frame, outcome="y", treatment="d")
    study = utv.Study(gappy, outcome="y", treatment="d", allow_gaps=True, min_pre_periods=0)
    assert twfe(study).estimate == effect.estimate


def test_old_treatment_calls_are_bit_identical_to_the_study_route():
    castle = pd.read_csv(FILES / "castle.csv")
    keys = dict(outcome="l_homicide", unit="sid", time="year")
    old = twfe(castle, **keys, treatment="post", weights="popwt")
    study = utv.Study(castle, **keys, treatment="post", allow_gaps=True, min_pre_periods=0)
    new = twfe(study, weights="popwt")
    assert (old.estimate, old.se, old.interval) == (new.estimate, new.se, new.interval)
    # the numbers the treatment= path gave before it became a Study keyword (same machine:
    # 0x1.3562590787f60p-4 and 0x1.0fec09fb639c2p-5), to rounding in the last few bits
    assert old.estimate == pytest.approx(float.fromhex("0x1.3562590787f60p-4"), rel=1e-14)
    assert old.se == pytest.approx(float.fromhex("0x1.0fec09fb639c2p-5"), rel=1e-13)
    unweighted = twfe(castle, **keys, treatment="post")
    assert unweighted.estimate == pytest.approx(float.fromhex("0x1.1c41883ee7f82p-4"), rel=1e-14)


def test_a_study_and_a_treatment_keyword_are_refused():
    study = utv.Study(panel(), outcome="y", treatment="d")
    with pytest.raises(DesignError, match=r"got a Study and also \['treatment'\]"):
        twfe(study, treatment="d")


def test_replace_moves_between_ways_of_saying_who_is_treated():
    study = utv.Study(panel(), outcome="y", treatment="d")
    common = study.replace(treated=["u00"], start=2004)
    assert common.treatment is None and common.treated == ["u00"]
    back = common.replace(treatment="d")
    assert back.starts == study.starts


def test_treatment_is_no_longer_an_estimator_argument():
    import inspect

    for estimator in (twfe, event_study, poisson_did, bacon_decomposition):
        assert "treatment" not in inspect.signature(estimator).parameters, estimator.__name__


def test_did_registry_name_is_a_deprecated_alias():
    names = set(list_estimators()["name"])
    assert "diff_in_diff" in names and "did" not in names
    with pytest.warns(DeprecationWarning, match="estimator 'did' is renamed 'diff_in_diff'"):
        info = get_estimator("did")
    assert info.name == "diff_in_diff" and info.function is utv.diff_in_diff
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_estimator("diff_in_diff") is info


def test_cli_estimate_did_still_works_with_a_warning(tmp_path, capsys):
    from utvardering.cli import main

    path = tmp_path / "panel.csv"
    panel().to_csv(path, index=False)
    argv = ["--data", str(path), "--outcome", "y", "--treated", "u00,u01", "--start", "2004"]
    with pytest.warns(DeprecationWarning, match="'did' is renamed 'diff_in_diff'"):
        assert main(["estimate", "did", *argv]) == 0
    old = capsys.readouterr().out
    assert main(["estimate", "diff_in_diff", *argv]) == 0
    assert capsys.readouterr().out == old


def test_repeated_cross_sections_from_a_study_refuse_a_switching_treatment():
    study = utv.Study(switching_off(), outcome="y", treatment="d")
    with pytest.raises(DesignError, match=r"callaway_santanna needs a treatment that stays on"):
        utv.callaway_santanna(study, panel=False)


@pytest.mark.parametrize("estimator", [utv.synthetic_control, utv.interrupted_time_series])
def test_other_families_refuse_through_the_one_adapter(estimator):
    """Study.coerce (and the time-series input) refuse by default: no family reads a switching
    or dose column as a start date without saying so."""
    study = utv.Study(switching_off(), outcome="y", treatment="d")
    with pytest.raises(DesignError, match=r"switches off at unit 'u01', period 2006"):
        estimator(study)


def test_coerce_refuses_unless_the_caller_takes_the_row_level_treatment():
    frame = dose()
    with pytest.raises(DesignError, match=r"^my_estimator needs a 0/1 treatment"):
        utv.Study.coerce(frame, where="my_estimator", outcome="y", treatment="d")
    study = utv.Study.coerce(frame, where="twfe", absorbing=False, outcome="y", treatment="d")
    assert study.treatment == "d"
