"""The public record: bundled real figures, their sources and the vintage rules (issue 13)."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
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


# -- "What the public record says" (Sluta skjut) ------------------------------------------
from utvardering.report.public_record import (  # noqa: E402
    data_request_paragraph,
    poisson_did_mde,
    poisson_did_power,
    sluta_skjut_public_panel,
    sluta_skjut_public_section,
)


@pytest.fixture(scope="module")
def section_en():
    return sluta_skjut_public_section("en")


def test_public_panel_is_malmo_against_sweden_minus_malmo_same_vintage():
    panel = sluta_skjut_public_panel()
    assert panel.loc[2017:2022, "malmo"].tolist() == [65, 47, 34, 20, 21, 29]
    assert panel.loc[2017:2022, "sweden"].tolist() == [281, 325, 360, 379, 344, 391]
    assert panel.loc[2017:2022, "rest_of_sweden"].tolist() == [216, 278, 326, 359, 323, 362]
    assert set(panel.loc[2017:2022, "sweden_source"]) == {"S01"}
    assert sluta_skjut_public_panel(national_2017=324).loc[2017, "rest_of_sweden"] == 259


def test_section_did_equals_the_ratio_of_ratios_by_hand(section_en):
    n = section_en.numbers
    # first treated year 2019: Malmö 112 before (2017-18), 104 after; rest 494 and 1370
    assert n["did_2019_rate_ratio"] == pytest.approx((104 / 112) / (1370 / 494), rel=1e-9)
    # first treated year 2018: Malmö 65 and 151; rest 216 and 1648
    assert n["did_2018_rate_ratio"] == pytest.approx((151 / 65) / (1648 / 216), rel=1e-9)
    # Sweden 2017 = 324 (S04): rest 2017 = 259, before = 537
    assert n["did_2019_vintage324_relative"] == pytest.approx(
        (104 / 112) / (1370 / 537) - 1, rel=1e-9)
    se = np.sqrt(1 / 112 + 1 / 104 + 1 / 494 + 1 / 1370)
    assert n["did_2019_low"] == pytest.approx(np.expm1(np.log(n["did_2019_rate_ratio"])
                                                       - 1.959964 * se), rel=1e-5)
    assert n["raw_change_2016_17_vs_2018_22"] == pytest.approx(30.2 / 63 - 1)
    assert n["pre_change_2017_2018"] == pytest.approx((47 / 278) / (65 / 216) - 1)


def test_poisson_did_power_matches_simulation():
    """The closed-form power against the rejection rate of the same test on Poisson draws."""
    rng = np.random.default_rng(13)
    m0, c0, c1, theta, draws = 40.0, 300.0, 420.0, 0.6, 20000
    m1cf = m0 * c1 / c0  # parallel trends: the counterfactual follows the comparison
    M0, M1 = rng.poisson(m0, draws), rng.poisson(theta * m1cf, draws)
    C0, C1 = rng.poisson(c0, draws), rng.poisson(c1, draws)
    ok = (M0 > 0) & (M1 > 0)
    beta = np.log(M1[ok] / M0[ok]) - np.log(C1[ok] / C0[ok])
    se = np.sqrt(1 / M0[ok] + 1 / M1[ok] + 1 / C0[ok] + 1 / C1[ok])
    simulated = np.mean(np.abs(beta / se) > 1.959964)
    closed = poisson_did_power(theta, m0, m1cf, c0, c1)
    assert abs(simulated - closed) < 0.02, (simulated, closed)
    assert poisson_did_power(1.0, m0, m1cf, c0, c1) == pytest.approx(0.05)
    mde = poisson_did_mde(m0, m1cf, c0, c1)
    assert poisson_did_power(mde, m0, m1cf, c0, c1) == pytest.approx(0.8, abs=1e-6)
    assert poisson_did_mde(m0, m1cf, c0, c1, dispersion=3.0) < mde  # noisier: larger MDE


def test_section_power_statement_and_reference(section_en):
    p = section_en.power
    assert p["min_randomization_p"] == 0.5 and p["power_randomization_5pct"] == 0.0
    assert 0.9 < p["power_poisson_rr063"] < 1.0
    assert p["mde_quasi"] < p["mde_poisson"] < 1
    assert section_en.reference == {"change_jan2017_feb2020_pct": -37.0, "before_count": 97,
                                    "after_count": 52, "followup_2023_pct": -50.0,
                                    "sources": ["S49", "S50", "S51"]}
    text = " ".join(section_en.paragraphs)
    for phrase in ("97 shootings before vs 52 after", "−37%", "about 50% fewer",
                   "cannot separate", "smallest p-value", "is 0.5", "not as truth"):
        assert phrase in text, phrase


def test_section_in_swedish_has_the_same_numbers():
    sv = sluta_skjut_public_section("sv")
    en = sluta_skjut_public_section("en")
    assert sv.numbers == en.numbers
    assert sv.title == "Vad den offentliga statistiken säger"
    text = sv.to_markdown()
    assert "kvot 0,33" in text and "97 skjutningar före mot 52 efter" in text
    assert "| 2017 | 65 | 281 | 216 |" in text
    with pytest.raises(ValueError):
        sluta_skjut_public_section("de")


def test_estimates_table_has_both_start_years_and_the_count_its(section_en):
    specs = section_en.estimates.iloc[:, 0].tolist()
    assert specs[:2] == ["Poisson DiD, first year 2019", "Poisson DiD, first year 2018"]
    assert any(s.startswith("Count ITS") and "2016 = 59" in s for s in specs)
    assert section_en.to_dict()["numbers"]["did_2019_rate_ratio"] < 0.4


def test_data_request_paragraphs_name_the_data_and_config():
    for analysis in ("ordningsvakter_mollevangen", "drogfri_skola"):
        for lang in ("en", "sv"):
            text = data_request_paragraph(analysis, lang)
            assert "--config" in text and "load_public_record('programme_facts')" in text
    assert "incident file" in data_request_paragraph("ordningsvakter_mollevangen")
    assert "micro-data" in data_request_paragraph("drogfri_skola")


class _Report:
    """The three Report methods the section uses (duck-typed)."""

    def __init__(self, lang):
        self.lang, self.blocks = lang, []

    def heading(self, text, level=2):
        self.blocks.append(("heading", text))

    def text(self, text):
        self.blocks.append(("text", text))

    def table(self, name, frame, *, caption="", counts=None):
        self.blocks.append(("table", name))
        return frame


def test_public_record_section_is_added_to_reports_in_both_languages():
    from utvardering.report.public_record import add_public_record_section

    sv = _Report("sv")
    add_public_record_section(sv, "sluta_skjut")
    assert sv.blocks[0] == ("heading", "Vad den offentliga statistiken säger")
    assert ("table", "public_record_estimates") in sv.blocks
    en = _Report("en")
    add_public_record_section(en, "drogfri_skola")
    assert en.blocks[0] == ("heading", "Real data") and "--config" in en.blocks[1][1]
