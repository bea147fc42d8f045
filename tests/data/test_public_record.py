"""The public record: bundled real figures, their sources and the vintage rules (issue 13)."""

from __future__ import annotations

import hashlib
import warnings

import pandas as pd
import pytest

import utvardering.datasets as datasets
from utvardering.cli import main
from utvardering.data.public_record import (
    PUBLIC_RECORD,
    load_public_record,
    public_record_names,
    sources,
)
from utvardering.errors import DataError, DataWarning

NAMES = ["shootings_malmo", "shootings_sweden", "shootings_regions", "trygghet_malmo", "ntu",
         "programme_facts"]


def _quiet(name, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return load_public_record(name, **kwargs)


def test_names_are_the_six_of_issue_13():
    assert public_record_names() == NAMES
    assert datasets.load_public_record is load_public_record
    assert datasets.sources is sources


@pytest.mark.parametrize("name", NAMES)
def test_every_row_source_id_is_in_the_source_table(name):
    known = set(sources()["source_id"])
    frame = _quiet(name, all_vintages=name != "programme_facts")
    ids = frame["source_id"].str.split(";").explode().str.strip()
    assert len(ids) >= len(frame) > 0
    missing = sorted(set(ids) - known)
    assert missing == [], f"{name}: source ids without a row in sources.csv: {missing}"


def test_source_table_has_urls_and_unique_ids():
    table = sources()
    assert table["source_id"].is_unique
    with_url = table["url"].str.startswith(("http://", "https://"))
    # Only four local sources (two papers, a reposted police text, a trade site) lack a URL.
    assert sorted(table.loc[~with_url, "source_id"]) == ["S65", "S66", "S67", "S81"]
    assert table.set_index("source_id").loc["S36", "url"] == (
        "https://malmo.se/Fakta-och-statistik/Trygghet--sakerhet.html")


def test_bundled_files_are_the_compiled_files_byte_for_byte():
    """Hashes recorded in files/public/README.md (copied from the compilation, unchanged)."""
    from utvardering.data.public_record import _path

    readme = _path("README.md").read_text(encoding="utf-8")
    for spec in PUBLIC_RECORD.values():
        for file in spec.files:
            digest = hashlib.sha256(_path(file).read_bytes()).hexdigest()
            assert f"{digest}  {file}" in readme


def test_tidy_columns_and_one_vintage_per_cell_by_default():
    frame = _quiet("shootings_sweden")
    assert list(frame.columns) == ["unit", "unit_type", "period", "period_start", "period_end",
                                   "measure", "value", "as_of", "source_id", "quality", "note",
                                   "vintage_status"]
    assert pd.api.types.is_datetime64_any_dtype(frame["period_start"])
    assert frame["value"].dtype == float
    key = ["unit", "measure", "period", "period_start", "period_end"]
    assert not frame.duplicated(key).any()
    everything = _quiet("shootings_sweden", all_vintages=True)
    assert len(everything) > len(frame)
    assert everything.duplicated(key).any()  # the same cell in several vintages
    assert everything.groupby(key, dropna=False)["selected"].sum().eq(1).all()


def test_national_series_is_the_final_police_pdf_vintage():
    frame = _quiet("shootings_sweden")
    annual = frame[(frame["measure"] == "confirmed_shootings")
                   & (frame["period_end"].dt.strftime("%m-%d") == "12-31")
                   & (frame["period"].str.len() == 4)]
    series = annual.set_index("period")["value"].astype(int).to_dict()
    assert series == {"2017": 281, "2018": 325, "2019": 360, "2020": 379, "2021": 344,
                      "2022": 391, "2023": 368, "2024": 296}
    assert set(annual["source_id"]) == {"S01"}


def test_malmo_series_is_malmo_stad_citing_the_police():
    frame = _quiet("shootings_malmo")
    annual = frame[(frame["measure"] == "shootings") & (frame["period"].str.len() == 4)]
    assert annual.set_index("period")["value"].astype(int).to_dict() == {
        "2016": 61, "2017": 65, "2018": 47, "2019": 34, "2020": 20, "2021": 21, "2022": 29}
    assert set(annual["source_id"]) == {"S36", "S37"}


def test_2016_and_2017_conflicts_are_surfaced_as_data_warnings():
    with pytest.warns(DataWarning, match=r"Malmö shootings 2016: 61 .* vs 59 \(S48"):
        malmo = load_public_record("shootings_malmo")
    with pytest.warns(DataWarning, match=r"Sverige confirmed_shootings 2017: 281 \(S01.* vs 324 \(S04"):
        load_public_record("shootings_sweden")
    assert any("2016" in c and "59" in c for c in malmo.attrs["conflicts"])


def test_upward_revisions_are_recorded_not_warned_as_conflicts():
    frame = _quiet("shootings_sweden")
    assert any(r.startswith("Sverige confirmed_shootings 2018: 325") for r in frame.attrs["revisions"])
    assert not any("confirmed_shootings 2018" in c for c in frame.attrs["conflicts"])
    row = frame[(frame["measure"] == "confirmed_shootings") & (frame["period"] == "2018")]
    assert row["vintage_status"].item() == "revision"


def test_all_vintages_returns_every_row_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        everything = load_public_record("shootings_malmo", all_vintages=True)
    cell = everything[(everything["measure"] == "shootings") & (everything["period"] == "2016")]
    assert sorted(cell["value"].astype(int)) == [59, 61, 61]
    assert (cell["vintage_status"] == "conflict").all()
    assert cell.loc[cell["selected"], "source_id"].item() == "S36"


def test_programme_facts_keep_text_values_and_sources():
    facts = load_public_record("programme_facts")
    sluta = facts[facts["programme"].str.startswith("Sluta skjut")].set_index("item")
    assert sluta.loc["change in shootings Jan 2017-Feb 2020", "value"] == "-37"
    assert sluta.loc["shootings before programme (evaluation count)", "value"] == "97"
    assert sluta.loc["shootings after (evaluation count)", "value"] == "52"


def test_unknown_name_is_a_data_error_listing_the_names():
    with pytest.raises(DataError, match="shootings_malmo"):
        load_public_record("shootings_malmoe")


def test_datasets_list_shows_the_public_record_with_sources(capsys):
    from utvardering.data.public_record import public_record_rows

    public = pd.DataFrame(public_record_rows())
    assert list(public["name"]) == NAMES
    assert public["source"].str.contains("https://").all()
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert "Public datasets (6)" in out
    assert "utvardering.datasets.load_public_record('shootings_malmo')" in out
    assert "S36 https://malmo.se/Fakta-och-statistik/Trygghet--sakerhet.html" in out
