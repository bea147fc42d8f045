"""Screenshots of the --quick reports for the docs (Analyses pages, "Reading a report").

Usage::

    utvardering run all --quick --lang en --out /tmp/reports-en
    utvardering run all --quick --lang sv --out /tmp/reports-sv
    python scripts/report_screenshots.py /tmp/reports-en /tmp/reports-sv docs/analyses/img

Writes ``<name>-en.png`` (desktop, 1280 px), ``<name>-sv-phone.png`` (390 px) and the annotated
``reading-a-report-annotated.png`` (Sluta skjut, desktop). Needs headless Chromium.
"""

from __future__ import annotations

import sys
from pathlib import Path

from utvardering.report.browser import measure

NAMES = ("sluta_skjut", "ordningsvakter_mollevangen", "drogfri_skola")
LANDMARKS = [("header", "1"), ("nav.toc", "2"), ("section.conclusion", "3"), ("h2#design-pre-registered", "4"),
             ("table.results", "5"), ("details", "6")]


def _shrink(path: Path, colours: int = 96, width: int | None = None) -> None:
    """Fewer colours (smaller file); ``width``: crop to the viewport (phone widths are framed)."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        if width is not None:
            image = image.crop((0, 0, width, image.height))
        image.quantize(colours, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def annotate(page: Path, out: Path) -> None:
    """The report's top as an image with numbered boxes around its landmarks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    raw = out.with_suffix(".raw.png")
    boxes = measure(page, 1280, height=3700, screenshot=raw)["boxes"]
    image = plt.imread(raw)
    raw.unlink()
    height, width = image.shape[:2]
    fig = plt.figure(figsize=(width / 130, height / 130), dpi=65)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image)
    ax.set_axis_off()
    for selector, number in LANDMARKS:
        if selector not in boxes:
            continue
        x, y, w, h = boxes[selector]
        if y > height:
            continue
        ax.add_patch(Rectangle((x - 6, y - 6), w + 12, min(h, height - y) + 12, fill=False, lw=3, ec="#d1495b"))
        ax.text(x - 10, y + 4, number, ha="right", va="top", fontsize=22, color="white", weight="bold",
                bbox={"boxstyle": "circle", "fc": "#d1495b", "ec": "none"})
    fig.savefig(out, dpi=65)
    plt.close(fig)
    _shrink(out)


def main(english: str, swedish: str, target: str) -> None:
    english_root, swedish_root, out = Path(english), Path(swedish), Path(target)
    out.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        shot = out / f"{name}-en.png"
        measure(english_root / name / "report.html", 1280, height=1500, screenshot=shot)
        _shrink(shot)
        phone = out / f"{name}-sv-phone.png"
        measure(swedish_root / name / "report.html", 390, height=1400, screenshot=phone)
        _shrink(phone, width=390)
    annotate(english_root / "sluta_skjut" / "report.html", out / "reading-a-report-annotated.png")
    index = out / "index-en.png"
    measure(english_root / "index.html", 1280, height=900, screenshot=index)
    _shrink(index)


if __name__ == "__main__":
    main(*sys.argv[1:4])
