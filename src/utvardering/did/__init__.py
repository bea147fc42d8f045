"""Difference-in-differences family: 2×2, TWFE, event studies, counts, surveys, staggered adoption.

Importing the package registers every estimator with :mod:`utvardering.estimators`.
"""

from .bacon import bacon_decomposition
from .basic import did
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
    "did",
    "event_study",
    "imputation_did",
    "poisson_did",
    "sun_abraham",
    "survey_did",
    "twfe",
    "weighted_displacement_quotient",
]
