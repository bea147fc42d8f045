"""Bundled datasets: files byte-identical to their recorded hashes, loaders return the
documented shapes and columns, and ``list_datasets()`` describes every one with provenance."""

from __future__ import annotations

import hashlib
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering
import utvardering.datasets as public
from utvardering import DataError
from utvardering.data import datasets
from utvardering.data.bundled import BUNDLED_SIMULATIONS, read_bundled_simulation
from utvardering.data.reference import REFERENCE_DATASETS, bundled_file, file_sha256

FILES = resources.files("utvardering.data").joinpath("files")

#: SHA-256 of the reference files as copied from the project's shared data folder (the same
#: hashes are in data/files/README.md and REFERENCE_DATASETS); a change to a file fails here.
EXPECTED_SHA256 = {
    "prop99": "369ea135d3b5bfc5b8bf987a3f8143a422bbc004e7d9bdacd7136ca666b027a2",
    "prop99_covariates": "acbbe8cc0a727a5a3e4dd29fe8a69a63bc5e2ebabbb3597e9d74cf3b2ea673b4",
    "mpdta": "6de12307bf51f8ed0d19e7445f4b2eff6ae6e7205959507926e2b815610bb25d",
    "castle": "4de40a11d5f8efc44f865bc88f8d3824a52009691fc7adebf6bdc77d13698e57",
    "ehec": "05bbae29421078afa724ad76f3610ac035c8e594c201b452123db2ee0fc07d84",
    "causalimpact_comparison": "94cffe8a24a05a954db09cc939548a747632e3194c8f19385cf5dd8a22f84190",
    "basque": "7f7f90d7a01984a33a2ea3efc311ce826c05b61234a52c27445adacc6f52bf70",
    "germany": "d8350db086a3b4b4fc1c0a1c6f705d1e3a6c2be926a8685abcb61ed2f61a1b3a",
    "card_krueger": "38473a9e61101ca3e52fe9c1345cfd8b1ddde075ab32ce05b4a1de41c0ef5ca7",
}

#: name → (shape, unit column, time column); shapes from data/PROVENANCE.md (causalimpact:
#: 108 days 2019-04-16..2019-08-01, see data/files/README.md).
REFERENCE_SHAPES = {
    "prop99": ((1209, 4), "State", "Year"),
    "prop99_covariates": ((1209, 8), "state", "year"),
    "mpdta": ((2500, 6), "countyreal", "year"),
    "castle": ((550, 139), "sid", "year"),
    "ehec": ((552, 5), "stfips", "year"),
    "causalimpact_comparison": ((108, 5), None, "DATE"),
    "basque": ((774, 17), "regionno", "year"),
    "germany": ((748, 11), "code", "year"),
    "card_krueger": ((820, 27), "id", "d"),
}

#: name → (rows, columns, unit × time grid or None for survey micro-data), from the
#: simulators' documented designs (data/simulate.py docstrings).
SIMULATED_SHAPES = {
    "shootings": (2400, 11, (20, 120)),
    "area_crime": (11424, 14, (136, 84)),
    "safety_survey": (31159, 20, None),
    "schools": (4320, 10, (60, 72)),
    "school_survey": (43997, 12, None),
}


def _header(file: str) -> list[str]:
    with bundled_file(file).open("rb") as handle:
        return list(pd.read_csv(handle, nrows=0).columns)


@pytest.mark.parametrize("name", sorted(EXPECTED_SHA256))
def test_reference_file_matches_recorded_hash(name):
    entry = REFERENCE_DATASETS[name]
    assert entry.sha256 == EXPECTED_SHA256[name]
    assert file_sha256(entry.file) == EXPECTED_SHA256[name]


def test_readme_records_every_hash_and_licence():
    readme = FILES.joinpath("README.md").read_text(encoding="utf-8")
    for entry in REFERENCE_DATASETS.values():
        assert f"`{entry.file}`" in readme
        assert entry.sha256 in readme
        assert entry.licence in readme.replace("`did`", "did")


def test_every_csv_in_files_is_registered():
    csvs = {p.name for p in FILES.iterdir() if p.name.endswith(".csv")}
    assert csvs == {e.file for e in REFERENCE_DATASETS.values()}


