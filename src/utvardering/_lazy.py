"""PEP 562 re-exports for the package ``__init__``s: a public name is imported from the module
that defines it the first time it is used, so importing a package stays cheap.

A lazily exported name must never equal a submodule's name: importing that submodule (from
anywhere) binds it as an attribute of the package, which then hides the name.
``tests/test_public_surface.py`` checks this for every package of the public surface.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, importing ``names[name]`` on first use.

    ``names`` maps a public name to the module defining it, relative to ``package``
    (``{"bottom_line": ".conclusion"}``).
    """

    def __getattr__(name: str) -> Any:
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name, package), name)
        setattr(sys.modules[package], name, value)  # cache: later look-ups are plain reads
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
