"""Regression tests for the reliability review (reliability-fuzz.md), items in the Study, the
data contracts, the readers and the command line: R1, R5, R8, R9, R11, R12, R14, R15.

Each test reproduces the review's case and checks the fixed behaviour: a DataError or
DesignError that names the column, unit and period (never a bare numpy/pandas error, never a
silently accepted value), and one-line command-line errors without a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering import cli
from utvardering.data.schema import check_panel, validate_panel
from utvardering.data.schema_micro import validate_survey
from utvardering.data.sources import (
    example_path,
    read_bra_export,
    read_jsonstat2,
    read_police_events,
    read_police_shootings,
    read_survey_microdata,
)
from utvardering.errors import DataError, DesignError
from utvardering.estimators import register_estimator
from utvardering.report import runner


def _panel(seed: int = 0, effect: float = 5.0) -> pd.DataFrame:
    """Ten areas × 24 months of counts; U00 and U01 lose ``effect`` a month from 2020-01."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2019-01", periods=24, freq="M")
    rows = [(f"U{i:02d}", str(t), int(rng.poisson(20 + 3 * i + 0.2 * j
                                                   - (effect if i < 2 and j >= 12 else 0))),
             10_000 + 1_000 * i)
            for i in range(10) for j, t in enumerate(months)]
    return pd.DataFrame(rows, columns=["unit", "time", "y", "population"])


KW = dict(outcome="y", unit="unit", time="time", treated=["U00", "U01"], start="2020-01")


