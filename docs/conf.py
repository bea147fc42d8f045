"""Sphinx configuration for utvardering (builds offline, warnings are errors)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("UTV_DOCS_BUILD", "1")

import utvardering

project = "utvardering"
author = "utvardering developers"
copyright = "2026, utvardering developers"
release = utvardering.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax 3 served from _static/mathjax: formulas render without internet (issue 16)
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "runblock",
    "vocabulary",
]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Offline build: never fetch inventories.
intersphinx_mapping: dict = {}

autosummary_generate = False
autodoc_typehints = "none"
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set = set()

plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 90)]
plot_rcparams = {"figure.figsize": (8, 4.5)}

html_theme = "furo"
html_title = "utvardering"
html_static_path: list = []
suppress_warnings = ["myst.header"]


def _ensure_analysis_reports() -> None:
    """Run the three Malmö analyses with ``--quick`` if their reports are not there yet.

    The Analyses pages include each run's ``report.md``; ``.ci/run`` produces them with
    ``utvardering run all --quick --out docs/_generated`` before building, and a standalone
    ``sphinx-build`` runs them here.
    """
    from utvardering.report import list_analyses, run_analysis

    generated = Path(__file__).parent / "_generated"
    for name in list_analyses():
        if not (generated / name / "report.md").exists():
            run_analysis(name, quick=True, quiet=True, out=generated / name)


_ensure_analysis_reports()
exclude_patterns.append("_generated")
