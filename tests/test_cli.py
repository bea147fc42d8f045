"""The ``utvardering`` command line: every subcommand through ``main([...])``, the installed
entry point through ``subprocess``, exit codes and error messages."""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering.datasets as datasets
from utvardering import cli, cli_io
from utvardering.effect import Effect
from utvardering.estimators import register_estimator
from utvardering.study import Study


@register_estimator("test_naive_difference", family="test",
                    summary="Test only: change in the treated mean minus change in the donor mean.")
def naive_difference(study: Study, *, scale: float = 1.0, label: str = "naive",
                     lags: list | None = None) -> Effect:
    """Difference of post−pre changes in the treated and donor means (a test estimator)."""
    wide = study.wide()
    post = study.post_times
    pre = study.pre_times
    treated, donors = wide.loc[study.treated], wide.loc[study.donors]
    gap = treated.mean(axis=0) - donors.mean(axis=0)
    estimate = scale * (gap[post].mean() - gap[pre].mean())
    path = pd.DataFrame({"observed": treated.mean(axis=0),
                         "counterfactual": donors.mean(axis=0) + gap[pre].mean()})
    path["effect"] = path["observed"] - path["counterfactual"]
    path.index.name = "time"
    return Effect(method="test_naive_difference", estimate=estimate,
                  interval=(estimate - 1.0, estimate + 1.0), path=path, outcome=study.outcome,
                  n_treated=len(study.treated), n_control=len(study.donors),
                  start=str(study.start), params={"scale": scale, "label": label, "lags": lags})


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def monthly_csv(tmp_path) -> Path:
    """Six areas × 24 months of counts; area0 gains +3 a month from 2018-07."""
    rng = np.random.default_rng(1)
    times = pd.period_range("2017-07", "2019-06", freq="M")
    rows = []
    for i in range(6):
        for t in times:
            y = int(rng.poisson(10)) + (3 if i == 0 and t >= pd.Period("2018-07", "M") else 0)
            rows.append((f"area{i}", str(t), y, 5000 + 10 * i))
    path = tmp_path / "panel.csv"
    pd.DataFrame(rows, columns=["area", "month", "crimes", "pop"]).to_csv(path, index=False)
    return path


# -- datasets ------------------------------------------------------------------------------------
def test_datasets_list_prints_every_dataset_with_provenance(capsys):
    code, out, _ = run(capsys, "datasets", "list")
    assert code == 0
    table = datasets.list()
    for row in table.itertuples():
        assert f"{row.name}  [" in out
        assert row.source in out and row.licence in out and row.sha256 in out
    assert "Simulated datasets (5)" in out and "Reference datasets (9)" in out


def test_datasets_export_csv_round_trips(capsys, tmp_path):
    target = tmp_path / "prop99.csv"
    code, out, _ = run(capsys, "datasets", "export", "prop99", str(target))
    assert code == 0 and "1209 rows × 4 columns" in out
    pd.testing.assert_frame_equal(pd.read_csv(target), datasets.load_prop99(), check_dtype=False)


def test_datasets_export_simulated_writes_months_and_truth(capsys, tmp_path):
    target = tmp_path / "shootings.csv"
    code, _, _ = run(capsys, "datasets", "export", "shootings", str(target))
    assert code == 0
    written = pd.read_csv(target)
    assert written["time"].iloc[0] == "2014-01"
    truth = json.loads(Path(f"{target}.truth.json").read_text(encoding="utf-8"))
    assert truth == datasets.load_shootings().attrs["truth"]


def test_datasets_export_parquet(capsys, tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet export needs pyarrow")
    target = tmp_path / "mpdta.parquet"
    assert run(capsys, "datasets", "export", "mpdta", str(target))[0] == 0
    pd.testing.assert_frame_equal(pd.read_parquet(target), datasets.load_mpdta())


def test_datasets_export_parquet_without_pyarrow_is_a_clear_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli_io, "has_pyarrow", lambda: False)
    code, out, err = run(capsys, "datasets", "export", "mpdta", str(tmp_path / "m.parquet"))
    assert code == 2 and out == ""
    assert err.startswith("error: writing Parquet") and "pip install pyarrow" in err
    assert not (tmp_path / "m.parquet").exists()


def test_datasets_export_unknown_name(capsys, tmp_path):
    code, _, err = run(capsys, "datasets", "export", "mpdt", str(tmp_path / "x.csv"))
    assert code == 2
    assert "no bundled dataset named 'mpdt'" in err and "'mpdta'" in err


# -- validate ------------------------------------------------------------------------------------
def test_validate_ok_prints_units_by_periods(capsys, monthly_csv):
    code, out, _ = run(capsys, "validate", str(monthly_csv), "--unit", "area", "--time", "month",
                       "--outcome", "crimes", "--count", "--exposure", "pop")
    assert code == 0
    assert out.startswith("OK:") and "6 units × 24 periods (2017-07 to 2019-06)" in out
    assert len(out.strip().splitlines()) == 1


