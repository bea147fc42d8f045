"""List the report strings marked for translation (msgids) and check a catalogue against them.

Usage: ``python scripts/extract_messages.py [LANG]`` prints every msgid used in
``src/utvardering`` (the analyses included) (Babel's extractor, keywords ``_``, ``tr``, ``N_``,
``ngettext``) that the catalogue of LANG (default ``sv``) does not translate. The same check
runs in ``tests/report/test_i18n.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "tr": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def extract(root: Path = ROOT) -> dict[str | tuple[str, str], list[str]]:
    """msgid → files using it, from the Python sources and the Jinja2 templates."""
    from babel.messages.extract import extract_from_dir

    method_map = [("src/utvardering/**.py", "python"),
                  ("src/utvardering/report/templates/**.j2", "jinja2")]
    found: dict = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(root), method_map=method_map, keywords=KEYWORDS):
        if message and not (isinstance(message, tuple) and not all(message)):
            key = message if isinstance(message, str) else tuple(message)
            found.setdefault(key, []).append(filename)
    return found


def missing(lang: str = "sv", root: Path = ROOT) -> list:
    """msgids without a translation in the compiled catalogue of ``lang``."""
    from babel.messages.mofile import read_mo

    path = root / "src" / "utvardering" / "locale" / lang / "LC_MESSAGES" / "utvardering.mo"
    with open(path, "rb") as handle:
        catalogue = read_mo(handle)
    out = []
    for key in extract(root):
        message = catalogue.get(key[0] if isinstance(key, tuple) else key)
        if message is None or not message.string or (isinstance(message.string, tuple)
                                                    and not all(message.string)):
            out.append(key)
    return out


if __name__ == "__main__":
    for key in missing(sys.argv[1] if len(sys.argv) > 1 else "sv"):
        print(repr(key))
