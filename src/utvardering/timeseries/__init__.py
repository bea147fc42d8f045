"""Bayesian structural time series (CausalImpact: Gibbs sampling for Gaussian data, PyMC/NUTS
for count likelihoods) and interrupted time series.

Public names: :func:`causal_impact` (returns a :class:`BSTSEffect`),
:func:`interrupted_time_series`, :func:`placebo_in_time`.
"""

from .causal_impact import causal_impact
from .its import interrupted_time_series
from .placebo import placebo_in_time
from .result import BSTSEffect

__all__ = ["BSTSEffect", "causal_impact", "interrupted_time_series", "placebo_in_time"]
