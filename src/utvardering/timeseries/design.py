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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from .inputs import SeriesInputs, fourier_terms
from .model import ModelSpec

__all__ = ["Design", "make_design"]


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
                regression_prior: str, standardize: bool, prior_level_sd: float,
                expected_model_size: float, log_controls: bool | None) -> Design:
    """Standardise, build Fourier terms and set the priors' hyper-parameters."""
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
        "level_alpha": 16.0, "level_beta": 16.0 * (prior_level_sd * s_y) ** 2,
        "obs_alpha": obs_alpha, "obs_beta": obs_beta,
        "init_mean": init_mean, "init_sd": s_y if not count else 1.0,
        "slab_scale": slab, "spike_sd": 0.01, "incl_prob": incl,
        "season_sd": season_sd, "tau0": tau0,
    }
    return Design(spec=spec, data=data, X_f=X[fc], F_f=F[fc],
                  offset_f=offset[fc] if offset is not None else None,
                  y_mean=y_mean, y_sd=y_sd, pre_rows=np.flatnonzero(pre),
                  forecast_rows=np.flatnonzero(fc))
