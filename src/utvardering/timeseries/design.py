"""From :class:`~.inputs.SeriesInputs` to model data and prior hyper-parameters.

The priors follow R CausalImpact's defaults (``R/impact_model.R``; facts only):

- level innovation s.d.: ``SdPrior(sigma.guess = prior.level.sd * sdy, sample.size = 32)``,
  i.e. :math:`\\sigma_\\mu^2 \\sim \\text{Inv-Gamma}(16,\\ 16 (0.01\\, s_y)^2)`;
- observation s.d. (static regression with ``expected.r2 = 0.8``, ``prior.df = 50``):
  :math:`\\sigma_\\varepsilon^2 \\sim \\text{Inv-Gamma}(25,\\ 25 \\cdot 0.2\\, s_y^2)`;
- spike-and-slab inclusion probability ``expected.model.size / k`` (3 / k, capped at 1) and a
  slab of s.d. :math:`\\sigma_\\varepsilon/\\sqrt{0.01}` per standardised control (the
  diagonal of BoomSpikeSlab's default Zellner prior, information weight 0.01);
- initial level :math:`N(y_1, s_y^2)`.

For counts the level lives on the log-rate scale and its prior is scaled by the s.d. of the
log rate *net of Poisson sampling noise*, :math:`s_\\lambda` (:func:`latent_log_rate_sd`),
with a default share of 0.1 (:data:`PRIOR_LEVEL_SD`): the observation model accounts for the
sampling noise explicitly, so it should not set the scale of the latent walk (see
``docs/methods/bsts.md``, Priors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from ..errors import DataError
from .inputs import SeriesInputs, fourier_terms
from .model import ModelSpec

__all__ = ["PRIOR_LEVEL_SD", "Design", "latent_log_rate_sd", "make_design",
           "poisson_log_variance"]

#: Default ``prior_level_sd`` by likelihood: CausalImpact's 0.01 for Gaussian data (its
#: ``prior.level.sd``); for counts the 0.1 that CausalImpact's documentation calls the safer
#: choice when the controls leave much unexplained, applied to :func:`latent_log_rate_sd`.
PRIOR_LEVEL_SD = {"gaussian": 0.01, "poisson": 0.1, "negative_binomial": 0.1}
#: Above this mean the delta-method value 1/mu replaces the exact Poisson sum.
_EXACT_MU_MAX = 100.0


def poisson_log_variance(mu) -> np.ndarray:
    r"""Variance of :math:`\log(Y + 0.5)` for :math:`Y \sim \text{Poisson}(\mu)`.

    Exact by summation over :math:`y = 0, \dots, 199` for :math:`\mu \le 100`; beyond, the
    delta-method value :math:`1/\mu` (the two agree to within 1 % at :math:`\mu = 100`). At
    small means the delta method is far off (0.51 exact against 1 at :math:`\mu = 1`, 0.29
    against 0.25 at :math:`\mu = 4`), hence the sum.

    Parameters
    ----------
    mu : array_like
        Poisson means (non-negative).

    Returns
    -------
    numpy.ndarray
        One variance per mean.
    """
    mu = np.atleast_1d(np.asarray(mu, dtype=float))
    out = 1.0 / np.maximum(mu, 1e-12)
    small = mu <= _EXACT_MU_MAX
    if small.any():
        m = np.maximum(mu[small], 1e-300)
        y = np.arange(200.0)[:, None]
        p = np.exp(y * np.log(m) - m - gammaln(y + 1.0))
        ly = np.log(y + 0.5)
        mean = (p * ly).sum(axis=0)
        out[small] = (p * (ly - mean) ** 2).sum(axis=0)
    return out


def latent_log_rate_sd(y, log_exposure) -> float:
    r"""S.d. of the log rate net of Poisson noise, the scale of the count level prior.

    With :math:`\ell_t = \log((y_t + 0.5)/E_t)` over the pre-period and expected counts
    :math:`\mu_t = E_t\lambda_t`, :math:`\mathrm{Var}(\ell_t) \approx
    \mathrm{Var}(\log\lambda_t) + \overline{v(\mu_t)}` with :math:`v(\mu) =
    \mathrm{Var}(\log(Y+0.5))`, :math:`Y \sim \text{Poisson}(\mu)`, about :math:`1/\mu` by
    the delta method (computed exactly by :func:`poisson_log_variance` at
    :math:`\hat\mu_t = E_t \sum_s y_s / \sum_s E_s`). Returns

    .. math::

        s_\lambda = \sqrt{\max\big(s_y^2 - \overline{v(\hat\mu_t)},\ 0.01\, s_y^2\big)},

    with :math:`s_y` the s.d. of :math:`\ell_t`. The floor matters when the series looks like
    pure sampling noise: with the default share 0.1 the prior guess is then 0.01 :math:`s_y`,
    CausalImpact's share applied to the raw log counts (the earlier count default).

    Parameters
    ----------
    y : numpy.ndarray
        Pre-period counts.
    log_exposure : numpy.ndarray
        Pre-period log exposure (zeros without exposure).

    Returns
    -------
    float
        :math:`s_\lambda`.
    """
    y = np.asarray(y, dtype=float)
    expo = np.exp(np.asarray(log_exposure, dtype=float))
    s_y2 = float(np.var(np.log(y + 0.5) - np.log(expo), ddof=1))
    mu_hat = expo * y.sum() / expo.sum()
    noise = float(poisson_log_variance(mu_hat).mean())
    return float(np.sqrt(max(s_y2 - noise, 0.01 * s_y2)))


@dataclass
class Design:
    """Model data for the pre-period, forecast-period arrays and the back-transform."""

    spec: ModelSpec
    data: dict
    X_f: np.ndarray
    F_f: np.ndarray
    offset_f: np.ndarray | None
    y_mean: float
    y_sd: float
    pre_rows: np.ndarray
    forecast_rows: np.ndarray


def make_design(inp: SeriesInputs, *, likelihood: str, trend: str, seasonality,
                regression_prior: str, standardize: bool, prior_level_sd: float | None,
                expected_model_size: float, log_controls: bool | None) -> Design:
    r"""Standardise, build Fourier terms and set the priors' hyper-parameters.

    ``prior_level_sd=None`` takes :data:`PRIOR_LEVEL_SD` for the likelihood. The level
    innovation prior is :math:`\text{Inv-Gamma}(16, 16 (c\, s)^2)` with :math:`c` =
    ``prior_level_sd`` and :math:`s = s_y` (Gaussian) or :func:`latent_log_rate_sd` (counts).
    """
    if prior_level_sd is None:
        prior_level_sd = PRIOR_LEVEL_SD[likelihood]
    pre, fc = inp.pre, inp.forecast
    y_pre = inp.y[pre]
    count = likelihood != "gaussian"
    if count:
        bad = (y_pre < 0) | (np.round(y_pre) != y_pre)
        if bad.any():
            where = ", ".join(str(i) for i in inp.index[pre][bad][:5])
            raise DataError(f"likelihood={likelihood!r} needs non-negative integer counts; "
                            f"{inp.outcome!r} is not at {where}. Use likelihood='gaussian'.")
    X = inp.X.copy()
    if X.shape[1] and (log_controls or (log_controls is None and count and (X >= 0).all())):
        X = np.log(X + 0.5)
    mu_x, sd_x = X[pre].mean(axis=0), X[pre].std(axis=0, ddof=1)
    X = (X - mu_x) / np.where(sd_x > 0, sd_x, 1.0)
    F = fourier_terms(len(inp.y), seasonality)
    k, m = X.shape[1], F.shape[1]

    if count:
        offset = np.log(inp.exposure) if inp.exposure is not None else np.zeros(len(inp.y))
        log_rate = np.log((y_pre + 0.5) / np.exp(offset[pre]))
        s_y = float(np.std(log_rate, ddof=1))
        s_level = latent_log_rate_sd(y_pre, offset[pre])
        head = slice(0, min(12, len(y_pre)))
        init_mean = float(np.log((y_pre[head].sum() + 0.5) / np.exp(offset[pre][head]).sum()))
        y_mean, y_sd, y_model = 0.0, 1.0, y_pre.astype(np.int64)
        obs_alpha, obs_beta, slab, season_sd = 1.0, 1.0, 1.0, 1.0
    else:
        offset = None
        y_mean = float(y_pre.mean()) if standardize else 0.0
        y_sd = float(y_pre.std(ddof=1)) if standardize else 1.0
        y_model = (y_pre - y_mean) / y_sd
        s_y = float(np.std(y_model, ddof=1))
        s_level = s_y
        init_mean = float(y_model[0])
        r2 = 0.8 if k > 0 else 0.0
        obs_alpha = 25.0  # prior.df / 2
        obs_beta = 25.0 * max(1.0 - r2, 0.2) * s_y**2
        slab, season_sd = 1.0 / np.sqrt(0.01), s_y
    incl = min(1.0, expected_model_size / k) if k else 1.0
    p0 = min(expected_model_size, max(k - 1, 1))
    tau0 = (p0 / max(k - p0, 1)) / np.sqrt(pre.sum()) if k > p0 else 1.0
    spec = ModelSpec(likelihood=likelihood, trend=trend, n=int(pre.sum()), k=k, n_season=m,
                     regression_prior=regression_prior,
                     mixture=bool(regression_prior == "spike_and_slab" and incl < 1.0))
    data = {
        "y": y_model, "X": X[pre], "F": F[pre],
        "offset": offset[pre] if offset is not None else np.zeros(pre.sum()),
        "level_alpha": 16.0, "level_beta": 16.0 * (prior_level_sd * s_level) ** 2,
        "obs_alpha": obs_alpha, "obs_beta": obs_beta,
        "init_mean": init_mean, "init_sd": s_y if not count else 1.0,
        "slab_scale": slab, "spike_sd": 0.01, "incl_prob": incl,
        "season_sd": season_sd, "tau0": tau0,
    }
    return Design(spec=spec, data=data, X_f=X[fc], F_f=F[fc],
                  offset_f=offset[fc] if offset is not None else None,
                  y_mean=y_mean, y_sd=y_sd, pre_rows=np.flatnonzero(pre),
                  forecast_rows=np.flatnonzero(fc))
