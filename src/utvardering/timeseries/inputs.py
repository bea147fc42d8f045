"""Normalise the inputs of the time-series estimators once, at the boundary.

A :class:`~utvardering.Study` or a DataFrame/Series with controls becomes one
:class:`SeriesInputs`: the outcome, the control matrix, the exposure and boolean masks for
the pre-period (fitting window), the forecast window (everything after the pre-period up to
the end of the post-period) and the post-period (summarised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, DataWarning, DesignError, warn
from ..study import Study

__all__ = ["SeriesInputs", "fourier_terms", "series_inputs"]


@dataclass
class SeriesInputs:
    """The treated series and its controls, aligned on one time index."""

    index: pd.Index
    y: np.ndarray
    X: np.ndarray  # (T, k), k may be 0
    control_names: list
    exposure: np.ndarray | None
    pre: np.ndarray  # bool (T,)
    post: np.ndarray  # bool (T,)
    outcome: str
    start: str

    @property
    def forecast(self) -> np.ndarray:
        """Rows after the pre-period up to the end of the post-period."""
        last_pre = np.flatnonzero(self.pre)[-1]
        last_post = np.flatnonzero(self.post)[-1]
        out = np.zeros_like(self.pre)
        out[last_pre + 1: last_post + 1] = True
        return out

    @property
    def used(self) -> np.ndarray:
        """Rows fitted or forecast."""
        return self.pre | self.forecast


def _locate(index: pd.Index, value, what: str):
    if isinstance(index, pd.PeriodIndex):
        return pd.Period(value, freq=index.freq)
    if isinstance(index, pd.DatetimeIndex):
        return pd.Timestamp(value)
    return value


def _window(index: pd.Index, window, what: str) -> np.ndarray:
    """Boolean mask of the rows from ``window[0]`` to ``window[1]``; both must be index labels.

    A label that is not in the index is refused rather than rounded to the nearest row: R's
    CausalImpact counts rows from 1, so ``(1, 70)`` on a 0-based index would silently move the
    first treated row into the pre-period.
    """
    if window is None or isinstance(window, str) or len(window) != 2:
        raise DesignError(f"{what} must be a pair (first, last) of index labels, got {window!r}.")
    try:
        lo, hi = (_locate(index, w, what) for w in window)
        mask = np.asarray((index >= lo) & (index <= hi))
    except (TypeError, ValueError) as exc:
        raise DesignError(f"{what} {window!r} cannot be compared with the series index "
                          f"({index.dtype}): {exc}. Give labels of the same kind.") from exc
    missing = [str(w) for w, loc in zip(window, (lo, hi)) if loc not in index]
    if missing:
        hint = ""
        if isinstance(index, pd.RangeIndex) and index.start == 0:
            hint = (" The index counts rows from 0 (R's CausalImpact counts from 1): subtract 1 "
                    "from both ends, e.g. pre_period=(0, 69), post_period=(70, 99).")
        raise DesignError(f"{what} {window!r}: {', '.join(missing)} is not a label of the series "
                          f"index, which runs from {index[0]} to {index[-1]} ({len(index)} rows). "
                          f"Give labels that are in the data.{hint}")
    if not mask.any():
        raise DesignError(f"{what} {window!r} contains no rows; the series runs from "
                          f"{index[0]} to {index[-1]}.")
    return mask


def _numeric(frame: pd.DataFrame | pd.Series, role: str) -> np.ndarray:
    """``frame`` as floats, or a DataError naming the first column that is not numeric."""
    columns = frame.to_frame() if isinstance(frame, pd.Series) else frame
    for name in columns.columns:
        col = columns[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            example = col.dropna().iloc[0] if col.notna().any() else None
            raise DataError(f"{role} column {name!r} is not numeric (e.g. {example!r}); convert "
                            "it, or move a date column into the index (df.set_index(...)).")
    return frame.to_numpy(dtype=float)


def _check_finite(values: np.ndarray, index: pd.Index, name: str, rows: np.ndarray) -> None:
    bad = rows & ~np.isfinite(values)
    if bad.any():
        where = ", ".join(str(i) for i in index[bad][:5])
        raise DataError(f"column {name!r} has missing or non-finite values at {where}; fill or "
                        "remove those periods before fitting (nothing is dropped silently).")


def series_inputs(data, controls=None, pre_period=None, post_period=None,
                  exposure=None) -> SeriesInputs:
    """Turn a Study or a DataFrame/Series (+ controls) into :class:`SeriesInputs`.

    With a DataFrame and no ``controls``, the first column is the outcome and the others
    are controls (CausalImpact's convention). Rows are taken as consecutive time steps.
    """
    if isinstance(data, Study):
        return _from_study(data, exposure)
    if isinstance(data, pd.DataFrame):
        if data.shape[1] == 0:
            raise DataError("the DataFrame has no columns; give the outcome as the first column.")
        y_s = data.iloc[:, 0]
        if controls is None:
            controls = data.iloc[:, 1:]
            if isinstance(exposure, str) and exposure in controls.columns:
                controls = controls.drop(columns=exposure)
    elif isinstance(data, pd.Series):
        y_s = data
    else:
        raise DesignError("causal_impact needs a Study, a DataFrame (outcome first, controls "
                          f"after) or a Series with controls=; got {type(data).__name__}.")
    index = y_s.index
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise DataError("the series index must be increasing without duplicates; sort it and "
                        "remove duplicated periods.")
    if controls is None:
        ctrl = pd.DataFrame(index=index)
    else:
        ctrl = pd.DataFrame(controls).copy()
        if not ctrl.index.equals(index):
            raise DataError("controls= must have the same index as the outcome series; align "
                            "them (e.g. controls.reindex(y.index)) first.")
    pre = _window(index, pre_period, "pre_period")
    post = _window(index, post_period, "post_period")
    if np.flatnonzero(pre)[-1] >= np.flatnonzero(post)[0]:
        raise DesignError(f"post_period {post_period!r} must start after pre_period "
                          f"{pre_period!r} ends.")
    first_used = np.flatnonzero(pre)[0]
    if first_used > 0:
        warn(f"pre_period {pre_period!r} starts at row {first_used}: the {first_used} earlier "
             f"row(s) ({index[0]} to {index[first_used - 1]}) are not used.", DataWarning)
    if pre.sum() < 3:
        raise DesignError(f"pre_period {pre_period!r} has {pre.sum()} rows; at least 3 needed.")
    exp = _exposure(exposure, data, index)
    out = SeriesInputs(index=index, y=_numeric(y_s, "outcome"), X=_numeric(ctrl, "control"),
                       control_names=[str(c) for c in ctrl.columns], exposure=exp, pre=pre,
                       post=post, outcome=str(y_s.name) if y_s.name is not None else "y",
                       start=str(index[np.flatnonzero(post)[0]]))
    _validate(out)
    return out


def _exposure(exposure, data, index) -> np.ndarray | None:
    if exposure is None:
        return None
    if isinstance(exposure, str):
        if not isinstance(data, pd.DataFrame) or exposure not in data.columns:
            raise DataError(f"exposure column {exposure!r} is not in the data.")
        values = data[exposure].to_numpy(dtype=float)
    elif isinstance(exposure, pd.Series):
        if not exposure.index.equals(index):
            raise DataError("exposure= must have the same index as the outcome series.")
        values = exposure.to_numpy(dtype=float)
    else:
        values = np.asarray(exposure, dtype=float)
    if values.shape != (len(index),):
        raise DataError(f"exposure has shape {values.shape}; expected ({len(index)},).")
    return values


def _from_study(study: Study, exposure) -> SeriesInputs:
    # pre = before the start, post = from the start (to the end): a 0/1 treatment that stays on
    study.require_absorbing("the time-series estimators (causal_impact, interrupted_time_series)")
    if len(study.treated) != 1:
        raise DesignError(f"causal_impact models one treated series; the study has "
                          f"{len(study.treated)} ({study.treated}). Aggregate them first or fit "
                          "one model per treated unit.")
    unit = study.treated[0]
    wide = study.wide()
    times = list(wide.columns)
    index = pd.PeriodIndex(times) if isinstance(times[0], pd.Period) else pd.Index(times, name="time")
    index.name = study.time
    y = wide.loc[unit].to_numpy(dtype=float)
    X = wide.loc[study.donors].to_numpy(dtype=float).T if study.donors else np.zeros((len(times), 0))
    pre = np.array([t < study.start for t in times])
    last = study.post_times[-1]
    post = np.array([study.start <= t <= last for t in times])
    exp = exposure
    if exp is None and study.exposure is not None:
        exp = study.wide(study.exposure).loc[unit].to_numpy(dtype=float)
    exp = None if exp is None else np.asarray(exp, dtype=float)
    out = SeriesInputs(index=index, y=y, X=X, control_names=[str(d) for d in study.donors],
                       exposure=exp, pre=pre, post=post, outcome=study.outcome,
                       start=str(study.start))
    _validate(out)
    return out


def _validate(inp: SeriesInputs) -> None:
    used = inp.used
    _check_finite(inp.y, inp.index, inp.outcome, used)
    for j, name in enumerate(inp.control_names):
        _check_finite(inp.X[:, j], inp.index, name, used)
        if np.std(inp.X[inp.pre, j]) == 0:
            raise DataError(f"control {name!r} is constant over the pre-period; it carries no "
                            "information — remove it from the controls.")
    if inp.exposure is not None:
        _check_finite(inp.exposure, inp.index, "exposure", used)
        if (inp.exposure[used] <= 0).any():
            raise DataError("exposure must be positive (it enters as log(exposure)); check the "
                            "population column.")
    if np.std(inp.y[inp.pre]) == 0:
        raise DataError(f"outcome {inp.outcome!r} is constant over the pre-period; a time-series "
                        "model cannot be fitted to it.")


def fourier_terms(n_t: int, seasonality) -> np.ndarray:
    """Seasonal design for ``n_t`` consecutive periods.

    ``seasonality=(period, harmonics)`` gives :math:`\\cos(2\\pi jt/p)` and
    :math:`\\sin(2\\pi jt/p)` for :math:`j = 1..` ``harmonics`` (identically-zero columns
    dropped); ``(period, "dummies")`` gives ``period - 1`` indicator columns.
    """
    if seasonality is None:
        return np.zeros((n_t, 0))
    try:
        period, kind = seasonality
    except (TypeError, ValueError):
        raise DesignError(f"seasonality must be (period, harmonics) or (period, 'dummies'); "
                          f"got {seasonality!r}.") from None
    if int(period) < 2:
        raise DesignError(f"seasonality period must be at least 2, got {period}.")
    t = np.arange(n_t)
    period = int(period)
    if kind == "dummies":
        return np.stack([(t % period == j).astype(float) for j in range(1, period)], axis=1)
    harmonics = int(kind)
    if not 1 <= harmonics <= period // 2:
        raise DesignError(f"seasonality harmonics must be between 1 and period // 2 = "
                          f"{period // 2}, got {harmonics}.")
    cols = []
    for j in range(1, harmonics + 1):
        cols.append(np.cos(2 * np.pi * j * t / period))
        if 2 * j != period:
            cols.append(np.sin(2 * np.pi * j * t / period))
    return np.stack(cols, axis=1)
