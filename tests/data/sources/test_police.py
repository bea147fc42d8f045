"""Tests of the Police shootings-table and events-API readers on hand-written fixtures.

Expected values are those written in tests/fixtures/sources/police_*.{csv,json} (invented
numbers in the published layouts).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from utvardering.data.sources import read_police_events, read_police_shootings
from utvardering.errors import DataError

FIX = Path(__file__).parents[2] / "fixtures" / "sources"


def test_shootings_table_parsed_exactly():
    df = read_police_shootings(FIX / "police_shootings_2023.csv")
    assert list(df.columns) == [
        "unit", "time", "shootings", "dead", "injured", "vintage", "definition",
    ]  # fmt: skip
    assert len(df) == 36  # 3 regions x 12 months
    assert df["unit"].unique().tolist() == ["Stockholm", "Syd", "Väst"]  # sorted
    for col in ("shootings", "dead", "injured"):
        assert df[col].dtype == "int64"
    syd = df[df.unit == "Syd"]
    assert syd["shootings"].tolist()[:4] == [5, 3, 4, 6]  # fixture row 'Syd;2022;Januari;5;1;2' ...
    # fixture yearly totals for Syd: 50 shootings, 9 dead, 21 injured
    assert syd[["shootings", "dead", "injured"]].sum().tolist() == [50, 9, 21]
    assert str(syd["time"].iloc[0]) == "2022-01" and str(syd["time"].iloc[-1]) == "2022-12"
    assert (df["vintage"] == pd.Timestamp("2023-01-10")).all()  # 'Publicerad: 2023-01-10'
    assert (df["definition"] == "confirmed").all()


def test_shootings_single_month_column_and_definition_boundary():
    df = read_police_shootings(FIX / "police_shootings_en_no_vintage.csv", vintage="2017-02-01")
    malmo = df[df.unit == "Malmö"]
    assert malmo["time"].astype(str).tolist() == ["2016-09", "2016-10", "2016-11", "2016-12"]
    # the confirmed-shootings definition starts in November 2016
    assert malmo["definition"].tolist() == ["broad", "broad", "confirmed", "confirmed"]
    assert malmo["shootings"].tolist() == [6, 5, 4, 7]
    forced = read_police_shootings(
        FIX / "police_shootings_en_no_vintage.csv", vintage="2017-02-01", definition="broad"
    )
    assert (forced["definition"] == "broad").all()


def test_shootings_vintage_argument_agreeing_with_file():
    df = read_police_shootings(FIX / "police_shootings_2023.csv", vintage="2023-01-10")
    assert df.attrs["vintage"] == "2023-01-10"


def test_error_shootings_vintage_conflict():
    with pytest.raises(DataError, match=r"vintage='2023-02-01' disagrees .*Publicerad: 2023-01-10"):
        read_police_shootings(FIX / "police_shootings_2023.csv", vintage="2023-02-01")


def test_error_shootings_no_vintage():
    with pytest.raises(DataError, match=r"no publication vintage.*pass vintage="):
        read_police_shootings(FIX / "police_shootings_en_no_vintage.csv")


def test_error_shootings_non_integer_count_named():
    with pytest.raises(DataError, match=r"column 'Skjutningar' .*\"line 4 \(Syd\): 'tre'\""):
        read_police_shootings(FIX / "police_shootings_bad_count.csv")


def test_error_shootings_duplicate_rows():
    with pytest.raises(
        DataError,
        match=r"duplicate region × month rows: \['Syd 2022-01 \(line 3\)', 'Syd 2022-01 \(line 5\)'\]",
    ):
        read_police_shootings(FIX / "police_shootings_bad_duplicate.csv")


def test_error_shootings_bad_month():
    with pytest.raises(DataError, match=r"unparseable month\(s\) \[\"line 3: '2022 Janauri'\"\]"):
        read_police_shootings(FIX / "police_shootings_bad_month.csv")


def test_error_shootings_missing_column_lists_header():
    with pytest.raises(
        DataError,
        match=r"missing column\(s\) \['injured \(Skadade\)'\]; the header has "
        r"\['Polisregion', 'År', 'Månad', 'Skjutningar', 'Döda'\]",
    ):
        read_police_shootings(FIX / "police_shootings_bad_missing_column.csv")


def test_error_shootings_row_after_blank_line(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("Publicerad: 2023-01-10\nPolisregion;År;Månad;Skjutningar;Döda;Skadade\n"
                 "Syd;2022;1;5;1;2\n\nSyd;2022;2;3;0;1\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(DataError, match=r"line 5 looks like a data row"):
        read_police_shootings(p)


def test_events_parsed_exactly():
    df = read_police_events(FIX / "police_events.json")
    assert list(df.columns) == [
        "incident_id", "datetime", "date", "type", "name", "location_name", "lat", "lon",
        "summary", "url",
    ]  # fmt: skip
    assert df["incident_id"].tolist() == [459990, 460477, 460498, 460512]  # sorted by time
    assert str(df["datetime"].dt.tz) == "Europe/Stockholm"
    # '2023-06-01 0:15:02 +02:00' (unpadded hour as the API writes it) is 22:15 UTC on 31 May
    last = df.iloc[-1]
    assert last["datetime"] == pd.Timestamp("2023-05-31 22:15:02", tz="UTC")
    assert last["date"] == pd.Timestamp("2023-06-01")  # the local (Swedish) calendar date
    assert last["lat"] == 55.604981 and last["lon"] == 13.003822
    assert last["location_name"] == "Malmö" and last["type"] == "Skottlossning"
    assert last["url"].startswith("https://polisen.se/aktuellt/handelser/2023/juni/1/")
    first = df.iloc[0]
    assert first["datetime"].utcoffset() == pd.Timedelta(hours=1)  # winter time
    # absolute URLs are kept as they are
    assert df.loc[df.incident_id == 460477, "url"].item().count("https://polisen.se") == 1


def test_events_from_list_and_text_without_mutation():
    events = json.loads((FIX / "police_events.json").read_text(encoding="utf-8"))
    before = copy.deepcopy(events)
    a = read_police_events(events)
    assert events == before
    b = read_police_events(json.dumps(events))
    pd.testing.assert_frame_equal(a, b)


def test_error_events_missing_key_names_id():
    with pytest.raises(DataError, match=r"event 460498 \(index 1\) lacks \['location'\]"):
        read_police_events(FIX / "police_events_bad_missing_key.json")


def test_error_events_missing_id_names_index():
    events = json.loads((FIX / "police_events.json").read_text(encoding="utf-8"))
    del events[2]["id"]
    with pytest.raises(DataError, match=r"event at index 2 lacks \['id'\]"):
        read_police_events(events)


def test_error_events_unparseable_datetime():
    with pytest.raises(
        DataError, match=r"event 460477 \(index 2\) has an unparseable datetime '31/05/2023 18:05'"
    ):
        read_police_events(FIX / "police_events_bad_datetime.json")


def test_error_events_bad_gps():
    with pytest.raises(DataError, match=r"event 459990 \(index 3\) has gps '18.068581,59.329324'"):
        read_police_events(FIX / "police_events_bad_gps.json")


def test_error_events_gps_not_two_numbers():
    events = json.loads((FIX / "police_events.json").read_text(encoding="utf-8"))
    events[0]["location"]["gps"] = ""
    with pytest.raises(DataError, match=r"event 460512 \(index 0\) has gps ''"):
        read_police_events(events)


def test_error_events_duplicate_ids():
    events = json.loads((FIX / "police_events.json").read_text(encoding="utf-8"))
    with pytest.raises(DataError, match=r"event id\(s\) \[460512\] occur more than once"):
        read_police_events(events + events[:1])


def test_error_events_not_a_list():
    with pytest.raises(DataError, match=r"expected a JSON list of events"):
        read_police_events(__import__("io").StringIO('{"id": 1}'))


def test_shootings_quoted_comma_file(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(
        '"Publicerad: 2023-01-10"\n"Polisregion","Månad","Skjutningar","Döda","Skadade"\n'
        '"Syd","2022M03","4","1","0"\n',
        encoding="utf-8",
    )
    df = read_police_shootings(p)
    assert df[["unit", "shootings", "dead", "injured"]].values.tolist() == [["Syd", 4, 1, 0]]
    assert str(df["time"].item()) == "2022-03"


def test_error_events_impossible_date():
    events = json.loads((FIX / "police_events.json").read_text(encoding="utf-8"))
    events[1]["datetime"] = "2023-02-30 21:40:55 +01:00"
    with pytest.raises(
        DataError, match=r"unparseable datetime\(s\).*\[\"event 460498: '2023-02-30 21:40:55"
    ):
        read_police_events(events)


def test_error_events_non_integer_id():
    events = json.loads((FIX / "police_events.json").read_text(encoding="utf-8"))
    events[3]["id"] = "abc"
    with pytest.raises(
        DataError, match=r"event 'abc' \(index 3\) has id 'abc', not a whole number"
    ):
        read_police_events(events)