def test_validate_prints_every_problem_and_exits_1(capsys, monthly_csv, tmp_path):
    frame = pd.read_csv(monthly_csv)
    frame["crimes"] = frame["crimes"].astype(float)
    frame.loc[3, "crimes"] = -2          # negative count
    frame.loc[30, "crimes"] = 2.5        # non-integer count
    frame.loc[50, "crimes"] = np.nan     # missing outcome
    frame.loc[70, "pop"] = 0             # bad exposure
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    code, out, _ = run(capsys, "validate", str(bad), "--unit", "area", "--time", "month",
                       "--outcome", "crimes", "--count", "--exposure", "pop")
    assert code == 1
    lines = out.strip().splitlines()
    kinds = [line.split("]")[0] + "]" for line in lines[:-1]]
    assert kinds == ["[missing_outcome]", "[negative_count]", "[non_integer_count]", "[exposure]"]
    assert "area0 2017-10" in lines[1] and "'2.5'" in lines[2]
    assert lines[-1] == f"4 problem(s) found in {bad}."


def test_validate_missing_column_names_it(capsys, monthly_csv):
    code, out, _ = run(capsys, "validate", str(monthly_csv), "--unit", "area", "--time", "month",
                       "--outcome", "shootings")
    assert code == 1
    assert "missing column(s) 'shootings'" in out and "'crimes'" in out


def test_validate_survey_mode(capsys, tmp_path):
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "area": ["a", "a", "b", "b"],
                          "year": [2020] * 4, "w": [1.0, 2.0, 1.5, 0.5], "unsafe": [1, 4, 2, 3]})
    good = tmp_path / "survey.csv"
    frame.to_csv(good, index=False)
    args = ["--survey", "--unit", "area", "--time", "year", "--respondent", "id", "--weight", "w",
            "--item", "unsafe=1:4"]
    code, out, _ = run(capsys, "validate", str(good), *args)
    assert code == 0 and "4 responses, 2 units × 1 periods" in out
    frame.loc[1, "w"] = 0.0
    frame.to_csv(good, index=False)
    code, out, _ = run(capsys, "validate", str(good), *args)
    assert code == 1 and "survey weight column 'w' is zero for 1" in out
    code, _, err = run(capsys, "validate", str(good), *args[:-1], "unsafe=1-4")
    assert code == 2 and "--item 'unsafe=1-4' is not NAME=LOW:HIGH" in err


def test_validate_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "validate", str(tmp_path / "nope.csv"), "--outcome", "y")
    assert code == 2 and "is neither a file nor a bundled dataset" in err


