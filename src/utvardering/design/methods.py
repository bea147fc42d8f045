"""Resolving the estimator a design diagnosis runs: a registry name or a callable."""

from __future__ import annotations

import inspect
from collections.abc import Callable

__all__ = ["accepts", "resolve_method"]


def resolve_method(method: str | Callable) -> tuple[str, Callable]:
    """``(name, function)`` for a registered estimator's name or an estimator function."""
    if callable(method):
        return getattr(method, "__name__", "estimator"), method
    from ..estimators import get_estimator

    return method, get_estimator(method).function


def accepts(function: Callable, name: str) -> bool:
    """Whether ``function`` has a parameter called ``name`` (so it may be passed)."""
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in params
