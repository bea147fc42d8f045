"""`utvardering power` and `utvardering speccurve` on a data file and on an analysis."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from utvardering.cli import main

from .world import null_world


@pytest.fixture
def panel_file(tmp_path):
    path = tmp_path / "panel.csv"
    null_world(n_units=6, seed=1).to_csv(path, index=False)
    return str(path)


@pytest.mark.filterwarnings("ignore::utvardering.errors.InferenceWarning")
def test_power_on_a_file_writes_table_and_json(panel_file, tmp_path, capsys):
    out = tmp_path / "power.csv"
    code = main(["power", panel_file, "--method", "diff_in_diff", "--outcome", "y", "--treated", "u00",
                 "--start", "2018-01", "--n-sims", "3", "--effects", "-0.3", "--json",
                 "--out", str(out), "--quiet"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert [row["effect"] for row in payload["table"]] == [0.0, -0.3]
    assert pd.read_csv(out)["n"].tolist() == [3, 3]


def test_power_needs_a_method_and_the_study_flags(panel_file, capsys):
    assert main(["power", panel_file, "--outcome", "y", "--treated", "u00", "--start", "2018-01"]) == 2
    assert "needs --method" in capsys.readouterr().err
    assert main(["power", panel_file, "--method", "diff_in_diff"]) == 2
    assert "give --outcome, --treated, --start" in capsys.readouterr().err


def test_speccurve_on_a_file_with_choices(panel_file, capsys):
    code = main(["speccurve", panel_file, "--methods", "diff_in_diff,twfe", "--outcome", "y", "--treated",
                 "u00", "--start", "2018-01", "--choice", "start=2017-07,2018-01", "--no-joint",
                 "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "4 specifications (0 failed)" in text and "joint=False" in text


def test_power_on_an_analysis_uses_its_primary_design(capsys):
    code = main(["power", "drogfri_skola", "--n-sims", "2", "--effects", "-0.5", "--quiet"])
    assert code == 0
    assert "callaway_santanna" in capsys.readouterr().out
