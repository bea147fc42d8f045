r"""``backend="gibbs"``: the Gaussian structural time-series model by Gibbs sampling.

CausalImpact's algorithm (Scott & Varian, 2014: Kalman-filter-based state draws, conjugate
regression with spike-and-slab indicators, inverse-gamma variances), for the model and
priors of :mod:`.model` / :mod:`.design` on the standardised pre-period, with two blocking
improvements. One sweep, with :math:`Z = [X, F]` and :math:`\theta = (\beta, \gamma)`:

1. **Indicators and coefficients with the states integrated out.** The augmented Kalman
   filter (:func:`.kalman.innovations`) gives :math:`A = \sum_t V_tV_t^\top/F_t` and
   :math:`b = \sum_t V_t v_t/F_t`, so :math:`p(y \mid \theta, \sigma) \propto
   \exp(-\tfrac12\theta^\top A\theta + b^\top\theta)`. With prior variances
   :math:`D = \mathrm{diag}(v_j)` (slab :math:`\sigma_\varepsilon^2 s^2`, spike
   :math:`0.01^2`, horseshoe :math:`\lambda_j^2\tau^2`, seasonal :math:`s_\gamma^2`) and
   :math:`P = A + D^{-1}`, each spike-and-slab indicator is drawn with :math:`\theta`
   integrated out, :math:`P(\iota_j = 1 \mid \iota_{-j}) \propto \pi\,\exp\ell(\iota)`,
   :math:`\ell = -\tfrac12\log|D| - \tfrac12\log|P| + \tfrac12 b^\top P^{-1}b`; then
   :math:`\theta \sim N(P^{-1}b, P^{-1})`.
2. **Trend variances** :math:`\sigma_\mu^2` (and :math:`\sigma_\delta^2`) given
   :math:`\theta`, states integrated out: random-walk Metropolis on the log variance with the
   Kalman-filter likelihood (step size adapted during burn-in only).
3. **States** :math:`\mu_{1:n}` (and :math:`\delta_{1:n}`) by forward-filtering
   backward-sampling on :math:`y - Z\theta` (:mod:`.kalman`).
4. **Horseshoe auxiliaries** (Makalic & Schmidt, 2016; the global scale :math:`\tau` also
   gets a Metropolis step on :math:`\log\tau^2` with :math:`\theta` integrated out, before
   step 1's coefficient draw) and the **variances** from their
   inverse-gamma full conditionals:
   :math:`\sigma_\varepsilon^2 \sim \text{IG}(a_\varepsilon + n/2 + n_s/2,\ b_\varepsilon +
   \tfrac12\|y-\mu-Z\theta\|^2 + \tfrac12\sum_{\text{slab}}\beta_j^2/s^2)` (:math:`n_s`
   coefficients in the slab, whose variance scales with :math:`\sigma_\varepsilon^2`),
   :math:`\sigma_\mu^2 \sim \text{IG}(a_\mu + (n-1)/2,\ b_\mu + \tfrac12\sum_t
   (\mu_{t+1}-\mu_t-\delta_t)^2)`, and the same for :math:`\sigma_\delta^2`.

Drawing :math:`\theta` and the variances without conditioning on the path removes the slow
mixing of the plain sampler (level against a random-walk regressor, and a small
:math:`\sigma_\mu` against a smooth path: :math:`\hat R` 1.07, bulk ESS 28 on 1,000 daily
points before, 1.003 and 548 after). Each sweep costs :math:`O(n p^2 + k p^3)` with
:math:`p` columns in :math:`Z`: linear in the series length.
"""

# numba's nopython mode draws from its own seeded legacy-style generator (seed_numba).
# ruff: noqa: NPY002

from __future__ import annotations

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

__all__ = ["fit_gibbs", "gibbs_sample"]

