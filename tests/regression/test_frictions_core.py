"""Regression tests for the newcomer review (newcomer-frictions.md), items in the command line
and the Study's messages: F11 (CLI gaps) and F15 (small message and formatting issues)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering import cli
from utvardering.data.datasets import load_dataset
from utvardering.errors import DataError, DesignError

#: Card & Krueger (1994), FTE employment: (NJ after − NJ before) − (PA after − PA before) over
#: every store with the outcome observed in a wave, as R/Stata give it with all observations.
#: TWFE with store fixed effects uses the stores observed in both waves: 2.75 (the within
#: estimate of the textbooks, e.g. Angrist & Pischke 2009, table 5.2.2 region).
CARD_KRUEGER_DID = 2.7536


@pytest.fixture
def card_krueger(tmp_path):
    file = tmp_path / "card_krueger.csv"
    load_dataset("card_krueger").to_csv(file, index=False)
    return str(file)


def _run(capsys, argv):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("method,expected", [("diff_in_diff", CARD_KRUEGER_DID), ("twfe", 2.75)])
def test_f11_cli_runs_the_two_wave_panel_in_the_group_post_form(card_krueger, capsys, method,
                                                                 expected):
    code, out, err = _run(capsys, ["estimate", method, "--data", card_krueger, "--unit", "id",
                                   "--time", "d", "--outcome", "fte", "--group", "nj", "--post",
                                   "d", "--dropna", "--json"])
    assert code == 0, err
    effect = json.loads(out)
    assert effect["estimate"] == pytest.approx(expected, abs=5e-5)
    assert effect["n_treated"] == 331 and effect["n_control"] == 79


def test_f11_cli_cohort_form_with_dropna_and_min_pre_periods(card_krueger, capsys):
    code, out, err = _run(capsys, ["estimate", "diff_in_diff", "--data", card_krueger, "--unit", "id",
                                   "--time", "d", "--outcome", "fte", "--cohort", "nj",
                                   "--min-pre-periods", "1", "--dropna", "--json"])
    assert code == 0, err
    assert json.loads(out)["estimate"] == pytest.approx(CARD_KRUEGER_DID, abs=5e-5)


def test_f11_cli_messages_name_the_flags_not_the_python_keywords(card_krueger, capsys):
    base = ["estimate", "diff_in_diff", "--data", card_krueger, "--unit", "id", "--time", "d",
            "--outcome", "fte"]
    code, _, err = _run(capsys, [*base, "--group", "nj", "--post", "d"])
    assert code == 2 and "pass --dropna to drop them" in err and "dropna=True" not in err
    code, _, err = _run(capsys, [*base, "--cohort", "nj", "--min-pre-periods", "3", "--dropna"])
    assert code == 2 and "lower --min-pre-periods" in err
    assert "min_pre_periods" not in err.replace("--min-pre-periods", "")
    code, _, err = _run(capsys, [*base, "--cohort", "nj", "--set", "dropna=true"])
    assert code == 2 and "give --dropna instead of --set" in err
    code, _, err = _run(capsys, [*base, "--set", "group=nj", "--set", "post=d"])
    assert code == 2 and "--group COL and --post COL" in err
    code, _, err = _run(capsys, [*base, "--group", "nj"])
    assert code == 2 and "needs both --group COL" in err
    code, _, err = _run(capsys, [*base, "--group", "fte", "--post", "d", "--dropna"])
    assert code == 2 and "--group column 'fte' must hold 0 and 1 only" in err


def test_f15_gap_error_says_which_estimators_take_an_unbalanced_panel():
    rows = [(u, t, float(i + t)) for i, u in enumerate("ABCD") for t in range(2000, 2010)]
    df = pd.DataFrame(rows, columns=["unit", "time", "y"]).drop(index=[3, 15])
    with pytest.raises(DataError) as info:
        utv.Study(df, outcome="y", treated="A", start=2005)
    message = str(info.value)
    assert "if the estimator can handle" not in message
    assert "allow_gaps=True" in message and "callaway_santanna then needs panel=False" in message


def test_f15_integer_unit_ids_are_listed_in_numeric_order():
    rows = [(u, t, float(u * 0.1 + t)) for u in range(1, 121) for t in range(2000, 2006)]
    df = pd.DataFrame(rows, columns=["unit", "time", "y"])
    with pytest.raises(DesignError, match=r"units are '1', '2', '3', '4', '5'"):
        utv.Study(df, outcome="y", treated=999, start=2003)
    study = utv.Study(df, outcome="y", treated=[100, 2, 10], start=2003)
    assert "Treated: '2', '10', '100'" in study.describe()


def test_f15_too_few_pre_periods_names_a_count_and_a_few_units():
    df = load_dataset("card_krueger")
    with pytest.raises(DesignError) as info:
        utv.Study(df, outcome="fte", unit="id", time="d", cohort="nj", dropna=True,
                  min_pre_periods=2)
    message = str(info.value)
    assert len(message) < 300, message
    assert "331 treated units with 1 (" in message and "(331 in all)" in message


def test_f15_command_line_warnings_are_one_plain_line(tmp_path):
    rng = np.random.default_rng(3)
    months = pd.period_range("2020-01", periods=12, freq="M")
    rows = [(f"U{i}", str(t), float(rng.normal(10, 1)) if (i, j) != (3, 2) else np.nan)
            for i in range(6) for j, t in enumerate(months)]
    file = tmp_path / "p.csv"
    pd.DataFrame(rows, columns=["unit", "time", "y"]).to_csv(file, index=False)
    done = subprocess.run([sys.executable, "-m", "utvardering.cli", "estimate", "diff_in_diff", "--data",
                           str(file), "--outcome", "y", "--treated", "U0", "--start", "2020-07",
                           "--dropna"], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "default"})
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if "dropped 1 unit-period" in x)
    assert line.startswith("warning (DataWarning): dropped 1 unit-period(s)")
    assert "sys.exit" not in done.stderr and ".py:" not in done.stderr