def _one_line_error(capsys, argv: list[str]) -> str:
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, (argv, code, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# -- R1: ±inf never passes a check ----------------------------------------------------------------
@pytest.mark.parametrize("column,value", [("y", np.inf), ("y", -np.inf), ("population", np.inf)])
def test_r1_study_rejects_infinite_values_naming_column_unit_period(column, value):
    df = _panel()
    df[column] = df[column].astype(float)
    df.loc[5, column] = value  # U00 2019-06
    exposure = {"exposure": "population"} if column == "population" else {}
    with pytest.raises(DataError, match=rf"column '{column}' holds -?inf .*'U00 2019-06'"):
        utv.Study(df, **KW, **exposure)


def test_r1_covariates_and_validate_panel_reject_inf():
    df = _panel().assign(x=1.5)
    df.loc[30, "x"] = -np.inf  # U01 2019-07
    with pytest.raises(DataError, match=r"column 'x' holds -inf .*'U01 2019-07'"):
        validate_panel(df, outcomes="y", covariates="x")
    problems, cleaned, _ = check_panel(df, outcomes="y", covariates="x")
    assert [p.kind for p in problems] == ["non_finite"]
    assert "'U01 2019-07'" in str(problems[0])  # the report names the unit and the period
    assert len(cleaned) == len(df)  # nothing is dropped silently: the row stays, flagged


def test_r1_validate_command_reports_inf(tmp_path, capsys):
    df = _panel().astype({"y": float})
    df.loc[5, "y"] = np.inf
    file = tmp_path / "inf.csv"
    df.to_csv(file, index=False)
    code = cli.main(["validate", str(file), "--outcome", "y"])
    out = capsys.readouterr().out
    assert code == 1 and "[non_finite] column 'y' holds inf" in out and "U00 2019-06" in out


def test_r1_jsonstat_value_too_large_for_a_float_is_refused():
    text = example_path("pxweb_example.json").read_text(encoding="utf-8")
    data = json.loads(text)
    first = next(i for i, v in enumerate(data["value"]) if v is not None)
    data["value"][first] = 1.0
    raw = json.dumps(data).replace("1.0", "1e400", 1)
    assert json.loads(raw)["value"][first] == np.inf  # what the file holds
    with pytest.raises(DataError, match=r"too large for a float .*=.*"):
        read_jsonstat2(raw)


def test_r1_survey_weights_and_items_reject_inf(tmp_path):
    file = tmp_path / "s.csv"
    file.write_text("lopnr;omrade;ar;vikt;otrygg\n1;A;2021;1,5;3\n2;B;2021;1,2;1e400\n",
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"column 'otrygg' is infinite for respondent\(s\) 2"):
        read_survey_microdata(file, respondent="lopnr", unit="omrade", time="ar", weight="vikt")
    survey = pd.DataFrame({"respondent": [1, 2], "unit": ["A", "B"], "time": [2021, 2021],
                           "weight": [1.0, np.inf], "q": [1, 2]})
    with pytest.raises(DataError, match=r"infinite for 1 respondent"):
        validate_survey(survey, items={"q": (1, 4)})


# -- R5: instants stored in UTC keep their Swedish calendar months ---------------------------------
def test_r5_utc_instants_of_swedish_month_starts_stay_monthly():
    df = _panel()
    utc = df.assign(time=pd.to_datetime(df.time).dt.tz_localize("Europe/Stockholm")
                    .dt.tz_convert("UTC"))
    assert str(utc.time.iloc[0]) == "2018-12-31 23:00:00+00:00"
    study = utv.Study(utc, **KW)
    assert study.freq == "M" and str(study.times[0]) == "2019-01"
    assert str(study.post_times[0]) == "2020-01"
    assert utv.did(study).estimate == utv.did(df, **KW).estimate


def test_r5_utc_instants_written_to_csv_are_read_as_the_same_months(tmp_path, capsys):
    df = _panel()
    utc = df.assign(time=pd.to_datetime(df.time).dt.tz_localize("Europe/Stockholm")
                    .dt.tz_convert("UTC"))
    file = tmp_path / "utc.csv"
    utc.to_csv(file, index=False)
    text = pd.read_csv(file)
    assert text.time.iloc[0] == "2018-12-31 23:00:00+00:00"
    study = utv.Study(text, **KW)
    assert study.freq == "M" and [str(t) for t in study.times[:2]] == ["2019-01", "2019-02"]
    assert cli.main(["validate", str(file), "--outcome", "y"]) == 0
    assert "10 units × 24 periods (2019-01 to 2020-12)" in capsys.readouterr().out


def test_r5_months_stored_as_dates_are_not_advised_to_allow_gaps():
    df = _panel()
    days = df.assign(time=pd.PeriodIndex(df.time, freq="M").end_time.normalize())  # month ends
    with pytest.raises(DataError, match=r"look like months stored as dates") as info:
        utv.Study(days, **KW)
    assert "Do not pass allow_gaps=True" in str(info.value)
    assert "to_period('M')" in str(info.value)


# -- R8: Brå reader: overflow and truncated downloads ---------------------------------------------
def _bra_text() -> str:
    return example_path("bra_example.csv").read_bytes().decode("cp1252")


def test_r8_bra_huge_count_is_an_error_not_a_negative_number():
    text = _bra_text().replace("5 102", "99 999 999 999 999 999 999")
    with pytest.raises(DataError, match=r"too large to be counts .*Samtliga brott.*2021 januari"):
        read_bra_export(text.encode("cp1252"))


@pytest.mark.parametrize("cut", [("0300;", 20), ("Bostadsinbrott", 30), ("0300;", 3)])
def test_r8_bra_truncated_download_is_detected(cut):
    text = _bra_text()
    marker, extra = cut
    with pytest.raises(DataError, match=r"cut off"):
        read_bra_export(text[: text.index(marker) + extra].encode("cp1252"))
    assert read_bra_export(text.encode("cp1252"))["offence"].nunique() == 7


# -- R9: analyses only from the package or --analyses-dir; no writes through links -----------------
TOY = """
from utvardering import Effect

def run(ctx):
    ctx.report.effect("zero", Effect("toy", 0.0, (-1.0, 1.0)))
"""


def test_r9_analyses_are_never_loaded_from_an_ancestor_of_the_working_directory(
        tmp_path, monkeypatch):
    planted = tmp_path / "analyses"
    planted.mkdir()
    (planted / "drogfri_skola.py").write_text("raise SystemExit('planted code ran')\n")
    (planted / "drogfri_skola.toml").write_text('title = "not the real analysis"\n')
    sub = tmp_path / "project" / "sub"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    monkeypatch.delenv("UTV_ANALYSES_DIR", raising=False)
    folder = runner.find_analyses_dir()
    assert folder.resolve() != planted.resolve()
    assert (folder / "drogfri_skola.py").read_text() != (planted / "drogfri_skola.py").read_text()
    assert "drogfri_skola" in runner.list_analyses()


@pytest.mark.parametrize("name", ["../analyses/drogfri_skola", "a/b", "/etc/passwd", "..", ""])
def test_r9_analysis_names_with_paths_are_refused(name, capsys, tmp_path):
    with pytest.raises(ValueError, match="not a plain name"):
        runner.run_analysis(name, out=tmp_path / "o", quiet=True)
    if name:
        line = _one_line_error(capsys, ["run", name, "--out", str(tmp_path / "o")])
        assert "not a plain name" in line


def test_r9_runs_never_write_through_links_out_of_the_output_folder(tmp_path, capsys):
    folder = tmp_path / "toys"
    folder.mkdir()
    (folder / "toy.py").write_text(TOY)
    (folder / "toy.toml").write_text('title = "Toy"\n')
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "run.log").symlink_to(victim)
    with pytest.raises(ValueError, match="symbolic link"):
        runner.run_analysis("toy", directory=folder, out=out, quiet=True)
    line = _one_line_error(capsys, ["run", "toy", "--analyses-dir", str(folder), "--quiet",
                                    "--out", str(out)])
    assert "symbolic link" in line
    assert victim.read_text() == "precious\n"
    # a link that stays inside the folder is harmless
    (out / "run.log").unlink()
    (out / "alias").symlink_to(out / "figures")
    assert cli.main(["run", "toy", "--analyses-dir", str(folder), "--quiet", "--out",
                     str(out)]) == 0
    assert "toy" in capsys.readouterr().out