@njit(cache=True)
def gibbs_sample(y, Z, k, kind, llt, hy, chains, draws, tune, seed):
    """Run ``chains`` Gibbs chains of ``tune + draws`` sweeps; keep the last ``draws``.

    Parameters
    ----------
    y : numpy.ndarray
        Standardised pre-period outcome ``(n,)``.
    Z : numpy.ndarray
        Controls then seasonal columns ``(n, p)``; the first ``k`` are controls.
    k : int
        Number of controls.
    kind : int
        0 slab only (inclusion probability 1), 1 spike-and-slab mixture, 2 horseshoe.
    llt : bool
        Local linear trend (else local level).
    hy : numpy.ndarray
        :func:`hyper_vector`.
    chains, draws, tune, seed : int
        Sampler settings.

    Returns
    -------
    tuple of numpy.ndarray
        ``level, slope`` ``(chains, draws, n)`` (slope has length 0 for a local level),
        ``sigma_level, sigma_slope, sigma_obs, tau`` ``(chains, draws)``, ``theta``
        ``(chains, draws, p)`` and ``incl`` ``(chains, draws, k)``.
    """
    seed_numba(seed)
    n, p = Z.shape
    ns = n if llt else 0
    level_out = np.empty((chains, draws, n))
    slope_out = np.empty((chains, draws, ns))
    sl_out = np.empty((chains, draws))
    ss_out = np.zeros((chains, draws))
    so_out = np.empty((chains, draws))
    tau_out = np.zeros((chains, draws))
    th_out = np.empty((chains, draws, p))
    in_out = np.empty((chains, draws, k))
    A, V = np.empty((p, p)), np.empty((p + 1, 2))
    m1, c1 = np.empty(n), np.empty(n)
    m2, c2 = np.empty((n, 2)), np.empty((n, 3))
    level, slope = np.zeros(n), np.zeros(n)
    r = np.empty(n)
    b, u, mean, v, th = np.empty(p), np.empty(p), np.empty(p), np.empty(p), np.zeros(p)
    P, L = np.empty((p, p)), np.empty((p, p))
    incl = np.ones(k, dtype=np.int64)
    lam2, nu = np.ones(k), np.ones(k)
    for ch in range(chains):
        # Over-dispersed starts around the prior centres.
        s2 = hy[3] / hy[2] * np.exp(0.5 * np.random.standard_normal())
        q1 = hy[1] / hy[0] * np.exp(0.5 * np.random.standard_normal())
        q2 = q1
        for j in range(p):
            th[j] = 0.3 * np.random.standard_normal()
        for j in range(k):
            incl[j] = 1 if (kind != MIXTURE or np.random.random() < max(hy[8], 0.5)) else 0
            lam2[j], nu[j] = 1.0, 1.0
        tau2, xi = max(hy[10], 1e-8) ** 2, 1.0
        step1, step2, step3 = 0.5, 0.5, 0.5
        for it in range(tune + draws):
            # 1. indicators and theta with the states integrated out
            innovations(y, Z, llt, s2, q1, q2, hy[4], hy[5] ** 2, hy[11], V, A, b)
            if p > 0:
                prior_var(v, incl, k, kind, s2, hy, lam2, tau2)
                if kind == HORSESHOE and k > 0:
                    tau2, acc3 = mh_tau(tau2, step3, A, b, v, k, hy[10], P, L, u)
                    xi = inv_gamma(1.0, 1.0 / hy[10] ** 2 + 1.0 / tau2)
                    if it < tune:
                        step3 *= np.exp((acc3 - 0.44) / np.sqrt(it + 1.0))
                if kind == MIXTURE:
                    slab2, spike2 = hy[6] ** 2 * s2, hy[7] ** 2
                    log_odds = np.log(hy[8]) - np.log1p(-hy[8])
                    for j in range(k):
                        v[j] = slab2
                        l1 = log_marginal(A, b, v, P, L, u)
                        v[j] = spike2
                        l0 = log_marginal(A, b, v, P, L, u)
                        pr = 1.0 / (1.0 + np.exp(-(log_odds + l1 - l0)))
                        incl[j] = 1 if np.random.random() < pr else 0
                        v[j] = slab2 if incl[j] == 1 else spike2
                draw_coefficients(A, b, v, P, L, u, mean, th)
            # 2. trend variances given theta, states integrated out (Metropolis on the log
            # scale, step adapted during burn-in towards acceptance 0.44), then the states
            for t in range(n):
                acc = 0.0
                for j in range(p):
                    acc += Z[t, j] * th[j]
                r[t] = y[t] - acc
            q1, acc1 = mh_var(q1, step1, r, llt, 1, s2, q1, q2, hy)
            if llt:
                q2, acc2 = mh_var(q2, step2, r, llt, 2, s2, q1, q2, hy)
            if it < tune:
                gain = 1.0 / np.sqrt(it + 1.0)
                step1 *= np.exp(gain * (acc1 - 0.44))
                if llt:
                    step2 *= np.exp(gain * (acc2 - 0.44))
            if llt:
                ffbs_trend(r, s2, q1, q2, hy[4], hy[5] ** 2, hy[11], m2, c2, level, slope)
            else:
                ffbs_level(r, s2, q1, hy[4], hy[5] ** 2, m1, c1, level)
            # horseshoe auxiliaries (Makalic & Schmidt 2016)
            if kind == HORSESHOE and k > 0:
                ssum = 0.0
                for j in range(k):
                    lam2[j] = inv_gamma(1.0, 1.0 / nu[j] + th[j] ** 2 / (2.0 * tau2))
                    nu[j] = inv_gamma(1.0, 1.0 + 1.0 / lam2[j])
                    ssum += th[j] ** 2 / lam2[j]
                tau2 = inv_gamma(0.5 * (k + 1), 1.0 / xi + 0.5 * ssum)
                xi = inv_gamma(1.0, 1.0 / hy[10] ** 2 + 1.0 / tau2)
            # 4. variances
            ssr = 0.0
            for t in range(n):
                e = r[t] - level[t]
                ssr += e * e
            shape, rate = hy[2] + 0.5 * n, hy[3] + 0.5 * ssr
            if kind != HORSESHOE:
                for j in range(k):
                    if incl[j] == 1:
                        shape += 0.5
                        rate += 0.5 * th[j] ** 2 / hy[6] ** 2
            s2 = inv_gamma(shape, rate)
            q1, q2 = trend_variance_draws(level, slope, llt, hy[0], hy[1], q2)
            if it >= tune:
                s = it - tune
                level_out[ch, s] = level
                if llt:
                    slope_out[ch, s] = slope
                    ss_out[ch, s] = np.sqrt(q2)
                sl_out[ch, s] = np.sqrt(q1)
                so_out[ch, s] = np.sqrt(s2)
                tau_out[ch, s] = np.sqrt(tau2)
                th_out[ch, s] = th
                for j in range(k):
                    in_out[ch, s, j] = incl[j]
    return level_out, slope_out, sl_out, ss_out, so_out, tau_out, th_out, in_out


