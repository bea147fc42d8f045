"""Numerics shared by the estimator families and :mod:`utvardering.inference`.

This floor sits below the families: :mod:`utvardering.did`, :mod:`utvardering.synth` and
:mod:`utvardering.inference` import from here, never the other way round, and nothing here
imports a family (did/, synth/, timeseries/) or inference/.

* :mod:`~utvardering._numerics.fixed_effects` — absorbing fixed effects (weighted alternating
  projections), least squares on the rest, and collinearity checks.
* :mod:`~utvardering._numerics.simplex` — the simplex-constrained least-squares solvers
  (synthetic-control weights, Frank–Wolfe for synthetic DiD).
"""
