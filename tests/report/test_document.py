"""Report writer: Markdown, self-contained HTML (Jinja2 + markdown-it), effects.json, tables and figures."""

from __future__ import annotations

import json
import re

import matplotlib.pyplot as plt
import pandas as pd

from utvardering import Effect
from utvardering.report.conclusion import bottom_line
from utvardering.report.document import Report, markdown_table


def test_markdown_table():
    frame = pd.DataFrame({"a": [1.0, float("nan")], "b": ["x|y", "z"]})
    assert markdown_table(frame) == "| a | b |\n|---|---|\n| 1 | x\\|y |\n|  | z |"


def test_markdown_table_in_swedish_formats_numbers_and_translates_headers():
    frame = pd.DataFrame({"year": [2014], "shootings": [12345.0], "rate": [12.345], "p_value": [0.0004]})
    text = markdown_table(frame, Report("t", lang="sv").tr)
    assert text.splitlines()[0] == "| år | skjutningar | rate | p |"
    assert text.splitlines()[2] == "| 2014 | 12\xa0345 | 12,3 | <\xa00,001 |"  # decimal comma, space separator; F15


def test_report_writes_every_output(tmp_path):
    report = Report("Sluta skjut", lang="sv")
    report.heading("Design")
    report.text("Malmö vs **donor** cities.\n\nSecond paragraph.")
    published = report.table("counts", pd.DataFrame({"city": ["A", "B"], "shootings": [12, 2]}),
                             counts=["shootings"], caption="Shootings per city")
    assert published["shootings"].tolist() == [12, "<5"]
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    report.figure("line", fig, caption="A line", alt="A rising line")
    report.effect("primary", Effect("demo", -1.0, (-2.0, 0.5), p_value=0.0004))
    written = report.write(tmp_path)
    assert {"report.md", "report.html", "effects.json", "tables/counts.csv", "figures/line.png"} <= set(written)
    html_text = (tmp_path / "report.html").read_text()
    assert html_text.startswith('<!DOCTYPE html>\n<html lang="sv">') and "data:image/png;base64," in html_text
    assert "<p>Second paragraph.</p>" in html_text and "<strong>donor</strong>" in html_text  # Markdown rendered
    assert '<img src="data:image/png;base64,' in html_text and 'alt="A rising line"' in html_text
    assert "<figcaption>A line</figcaption>" in html_text
    assert '<nav class="toc"' in html_text and '<a href="#design">Design</a>' in html_text
    assert '<table class="results stack">' in html_text and "<details><summary>Teknisk sammanfattning: primary" in html_text
    assert "p &lt;\xa00,001" in html_text and "@media print" in html_text
    assert "http://" not in html_text.replace("http://www.w3.org", "") and "https://" not in html_text
    assert (tmp_path / "figures" / "line.svg").exists()
    effects = json.loads((tmp_path / "effects.json").read_text())
    assert Effect.from_dict(effects["primary"]).interval == (-2.0, 0.5)
    assert (tmp_path / "tables" / "counts.csv").read_text().splitlines()[2] == "B,<5"
    assert "![A rising line](figures/line.png)" in (tmp_path / "report.md").read_text()


def test_the_bottom_line_is_rendered_first_wherever_it_is_added(tmp_path):
    report = Report("Toy")
    report.heading("Primary analysis")
    report.effect("a", Effect("synthetic_control", -1.0, (-2.0, -0.5), relative=-0.2,
                              relative_interval=(-0.4, -0.1), n_treated=1))
    report.effect("b", Effect("poisson_did", -0.8, (-1.5, 0.1), relative=-0.15, relative_interval=(-0.3, 0.02)))
    bottom_line(report, programme="Toy", primary="a", compared=["b"], noun="shootings", per_year=10.0)
    report.write(tmp_path)
    html_text = (tmp_path / "report.html").read_text()
    assert html_text.index('class="conclusion"') < html_text.index("Primary analysis</h2>")
    assert html_text.index('class="conclusion"') < html_text.index('class="results')
    md = (tmp_path / "report.md").read_text()
    assert md.index("## Bottom line") < md.index("## Primary analysis")
    assert json.loads((tmp_path / "conclusion.json").read_text())["strength"] == "strong"  # 2 of 2 agree, 1 of 2 excludes zero


def test_html_is_deterministic_apart_from_the_generated_line(tmp_path):
    def build(when):
        report = Report("Toy")
        report.text("Hello")
        report.effect("a", Effect("demo", 1.0, (0.0, 2.0)))
        return report.to_html(generated=when)

    first, second = build("2026-12-06 10:00 UTC"), build("2026-12-06 11:00 UTC")
    assert first != second
    strip = re.compile(r'<p class="meta">.*?</p>', re.S)
    assert strip.sub("", first) == strip.sub("", second)
