"""Old keyword names of the synth estimators, accepted for one release.

The synth family speaks the library's one vocabulary (:mod:`utvardering.options`):
``rate=`` (was ``rates=``), ``inference=`` (was ``se=``), ``n_draws=`` (was
``replications=`` and ``n_permutations=``), ``penalty=`` (was ``lambda_=``) and
``prior_weights=`` (was ``weights=`` for the Bayesian prior family). :func:`take_renamed`
moves an old name found in a function's ``**kwargs`` to its new argument with a
:class:`DeprecationWarning` (through :func:`utvardering.options.renamed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import DesignError
from ..options import renamed

__all__ = ["take_renamed"]

_UNSET = object()


def take_renamed(kwargs: dict[str, Any], old_to_new: Mapping[str, str], where: str,
                 current: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Pop deprecated names from ``kwargs`` (in place) and return ``current`` updated.

    Parameters
    ----------
    kwargs : dict
        The caller's extra keywords (old names are removed from it).
    old_to_new : mapping
        ``{"old": "new"}``.
    where : str
        The function's public name, for the messages.
    current : dict
        The values of the new arguments as the function received them.
    defaults : mapping
        Their defaults: an old name may only be combined with a new argument left at its
        default.

    Returns
    -------
    dict
        ``current`` with the old names' values moved in.

    Raises
    ------
    DesignError
        If an old name and its new name are both given.
    """
    old = {k: kwargs.pop(k) for k in list(kwargs) if k in old_to_new}
    if not old:
        return current
    moved = renamed(old, old_to_new, where)
    out = dict(current)
    for new, value in moved.items():
        given = out.get(new, _UNSET)
        default = defaults.get(new, _UNSET)
        if given is not default and not (given is None and default is None):
            try:
                same = bool(given == default)
            except (TypeError, ValueError):
                same = False
            if not same:
                old_name = next(k for k, v in old_to_new.items() if v == new)
                raise DesignError(f"{where}: give {new}= only ({old_name}= is its old name).")
        out[new] = value
    return out
