"""The comparison page written by ``utvardering run all`` (issue 16 item 4)."""

from __future__ import annotations

from utvardering import Effect
from utvardering.report.conclusion import bottom_line
from utvardering.report.document import Report
from utvardering.report.index import write_index


def _write(root, name, lang, estimate):
    report = Report(f"{name} title", lang=lang)
    report.effect("a", Effect("synthetic_control", estimate, (estimate - 1.0, estimate - 0.2)))
    report.effect("b", Effect("poisson_did", estimate, (estimate - 2.0, estimate + 2.0)))
    bottom_line(report, programme=name, primary="a", compared=["b"], noun=report.tr("shootings"), per_year=12.0)
    report.write(root / name)


def test_index_sets_the_bottom_lines_side_by_side_with_links(tmp_path):
    for name, estimate in (("first", -1.0), ("second", -2.0)):
        _write(tmp_path, name, "sv", estimate)
    page = write_index(tmp_path, ["first", "second", "missing"], lang="sv").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="sv">')
    assert page.count('class="card"') == 3
    assert '<a href="first/report.html">first title</a>' in page and 'href="second/report.html"' in page
    assert "Stöd: starkt" in page and "färre skjutningar per år" in page
    assert "<strong>starkt</strong>" in page  # the conclusion's Markdown is rendered
    assert "Ingen slutsats skrevs för denna analys." in page  # an analysis without conclusion.json
    assert page.index("first title") < page.index("second title")
