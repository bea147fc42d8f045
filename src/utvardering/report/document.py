"""A report document: headings, text, tables, figures and Effects, written as Markdown and HTML.

An analysis builds a :class:`Report` section by section and calls :meth:`Report.write`,
which produces in the output directory: ``report.md``, a self-contained ``report.html``
(figures embedded, readable offline, prints cleanly), ``effects.json`` (every Effect's
``to_dict()``), ``tables/*.csv`` and ``figures/*.png`` / ``*.svg``. Tables of counts can be
passed through small-count suppression before they are published.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..effect import Effect
from .suppression import suppress_small_counts

__all__ = ["Report", "markdown_table"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{border-bottom:2px solid #333}h2{border-bottom:1px solid #bbb;margin-top:2rem}
table{border-collapse:collapse;margin:0.8rem 0;font-size:0.9rem}
th,td{border:1px solid #ccc;padding:0.25rem 0.5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
pre{background:#f6f6f6;padding:0.6rem;overflow-x:auto;font-size:0.85rem}
img{max-width:100%}.note{color:#555;font-size:0.9rem}
@media print{body{max-width:none}h2{page-break-after:avoid}img,table{page-break-inside:avoid}}
"""


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """Render a DataFrame as a GitHub-flavoured Markdown table (index included when named)."""
    data = frame.reset_index() if frame.index.name is not None else frame
    header = "| " + " | ".join(str(c) for c in data.columns) + " |"
    rule = "|" + "|".join("---" for _ in data.columns) + "|"
    rows = ["| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |"
            for row in data.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _html_table(frame: pd.DataFrame) -> str:
    data = frame.reset_index() if frame.index.name is not None else frame
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in data.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in data.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass
class _Block:
    kind: str
    content: Any
    name: str = ""
    caption: str = ""


@dataclass
class Report:
    """A report built section by section.

    Parameters
    ----------
    title : str
        Report title.
    lang : {"en", "sv"}
        Language of the fixed labels.
    suppress_below : int or None, default 5
        Threshold for small-count suppression of tables added with ``counts=``.
    """

    title: str
    lang: str = "en"
    suppress_below: int | None = 5
    blocks: list[_Block] = field(default_factory=list)
    effects: dict[str, Effect] = field(default_factory=dict)

    def heading(self, text: str, level: int = 2) -> None:
        """Add a section heading."""
        self.blocks.append(_Block("heading", text, name=str(level)))

    def text(self, text: str) -> None:
        """Add a paragraph (Markdown allowed: emphasis, lists)."""
        self.blocks.append(_Block("text", text))

    def preformatted(self, text: str) -> None:
        """Add monospaced text (e.g. an Effect summary)."""
        self.blocks.append(_Block("pre", text))

    def table(self, name: str, frame: pd.DataFrame, *, caption: str = "",
              counts: list[str] | None = None) -> pd.DataFrame:
        """Add a table (written to ``tables/<name>.csv``); counts below the threshold suppressed.

        Returns the table as published (after suppression).
        """
        if counts and self.suppress_below:
            frame = suppress_small_counts(frame, counts, threshold=self.suppress_below)
        self.blocks.append(_Block("table", frame, name=name, caption=caption))
        return frame

    def figure(self, name: str, fig, *, caption: str = "") -> None:
        """Add a matplotlib figure (written as PNG and SVG, embedded in the HTML)."""
        import matplotlib
        import matplotlib.pyplot as plt

        png, svg = io.BytesIO(), io.StringIO()
        with matplotlib.rc_context({"svg.hashsalt": "utvardering"}):  # stable SVG ids: byte-identical reruns
            fig.savefig(png, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
            fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})

        plt.close(fig)
        self.blocks.append(_Block("figure", (png.getvalue(), svg.getvalue()), name=name, caption=caption))

    def effect(self, label: str, effect: Effect) -> None:
        """Register an Effect (exported in ``effects.json``) and show its summary."""
        if label in self.effects:
            raise ValueError(f"an effect labelled {label!r} is already in the report.")
        self.effects[label] = effect
        self.preformatted(effect.summary())

    # -- rendering -------------------------------------------------------------------------
    def to_markdown(self) -> str:
        """The report as Markdown (figures referenced as ``figures/<name>.png``)."""
        out = [f"# {self.title}", ""]
        for block in self.blocks:
            if block.kind == "heading":
                out += ["#" * int(block.name) + " " + block.content, ""]
            elif block.kind == "text":
                out += [block.content, ""]
            elif block.kind == "pre":
                out += ["```", block.content, "```", ""]
            elif block.kind == "table":
                out += ([f"*{block.caption}*", ""] if block.caption else []) + [markdown_table(block.content), ""]
            elif block.kind == "figure":
                out += [f"![{block.caption or block.name}](figures/{block.name}.png)", ""]
                if block.caption:
                    out += [f"*{block.caption}*", ""]
        return "\n".join(out)

    def to_html(self) -> str:
        """The report as one self-contained HTML page (figures embedded as base64 PNG)."""
        parts = [f"<h1>{html.escape(self.title)}</h1>"]
        for block in self.blocks:
            if block.kind == "heading":
                level = int(block.name)
                parts.append(f"<h{level}>{html.escape(block.content)}</h{level}>")
            elif block.kind == "text":
                paragraphs = [p for p in block.content.split("\n\n") if p.strip()]
                parts += [f"<p>{html.escape(p)}</p>" for p in paragraphs]
            elif block.kind == "pre":
                parts.append(f"<pre>{html.escape(block.content)}</pre>")
            elif block.kind == "table":
                if block.caption:
                    parts.append(f"<p class='note'>{html.escape(block.caption)}</p>")
                parts.append(_html_table(block.content))
            elif block.kind == "figure":
                data = base64.b64encode(block.content[0]).decode("ascii")
                parts.append(f"<figure><img alt='{html.escape(block.name)}' src='data:image/png;base64,{data}'>"
                             + (f"<figcaption class='note'>{html.escape(block.caption)}</figcaption>"
                                if block.caption else "") + "</figure>")
        return (f"<!DOCTYPE html><html lang='{self.lang}'><head><meta charset='utf-8'>"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
                + "\n".join(parts) + "</body></html>\n")

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write every output into ``directory`` and return the paths written."""
        directory = Path(directory)
        (directory / "tables").mkdir(parents=True, exist_ok=True)
        (directory / "figures").mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for block in self.blocks:
            if block.kind == "table":
                path = directory / "tables" / f"{block.name}.csv"
                block.content.to_csv(path, index=block.content.index.name is not None)
                written[f"tables/{block.name}.csv"] = path
            elif block.kind == "figure":
                png, svg = block.content
                (directory / "figures" / f"{block.name}.png").write_bytes(png)
                (directory / "figures" / f"{block.name}.svg").write_text(svg, encoding="utf-8")
                written[f"figures/{block.name}.png"] = directory / "figures" / f"{block.name}.png"
        (directory / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        (directory / "report.html").write_text(self.to_html(), encoding="utf-8")
        effects = {label: e.to_dict(timings=False) for label, e in self.effects.items()}
        (directory / "effects.json").write_text(
            json.dumps(effects, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
        written.update({name: directory / name for name in ("report.md", "report.html", "effects.json")})
        return written
