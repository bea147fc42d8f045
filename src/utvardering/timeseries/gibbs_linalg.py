r"""Dense linear algebra of the BSTS Gibbs samplers (numba kernels).

With :math:`P = A + \mathrm{diag}(1/v)` the posterior precision of the regression and
seasonal coefficients given their prior variances :math:`v`: its Cholesky factor, the
marginal likelihood of :math:`v` with the coefficients integrated out
(:func:`log_marginal`, for the spike-and-slab indicators and the horseshoe scale) and a
coefficient draw :math:`\theta \sim N(P^{-1}b, P^{-1})` (:func:`draw_coefficients`). Used by
:mod:`.gibbs` (Gaussian) and :mod:`.gibbs_counts` (negative binomial).
"""

# numba's nopython mode draws from its own seeded legacy-style generator (seed_numba).
# ruff: noqa: NPY002

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["draw_coefficients", "log_marginal"]


@njit(cache=True)
def _chol(a, out):
    """Lower Cholesky factor of ``a`` into ``out``; returns log-determinant of ``a``."""
    p = a.shape[0]
    logdet = 0.0
    for j in range(p):
        s = a[j, j]
        for i in range(j):
            s -= out[j, i] * out[j, i]
        d = np.sqrt(s)
        out[j, j] = d
        logdet += 2.0 * np.log(d)
        for i in range(j + 1, p):
            s = a[i, j]
            for q in range(j):
                s -= out[i, q] * out[j, q]
            out[i, j] = s / d
        for i in range(j):
            out[i, j] = 0.0
    return logdet


@njit(cache=True)
def _forward(L, b, out):
    p = b.shape[0]
    for i in range(p):
        s = b[i]
        for q in range(i):
            s -= L[i, q] * out[q]
        out[i] = s / L[i, i]


@njit(cache=True)
def _backward(L, b, out):
    p = b.shape[0]
    for i in range(p - 1, -1, -1):
        s = b[i]
        for q in range(i + 1, p):
            s -= L[q, i] * out[q]
        out[i] = s / L[i, i]


@njit(cache=True)
def _precision(A, v, P):
    p = v.shape[0]
    for i in range(p):
        for j in range(p):
            P[i, j] = A[i, j]
        P[i, i] += 1.0 / v[i]


@njit(cache=True)
def log_marginal(A, b, v, P, L, u):
    """Log p(y | prior variances v) up to terms that do not depend on v."""
    _precision(A, v, P)
    logdet = _chol(P, L)
    _forward(L, b, u)
    return -0.5 * np.sum(np.log(v)) - 0.5 * logdet + 0.5 * np.dot(u, u)


@njit(cache=True)
def draw_coefficients(A, b, v, P, L, u, mean, out):
    r"""Draw :math:`\theta \sim N(P^{-1}b, P^{-1})`, :math:`P = A + \mathrm{diag}(1/v)`, into ``out``.

    With :math:`P = LL^\top`: the mean solves two triangular systems and
    :math:`L^{-\top}z`, :math:`z \sim N(0, I)`, has covariance :math:`P^{-1}`. ``P``, ``L``,
    ``u`` and ``mean`` are work buffers.
    """
    p = v.shape[0]
    _precision(A, v, P)
    _chol(P, L)
    _forward(L, b, u)
    _backward(L, u, mean)
    for j in range(p):
        u[j] = np.random.standard_normal()
    _backward(L, u, out)
    for j in range(p):
        out[j] += mean[j]
