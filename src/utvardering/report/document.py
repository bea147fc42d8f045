"""A report document: headings, text, tables, figures and Effects, written as Markdown and HTML.

An analysis builds a :class:`Report` section by section and calls :meth:`Report.write`,
which produces in the output directory: ``report.md``, a self-contained ``report.html``
(Jinja2 template, Markdown rendered by markdown-it-py, figures embedded, a table of contents,
results as tables with each method's technical summary folded in ``<details>``, a print
stylesheet), ``effects.json`` (every Effect's ``to_dict()``, after :func:`~.suppression.publishable`),
``tables/*.csv`` and ``figures/*.png`` / ``*.svg``.

Every string the reader sees is translated through the report's :class:`~utvardering.i18n.Language`
(``report.tr``, also callable as ``report._("...")``) and numbers are formatted for it. A
conclusion (:meth:`Report.conclusion`) is always rendered first, whenever it is added.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..effect import Effect
from ..i18n import Language, get_language
from .suppression import SuppressionPolicy, publishable

__all__ = ["Report", "format_cell", "markdown_table", "translate_figure"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


def format_cell(value: Any, tr: Language | None = None, column: str = "") -> str:
    """One table cell as text in the report's language (``""`` for missing values)."""
    tr = tr or get_language("en")
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return tr("yes") if value else tr("no")
    if isinstance(value, (pd.Timestamp, pd.Period)) or hasattr(value, "isoformat"):
        return tr.date(value)
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return tr.number(value, 0)
    if isinstance(value, float):
        if math.isinf(value):  # an unbounded interval end (e.g. too few placebos for the level)
            return tr.number(value)
        if column in ("p_value", "p", "p_value_estimate"):
            return tr.p_value(value)
        if value == int(value) and abs(value) < 1e12:
            return tr.number(value, 0)
        return tr.significant(value, 3)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        return format_cell(value.item(), tr, column)
    return tr.gettext(str(value)) if isinstance(value, str) else str(value)


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index() if frame.index.name is not None or frame.index.nlevels > 1 else frame