def test_files_are_read_from_the_installed_package():
    package_dir = Path(utvardering.__file__).parent
    for entry in REFERENCE_DATASETS.values():
        path = Path(str(bundled_file(entry.file)))
        assert package_dir in path.parents
        assert "shared" not in path.parts


@pytest.mark.parametrize("name", sorted(REFERENCE_SHAPES))
def test_reference_loader_shape_and_columns(name):
    shape, unit, time = REFERENCE_SHAPES[name]
    frame = getattr(public, f"load_{name}")()
    assert frame.shape == shape == REFERENCE_DATASETS[name].shape
    assert list(frame.columns) == _header(REFERENCE_DATASETS[name].file)
    assert frame.index.equals(pd.RangeIndex(len(frame)))
    if unit is not None:
        assert not frame.duplicated([unit, time]).any()
        assert frame[[unit, time]].equals(frame[[unit, time]].sort_values([unit, time]))


@pytest.mark.parametrize("name", sorted(REFERENCE_SHAPES))
def test_reference_loader_returns_the_file_values(name):
    _, unit, time = REFERENCE_SHAPES[name]
    with bundled_file(REFERENCE_DATASETS[name].file).open("rb") as handle:
        raw = pd.read_csv(handle)
    frame = getattr(public, f"load_{name}")()
    if unit is not None:
        raw = raw.sort_values([unit, time], ignore_index=True)
    numeric = raw.select_dtypes("number").columns
    np.testing.assert_array_equal(frame[numeric].to_numpy(float), raw[numeric].to_numpy(float))


def test_prop99_facts():
    frame = public.load_prop99()
    # ADH (2010): 39 states, 1970–2000, California treated from 1989.
    assert frame["State"].nunique() == 39
    assert (frame["Year"].min(), frame["Year"].max()) == (1970, 2000)
    treated = frame[frame["treated"] == 1]
    assert set(treated["State"]) == {"California"}
    assert treated["Year"].min() == 1989 and len(treated) == 12
    assert frame["Year"].dtype == np.int64


def test_prop99_with_covariates_matches_the_covariate_file():
    frame = public.load_prop99(covariates=True)
    assert list(frame.columns) == ["State", "Year", "PacksPerCapita", "treated", "lnincome",
                                   "beer", "age15to24", "retprice"]
    assert frame.shape == (1209, 8)
    covs = public.load_prop99_covariates().set_index(["state_name", "year"])
    joined = frame.set_index(["State", "Year"])
    # PROVENANCE.md: cigsale equals prop99's PacksPerCapita within 5e-8.
    gap = (covs["cigsale"] - joined["PacksPerCapita"]).abs().max()
    assert gap < 5e-8
    pd.testing.assert_series_equal(joined["beer"], covs["beer"].reindex(joined.index),
                                   check_names=False)
    # PROVENANCE.md / REFERENCES.md: beer has no data before 1984 (it ends in 1997).
    assert frame.loc[frame["Year"] < 1984, "beer"].isna().all()
    assert frame.loc[frame["Year"].between(1984, 1997), "beer"].notna().all()


def test_did_reference_facts():
    mpdta = public.load_mpdta()
    # REFERENCES.md: cohorts 2004, 2006, 2007 and never treated (0), years 2003–2007.
    assert set(mpdta["first.treat"]) == {0, 2004, 2006, 2007}
    assert mpdta["countyreal"].nunique() == 500
    ehec = public.load_ehec()
    # REFERENCES.md (HonestDiD README sample): 22 states expand in 2014.
    assert ehec.groupby("stfips")["yexp2"].first().eq(2014).sum() == 22
    castle = public.load_castle()
    assert castle["sid"].nunique() == 50 and castle.groupby("sid")["post"].max().sum() == 21
    ck = public.load_card_krueger()
    means = ck.groupby(["nj", "d"])["fte"].mean().unstack()
    did = (means.loc[1, 1] - means.loc[1, 0]) - (means.loc[0, 1] - means.loc[0, 0])
    # Card & Krueger (1994, Table 3) report 2.76 on their sample; this file's wave means give 2.7536.
    assert did == pytest.approx(2.7536, abs=1e-4)


