r"""Forward-filtering backward-sampling (FFBS) of the latent trend, numba kernels.

Given the other parameters, the Gaussian structural model reduces to a linear Gaussian
state-space model for the "trend residual" :math:`r_t = y_t - x_t^\top\beta - f_t^\top\gamma`:

.. math::

    r_t = \mu_t + \varepsilon_t,\ \varepsilon_t \sim N(0, h_t), \qquad
    \mu_{t+1} = \mu_t + \delta_t + \eta_t,\ \eta_t \sim N(0, q_\mu), \qquad
    \delta_{t+1} = \delta_t + \zeta_t,\ \zeta_t \sim N(0, q_\delta)

(:math:`\delta \equiv 0` for a local level). The observation variance :math:`h_t` is one
number (the Gaussian model) or one per time point (the Pólya-Gamma pseudo-observations of
the count models, :mod:`.gibbs_counts`); numba compiles each case separately, so the scalar
case runs exactly the original arithmetic. The Kalman filter gives the filtered moments
:math:`m_t = E(\alpha_t \mid r_{1:t})`, :math:`C_t = \mathrm{Var}(\alpha_t \mid r_{1:t})`;
the path is then drawn backwards, :math:`\alpha_n \sim N(m_n, C_n)` and

.. math::

    \alpha_t \mid \alpha_{t+1} \sim N\big(m_t + G_t(\alpha_{t+1} - T m_t),\
    C_t - G_t T C_t\big), \qquad G_t = C_t T^\top (T C_t T^\top + Q)^{-1}

(Carter & Kohn, 1994; Frühwirth-Schnatter, 1994): one exact joint draw of the whole path in
:math:`O(n)` operations. The kernels draw with numba's generator (seed it with
:func:`seed_numba`).
"""

# numba's nopython mode draws from its own seeded legacy-style generator (seed_numba).
# ruff: noqa: NPY002

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

__all__ = ["at", "ffbs_level", "ffbs_trend", "innovations", "loglik", "seed_numba"]


def at(h, t):
    """``h[t]`` for a per-time variance vector, ``h`` itself for a scalar variance."""
    return h[t] if np.ndim(h) else h


@overload(at)
def _at_numba(h, t):
    # Compile-time dispatch: a scalar observation variance compiles to exactly the original
    # arithmetic (the Gaussian path is bit-identical); an array is indexed per time point.
    if isinstance(h, types.Array):
        return lambda h, t: h[t]
    return lambda h, t: h


@njit(cache=True)
def seed_numba(seed: int) -> None:
    """Seed numba's internal generator (used by all kernels of this package)."""
    np.random.seed(seed)


@njit(cache=True)
def ffbs_level(r, h, q, a1, p1, m, c, out):
    """Draw a local-level path given residuals ``r`` (in place into ``out``).

    Parameters
    ----------
    r : numpy.ndarray
        Trend residual, shape ``(n,)``.
    h : float or numpy.ndarray
        Observation variance, one number or one per time point ``(n,)``.
    q : float
        Level-innovation variance.
    a1, p1 : float
        Prior mean and variance of the first level.
    m, c : numpy.ndarray
        Work buffers of shape ``(n,)`` (filtered means and variances).
    out : numpy.ndarray
        Receives the drawn path, shape ``(n,)``.
    """
    n = r.shape[0]
    a, p = a1, p1
    for t in range(n):
        ht = at(h, t)
        f = p + ht
        k = p / f
        m[t] = a + k * (r[t] - a)
        c[t] = p * ht / f
        a = m[t]
        p = c[t] + q
    out[n - 1] = m[n - 1] + np.sqrt(c[n - 1]) * np.random.standard_normal()
    for t in range(n - 2, -1, -1):
        g = c[t] / (c[t] + q)
        mean = m[t] + g * (out[t + 1] - m[t])
        var = c[t] * q / (c[t] + q)
        out[t] = mean + np.sqrt(var) * np.random.standard_normal()


