r"""``backend="gibbs"`` for counts: the negative-binomial model by Pólya-Gamma augmentation.

The count model of :mod:`.model` has :math:`y_t \sim \text{NegBin}(\text{mean } m_t,
\text{size } r)`, :math:`m_t = E_t e^{\eta_t}`, :math:`\eta_t = \mu_t + z_t^\top\theta`
(:math:`z_t = (x_t, f_t)`, :math:`\theta = (\beta, \gamma)`) and overdispersion
:math:`\phi = 1/r \sim N^+(0, 1)`. With log-odds :math:`\psi_t = \eta_t + \log E_t - \log r`
the likelihood is :math:`p(y_t \mid \psi_t) \propto (e^{\psi_t})^{y_t} / (1 +
e^{\psi_t})^{y_t + r}`, and the Pólya-Gamma identity (Polson, Scott & Windle, 2013)

.. math::

    \frac{(e^{\psi})^{a}}{(1+e^{\psi})^{b}} = 2^{-b} e^{\kappa\psi}
    \int_0^\infty e^{-\omega\psi^2/2}\, p_{PG}(\omega \mid b, 0)\, d\omega,
    \qquad b = y + r,\ \kappa = a - b/2 = (y - r)/2,

makes the model conditionally Gaussian: given :math:`\omega_t \sim PG(y_t + r, \psi_t)`,
the pseudo-observation :math:`\tilde y_t = \kappa_t/\omega_t - \log E_t + \log r` satisfies
:math:`\tilde y_t = \mu_t + z_t^\top\theta + \varepsilon_t`,
:math:`\varepsilon_t \sim N(0, 1/\omega_t)` (Windle, Carvalho, Scott & Sun, 2013, "Efficient
data augmentation in dynamic models for binary and count data", arXiv:1308.0774). One sweep:

1. :math:`\omega_{1:n} \mid \eta, r` (``polyagamma`` package, vectorised);
2. spike-and-slab indicators and :math:`\theta` given :math:`\tilde y` with the states
   integrated out (the Gaussian sampler's step 1, :func:`.kalman.innovations` with the
   per-time variances :math:`1/\omega_t`; slab s.d. ``slab_scale``, not scaled by an
   observation s.d.);
3. trend variances by Metropolis with the states integrated out, then the states by FFBS,
   both with variances :math:`1/\omega_t`; horseshoe auxiliaries; the trend variances from
   their inverse-gamma full conditionals;
4. :math:`\log r` by random-walk Metropolis on the negative-binomial likelihood given
   :math:`\eta` (:math:`\omega` integrated out), target :math:`\sum_t \log
   \text{NB}(y_t \mid m_t, r) - \phi^2/2 + \log\phi`, step adapted during burn-in only.

The Poisson likelihood is the limit :math:`r \to \infty`, where this augmentation mixes
ever more slowly (:math:`E\,\omega_t \approx r / (2|\psi_t|)` grows without bound while the
Poisson information :math:`m_t` does not), so Poisson stays on NUTS (see
``docs/methods/bsts.md``). After burn-in every ``THIN``-th sweep is kept.
"""

# numba's nopython mode draws from its own seeded legacy-style generator (seed_numba).
# ruff: noqa: NPY002

from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from .gibbs_linalg import draw_coefficients, log_marginal
from .gibbs_steps import (
    HORSESHOE,
    MIXTURE,
    SLAB,
    hyper_vector,
    inv_gamma,
    mh_tau,
    mh_var,
    prior_var,
    trend_variance_draws,
)
from .kalman import ffbs_level, ffbs_trend, innovations, seed_numba

__all__ = ["fit_gibbs_counts", "nb_loglik", "pg_mean"]

# Scalar state of one chain, stored in a float vector ``sc``.
Q1, Q2, TAU2, XI, LOG_R, STEP1, STEP2, STEP3, STEP_R, ACC_R = range(10)
#: Metropolis steps on log r per sweep.
R_STEPS = 5
#: Sweeps per kept draw after burn-in (thinning).
THIN = 2


def pg_mean(b, c):
    r""":math:`E[PG(b, c)] = \frac{b}{2c}\tanh(c/2)` (:math:`b/4` at :math:`c = 0`)."""
    b, c = np.asarray(b, dtype=float), np.asarray(c, dtype=float)
    safe = np.where(np.abs(c) < 1e-8, 1.0, c)
    return np.where(np.abs(c) < 1e-8, b / 4.0, b / (2.0 * safe) * np.tanh(safe / 2.0))


