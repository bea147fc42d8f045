r"""Smoothness restrictions Δ^SD(M) and fixed-length confidence intervals (FLCIs).

Numerics for :func:`utvardering.inference.honest_did.honest_did` with
``method="smoothness"`` (Rambachan & Roth 2023, section 4.1; Armstrong & Kolesár 2018).
Also holds the reproduction of R's normal random numbers (Mersenne–Twister, inversion)
that HonestDiD's simulated critical values are built from, so results agree with the R
package to the last printed digit.

Parametrisation. An affine estimator of :math:`\theta = l'\tau_{post}` is
:math:`\hat\theta = l'\hat\beta_{post} + v'\hat\beta_{pre}`. Writing :math:`w` for the
cumulative sums of :math:`v` and :math:`u` for those of :math:`w` (so :math:`v = D^2 u`, with
:math:`D` the first-difference map), the estimator has finite worst-case bias over
:math:`\Delta^{SD}(M)` only if :math:`u_T = \sum_t t\, l_t`, and then

.. math:: \bar b(v) = M \Big(c(l) + \sum_{i<T} |u_i| + \Big|\sum_t t\, l_t\Big|\Big),
   \qquad c(l) = \sum_{s=1}^{\bar T} \Big|\sum_{j=1}^{s} j\, l_{\bar T-s+j}\Big|
   - \sum_t t\, l_t.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize
from scipy.special import ndtri

__all__ = ["flci", "folded_normal_quantile", "r_quantile7", "r_rnorm"]

_I2_32M1 = 2.328306437080797e-10  # 1 / (2^32 - 1), R's fixup constant
_BIG = 134217728.0  # 2^27, R's INVERSION precision booster


def r_rnorm(n: int, seed: int = 0) -> np.ndarray:
    """Standard normal draws identical to R's ``set.seed(seed); rnorm(n)``.

    R's default generator is the Mersenne–Twister seeded through 50 + 625 steps of the
    linear congruential map s ↦ 69069·s + 1 (mod 2^32); normals come by inversion from two
    uniforms, u = (⌊2^27 U_1⌋ + U_2) / 2^27, z = Φ^{-1}(u).

    Parameters
    ----------
    n : int
        Number of draws.
    seed : int, default 0
        The argument of R's ``set.seed``.

    Returns
    -------
    numpy.ndarray
        ``n`` draws (agree with R to ~1e-15; the inverse normal CDF is scipy's).
    """
    s = int(seed) & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    state = np.empty(625, dtype=np.uint64)
    for j in range(625):
        s = (69069 * s + 1) & 0xFFFFFFFF
        state[j] = s
    bitgen = np.random.MT19937()
    bitgen.state = {"bit_generator": "MT19937",
                    "state": {"key": state[1:].astype(np.uint32), "pos": 624}}
    u = bitgen.random_raw(2 * n).astype(np.float64) * 2.3283064365386963e-10
    u = np.where(u <= 0.0, 0.5 * _I2_32M1, u)
    u = np.where(1.0 - u <= 0.0, 1.0 - 0.5 * _I2_32M1, u)
    return ndtri((np.floor(_BIG * u[0::2]) + u[1::2]) / _BIG)


def r_quantile7(x: np.ndarray, p: float, axis: int = -1) -> np.ndarray:
    """R's default (type 7) sample quantile along ``axis``."""
    x = np.sort(np.asarray(x, float), axis=axis)
    n = x.shape[axis]
    index = (n - 1) * p
    lo = int(np.floor(index))
    hi = min(lo + 1, n - 1)
    h = index - lo
    x_lo = np.take(x, lo, axis=axis)
    x_hi = np.take(x, hi, axis=axis)
    return np.where(x_hi != x_lo, (1 - h) * x_lo + h * x_hi, x_lo)


@lru_cache(maxsize=4)
def _sorted_draws(n: int, seed: int) -> np.ndarray:
    return np.sort(r_rnorm(n, seed))


def _kth_of_two_sorted(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """k-th smallest (0-based) element of the union of two ascending arrays."""
    lo, hi = max(0, k + 1 - len(b)), min(k + 1, len(a))
    while lo < hi:  # number i of elements taken from a
        i = (lo + hi) // 2
        j = k + 1 - i
        if j > 0 and i < len(a) and b[j - 1] > a[i]:
            lo = i + 1
        else:
            hi = i
    i, j = lo, k + 1 - lo
    cands = []
    if i > 0:
        cands.append(a[i - 1])
    if j > 0:
        cands.append(b[j - 1])
    return float(max(cands))


def folded_normal_quantile(p: float, mu: float, *, simulated: bool = True, n_draws: int = 10**6,
                           seed: int = 0) -> float:
    """Quantile of |Z + μ|, Z ~ N(0, 1).

    Parameters
    ----------
    p : float
        Probability (1 − α).
    mu : float
        Non-centrality (worst-case bias over standard deviation).
    simulated : bool, default True
        HonestDiD's convention: type-7 quantile of |z_i + μ| over R's ``rnorm(10^6)`` with
        ``set.seed(0)`` (reproduces the R package). If false, the exact quantile, solving
        Φ(q − μ) − Φ(−q − μ) = p.
    n_draws, seed : int
        Simulation size and R seed.

    Returns
    -------
    float
    """
    mu = abs(float(mu))
    if not simulated:
        from scipy.stats import norm

        def gap(q):
            return norm.cdf(q - mu) - norm.cdf(-q - mu) - p
        return float(optimize.brentq(gap, 0.0, mu + 10.0, xtol=1e-14, rtol=1e-15))
    z = _sorted_draws(n_draws, seed)
    cut = int(np.searchsorted(z, -mu, side="left"))
    pos = z[cut:] + mu  # ascending, >= 0
    neg = -(z[:cut][::-1] + mu)  # ascending, > 0
    index = (n_draws - 1) * p
    lo = int(np.floor(index))
    h = index - lo
    x_lo = _kth_of_two_sorted(pos, neg, lo)
    x_hi = _kth_of_two_sorted(pos, neg, min(lo + 1, n_draws - 1))
    return x_lo if x_hi == x_lo else (1 - h) * x_lo + h * x_hi


class _FLCIProblem:
    """Bias–variance frontier of affine estimators for l'τ_post under Δ^SD."""

    def __init__(self, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray):
        n_post = len(l_vec)
        t = np.arange(1, n_post + 1)
        self.n_pre = n_pre
        self.total = float(t @ l_vec)  # Σ t·l_t = u_T (fixed)
        self.const = sum(abs(float(np.arange(1, s + 1) @ l_vec[n_post - s:]))
                         for s in range(1, n_post + 1)) - self.total
        pre = slice(0, n_pre)
        post = slice(n_pre, n_pre + n_post)
        # pre-period weights v = D² u, D the first-difference map (D u)_i = u_i − u_{i−1}
        D1 = np.eye(n_pre) - np.eye(n_pre, k=-1)
        D = D1 @ D1
        self.D = D
        self.Q = D.T @ sigma[pre, pre] @ D
        self.q = 2 * D.T @ sigma[pre, post] @ l_vec
        self.c0 = float(l_vec @ sigma[post, post] @ l_vec)

    def var(self, u: np.ndarray) -> float:
        return float(u @ self.Q @ u + self.q @ u + self.c0)

    def bias(self, u: np.ndarray) -> float:
        """Worst-case bias divided by M."""
        return float(self.const + np.abs(u).sum())

    def min_variance(self) -> np.ndarray:
        """The vector u minimising the variance subject to u_T = Σ t·l_t (closed form)."""
        k = self.n_pre - 1
        if k == 0:
            return np.array([self.total])
        Qf, qf = self.Q[:k, :k], self.Q[:k, k]
        u_free = np.linalg.solve(2 * Qf, -(2 * qf * self.total + self.q[:k]))
        return np.append(u_free, self.total)

    def min_bias(self) -> np.ndarray:
        return np.append(np.zeros(self.n_pre - 1), self.total)

    def min_bias_given_sd(self, h: float, start: np.ndarray) -> np.ndarray:
        """The vector u minimising Σ|u_i| subject to sd(u) ≤ h and u_T fixed (convex; SLSQP on u = p − n)."""
        k = self.n_pre - 1
        if k == 0:
            return np.array([self.total])
        scale = max(abs(self.total), 1.0)

        def full(x):
            return np.append((x[:k] - x[k:]) * scale, self.total)

        def cons(x):
            return (h * h - self.var(full(x))) / (h * h)

        x0 = np.concatenate([np.maximum(start[:k], 0), np.maximum(-start[:k], 0)]) / scale
        res = optimize.minimize(lambda x: x.sum(), x0, jac=lambda x: np.ones_like(x),
                                method="SLSQP", bounds=[(0, None)] * (2 * k),
                                constraints=[{"type": "ineq", "fun": cons}],
                                options={"ftol": 1e-15, "maxiter": 500})
        return full(res.x)


def flci(betahat: np.ndarray, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray, m_values,
         *, alpha: float = 0.05, simulated_quantile: bool = True) -> np.ndarray:
    """Optimal fixed-length confidence intervals for l'τ_post under Δ^SD(M).

    For each M, the half-length χ(h) = cv_{1−α}(M·b(h)/h)·h is minimised over the standard
    deviation h of the affine estimator, where b(h) is the smallest worst-case bias (per unit
    M) achievable with standard deviation at most h and cv_{1−α}(μ) the 1 − α quantile of
    |N(μ, 1)|; the interval is θ̂ ± χ(h*).

    Parameters
    ----------
    betahat, sigma : numpy.ndarray
        Event-study coefficients (pre then post, reference period excluded) and covariance.
    n_pre : int
        Number of pre-period coefficients.
    l_vec : numpy.ndarray
        Weights on the post-period coefficients defining θ.
    m_values : sequence of float
        Values of M (≥ 0).
    alpha : float, default 0.05
        1 − coverage.
    simulated_quantile : bool, default True
        Use HonestDiD's simulated folded-normal quantile (reproduces R) rather than the exact one.

    Returns
    -------
    numpy.ndarray
        ``(len(m_values), 2)`` lower and upper bounds.
    """
    prob = _FLCIProblem(sigma, n_pre, l_vec)
    post_est = float(l_vec @ betahat[n_pre:])
    beta_pre = betahat[:n_pre]
    u_var, u_bias = prob.min_variance(), prob.min_bias()
    h_min, h0 = np.sqrt(prob.var(u_var)), np.sqrt(prob.var(u_bias))
    cache: dict[float, np.ndarray] = {}

    def u_at(h):
        if h not in cache:
            if h >= h0:
                cache[h] = u_bias
            elif h <= h_min:
                cache[h] = u_var
            else:
                cache[h] = prob.min_bias_given_sd(h, u_var)
        return cache[h]

    def cv(mu):
        return folded_normal_quantile(1 - alpha, mu, simulated=simulated_quantile)

    out = np.empty((len(m_values), 2))
    for i, M in enumerate(np.asarray(m_values, float)):
        if M == 0 or h0 - h_min <= 1e-14 * h0:
            h_star = h_min
        else:
            def half(h, M=M):
                return cv(M * prob.bias(u_at(h)) / h) * h
            dif = min((h0 - h_min) / 100, abs(h0) * np.finfo(float).eps ** (1 / 3))
            fa, fb = half(h_min), half(h0)
            fpa = (half(h_min + dif) - fa) / dif
            fpb = (half(h0 - dif) - fb) / -dif
            if fpb < 0:
                h_star = h0
            elif fpa > 0:
                h_star = h_min
            else:
                res = optimize.minimize_scalar(half, bounds=(h_min, h0), method="bounded",
                                               options={"xatol": dif * 1e-3})
                h_star = float(res.x)
        u = u_at(h_star)
        v = prob.D @ u
        center = post_est + float(v @ beta_pre)
        width = cv(M * prob.bias(u) / h_star) * h_star
        out[i] = center - width, center + width
    return out
