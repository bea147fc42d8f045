"""Tests of incidents_to_panel: counts by hand from the small frames below."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from utvardering.data.sources import incidents_to_panel, read_police_events
from utvardering.errors import DataError

FIX = Path(__file__).parents[2] / "fixtures" / "sources"


def _incidents():
    return pd.DataFrame({
        "incident_id": [1, 2, 3, 4, 5],
        "date": ["2021-01-05", "2021-01-20", "2021-03-02", "2021-02-11", "2021-03-31"],
        "unit": ["Möllevången", "Möllevången", "Möllevången", "Sofielund", "Sofielund"],
        "offence": ["violence", "drugs", "violence", "violence", "drugs"],
    })  # fmt: skip


UNITS = ["Möllevången", "Rådmansvången", "Sofielund"]


def test_zero_filled_grid_single_count():
    inc = _incidents()
    before = inc.copy()
    df = incidents_to_panel(inc, units=UNITS)
    pd.testing.assert_frame_equal(inc, before)  # input untouched
    assert list(df.columns) == ["unit", "time", "count"]
    assert df["unit"].tolist() == [u for u in UNITS for _ in range(3)]
    assert df["time"].astype(str).tolist() == ["2021-01", "2021-02", "2021-03"] * 3
    # Möllevången: 2 in Jan, 1 in Mar; Rådmansvången none; Sofielund Feb and Mar
    assert df["count"].tolist() == [2, 0, 1, 0, 0, 0, 0, 1, 1]
    assert df["count"].dtype == "int64"
    assert df.attrs["dropped"] == 0


def test_offence_columns_and_explicit_window():
    df = incidents_to_panel(
        _incidents(), offence="offence", units=UNITS, start="2020-12", end="2021-04"
    )
    assert list(df.columns) == ["unit", "time", "drugs", "violence"]
    moll = df[df.unit == "Möllevången"]
    assert moll["time"].astype(str).tolist() == [
        "2020-12",
        "2021-01",
        "2021-02",
        "2021-03",
        "2021-04",
    ]
    assert moll["violence"].tolist() == [0, 1, 0, 1, 0]
    assert moll["drugs"].tolist() == [0, 1, 0, 0, 0]
    assert df[["drugs", "violence"]].to_numpy().sum() == 5


def test_quarterly_with_constant_exposure():
    exp = pd.DataFrame({"unit": UNITS, "population": [13000, 11000, 9000]})
    df = incidents_to_panel(_incidents(), freq="Q", units=UNITS, exposure=exp)
    assert df["time"].astype(str).tolist() == ["2021Q1"] * 3
    assert df["count"].tolist() == [3, 0, 2]
    assert df["population"].tolist() == [13000.0, 11000.0, 9000.0]


def test_yearly_exposure_joined_to_months():
    exp = pd.DataFrame({
        "unit": UNITS * 2, "time": [2020] * 3 + [2021] * 3,
        "population": [12900, 10950, 8900, 13000, 11000, 9000],
    })  # fmt: skip
    before = exp.copy()
    df = incidents_to_panel(_incidents(), units=UNITS, exposure=exp, start="2020-12")
    pd.testing.assert_frame_equal(exp, before)
    moll = df[df.unit == "Möllevången"]
    assert moll["population"].tolist() == [12900.0, 13000.0, 13000.0, 13000.0]


def test_monthly_period_exposure():
    months = pd.period_range("2021-01", "2021-03", freq="M")
    exp = pd.DataFrame({
        "unit": [u for u in UNITS for _ in months], "time": list(months) * 3,
        "population": range(1, 10),
    })  # fmt: skip
    df = incidents_to_panel(_incidents(), units=UNITS, exposure=exp)
    assert df["population"].tolist() == [float(v) for v in range(1, 10)]


def test_drop_outside_records_count():
    df = incidents_to_panel(_incidents(), start="2021-02", drop_outside=True)
    assert df.attrs["dropped"] == 2 and df.attrs["dropped_incident_ids"] == [1, 2]
    assert df["count"].sum() == 3


def test_tz_aware_event_datetimes_use_local_date():
    ev = read_police_events(FIX / "police_events.json")
    df = incidents_to_panel(
        ev, unit="location_name", date="datetime", start="2023-05", end="2023-06",
        drop_outside=True,
    )  # fmt: skip
    # event 460512 at 00:15 local time on 1 June (22:15 UTC on 31 May) counts in June
    malmo = df[df.unit == "Malmö"].set_index("time")["count"]
    assert malmo.tolist() == [1, 1]
    assert df.attrs["dropped"] == 1  # the January Stockholm event


def test_error_duplicate_incident_id():
    inc = _incidents()
    inc.loc[4, "incident_id"] = 1
    with pytest.raises(DataError, match=r"repeated 'incident_id' values \['1'\]"):
        incidents_to_panel(inc)


def test_error_unparseable_dates_named():
    inc = _incidents()
    inc.loc[2, "date"] = "2021-13-45"
    with pytest.raises(DataError, match=r"1 missing or unparseable date\(s\): 3 / 2021-13-45"):
        incidents_to_panel(inc)


def test_error_outside_window_reported():
    with pytest.raises(
        DataError,
        match=r"2 incident\(s\) fall outside 2021-02–2021-03: 1 / 2021-01-05; 2 / 2021-01-20",
    ):
        incidents_to_panel(_incidents(), start="2021-02")


def test_error_unit_not_in_units():
    with pytest.raises(
        DataError,
        match=r"2 incident\(s\) are in unit\(s\) not in units=: \[\"'Sofielund' \(str\)\"\]",
    ):
        incidents_to_panel(_incidents(), units=["Möllevången", "Rådmansvången"])


def test_error_missing_columns():
    with pytest.raises(DataError, match=r"missing column\(s\) \['area'\]; the frame has"):
        incidents_to_panel(_incidents(), unit="area")


def test_error_incomplete_exposure():
    exp = pd.DataFrame({"unit": UNITS[:2], "population": [13000, 11000]})
    with pytest.raises(
        DataError, match=r"no 'population' for 3 unit × period cell\(s\), e.g. Sofielund / 2021-01"
    ):
        incidents_to_panel(_incidents(), units=UNITS, exposure=exp)


def test_error_nonpositive_exposure():
    exp = pd.DataFrame({"unit": UNITS, "population": [13000, 0, 9000]})
    with pytest.raises(
        DataError, match=r"'population' must be positive numbers; bad for Rådmansvången / 0"
    ):
        incidents_to_panel(_incidents(), units=UNITS, exposure=exp)


def test_error_no_incidents_without_window():
    with pytest.raises(DataError, match=r"no incidents, so start= and end= are needed"):
        incidents_to_panel(_incidents().iloc[:0])


def test_empty_incidents_with_window_give_zeros():
    df = incidents_to_panel(_incidents().iloc[:0], units=["A"], start="2021-01", end="2021-02")
    assert df["count"].tolist() == [0, 0]


def test_yearly_period_exposure_and_integer_year_window():
    exp = pd.DataFrame(
        {
            "unit": UNITS,
            "time": pd.PeriodIndex(["2021", "2021", "2021"], freq="Y"),
            "population": [13000, 11000, 9000],
        }
    )
    df = incidents_to_panel(_incidents(), units=UNITS, exposure=exp, start=2021, end=2021)
    assert df["time"].astype(str).tolist()[:12] == [f"2021-{m:02d}" for m in range(1, 13)]
    assert df.groupby("unit")["population"].unique().map(list).tolist() == [
        [13000.0],
        [11000.0],
        [9000.0],
    ]


def test_utc_offsets_converted_to_swedish_time():
    # 23:30 UTC on 31 January is 00:30 on 1 February in Stockholm (UTC+1 in winter)
    inc = pd.DataFrame(
        {
            "incident_id": [1, 2],
            "date": ["2021-01-31 23:30:00+00:00", "2021-01-15 12:00:00+01:00"],
            "unit": ["A", "A"],
        }
    )
    df = incidents_to_panel(inc)
    assert df["time"].astype(str).tolist() == ["2021-01", "2021-02"]
    assert df["count"].tolist() == [1, 1]


def test_error_ambiguous_date_format_refused():
    inc = _incidents()
    inc.loc[1, "date"] = "05/02/2021"  # 5 February or 2 May? not guessed
    with pytest.raises(DataError, match=r"unparseable date\(s\): 2 / 05/02/2021"):
        incidents_to_panel(inc)
