"""Data contracts: every bad input gives a DataError whose message names the fault and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utvardering import DataError, check_panel, validate_panel
from utvardering.data.timeparse import parse_time


def _validate(df: pd.DataFrame, **kwargs):
    kwargs.setdefault("outcomes", "crimes")
    kwargs.setdefault("counts", "crimes")
    return validate_panel(df, **kwargs)


def test_clean_panel_validates(panel):
    result = _validate(panel, exposure="population")
    assert result.data.shape == (6 * 48, 4)
    assert result.freq == "M"
    assert result.data["time"].iloc[0] == pd.Period("2017-01", "M")
    assert result.data["crimes"].dtype == np.int64
    assert result.wide().shape == (6, 48)


def test_missing_column_lists_what_is_there(panel):
    with pytest.raises(DataError, match=r"missing column\(s\) 'shootings'.*'unit', 'time', 'crimes', 'population'"):
        validate_panel(panel, outcomes="shootings")


def test_duplicate_unit_time_rows_are_shown(panel):
    bad = pd.concat([panel, panel.iloc[[5, 100]]], ignore_index=True)
    with pytest.raises(DataError, match=r"2 unit×time pair\(s\) appear more than once, e.g. 'area0 2017-06'"):
        _validate(bad)


def test_non_numeric_count_names_column_value_and_row(panel):
    bad = panel.astype({"crimes": object})
    bad.loc[3, "crimes"] = "..s"
    with pytest.raises(DataError, match=r"column 'crimes' must be numeric but holds '..s' at 'area0 2017-04'"):
        _validate(bad)


def test_negative_count(panel):
    bad = panel.copy()
    bad.loc[50, "crimes"] = -2
    with pytest.raises(DataError, match=r"count column 'crimes' has negative values at 'area1 2017-03'"):
        _validate(bad)


def test_non_integer_count(panel):
    bad = panel.astype({"crimes": float})
    bad.loc[0, "crimes"] = 2.5
    with pytest.raises(DataError, match=r"non-integer values '2.5' at 'area0 2017-01'.*declare it as an outcome"):
        _validate(bad)


def test_nan_outcome_named_and_dropped_only_when_asked(panel):
    bad = panel.astype({"crimes": float})
    bad.loc[[10, 60], "crimes"] = np.nan
    with pytest.raises(DataError, match=r"missing for 2 unit-period\(s\): 'area0 2017-11', 'area1 2018-01'.*dropna=True"):
        _validate(bad)
    with pytest.warns(UserWarning, match=r"dropped 2 unit-period\(s\).*'area0 2017-11'"):
        result = _validate(bad, dropna=True)
    assert len(result.data) == len(panel) - 2
    assert result.dropped[["unit"]].squeeze().tolist() == ["area0", "area1"]


def test_gap_in_panel_names_unit_and_period(panel):
    bad = panel.drop(index=[20, 21]).reset_index(drop=True)
    with pytest.raises(DataError, match=r"2 unit-period\(s\) are absent.*area0: '2018-09', '2018-10'.*allow_gaps=True"):
        _validate(bad)
    assert len(_validate(bad, allow_gaps=True).data) == len(panel) - 2


def test_unparseable_time(panel):
    bad = panel.copy()
    bad.loc[7, "time"] = "augusti 2017"
    with pytest.raises(DataError, match=r"column 'time' has values that are not periods: rows '7' hold 'augusti 2017'"):
        _validate(bad)


def test_mixed_frequency_time(panel):
    bad = panel.copy()
    bad.loc[7, "time"] = "2017"
    with pytest.raises(DataError, match=r"column 'time' mixes frequencies \(monthly e.g. '2017-01' \(row 0\); yearly e.g. '2017' \(row 7\)\)"):
        _validate(bad)


def test_invalid_month(panel):
    bad = panel.copy()
    bad.loc[0, "time"] = "2017-13"
    with pytest.raises(DataError, match=r"could not parse periods"):
        _validate(bad)


def test_missing_time_and_unit(panel):
    bad = panel.copy()
    bad.loc[3, "time"] = None
    with pytest.raises(DataError, match=r"missing time values in rows '3'"):
        _validate(bad)
    bad = panel.copy()
    bad.loc[4, "unit"] = None
    with pytest.raises(DataError, match=r"column 'unit' is missing in rows '4'"):
        _validate(bad)


def test_exposure_must_be_positive(panel):
    bad = panel.copy()
    bad.loc[0, "population"] = 0
    with pytest.raises(DataError, match=r"exposure column 'population' must be positive.*'area0 2017-01'"):
        _validate(bad, exposure="population")


def test_empty_and_not_a_frame():
    with pytest.raises(DataError, match="no rows"):
        validate_panel(pd.DataFrame({"unit": [], "time": [], "y": []}), outcomes="y")
    with pytest.raises(DataError, match="expected a pandas DataFrame, got list"):
        validate_panel([1, 2], outcomes="y")


def test_check_panel_collects_every_problem(panel):
    bad = panel.astype({"crimes": float})
    bad.loc[0, "crimes"] = -1
    bad.loc[1, "crimes"] = 3.5
    bad = bad.drop(index=[30])
    problems, _, _ = check_panel(bad, outcomes="crimes", counts="crimes")
    assert [p.kind for p in problems] == ["negative_count", "non_integer_count", "gap"]
    with pytest.raises(DataError, match=r"^3 problems in the panel:\n- count column"):
        _validate(bad)


def test_caller_frame_is_not_modified(panel):
    before = panel.copy(deep=True)
    _validate(panel, exposure="population")
    pd.testing.assert_frame_equal(panel, before)
    bad = panel.astype({"crimes": float})
    bad.loc[0, "crimes"] = np.nan
    snapshot = bad.copy(deep=True)
    with pytest.warns(UserWarning):
        _validate(bad, dropna=True)
    pd.testing.assert_frame_equal(bad, snapshot)


def test_integer_years_and_period_dtypes():
    years = pd.DataFrame({"unit": ["a"] * 3 + ["b"] * 3, "time": [1988, 1989, 1990] * 2, "y": [1.0] * 6})
    assert validate_panel(years, outcomes="y").freq is None
    with pytest.raises(DataError, match=r"1 unit-period\(s\) are absent.*b: '1989'"):
        validate_panel(years.drop(index=4), outcomes="y")
    quarters = parse_time(pd.Series(["2018Q1", "2018-Q2"]))
    assert quarters.tolist() == [pd.Period("2018Q1", "Q"), pd.Period("2018Q2", "Q")]
    dates = parse_time(pd.Series(pd.to_datetime(["2018-01-01", "2018-02-01"])))
    assert dates.tolist() == [pd.Period("2018-01", "M"), pd.Period("2018-02", "M")]
    with pytest.raises(DataError, match=r"non-integer numbers"):
        parse_time(pd.Series([2018.5, 2019.0]))


@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_integer_years_become_annual_periods(dtype):
    """freq="Y" on whole-number years (pandas 3.1's PeriodIndex.from_fields(year=...) raised)."""
    df = pd.DataFrame({"unit": ["a", "a", "b", "b"], "time": [2019, 2020, 2019, 2020],
                       "y": [1.0, 2.0, 3.0, 4.0]}).astype({"time": dtype})
    panel = validate_panel(df, outcomes=["y"], freq="Y")
    assert panel.data["time"].tolist() == [pd.Period(y, "Y") for y in (2019, 2020, 2019, 2020)]