@njit(cache=True)
def nb_loglik(y, eta, offset, r):
    r"""Negative-binomial log-likelihood :math:`\sum_t \log\text{NB}(y_t \mid m_t, r)`.

    :math:`\log\Gamma(y+r) - \log\Gamma(r) - \log y! + r\log\frac{r}{r+m} +
    y\log\frac{m}{r+m}` with :math:`m_t = \exp(\eta_t + \text{offset}_t)`.
    """
    out = 0.0
    for t in range(y.shape[0]):
        lm = eta[t] + offset[t]
        # log(r + m) computed stably on the log scale
        lrm = max(lm, math.log(r)) + math.log1p(math.exp(-abs(lm - math.log(r))))
        out += (math.lgamma(y[t] + r) - math.lgamma(r) - math.lgamma(y[t] + 1.0)
                + r * (math.log(r) - lrm) + y[t] * (lm - lrm))
    return out


@njit(cache=True)
def _log_post_r(log_r, y, eta, offset):
    """NB likelihood + half-normal(0, 1) prior on phi = 1/r, on the log r scale."""
    phi = math.exp(-log_r)
    return nb_loglik(y, eta, offset, math.exp(log_r)) - 0.5 * phi * phi + math.log(phi)


@njit(cache=True)
def sweep(it, tune, y, Z, k, kind, llt, hy, offset, omega, sc, th, incl, lam2, nu, level,
          slope, eta, work):
    """One Gibbs sweep after the Pólya-Gamma draw ``omega`` (steps 2–4 of the module doc).

    Updates ``sc`` (scalars), ``th``, ``incl``, ``lam2``, ``nu``, ``level``, ``slope`` and
    ``eta`` in place; ``work`` is a tuple of buffers.
    """
    n, p = Z.shape
    zt, h, res, A, V, b, u, mean, v, P, L, m1, c1, m2, c2 = work
    r = math.exp(sc[LOG_R])
    for t in range(n):
        h[t] = 1.0 / omega[t]
        zt[t] = 0.5 * (y[t] - r) / omega[t] - offset[t] + sc[LOG_R]
    q1, q2, tau2 = sc[Q1], sc[Q2], sc[TAU2]
    if p > 0:
        innovations(zt, Z, llt, h, q1, q2, hy[4], hy[5] ** 2, hy[11], V, A, b)
        prior_var(v, incl, k, kind, 1.0, hy, lam2, tau2)
        if kind == HORSESHOE and k > 0:
            tau2, acc3 = mh_tau(tau2, sc[STEP3], A, b, v, k, hy[10], P, L, u)
            sc[XI] = inv_gamma(1.0, 1.0 / hy[10] ** 2 + 1.0 / tau2)
            if it < tune:
                sc[STEP3] *= np.exp((acc3 - 0.44) / np.sqrt(it + 1.0))
        if kind == MIXTURE:
            log_odds = np.log(hy[8]) - np.log1p(-hy[8])
            for j in range(k):
                v[j] = hy[6] ** 2
                l1 = log_marginal(A, b, v, P, L, u)
                v[j] = hy[7] ** 2
                l0 = log_marginal(A, b, v, P, L, u)
                incl[j] = 1 if np.random.random() < 1.0 / (1.0 + np.exp(-(log_odds + l1 - l0))) else 0
                v[j] = hy[6] ** 2 if incl[j] == 1 else hy[7] ** 2
        draw_coefficients(A, b, v, P, L, u, mean, th)
    for t in range(n):
        acc = 0.0
        for j in range(p):
            acc += Z[t, j] * th[j]
        res[t] = zt[t] - acc
        eta[t] = acc
    q1, acc1 = mh_var(q1, sc[STEP1], res, llt, 1, h, q1, q2, hy)
    if llt:
        q2, acc2 = mh_var(q2, sc[STEP2], res, llt, 2, h, q1, q2, hy)
    if it < tune:
        sc[STEP1] *= np.exp((acc1 - 0.44) / np.sqrt(it + 1.0))
        if llt:
            sc[STEP2] *= np.exp((acc2 - 0.44) / np.sqrt(it + 1.0))
    if llt:
        ffbs_trend(res, h, q1, q2, hy[4], hy[5] ** 2, hy[11], m2, c2, level, slope)
    else:
        ffbs_level(res, h, q1, hy[4], hy[5] ** 2, m1, c1, level)
    if kind == HORSESHOE and k > 0:  # Makalic & Schmidt (2016)
        ssum = 0.0
        for j in range(k):
            lam2[j] = inv_gamma(1.0, 1.0 / nu[j] + th[j] ** 2 / (2.0 * tau2))
            nu[j] = inv_gamma(1.0, 1.0 + 1.0 / lam2[j])
            ssum += th[j] ** 2 / lam2[j]
        tau2 = inv_gamma(0.5 * (k + 1), 1.0 / sc[XI] + 0.5 * ssum)
        sc[XI] = inv_gamma(1.0, 1.0 / hy[10] ** 2 + 1.0 / tau2)
    q1, q2 = trend_variance_draws(level, slope, llt, hy[0], hy[1], q2)
    sc[Q1], sc[Q2], sc[TAU2] = q1, q2, tau2
    for t in range(n):
        eta[t] += level[t]
    # dispersion: R_STEPS random-walk Metropolis steps on log r given eta (omega integrated
    # out; cheap, and one step alone leaves log r the slowest-mixing quantity)
    cur = _log_post_r(sc[LOG_R], y, eta, offset)
    accr = 0.0
    for _ in range(R_STEPS):
        prop = sc[LOG_R] + sc[STEP_R] * np.random.standard_normal()
        new = _log_post_r(prop, y, eta, offset)
        if np.log(np.random.random()) < new - cur:
            sc[LOG_R], cur = prop, new
            accr += 1.0 / R_STEPS
    sc[ACC_R] = accr
    if it < tune:
        sc[STEP_R] *= np.exp((accr - 0.44) / np.sqrt(it + 1.0))


