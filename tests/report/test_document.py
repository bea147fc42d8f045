"""Report writer: Markdown, self-contained HTML, effects.json, tables and figures."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pandas as pd

from utvardering import Effect
from utvardering.report.document import Report, markdown_table


def test_markdown_table():
    frame = pd.DataFrame({"a": [1.0, float("nan")], "b": ["x|y", "z"]})
    assert markdown_table(frame) == "| a | b |\n|---|---|\n| 1 | x\\|y |\n|  | z |"


def test_report_writes_every_output(tmp_path):
    report = Report("Sluta skjut", lang="sv")
    report.heading("Design")
    report.text("Malmö vs donor cities.\n\nSecond paragraph.")
    published = report.table("counts", pd.DataFrame({"city": ["A", "B"], "shootings": [12, 2]}),
                             counts=["shootings"], caption="Shootings per city")
    assert published["shootings"].tolist() == [12, "<5"]
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    report.figure("line", fig, caption="A line")
    report.effect("primary", Effect("demo", -1.0, (-2.0, 0.5)))
    written = report.write(tmp_path)
    assert {"report.md", "report.html", "effects.json", "tables/counts.csv", "figures/line.png"} <= set(written)
    html_text = (tmp_path / "report.html").read_text()
    assert html_text.startswith("<!DOCTYPE html><html lang='sv'>") and "data:image/png;base64," in html_text
    assert "<p>Second paragraph.</p>" in html_text
    assert (tmp_path / "figures" / "line.svg").exists()
    effects = json.loads((tmp_path / "effects.json").read_text())
    assert Effect.from_dict(effects["primary"]).interval == (-2.0, 0.5)
    assert (tmp_path / "tables" / "counts.csv").read_text().splitlines()[2] == "B,<5"
    assert "![A line](figures/line.png)" in (tmp_path / "report.md").read_text()
