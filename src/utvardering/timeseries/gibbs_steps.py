r"""The conditional draws shared by the Gaussian and the count Gibbs samplers.

:mod:`.gibbs` (Gaussian) and :mod:`.gibbs_counts` (negative binomial by Pólya-Gamma
augmentation) run the same sweep around different observation models: the prior variances
of the coefficients (spike-and-slab or horseshoe), Metropolis steps on the log trend variances
and on the horseshoe's global scale with the states or coefficients integrated out, and the
conjugate inverse-gamma draws. They live here once, as numba kernels.
"""

# numba's nopython mode draws from its own seeded legacy-style generator (seed_numba).
# ruff: noqa: NPY002

from __future__ import annotations

import numpy as np
from numba import njit

from .gibbs_linalg import log_marginal
from .kalman import loglik

__all__ = ["HORSESHOE", "MIXTURE", "SLAB", "hyper_vector", "inv_gamma", "log_post_var",
           "mh_tau", "mh_var", "prior_var", "trend_variance_draws"]

SLAB, MIXTURE, HORSESHOE = 0, 1, 2
_HYPER = ("level_alpha", "level_beta", "obs_alpha", "obs_beta", "init_mean", "init_sd",
          "slab_scale", "spike_sd", "incl_prob", "season_sd", "tau0")


def hyper_vector(data: dict, n: int, trend: str) -> np.ndarray:
    """Hyper-parameters in the order the kernel reads them (+ the initial-slope variance)."""
    h = [float(data[name]) for name in _HYPER]
    slope_var = (float(data["init_sd"]) / n) ** 2 if trend == "local_linear_trend" else 0.0
    return np.array([*h, slope_var])


@njit(cache=True)
def inv_gamma(shape, rate):
    """One draw from the inverse-gamma distribution IG(shape, rate)."""
    return rate / np.random.gamma(shape, 1.0)


@njit(cache=True)
def trend_variance_draws(level, slope, llt, a, b, q2):
    """Conjugate inverse-gamma draws of the level (and slope) innovation variances.

    With prior :math:`\\sigma^2 \\sim IG(a, b)` and the sampled states, the draw is
    :math:`IG(a + (n-1)/2,\\; b + \\tfrac12\\sum_t d_t^2)` with :math:`d_t` the level (or slope)
    innovations. ``q2`` is returned unchanged for a local level (``llt`` false).
    """
    n = level.shape[0]
    sq1, sq2 = 0.0, 0.0
    for t in range(n - 1):
        d = level[t + 1] - level[t] - (slope[t] if llt else 0.0)
        sq1 += d * d
        if llt:
            d = slope[t + 1] - slope[t]
            sq2 += d * d
    q1 = inv_gamma(a + 0.5 * (n - 1), b + 0.5 * sq1)
    if llt:
        q2 = inv_gamma(a + 0.5 * (n - 1), b + 0.5 * sq2)
    return q1, q2


@njit(cache=True)
def log_post_var(q, r, llt, which, s2, q1, q2, hy):
    """Log p(q | r, rest) + log q for a trend variance q (``which`` 1: level, 2: slope)."""
    if which == 1:
        ll = loglik(r, llt, s2, q, q2, hy[4], hy[5] ** 2, hy[11])
    else:
        ll = loglik(r, llt, s2, q1, q, hy[4], hy[5] ** 2, hy[11])
    return ll - hy[0] * np.log(q) - hy[1] / q  # Inv-Gamma prior on q, Jacobian of log q


@njit(cache=True)
def mh_var(q, step, r, llt, which, s2, q1, q2, hy):
    """Random-walk Metropolis on log q with the states integrated out; returns (q, accepted)."""
    prop = q * np.exp(step * np.random.standard_normal())
    old = log_post_var(q, r, llt, which, s2, q1, q2, hy)
    new = log_post_var(prop, r, llt, which, s2, q1, q2, hy)
    if np.log(np.random.random()) < new - old:
        return prop, 1.0
    return q, 0.0


@njit(cache=True)
def mh_tau(tau2, step, A, b, v, k, tau0, P, L, u):
    """Metropolis on log tau^2 with the coefficients integrated out (horseshoe).

    Target: the marginal likelihood :func:`log_marginal` times the half-Cauchy(0, tau0)
    prior of tau, on the log tau^2 scale (Jacobian tau/2). Updates ``v`` in place.
    """
    prop = tau2 * np.exp(step * np.random.standard_normal())
    old = (log_marginal(A, b, v, P, L, u) - np.log1p(tau2 / tau0**2) + 0.5 * np.log(tau2))
    for j in range(k):
        v[j] *= prop / tau2
    new = (log_marginal(A, b, v, P, L, u) - np.log1p(prop / tau0**2) + 0.5 * np.log(prop))
    if np.log(np.random.random()) < new - old:
        return prop, 1.0
    for j in range(k):
        v[j] *= tau2 / prop
    return tau2, 0.0


@njit(cache=True)
def prior_var(v, incl, k, kind, s2, hy, lam2, tau2):
    """Fill ``v`` with each coefficient's prior variance (slab, spike, horseshoe, seasonal)."""
    slab2 = hy[6] ** 2 * s2
    for j in range(k):
        if kind == HORSESHOE:
            v[j] = lam2[j] * tau2
        elif kind == MIXTURE and incl[j] == 0:
            v[j] = hy[7] ** 2
        else:
            v[j] = slab2
    for j in range(k, v.shape[0]):
        v[j] = hy[9] ** 2
