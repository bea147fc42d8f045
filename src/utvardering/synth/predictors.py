"""Predictor specifications for synthetic control: ``(variable, periods, aggregation)`` triples.

A predictor is one number per unit: a variable aggregated over a set of periods, written as
the triple Synth and pysyncon users know::

    ("lnincome", range(1980, 1989), "mean")   # mean of log income 1980–88
    ("cigsale", [1975], "mean")               # cigarette sales in 1975

Missing values are ignored in the aggregation (the mean over the periods a unit has data
for, as Synth's ``dataprep`` does); a unit with no data at all in a predictor's periods is a
:class:`~utvardering.errors.DataError`. Predictors are standardised by dividing each by its
standard deviation across the treated unit and the donors (Synth's scaling) so that V
compares like with like.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.timeparse import format_periods, to_period
from ..errors import DataError, DesignError

__all__ = ["Predictor", "outcome_predictors", "parse_predictors", "predictor_matrix", "resolve_periods",
           "standardise"]

AGGREGATIONS = ("mean", "median", "sum", "min", "max")


@dataclass(frozen=True)
class Predictor:
    """One predictor: ``variable`` aggregated by ``aggregation`` over ``periods``."""

    variable: str
    periods: tuple
    aggregation: str = "mean"

    @property
    def label(self) -> str:
        """Readable name, e.g. ``"lnincome mean 1980–1988"`` or ``"cigsale 1975"``."""
        if len(self.periods) == 1:
            return f"{self.variable} {self.periods[0]}"
        return f"{self.variable} {self.aggregation} {self.periods[0]}–{self.periods[-1]}"

    def shifted(self, before: Any) -> Predictor | None:
        """The predictor restricted to periods before ``before`` (None if none are left)."""
        kept = tuple(p for p in self.periods if p < before)
        return Predictor(self.variable, kept, self.aggregation) if kept else None


def resolve_periods(value, freq, study_times: Sequence, where: str) -> tuple:
    """The periods ``value`` (one or several) as periods of the panel.

    Raises
    ------
    DesignError
        If a value is not a period, or not one of ``study_times`` (quoting ``where``).
    """
    if isinstance(value, (str, int, np.integer, pd.Period)):
        value = [value]
    try:
        periods = tuple(to_period(p, freq) for p in value)
    except (TypeError, ValueError) as exc:
        raise DesignError(f"{where}: periods {value!r} are not periods of this panel ({exc}).") from exc
    if not periods:
        raise DesignError(f"{where}: no periods given; list at least one period.")
    known = set(study_times)
    missing = [p for p in periods if p not in known]
    if missing:
        raise DesignError(
            f"{where}: period(s) {format_periods(missing)} are not in the panel "
            f"({study_times[0]} to {study_times[-1]}); give periods inside the data."
        )
    return tuple(sorted(periods))


def parse_predictors(specs: Iterable, *, columns: Iterable[str], freq: str | None,
                     times: Sequence, start: Any) -> list[Predictor]:
    """Check and normalise predictor triples.

    Parameters
    ----------
    specs : iterable
        Triples ``(variable, periods, aggregation)``; pairs ``(variable, periods)`` mean
        ``"mean"``; a bare column name means its mean over every pre-period.
    columns : iterable of str
        Columns available in the study data.
    freq : str or None
        Period frequency of the panel (None for integer time).
    times : sequence
        The panel's periods.
    start : period
        First treated period: predictors must use periods before it.

    Returns
    -------
    list of Predictor
    """
    columns = set(columns)
    pre = [t for t in times if t < start]
    out = []
    for i, spec in enumerate(specs):
        where = f"predictor {i} ({spec!r})"
        if isinstance(spec, Predictor):
            spec = (spec.variable, spec.periods, spec.aggregation)
        if isinstance(spec, str):
            spec = (spec, pre, "mean")
        if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
            raise DesignError(f"{where}: give (variable, periods, aggregation), e.g. "
                              "('income', range(1980, 1989), 'mean').")
        variable, periods = spec[0], spec[1]
        aggregation = spec[2] if len(spec) == 3 else "mean"
        if variable not in columns:
            raise DesignError(f"{where}: column {variable!r} is not in the study data; add it to "
                              f"Study(covariates=[...]) or correct the name.")
        if aggregation not in AGGREGATIONS:
            raise DesignError(f"{where}: aggregation {aggregation!r} is not one of {AGGREGATIONS}.")
        periods = resolve_periods(periods, freq, times, where)
        late = [p for p in periods if not p < start]
        if late:
            raise DesignError(f"{where}: period(s) {format_periods(late)} are not before the start "
                              f"{start}; predictors must be measured before the intervention.")
        out.append(Predictor(variable, periods, aggregation))
    if not out:
        raise DesignError("predictors=[] is empty; give at least one predictor or None.")
    return out


def outcome_predictors(outcome: str, periods: Sequence) -> list[Predictor]:
    """One predictor per period: the outcome in that period (the outcome-only specification)."""
    return [Predictor(outcome, (p,), "mean") for p in periods]


def predictor_matrix(data: pd.DataFrame, predictors: Sequence[Predictor], *, unit: str,
                     time: str, units: Sequence) -> pd.DataFrame:
    """Predictor values, one row per predictor and one column per unit.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel.
    predictors : sequence of Predictor
        The specification.
    unit, time : str
        Unit and period columns.
    units : sequence
        Units (columns of the result, in this order).

    Returns
    -------
    pandas.DataFrame
        Index: predictor labels; columns: ``units``.

    Raises
    ------
    DataError
        If a unit has no non-missing value of a predictor's variable in its periods.
    """
    rows = {}
    units = list(units)
    times = pd.Index(pd.unique(data[time])).sort_values()
    rows_of = pd.Index(units).get_indexer(data[unit])
    cols_of = times.get_indexer(data[time])
    keep = rows_of >= 0
    wides: dict[str, pd.DataFrame] = {}
    for p in predictors:
        wide = wides.get(p.variable)
        if wide is None:  # units × periods of the variable (one scatter, not a pivot each)
            matrix = np.full((len(units), len(times)), np.nan)
            matrix[rows_of[keep], cols_of[keep]] = data[p.variable].to_numpy(dtype=float)[keep]
            wide = wides[p.variable] = pd.DataFrame(matrix, index=units, columns=times)
        block = wide.reindex(columns=list(p.periods)).astype(float)
        empty = block.index[block.isna().all(axis=1)].tolist()
        if empty:
            raise DataError(
                f"predictor {p.label!r}: unit(s) {format_periods(empty)} have no value of "
                f"{p.variable!r} in periods {format_periods(p.periods)}; choose periods with data "
                "or drop those units from the donor pool."
            )
        label = p.label if p.label not in rows else f"{p.label} ({p.aggregation}, #{len(rows)})"
        rows[label] = getattr(block, p.aggregation)(axis=1, skipna=True)
    frame = pd.DataFrame(rows).T
    frame.columns = list(units)
    return frame


def standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide each predictor (row) by its standard deviation across units (ddof 1).

    Parameters
    ----------
    X : numpy.ndarray
        Predictors × units (treated and donors).

    Returns
    -------
    scaled : numpy.ndarray
    scale : numpy.ndarray
        The divisors (1 where a predictor is constant).
    """
    scale = X.std(axis=1, ddof=1) if X.shape[1] > 1 else np.ones(X.shape[0])
    scale = np.where(scale > 0, scale, 1.0)
    return X / scale[:, None], scale
