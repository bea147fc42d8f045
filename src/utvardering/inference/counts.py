"""Events prevented: an effect on a count outcome, expressed in events.

For a count outcome (shootings, burglaries) the effect a reader wants is the number of events
the intervention prevented over the post-period: the counterfactual events minus the
observed events,

.. math:: P = \\sum_{t \\in \\mathrm{post}} \\big(\\hat y_t(0) - y_t\\big) = -\\Delta,
          \\qquad \\Delta = \\sum_{t \\in \\mathrm{post}} \\tau_t,

with :math:`\\tau_t = y_t - \\hat y_t(0)` the effect in events (positive :math:`P`: fewer
events than expected). This module is the one place that conversion lives; every family
(DiD, synthetic control, time series) calls it, whichever form its effect comes in:

:func:`events_difference`
    An effect path (outcome units or rates per ``per`` of an exposure) summed into
    :math:`\\Delta`.
:func:`events_prevented`
    :math:`\\Delta`, the effect's estimate and interval, and the observed events into
    :math:`P`, its interval and the rate ratio (synthetic control, synthetic DiD).
:func:`events_prevented_draws`
    Posterior draws of the counterfactual events into :math:`P` and a quantile interval
    (Bayesian synthetic control, CausalImpact for counts).
:func:`events_prevented_rate_ratio`
    A log rate ratio and its interval into :math:`P` (Poisson DiD).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EventsPrevented", "events_difference", "events_prevented", "events_prevented_draws",
           "events_prevented_rate_ratio"]


@dataclass(frozen=True)
class EventsPrevented:
    """Events prevented over the post-period, with the rate ratio they imply.

    Attributes
    ----------
    difference : float
        :math:`\\Delta`, observed − counterfactual events (negative: events prevented).
    prevented : float
        :math:`P = -\\Delta`.
    interval : tuple of float or None
        Interval for ``prevented`` (None when the effect has no finite interval).
    rate_ratio : float or None
        Observed over counterfactual events, :math:`O / (O - \\Delta)` (None without the
        observed events or with no positive counterfactual).
    rate_ratio_interval : tuple of float or None
        The interval of ``rate_ratio`` implied by ``interval``.
    """

    difference: float
    prevented: float
    interval: tuple[float, float] | None = None
    rate_ratio: float | None = None
    rate_ratio_interval: tuple[float, float] | None = None


def events_difference(effect, exposure=None, per: float = 1.0) -> float:
    """Observed − counterfactual events, :math:`\\Delta`, from an effect path.

    .. math:: \\Delta = \\sum_t \\tau_t \\qquad\\text{or, for rates,}\\qquad
              \\Delta = \\sum_t \\tau_t E_t / \\mathrm{per},

    with :math:`\\tau_t` the effect in period t (events, or a rate per ``per`` of the
    exposure :math:`E_t`).

    Parameters
    ----------
    effect : array-like
        The effect in each post-period.
    exposure : array-like, optional
        The exposure (population) in the same periods, when ``effect`` is a rate; for several
        treated units, their summed exposure.
    per : float, default 1
        Rate base of ``effect`` (e.g. 100,000); ignored without ``exposure``.

    Returns
    -------
    float
    """
    effect = np.asarray(effect, dtype=float)
    if exposure is None:
        return float(effect.sum())
    return float((effect * (np.asarray(exposure, dtype=float) / per)).sum())


def events_prevented(difference: float, *, estimate: float | None = None,
                     interval: tuple[float, float] | None = None,
                     observed: float | None = None) -> EventsPrevented:
    """Events prevented, its interval and the rate ratio, from the events difference.

    The effect's interval is converted with the factor that turns its estimate into events,
    :math:`f = \\Delta / \\hat\\tau` (the estimate is an average over post-periods, the
    events a sum weighted by exposure: the same scaling holds for every value of a constant
    effect):

    .. math:: P = -\\Delta, \\qquad [P_{lo}, P_{hi}] = [-f\\,\\tau_{hi}, -f\\,\\tau_{lo}]
              \\ (\\text{sorted}), \\qquad
              \\mathrm{RR} = \\frac{O}{O - \\Delta}, \\qquad
              [\\mathrm{RR}_{lo}, \\mathrm{RR}_{hi}] =
              \\Big[\\frac{O}{O + P_{hi}}, \\frac{O}{O + P_{lo}}\\Big],

    with :math:`O` the observed events.

    Parameters
    ----------
    difference : float
        :math:`\\Delta` (:func:`events_difference`).
    estimate : float, optional
        The effect's estimate :math:`\\hat\\tau`, on its own scale.
    interval : tuple of float, optional
        The effect's interval :math:`(\\tau_{lo}, \\tau_{hi})`; with ``estimate`` (non-zero)
        it gives the events interval.
    observed : float, optional
        Observed events :math:`O` over the post-period; gives the rate ratio.

    Returns
    -------
    EventsPrevented

    Examples
    --------
    >>> p = events_prevented(-20.0, estimate=-2.0, interval=(-3.0, -1.0), observed=80.0)
    >>> p.prevented, p.interval, p.rate_ratio
    (20.0, (10.0, 30.0), 0.8)
    """
    difference = float(difference)
    lo = hi = None
    span = None
    if (estimate is not None and interval is not None and estimate != 0
            and np.all(np.isfinite(interval))):
        factor = difference / estimate
        lo, hi = sorted((interval[0] * factor, interval[1] * factor))
        span = (-hi, -lo)
    ratio = ratio_span = None
    if observed is not None and observed - difference > 0:
        ratio = float(observed / (observed - difference))
        if lo is not None and observed - hi > 0 and observed - lo > 0:
            ratio_span = (float(observed / (observed - lo)), float(observed / (observed - hi)))
    return EventsPrevented(difference=difference, prevented=-difference, interval=span,
                           rate_ratio=ratio, rate_ratio_interval=ratio_span)


def events_prevented_draws(counterfactual, observed, level: float, *,
                           expected=None) -> tuple[float, tuple[float, float]]:
    """Events prevented from posterior draws of the counterfactual events.

    For draw d, :math:`P^{(d)} = \\sum_t \\hat y^{(d)}_t(0) - \\sum_t y_t`; the estimate
    is the posterior mean of :math:`P` and the interval its equal-tailed ``level``
    quantiles.

    Parameters
    ----------
    counterfactual : array-like
        Draws × post-periods: predictive draws of the counterfactual events.
    observed : array-like
        The observed events in the post-periods.
    level : float
        Credible level of the interval.
    expected : array-like, optional
        Draws × post-periods of the counterfactual's *expectation*; when given the estimate
        is its posterior mean minus the observed events (CausalImpact), the interval still
        comes from ``counterfactual``.

    Returns
    -------
    estimate : float
    interval : tuple of float
    """
    counterfactual = np.asarray(counterfactual, dtype=float)
    observed = np.asarray(observed, dtype=float)
    total = observed.sum()
    prevented = counterfactual.sum(axis=1) - total
    if expected is None:
        estimate = float(prevented.mean())
    else:
        estimate = float(np.asarray(expected, dtype=float).sum(axis=1).mean() - total)
    a = (1 - level) / 2
    low, high = np.quantile(prevented, [a, 1 - a]).tolist()
    return estimate, (float(low), float(high))


def events_prevented_rate_ratio(expected: float, log_ratio: float,
                                interval: tuple[float, float]) -> tuple[float, tuple[float, float]]:
    """Events prevented from a log rate ratio (Poisson models).

    With :math:`E` the fitted events of the treated in the post-period and
    :math:`\\beta` the log rate ratio, the counterfactual events are :math:`E e^{-\\beta}`, so

    .. math:: P = E\\,(e^{-\\beta} - 1), \\qquad [P_{lo}, P_{hi}] =
              [E\\,(e^{-\\beta_{hi}} - 1),\\ E\\,(e^{-\\beta_{lo}} - 1)].

    Parameters
    ----------
    expected : float
        Fitted (model-expected) events :math:`E` of the treated units over the post-period.
    log_ratio : float
        :math:`\\beta`.
    interval : tuple of float
        Interval :math:`(\\beta_{lo}, \\beta_{hi})`.

    Returns
    -------
    estimate : float
    interval : tuple of float
    """
    lo, hi = interval
    return (expected * float(np.expm1(-log_ratio)),
            (expected * float(np.expm1(-hi)), expected * float(np.expm1(-lo))))