@njit(cache=True)
def _draw2(m1, m2, v11, v12, v22):
    """One draw from a bivariate normal (variances clipped at zero against round-off)."""
    v11 = max(v11, 0.0)
    v22 = max(v22, 0.0)
    l11 = np.sqrt(v11)
    l21 = v12 / l11 if l11 > 0 else 0.0
    l22 = np.sqrt(max(v22 - l21 * l21, 0.0))
    z1 = np.random.standard_normal()
    z2 = np.random.standard_normal()
    return m1 + l11 * z1, m2 + l21 * z1 + l22 * z2


@njit(cache=True)
def ffbs_trend(r, h, q1, q2, a1, p1, s1, m, c, level, slope):
    """Draw a local-linear-trend path (level and slope) given residuals ``r``.

    Parameters
    ----------
    r : numpy.ndarray
        Trend residual, shape ``(n,)``.
    h : float or numpy.ndarray
        Observation variance, one number or one per time point ``(n,)``.
    q1, q2 : float
        Level-innovation and slope-innovation variances.
    a1, p1 : float
        Prior mean and variance of the first level.
    s1 : float
        Prior variance of the first slope (prior mean 0).
    m : numpy.ndarray
        Work buffer ``(n, 2)`` (filtered means).
    c : numpy.ndarray
        Work buffer ``(n, 3)`` (filtered covariances: c11, c12, c22).
    level, slope : numpy.ndarray
        Receive the drawn paths, shape ``(n,)``.
    """
    n = r.shape[0]
    a0, a1_ = a1, 0.0
    p11, p12, p22 = p1, 0.0, s1
    for t in range(n):
        f = p11 + at(h, t)
        v = r[t] - a0
        k1, k2 = p11 / f, p12 / f
        m[t, 0] = a0 + k1 * v
        m[t, 1] = a1_ + k2 * v
        c11 = p11 - p11 * p11 / f
        c12 = p12 - p11 * p12 / f
        c22 = p22 - p12 * p12 / f
        c[t, 0], c[t, 1], c[t, 2] = c11, c12, c22
        a0, a1_ = m[t, 0] + m[t, 1], m[t, 1]
        p11 = c11 + 2.0 * c12 + c22 + q1
        p12 = c12 + c22
        p22 = c22 + q2
    level[n - 1], slope[n - 1] = _draw2(m[n - 1, 0], m[n - 1, 1], c[n - 1, 0], c[n - 1, 1],
                                        c[n - 1, 2])
    for t in range(n - 2, -1, -1):
        c11, c12, c22 = c[t, 0], c[t, 1], c[t, 2]
        # R = T C T' + Q and C T'
        r11 = c11 + 2.0 * c12 + c22 + q1
        r12 = c12 + c22
        r22 = c22 + q2
        det = r11 * r22 - r12 * r12
        i11, i12, i22 = r22 / det, -r12 / det, r11 / det
        ct11, ct12, ct21, ct22 = c11 + c12, c12, c12 + c22, c22
        g11 = ct11 * i11 + ct12 * i12
        g12 = ct11 * i12 + ct12 * i22
        g21 = ct21 * i11 + ct22 * i12
        g22 = ct21 * i12 + ct22 * i22
        d1 = level[t + 1] - (m[t, 0] + m[t, 1])
        d2 = slope[t + 1] - m[t, 1]
        mean1 = m[t, 0] + g11 * d1 + g12 * d2
        mean2 = m[t, 1] + g21 * d1 + g22 * d2
        # cov = C - G (T C), with T C = (C T')'
        v11 = c11 - (g11 * ct11 + g12 * ct12)
        v12 = c12 - (g11 * ct21 + g12 * ct22)
        v22 = c22 - (g21 * ct21 + g22 * ct22)
        level[t], slope[t] = _draw2(mean1, mean2, v11, v12, v22)


