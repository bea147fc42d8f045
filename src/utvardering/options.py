"""One vocabulary for estimator options, and one validator.

Every estimator in the library spells the same idea the same way:

=================  ==========================================================================
argument           meaning
=================  ==========================================================================
``study``          the first argument: a :class:`~utvardering.Study` (or a DataFrame plus the
                   Study keywords, e.g. ``treatment=``, coerced once by
                   :func:`~utvardering.Study.coerce`); the design is given only through it
``inference``      how the interval and p-value are made (``"cluster"``, ``"wild"``,
                   ``"randomization"``, ``"conformal"``, ``"placebo"``, ``"bootstrap"``,
                   ``"jackknife"``, ``"posterior"``, ``"hac"``, ``None`` for none)
``vcov``           the variance formula when the interval is analytic (``"CR1"``, ``"HC1"``...)
``n_draws``        the number of resamples, permutations, placebos or bootstrap replications
``level``          the interval's coverage, e.g. ``0.95``
``random_state``   seed (int, ``numpy.random.Generator`` or ``None``)
``rate``, ``per``  model the outcome as a rate per ``per`` of the Study's exposure
``control_group``  who the comparison is: ``"never_treated"`` or ``"not_yet_treated"``
``likelihood``     the outcome distribution: ``"gaussian"``, ``"poisson"``, ``"negative_binomial"``
``weights``        a data column of regression/survey weights (never a prior family)
=================  ==========================================================================

:func:`check_option` validates a value against a ``Literal`` alias *before* any fitting, and
:func:`renamed` maps an old keyword to its new name with a :class:`DeprecationWarning` (kept for
one release).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

from .errors import DesignError, warn

__all__ = [
    "ControlGroup",
    "Likelihood",
    "check_level",
    "check_option",
    "check_probability",
    "deprecated_name",
    "renamed",
    "renamed_arguments",
]

Likelihood = Literal["gaussian", "poisson", "negative_binomial"]
ControlGroup = Literal["never_treated", "not_yet_treated"]


def check_option(name: str, value: Any, allowed: Any) -> None:
    """Raise :class:`~utvardering.DesignError` unless ``value`` is one of ``allowed``.

    Parameters
    ----------
    name : str
        The argument's name, quoted in the message.
    value : object
        The value given by the caller.
    allowed : typing.Literal alias, or an iterable of values
        The accepted values.

    Raises
    ------
    DesignError
        Naming the argument, the value and every accepted choice.
    """
    choices = get_args(allowed) or tuple(allowed)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise DesignError(f"{name}={value!r} is not an option; choose one of {listed}.")


def check_probability(name: str, value: float, example: str = "0.95") -> float:
    """Return ``value`` as a float if it lies strictly between 0 and 1, else raise DesignError.

    Parameters
    ----------
    name : str
        The argument's name, shown in the error (``level``, ``power``, ``fdr``, ...).
    value : float
        The value given by the caller.
    example : str, default "0.95"
        A typical value, shown in the error.

    Raises
    ------
    DesignError
        Naming the argument and the value when it is not a number in :math:`(0, 1)`.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DesignError(f"{name}={value!r} must be a number between 0 and 1, e.g. {example}.") from None
    if not 0.0 < number < 1.0:
        raise DesignError(f"{name}={value!r} must lie strictly between 0 and 1, e.g. {example}.")
    return number


def check_level(level: float) -> float:
    """Return ``level`` as a float if it lies strictly between 0 and 1, else raise DesignError."""
    return check_probability("level", level, "0.95")


def deprecated_name(what: str, old: str, new: str) -> str:
    """Return ``new`` for a value spelt by its old name, with a :class:`DeprecationWarning`.

    For names that are values rather than keywords (e.g. the registry name ``"did"`` of
    :func:`~utvardering.did.basic.diff_in_diff`, now ``"diff_in_diff"``); kept for one release.

    Parameters
    ----------
    what : str
        What the name names (``"estimator"``), quoted in the warning.
    old, new : str
        The old and the current name.

    Returns
    -------
    str
        ``new``.
    """
    warn(f"{what} {old!r} is renamed {new!r}; the old name is accepted until the next release.",
         DeprecationWarning)
    return new


def renamed(options: dict[str, Any], old_to_new: Mapping[str, str], where: str) -> dict[str, Any]:
    """Move deprecated keyword names in ``options`` to their new names, warning once each.

    Parameters
    ----------
    options : dict
        The caller's keyword arguments (modified copy returned).
    old_to_new : mapping
        ``{"old_name": "new_name"}``.
    where : str
        The function's public name, quoted in the warning.

    Returns
    -------
    dict
        ``options`` with every old name replaced by its new one.

    Raises
    ------
    DesignError
        If both the old and the new name are given.
    """
    out = dict(options)
    for old, new in old_to_new.items():
        if old in out:
            if new in out:
                raise DesignError(f"{where}: give {new}= only ({old}= is its old name).")
            warn(f"{where}: {old}= is renamed {new}=; the old name is accepted until the next "
                 "release.", DeprecationWarning)
            out[new] = out.pop(old)
    return out


def renamed_arguments(**old_to_new: str) -> Callable[[Callable], Callable]:
    """Decorator: accept old keyword names for one release, with a :class:`DeprecationWarning`.

    ``@renamed_arguments(study_or_series="study", family="likelihood")`` lets callers still
    write ``f(study_or_series=df, family="poisson")``. Giving both the old and the new name, or
    the first argument both positionally and under its old name, raises
    :class:`~utvardering.DesignError`.
    """

    def decorate(function: Callable) -> Callable:
        where = function.__name__
        first = next(iter(inspect.signature(function).parameters), None)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            old = [k for k in old_to_new if k in kwargs]
            if old:
                if args and any(old_to_new[k] == first for k in old):
                    raise DesignError(f"{where}: give the data once, as the first argument "
                                      f"({first}=); the old name was given too.")
                kwargs = renamed(kwargs, {k: old_to_new[k] for k in old}, where)
            return function(*args, **kwargs)

        return wrapper

    return decorate
