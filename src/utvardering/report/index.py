"""The comparison page of ``utvardering run all``: every programme's bottom line side by side.

:func:`write_index` reads the ``conclusion.json`` each report wrote and renders
``index.html`` (same template machinery and stylesheet as the reports, self-contained) with one
card per programme: its strength of evidence, the generated conclusion and a link to the report.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..i18n import get_language

__all__ = ["write_index"]


def write_index(root: str | Path, names: list[str], *, lang: str = "en",
                generated: str | None = None) -> Path:
    """Write ``root/index.html`` from ``root/<name>/conclusion.json`` for each analysis name."""
    from markdown_it import MarkdownIt

    from .document import TEMPLATES, template_environment

    root = Path(root)
    tr = get_language(lang)
    md = MarkdownIt("commonmark", {"html": False})
    cards = []
    for name in names:
        path = root / name / "conclusion.json"
        if not path.exists():
            cards.append({"name": name, "title": name, "missing": True, "href": f"{name}/report.html"})
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        cards.append({"name": name, "title": record.get("title", record["programme"]),
                      "programme": record["programme"], "strength": record["strength"],
                      "strength_text": tr(record["strength"]),
                      "html": md.render(" ".join(record["sentences"])), "href": f"{name}/report.html",
                      "missing": False})
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    page = template_environment().get_template("index.html.j2").render(
        lang=lang, cards=cards, css=css, _=tr.gettext, generated=generated)
    out = root / "index.html"
    out.write_text(page, encoding="utf-8")
    return out
