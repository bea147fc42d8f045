r"""Counterfactual forecasts in numpy from posterior draws (pure functions on arrays).

For every posterior draw :math:`s` the latent states are propagated beyond the
pre-period with that draw's own innovation standard deviations,

.. math::

    \mu^{(s)}_{T+h} = \mu^{(s)}_{T+h-1} + \delta^{(s)}_{T+h-1} + \sigma^{(s)}_\mu z_{T+h},
    \qquad \delta^{(s)}_{T+h} = \delta^{(s)}_{T+h-1} + \sigma^{(s)}_\delta w_{T+h},

then observation noise (Gaussian) or count sampling (Poisson, negative binomial) is added.
Post-period outcomes are never used.
"""

from __future__ import annotations

import numpy as np

__all__ = ["forecast_eta", "in_sample_eta", "observe", "one_step_checks", "posterior_arrays"]

_NAMES = ("level", "sigma_level", "slope", "sigma_slope", "beta", "gamma", "sigma_obs", "phi")


def posterior_arrays(idata) -> dict[str, np.ndarray]:
    """Flatten chains × draws of the variables the forecast needs into ``(S, ...)`` arrays."""
    post = idata.posterior
    out = {}
    for name in _NAMES:
        if name in post:
            values = np.asarray(post[name].values, dtype=float)
            out[name] = values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])
    if "slope" in out:
        out["slope_last"] = out["slope"][:, -1]
    return out


def _linear(post: dict, X: np.ndarray | None, F: np.ndarray | None, n_draws: int, n_t: int):
    out = np.zeros((n_draws, n_t))
    if X is not None and X.shape[1] > 0 and "beta" in post:
        out += post["beta"] @ X.T
    if F is not None and F.shape[1] > 0 and "gamma" in post:
        out += post["gamma"] @ F.T
    return out


def in_sample_eta(post: dict, X: np.ndarray | None, F: np.ndarray | None) -> np.ndarray:
    """Pre-period linear predictor per draw, ``(S, n)``: level + regression + seasonal."""
    level = post["level"]
    return level + _linear(post, X, F, *level.shape)


def forecast_eta(post: dict, X: np.ndarray | None, F: np.ndarray | None, horizon: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Linear predictor beyond the pre-period per draw, ``(S, horizon)``.

    Parameters
    ----------
    post : dict
        From :func:`posterior_arrays`.
    X, F : numpy.ndarray or None
        Controls and Fourier terms for the forecast periods, ``(horizon, k)``.
    horizon : int
        Periods to forecast.
    rng : numpy.random.Generator
        Source of the innovations.
    """
    level_last = post["level"][:, -1]
    n_draws = level_last.shape[0]
    steps = post["sigma_level"][:, None] * rng.standard_normal((n_draws, horizon))
    if "slope_last" in post:
        slope_walk = post["sigma_slope"][:, None] * rng.standard_normal((n_draws, horizon))
        # slope used for step h is delta_{T+h-1}: delta_T, then delta_T + w_{T+1}, ...
        slopes = post["slope_last"][:, None] + np.concatenate(
            [np.zeros((n_draws, 1)), np.cumsum(slope_walk[:, :-1], axis=1)], axis=1)
        steps = steps + slopes
    level = level_last[:, None] + np.cumsum(steps, axis=1)
    return level + _linear(post, X, F, n_draws, horizon)


def observe(eta: np.ndarray, post: dict, likelihood: str, offset: np.ndarray | None,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Expected value and one simulated outcome per draw and period.

    Returns
    -------
    tuple of numpy.ndarray
        ``(state, samples)``: the conditional mean (``eta`` for the Gaussian model, the
        expected count :math:`E_t e^{\\eta_t}` for counts) and a draw of the outcome.
    """
    if likelihood == "gaussian":
        noise = post["sigma_obs"][:, None] * rng.standard_normal(eta.shape)
        return eta, eta + noise
    rate = np.exp(eta + (0.0 if offset is None else offset[None, :]))
    if likelihood == "negative_binomial":
        phi = post["phi"][:, None]
        mixed = rng.gamma(shape=1.0 / phi, scale=phi * rate, size=rate.shape)
        return rate, rng.poisson(mixed).astype(float)
    return rate, rng.poisson(rate).astype(float)


def one_step_checks(post: dict, y: np.ndarray, X, F, likelihood: str, offset,
                    rng: np.random.Generator) -> dict:
    r"""Pre-period one-step-ahead posterior predictive checks.

    For each draw the prediction for period :math:`t` uses the level at :math:`t-1` plus a
    fresh innovation (and the slope), i.e. the state-space one-step-ahead predictive given
    the draw's states; the randomised probability integral transform (PIT) of the observed
    value is averaged over draws. Well-calibrated forecasts give PIT values uniform on
    (0, 1) and standardised one-step residuals with mean 0, s.d. 1 and no autocorrelation.

    Returns
    -------
    dict
        ``pit_ks_p`` (Kolmogorov–Smirnov p-value for uniform PIT), ``resid_sd``,
        ``resid_ljung_box_p`` and ``coverage`` (share of pre-period observations inside the
        central 95 % one-step predictive interval).
    """
    from scipy import stats
    from statsmodels.stats.diagnostic import acorr_ljungbox

    level = post["level"]
    n_draws, n = level.shape
    prev = level[:, :-1].copy()
    if "slope" in post:
        prev += post["slope"][:, :-1]
    pred = prev + post["sigma_level"][:, None] * rng.standard_normal((n_draws, n - 1))
    pred = pred + _linear(post, None if X is None else X[1:], None if F is None else F[1:],
                          n_draws, n - 1)
    off = None if offset is None else offset[1:]
    _, sims = observe(pred, post, likelihood, off, rng)
    obs = np.asarray(y[1:], dtype=float)
    below = (sims < obs[None, :]).mean(axis=0)
    equal = (sims == obs[None, :]).mean(axis=0)
    pit = below + rng.uniform(size=obs.shape) * equal
    pit = np.clip(pit, 1e-6, 1 - 1e-6)
    resid = stats.norm.ppf(pit)
    lags = max(1, min(10, len(resid) // 5))
    lb = acorr_ljungbox(resid, lags=[lags], return_df=True)
    lo, hi = np.quantile(sims, [0.025, 0.975], axis=0)
    return {
        "pit_ks_p": float(stats.kstest(pit, "uniform").pvalue),
        "resid_sd": float(np.std(resid, ddof=1)),
        "resid_ljung_box_p": float(lb["lb_pvalue"].iloc[0]),
        "coverage": float(np.mean((obs >= lo) & (obs <= hi))),
    }
