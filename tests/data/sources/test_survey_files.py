"""Tests of the survey micro-data reader (CSV fixtures; SPSS/Stata written with pyreadstat).

Expected values are those written in tests/fixtures/sources/survey_*.csv (invented
respondents).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from utvardering.data.sources import read_survey_microdata
from utvardering.errors import DataError

FIX = Path(__file__).parents[2] / "fixtures" / "sources"
ROLES = {"respondent": "lopnr", "unit": "omrade", "time": "ar", "weight": "vikt"}


def test_semicolon_decimal_comma_cp1252():
    df = read_survey_microdata(FIX / "survey_2021.csv", **ROLES)
    assert list(df.columns) == [
        "respondent", "unit", "time", "weight",
        "otrygg_kvall", "problemindex", "utsatt_12m", "alder",
    ]  # fmt: skip
    assert df["respondent"].tolist() == [f"000{i}" for i in range(1, 8)]  # zeros kept
    assert df["unit"].tolist()[:4] == ["Möllevången"] * 3 + ["Sofielund"]
    assert df["time"].dtype == "int64" and (df["time"] == 2021).all()
    assert df["weight"].tolist() == [1.85, 2.10, 0.95, 1.40, 1.12, 0.88, 1.05]
    assert df["problemindex"].tolist()[:2] == [2.4, 3.2]
    assert np.isnan(df["otrygg_kvall"].iloc[4])  # blank answer of respondent 0005


def test_comma_separated_with_item_rename():
    df = read_survey_microdata(
        FIX / "survey_comma.csv", respondent="id", unit="area", time="year", weight="weight",
        items={"unsafe_evening": "otrygg_kvall"},
    )  # fmt: skip
    assert list(df.columns) == ["respondent", "unit", "time", "weight", "otrygg_kvall"]
    assert df["respondent"].tolist() == ["A-17", "A-18", "B-02"]
    assert df["weight"].tolist() == [1.5, 2.25, 0.75]
    assert df["otrygg_kvall"].tolist() == [3.0, 4.0, 1.0]


def test_items_list_selects_columns():
    df = read_survey_microdata(FIX / "survey_2021.csv", items=["otrygg_kvall"], **ROLES)
    assert list(df.columns) == ["respondent", "unit", "time", "weight", "otrygg_kvall"]


def test_error_missing_columns_listed_with_what_is_there():
    with pytest.raises(
        DataError,
        match=r"missing column\(s\) 'id' \(given as respondent=\), 'year' \(given as time=\); "
        r"the file has \['lopnr', 'omrade', 'ar', 'vikt'",
    ):
        read_survey_microdata(
            FIX / "survey_2021.csv", respondent="id", unit="omrade", time="year", weight="vikt"
        )


def test_error_missing_item():
    with pytest.raises(DataError, match=r"missing column\(s\) 'otrygg';"):
        read_survey_microdata(FIX / "survey_2021.csv", items=["otrygg"], **ROLES)


def test_error_bad_weights_name_respondents():
    with pytest.raises(
        DataError,
        match=r"weight column 'vikt' must be positive and finite; it is missing or non-numeric "
        r"for respondent\(s\) 0004; zero for respondent\(s\) 0002; negative for respondent\(s\) 0003",
    ):
        read_survey_microdata(FIX / "survey_bad_weights.csv", **ROLES)


def test_error_duplicate_respondent():
    with pytest.raises(DataError, match=r"respondent id\(s\) 0001 occur more than once in 'lopnr'"):
        read_survey_microdata(FIX / "survey_bad_duplicate_id.csv", **ROLES)


def test_error_missing_unit(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("lopnr;omrade;ar;vikt\n1;Limhamn;2021;1\n2;;2021;1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"unit \('omrade'\) is missing for respondent\(s\) 2"):
        read_survey_microdata(p, **ROLES)


def test_error_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"pass format='csv', 'sav' or 'dta'"):
        read_survey_microdata(tmp_path / "s.xlsx", **ROLES)


def _frame():
    return pd.DataFrame({
        "lopnr": [1.0, 2.0, 3.0], "omrade": ["Möllevången", "Limhamn", "Limhamn"],
        "ar": [2021.0, 2021.0, 2021.0], "vikt": [1.5, 0.5, 2.0], "otrygg_kvall": [3.0, 1.0, 2.0],
    })  # fmt: skip


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata(tmp_path, fmt):
    pyreadstat = pytest.importorskip("pyreadstat", reason="optional extra utvardering[survey]")
    p = tmp_path / f"survey.{fmt}"
    labels = {"otrygg_kvall": {1.0: "Mycket trygg", 2.0: "Ganska trygg", 3.0: "Ganska otrygg"}}
    writer = pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta
    writer(_frame(), str(p), variable_value_labels=labels)
    df = read_survey_microdata(p, **ROLES)
    assert df["respondent"].tolist() == [1.0, 2.0, 3.0]
    assert df["time"].tolist() == [2021, 2021, 2021] and df["time"].dtype == "int64"
    assert df["weight"].tolist() == [1.5, 0.5, 2.0]
    assert df["otrygg_kvall"].tolist() == [3.0, 1.0, 2.0]  # codes, not labels
    assert df.attrs["value_labels"]["otrygg_kvall"][3] == "Ganska otrygg"


def test_missing_pyreadstat_gives_install_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyreadstat", None)  # makes `import pyreadstat` fail
    with pytest.raises(ImportError, match=r"pip install utvardering\[survey\]"):
        read_survey_microdata(tmp_path / "s.sav", **ROLES)
