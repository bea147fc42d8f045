"""Study: design checks raise DesignError naming the unit or period at fault."""

from __future__ import annotations

import pandas as pd
import pytest

from utvardering import DataError, DesignError, Study


def test_study_basic(panel):
    study = Study(panel, outcome="crimes", treated="area0", start="2019-01", exclude=["area1"],
                  exposure="population")
    assert study.is_count
    assert study.treated == ["area0"]
    assert study.donors == ["area2", "area3", "area4", "area5"]
    assert len(study.pre_times) == 24 and len(study.post_times) == 24
    assert study.start == pd.Period("2019-01", "M")
    assert study.wide().shape == (6, 48)
    assert int(study.treatment_matrix().loc["area0"].sum()) == 24
    assert "Donor pool (4)" in study.describe()
    assert study.to_dict()["starts"] == {"area0": "2019-01"}


def test_end_and_window(panel):
    study = Study(panel, outcome="crimes", treated="area0", start="2019-01", end="2019-06",
                  window=("2018-01", None))
    assert len(study.post_times) == 6
    assert study.window_dropped == 6 * 12
    assert int(study.treatment_matrix().loc["area0"].sum()) == 6
    with pytest.raises(DesignError, match=r"end 2018-06 is before the start 2019-01"):
        Study(panel, outcome="crimes", treated="area0", start="2019-01", end="2018-06")


def test_treated_unit_absent_suggests_close_names(panel):
    with pytest.raises(DesignError, match=r"treated unit 'Area0' is not in column 'unit'. Did you mean 'area0'"):
        Study(panel, outcome="crimes", treated="Area0", start="2019-01")


@pytest.mark.parametrize("start", ["2016-05", "2017-01", "2021-03"])
def test_start_outside_the_data(panel, start):
    with pytest.raises(DesignError, match=rf"start outside the data for area0: {start}: the panel covers 2017-01 to 2020-12"):
        Study(panel, outcome="crimes", treated="area0", start=start)


def test_too_few_pre_periods(panel):
    with pytest.raises(DesignError, match=r"too few pre-treatment periods: 1 treated unit with 2 \('area0'\); at least 6 needed"):
        Study(panel, outcome="crimes", treated="area0", start="2017-03", min_pre_periods=6)


def test_empty_donor_pool(panel):
    others = [f"area{i}" for i in range(1, 6)]
    with pytest.raises(DesignError, match=r"the donor pool is empty: all 6 units are treated or excluded"):
        Study(panel, outcome="crimes", treated="area0", start="2019-01", exclude=others)


def test_donor_pool_with_treated_or_excluded_unit(panel):
    with pytest.raises(DesignError, match=r"donor pool contains treated unit\(s\) 'area0' and excluded unit\(s\) 'area2'"):
        Study(panel, outcome="crimes", treated="area0", start="2019-01", exclude=["area2"],
              donors=["area0", "area2", "area3"])
    with pytest.raises(DesignError, match=r"donor unit 'area9' is not in column 'unit'"):
        Study(panel, outcome="crimes", treated="area0", start="2019-01", donors=["area9"])


def test_who_is_treated_must_be_said_once(panel):
    with pytest.raises(DesignError, match="exactly one way"):
        Study(panel, outcome="crimes")
    with pytest.raises(DesignError, match="need a start"):
        Study(panel, outcome="crimes", treated="area0")


def test_staggered_starts_and_cohort_column(panel):
    study = Study(panel, outcome="crimes", starts={"area0": "2019-01", "area1": "2019-06"})
    assert study.is_staggered and study.start == pd.Period("2019-01", "M")
    years = pd.DataFrame({"id": list("aabbcc"), "year": [2003, 2004] * 3, "y": [1.0, 2.0] * 3,
                          "first": [2004, 2004, 0, 0, 0, 0]})
    study = Study(years, outcome="y", unit="id", time="year", cohort="first", min_pre_periods=1)
    assert study.starts == {"a": 2004} and study.donors == ["b", "c"]
    years.loc[1, "first"] = 2003
    with pytest.raises(DesignError, match=r"cohort column 'first' changes over time within unit\(s\) 'a'"):
        Study(years, outcome="y", unit="id", time="year", cohort="first")


def test_data_errors_pass_through(panel):
    with pytest.raises(DataError, match="missing column"):
        Study(panel, outcome="shootings", treated="area0", start="2019-01")


def test_replace_changes_start(panel):
    study = Study(panel, outcome="crimes", treated="area0", start="2019-01")
    later = study.replace(start="2019-07")
    assert later.start == pd.Period("2019-07", "M") and study.start == pd.Period("2019-01", "M")


def test_overlapping_programmes_from_the_registry():
    times = pd.period_range("2019-01", "2022-12", freq="M")
    rows = [(u, str(t), 10 + k) for u in ["Möllevången", "Sofielund", "Lugnet"]
            for k, t in enumerate(times)]
    data = pd.DataFrame(rows, columns=["unit", "time", "crimes"])
    study = Study(data, outcome="crimes", treated="Möllevången", start="2021-06", end="2022-12",
                  exclude=["Sofielund"], intervention="ordningsvakter_mollevangen")
    overlap = study.overlapping_programmes()
    assert set(overlap["key"]) == {"medborgarlofte_mollevangen", "bid_mollevangen", "communities_that_care"}


def test_integer_time_start_given_as_text():
    years = pd.DataFrame({"unit": list("aaabbb"), "time": [1988, 1989, 1990] * 2,
                          "y": [1.0, 2.0, 3.0] * 2})
    study = Study(years, outcome="y", treated="a", start="1989", min_pre_periods=1)
    assert study.start == 1989
    with pytest.raises(DesignError, match=r"start '1989-01' is not a period of this panel: its time column holds integers"):
        Study(years, outcome="y", treated="a", start="1989-01", min_pre_periods=1)


def test_integer_unit_labels():
    data = pd.DataFrame({"unit": [0, 0, 0, 1, 1, 1], "time": [2000, 2001, 2002] * 2,
                         "y": [1.0, 2.0, 3.0] * 2})
    study = Study(data, outcome="y", treated=0, start=2001, min_pre_periods=1)
    assert study.treated == [0] and study.donors == [1]