@njit(cache=True)
def innovations(y, Z, llt, h, q1, q2, a1, p1, s1, V, A, b):
    r"""Regression cross-products with the trend integrated out, by the Kalman filter.

    The filter's gains depend on the variances only, so the one-step innovations of
    :math:`y - Z\theta` are :math:`v_t - V_t^\top\theta` with :math:`v_t` the innovations of
    :math:`y` (filter started at the prior mean ``a1``) and :math:`V_t` those of the columns
    of :math:`Z` (started at 0). With innovation variances :math:`F_t`, the likelihood of
    :math:`\theta` with the states integrated out is proportional to
    :math:`\exp(-\tfrac12\theta^\top A\theta + b^\top\theta)`, where
    :math:`A = \sum_t V_t V_t^\top / F_t` and :math:`b = \sum_t V_t v_t / F_t`
    (de Jong, 1991, the augmented Kalman filter).

    Parameters
    ----------
    y, Z : numpy.ndarray
        Outcome ``(n,)`` and regressors ``(n, p)``.
    llt : bool
        Local linear trend (else local level).
    h : float or numpy.ndarray
        Observation variance, one number or one per time point ``(n,)``.
    q1, q2 : float
        Level and slope innovation variances.
    a1, p1, s1 : float
        Prior mean and variance of the first level, prior variance of the first slope.
    V : numpy.ndarray
        Work buffer ``(p + 1, 2)``: filtered state means of ``y`` and each column of ``Z``.
    A, b : numpy.ndarray
        Receive :math:`A` ``(p, p)`` and :math:`b` ``(p,)``.
    """
    n, p = Z.shape
    for j in range(p + 1):
        V[j, 0] = 0.0
        V[j, 1] = 0.0
    V[p, 0] = a1
    A[:, :] = 0.0
    b[:] = 0.0
    p11, p12, p22 = p1, 0.0, s1
    vz = np.empty(p)
    for t in range(n):
        f = p11 + at(h, t)
        k1, k2 = p11 / f, p12 / f
        vy = y[t] - V[p, 0]
        for j in range(p):
            vz[j] = Z[t, j] - V[j, 0]
        for j in range(p):
            w = vz[j] / f
            b[j] += w * vy
            for i in range(j + 1):
                A[j, i] += w * vz[i]
        for j in range(p + 1):
            v = vy if j == p else vz[j]
            m0 = V[j, 0] + k1 * v
            m1 = V[j, 1] + k2 * v
            V[j, 0] = m0 + m1 if llt else m0
            V[j, 1] = m1 if llt else 0.0
        c11 = p11 - p11 * p11 / f
        if llt:
            c12 = p12 - p11 * p12 / f
            c22 = p22 - p12 * p12 / f
            p11 = c11 + 2.0 * c12 + c22 + q1
            p12 = c12 + c22
            p22 = c22 + q2
        else:
            p11 = c11 + q1
    for j in range(p):
        for i in range(j):
            A[i, j] = A[j, i]


@njit(cache=True)
def loglik(r, llt, h, q1, q2, a1, p1, s1):
    r"""Log-likelihood of ``r`` with the trend integrated out (prediction-error decomposition).

    :math:`\log p(r) = -\tfrac12\sum_t (\log 2\pi F_t + v_t^2 / F_t)` with one-step
    innovations :math:`v_t` and their variances :math:`F_t` from the Kalman filter; arguments
    as in :func:`innovations`.
    """
    n = r.shape[0]
    a0, a1_ = a1, 0.0
    p11, p12, p22 = p1, 0.0, s1
    out = 0.0
    for t in range(n):
        f = p11 + at(h, t)
        v = r[t] - a0
        out -= 0.5 * (np.log(2.0 * np.pi * f) + v * v / f)
        k1, k2 = p11 / f, p12 / f
        m0, m1 = a0 + k1 * v, a1_ + k2 * v
        c11 = p11 - p11 * p11 / f
        if llt:
            c12 = p12 - p11 * p12 / f
            c22 = p22 - p12 * p12 / f
            a0, a1_ = m0 + m1, m1
            p11 = c11 + 2.0 * c12 + c22 + q1
            p12 = c12 + c22
            p22 = c22 + q2
        else:
            a0 = m0
            p11 = c11 + q1
    return out
