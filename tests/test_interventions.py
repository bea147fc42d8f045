"""The intervention registry and the overlap query."""

from __future__ import annotations

import pandas as pd
import pytest

from utvardering import (
    MALMO_PROGRAMMES,
    DataError,
    Intervention,
    get_intervention,
    overlapping_programmes,
)
from utvardering.interventions import registry_from_frame


def test_registry_holds_the_malmo_programmes():
    assert set(MALMO_PROGRAMMES) == {
        "sluta_skjut", "ordningsvakter_mollevangen", "drogfri_skola", "medborgarlofte_mollevangen",
        "bid_mollevangen", "communities_that_care", "rimfrost",
    }
    sluta = get_intervention("sluta_skjut")
    # DOMAIN.md: autumn 2018 (October usual), one source says February 2018.
    assert sluta.start == "2018-10-01" and sluta.start_uncertain and sluta.start_alternatives == ("2018-02-01",)
    guards = get_intervention("ordningsvakter_mollevangen")
    assert guards.start_date == pd.Timestamp("2021-06-14") and guards.end == "2022-12-31"
    assert all(p.sources for p in MALMO_PROGRAMMES.values())


def test_overlap_query():
    out = overlapping_programmes("Malmö", "2019-01-01", "2020-12-31", exclude="sluta_skjut")
    assert out["key"].tolist() == ["rimfrost"]
    out = overlapping_programmes(["Möllevången"], "2021-06-14", "2022-12-31",
                                 exclude="ordningsvakter_mollevangen")
    assert sorted(out["key"]) == ["bid_mollevangen", "communities_that_care", "medborgarlofte_mollevangen"]
    # medborgarlöftet ended in April 2022
    assert "medborgarlofte_mollevangen" not in set(
        overlapping_programmes("Möllevången", "2022-06-01", "2022-12-31")["key"])
    assert overlapping_programmes("Lund", "2019-01-01", "2020-01-01").empty


def test_bad_entries():
    with pytest.raises(DataError, match=r"ends \(2020-01-01\) before it starts \(2021-01-01\)"):
        Intervention("x", "X", ("a",), "2021-01-01", end="2020-01-01")
    with pytest.raises(DataError, match=r"start 'våren' is not a date"):
        Intervention("x", "X", ("a",), "våren")
    with pytest.raises(DataError, match=r"unit_starts names 'b', which is not among its units"):
        Intervention("x", "X", ("a",), "2021-01-01", unit_starts={"b": "2021-02-01"})
    with pytest.raises(DataError, match=r"no intervention 'sluta' in the registry; known:"):
        get_intervention("sluta")


def test_registry_from_frame():
    table = pd.DataFrame({"key": ["a", "b"], "name": ["A", "B"], "units": ["x; y", "z"],
                          "start": ["2020-01-01", "2021-05-01"], "end": [None, "2020-01-01"]})
    with pytest.raises(DataError, match=r"registry row 1: intervention 'b' ends"):
        registry_from_frame(table)
    registry = registry_from_frame(table.iloc[:1])
    assert registry["a"].units == ("x", "y")
    with pytest.raises(DataError, match=r"registry table misses column\(s\) \['start'\]"):
        registry_from_frame(table.drop(columns="start"))
