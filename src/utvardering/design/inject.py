"""Placebo designs on the user's own panel, and known effects injected into them.

A *placebo design* is a version of the study in which the programme certainly did nothing:

* **in time** — the treated units keep their identity, but the data end before the real start
  and a fake start is placed inside the pre-period (``fake_post`` periods before the end);
* **in space** (placebo unit) — the real treated units are removed, and as many units drawn
  from the donor pool take their place with the real start(s).

:func:`inject` then multiplies the placebo-treated units' outcome over the fake post-period by
``1 + effect``. Counts stay counts: a reduction thins every cell's events binomially
(:math:`y' \\sim \\mathrm{Binomial}(y, 1 + e)`), an increase adds Poisson events
(:math:`y' = y + \\mathrm{Poisson}(e\\,y)`), both drawn by inversion from one uniform per cell so
that the draws for different effect sizes are coupled (common random numbers: a larger
reduction never keeps more events). A continuous outcome is shifted by ``effect`` times the
unit's mean over the placebo pre-period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DesignError

__all__ = ["PlaceboDesign", "inject", "placebo_designs"]


@dataclass(frozen=True)
class PlaceboDesign:
    """One placebo version of a study.

    Attributes
    ----------
    kind : {"time", "unit"}
    label : str
        ``"start 2016-10"`` or ``"units Borås"``.
    treated : tuple
        The placebo-treated units.
    starts : tuple
        Their (fake) starts, as periods of the panel.
    last : object
        Last period kept (time placebos: the end of the fake post-period), or ``None``.
    """

    kind: str
    label: str
    treated: tuple
    starts: tuple
    last: object = None


def placebo_designs(study, kind: str, *, post_periods: int | None = None,
                    min_pre_periods: int | None = None, max_designs: int = 1000,
                    rng: np.random.Generator | None = None) -> tuple[list[PlaceboDesign], int]:
    """Every placebo design of ``kind`` for ``study`` (unit designs: at most ``max_designs``).

    Parameters
    ----------
    study : Study
    kind : {"time", "unit"}
    post_periods : int, optional
        Length of the fake post-period (time placebos). Default: the real post-period's length,
        capped at a third of the pre-period so that several fake starts fit.
    min_pre_periods : int, optional
        Fewest periods before a fake start (default: a third of the pre-period, at least 2).
    max_designs : int
        Cap on the number of placebo-unit sets (drawn at random beyond it).
    rng : numpy.random.Generator, optional
        Draws the placebo-unit sets when there are more than ``max_designs``.

    Returns
    -------
    designs : list of PlaceboDesign
    post_periods : int
        The fake post-period's length (time), or the real one (unit).
    """
    if kind == "time":
        if study.is_staggered:
            raise DesignError("placebo='time' needs one common start; this study has staggered "
                              "starts: use placebo='unit'.")
        pre = list(study.pre_times)
        n_pre = len(pre)
        n_post = len(study.post_times)
        low = max(2, n_pre // 3) if min_pre_periods is None else int(min_pre_periods)
        length = min(n_post, max(1, n_pre // 3)) if post_periods is None else int(post_periods)
        if length < 1 or low + length > n_pre:
            raise DesignError(
                f"placebo='time' needs at least {low} pre-periods before a fake start and "
                f"{length} fake post-periods inside the {n_pre} pre-periods ({pre[0]} to "
                f"{pre[-1]}); give a shorter post_periods=, lower min_pre_periods=, or use "
                "placebo='unit'.")
        designs = [PlaceboDesign("time", f"start {pre[k]}", tuple(study.treated),
                                 tuple(pre[k] for _ in study.treated), pre[k + length - 1])
                   for k in range(low, n_pre - length + 1)]
        return designs, length
    if kind != "unit":
        raise DesignError(f"placebo={kind!r} is not an option; choose 'time', 'unit' or 'auto'.")
    treated = list(study.treated)
    donors = list(study.donors)
    if len(donors) <= len(treated):
        raise DesignError(
            f"placebo='unit' draws {len(treated)} placebo-treated unit(s) from the donor pool and "
            f"needs comparison units left over; the pool has {len(donors)}. Use placebo='time'.")
    starts = tuple(study.starts[u] for u in treated)
    post = len(study.post_times)
    if len(treated) == 1:
        sets = [(d,) for d in donors]
    else:
        from math import comb

        if comb(len(donors), len(treated)) <= max_designs:
            from itertools import combinations

            sets = list(combinations(donors, len(treated)))
        else:
            rng = np.random.default_rng(0) if rng is None else rng
            seen, sets = set(), []
            while len(sets) < max_designs:
                pick = tuple(sorted(rng.choice(len(donors), len(treated), replace=False)))
                if pick not in seen:
                    seen.add(pick)
                    sets.append(tuple(donors[i] for i in pick))
    designs = [PlaceboDesign("unit", "units " + ", ".join(map(str, s)), tuple(s), starts) for s in sets]
    return designs, post


def treated_post_mask(frame: pd.DataFrame, unit: str, time: str, design: PlaceboDesign,
                      end=None) -> np.ndarray:
    """Rows of the placebo-treated units from their (fake) start on (to ``end``)."""
    mask = np.zeros(len(frame), dtype=bool)
    units = frame[unit].to_numpy()
    times = frame[time]
    for u, s in zip(design.treated, design.starts):
        rows = (units == u) & (times >= s).to_numpy()
        if end is not None:
            rows &= (times <= end).to_numpy()
        mask |= rows
    return mask


def inject(y: np.ndarray, effect: float, *, counts: bool, shift_base: np.ndarray | None,
           uniforms: np.ndarray) -> np.ndarray:
    """The outcome of the placebo-treated post-period rows with ``effect`` injected.

    Parameters
    ----------
    y : ndarray
        Untreated outcome of those rows.
    effect : float
        Multiplicative effect (``-0.2``: 20 % fewer events); above ``-1``.
    counts : bool
        Thin/augment counts (True) or shift a continuous outcome (False).
    shift_base : ndarray, optional
        Continuous outcomes: each row's unit mean over the placebo pre-period.
    uniforms : ndarray
        One uniform per row (common to all effect sizes of a draw).
    """
    if effect == 0:
        return y.copy()
    if counts:
        y = np.asarray(y, dtype=np.int64)
        if effect < 0:
            kept = stats.binom.ppf(uniforms, y, 1.0 + effect)
            return np.nan_to_num(kept, nan=0.0).astype(np.int64)
        extra = stats.poisson.ppf(uniforms, effect * y)
        return y + np.nan_to_num(extra, nan=0.0).astype(np.int64)
    return np.asarray(y, dtype=float) + effect * shift_base
