r"""The ``backend="mle"`` path: statsmodels ``UnobservedComponents`` as a quick look.

The same local level (or local linear trend) + regression (+ Fourier seasonality) model is
fitted by maximum likelihood with the Kalman filter on the standardised pre-period. To
return the same result shape as the MCMC path, "draws" are built from the asymptotic
distribution of the estimates: variances log-normal around the MLE (delta method), control
coefficients normal with their estimated covariance, and the final level (and slope) from
the filtered state distribution at the end of the pre-period. This ignores the dependence
between the state and parameter uncertainty — a cross-check, not a replacement for MCMC.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .design import Design

__all__ = ["fit_mle"]


def fit_mle(design: Design, draws: int, rng: np.random.Generator):
    """Fit ``UnobservedComponents`` and return pseudo-posterior draws.

    Returns
    -------
    tuple
        ``(post, None, timing)``: ``post`` has the keys of
        :func:`~.forecast.posterior_arrays` (``level``, ``sigma_level``, ``sigma_obs``,
        ``beta``, ``gamma`` and, for a trend, ``slope``, ``sigma_slope``).
    """
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    t0 = time.perf_counter()
    spec, data = design.spec, design.data
    y = np.asarray(data["y"], dtype=float)
    exog = np.hstack([data["X"], data["F"]]) if spec.k + spec.n_season else None
    model = UnobservedComponents(
        y, level="llevel" if spec.trend == "local_level" else "lltrend", exog=exog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(disp=False, maxiter=500)
    names = list(model.param_names)
    est = np.asarray(res.params, dtype=float)
    cov = np.asarray(res.cov_params(), dtype=float)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))

    def variance(name: str) -> np.ndarray:
        i = names.index(name)
        v = max(est[i], 1e-10)
        sd_log = min(se[i] / v, 3.0) if np.isfinite(se[i]) else 0.0
        return v * np.exp(sd_log * rng.standard_normal(draws) - sd_log**2 / 2)

    n = len(y)
    post: dict[str, np.ndarray] = {
        "sigma_obs": np.sqrt(variance("sigma2.irregular")),
        "sigma_level": np.sqrt(variance("sigma2.level")),
    }
    if exog is not None:
        idx = [i for i, nm in enumerate(names) if nm.startswith("beta.")]
        sub = cov[np.ix_(idx, idx)]
        sub = (sub + sub.T) / 2 + 1e-12 * np.eye(len(idx))
        coef = rng.multivariate_normal(est[idx], sub, size=draws, method="eigh")
        post["beta"] = coef[:, :spec.k]
        post["gamma"] = coef[:, spec.k:]
    n_state = 1 if spec.trend == "local_level" else 2
    mean_T = np.asarray(res.filtered_state[:n_state, -1], dtype=float)
    cov_T = np.asarray(res.filtered_state_cov[:n_state, :n_state, -1], dtype=float)
    last = rng.multivariate_normal(mean_T, (cov_T + cov_T.T) / 2, size=draws, method="eigh")
    level = np.broadcast_to(np.asarray(res.smoothed_state[0], dtype=float), (draws, n)).copy()
    level[:, -1] = last[:, 0]
    post["level"] = level
    if n_state == 2:
        post["sigma_slope"] = np.sqrt(variance("sigma2.trend"))
        slope = np.broadcast_to(np.asarray(res.smoothed_state[1], dtype=float), (draws, n)).copy()
        slope[:, -1] = last[:, 1]
        post["slope"] = slope
        post["slope_last"] = last[:, 1]
    timing = {"fit_seconds": time.perf_counter() - t0, "mle_loglik": float(res.llf),
              "mle_params": {nm: float(v) for nm, v in zip(names, est)}}
    return post, None, timing