def test_causalimpact_dates_are_parsed_and_daily():
    frame = public.load_causalimpact_comparison()
    assert pd.api.types.is_datetime64_any_dtype(frame["DATE"])
    assert frame["DATE"].iloc[0] == pd.Timestamp("2019-04-16")
    assert frame["DATE"].iloc[-1] == pd.Timestamp("2019-08-01")
    assert (frame["DATE"].diff().dropna() == pd.Timedelta(days=1)).all()


def test_basque_identifiers_become_integers():
    frame = public.load_basque()
    assert frame["regionno"].dtype == np.int64 and frame["year"].dtype == np.int64
    assert frame.loc[frame["regionno"] == 17, "regionname"].iloc[0] == "Basque Country (Pais Vasco)"


@pytest.mark.parametrize("name", sorted(SIMULATED_SHAPES))
def test_simulated_loader_shape_columns_and_truth(name):
    rows, cols, grid = SIMULATED_SHAPES[name]
    frame = getattr(public, f"load_{name}")()
    raw = read_bundled_simulation(name)
    assert frame.shape == (rows, cols)
    assert list(frame.columns) == list(raw.columns)
    assert frame.attrs["truth"] == raw.attrs["truth"]
    assert frame.attrs["provenance"]["seed"] == BUNDLED_SIMULATIONS[name]["seed"]
    if grid is not None:
        assert (frame["unit"].nunique(), frame["time"].nunique()) == grid
        assert isinstance(frame["time"].dtype, pd.PeriodDtype)
        expected = raw.sort_values(["unit", "time"], ignore_index=True)
        pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    else:
        assert frame["respondent"].is_unique
        assert (frame["weight"] > 0).all()


def test_list_datasets_describes_every_dataset_with_provenance():
    table = public.list()
    assert public.list is datasets.list_datasets
    assert list(table["name"]) == [*BUNDLED_SIMULATIONS, *REFERENCE_DATASETS]
    assert set(table.loc[table["kind"] == "simulated", "name"]) == set(SIMULATED_SHAPES)
    assert set(table.loc[table["kind"] == "reference", "name"]) == set(REFERENCE_SHAPES)
    for row in table.itertuples():
        assert row.description and row.source and row.licence and row.original_study
        assert len(row.sha256) == 64
        assert callable(getattr(public, row.loader))
    shapes = dict(zip(table["name"], table["shape"]))
    for name, (shape, _, _) in REFERENCE_SHAPES.items():
        assert shapes[name] == shape
    for name, (rows, cols, _) in SIMULATED_SHAPES.items():
        assert shapes[name] == (rows, cols)
    sim = table.set_index("name").loc["shootings"]
    assert "simulate_shootings(seed=2018)" in sim["source"]
    raw = bundled_file(BUNDLED_SIMULATIONS["shootings"]["file"]).read_bytes()
    assert sim["sha256"] == hashlib.sha256(raw).hexdigest()


def test_load_dataset_by_name_and_unknown_name():
    pd.testing.assert_frame_equal(public.load("mpdta"), public.load_mpdta())
    assert public.load("prop99", covariates=True).shape == (1209, 8)
    with pytest.raises(DataError, match=r"no bundled dataset named 'prop9'\. Did you mean 'prop99'"):
        public.load("prop9")


def test_loaders_return_fresh_copies():
    first = public.load_prop99()
    first.loc[0, "PacksPerCapita"] = -1.0
    assert public.load_prop99().loc[0, "PacksPerCapita"] == pytest.approx(89.80000305)


def test_file_shape_counts_rows_without_final_newline():
    # causalimpact_comparison.csv has no final newline; its 108 days must all be counted.
    shape, digest = datasets._file_facts("causalimpact_comparison.csv")
    assert shape == (108, 5)
    assert digest == EXPECTED_SHA256["causalimpact_comparison"]
    text = bundled_file("causalimpact_comparison.csv").read_text(encoding="utf-8")
    assert len(pd.read_csv(io.StringIO(text))) == 108
