"""Survey and incident contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utvardering import DataError, validate_incidents, validate_survey


@pytest.fixture
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 40
    return pd.DataFrame({
        "respondent": [f"r{i:03d}" for i in range(n)],
        "unit": rng.choice(["Möllevången", "Sofielund"], n),
        "time": [2020] * 20 + [2021] * 20,
        "weight": rng.uniform(0.5, 3.0, n),
        "unsafe_evening": rng.integers(1, 5, n).astype(float),
        "victim": rng.integers(0, 2, n),
    })


ITEMS = {"unsafe_evening": (1, 4), "victim": (0, 1)}


def test_clean_survey_counts_item_nonresponse(survey):
    survey.loc[[3, 7], "unsafe_evening"] = np.nan
    before = survey.copy(deep=True)
    result = validate_survey(survey, items=ITEMS)
    assert result.item_nonresponse == {"unsafe_evening": 2, "victim": 0}
    pd.testing.assert_frame_equal(survey, before)


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (np.nan, r"weight column 'weight' is missing or non-numeric for 1 respondent\(s\), e.g. 'r005'"),
        (0.0, r"is zero for 1 respondent\(s\), e.g. 'r005'.*Weights must be positive"),
        (-1.0, r"is negative for 1 respondent\(s\), e.g. 'r005'"),
    ],
)
def test_bad_weights_name_respondents(survey, value, pattern):
    survey.loc[5, "weight"] = value
    with pytest.raises(DataError, match=pattern):
        validate_survey(survey, items=ITEMS)


def test_likert_out_of_range(survey):
    survey.loc[2, "unsafe_evening"] = 5
    survey.loc[9, "unsafe_evening"] = 0
    with pytest.raises(DataError, match=r"item 'unsafe_evening' must be a whole number from 1 to 4; respondent\(s\) 'r002', 'r009' answered '5.0', '0.0'"):
        validate_survey(survey, items=ITEMS)


def test_likert_text_answer(survey):
    survey = survey.astype({"unsafe_evening": object})
    survey.loc[4, "unsafe_evening"] = "vet ej"
    with pytest.raises(DataError, match=r"respondent\(s\) 'r004' answered 'vet ej'.*Recode"):
        validate_survey(survey, items=ITEMS)


def test_survey_missing_column_and_duplicates(survey):
    with pytest.raises(DataError, match=r"survey responses: missing column\(s\) 'vikt'; the data have columns"):
        validate_survey(survey, weight="vikt")
    survey.loc[1, "respondent"] = "r000"
    with pytest.raises(DataError, match=r"respondent id\(s\) 'r000' appear more than once in the same survey period"):
        validate_survey(survey)


def test_incidents():
    incidents = pd.DataFrame({
        "incident_id": [1, 2, 3],
        "date": ["2021-06-14", "2021-06-15", "2021-07-01"],
        "offence": ["misshandel", "stöld", "narkotika"],
        "unit": ["Möllevången", "Möllevången", "Sofielund"],
    })
    assert validate_incidents(incidents)["date"].dtype.kind == "M"
    bad = incidents.assign(date=["2021-06-14", "igår", "2021-07-01"])
    with pytest.raises(DataError, match=r"dates that do not parse for incident\(s\) '2': 'igår'"):
        validate_incidents(bad)
    with pytest.raises(DataError, match=r"incident id\(s\) '1' occur more than once"):
        validate_incidents(incidents.assign(incident_id=[1, 1, 3]))
    with pytest.raises(DataError, match=r"incident\(s\) '3' have no 'unit'"):
        validate_incidents(incidents.assign(unit=["a", "b", None]))