# -- R11: degenerate but plausible designs --------------------------------------------------------
@pytest.mark.parametrize("value", [7, 0])
def test_r11_constant_outcome_is_a_data_error(value):
    with pytest.raises(DataError, match=rf"outcome 'y' is {value} in every row"):
        utv.Study(_panel().assign(y=value), **KW)


def test_r11_integer_start_on_a_monthly_panel_says_which_period_to_give():
    df = _panel()
    with pytest.raises(DesignError, match=r"start is 2020, a number, .* months .*'2020-01'"):
        utv.Study(df, **{**KW, "start": 2020})
    cohort = df.assign(cohort=np.where(df.unit.isin(["U00", "U01"]), 2020, 0))
    with pytest.raises(DesignError, match=r"cohort of unit 'U00' is 2020, a number"):
        utv.Study(cohort, outcome="y", cohort="cohort")


def test_r11_integer_start_on_a_yearly_period_panel_works():
    years = pd.DataFrame([(u, str(t), float(i + (t % 3) + (2 if u == "A" and t >= 2015 else 0)))
                          for i, u in enumerate("ABCD") for t in range(2010, 2020)],
                         columns=["unit", "time", "y"])
    study = utv.Study(years, outcome="y", treated="A", start=2015)
    assert str(study.start) == "2015" and len(study.pre_times) == 5


def test_r11_multiindex_and_duplicate_columns_are_data_errors():
    df = _panel()
    multi = df.set_axis(pd.MultiIndex.from_tuples([(c, "") for c in df.columns]), axis=1)
    with pytest.raises(DataError, match=r"MultiIndex.*Flatten"):
        utv.Study(multi, **KW)
    with pytest.raises(DataError, match=r"column name\(s\) 'y' occur more than once"):
        utv.Study(pd.concat([df, df[["y"]]], axis=1), **KW)


# -- R12: the command line prints one line, never a traceback -------------------------------------
@pytest.fixture
def panel_csv(tmp_path) -> Path:
    file = tmp_path / "dir with space" / "panel ok.csv"
    file.parent.mkdir()
    _panel().to_csv(file, index=False)
    return file


@pytest.mark.parametrize("setting", ["level=abc", "level=1.5", "vcov=CR9"])
def test_r12_bad_set_values_are_one_line_errors(setting, panel_csv, capsys):
    line = _one_line_error(capsys, ["estimate", "diff_in_diff", "--data", str(panel_csv), "--outcome", "y",
                                    "--treated", "U00", "--start", "2020-01", "--set", setting])
    assert setting.split("=")[0] in line


