"""Fail when a module imports a private name (``_x``) from another module of the package.

A private name is one module's own business; importing it elsewhere marks a split made in the
wrong place (make the name public where it is shared, or move the code). Dunder names and
imports within one module's own package ``__init__`` re-exports of public names are fine.

Usage: ``python scripts/check_private_imports.py [src/utvardering]`` — prints each offence as
``file:line: from module import _name`` and exits 1 if there is any.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def private_imports(root: Path) -> list[str]:
    """Every ``from X import _name`` and ``import X._module`` inside ``root``, as text lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                internal = node.level > 0 or module.startswith("utvardering")
                if not internal:
                    continue
                for alias in node.names:
                    name = alias.name
                    if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                        found.append(f"{path}:{node.lineno}: from {'.' * node.level}{module} "
                                     f"import {name}")
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "src" / "utvardering"
    offences = private_imports(root)
    for line in offences:
        print(line)
    print(f"{len(offences)} private-name import(s) across modules")
    return 1 if offences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
