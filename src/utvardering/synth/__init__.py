"""Synthetic control family: ADH, augmented, penalized, synthetic DiD and Bayesian SC.

Importing the package registers every estimator with :mod:`utvardering.estimators`.
"""

from .adh import pre_period_means, synthetic_control
from .augmented import AugmentedSynthEffect, augmented_synthetic_control
from .bayesian import BayesianSynthEffect, bayesian_synthetic_control
from .penalized import penalized_synthetic_control
from .result import SynthEffect
from .robustness import ConformalResult, LeaveOneOutResult, PlaceboResult
from .sdid import SyntheticDiDEffect, synthetic_did

__all__ = [
    "AugmentedSynthEffect",
    "BayesianSynthEffect",
    "ConformalResult",
    "LeaveOneOutResult",
    "PlaceboResult",
    "SynthEffect",
    "SyntheticDiDEffect",
    "augmented_synthetic_control",
    "bayesian_synthetic_control",
    "penalized_synthetic_control",
    "pre_period_means",
    "synthetic_control",
    "synthetic_did",
]
