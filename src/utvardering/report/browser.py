"""Render an HTML page in headless Chromium and measure it (browser tests, docs screenshots).

Chromium's own ``--headless --dump-dom`` is driven with a copy of the page that carries a small
script: once the page has loaded, it writes its measurements (elements wider than the viewport,
images not loaded, heading levels, literal Markdown markers in the text, the order of the
conclusion and the first results table, and every resource requested from outside the page)
into an element that the DOM dump returns. No Python browser driver is needed.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["CHROMIUM", "headings_in_order", "measure"]

#: Path of a Chromium/Chrome executable, or None.
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)

PROBE = r"""
<script>
window.addEventListener('load', function () { setTimeout(function () {
  var W = window.innerWidth, out = {width: W, wide: [], images: [], headings: [], markdown: [],
    conclusionFirst: null, resources: [], math: document.querySelectorAll('mjx-container').length,
    rawMath: 0};
  document.querySelectorAll('body *').forEach(function (el) {
    if (el.closest('script, style, head')) return;
    var r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    if (r.right > W + 1 || r.left < -1) out.wide.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  });
  out.scrollWidth = document.documentElement.scrollWidth;
  Array.prototype.forEach.call(document.images, function (img) {
    out.images.push({ok: img.complete && img.naturalWidth > 0, alt: img.alt || ''});
  });
  document.querySelectorAll('h1, h2, h3, h4, h5, h6').forEach(function (h) { out.headings.push(+h.tagName[1]); });
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), node;
  while ((node = walker.nextNode())) {
    var parent = node.parentElement;
    if (!parent || parent.closest('pre, code, script, style, mjx-container, .math, .highlight')) continue;
    var t = node.textContent;
    if (/\*\*|__|\]\(|(^|\n)\s*#{1,6}\s|`/.test(t)) out.markdown.push(t.trim().slice(0, 80));
    if (/\\\(|\\\[|\$\$/.test(t)) out.rawMath += 1;
  }
  out.boxes = {};
  ['header', 'nav.toc', 'section.conclusion', 'h2#design-pre-registered, h2#design-forregistrerad',
   'table.results', 'details'].forEach(function (sel) {
    var el = document.querySelector(sel);
    if (el) { var r = el.getBoundingClientRect();
      out.boxes[sel.split(',')[0]] = [r.left + scrollX, r.top + scrollY, r.width, r.height]; }
  });
  var marks = document.querySelectorAll('section.conclusion, table.results');
  out.conclusionFirst = marks.length > 0 ? marks[0].matches('section.conclusion') : null;
  performance.getEntriesByType('resource').forEach(function (e) {
    if (!/^(data|file|blob|about):/.test(e.name)) out.resources.push(e.name);
  });
  var target = window.parent !== window ? window.parent.document : document;
  var pre = target.createElement('pre'); pre.id = 'utv-probe'; pre.textContent = JSON.stringify(out);
  target.body.appendChild(pre);
}, 500); });
</script>
"""


def measure(page: Path, width: int, *, height: int = 900, screenshot: Path | None = None,
            budget_ms: int = 15000) -> dict:
    """Load ``page`` at ``width`` px in headless Chromium and return the probe's measurements.

    Parameters
    ----------
    page : path
        An HTML file.
    width, height : int
        Viewport in CSS pixels (below 500 px the page is measured in an iframe of that width).
    screenshot : path, optional
        Also write a PNG screenshot of the viewport there.
    budget_ms : int
        Virtual time allowed for loading (scripts such as MathJax run within it).

    Returns
    -------
    dict
        ``width``, ``scrollWidth``, ``wide`` (elements beyond the viewport), ``images``
        (loaded, alt text), ``headings`` (levels in document order), ``markdown`` (text nodes
        with literal Markdown markers), ``conclusionFirst``, ``resources`` (URLs requested
        outside the page), ``math`` / ``rawMath`` (rendered MathJax formulas / raw TeX
        delimiters left in the text) and ``boxes`` (page coordinates of landmark elements).
    """
    if CHROMIUM is None:
        raise FileNotFoundError("no Chromium found: install it (Debian: apt-get install -y chromium).")
    page = Path(page)
    probed = page.with_name(page.stem + f".probe{width}.html")
    text = page.read_text(encoding="utf-8")
    probed.write_text(text.replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
    # Headless Chromium's window is at least 500 px wide: narrower (phone) widths are measured
    # in an iframe of exactly that width, whose media queries and layout use its own width.
    frame = page.with_name(page.stem + f".frame{width}.html")
    target = probed
    if width < 500:
        frame.write_text(f'<!DOCTYPE html><html><body style="margin:0"><iframe src="{probed.name}" '
                         f'style="width:{width}px;height:{height}px;border:0"></iframe></body></html>',
                         encoding="utf-8")
        target = frame
    profile = tempfile.mkdtemp(prefix="utv-chromium-")
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", "--allow-file-access-from-files",
            "--disable-web-security", f"--user-data-dir={profile}",
            f"--window-size={max(width, 500)},{height}", f"--virtual-time-budget={budget_ms}"]
    try:
        done = subprocess.run([*args, "--dump-dom", target.as_uri()], capture_output=True, text=True,
                              timeout=180)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            shown = page
            if width < 500:
                frame.write_text(frame.read_text(encoding="utf-8").replace(probed.name, page.name),
                                 encoding="utf-8")
                shown = frame
            subprocess.run([*args, f"--screenshot={screenshot}", shown.as_uri()], capture_output=True,
                           timeout=180)
    finally:
        probed.unlink(missing_ok=True)
        frame.unlink(missing_ok=True)
        shutil.rmtree(profile, ignore_errors=True)
    match = re.search(r'<pre id="utv-probe">(.*?)</pre>', done.stdout, flags=re.S)
    if match is None:
        raise RuntimeError(f"the probe did not report for {page} (chromium exit {done.returncode}): "
                           f"{done.stderr[-2000:]}")
    return json.loads(html.unescape(match.group(1)))


def headings_in_order(levels: list[int]) -> bool:
    """One h1 first, and no level skipped on the way down (h2 → h4)."""
    return bool(levels) and levels[0] == 1 and levels.count(1) == 1 and all(
        b <= a + 1 for a, b in itertools.pairwise(levels))