def _work(n: int, p: int) -> tuple:
    return (np.empty(n), np.empty(n), np.empty(n), np.empty((p, p)), np.empty((p + 1, 2)),
            np.empty(p), np.empty(p), np.empty(p), np.empty(p), np.empty((p, p)),
            np.empty((p, p)), np.empty(n), np.empty(n), np.empty((n, 2)), np.empty((n, 3)))


def _init_chain(rng: np.random.Generator, hy: np.ndarray, n: int, p: int, k: int, kind: int):
    sc = np.zeros(10)
    sc[Q1] = hy[1] / hy[0] * np.exp(0.5 * rng.standard_normal())
    sc[Q2] = sc[Q1]
    sc[TAU2], sc[XI] = max(hy[10], 1e-8) ** 2, 1.0
    sc[LOG_R] = np.log(5.0) + rng.standard_normal()  # over-dispersed start
    sc[STEP1] = sc[STEP2] = sc[STEP3] = sc[STEP_R] = 0.5
    th = 0.3 * rng.standard_normal(p)
    incl = np.ones(k, dtype=np.int64)
    if kind == MIXTURE:
        incl = (rng.random(k) < max(hy[8], 0.5)).astype(np.int64)
    level = hy[4] + 0.3 * rng.standard_normal() + np.zeros(n)
    return sc, th, incl, np.ones(k), np.ones(k), level, np.zeros(n)