def markdown_table(frame: pd.DataFrame, tr: Language | None = None) -> str:
    """Render a DataFrame as a GitHub-flavoured Markdown table (index included when named)."""
    tr = tr or get_language("en")
    data = _shown(frame)
    columns = [str(c) for c in data.columns]
    header = "| " + " | ".join(tr.column(c) for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    rows = ["| " + " | ".join(format_cell(v, tr, c).replace("|", "\\|") for v, c in zip(row, columns))
            + " |" for row in data.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _slug(text: str, seen: dict[str, int]) -> str:
    base = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-") or "section"
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


@dataclass
class _Block:
    kind: str
    content: Any
    name: str = ""
    caption: str = ""
    alt: str = ""


@dataclass
class Report:
    """A report built section by section.

    Parameters
    ----------
    title : str
        Report title (already in the report's language).
    lang : {"en", "sv"}
        Language of every label, number and generated sentence.
    suppress_below : int or None, default 5
        Threshold for small-count suppression (tables added with ``counts=``, survey cell
        means, exported count paths). ``None`` switches suppression off and says so in the
        report; a value below 1 is an error (see :class:`~.suppression.SuppressionPolicy`).
    """

    title: str
    lang: str = "en"
    suppress_below: int | None = 5
    blocks: list[_Block] = field(default_factory=list)
    effects: dict[str, Effect] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    overlap: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tr = get_language(self.lang)
        self.privacy = SuppressionPolicy(self.suppress_below)
        self._conclusion = None

    def _(self, message: str, /, **values: Any) -> str:
        """Translate ``message`` into the report's language (gettext ``_``)."""
        return self.tr.gettext(message, **values)

    # -- building ----------------------------------------------------------------------------
    def heading(self, text: str, level: int = 2) -> None:
        """Add a section heading (``text`` already translated)."""
        self.blocks.append(_Block("heading", text, name=str(level)))

    def text(self, text: str) -> None:
        """Add a paragraph (Markdown: emphasis, lists, code)."""
        self.blocks.append(_Block("text", text))

    def preformatted(self, text: str) -> None:
        """Add monospaced text."""
        self.blocks.append(_Block("pre", text))

    def table(self, name: str, frame: pd.DataFrame, *, caption: str = "",
              counts: list[str] | None = None) -> pd.DataFrame:
        """Add a table (written to ``tables/<name>.csv``); counts below the threshold suppressed.

        Returns the table as published (after suppression). When ``counts`` are given the
        caption states the rule actually applied (cells < k suppressed, or that suppression
        is off), so the caption can never claim a suppression that did not happen.
        """
        if counts:
            frame = self.privacy.table(frame, counts)
            caption = (caption + " " + self.privacy.caption(self.tr)).strip()
        self.blocks.append(_Block("table", frame, name=name, caption=caption))
        return frame

    def figure(self, name: str, fig, *, caption: str = "", alt: str = "") -> None:
        """Add a matplotlib figure (PNG and SVG files, embedded in the HTML with caption and alt text)."""
        import matplotlib
        import matplotlib.pyplot as plt

        if self.lang != "en":
            for text in translate_figure(fig, self.tr):
                logging.getLogger("utvardering.report").info(
                    "figure %s: text not in the %s catalogue: %r", name, self.lang, text)
        png, svg = io.BytesIO(), io.StringIO()
        with matplotlib.rc_context({"svg.hashsalt": "utvardering"}):  # stable SVG ids: byte-identical reruns
            fig.savefig(png, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
            fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})

        plt.close(fig)
        self.blocks.append(_Block("figure", (png.getvalue(), svg.getvalue()), name=name,
                                  caption=caption, alt=alt or caption or name))

    def effect(self, label: str, effect: Effect, *, display: str | None = None) -> None:
        """Register an Effect (exported in ``effects.json`` under ``label``) and show it.

        ``display`` is the row label shown to the reader (default: ``label`` translated).
        Consecutive effects are shown as one results table with the full ``summary()`` of each
        folded below it.
        """
        if label in self.effects:
            raise ValueError(f"an effect labelled {label!r} is already in the report.")
        self.effects[label] = effect
        self.labels[label] = display if display is not None else self.tr.gettext(label)
        self.blocks.append(_Block("effect", label))

    def conclusion(self, conclusion) -> None:
        """Set the bottom line (a :class:`~.conclusion.Conclusion`), rendered first."""
        self._conclusion = conclusion

    # -- rendering -------------------------------------------------------------------------
    def _sections(self) -> list[dict[str, Any]]:
        """Blocks grouped for rendering: consecutive effects become one results group."""
        groups: list[dict[str, Any]] = []
        for block in self.blocks:
            if block.kind == "effect" and groups and groups[-1]["kind"] == "effects":
                groups[-1]["labels"].append(block.content)
            elif block.kind == "effect":
                groups.append({"kind": "effects", "labels": [block.content]})
            else:
                groups.append({"kind": block.kind, "block": block})
        return groups

    def _effect_row(self, label: str) -> dict[str, str]:
        tr, effect = self.tr, self.effects[label]
        kind = "credible" if effect.prob is not None and effect.p_value is None else "confidence"
        evidence = ""
        if effect.p_value is not None:
            evidence = tr.p(effect.p_value)
        if effect.prob is not None:
            evidence = (evidence + "; " if evidence else "") + tr("P(effect) = {p}",
                                                                   p=tr.percent(effect.prob, 1))
        relative = ""
        if effect.relative is not None and math.isfinite(effect.relative):
            relative = tr.percent(effect.relative, 1, sign=True)
            if effect.relative_interval is not None:
                relative += " " + tr.interval(*effect.relative_interval, 1, percent=True, sign=True)
        notes = []
        if effect.n_treated is not None:
            notes.append(tr("{n} treated", n=effect.n_treated))
        if effect.n_control is not None:
            notes.append(tr("{n} comparison", n=effect.n_control))
        if effect.start is not None:
            notes.append(tr("start {date}", date=tr.date(effect.start)))
        nwarn = len(effect.warnings)
        if nwarn:
            notes.append(tr.ngettext("{n} warning", "{n} warnings", nwarn))
        return {
            "label": self.labels[label],
            "method": tr.method(effect.method),
            "estimate": tr.significant(effect.estimate, 3),
            "scale": tr.gettext(effect.scale),
            "interval": tr.interval(*effect.interval, _digits(effect.interval)),
            "level": tr.level(effect.level, kind),
            "evidence": evidence,
            "relative": relative,
            "notes": ", ".join(notes),
            # English: the estimator's own summary (e.g. CausalImpact's table); other languages:
            # the Effect interface's summary, whose every label comes from the catalogue
            "summary": effect.summary() if self.lang == "en" else Effect.summary(effect, lang=self.lang),
        }

    def to_markdown(self) -> str:
        """The report as Markdown (figures referenced as ``figures/<name>.png``)."""
        tr = self.tr
        out = [f"# {self.title}", ""]
        if self._conclusion is not None:
            out += [f"## {tr('Bottom line')}", "", *self._conclusion.markdown(tr), ""]
        for group in self._sections():
            if group["kind"] == "effects":
                rows = [self._effect_row(label) for label in group["labels"]]
                head = [tr("Estimate"), tr("Interval"), tr("p / posterior"), tr("Relative"), tr("Method"),
                        tr("Notes")]
                out += ["| " + " | ".join(["", *head]) + " |", "|" + "---|" * (len(head) + 1)]
                for r in rows:
                    cells = [r["label"], f"{r['estimate']} ({r['scale']})", f"{r['level']} {r['interval']}",
                             r["evidence"], r["relative"], r["method"], r["notes"]]
                    out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
                out.append("")
                continue
            block = group["block"]
            if block.kind == "heading":
                out += ["#" * int(block.name) + " " + block.content, ""]
            elif block.kind == "text":
                out += [block.content, ""]
            elif block.kind == "pre":
                out += ["```", block.content, "```", ""]
            elif block.kind == "table":
                out += ([f"*{block.caption}*", ""] if block.caption else []) + [
                    markdown_table(block.content, tr), ""]
            elif block.kind == "figure":
                out += [f"![{block.alt}](figures/{block.name}.png)", ""]
                if block.caption:
                    out += [f"*{block.caption}*", ""]
        return "\n".join(out)

    def to_html(self, *, generated: str | None = None) -> str:
        """The report as one self-contained HTML page (Jinja2 template, figures embedded)."""
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
        tr, seen = self.tr, {}
        toc: list[dict[str, Any]] = []
        parts: list[dict[str, Any]] = []
        if self._conclusion is not None:
            anchor = _slug(tr("Bottom line"), seen)
            toc.append({"id": anchor, "text": tr("Bottom line"), "level": 2})
            parts.append({"kind": "conclusion", "id": anchor, "title": tr("Bottom line"),
                          "html": md.render("\n\n".join(self._conclusion.markdown(tr))),
                          "evidence": self._conclusion.strength})
        for group in self._sections():
            if group["kind"] == "effects":
                rows = [self._effect_row(x) for x in group["labels"]]
                levels = {r["level"] for r in rows}
                parts.append({"kind": "effects", "rows": rows,
                              "level": levels.pop() if len(levels) == 1 else tr("Interval"),
                              "show": {k: any(r[k] for r in rows) for k in ("evidence", "relative", "notes")}})
                continue
            block = group["block"]
            if block.kind == "heading":
                anchor = _slug(block.content, seen)
                level = min(max(int(block.name), 2), 4)
                toc.append({"id": anchor, "text": block.content, "level": level})
                parts.append({"kind": "heading", "id": anchor, "level": level, "text": block.content})
            elif block.kind == "text":
                parts.append({"kind": "html", "html": md.render(block.content)})
            elif block.kind == "pre":
                parts.append({"kind": "pre", "text": block.content})
            elif block.kind == "table":
                data = _shown(block.content)
                columns = [str(c) for c in data.columns]
                parts.append({
                    "kind": "table", "caption": md.renderInline(block.caption) if block.caption else "",
                    "name": block.name,
                    "header": [tr.column(c) for c in columns],
                    "rows": [[format_cell(v, tr, c) for v, c in zip(row, columns)]
                             for row in data.itertuples(index=False)],
                    "numeric": [pd.api.types.is_numeric_dtype(data[c]) for c in data.columns],
                })
            elif block.kind == "figure":
                parts.append({"kind": "figure", "name": block.name, "alt": block.alt,
                              "caption": md.renderInline(block.caption) if block.caption else "",
                              "src": "data:image/png;base64," + base64.b64encode(block.content[0]).decode("ascii")})
        env = template_environment()
        css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
        return env.get_template("report.html.j2").render(
            lang=self.lang, title=self.title, toc=toc, parts=parts, css=css, _=tr.gettext, tr=tr,
            generated=generated, privacy=self.privacy.caption(tr),
        )

    def write(self, directory: str | Path, *, generated: str | None = None) -> dict[str, Path]:
        """Write every output into ``directory`` and return the paths written.

        ``generated`` (e.g. the provenance timestamp) is the only run-dependent text in the HTML.
        """
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
        (directory / "report.html").write_text(self.to_html(generated=generated), encoding="utf-8")
        effects = {label: publishable(e, self.privacy) for label, e in self.effects.items()}
        (directory / "effects.json").write_text(
            json.dumps(effects, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
        if self._conclusion is not None:
            (directory / "conclusion.json").write_text(
                json.dumps({"title": self.title, **self._conclusion.to_dict(self.tr)}, indent=2, ensure_ascii=False,
                           allow_nan=False) + "\n", encoding="utf-8")
            written["conclusion.json"] = directory / "conclusion.json"
        written.update({name: directory / name for name in ("report.md", "report.html", "effects.json")})
        return written


def translate_figure(fig, tr: Language) -> list[str]:
    """Translate a figure's titles, axis labels, legend entries and annotations in place.

    Each text is looked up whole in the catalogue (context ``figure``, then plain), then as
    ``"a: b"``, ``"a (b)"`` and ``"a, b"`` parts (method, column and label names). Returns the
    texts left untranslated (numbers and proper nouns are left as they are).
    """
    from matplotlib.text import Text

    left = []
    for artist in fig.findobj(Text):
        text = artist.get_text()
        if not text or not any(c.isalpha() for c in text):
            continue
        new = tr.figure_text(text)
        if new != text:
            artist.set_text(new)
        elif not tr.has(text):
            left.append(text)
    return left


def _digits(interval: tuple[float, float]) -> int:
    width = abs(interval[1] - interval[0]) if all(map(math.isfinite, interval)) else 1.0
    if width == 0:
        return 2
    return int(min(4, max(0, 2 - math.floor(math.log10(width)))))


def template_environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
