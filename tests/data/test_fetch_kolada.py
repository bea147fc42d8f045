"""Kolada v2 JSON API → municipality × year panel: paging, cache, rate limit, offline, provenance.

Recorded-format fixtures (tests/fixtures/kolada, invented numbers) are served by a fake
transport: no network in tests.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from utvardering.cli import main
from utvardering.data.sources.fetching import Fetcher
from utvardering.data.sources.kolada import fetch_kolada, kolada_url, read_kolada
from utvardering.errors import DataError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kolada"
URL = "https://api.kolada.se/v2/data/kpi/N07540/municipality/1280,0180/year/2020,2021,2022"


def _bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeTransport:
    def __init__(self, files: dict[str, bytes]):
        self.files, self.calls = files, []

    def get(self, url, timeout):
        self.calls.append(url)
        if url not in self.files:
            raise OSError("Name or service not known")
        return self.files[url]


def _served() -> dict[str, bytes]:
    first = json.loads(_bytes("N07540_page1.json"))
    return {URL: _bytes("N07540_page1.json"), first["next_page"]: _bytes("N07540_page2.json")}


def test_url_building_validates_ids():
    assert kolada_url("N07540", "2020-2022", ["1280", "0180"]) == URL
    assert kolada_url(["N07540", "N07403"], 2021) == (
        "https://api.kolada.se/v2/data/kpi/N07540,N07403/year/2021")
    with pytest.raises(DataError, match="four-digit"):
        kolada_url("N07540", 2021, ["180"])
    with pytest.raises(DataError, match="not of the form"):
        kolada_url("brott", 2021)


def test_pages_are_followed_and_values_kept_with_nulls_as_nan(tmp_path):
    transport = FakeTransport(_served())
    waits = []
    fetcher = Fetcher(tmp_path, transport=transport, min_interval=1.5, clock=lambda: 10.0,
                      sleep=waits.append)
    panel = fetch_kolada("N07540", "2020-2022", municipalities=["1280", "0180"], fetcher=fetcher)
    assert len(transport.calls) == 2 and waits == [1.5]
    assert list(panel.columns) == ["kpi", "municipality", "year", "gender", "value", "status",
                                   "count"]
    assert panel["municipality"].tolist() == ["0180"] * 3 + ["1280"] * 3  # leading zero kept
    malmo = panel[panel["municipality"] == "1280"].set_index("year")
    assert malmo.loc[2021, "value"] == pytest.approx(13877.7)
    assert np.isnan(malmo.loc[2022, "value"]) and malmo.loc[2022, "status"] == "Ej publicerat"
    prov = panel.attrs["provenance"]
    assert [p["url"] for p in prov] == list(_served())
    assert prov[1]["sha256"] == hashlib.sha256(_bytes("N07540_page2.json")).hexdigest()
    assert "Kolada (RKA)" in panel.attrs["source"]


def test_offline_reads_the_cache_and_fails_clearly_without_it(tmp_path):
    online = fetch_kolada("N07540", [2020, 2021, 2022], municipalities=["1280", "0180"],
                          fetcher=Fetcher(tmp_path, transport=FakeTransport(_served()),
                                          min_interval=0))
    offline = fetch_kolada("N07540", [2020, 2021, 2022], municipalities=["1280", "0180"],
                           cache=tmp_path, offline=True)
    assert offline.equals(online)
    assert all(p["from_cache"] for p in offline.attrs["provenance"])
    with pytest.raises(DataError, match=r"offline: .* is not in the cache"):
        fetch_kolada("N07403", 2021, cache=tmp_path, offline=True)
    with pytest.raises(DataError, match="needs a cache directory"):
        fetch_kolada("N07403", 2021, offline=True)


def test_no_network_is_a_clear_error(tmp_path):
    fetcher = Fetcher(tmp_path, transport=FakeTransport({}), min_interval=0)
    with pytest.raises(DataError, match=r"could not download .*Name or service not known"):
        fetch_kolada("N07540", 2021, fetcher=fetcher)


def test_gender_selection_and_malformed_pages():
    page = json.loads(_bytes("N07403_gender.json"))
    assert read_kolada([page])["gender"].tolist() == ["T"]
    both = read_kolada([page], gender=None)
    assert both["gender"].tolist() == ["K", "M", "T"]
    assert read_kolada([page], gender="K")["value"].item() == 1500.0
    with pytest.raises(DataError, match="no 'values' list"):
        read_kolada([{"error": "bad request"}])
    with pytest.raises(DataError, match="repeat"):
        read_kolada([page, page])
    with pytest.raises(DataError, match="gender="):
        read_kolada([page], gender="F")


def test_cli_fetch_kolada_offline_writes_panel_and_provenance(tmp_path, capsys):
    cache = tmp_path / "cache"
    Fetcher(cache, transport=FakeTransport(_served()), min_interval=0).get(URL)
    page2 = json.loads(_bytes("N07540_page1.json"))["next_page"]
    Fetcher(cache, transport=FakeTransport(_served()), min_interval=0).get(page2)
    out = tmp_path / "kolada.csv"
    code = main(["fetch", "kolada", "N07540", "--years", "2020-2022", "--municipality",
                 "1280,0180", "--cache", str(cache), "--offline", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert out.read_text(encoding="utf-8").splitlines()[0] == (
        "kpi,municipality,year,gender,value,status,count")
    prov = json.loads(Path(str(out) + ".provenance.json").read_text(encoding="utf-8"))
    assert [f["url"] for f in prov["fetches"]] == [URL, page2]
    assert "6 rows" in capsys.readouterr().out
    code = main(["fetch", "kolada", "N07403", "--years", "2021", "--cache", str(cache),
                 "--offline"])
    assert code == 2
    assert "offline" in capsys.readouterr().err
