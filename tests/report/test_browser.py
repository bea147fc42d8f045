"""Reports and docs rendered in a real browser (headless Chromium): issue 16 items 5 and 6.

Skipped, with the reason, only when no Chromium is installed (``apt-get install -y chromium``;
``.ci/run`` installs it). The fast test renders a small report built in-process; the slow one
runs the three analyses with ``--quick`` in Swedish and English; the docs test reads the built
Sphinx site (``docs/_build/html``, or ``$UTV_DOCS_HTML``) and is skipped when it is not built.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from utvardering.report.browser import CHROMIUM, headings_in_order, measure

sys.path.insert(0, str(Path(__file__).parent))
from test_i18n import english_words, swedish_report, visible_text

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                "(apt-get install -y chromium)")

ROOT = Path(__file__).resolve().parents[2]
ANALYSES = ("sluta_skjut", "ordningsvakter_mollevangen", "drogfri_skola")


def assert_readable(page: Path, *, screenshots: Path | None = None) -> None:
    """Every browser check of issue 16 at a desktop and a phone width."""
    for width in (1280, 390):
        shot = screenshots / f"{page.parent.name}-{width}.png" if screenshots else None
        m = measure(page, width, screenshot=shot)
        assert m["wide"] == [] and m["scrollWidth"] <= width, (width, m["wide"][:10])
        assert m["images"] and all(i["ok"] for i in m["images"]), m["images"]
        assert all(i["alt"] for i in m["images"])
        assert m["markdown"] == [], m["markdown"][:5]
        assert headings_in_order(m["headings"]), m["headings"]
        assert m["conclusionFirst"] is True
        assert m["resources"] == []


def test_a_small_report_reads_in_the_browser(tmp_path):
    report = swedish_report()
    report.write(tmp_path / "toy")
    assert_readable(tmp_path / "toy" / "report.html")


@pytest.fixture(scope="module")
def quick_reports(tmp_path_factory):
    """``<lang>/<name>/report.html`` for both languages: run here, or reused from
    ``$UTV_QUICK_REPORTS`` (a folder holding ``utvardering run all --quick --lang L --out DIR/L``)."""
    from utvardering.report.runner import run_analysis

    given = os.environ.get("UTV_QUICK_REPORTS")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("reports")
    for lang in ("sv", "en"):
        for name in ANALYSES:
            run_analysis(name, quick=True, quiet=True, lang=lang, out=out / lang / name)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_quick_reports_in_the_browser(quick_reports, lang):
    keep = os.environ.get("UTV_SCREENSHOTS")
    for name in ANALYSES:
        assert_readable(quick_reports / lang / name / "report.html",
                        screenshots=Path(keep) / lang if keep else None)


@pytest.mark.slow
def test_quick_swedish_reports_have_no_english_sentences(quick_reports):
    for name in ANALYSES:
        text = visible_text((quick_reports / "sv" / name / "report.html").read_text(encoding="utf-8"))
        assert english_words(text) == [], name


def _docs() -> Path:
    return Path(os.environ.get("UTV_DOCS_HTML", ROOT / "docs" / "_build" / "html")).resolve()


@pytest.mark.skipif(not (_docs() / "index.html").exists(), reason="the docs are not built "
                    "(sphinx-build -b html docs docs/_build/html)")
@pytest.mark.parametrize("page", ["methods/synthetic_control.html", "methods/did.html", "index.html"])
def test_docs_render_formulas_offline(page):
    path = _docs() / page
    if not path.exists():
        pytest.skip(f"{page} is not in this docs build")
    m = measure(path, 1280)
    assert m["resources"] == [], m["resources"]  # MathJax served from _static, nothing from the network
    source = path.read_text(encoding="utf-8")
    if "\\(" in source or "\\[" in source or 'class="math' in source:
        assert m["math"] > 0 and m["rawMath"] == 0
