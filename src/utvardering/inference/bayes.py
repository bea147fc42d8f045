"""Sampling PyMC models: nutpie when installed, PyMC's NUTS otherwise; compiled models cached.

Compiling a PyMC model (numba via nutpie, or C via PyTensor) costs seconds; fitting the same
model shape again — placebo refits, robustness checks, leave-one-out — should not pay it
twice. :func:`sample_cached` keeps one compiled model per ``key`` (the caller's description
of the shape and options) and swaps the data in through ``pm.Data`` containers.

The sampler's own progress bar is shown only when :func:`utvardering.progress.enabled` is true
(``utvardering run`` on a terminal without ``--quiet``); library calls and tests stay silent.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np

from .. import progress

__all__ = ["clear_model_cache", "convergence_diagnostics", "sample_cached", "seed_from"]

_CACHE: dict[Hashable, tuple[Any, Any]] = {}


def clear_model_cache() -> None:
    """Forget every compiled model."""
    _CACHE.clear()


def seed_from(random_state) -> int:
    """An int seed from ``None``, an int or a numpy Generator."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    return int(random_state)


def _has_nutpie() -> bool:
    try:
        import nutpie  # noqa: F401
    except ImportError:
        return False
    return True


def sample_cached(
    key: Hashable,
    build: Callable[[Mapping[str, np.ndarray]], Any],
    data: Mapping[str, np.ndarray],
    *,
    draws: int,
    tune: int,
    chains: int,
    random_state=None,
    sampler: str | None = None,
    progressbar: bool | None = None,
    target_accept: float | None = None,
    cores: int | None = None,
):
    """Sample the model built by ``build(data)``, reusing the compiled model for ``key``.

    Parameters
    ----------
    key : hashable
        Identifies the model's shape and options; equal keys must give models that differ
        only in the values of their ``pm.Data`` containers (named as in ``data``).
    build : callable
        ``build(data) -> pymc.Model`` with one ``pm.Data`` per entry of ``data``.
    data : mapping of str to ndarray
        Values for the data containers.
    draws, tune, chains : int
        NUTS settings.
    random_state : int or numpy.random.Generator, optional
    sampler : {"nutpie", "pymc"}, optional
        Default: nutpie when installed.
    progressbar : bool, optional
        Show the sampler's progress bar. Default: :func:`utvardering.progress.enabled`
        (off unless switched on, e.g. by ``utvardering run`` on a terminal).
    target_accept : float, optional
        NUTS target acceptance rate; default the sampler's own (0.8).
    cores : int, optional
        Processes for PyMC's sampler (ignored by nutpie); default PyMC's choice.

    Returns
    -------
    idata : arviz.InferenceData
    info : dict
        ``sampler``, ``compile_seconds``, ``sample_seconds``, ``cache_hit``.
    """
    import pymc as pm

    sampler = sampler or ("nutpie" if _has_nutpie() else "pymc")
    full_key = (key, sampler)
    began = time.perf_counter()
    hit = full_key in _CACHE
    if not hit:
        model = build(data)
        compiled = None
        if sampler == "nutpie":
            import nutpie

            compiled = nutpie.compile_pymc_model(model)
        _CACHE[full_key] = (model, compiled)
    model, compiled = _CACHE[full_key]
    compile_seconds = time.perf_counter() - began
    seed = seed_from(random_state)
    show = progress.enabled() if progressbar is None else bool(progressbar)
    began = time.perf_counter()
    with progress.external() if show else contextlib.nullcontext():
        if sampler == "nutpie":
            import nutpie

            extra = {} if target_accept is None else {"target_accept": target_accept}
            known = {k: np.asarray(v) for k, v in data.items() if k in compiled.shared_data}
            idata = nutpie.sample(compiled.with_data(**known), draws=draws, tune=tune,
                                  chains=chains, seed=seed, progress_bar=show, **extra)
        else:
            extra = {} if target_accept is None else {"target_accept": target_accept}
            if cores is not None:
                extra["cores"] = cores
            with model:
                pm.set_data({k: np.asarray(v) for k, v in data.items()})
                idata = pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed,
                                  progressbar=show, compute_convergence_checks=False, **extra)
    info = {"sampler": sampler, "compile_seconds": round(compile_seconds, 3),
            "sample_seconds": round(time.perf_counter() - began, 3), "cache_hit": hit}
    return idata, info


def convergence_diagnostics(idata, var_names: list[str]) -> dict[str, Any]:
    """Worst r-hat, lowest bulk and tail ESS, and the number of divergences.

    Returns
    -------
    dict
        ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``divergences`` and a list of
        ``warnings`` (r-hat > 1.01, bulk or tail ESS below 100 per chain, any divergence —
        the thresholds of Vehtari et al. 2021, shared with the BSTS diagnostics).
    """
    import arviz as az

    summary = az.summary(idata, var_names=var_names, kind="diagnostics")
    divergences = int(np.asarray(idata.sample_stats["diverging"]).sum()) if "diverging" in idata.sample_stats else 0
    out = {
        "r_hat_max": float(summary["r_hat"].max()),
        "ess_bulk_min": float(summary["ess_bulk"].min()),
        "ess_tail_min": float(summary["ess_tail"].min()),
        "divergences": divergences,
    }
    warnings = []
    if out["r_hat_max"] > 1.01:
        warnings.append(f"r-hat up to {out['r_hat_max']:.3f} (> 1.01): chains disagree; draw more or reparametrise.")
    need = 100 * int(idata.posterior.sizes.get("chain", 1))
    if min(out["ess_bulk_min"], out["ess_tail_min"]) < need:
        warnings.append(f"effective sample size down to {min(out['ess_bulk_min'], out['ess_tail_min']):.0f} (< {need}): "
                        "intervals are imprecise; draw more.")
    if divergences:
        warnings.append(f"{divergences} divergent transitions: the posterior may be biased.")
    out["warnings"] = warnings
    return out
