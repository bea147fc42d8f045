r"""PyMC builders for the structural time-series model, sampled through the shared model cache.

The model is fitted on the pre-period only. Its pieces, on the modelling scale
(standardised outcome for ``likelihood="gaussian"``, log expected count for the count
likelihoods):

.. math::

    \eta_t = \mu_t + x_t^\top\beta + f_t^\top\gamma (+ \log E_t), \qquad
    \mu_t = \mu_{t-1} + \delta_{t-1} + \sigma_\mu z_t, \qquad
    \delta_t = \delta_{t-1} + \sigma_\delta w_t,

with :math:`z_t, w_t \sim N(0, 1)` sampled directly (the *non-centred* random walk) and
:math:`\delta \equiv 0` for a local level. See ``docs/methods/bsts.md`` for the priors.

Compiling a model (numba via nutpie) takes 10–20 s; the data and prior hyper-parameters
are ``pm.Data`` containers, so a compiled model is reused for any data of the same shape
and options (:func:`utvardering.inference.bayes.sample_cached`, the library's one cache of
compiled PyMC models).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inference.bayes import sample_cached

__all__ = ["ModelSpec", "build_model", "sample_model"]


@dataclass(frozen=True)
class ModelSpec:
    """Everything that changes the model graph (and so the compiled code)."""

    likelihood: str  # "gaussian" | "poisson" | "negative_binomial"
    trend: str  # "local_level" | "local_linear_trend"
    n: int  # pre-period length
    k: int  # number of control series
    n_season: int  # number of Fourier columns
    regression_prior: str  # "spike_and_slab" | "horseshoe"
    mixture: bool  # spike-and-slab with inclusion probability < 1 (a two-component mixture)


def _hyper_names() -> tuple[str, ...]:
    return ("level_alpha", "level_beta", "obs_alpha", "obs_beta", "init_mean", "init_sd",
            "slab_scale", "spike_sd", "incl_prob", "season_sd", "tau0")


def build_model(spec: ModelSpec, data: dict):
    """Build the PyMC model for ``spec`` with initial values from ``data``.

    Parameters
    ----------
    spec : ModelSpec
        Graph options.
    data : dict
        Arrays ``y`` (n,), ``X`` (n, k), ``F`` (n, n_season), ``offset`` (n,) and the scalar
        hyper-parameters named in :func:`_hyper_names`.

    Returns
    -------
    pymc.Model
    """
    import pymc as pm
    import pytensor.tensor as pt

    n = spec.n
    with pm.Model() as model:
        d = {name: pm.Data(name, np.asarray(data[name], dtype=float)) for name in _hyper_names()}
        y = pm.Data("y", np.asarray(data["y"], dtype=float if spec.likelihood == "gaussian" else "int64"))
        # Level (and slope): inverse-gamma priors on the innovation variances, as bsts' SdPrior.
        var_level = pm.InverseGamma("var_level", alpha=d["level_alpha"], beta=d["level_beta"])
        sigma_level = pm.Deterministic("sigma_level", pt.sqrt(var_level))
        level0 = pm.Normal("level0", mu=d["init_mean"], sigma=d["init_sd"])
        z = pm.Normal("z", 0.0, 1.0, shape=n - 1)
        if spec.trend == "local_linear_trend":
            var_slope = pm.InverseGamma("var_slope", alpha=d["level_alpha"], beta=d["level_beta"])
            sigma_slope = pm.Deterministic("sigma_slope", pt.sqrt(var_slope))
            # Initial slope: a drift of about one s.d. of the outcome over the pre-period.
            slope0 = pm.Normal("slope0", 0.0, d["init_sd"] / n)
            w = pm.Normal("w", 0.0, 1.0, shape=n - 1)
            slope = pt.concatenate([slope0[None], slope0 + pt.cumsum(sigma_slope * w)])
            pm.Deterministic("slope", slope)
            steps = slope[:-1] + sigma_level * z
        else:
            steps = sigma_level * z
        level = pm.Deterministic("level", pt.concatenate([level0[None], level0 + pt.cumsum(steps)]))
        eta = level
        if spec.likelihood == "gaussian":
            var_obs = pm.InverseGamma("var_obs", alpha=d["obs_alpha"], beta=d["obs_beta"])
            sigma_obs = pm.Deterministic("sigma_obs", pt.sqrt(var_obs))
        if spec.k > 0:
            X = pm.Data("X", np.asarray(data["X"], dtype=float))
            slab = d["slab_scale"] * (sigma_obs if spec.likelihood == "gaussian" else 1.0)
            if spec.regression_prior == "horseshoe":
                # Regularised horseshoe (Piironen & Vehtari 2017), non-centred; the slab
                # (c^2 ~ Inv-Gamma(2, 2 slab^2), i.e. nu = 4) tames the funnel of the plain one.
                lam = pm.HalfCauchy("lam", 1.0, shape=spec.k)
                tau = pm.HalfCauchy("tau", d["tau0"])
                c2 = pm.InverseGamma("c2", 2.0, 2.0 * slab**2)
                lam_t = pt.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
                b_raw = pm.Normal("beta_raw", 0.0, 1.0, shape=spec.k)
                beta = pm.Deterministic("beta", b_raw * lam_t * tau)
            elif spec.mixture:
                # Spike-and-slab with the inclusion indicators summed out: a two-component
                # normal mixture per coefficient (George & McCulloch 1993, SSVS form).
                beta = pm.NormalMixture(
                    "beta", w=pt.stack([1.0 - d["incl_prob"], d["incl_prob"]]),
                    mu=pt.zeros(2), sigma=pt.stack([d["spike_sd"], slab]),
                    shape=spec.k)
            else:
                b_raw = pm.Normal("beta_raw", 0.0, 1.0, shape=spec.k)
                beta = pm.Deterministic("beta", b_raw * slab)
            eta = eta + pt.dot(X, beta)
        if spec.n_season > 0:
            F = pm.Data("F", np.asarray(data["F"], dtype=float))
            gamma = pm.Normal("gamma", 0.0, d["season_sd"], shape=spec.n_season)
            eta = eta + pt.dot(F, gamma)
        if spec.likelihood == "gaussian":
            pm.Normal("obs", mu=eta, sigma=sigma_obs, observed=y)
        else:
            offset = pm.Data("offset", np.asarray(data["offset"], dtype=float))
            rate = pt.exp(eta + offset)
            if spec.likelihood == "poisson":
                pm.Poisson("obs", mu=rate, observed=y)
            else:
                phi = pm.HalfNormal("phi", 1.0)  # overdispersion: Var = mu + phi mu^2
                pm.NegativeBinomial("obs", mu=rate, alpha=1.0 / phi, observed=y)
    return model


def _updates(spec: ModelSpec, data: dict) -> dict:
    out = {name: np.asarray(data[name], dtype=float) for name in _hyper_names()}
    out["y"] = np.asarray(data["y"], dtype=float if spec.likelihood == "gaussian" else "int64")
    if spec.k > 0:
        out["X"] = np.asarray(data["X"], dtype=float)
    if spec.n_season > 0:
        out["F"] = np.asarray(data["F"], dtype=float)
    if spec.likelihood != "gaussian":
        out["offset"] = np.asarray(data["offset"], dtype=float)
    return out


def sample_model(spec: ModelSpec, data: dict, *, draws: int, tune: int, chains: int,
                 random_state=None, sampler: str | None = None):
    """Sample the posterior of the pre-period model.

    Parameters
    ----------
    spec, data
        See :func:`build_model`.
    draws, tune, chains : int
        NUTS settings.
    random_state : int or numpy.random.Generator, optional
        Seed.
    sampler : {"nutpie", "pymc"}, optional
        Default: nutpie when installed, else PyMC's NUTS.

    Returns
    -------
    tuple
        ``(idata, timing)`` where ``timing`` holds ``compile_seconds``, ``sample_seconds``,
        ``cache_hit`` and ``sampler``.
    """
    # The horseshoe's funnel needs smaller steps (fewer divergences) than the default 0.8.
    target_accept = 0.95 if spec.regression_prior == "horseshoe" and spec.k > 0 else 0.8
    idata, info = sample_cached(("bsts", spec), lambda values: build_model(spec, data),
                                _updates(spec, data), draws=draws, tune=tune, chains=chains,
                                random_state=random_state, sampler=sampler,
                                target_accept=target_accept, cores=min(chains, 2))
    return idata, info
