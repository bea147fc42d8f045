"""The Police's yearly PDF 'skjutningar per polisregion YYYY' → region × month panel.

The fixture PDFs are written here with matplotlib's PDF backend in the documented layout
(title with the year; tables Skjutningar, Avlidna, Skadade; a header row of months and
'Totalt'; seven region rows of 12 months + year total; a 'Totalt' row). The counts are
invented; pdfplumber extracts matplotlib's text as it would the Police's.
"""

from __future__ import annotations

import hashlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from utvardering.data.sources.fetching import Fetcher
from utvardering.data.sources.police_pdf import (
    POLICE_PDF_URLS,
    REGIONS,
    fetch_police_shootings,
    read_police_shootings_pdf,
)
from utvardering.errors import DataError

MONTHS = ["Jan", "Feb", "Mar", "Apr", "Maj", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dec"]


def make_tables(seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"Skjutningar": rng.poisson([[2], [4], [2], [10], [6], [5], [3]], size=(7, 12)),
            "Avlidna": rng.poisson(0.6, size=(7, 12)),
            "Skadade": rng.poisson(1.2, size=(7, 12))}


def write_pdf(path, year: int, tables: dict[str, np.ndarray], *, total_shift=None,
              prefix: str = "", dash_zero: bool = False, drop_region: str | None = None) -> bytes:
    """Write the documented layout; ``total_shift=(table, month, k)`` corrupts the Totalt row."""
    fig = plt.figure(figsize=(8.3, 11.7))
    y = 0.96
    fig.text(0.05, y, f"Skjutningar per polisregion {year}", fontsize=12)
    y -= 0.03

    def cell(v):
        return "-" if dash_zero and v == 0 else str(v)

    for name, values in tables.items():
        y -= 0.01
        fig.text(0.05, y, name, fontsize=10)
        y -= 0.022
        for i, label in enumerate(["Polisregion", *MONTHS, "Totalt"]):
            fig.text(0.05 + (0.14 if i else 0) + 0.055 * max(i - 1, 0), y, label, fontsize=7)
        y -= 0.018
        totals = values.sum(axis=0).copy()
        if total_shift and total_shift[0] == name:
            totals[total_shift[1]] += total_shift[2]
        rows = [(prefix + r, values[k]) for k, r in enumerate(REGIONS) if r != drop_region]
        for label, row in [*rows, ("Totalt", totals)]:
            cells = [*(cell(v) for v in row), str(int(sum(row)))]
            fig.text(0.05, y, label, fontsize=7)
            for i, c in enumerate(cells):
                fig.text(0.19 + 0.055 * i, y, c, fontsize=7)
            y -= 0.018
    fig.savefig(path)
    plt.close(fig)
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def pdf_2019(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "skjutningar-per-polisregion-2019.pdf"
    tables = make_tables()
    write_pdf(path, 2019, tables)
    return path, tables


def test_reads_seven_regions_by_twelve_months_with_dead_and_injured(pdf_2019):
    path, tables = pdf_2019
    panel = read_police_shootings_pdf(path)
    assert list(panel.columns) == ["unit", "time", "shootings", "dead", "injured", "vintage",
                                   "definition"]
    assert len(panel) == 84 and panel["unit"].nunique() == 7
    assert panel["time"].min() == pd.Period("2019-01", "M")
    assert panel["time"].max() == pd.Period("2019-12", "M")
    for measure, table in (("shootings", "Skjutningar"), ("dead", "Avlidna"),
                           ("injured", "Skadade")):
        wide = panel.pivot(index="unit", columns="time", values=measure).loc[list(REGIONS)]
        np.testing.assert_array_equal(wide.to_numpy(), tables[table])
    assert panel.attrs["national_totals"]["shootings"] == int(tables["Skjutningar"].sum())
    assert (panel["definition"] == "confirmed").all() and panel["vintage"].isna().all()


def test_region_prefix_and_dash_for_zero_are_read(tmp_path):
    tables = make_tables(seed=11)
    path = tmp_path / "x.pdf"
    content = write_pdf(path, 2021, tables, prefix="Region ", dash_zero=True)
    panel = read_police_shootings_pdf(content, vintage="2026-12-01")
    assert set(panel["unit"]) == set(REGIONS)
    assert int(panel["dead"].sum()) == int(tables["Avlidna"].sum())
    assert (panel["vintage"] == pd.Timestamp("2026-12-01")).all()


def test_regions_not_summing_to_total_name_the_month_and_difference(tmp_path):
    path = tmp_path / "bad.pdf"
    write_pdf(path, 2019, make_tables(), total_shift=("Skjutningar", 2, 2))
    with pytest.raises(DataError) as err:
        read_police_shootings_pdf(path)
    message = str(err.value)
    assert "table 'Skjutningar'" in message
    assert "mars 2019" in message and "(difference -2)" in message
    assert "januari" not in message  # only the month at fault is named


def test_missing_region_and_wrong_year_are_errors(tmp_path):
    path = tmp_path / "short.pdf"
    tables = make_tables()
    write_pdf(path, 2019, tables, drop_region="Nord")
    with pytest.raises(DataError, match="no row for Nord"):
        read_police_shootings_pdf(path)
    good = tmp_path / "good.pdf"
    write_pdf(good, 2019, tables)
    with pytest.raises(DataError, match="year=2020 but the PDF's title says 2019"):
        read_police_shootings_pdf(good, year=2020)


def test_not_a_police_pdf_is_a_clear_error(tmp_path):
    path = tmp_path / "other.pdf"
    fig = plt.figure()
    fig.text(0.1, 0.5, "Skjutningar per polisregion 2020: inga tabeller")
    fig.savefig(path)
    plt.close(fig)
    with pytest.raises(DataError, match="no table"):
        read_police_shootings_pdf(path)
    with pytest.raises(DataError, match="could not read the PDF"):
        read_police_shootings_pdf(b"not a pdf at all")


class FakeTransport:
    """Serves fixed bytes per URL and counts requests (no network in tests)."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.calls = files, []

    def get(self, url, timeout):
        self.calls.append(url)
        if url not in self.files:
            raise OSError(f"404 for {url}")
        return self.files[url]


def test_fetch_caches_records_provenance_and_works_offline(tmp_path):
    files = {}
    for year, seed in ((2018, 1), (2019, 2)):
        files[POLICE_PDF_URLS[year]] = write_pdf(tmp_path / f"{year}.pdf", year, make_tables(seed))
    transport = FakeTransport(files)
    waits = []
    fetcher = Fetcher(tmp_path / "cache", transport=transport, min_interval=2.0,
                      clock=lambda: 0.0, sleep=waits.append)
    panel = fetch_police_shootings([2019, 2018], fetcher=fetcher)
    assert len(panel) == 168 and sorted(panel["time"].dt.year.unique()) == [2018, 2019]
    assert waits == [2.0]  # one polite pause between the two downloads
    prov = panel.attrs["provenance"]
    assert [p["url"] for p in prov] == [POLICE_PDF_URLS[2018], POLICE_PDF_URLS[2019]]
    assert prov[0]["sha256"] == hashlib.sha256(files[POLICE_PDF_URLS[2018]]).hexdigest()
    assert not prov[0]["from_cache"] and prov[0]["fetched_at"].endswith("+00:00")
    # Offline: read from the cache only, same panel, no new requests.
    offline = fetch_police_shootings([2018, 2019], cache=tmp_path / "cache", offline=True)
    pd.testing.assert_frame_equal(offline, panel)
    assert all(p["from_cache"] for p in offline.attrs["provenance"])
    assert len(transport.calls) == 2
    with pytest.raises(DataError, match=r"offline: .*2020\.pdf is not in the cache"):
        fetch_police_shootings([2020], cache=tmp_path / "cache", offline=True)


def test_network_failure_and_damaged_cache_are_clear_errors(tmp_path):
    fetcher = Fetcher(tmp_path / "c", transport=FakeTransport({}), min_interval=0)
    with pytest.raises(DataError, match=r"could not download .*--offline --cache DIR"):
        fetch_police_shootings([2017], fetcher=fetcher)
    url = POLICE_PDF_URLS[2018]
    content = write_pdf(tmp_path / "a.pdf", 2018, make_tables())
    Fetcher(tmp_path / "c", transport=FakeTransport({url: content}), min_interval=0).get(url)
    data_file = next(p for p in (tmp_path / "c").iterdir() if p.suffix != ".json")
    data_file.write_bytes(content[:-10])
    with pytest.raises(DataError, match="the cache is damaged"):
        Fetcher(tmp_path / "c", offline=True).get(url)


def test_cli_fetch_police_offline(tmp_path, capsys):
    from utvardering.cli import main

    url = POLICE_PDF_URLS[2019]
    content = write_pdf(tmp_path / "p.pdf", 2019, make_tables())
    Fetcher(tmp_path / "cache", transport=FakeTransport({url: content}), min_interval=0).get(url)
    out = tmp_path / "panel.csv"
    assert main(["fetch", "police-shootings", "--years", "2019", "--cache",
                 str(tmp_path / "cache"), "--offline", "--out", str(out)]) == 0
    assert "84 rows" in capsys.readouterr().out
    assert pd.read_csv(out)["shootings"].sum() == make_tables()["Skjutningar"].sum()
    assert main(["fetch", "police-shootings", "--years", "2017-2018", "--cache",
                 str(tmp_path / "cache"), "--offline"]) == 2
    assert "not in the cache" in capsys.readouterr().err
