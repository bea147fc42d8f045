"""MCMC convergence diagnostics for the BSTS posterior (r-hat, ESS, divergences)."""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_PATH_POINTS", "SAMPLED", "mcmc_diagnostics"]

#: At most this many time points of the level path enter the checks.
MAX_PATH_POINTS = 100

#: Sampled (or low-dimensional derived) quantities checked for convergence.
SAMPLED = ("sigma_level", "sigma_slope", "sigma_obs", "phi", "level0", "beta", "gamma", "tau")


def mcmc_diagnostics(idata, chains: int) -> dict:
    """r-hat (rank-normalised), bulk/tail ESS and divergences, with warnings.

    Thresholds (Vehtari et al., 2021): r-hat ≤ 1.01, bulk and tail ESS ≥ 100 per chain,
    no divergent transitions. The latent level path is included in the checks at up to
    ``MAX_PATH_POINTS`` evenly spaced time points (always the first and the last, from which
    the forecast starts): neighbouring states are nearly identical, and checking every one
    would make the diagnostics, not the sampler, dominate the run time of long series.

    Returns
    -------
    dict
        ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min`` (worst over parameters),
        ``divergences`` and ``_warnings`` (a list of messages) — the same keys and thresholds
        as :func:`utvardering.inference.bayes.convergence_diagnostics`.
    """
    import arviz as az

    names = [n for n in (*SAMPLED, "level") if n in idata.posterior]
    ds = idata.posterior[names]
    path = ds["level"] if "level" in names else None
    if path is not None and path.ndim == 3 and path.shape[2] > MAX_PATH_POINTS:
        keep = np.unique(np.linspace(0, path.shape[2] - 1, MAX_PATH_POINTS).round().astype(int))
        ds["level"] = path.isel({path.dims[2]: keep}).rename({path.dims[2]: "level_checked"})
    rhat = az.rhat(ds, var_names=names)
    bulk = az.ess(ds, var_names=names, method="bulk")
    tail = az.ess(ds, var_names=names, method="tail")

    def worst(ds, fn):
        values = np.concatenate([np.ravel(ds[n].values) for n in names])
        values = values[np.isfinite(values)]
        return float(fn(values)) if values.size else float("nan")

    out = {
        "r_hat_max": worst(rhat, np.max),
        "ess_bulk_min": worst(bulk, np.min),
        "ess_tail_min": worst(tail, np.min),
        "divergences": (int(idata.sample_stats["diverging"].values.sum())
                        if "sample_stats" in idata and "diverging" in idata.sample_stats else 0),
    }
    notes = []
    if chains > 1 and out["r_hat_max"] > 1.01:
        notes.append(f"r-hat {out['r_hat_max']:.3f} > 1.01: chains disagree; increase tune/draws "
                     "or simplify the model.")
    need = 100 * chains
    if out["ess_bulk_min"] < need or out["ess_tail_min"] < need:
        notes.append(f"effective sample size low (bulk {out['ess_bulk_min']:.0f}, tail "
                     f"{out['ess_tail_min']:.0f}; want ≥ {need}); increase draws.")
    if out["divergences"] > 0:
        notes.append(f"{out['divergences']} divergent transitions; the posterior may be "
                     "biased — inspect idata and consider stronger priors.")
    out["_warnings"] = notes
    return out
