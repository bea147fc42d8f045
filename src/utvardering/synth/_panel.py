"""The synth family's view of a Study: value checks and period masks shared by every synth
estimator and by the robustness code.

Every synth estimator turns the Study into a units × periods matrix; :func:`check_values`
is the one check that the matrix (outcome, exposure, rates, predictors) holds finite values
on a scale that squared errors can represent, naming the unit and period at fault;
:func:`unit_masks` and :func:`period_mask` give the pre/post and optimisation periods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DesignError
from ..inference.counts import events_difference, events_prevented
from .predictors import resolve_periods

__all__ = ["MAX_ABS", "MIN_ABS", "SynthPanel", "check_values", "event_summary", "panel_matrix",
           "period_mask", "pre_means", "unit_masks"]

#: Largest absolute value accepted: squared gaps summed over a panel stay far from overflow.
MAX_ABS = 1e100
#: Smallest non-zero scale accepted: squared gaps stay far from underflow.
MIN_ABS = 1e-100


def check_values(table: pd.DataFrame, what: str, *, positive: bool = False) -> None:
    """Raise :class:`~utvardering.DataError` unless ``table`` is finite and of a usable scale.

    Parameters
    ----------
    table : pandas.DataFrame
        Units × periods (index: units, columns: periods).
    what : str
        What the values are (``"outcome 'y'"``, ``"exposure 'population'"``...), quoted in
        the message.
    positive : bool, default False
        Also require every value to be positive (exposures).

    Raises
    ------
    DataError
        Naming the first unit and period with a non-finite (or non-positive) value, or the
        largest value when the scale would overflow (or underflow) squared errors, and how
        to fix it.
    """
    values = table.to_numpy(dtype=float)
    bad = ~np.isfinite(values) & ~np.isnan(values)
    if positive:
        bad |= values <= 0
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{what} is {float(values[i, j])} for unit {table.index[i]!r} in period "
            f"{table.columns[j]}; synthetic control needs finite"
            f"{' positive' if positive else ''} values ({int(bad.sum())} such cell(s)). "
            "Fix or drop them in the data.")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return
    top = float(np.abs(finite).max())
    if top > MAX_ABS or 0 < top < MIN_ABS:
        i, j = np.argwhere(np.abs(values) == top)[0]
        raise DataError(
            f"{what} reaches {top:.3g} (unit {table.index[i]!r}, period {table.columns[j]}); "
            f"values beyond {MAX_ABS:.0e} (or all below {MIN_ABS:.0e}) overflow squared errors. "
            "Rescale the column (e.g. divide by a power of ten) and scale the effect back.")


def unit_masks(times: list, start, end=None) -> tuple[np.ndarray, np.ndarray]:
    """Pre- and post-period masks over ``times`` for a unit starting at ``start``.

    Parameters
    ----------
    times : list
        The panel's periods (columns of the outcome matrix).
    start : period
        The unit's first treated period.
    end : period, optional
        Last post-period (the Study's ``end``); later periods are in neither mask.

    Returns
    -------
    pre, post : numpy.ndarray of bool
    """
    pre = np.array([t < start for t in times])
    post = np.array([t >= start and (end is None or t <= end) for t in times])
    return pre, post


def period_mask(study, periods, start, name: str) -> np.ndarray:
    """Mask over ``study.times`` of the chosen pre-treatment ``periods`` (default: every
    period before ``start``), refusing periods on or after the start (quoting ``name``).
    """
    times = study.times
    if periods is None:
        return np.array([t < start for t in times])
    chosen = set(resolve_periods(periods, study.freq, times, name))
    late = [p for p in chosen if not p < start]
    if late:
        raise DesignError(f"{name} includes {sorted(late)[:3]}, on or after the start {start}; use "
                          "pre-treatment periods only.")
    return np.array([t in chosen for t in times])


def pre_means(Y: pd.DataFrame, start) -> pd.Series:
    """Each unit's mean over the periods before ``start`` (missing values skipped).

    Parameters
    ----------
    Y : pandas.DataFrame
        Units × periods.
    start : period
        The first treated period.

    Returns
    -------
    pandas.Series
        Unit → pre-period mean, in the order of ``Y``'s rows.
    """
    pre = Y.loc[:, [t < start for t in Y.columns]]
    # grouped (compensated) sums, as the long-format groupby the estimator used before
    return pre.stack(future_stack=True).groupby(level=0, sort=False).mean().reindex(Y.index)


@dataclass
class SynthPanel:
    """The one view of a Study that every synth estimator works on, built once.

    Attributes
    ----------
    study : Study
        The design.
    Y : pandas.DataFrame
        Outcomes on the analysed scale (rates per ``per`` of the exposure when ``rate``),
        ``study.units`` × ``study.times``; checked finite and of a usable scale.
    exposure : pandas.DataFrame or None
        The exposure on the same grid (when ``rate``), checked finite and positive.
    rate : bool
        Whether ``Y`` holds rates.
    per : float
        Rate base.
    scale : str
        Unit of ``Y`` (``"outcome units"`` or ``"rate per 100,000"``).
    counts : pandas.DataFrame or None
        The outcome in events on the same grid, for a count outcome (observed events).
    shift : pandas.Series or None
        Unit → the pre-period mean removed from ``Y`` by :meth:`demeaned` (None: ``Y`` is on
        the original scale). The original scale is ``Y + shift``.
    """

    study: Any
    Y: pd.DataFrame
    exposure: pd.DataFrame | None
    rate: bool
    per: float
    scale: str
    counts: pd.DataFrame | None = None
    shift: pd.Series | None = None

    @classmethod
    def from_study(cls, study, rate: bool | None = None, per: float = 100_000) -> SynthPanel:
        """Build the panel: rates if asked (default: when the Study has an exposure column).

        Raises
        ------
        DesignError
            ``rate=True`` without an exposure column.
        DataError
            Non-finite or non-positive exposure, non-finite or extreme outcome values
            (:func:`check_values`), naming the unit and period.
        """
        rate = study.exposure is not None if rate is None else bool(rate)
        if rate and study.exposure is None:
            raise DesignError("rate=True needs an exposure (population) column: "
                              "Study(..., exposure='population').")
        units, times = list(study.units), list(study.times)
        Y = study.wide(units=units).astype(float).reindex(index=units, columns=times)
        counts = Y if study.is_count else None
        exposure = None
        if rate:
            exposure = study.wide(study.exposure, units=units).astype(float).reindex(
                index=units, columns=times)
            check_values(exposure.fillna(1.0), f"exposure {study.exposure!r}", positive=True)
            Y = Y / exposure * per
        check_values(Y, f"outcome {study.outcome!r}" + (f" per {per:,.0f} exposure" if rate else ""))
        scale = f"rate per {per:,.0f}" if rate else "outcome units"
        return cls(study, Y, exposure, rate, float(per), scale, counts)

    def demeaned(self) -> SynthPanel:
        """The panel net of each unit's pre-period mean (demeaned synthetic control).

        With :math:`\\bar y_j = |T_0|^{-1} \\sum_{t < T_0} y_{jt}` (missing values skipped),
        the returned panel holds :math:`\\tilde y_{jt} = y_{jt} - \\bar y_j` and carries
        :math:`\\bar y_j` in ``shift``, so that a fit on it can be put back on the original
        scale: :math:`\\hat y_{1t}(0) = \\bar y_1 + \\sum_j w_j \\tilde y_{jt}`; the effect
        :math:`\\tilde y_{1t} - \\sum_j w_j \\tilde y_{jt}` is the same on both scales.
        Exposure and counts stay as they are (events are counted on the original scale).

        Returns
        -------
        SynthPanel

        Raises
        ------
        DesignError
            With staggered starts (the pre-period means are taken before one common start),
            or on a panel that is already demeaned.
        """
        study = self.study
        if self.shift is not None:
            raise DesignError("this panel is already demeaned.")
        if study.is_staggered:
            raise DesignError("demean=True needs one common start (the pre-period means are taken "
                              "before it); fit each cohort separately with study.replace("
                              "treated=..., start=...).")
        means = pre_means(self.Y, study.start)
        return replace(self, Y=self.Y.sub(means, axis=0), shift=means)

    def long(self) -> pd.DataFrame:
        """A copy of the Study's long data with the outcome on the analysed scale (for
        predictors built from the outcome).
        """
        study = self.study
        data = study.data.copy()
        if self.rate:
            data[study.outcome] = data[study.outcome] / data[study.exposure] * self.per
        return data

    def table(self, rows: list | None = None, *, through_end: bool = False) -> pd.DataFrame:
        """Outcome matrix of ``rows`` (default: every unit), all periods or those up to the
        Study's ``end``.

        Raises
        ------
        DataError
            If a value is missing (synthetic control methods need a balanced panel), naming
            the unit and period.
        """
        study = self.study
        times = [t for t in study.times if not through_end or study.end is None or t <= study.end]
        Y = self.Y if rows is None else self.Y.loc[list(rows)]
        Y = Y[times] if through_end and len(times) != Y.shape[1] else Y
        if Y.isna().to_numpy().any():
            bad = Y.stack(future_stack=True)
            bad = bad[bad.isna()].index[0]
            raise DataError(f"outcome {study.outcome!r} is missing for unit {bad[0]!r} in period "
                            f"{bad[1]}; synthetic control methods need a balanced panel. Fill it, "
                            "or drop the unit (Study(exclude=[...])).")
        return Y

    def exposure_table(self, rows: list, *, through_end: bool = True) -> pd.DataFrame | None:
        """The exposure of ``rows`` on the periods of :meth:`table` (None without rates)."""
        if self.exposure is None:
            return None
        study = self.study
        times = [t for t in study.times if not through_end or study.end is None or t <= study.end]
        return self.exposure.loc[list(rows), times]


def panel_matrix(study, rate: bool | None, per: float) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """Units × periods outcome matrix of a Study (donors, then treated units; up to ``end``).

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
    panel = SynthPanel.from_study(study, rate, per)
    rows = list(study.donors) + list(study.treated)
    return panel.table(rows, through_end=True), panel.exposure_table(rows), panel.scale


