"""Shared numerical kernels below the estimator families (simplex solvers, fixed effects).

Nothing here imports a family (did/, synth/, timeseries/) or inference/.
"""
