"""The report sections: "Could this design detect an effect?" and the specification curve."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import utvardering as utv
from utvardering.design.analyses import analysis_design, report_design_diagnosis
from utvardering.design.sections import design_diagnosis_section, detectability
from utvardering.report.document import Report

from .world import null_world


@pytest.fixture(scope="module")
def study():
    return utv.Study(null_world(n_units=8, seed=3), outcome="y", treated="u00", start="2018-01")


@pytest.mark.filterwarnings("ignore::utvardering.errors.InferenceWarning")
def test_detectability_states_the_mde_in_the_outcomes_unit(study):
    found = detectability(study, "synthetic_did", effects=[-0.3, -0.6], n_sims=7, random_state=0,
                          unit_name="crimes")
    assert "placebo versions of the design" in found.text
    assert "crimes a year" in found.text or "reaches 80% power" in found.text
    assert list(found.table.columns) == ["effect_%", "power", "mc_se", "coverage", "mean_width",
                                         "change_per_year"]
    # the natural-unit column is the effect times the treated unit's pre-period yearly level
    base = found.power.baseline * 12
    assert found.table["change_per_year"].iloc[1] == pytest.approx(-0.3 * base, abs=0.01)


@pytest.mark.filterwarnings("ignore::utvardering.errors.InferenceWarning")
def test_section_writes_heading_text_table_and_figures(study):
    report = Report(title="t")
    out = design_diagnosis_section(report, study, "diff_in_diff", n_sims=3, random_state=1,
                                   choices={"start": ["2017-07", "2018-01"]}, joint=False)
    kinds = [(b.kind, b.content if b.kind == "heading" else b.name) for b in report.blocks]
    assert ("heading", "Could this design detect an effect?") in kinds
    assert ("heading", "Specification curve") in kinds
    assert sum(k == "figure" for k, _ in kinds) == 2
    assert out["curve"] is not None and len(out["curve"].table) == 2


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::utvardering.errors.InferenceWarning")
def test_analysis_entry_runs_for_drogfri_skola_in_quick_mode():
    spec = analysis_design("drogfri_skola")
    report = Report(title="t")
    ctx = SimpleNamespace(report=report, config={"seeds": {"default": 1}}, quick=True,
                          seed=lambda name: 1)
    ctx.config.update(_config("drogfri_skola"))
    out = report_design_diagnosis(ctx, "drogfri_skola", spec["study"])
    assert out["detectability"].power.placebo == "unit"
    assert out["curve"].joint is None and len(out["curve"].table) == 2 * 3


def _config(name):
    from utvardering.report.runner import PACKAGED_ANALYSES, load_config

    return load_config(PACKAGED_ANALYSES / f"{name}.toml")


@pytest.mark.filterwarnings("ignore::utvardering.errors.InferenceWarning")
def test_swedish_design_section_has_no_english_sentences(study, tmp_path):
    """Issue 16: every sentence of a Swedish report — the design diagnosis included — is Swedish."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "report" / "test_i18n.py"
    spec = importlib.util.spec_from_file_location("i18n_checks", path)
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    report = Report(title="Kontroll", lang="sv")
    design_diagnosis_section(report, study, "diff_in_diff", n_sims=3, random_state=1, unit_name="shootings",
                             choices={"start": ["2017-07", "2018-01"]}, joint=False)
    report.write(tmp_path)
    html_text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Kunde designen upptäcka en effekt?" in html_text
    assert checks.english_words(checks.visible_text(html_text)) == []