# -- simulate ------------------------------------------------------------------------------------
def test_simulate_writes_csv_and_truth_deterministically(capsys, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for target in (first, second):
        code, out, _ = run(capsys, "simulate", "shootings", "--seed", "7", "--out", str(target),
                           "--set", "rate_ratio=0.5")
        assert code == 0 and "2400 rows" in out
    assert first.read_bytes() == second.read_bytes()
    frame = pd.read_csv(first)
    assert frame["time"].iloc[:2].tolist() == ["2014-01", "2014-02"]
    truth = json.loads(Path(f"{first}.truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 7 and truth["rate_ratio"] == 0.5


def test_simulate_errors(capsys, tmp_path):
    out = str(tmp_path / "x.csv")
    code, _, err = run(capsys, "simulate", "shooting", "--seed", "1", "--out", out)
    assert code == 2 and "no simulated world named 'shooting'" in err and "shootings" in err
    code, _, err = run(capsys, "simulate", "shootings", "--seed", "1", "--out", out, "--set", "ratio=2")
    assert code == 2 and "no option(s) 'ratio'" in err and "rate_ratio" in err
    code, _, err = run(capsys, "simulate", "shootings", "--seed", "1", "--out", out,
                       "--set", "rate_ratio=-1")
    assert code == 2 and "rate_ratio=-1" in err


# -- estimate ------------------------------------------------------------------------------------
def test_parse_value_reads_json_else_text():
    assert cli_io.parse_value("200") == 200 and cli_io.parse_value("0.5") == 0.5
    assert cli_io.parse_value("true") is True and cli_io.parse_value("[1, 2]") == [1, 2]
    assert cli_io.parse_value("nevertreated") == "nevertreated"
    assert cli_io.parse_settings(["a=1", "b=x=y"]) == {"a": 1, "b": "x=y"}


def test_estimate_list_shows_registered_estimators(capsys):
    code, out, _ = run(capsys, "estimate", "--list")
    assert code == 0 and "test_naive_difference" in out and "Test only" in out


def test_estimate_list_survives_a_family_that_does_not_import(capsys, monkeypatch):
    monkeypatch.setattr(cli, "ESTIMATOR_PACKAGES", ("utvardering.no_such_family",))
    code, out, err = run(capsys, "estimate", "--list")
    assert code == 0 and "test_naive_difference" in out
    assert "note: utvardering.no_such_family could not be imported (ModuleNotFoundError" in err


def test_estimate_prints_summary(capsys, monthly_csv):
    code, out, _ = run(capsys, "estimate", "test_naive_difference", "--data", str(monthly_csv),
                       "--unit", "area", "--time", "month", "--outcome", "crimes",
                       "--treated", "area0", "--start", "2018-07")
    assert code == 0
    assert out.startswith("test_naive_difference — crimes")
    assert "treated units 1, comparison units 5, start 2018-07" in out


def test_estimate_json_rebuilds_the_effect(capsys, monthly_csv):
    argv = ["--data", str(monthly_csv), "--unit", "area", "--time", "month", "--outcome", "crimes",
            "--treated", "area0", "--start", "2018-07", "--exclude", "area5",
            "--set", "scale=2", "--set", "label=doubled", "--set", "lags=[1, 2]"]
    code, out, _ = run(capsys, "estimate", "test_naive_difference", *argv, "--json")
    assert code == 0
    effect = Effect.from_dict(json.loads(out))
    frame = pd.read_csv(monthly_csv)
    study = Study(frame, outcome="crimes", unit="area", time="month", treated="area0",
                  start="2018-07", exclude=["area5"])
    direct = naive_difference(study, scale=2, label="doubled", lags=[1, 2])
    assert effect.estimate == pytest.approx(direct.estimate, rel=1e-12)
    assert effect.params == {"scale": 2, "label": "doubled", "lags": [1, 2]}
    assert effect.n_control == 4 and effect.start == "2018-07"
    pd.testing.assert_frame_equal(effect.path, direct.path, check_freq=False)


def test_estimate_on_a_bundled_dataset_with_integer_years(capsys):
    code, out, _ = run(capsys, "estimate", "test_naive_difference", "--data", "prop99",
                       "--unit", "State", "--time", "Year", "--outcome", "PacksPerCapita",
                       "--treated", "California", "--start", "1989", "--json")
    assert code == 0
    effect = Effect.from_dict(json.loads(out))
    assert effect.start == "1989" and effect.n_control == 38
    assert math.isfinite(effect.estimate)


def test_estimate_with_a_cohort_column_and_integer_units(capsys):
    argv = ["estimate", "test_naive_difference", "--data", "mpdta", "--unit", "countyreal",
            "--time", "year", "--outcome", "lemp", "--cohort", "first.treat", "--json"]
    # The 2004 cohort has one pre-period (2003): enough for the Study's default of one.
    code, _, err = run(capsys, *argv, "--min-pre-periods", "2")
    assert code == 2 and "too few pre-treatment periods" in err and len(err) < 300
    code, out, _ = run(capsys, *argv, "--min-pre-periods", "1")
    assert code == 0
    effect = Effect.from_dict(json.loads(out))
    # mpdta: 191 counties ever treated (first.treat > 0), 309 never treated.
    assert effect.n_treated == 191 and effect.n_control == 309


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--outcome", "crime"], "missing column(s) 'crime'"),
        (["--outcome", "crimes", "--unit", "areas"], "--unit column 'areas' is not in"),
        (["--outcome", "crimes", "--treated", "area9"], "treated unit 'area9' is not in column 'area'"),
        (["--outcome", "crimes", "--start", "2030-01"], "start outside the data"),
        (["--outcome", "crimes", "--donors", "area0,area1"], "donor pool contains treated unit(s) 'area0'"),
        (["--outcome", "crimes", "--set", "bogus=1"], "has no option(s) 'bogus'"),
        (["--outcome", "crimes", "--set", "oops"], "--set 'oops' is not key=value"),
    ],
)
def test_estimate_user_errors_exit_2_with_a_message(capsys, monthly_csv, extra, message):
    base = {"--unit": "area", "--time": "month", "--treated": "area0", "--start": "2018-07"}
    for flag, value in zip(extra[::2], extra[1::2]):
        base[flag] = value
    argv = ["estimate", "test_naive_difference", "--data", str(monthly_csv)]
    for flag, value in base.items():
        argv += [flag, value]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_estimate_design_argument_errors(capsys, monthly_csv):
    data = ["--data", str(monthly_csv), "--unit", "area", "--time", "month", "--outcome", "crimes"]
    code, _, err = run(capsys, "estimate", "no_such_method", *data, "--treated", "area0",
                       "--start", "2018-07")
    assert code == 2 and "no estimator named 'no_such_method'" in err and "test_naive_difference" in err
    code, _, err = run(capsys, "estimate", "test_naive_difference", *data, "--treated", "area0")
    assert code == 2 and "--treated needs --start" in err
    code, _, err = run(capsys, "estimate", "test_naive_difference", *data)
    assert code == 2 and "--treated A,B with --start PERIOD, --cohort COL, or --group COL with --post COL" in err
    code, _, err = run(capsys, "estimate", *data)
    assert code == 2 and "name the estimator" in err


def test_usage_errors_and_help(capsys):
    assert cli.main([]) == 2
    assert "usage: utvardering" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0
    assert "datasets" in capsys.readouterr().out


# -- run: progress bar, quiet, run.log ------------------------------------------------------------
TOY_ANALYSIS = """
from utvardering import Effect

STEPS = ("fit", "placebo")


def run(ctx):
    for name in STEPS:
        with ctx.step(name):
            pass
    ctx.report.effect("zero", Effect("toy", 0.0, (-1.0, 1.0)))
"""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def toy_analyses(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "analyses"
    folder.mkdir()
    (folder / "toy.py").write_text(TOY_ANALYSIS)
    (folder / "toy.toml").write_text('title = "Toy"\n')
    return folder


def test_run_draws_a_step_bar_on_a_terminal(toy_analyses, tmp_path, capsys, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["run", "toy", "--analyses-dir", str(toy_analyses), "--out", str(tmp_path / "out")]) == 0
    drawn = terminal.getvalue()
    assert "toy [" in drawn and "1/2 fit" in drawn and "2/2 placebo" in drawn and "2/2 steps done" in drawn
    assert "fit done in" not in drawn  # step lines go to run.log, not over the bar
    assert "toy: " in capsys.readouterr().out
    assert "[toy] placebo done in" in (tmp_path / "out" / "run.log").read_text()


def test_run_quiet_draws_and_logs_nothing_on_the_terminal(toy_analyses, tmp_path, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["run", "toy", "--quiet", "--analyses-dir", str(toy_analyses), "--out", str(tmp_path / "out")]) == 0
    assert terminal.getvalue() == ""
    assert "[toy] fit done in" in (tmp_path / "out" / "run.log").read_text()


def test_run_off_a_terminal_logs_step_lines_without_a_bar(toy_analyses, tmp_path, capsys):
    assert cli.main(["run", "all", "--analyses-dir", str(toy_analyses), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "[toy] fit done in" in err and "[" + "-" * 20 + "]" not in err
    assert (tmp_path / "out" / "toy" / "run.log").exists()


# -- the installed entry point ------------------------------------------------------------------
def _entry_point() -> str:
    found = shutil.which("utvardering", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("the `utvardering` console script is not installed next to this Python; "
                    "run `pip install -e .`")
    return found


def test_installed_entry_point(tmp_path):
    exe = _entry_point()
    listed = subprocess.run([exe, "datasets", "list"], capture_output=True, text=True, check=False)
    assert listed.returncode == 0
    for name in datasets.list()["name"]:
        assert f"{name}  [" in listed.stdout
    err = subprocess.run([exe, "datasets", "export", "prop", str(tmp_path / "x.csv")],
                         capture_output=True, text=True, check=False)
    assert err.returncode == 2 and err.stderr.startswith("error: no bundled dataset named 'prop'")


# -- the top-level entry points of the analyses ------------------------------------------------------
def test_top_level_analysis_entry_points_run_the_packaged_analyses():
    from utvardering.report.runner import list_analyses

    folder = Path(__file__).resolve().parents[1] / "analyses"
    names = list_analyses()
    assert names == sorted(p.stem for p in folder.glob("*.py"))
    for name in names:
        text = (folder / f"{name}.py").read_text(encoding="utf-8")
        assert f'main(["run", "{name}", *sys.argv[1:]])' in text
        assert len(text.splitlines()) < 30  # thin: the analysis lives in the package
    done = subprocess.run([sys.executable, str(folder / "drogfri_skola.py"), "--help"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "usage: utvardering run" in done.stdout


def test_python_dash_m_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "utvardering", "run", "../x"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr.startswith("error: analysis name '../x'")


def test_run_log_survives_a_dict_config_that_disables_existing_loggers(tmp_path):
    """Dask's distributed calls logging.config.dictConfig on import, which disables every logger
    created before it; the run log must still get the analysis's records."""
    import logging.config

    from utvardering.report import runner

    logging.config.dictConfig({"version": 1, "disable_existing_loggers": True})
    assert logging.getLogger("utvardering.analysis").disabled
    path = tmp_path / "run.log"
    with runner._run_log(path):
        logging.getLogger("utvardering.analysis").info("[toy] fit done in 0.1 s")
    assert "[toy] fit done in" in path.read_text(encoding="utf-8")
    assert logging.getLogger("utvardering.analysis").disabled  # restored as it was
    logging.getLogger("utvardering.analysis").disabled = False
