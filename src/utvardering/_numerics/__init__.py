"""Numerics shared by the estimator families and :mod:`utvardering.inference`.

This floor sits below the families: :mod:`utvardering.did`, :mod:`utvardering.synth` and
:mod:`utvardering.inference` import from here, never the other way round.

* :mod:`~utvardering._numerics.fixed_effects` — absorbing fixed effects (weighted alternating
  projections), least squares on the rest, and collinearity checks.
"""
