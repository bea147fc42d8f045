"""Police / Brå counts per area × year: rates per 100,000 with exact Poisson intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError
from ..options import check_level
from .indicators import COUNT_INDICATORS, Indicator

__all__ = ["count_estimates", "garwood_interval"]


def garwood_interval(count: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact (Garwood 1936) interval for a Poisson mean from an observed count :math:`y`.

    .. math::

        \left[\tfrac12\chi^2_{2y,\,\alpha/2},\ \tfrac12\chi^2_{2(y+1),\,1-\alpha/2}\right],

    with lower limit 0 when :math:`y = 0`. Its coverage is at least ``level`` for every mean.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28, 437–442.
    """
    level = check_level(level)
    y = np.asarray(count, float)
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        low = np.where(y > 0, stats.chi2.ppf(alpha / 2, 2 * y) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * (y + 1)) / 2
    return low, high


def count_estimates(
    counts: pd.DataFrame,
    indicators: Sequence[Indicator] = COUNT_INDICATORS,
    *,
    unit: str = "unit",
    time: str = "time",
    population: str = "population",
    level: float = 0.95,
) -> pd.DataFrame:
    """Rates per ``per`` residents with Garwood intervals per area × year × offence, and the city.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per area and year with a population column and one count column per
        indicator.
    indicators : sequence of Indicator
        Count indicators (kind ``"rate"``).
    unit, time, population : str
        Column names.
    level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``time``, ``indicator``, ``kind`` (``"rate"``), ``count``, ``population``,
        ``exposure`` (population / per), ``estimate`` (rate per ``per``), ``se``
        (:math:`\\sqrt{y}` / exposure), ``ci_low``, ``ci_high``; city rows have
        ``unit == "City"``.

    Raises
    ------
    DataError
        Missing columns, negative or fractional counts, non-positive population, or an
        area listed twice in a year.
    """
    level = check_level(level)
    need = [unit, time, population, *[i.column for i in indicators]]
    missing = [c for c in need if c not in counts.columns]
    if missing:
        raise DataError(f"count data miss column(s) {missing}; they have {list(counts.columns)}. "
                        "Pass indicators= and the column names that match the file.")
    dup = counts.duplicated([unit, time], keep=False)
    if dup.any():
        raise DataError(f"count data list area × year {counts.loc[dup, [unit, time]].head(3).values.tolist()} "
                        "more than once; aggregate to one row per area and year first.")
    pop = pd.to_numeric(counts[population], errors="coerce")
    if (pop.isna() | (pop <= 0)).any():
        bad = counts.loc[pop.isna() | (pop <= 0), [unit, time]].head(3).values.tolist()
        raise DataError(f"population must be positive; it is missing or <= 0 for {bad}.")
    out = []
    for ind in indicators:
        y = pd.to_numeric(counts[ind.column], errors="coerce")
        bad = y.isna() | (y < 0) | (np.floor(y) != y)
        if bad.any():
            rows = counts.loc[bad, [unit, time]].head(3).values.tolist()
            raise DataError(f"count column {ind.column!r} must hold whole non-negative numbers; "
                            f"see {rows}. Suppressed cells must be filled or the rows dropped explicitly.")
        block = pd.DataFrame({"unit": counts[unit].to_numpy(), "time": counts[time].to_numpy(),
                              "count": y.to_numpy(float), "population": pop.to_numpy(float)})
        city = block.groupby("time", as_index=False)[["count", "population"]].sum()
        city.insert(0, "unit", "City")
        block = pd.concat([block, city], ignore_index=True)
        block.insert(2, "indicator", ind.name)
        block.insert(3, "kind", "rate")
        block["exposure"] = block["population"] / ind.per
        block["estimate"] = block["count"] / block["exposure"]
        block["se"] = np.sqrt(block["count"]) / block["exposure"]
        low, high = garwood_interval(block["count"].to_numpy(), level)
        block["ci_low"] = low / block["exposure"]
        block["ci_high"] = high / block["exposure"]
        out.append(block)
    table = pd.concat(out, ignore_index=True)
    table["count"] = table["count"].astype(np.int64)
    return table
