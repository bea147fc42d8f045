"""The one switch between full and small draws for the slow tests (``UTV_TEST_FAST``).

``UTV_TEST_FAST=1`` (what CI runs: ``UTV_TEST_FAST=1 python -m pytest -m slow -n 2``) asks the
slow MCMC and repeated-draw tests for few draws and correspondingly wider bounds, so that they
fit CI's time budget; unset (or ``0``) they run at the full draws their docstrings justify
(``make release-check``). Any other value is an error rather than a silent full run.

Test modules ``import budget`` and write ``budget.draws(full=200, fast=20)`` (a count) or
``budget.choose(full=(0.90, 0.99), fast=(0.80, 1.0))`` (a bound, a band, a tuple): pytest's
``pythonpath = ["tests"]`` option puts this folder on ``sys.path`` in the main process and in
every xdist worker (``--import-mode=importlib`` keeps ``conftest`` itself unimportable), and the
file is not collected (its name does not start with ``test_``). ``tests/conftest.py`` offers
the same module as the ``budget`` fixture and prints the mode in pytest's header.
"""

from __future__ import annotations

import os
from typing import TypeVar

__all__ = ["FAST", "choose", "draws"]

T = TypeVar("T")

_VALUE = os.environ.get("UTV_TEST_FAST", "0")
if _VALUE not in ("", "0", "1"):
    raise RuntimeError(f"UTV_TEST_FAST must be 0 or 1 (or unset), not {_VALUE!r}")

#: True when the slow tests should run with small draws / few replications (CI).
FAST: bool = _VALUE == "1"


def draws(*, full: int, fast: int) -> int:
    """A count of draws, seeds or replications: ``fast`` under ``UTV_TEST_FAST=1``, else ``full``."""
    for name, value in (("full", full), ("fast", fast)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TypeError(f"draws({name}=...) must be a positive int, not {value!r}")
    if fast > full:
        raise ValueError(f"draws(full={full}, fast={fast}): the fast count exceeds the full one")
    return fast if FAST else full


def choose(*, full: T, fast: T) -> T:
    """Any other setting that differs between the modes (a bound, a band, a tuple of settings)."""
    return fast if FAST else full
