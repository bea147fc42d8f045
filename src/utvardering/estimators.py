"""The estimator registry: one list of methods for the Python API, the command line and the docs.

Estimators register themselves with :func:`register_estimator` under their public name.
A registered estimator is a function ``f(study, **options) -> Effect``; the command line
(``utvardering estimate METHOD ...``) builds the :class:`~utvardering.Study` from its
arguments, passes ``--set key=value`` options through, and prints the Effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .errors import DesignError
from .options import deprecated_name

__all__ = ["FAMILIES", "EstimatorInfo", "get_estimator", "list_estimators", "load_families",
           "register_estimator"]


@dataclass(frozen=True)
class EstimatorInfo:
    """A registered estimator: its public ``name``, method ``family`` and one-line ``summary``.

    ``design`` builds the estimator's first argument from a DataFrame and the Study keywords
    (``None``: :class:`~utvardering.Study` itself); e.g. ``survey_did`` takes respondent
    micro-data, which is not a panel Study.
    """

    name: str
    family: str
    summary: str
    function: Callable
    design: Callable | None = None


_REGISTRY: dict[str, EstimatorInfo] = {}
#: Deprecated registry names → current names (accepted with a DeprecationWarning).
_ALIASES: dict[str, str] = {}


def register_estimator(name: str, *, family: str, summary: str,
                       design: Callable | None = None,
                       deprecated_names: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Decorator registering ``f(study, **options) -> Effect`` under ``name``.

    Parameters
    ----------
    name : str
        Public name, the same as the function's (e.g. ``"synthetic_control"``).
    family : str
        ``"did"``, ``"synth"`` or ``"timeseries"``.
    summary : str
        One line for listings.
    design : callable, optional
        ``design(frame, **study_keywords)`` building the first argument when it is not a
        :class:`~utvardering.Study` (default: the Study).
    deprecated_names : tuple of str
        Old registry names still looked up (with a :class:`DeprecationWarning`) for one
        release; they are not listed by :func:`list_estimators`.
    """

    def decorate(function: Callable) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].function is not function:
            raise ValueError(f"estimator {name!r} is registered twice.")
        _REGISTRY[name] = EstimatorInfo(name, family, summary, function, design)
        for old in deprecated_names:
            _ALIASES[old] = name
        return function

    return decorate


#: The packages whose import registers the library's estimators.
FAMILIES = ("utvardering.did", "utvardering.synth", "utvardering.timeseries")


def load_families() -> None:
    """Import the three method families so that their estimators are registered.

    ``import utvardering`` is lazy (it imports a family only when one of its names is used), so
    the registry fills on demand; every look-up goes through here first.
    """
    import importlib

    for family in FAMILIES:
        importlib.import_module(family)


def get_estimator(name: str) -> EstimatorInfo:
    """Look up a registered estimator; the error lists the registered names.

    A deprecated name (e.g. ``"did"`` for ``"diff_in_diff"``) gives the estimator under its
    current name, with a :class:`DeprecationWarning`.
    """
    if name not in _REGISTRY:
        load_families()
    if name not in _REGISTRY and name in _ALIASES:
        name = deprecated_name("estimator", name, _ALIASES[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none yet"
        raise DesignError(f"no estimator named {name!r}; registered estimators: {known}.") from None


def list_estimators() -> pd.DataFrame:
    """Table of registered estimators: ``name``, ``family``, ``summary``."""
    load_families()
    rows = [{"name": i.name, "family": i.family, "summary": i.summary}
            for i in sorted(_REGISTRY.values(), key=lambda i: (i.family, i.name))]
    return pd.DataFrame(rows, columns=["name", "family", "summary"])
