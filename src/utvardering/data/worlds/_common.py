"""Building blocks shared by the simulated worlds.

Random streams, calendars, latent processes and the coupled draw of a potential outcome
pair :math:`(Y(0), Y(1))` with common random numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.signal import lfilter

from ...errors import DesignError

__all__ = [
    "GENERATOR_VERSION",
    "SeedLike",
    "ar1",
    "calendar_with",
    "check_positive",
    "coupled_poisson_gamma",
    "gamma_frailty",
    "jsonable",
    "month_fraction",
    "monthly_periods",
    "normalise_seed",
    "open_uniform",
    "seasonal",
    "spawn_streams",
]

#: Version of the generative models. Bump it whenever a change alters the realisation
#: produced by a given seed, and re-run ``scripts/make_simulated_datasets.py``.
GENERATOR_VERSION = "1.0"

SeedLike = int | np.random.Generator


def normalise_seed(seed: SeedLike) -> int | None:
    """Return the seed as stored in a truth dict (``None`` when a Generator was passed)."""
    if isinstance(seed, np.random.Generator):
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DesignError(
            f"seed={seed!r} is not a non-negative integer or numpy Generator; "
            "pass e.g. seed=2018 or seed=numpy.random.default_rng(2018)."
        )
    return int(seed)


def spawn_streams(seed: SeedLike, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """Independent child generators, one per name, from ``default_rng(seed).spawn``.

    The order of ``names`` fixes which child each name gets, so adding a parameter that
    is used by only one stream never shifts the draws of another.
    """
    normalise_seed(seed)
    parent = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(int(seed))
    return dict(zip(names, parent.spawn(len(names)), strict=True))


def check_positive(what: str, **values: float) -> None:
    """Raise a DesignError naming the first parameter that is not a positive finite number."""
    for name, value in values.items():
        if not np.isfinite(value) or value <= 0:
            raise DesignError(
                f"{what}: {name}={value!r} must be a positive finite number; "
                "pass e.g. 1.0 for a ratio meaning no change."
            )


def monthly_periods(first: str, last: str, what: str) -> pd.PeriodIndex:
    """Monthly periods ``first..last`` (inclusive), with a clear error for a bad range."""
    try:
        periods = pd.period_range(pd.Period(first, freq="M"), pd.Period(last, freq="M"), freq="M")
    except (ValueError, TypeError) as exc:
        raise DesignError(
            f"{what}: cannot read the months first={first!r}, last={last!r} ({exc}); "
            "give them as 'YYYY-MM' strings, e.g. first='2014-01', last='2023-12'."
        ) from exc
    if len(periods) < 24:
        raise DesignError(
            f"{what}: first={first!r}..last={last!r} gives {len(periods)} months; "
            "the simulated worlds need at least 24 months, widen the range."
        )
    return periods


def calendar_with(periods: pd.PeriodIndex, ref_first: str, ref_last: str) -> pd.PeriodIndex:
    """Monthly calendar spanning ``periods`` and the reference window ``ref_first..ref_last``.

    Latent paths are drawn on it, so a unit's level can be normalised over a fixed
    reference window whatever months the caller asks for.
    """
    lo = min(periods[0], pd.Period(ref_first, freq="M"))
    hi = max(periods[-1], pd.Period(ref_last, freq="M"))
    return pd.period_range(lo, hi, freq="M")


def month_fraction(periods: pd.PeriodIndex, start: str, end: str | None) -> np.ndarray:
    """Share of each month's days inside ``[start, end]`` (dates, both inclusive)."""
    first_day = periods.start_time.normalize()
    n_days = periods.days_in_month.to_numpy().astype(float)
    t0 = pd.Timestamp(start)
    t1 = pd.Timestamp(end) if end is not None else periods[-1].end_time.normalize()
    lo = np.maximum(first_day, t0)
    hi = np.minimum(periods.end_time.normalize(), t1)
    days = ((hi - lo).days.to_numpy() + 1).clip(min=0)
    return np.minimum(days / n_days, 1.0)


def seasonal(periods: pd.PeriodIndex, amplitude: float, peak_month: float) -> np.ndarray:
    r"""Log-scale seasonal term :math:`A\cos(2\pi(m - m^*)/12)` for each period."""
    month = periods.month.to_numpy().astype(float)
    return amplitude * np.cos(2.0 * np.pi * (month - peak_month) / 12.0)


def ar1(rng: np.random.Generator, n_series: int, n_time: int, rho: float, sigma: float) -> np.ndarray:
    r"""Stationary Gaussian AR(1) paths, shape ``(n_series, n_time)``.

    :math:`x_t = \rho x_{t-1} + \varepsilon_t`, :math:`\varepsilon_t \sim N(0, \sigma^2(1-\rho^2))`,
    so that the marginal standard deviation is ``sigma``.
    """
    eps = rng.standard_normal((n_series, n_time))
    eps[:, 1:] *= np.sqrt(1.0 - rho**2)
    return sigma * lfilter([1.0], [1.0, -rho], eps, axis=1)


def open_uniform(rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """Uniform draws strictly inside (0, 1), safe for quantile functions."""
    return (rng.integers(0, 2**53, size=size) + 0.5) / 2.0**53


def _poisson_quantile(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    return stats.poisson.ppf(u, lam).astype(np.int64)


def coupled_poisson_gamma(
    mu0: np.ndarray,
    mu1: np.ndarray,
    frailty: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw the potential outcome pair of a Poisson–gamma (negative binomial) count.

    Both outcomes share the cell's gamma frailty :math:`g` and uniform :math:`U`:
    :math:`Y(d) = F^{-1}_{\mathrm{Pois}(\mu_d g)}(U)`. Each is marginally negative binomial
    with mean :math:`\mu_d`, the pair is comonotone, and cells with
    :math:`\mu_1 = \mu_0` get :math:`Y(1) = Y(0)` exactly.
    """
    y0 = _poisson_quantile(u, mu0 * frailty)
    changed = mu1 != mu0
    y1 = y0.copy()
    if np.any(changed):
        y1[changed] = _poisson_quantile(u[changed], (mu1 * frailty)[changed])
    return y0, y1


def gamma_frailty(rng: np.random.Generator, dispersion: float, size: Any) -> np.ndarray:
    r"""Gamma multipliers with mean 1 and variance ``dispersion`` (:math:`\phi`)."""
    if dispersion <= 0:
        return np.ones(size)
    return rng.gamma(shape=1.0 / dispersion, scale=dispersion, size=size)


def jsonable(value: Any) -> Any:
    """Recursively turn numpy / pandas scalars and tuples into plain JSON types."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, pd.Period):
        return str(value)
    return value
