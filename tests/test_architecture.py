"""The architecture's rules, checked on every test run (architecture review, items 6–7).

* import-linter contracts in ``pyproject.toml``: the method families never import each other,
  ``inference/`` and the numerics floor never import a family, estimators never import the
  report layer or the command line, and the data layer never imports an estimator.
* no private name (``_x``) is imported across modules (``scripts/check_private_imports.py``).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None,
                    reason="import-linter is in the test extra")
def test_import_contracts_hold():
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_private_name_is_imported_across_modules():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_private_imports.py"),
                             str(ROOT / "src" / "utvardering")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
