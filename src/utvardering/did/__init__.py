"""Difference-in-differences family: 2×2, TWFE, event studies, counts, surveys, staggered adoption.

Importing the package registers every estimator with :mod:`utvardering.estimators`.
``import utvardering.did as d`` gives this package (``d.twfe``, ``d.diff_in_diff``, ...).
The 2×2 estimator is :func:`diff_in_diff`; calling the package itself, ``utvardering.did(...)``,
still runs it for one release, with a :class:`DeprecationWarning`.
"""

import sys as _sys
import types as _types

from .bacon import bacon_decomposition
from .basic import diff_in_diff
from .displacement import weighted_displacement_quotient
from .poisson import poisson_did
from .result import DiDEffect, PoissonDiDEffect, SurveyDiDEffect
from .staggered import (
    EventStudyEffect,
    StaggeredEffect,
    callaway_santanna,
    imputation_did,
    sun_abraham,
)
from .survey import survey_did
from .twfe import event_study, twfe

__all__ = [
    "DiDEffect",
    "EventStudyEffect",
    "PoissonDiDEffect",
    "StaggeredEffect",
    "SurveyDiDEffect",
    "bacon_decomposition",
    "callaway_santanna",
    "diff_in_diff",
    "event_study",
    "imputation_did",
    "poisson_did",
    "sun_abraham",
    "survey_did",
    "twfe",
    "weighted_displacement_quotient",
]


class _CallableModule(_types.ModuleType):
    """The DiD package, callable as the 2×2 estimator it was named after until this release."""

    def __call__(self, *args, **kwargs):
        from ..errors import warn

        warn("utvardering.did(...) is renamed utvardering.diff_in_diff(...); utvardering.did is "
             "the difference-in-differences package. The old call works until the next release.",
             DeprecationWarning)
        return diff_in_diff(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
