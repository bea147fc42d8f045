"""The Malmö analyses: they run from the package's analyses/ folder and reproduce their numbers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from utvardering.cli import main
from utvardering.report.runner import PACKAGED_ANALYSES, list_analyses, run_analysis

ANALYSES = PACKAGED_ANALYSES


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
    # every step announced for the progress bar ran, and the run log has them with timings
    steps = ("Callaway–Sant'Anna", "Sun–Abraham and imputation", "selection on pre-trends",
             "HonestDiD", "survey DiD")
    assert set(provenance["timings"]) == {*steps, "total"} and provenance["log"] == "run.log"
    log = first["run.log"].read_text()
    assert all(f"[drogfri_skola] {step} done in" in log for step in steps)


def test_drogfri_skola_reports_the_honest_did_sensitivity(tmp_path):
    written = run_analysis("drogfri_skola", directory=ANALYSES, out=tmp_path, quick=True, quiet=True)
    honest = json.loads(written["effects.json"].read_text())["HonestDiD: first post-period effect"]
    assert honest["method"] == "honest_did_rm"
    assert "breakdown" in honest and "breakdown" in honest["diagnostics"]
    table = pd.read_csv(written["tables/honest_did_sensitivity.csv"])
    assert list(table.columns) == ["Mbar", "low", "high", "covers_zero"]
    m_bars = [float(m) for m in table["Mbar"].iloc[:-1]]
    assert table["Mbar"].iloc[-1] == "original" and m_bars == sorted(m_bars) and len(m_bars) >= 2
    assert (table["low"] <= table["high"]).all() and table[["low", "high"]].notna().all().all()
    # robust intervals widen as M̄ grows (relative magnitudes: nested identified sets)
    widths = (table["high"] - table["low"]).iloc[:-1].to_numpy()
    assert (widths[1:] >= widths[:-1] - 1e-9).all()
    markdown = written["report.md"].read_text()
    assert "Breakdown M̄" in markdown and "HonestDiD (relative magnitudes)" in markdown
    assert (tmp_path / "figures" / "honest_did.png").exists()


def test_run_command_and_swedish_labels(tmp_path, capsys, monkeypatch):
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
    assert first["report.md"].read_text() == second["report.md"].read_text()


@pytest.mark.slow
def test_sluta_skjut_primary_form_is_chosen_from_the_pre_period(tmp_path):
    """Malmö's pre-period mean rate is above every donor's, so the rule picks the demeaned SC."""
    written = run_analysis("sluta_skjut", directory=ANALYSES, out=tmp_path, quick=True, quiet=True)
    hull = pd.read_csv(written["tables/sc_hull_check.csv"])
    assert hull["pre_period_mean_rate"].iloc[0] > hull["pre_period_mean_rate"].iloc[1]
    effects = json.loads(written["effects.json"].read_text())
    assert {"synthetic control (demeaned)", "synthetic control (levels)"} <= set(effects)
    primary = effects["synthetic control (demeaned)"]
    assert primary["params"]["demean"] is True and primary["diagnostics"]["demean"] is True
    truth = pd.read_csv(written["tables/truth_check.csv"]).set_index("label")
    assert bool(truth.loc["synthetic control (demeaned)", "primary"])
    backdated = pd.read_csv(written["tables/sc_backdated_placebos.csv"])
    assert set(backdated["form"]) == {"levels", "demeaned"}
