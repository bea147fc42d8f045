"""The outcome matrix of synthetic DiD and the conversion of its effects into events.

:func:`panel_matrix` turns a :class:`~utvardering.Study` into the units × periods matrix
(donors first, rates per ``per`` exposure when asked) used by
:func:`~utvardering.synth.sdid.synthetic_did` and
:func:`~utvardering.synth.augmented.augmented_synthetic_control`; :func:`event_summary`
converts a rate effect back into events for count outcomes.
"""

from __future__ import annotations

import pandas as pd

from ..errors import DataError, DesignError
from ..study import Study
from ._panel import check_values

__all__ = ["event_summary", "panel_matrix"]


def panel_matrix(study: Study, rate: bool | None, per: float) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """Units × periods outcome matrix of a Study (donors and treated units; up to ``end``).

    Parameters
    ----------
    study : Study
        The design.
    rate : bool or None
        Divide by the exposure column and multiply by ``per``; ``None``: when the Study has
        an exposure.
    per : float
        Rate base (e.g. 100,000 population).

    Returns
    -------
    outcome : pandas.DataFrame
        Rows ``study.donors + study.treated``, columns the periods up to ``study.end``.
    exposure : pandas.DataFrame or None
        The exposure on the same grid (when rates are used).
    scale : str
        Unit of the outcome matrix.
    """
    rate = study.exposure is not None if rate is None else rate
    if rate and study.exposure is None:
        raise DesignError("rate=True needs an exposure column: give Study(..., exposure='population').")
    units = list(study.donors) + list(study.treated)
    times = [t for t in study.times if study.end is None or t <= study.end]
    Y = study.wide(units=units)[times].astype(float)
    exposure = None
    scale = "outcome units"
    if rate:
        exposure = study.wide(study.exposure, units=units)[times].astype(float)
        check_values(exposure.fillna(1.0), f"exposure {study.exposure!r}")
        if (exposure <= 0).to_numpy().any():
            bad = exposure.stack()
            bad = bad[bad <= 0].index[0]
            raise DataError(f"exposure {study.exposure!r} is not positive for unit {bad[0]!r} in "
                            f"period {bad[1]}; rates need a positive population. Fix the data.")
        Y = Y / exposure * per
        scale = f"rate per {per:,.0f}"
    check_values(Y, f"outcome {study.outcome!r}" + (f" per {per:,.0f} exposure" if rate else ""))
    if Y.isna().to_numpy().any():
        bad = Y.stack(future_stack=True)
        bad = bad[bad.isna()].index[0]
        raise DataError(f"outcome {study.outcome!r} is missing for unit {bad[0]!r} in period "
                        f"{bad[1]}; synthetic DiD needs a balanced panel. Fill or drop the unit.")
    return Y, exposure, scale


def event_summary(study: Study, effect_path: pd.Series, exposure: pd.DataFrame | None, per: float,
                  interval: tuple[float, float], estimate: float,
                  observed_path: pd.Series | None = None) -> dict:
    """Effects in events for count outcomes (negative = events prevented).

    With an exposure the rate effect of each post-period is multiplied by the treated
    units' population / ``per``; without one, by the number of treated units. With
    ``observed_path`` (the treated units' mean outcome) the observed events are returned
    too, under ``"observed_events"``.
    """
    if not study.is_count:
        return {}
    post = effect_path.dropna()
    if exposure is not None:
        pop = exposure.loc[study.treated, post.index].sum(axis=0) / per
    else:
        pop = pd.Series(float(len(study.treated)), index=post.index)
    events = float((post * pop).sum())
    factor = events / estimate if estimate != 0 else float(pop.sum())
    lo, hi = sorted((interval[0] * factor, interval[1] * factor))
    out = {"events_difference": events, "events_prevented": -events,
           "events_difference_interval": (lo, hi)}
    if observed_path is not None:
        out["observed_events"] = float((observed_path.reindex(post.index) * pop).sum())
    return out
