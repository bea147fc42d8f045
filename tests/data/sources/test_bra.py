"""Tests of the Brå reported-crime export reader on hand-written fixtures.

Expected values are the numbers written in the fixture files (tests/fixtures/sources/), which
imitate Brå's monthly export layout; the numbers themselves are invented.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from utvardering.data.sources import parse_month_label, read_bra_export
from utvardering.errors import DataError

FIX = Path(__file__).parents[2] / "fixtures" / "sources"


def test_latin1_export_parsed_exactly():
    df = read_bra_export(FIX / "bra_malmo_2021_latin1.csv")
    assert df.attrs["encoding"] in ("cp1252", "latin-1")
    assert df.attrs["separator"] == ";"
    assert list(df.columns) == [
        "offence", "offence_code", "level", "parent", "area", "time", "count",
        "suppressed", "marker", "preliminary",
    ]  # fmt: skip
    assert len(df) == 7 * 12  # 7 offence rows x 12 months in the fixture
    assert (df["area"] == "Malmö kommun").all()  # from the 'Område: Malmö kommun' line
    assert df["time"].dtype == pd.PeriodDtype("M")
    assert df["count"].dtype == "Int64"
    row = df[(df.offence == "Samtliga brott") & (df.time == pd.Period("2021-01", "M"))]
    assert row["count"].item() == 5102  # fixture: '5 102'
    mh = df[df.offence == "Misshandel inkl. grov"]
    assert mh["count"].tolist()[:3] == [231, 207, 244]
    assert mh["offence_code"].unique().tolist() == ["0300"]
    assert mh["level"].unique().tolist() == [2]
    assert mh["parent"].unique().tolist() == ["Brott mot person (3-7 kap. BrB)"]
    assert df[df.offence == "Samtliga brott"]["parent"].isna().all()
    assert df[df.offence == "Samtliga brott"]["offence_code"].isna().all()
    assert df[df.offence == "Narkotikabrott"]["level"].unique().tolist() == [1]


def test_suppression_markers_become_flagged_missing():
    df = read_bra_export(FIX / "bra_malmo_2021_latin1.csv")
    sup = df[df.suppressed]
    # fixture: Våldtäkt '..' in Feb and Oct, 'x' in May; Bostadsinbrott '-' in December
    assert [(r.offence, str(r.time), r.marker) for r in sup.itertuples()] == [
        ("Våldtäkt inkl. grov", "2021-02", ".."),
        ("Våldtäkt inkl. grov", "2021-05", "x"),
        ("Våldtäkt inkl. grov", "2021-10", ".."),
        ("Bostadsinbrott", "2021-12", "-"),
    ]
    assert sup["count"].isna().all()
    assert df.loc[~df.suppressed, "count"].notna().all()
    assert df.loc[~df.suppressed, "marker"].isna().all()


def test_dash_can_mean_zero():
    df = read_bra_export(FIX / "bra_malmo_2021_latin1.csv", dash="zero")
    dec = df[(df.offence == "Bostadsinbrott") & (df.time == pd.Period("2021-12", "M"))]
    assert dec["count"].item() == 0 and not dec["suppressed"].item()
    assert df.suppressed.sum() == 3


def test_preliminary_column_marker():
    df = read_bra_export(FIX / "bra_malmo_2021_latin1.csv")
    # only the starred header '2021 december*' is preliminary
    assert sorted(df.loc[df.preliminary, "time"].astype(str).unique()) == ["2021-12"]
    assert df.attrs["footnotes"][0] == "* Preliminära uppgifter"


def test_utf8_bom_scb_headers_area_column_nbsp():
    df = read_bra_export(FIX / "bra_utf8_bom.csv")
    assert df.attrs["encoding"] == "utf-8-sig"
    assert "offence_code" not in df.columns
    assert df["area"].unique().tolist() == ["Södra innerstaden", "Norr"]
    assert df["time"].astype(str).unique().tolist() == ["2021-10", "2021-11", "2021-12"]
    si = df[(df.area == "Södra innerstaden") & (df.offence == "Samtliga brott")]
    assert si["count"].tolist() == [1204, 1187, 1152]  # '1\u00a0204' etc. (no-break spaces)
    norr = df[(df.area == "Norr") & (df.offence == "Samtliga brott")]
    assert norr["count"].tolist() == [998, 1012, 967]  # '1 012' with a plain space
    drugs = df[(df.area == "Södra innerstaden") & (df.offence == "Narkotikabrott")]
    assert drugs["suppressed"].tolist() == [True, False, True]
    assert drugs["marker"].tolist() == ["..", None, "x"]
    # the hierarchy restarts in each area
    assert df[(df.area == "Norr") & (df.level == 1)]["parent"].unique().tolist() == [
        "Samtliga brott"
    ]
    assert not df.preliminary.any()


def test_decimal_commas_label_columns_per_level_and_file_wide_preliminary():
    df = read_bra_export(FIX / "bra_rates_decimal_comma.csv", area="Malmö kommun")
    assert df["count"].dtype == "float64"
    assert df[df.offence == "Brott mot person"]["count"].tolist() == [255.4, 238.1, 262.0]
    assert df[df.offence == "Skadegörelsebrott"]["count"].tolist() == [301.7, 287.5, 1010.5]
    mh = df[df.offence == "Misshandel inkl. grov"]
    assert mh["level"].unique().tolist() == [1]
    assert mh["parent"].unique().tolist() == ["Brott mot person"]
    assert df["time"].astype(str).unique().tolist() == ["2023-01", "2023-02", "2023-03"]
    assert df.preliminary.all()  # title line 'Statistiken för 2023 är preliminär'


def test_buffer_and_bytes_input_and_total_column_ignored():
    text = (
        "Område: Malmö kommun\n\nBrott;2022M01;2022M02;Totalt\nSamtliga brott;5 000;4 000;9 000\n"
    )
    df = read_bra_export(text.encode("utf-8"))
    assert df["count"].tolist() == [5000, 4000]
    assert df.attrs["ignored_columns"] == ["Totalt"]
    df2 = read_bra_export(__import__("io").BytesIO(text.encode("cp1252")))
    assert df2["count"].tolist() == [5000, 4000]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2021 januari", ("2021-01", False)),
        ("2021M01", ("2021-01", False)),
        ("2021-1", ("2021-01", False)),
        ("januari 2021", ("2021-01", False)),
        ("2021 okt", ("2021-10", False)),
        ("Dec 2021*", ("2021-12", True)),
        ("2021 december (prel.)", ("2021-12", True)),
        ("2021M12*", ("2021-12", True)),
    ],
)
def test_month_header_forms(label, expected):
    period, prelim = parse_month_label(label)
    assert (str(period), prelim) == expected


@pytest.mark.parametrize("label", ["2021", "2021 jaunari", "2021M13", "Brott", ""])
def test_non_month_headers(label):
    assert parse_month_label(label) is None


def test_error_no_month_columns():
    with pytest.raises(
        DataError, match=r"no month columns found .*'Brottskod;Brott;2019;2020;2021'"
    ):
        read_bra_export(FIX / "bra_bad_no_months.csv")


def test_error_unparseable_month_header_named():
    with pytest.raises(DataError, match=r"unparseable month header '2021 jaunari' \(column 4"):
        read_bra_export(FIX / "bra_bad_month_header.csv")


def test_error_unparseable_first_month_header_named():
    text = "Område: Malmö\nBrott;2021 jaunari;2021 februari\nSamtliga brott;1;2\n"
    with pytest.raises(DataError, match=r"unparseable month header '2021 jaunari' \(column 2"):
        read_bra_export(text.encode())


def test_error_non_numeric_cell_names_row_column_value():
    with pytest.raises(
        DataError,
        match=r"row 'Misshandel inkl\. grov \(line 5\)', column '2021 mars': '24a4'",
    ):
        read_bra_export(FIX / "bra_bad_non_numeric.csv")


def test_error_point_decimal_is_not_guessed():
    text = "Område: Malmö\nBrott;2021M01\nSamtliga brott;1.234\n"
    with pytest.raises(DataError, match=r"column '2021M01': '1\.234'"):
        read_bra_export(text.encode())


def test_error_duplicate_offence_rows():
    with pytest.raises(
        DataError,
        match=r"duplicate offence rows: 'Misshandel inkl\. grov' \(line 5\), "
        r"'Misshandel inkl\. grov' \(line 7\)",
    ):
        read_bra_export(FIX / "bra_bad_duplicate_rows.csv")


def test_error_data_row_after_blank_line():
    with pytest.raises(DataError, match=r"line 6 looks like a data row but comes after the end"):
        read_bra_export(FIX / "bra_bad_row_after_table.csv")


def test_error_no_area():
    with pytest.raises(DataError, match=r"no area found .*Pass area="):
        read_bra_export(FIX / "bra_rates_decimal_comma.csv")


def test_error_area_argument_with_area_column():
    with pytest.raises(DataError, match=r"area column \('Område'\); do not pass area="):
        read_bra_export(FIX / "bra_utf8_bom.csv", area="Malmö")


def test_error_duplicate_month_columns():
    text = "Område: Malmö\nBrott;2021M01;2021 januari\nSamtliga brott;1;2\n"
    with pytest.raises(DataError, match=r"month column\(s\) \['2021-01'\] appear more than once"):
        read_bra_export(text.encode())


def test_area_argument_overrides_title_line():
    df = read_bra_export(FIX / "bra_malmo_2021_latin1.csv", area="Malmö")
    assert df["area"].unique().tolist() == ["Malmö"]


def test_error_row_without_label():
    text = "Område: Malmö\nBrott;2021M01\nSamtliga brott;5\n;7\n"
    with pytest.raises(DataError, match=r"line\(s\) \[4\] have values but no offence label"):
        read_bra_export(text.encode())


def test_forced_encoding():
    data = (FIX / "bra_malmo_2021_latin1.csv").read_bytes()
    df = read_bra_export(data, encoding="latin-1")
    assert df.attrs["encoding"] == "latin-1"
    assert "Våldtäkt inkl. grov" in set(df["offence"])


def test_error_mixed_encodings():
    text = "Område: Malmö\nBrott;2021M01\nSamtliga brott;5\n".encode() + "Våld;3\n".encode("cp1252")
    # byte 48 is the cp1252 "å" of "Våld": 16 + 14 + 17 bytes of lines before it, then "V"
    with pytest.raises(DataError, match=r"mixed encodings: .* byte 48 is not UTF-8"):
        read_bra_export(text)


def test_error_bom_with_invalid_utf8():
    data = b"\xef\xbb\xbf" + "Område: Malmö\nBrott;2021M01\nSkadegörelse;5\n".encode("cp1252")
    with pytest.raises(DataError, match=r"is not valid utf-8-sig \(as its byte-order mark"):
        read_bra_export(data)


def test_utf16_tab_separated_excel_unicode_text():
    # Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab separated
    text = "Område: Malmö kommun\n\nBrott\t2022 januari\t2022 februari\nSamtliga brott\t5 000\t..\n"
    df = read_bra_export(text.encode("utf-16"))
    assert df.attrs["encoding"] == "utf-16" and df.attrs["separator"] == "\t"
    assert df["count"].tolist()[0] == 5000 and df["suppressed"].tolist() == [False, True]