def event_summary(study, effect_path: pd.Series, exposure: pd.DataFrame | None, per: float,
                  interval: tuple[float, float], estimate: float,
                  observed_path: pd.Series | None = None) -> dict:
    """Effects in events for count outcomes (negative = events prevented).

    With an exposure the rate effect of each post-period is multiplied by the treated
    units' population / ``per``; without one, by the number of treated units
    (:func:`utvardering.inference.counts.events_difference`); the interval is converted by
    :func:`utvardering.inference.counts.events_prevented`. With ``observed_path`` (the
    treated units' mean outcome) the observed events are returned too, under
    ``"observed_events"``.

    Parameters
    ----------
    study : Study
        The design (nothing is returned unless its outcome is a count).
    effect_path : pandas.Series
        The effect in the post-periods (NaN periods are skipped).
    exposure : pandas.DataFrame or None
        Units × periods exposure, when the effect is a rate per ``per``.
    per : float
        Rate base.
    interval : tuple of float
        The effect's interval.
    estimate : float
        The effect's estimate.
    observed_path : pandas.Series, optional
        The treated units' mean outcome.

    Returns
    -------
    dict
        ``events_difference``, ``events_prevented``, ``events_difference_interval`` (NaN
        unless the interval is finite) and ``observed_events`` (with ``observed_path``).
    """
    if not study.is_count:
        return {}
    post = effect_path.dropna()
    if exposure is not None:
        size, base = exposure.loc[study.treated, post.index].sum(axis=0).to_numpy(), per
    else:
        size, base = np.full(len(post), float(len(study.treated))), 1.0
    events = events_difference(post.to_numpy(), size, base)
    out: dict = {"events_difference": events, "events_prevented": -events}
    converted = events_prevented(events, estimate=estimate, interval=interval)
    out["events_difference_interval"] = (math.nan, math.nan) if converted.interval is None \
        else (-converted.interval[1], -converted.interval[0])
    if observed_path is not None:
        out["observed_events"] = events_difference(
            observed_path.reindex(post.index).to_numpy(), size, base)
    return out