def gibbs_counts_sample(y, Z, offset, k, kind, llt, hy, chains, draws, tune, seed):
    """Run the count Gibbs chains; returns a dict of ``(chains, draws, ...)`` arrays.

    Parameters
    ----------
    y : numpy.ndarray
        Pre-period counts ``(n,)`` (float).
    Z : numpy.ndarray
        Controls then seasonal columns ``(n, p)``; the first ``k`` are controls.
    offset : numpy.ndarray
        Log exposure ``(n,)``.
    k, kind, llt, hy
        As for :func:`.gibbs.gibbs_sample`.
    chains, draws, tune, seed : int
        Sampler settings; ``seed`` seeds numba's generator and the Pólya-Gamma generator.
    """
    from polyagamma import random_polyagamma

    n, p = Z.shape
    seed_numba(seed)
    rng = np.random.default_rng(seed)
    out = {name: np.zeros((chains, draws, *shape)) for name, shape in (
        ("level", (n,)), ("slope", (n if llt else 0,)), ("sigma_level", ()),
        ("sigma_slope", ()), ("phi", ()), ("tau", ()), ("theta", (p,)), ("inclusion", (k,)))}
    work = _work(n, p)
    omega, eta = np.empty(n), np.empty(n)
    accept = 0.0
    for ch in range(chains):
        sc, th, incl, lam2, nu, level, slope = _init_chain(rng, hy, n, p, k, kind)
        eta[:] = level + Z @ th
        for it in range(tune + draws * THIN):
            r = np.exp(sc[LOG_R])
            random_polyagamma(y + r, eta + offset - sc[LOG_R], out=omega, random_state=rng)
            # guard against underflow (an omega this small carries no information anyway)
            np.maximum(omega, 1e-12, out=omega)
            sweep(it, tune, y, Z, k, kind, llt, hy, offset, omega, sc, th, incl, lam2, nu,
                  level, slope, eta, work)
            if it >= tune and (it - tune) % THIN == THIN - 1:
                s = (it - tune) // THIN
                accept += sc[ACC_R]
                out["level"][ch, s] = level
                if llt:
                    out["slope"][ch, s] = slope
                    out["sigma_slope"][ch, s] = np.sqrt(sc[Q2])
                out["sigma_level"][ch, s] = np.sqrt(sc[Q1])
                out["phi"][ch, s] = np.exp(-sc[LOG_R])
                out["tau"][ch, s] = np.sqrt(sc[TAU2])
                out["theta"][ch, s] = th
                out["inclusion"][ch, s] = incl
    out["accept_r"] = accept / max(chains * draws, 1)
    return out


def fit_gibbs_counts(design, *, draws: int, tune: int, chains: int, seed: int):
    """Sample the negative-binomial model of ``design`` by Pólya-Gamma Gibbs sampling.

    Parameters
    ----------
    design : Design
        From :func:`~.design.make_design` with ``likelihood="negative_binomial"``.
    draws, tune, chains : int
        Kept sweeps per chain, discarded burn-in sweeps per chain, and chains.
    seed : int
        Seeds numba's generator and the Pólya-Gamma draws; the same seed gives identical
        draws.

    Returns
    -------
    tuple
        ``(idata, timing)``: an :class:`arviz.InferenceData` whose posterior holds ``level``
        (and ``slope``), ``level0``, ``sigma_level`` (``sigma_slope``), ``phi``, ``beta``,
        ``gamma``, ``inclusion`` (spike-and-slab mixture) or ``tau`` (horseshoe), with
        ``sample_stats.diverging`` all false; ``timing`` holds ``sampler``,
        ``sample_seconds`` and ``accept_dispersion`` (acceptance rate of the :math:`\\log r`
        step after burn-in).
    """
    import arviz as az

    spec, data = design.spec, design.data
    if spec.likelihood != "negative_binomial":
        raise ValueError("fit_gibbs_counts samples likelihood='negative_binomial' only.")
    y = np.ascontiguousarray(data["y"], dtype=float)
    Z = np.ascontiguousarray(np.hstack([data["X"], data["F"]]), dtype=float)
    offset = np.ascontiguousarray(data["offset"], dtype=float)
    kind = (HORSESHOE if spec.regression_prior == "horseshoe" else
            MIXTURE if spec.mixture else SLAB)
    llt = spec.trend == "local_linear_trend"
    t0 = time.perf_counter()
    out = gibbs_counts_sample(y, Z, offset, int(spec.k), int(kind), bool(llt),
                              hyper_vector(data, spec.n, spec.trend), int(chains), int(draws),
                              int(tune), int(seed))
    seconds = time.perf_counter() - t0
    th = out["theta"]
    post = {"level": out["level"], "level0": out["level"][:, :, 0],
            "sigma_level": out["sigma_level"], "phi": out["phi"],
            "beta": th[:, :, :spec.k], "gamma": th[:, :, spec.k:]}
    dims = {"level": ["time"], "beta": ["control"], "gamma": ["season"]}
    if llt:
        post.update(slope=out["slope"], sigma_slope=out["sigma_slope"])
        dims["slope"] = ["time"]
    if kind == MIXTURE:
        post["inclusion"] = out["inclusion"]
        dims["inclusion"] = ["control"]
    if kind == HORSESHOE and spec.k:
        post["tau"] = out["tau"]
    stats = {"diverging": np.zeros((chains, draws), dtype=bool)}
    idata = az.from_dict(posterior=post, sample_stats=stats, dims=dims)
    return idata, {"sampler": "gibbs-pg", "sample_seconds": seconds,
                   "accept_dispersion": float(out["accept_r"])}
