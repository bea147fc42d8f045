"""Exceptions and warnings raised by utvardering.

Both exceptions are subclasses of :class:`ValueError`, so code that already catches
``ValueError`` keeps working. Every message says *what* is wrong, *where*
(column, unit, period or row) and *how to fix it*.

Warnings form one hierarchy under :class:`UtvarderingWarning`, one subclass per kind, so a
user can filter one kind (``warnings.simplefilter("ignore", utv.ConvergenceWarning)``) and a
report can group them. Emit them with :func:`warn`, which attributes the warning to the
first frame outside the library (the user's call site), not to a library line.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "DesignError",
    "DesignWarning",
    "InferenceWarning",
    "UtvarderingWarning",
    "warn",
]


class DataError(ValueError):
    """The data do not satisfy a data contract (column, type, duplicates, gaps, ...)."""


class DesignError(ValueError):
    """The study design cannot be estimated as specified (treated unit, start date, donors, ...)."""


class UtvarderingWarning(UserWarning):
    """A result can be computed but should be read with care (the base of all library warnings)."""


class ConvergenceWarning(UtvarderingWarning):
    """An optimiser or sampler did not converge (MCMC R-hat/ESS, iteration limits, local optima)."""


class DesignWarning(UtvarderingWarning):
    """The design is weak for the question (poor pre-fit, pre-trends, overlapping programmes,
    weights not identified, extrapolation outside the donors' range).
    """


class InferenceWarning(UtvarderingWarning):
    """An interval or p-value may be invalid or coarse (few clusters, one treated unit, too few
    placebos for the level, unbounded intervals).
    """


class DataWarning(UtvarderingWarning):
    """The data were used as given but something in them deserves a look (deprecated argument
    names, small cells, conflicting vintages, suppressed values).
    """


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _caller_stacklevel() -> int:
    """Stack level of the first frame outside the ``utvardering`` package, for ``warnings.warn``."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR + os.sep):
            return level
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning] = UtvarderingWarning) -> None:
    """Issue ``message`` as ``category``, attributed to the user's call site.

    Parameters
    ----------
    message : str
        What should be read with care, where, and what to do about it.
    category : type of Warning, default :class:`UtvarderingWarning`
        One of the subclasses above (``DeprecationWarning`` is allowed for renamed arguments).
    """
    # _caller_stacklevel counts from its own caller (this function) = level 1.
    warnings.warn(message, category, stacklevel=_caller_stacklevel())