def fit_gibbs(design, *, draws: int, tune: int, chains: int, seed: int):
    """Sample the Gaussian model of ``design`` by Gibbs sampling.

    Parameters
    ----------
    design : Design
        From :func:`~.design.make_design` with ``likelihood="gaussian"``.
    draws, tune, chains : int
        Kept sweeps per chain, discarded burn-in sweeps per chain, and chains.
    seed : int
        Seed of numba's generator; the same seed gives identical draws.

    Returns
    -------
    tuple
        ``(idata, timing)``: an :class:`arviz.InferenceData` whose posterior holds
        ``level`` (and ``slope``), ``level0``, ``sigma_level`` (``sigma_slope``),
        ``sigma_obs``, ``beta``, ``gamma``, ``inclusion`` (spike-and-slab) or ``tau`` and
        whose ``sample_stats.diverging`` is all false (a Gibbs sampler has no divergences),
        and ``timing`` with ``sampler`` and ``sample_seconds``.
    """
    import arviz as az

    spec, data = design.spec, design.data
    y = np.ascontiguousarray(data["y"], dtype=float)
    Z = np.ascontiguousarray(np.hstack([data["X"], data["F"]]), dtype=float)
    kind = (HORSESHOE if spec.regression_prior == "horseshoe" else
            MIXTURE if spec.mixture else SLAB)
    llt = spec.trend == "local_linear_trend"
    t0 = time.perf_counter()
    out = gibbs_sample(y, Z, int(spec.k), int(kind), bool(llt),
                       hyper_vector(data, spec.n, spec.trend), int(chains), int(draws),
                       int(tune), int(seed))
    seconds = time.perf_counter() - t0
    level, slope, sl, ss, so, tau, th, incl = out
    post = {"level": level, "level0": level[:, :, 0], "sigma_level": sl, "sigma_obs": so,
            "beta": th[:, :, :spec.k], "gamma": th[:, :, spec.k:]}
    dims = {"level": ["time"], "beta": ["control"], "gamma": ["season"]}
    if llt:
        post.update(slope=slope, sigma_slope=ss)
        dims["slope"] = ["time"]
    if kind == MIXTURE:
        post["inclusion"] = incl
        dims["inclusion"] = ["control"]
    if kind == HORSESHOE and spec.k:
        post["tau"] = tau
    stats = {"diverging": np.zeros((chains, draws), dtype=bool)}
    idata = az.from_dict(posterior=post, sample_stats=stats, dims=dims)
    return idata, {"sampler": "gibbs", "sample_seconds": seconds}
