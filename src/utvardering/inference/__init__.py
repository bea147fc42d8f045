"""Shared inference: cluster-robust variance, wild cluster bootstrap, randomization inference,
conformal inference for synthetic control, HonestDiD sensitivity, and Bayesian sampling helpers.
"""

from .cluster import cluster_vcov, few_cluster_warnings, wald_test
from .honest_did import HonestEffect, honest_did
from .randomization import RandomizationResult, conley_taber_interval, permutation_test
from .wild_bootstrap import WildBootstrapResult, bootstrap_weights, wild_cluster_bootstrap

__all__ = [
    "HonestEffect",
    "RandomizationResult",
    "WildBootstrapResult",
    "bootstrap_weights",
    "cluster_vcov",
    "conley_taber_interval",
    "few_cluster_warnings",
    "honest_did",
    "permutation_test",
    "wald_test",
    "wild_cluster_bootstrap",
]
