"""Tests of the JSON-stat2 reader and the PxWeb request builder.

Expected values are those written in tests/fixtures/sources/pxweb_*.json; row order follows
the JSON-stat 2.0 rule that the last dimension in ``id`` varies fastest.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from utvardering.data.sources import PxWebRequest, pxweb_query, read_jsonstat2
from utvardering.errors import DataError

FIX = Path(__file__).parents[2] / "fixtures" / "sources"


def _load(name):
    return json.loads((FIX / name).read_text(encoding="utf-8"))


def test_dense_response_row_major():
    df = read_jsonstat2(FIX / "pxweb_population_dense.json")
    assert list(df.columns) == [
        "Region", "Region_label", "Kon", "Kon_label", "ContentsCode", "ContentsCode_label",
        "Tid", "Tid_label", "value",
    ]  # fmt: skip
    assert df["Region"].tolist() == ["1280"] * 4 + ["1281"] * 4
    assert df["Kon"].tolist() == ["1", "1", "2", "2"] * 2
    assert df["Tid"].tolist() == ["2021", "2022"] * 4
    assert df["value"].tolist() == [175132, 177010, 176617, 180367, 63220, 63760, 64156, 64710]
    assert df["Region_label"].unique().tolist() == ["Malmö", "Lund"]
    assert df["Kon_label"].unique().tolist() == ["män", "kvinnor"]
    # single-category dimension without category.index
    assert df["ContentsCode"].unique().tolist() == ["BE0101N1"]
    assert df.attrs["role"]["time"] == ["Tid"]
    assert df.attrs["updated"] == "2023-02-21T07:00:00Z"
    malmo_2022 = df[(df.Region == "1280") & (df.Tid == "2022")]["value"].sum()
    assert malmo_2022 == 177010 + 180367


def test_sparse_response_with_status_and_unordered_index():
    df = read_jsonstat2(FIX / "pxweb_sparse.json")
    # index given as {"1280C1020": 1, "1280C1010": 0, ...}: order is by position
    assert df["Region"].tolist() == ["1280C1010"] * 2 + ["1280C1020"] * 2 + ["1280C1030"] * 2
    np.testing.assert_array_equal(df["value"].to_numpy(), [1834, 1850, np.nan, 2011, np.nan, 1502])
    assert df["status"].tolist() == [None, None, "..", None, "..", None]


def test_dict_input_not_mutated_and_equal_to_file():
    data = _load("pxweb_population_dense.json")
    before = copy.deepcopy(data)
    a = read_jsonstat2(data)
    assert data == before
    b = read_jsonstat2(json.dumps(data))
    assert a.equals(b)


def test_dense_value_with_nulls_and_status_string():
    data = _load("pxweb_sparse.json")
    data["value"] = [1, None, 3, 4, 5, 6]
    data["status"] = "p"
    df = read_jsonstat2(data)
    assert np.isnan(df["value"].iloc[1]) and df["value"].iloc[5] == 6
    assert (df["status"] == "p").all()


def test_error_size_id_mismatch():
    with pytest.raises(DataError, match=r"size/id mismatch: 'id' names 4 dimensions"):
        read_jsonstat2(FIX / "pxweb_bad_size_id.json")


def test_error_size_disagrees_with_categories():
    data = _load("pxweb_population_dense.json")
    data["size"] = [3, 2, 1, 2]
    with pytest.raises(
        DataError, match=r"size/id mismatch: 'size' gives 3 categories for dimension 'Region'"
    ):
        read_jsonstat2(data)


def test_error_value_length():
    with pytest.raises(DataError, match=r"'value' has 7 entries but the product of 'size' is 8"):
        read_jsonstat2(FIX / "pxweb_bad_value_length.json")


def test_error_bad_index():
    with pytest.raises(
        DataError, match=r"bad category.index for dimension 'Region': positions \[0, 2\]"
    ):
        read_jsonstat2(FIX / "pxweb_bad_index.json")


def test_error_sparse_key_out_of_range():
    data = _load("pxweb_sparse.json")
    data["value"] = {"0": 1, "6": 2}
    with pytest.raises(
        DataError, match=r"sparse 'value' has key '6', which is not a flat index in 0..5"
    ):
        read_jsonstat2(data)


def test_error_json_stat_1():
    with pytest.raises(DataError, match=r"JSON-stat 1 .*json-stat2"):
        read_jsonstat2({"dataset": {"dimension": {}, "value": []}})


def test_error_non_numeric_value():
    data = _load("pxweb_sparse.json")
    data["value"] = [1, 2, "tre", 4, 5, 6]
    with pytest.raises(DataError, match=r"non-numeric entry 'tre'"):
        read_jsonstat2(data)


def test_query_v2_url():
    req = pxweb_query("TAB638", {"Region": ["1280", "1281"], "Tid": "top(3)", "Kon": "*"})
    assert req == PxWebRequest(
        "GET",
        "https://statistikdatabasen.scb.se/api/v2/tables/TAB638/data?lang=sv"
        "&valueCodes[Region]=1280,1281&valueCodes[Tid]=top(3)&valueCodes[Kon]=*"
        "&outputFormat=json-stat2",
        None,
    )


def test_query_v2_codelist_and_encoding():
    req = pxweb_query(
        "TAB638", {"Region": {"codelist": "vs_RegionKommun07", "values": ["1280"]}},
        language="en", base_url="https://example.org/api/v2/",
    )  # fmt: skip
    assert req.url == (
        "https://example.org/api/v2/tables/TAB638/data?lang=en&codelist[Region]=vs_RegionKommun07"
        "&valueCodes[Region]=1280&outputFormat=json-stat2"
    )


def test_query_v1_body():
    selection = {"Region": ["1280"], "Kon": "*", "Tid": "top(2)", "ContentsCode": "BE0101N1"}
    before = copy.deepcopy(selection)
    req = pxweb_query("BE/BE0101/BE0101A/BefolkningNy", selection, version=1)
    assert selection == before
    assert req.method == "POST"
    assert req.url == "https://api.scb.se/OV0104/v1/doris/sv/ssd/BE/BE0101/BE0101A/BefolkningNy"
    assert req.json == {
        "query": [
            {"code": "Region", "selection": {"filter": "item", "values": ["1280"]}},
            {"code": "Kon", "selection": {"filter": "all", "values": ["*"]}},
            {"code": "Tid", "selection": {"filter": "top", "values": ["2"]}},
            {"code": "ContentsCode", "selection": {"filter": "item", "values": ["BE0101N1"]}},
        ],
        "response": {"format": "json-stat2"},
    }


def test_query_v1_aggregation_filter_passthrough():
    req = pxweb_query(
        "BE/BE0101/BE0101A/BefolkningNy",
        {"Region": {"filter": "vs:RegionKommun07", "values": ["1280"]}},
        version=1,
    )
    assert req.json["query"][0]["selection"] == {"filter": "vs:RegionKommun07", "values": ["1280"]}


def test_query_argument_errors():
    with pytest.raises(ValueError, match=r"version must be 1 or 2"):
        pxweb_query("TAB638", {}, version=3)
    with pytest.raises(ValueError, match=r"PxWeb v1 needs the table's path"):
        pxweb_query("TAB638", {}, version=1)
    with pytest.raises(ValueError, match=r"selection\['Tid'\] must be a code or a non-empty list"):
        pxweb_query("TAB638", {"Tid": []})
