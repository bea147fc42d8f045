"""Placebo-in-time for BSTS: how often the model "finds" an effect where there is none.

The model is refitted on the pre-period alone with fake intervention starts; every fake
post-period is real, untreated data, so any "effect" is a false alarm. The share of fake
post-periods whose credible interval for the average effect excludes zero estimates the
model's false-positive rate at the chosen level (ideally about ``1 - level``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..options import renamed_arguments
from .inputs import series_inputs

__all__ = ["placebo_in_time"]


@renamed_arguments(study_or_series="study", n_placebos="n_draws")
def placebo_in_time(study, controls=None, pre_period=None, post_period=None, *,
                    n_draws: int = 5, horizon: int | None = None,
                    min_pre_periods: int | None = None, exposure=None,
                    random_state=None, **options) -> pd.DataFrame:
    """Refit :func:`~.causal_impact.causal_impact` with fake starts inside the pre-period.

    Parameters
    ----------
    study, controls, pre_period, post_period, exposure
        As for :func:`~.causal_impact.causal_impact`; only the pre-period is used.
    n_draws : int, default 5
        Number of fake starts, spread evenly over the admissible range (``n_placebos=`` is the
        old name).
    horizon : int, optional
        Length of each fake post-period; default the real post-period's length, capped at a
        third of the pre-period.
    min_pre_periods : int, optional
        Fewest periods before a fake start; default half the pre-period.
    random_state : int or numpy.random.Generator, optional
        Seed (one child seed per refit).
    **options
        Passed to ``causal_impact`` (likelihood, draws, backend, ...).

    Returns
    -------
    pandas.DataFrame
        One row per fake start: ``start``, ``estimate``, ``low``, ``high``, ``p_value``,
        ``excludes_zero``; ``attrs["false_positive_share"]`` is the share of intervals that
        exclude zero.
    """
    from .causal_impact import causal_impact

    inp = series_inputs(study, controls, pre_period, post_period, exposure)
    rows = np.flatnonzero(inp.pre)
    n_pre = len(rows)
    h = horizon or min(int(inp.post.sum()), n_pre // 3)
    lo = min_pre_periods or n_pre // 2
    hi = n_pre - h
    if h < 1 or hi < lo or lo < 3:
        raise DesignError(f"the pre-period ({n_pre} periods) is too short for placebo starts "
                          f"with horizon {h} and at least {lo} earlier periods; lower "
                          "horizon= or min_pre_periods=.")
    starts = np.unique(np.linspace(lo, hi, n_draws).round().astype(int))
    cols = [inp.outcome, *inp.control_names]
    frame = pd.DataFrame(np.column_stack([inp.y, inp.X]), index=inp.index, columns=cols)
    frame = frame.iloc[rows]
    exp = None if inp.exposure is None else pd.Series(inp.exposure[rows], index=frame.index)
    seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, len(starts))
    out = []
    for s, seed in zip(starts, seeds):
        idx = frame.index
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eff = causal_impact(frame.iloc[: s + h], pre_period=(idx[0], idx[s - 1]),
                                post_period=(idx[s], idx[s + h - 1]), exposure=(
                                    None if exp is None else exp.iloc[: s + h]),
                                random_state=int(seed), **options)
        out.append({"start": str(idx[s]), "estimate": eff.estimate, "low": eff.interval[0],
                    "high": eff.interval[1], "p_value": eff.p_value,
                    "excludes_zero": bool(eff.interval[0] > 0 or eff.interval[1] < 0)})
    table = pd.DataFrame(out)
    table.attrs["false_positive_share"] = float(table["excludes_zero"].mean())
    return table