def test_r12_unwritable_or_wrong_outputs_and_configs_are_one_line_errors(tmp_path, capsys):
    folder = tmp_path / "toys"
    folder.mkdir()
    (folder / "toy.py").write_text(TOY)
    (folder / "toy.toml").write_text('title = "Toy"\n')
    existing = tmp_path / "file.csv"
    existing.write_text("x\n")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[a\n")
    run = ["run", "toy", "--analyses-dir", str(folder), "--quiet"]
    assert "is a folder" in _one_line_error(
        capsys, ["simulate", "shootings", "--seed", "1", "--out", str(tmp_path)])
    assert "does not exist" in _one_line_error(
        capsys, ["datasets", "export", "mpdta", str(tmp_path / "no" / "m.csv")])
    assert "existing file, not a folder" in _one_line_error(capsys, [*run, "--out", str(existing)])
    assert "not valid TOML" in _one_line_error(capsys, [*run, "--config", str(bad_toml)])
    assert "is a folder" in _one_line_error(capsys, [*run, "--config", str(tmp_path)])
    if sys.platform.startswith("linux"):
        assert "cannot be created" in _one_line_error(
            capsys, [*run, "--out", "/proc/utvardering-out"])
        assert "could not write" in _one_line_error(
            capsys, ["simulate", "shootings", "--seed", "1", "--out", "/proc/x.csv"])


@register_estimator("test_raises_linalg", family="test", summary="Test only: always fails.")
def _raises_linalg(study, *, level: float = 0.95):
    """A test estimator that stops as a singular design would."""
    raise np.linalg.LinAlgError("Singular matrix")


def test_r12_an_estimator_that_stops_is_reported_on_one_line(panel_csv, capsys):
    line = _one_line_error(capsys, ["estimate", "test_raises_linalg", "--data", str(panel_csv),
                                    "--outcome", "y", "--treated", "U00", "--start", "2020-01"])
    assert "'test_raises_linalg' stopped with LinAlgError: Singular matrix" in line
    assert "--traceback" in line
    with pytest.raises(np.linalg.LinAlgError):
        cli.main(["--traceback", "estimate", "test_raises_linalg", "--data", str(panel_csv),
                  "--outcome", "y", "--treated", "U00", "--start", "2020-01"])


# -- R14: reader edge cases are DataErrors --------------------------------------------------------
def test_r14_police_counts_and_ids_too_large_are_data_errors():
    text = ("Publicerad: 2023-01-10\nPolisregion;År;Månad;Skjutningar;Döda;Skadade\n"
            "Syd;2022;januari;99999999999999999999;1;2\n")
    with pytest.raises(DataError, match=r"too large to be a count.*line 3 \(Syd\)"):
        read_police_shootings(text.encode())
    event = {"id": 10**30, "datetime": "2022-01-01 10:00:00 +01:00", "name": "x", "summary": "",
             "url": "/x", "type": "Skottlossning",
             "location": {"name": "Malmö", "gps": "55.6,13.0"}}
    with pytest.raises(DataError, match=r"not a whole number from 0"):
        read_police_events([event])


def test_r14_deep_json_is_a_data_error():
    with pytest.raises(DataError, match="nested too deeply"):
        read_police_events(("[" * 200_000 + "]" * 200_000).encode())


def test_r14_jsonstat_size_limit_and_boolean_values():
    huge = {"class": "dataset", "id": ["a", "b", "c"], "size": [100_000] * 3,
            "dimension": {d: {"category": {"index": {}}} for d in "abc"}, "value": {}}
    with pytest.raises(DataError, match=r"1,000,000,000,000,000 cells, more than"):
        read_jsonstat2(huge)
    data = json.loads(example_path("pxweb_example.json").read_text(encoding="utf-8"))
    data["value"][0] = True
    with pytest.raises(DataError, match=r"non-numeric entry True at .*="):
        read_jsonstat2(data)


def test_r14_survey_files_empty_corrupt_and_mixed_decimal_marks(tmp_path):
    kw = dict(respondent="lopnr", unit="omrade", time="ar", weight="vikt")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_survey_microdata(empty, **kw)
    pytest.importorskip("pyreadstat")
    for suffix in (".sav", ".dta"):
        bad = tmp_path / f"bad{suffix}"
        bad.write_bytes(b"not a statistics file")
        with pytest.raises(DataError, match="not a readable"):
            read_survey_microdata(bad, **kw)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("lopnr;omrade;ar;vikt\n1;A;2021;1,85\n2;A;2021;2.10\n3;B;2021;1,00\n"
                     "4;B;2021;1,2\n5;A;2021;0,9\n6;B;2021;1,1\n7;A;2021;1,3\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_survey_microdata(mixed, **kw)
    message = str(info.value)
    assert "'vikt' mixes decimal commas (6 cell(s)" in message
    assert "decimal points (1 cell(s), e.g. respondent(s) 2: '2.10')" in message
    assert "correct the points, which are fewer" in message


# -- R15: small API inconsistencies -----------------------------------------------------------------
def test_r15_integer_column_names_are_honoured_and_an_empty_window_says_so():
    df = _panel()[["unit", "time", "y"]]
    numbered = df.set_axis([0, 1, 2], axis=1)
    study = utv.Study(numbered, outcome=2, unit=0, time=1, treated="U00", start="2020-01")
    assert study.unit == 0 and study.time == 1 and study.outcome == 2
    assert study.wide().shape == (10, 24)
    with pytest.raises(DesignError, match=r"window \(2030-01, 2031-01\) holds no rows: the data "
                                          r"cover 2019-01 to 2020-12"):
        utv.Study(numbered, outcome=2, unit=0, time=1, treated="U00", start="2020-01",
                  window=("2030-01", "2031-01"))


def test_r15_level_from_the_command_line_is_checked_before_fitting(panel_csv, capsys):
    line = _one_line_error(capsys, ["estimate", "diff_in_diff", "--data", str(panel_csv), "--outcome", "y",
                                    "--treated", "U00", "--start", "2020-01", "--set",
                                    "level=95"])
    assert "level=95" in line and "between 0 and 1" in line
