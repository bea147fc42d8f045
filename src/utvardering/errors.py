"""Exceptions raised by utvardering.

Both are subclasses of :class:`ValueError`, so code that already catches
``ValueError`` keeps working. Every message says *what* is wrong, *where*
(column, unit, period or row) and *how to fix it*.
"""

from __future__ import annotations

__all__ = ["DataError", "DesignError", "UtvarderingWarning"]


class DataError(ValueError):
    """The data do not satisfy a data contract (column, type, duplicates, gaps, ...)."""


class DesignError(ValueError):
    """The study design cannot be estimated as specified (treated unit, start date, donors, ...)."""


class UtvarderingWarning(UserWarning):
    """A result can be computed but should be read with care (few clusters, poor fit, ...)."""
