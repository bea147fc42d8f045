"""The Malmö analyses: they run from the repository's analyses/ folder and reproduce their numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from utvardering.cli import main
from utvardering.report.runner import list_analyses, run_analysis

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"


def test_the_three_analyses_are_registered():
    assert list_analyses(ANALYSES) == ["drogfri_skola", "ordningsvakter_mollevangen", "sluta_skjut"]


def test_drogfri_skola_reruns_identically(tmp_path):
    first = run_analysis("drogfri_skola", directory=ANALYSES, out=tmp_path / "a", quick=True, quiet=True)
    second = run_analysis("drogfri_skola", directory=ANALYSES, out=tmp_path / "b", quick=True, quiet=True)
    a, b = (json.loads(p["effects.json"].read_text()) for p in (first, second))
    assert a.keys() == b.keys() and len(a) >= 5
    for label in a:  # field by field
        assert a[label] == b[label], label
    assert first["report.md"].read_text() == second["report.md"].read_text()
    provenance = json.loads(first["provenance.json"].read_text())
    assert provenance["seeds"]["bootstrap"] == 1
    assert {"bundled:schools", "bundled:school_survey"} <= set(provenance["inputs"])
    html = first["report.html"].read_text()
    assert "Design (pre-registered)" in html and "Truth check (simulated data)" in html


def test_run_command_and_swedish_labels(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("UTV_ANALYSES_DIR", str(ANALYSES))
    code = main(["run", "drogfri_skola", "--quick", "--quiet", "--lang", "sv", "--out", str(tmp_path)])
    assert code == 0
    assert str(tmp_path / "report.html") in capsys.readouterr().out
    assert "Design (förregistrerad)" in (tmp_path / "report.md").read_text()
    assert main(["run", "nope", "--quiet"]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sluta_skjut", "ordningsvakter_mollevangen"])
def test_mcmc_analyses_rerun_identically(name, tmp_path):
    first = run_analysis(name, directory=ANALYSES, out=tmp_path / "a", quick=True, quiet=True)
    second = run_analysis(name, directory=ANALYSES, out=tmp_path / "b", quick=True, quiet=True)
    assert first["effects.json"].read_bytes() == second["effects.json"].read_bytes()
