"""Input adapter of the regression DiD estimators: a Study → one panel design.

Every public estimator in :mod:`utvardering.did` (2×2, TWFE, event study, Poisson) takes a
:class:`~utvardering.study.Study` as its first argument ``study``, or a DataFrame with the
Study's keywords (coerced once by :meth:`~utvardering.study.Study.coerce`; a 0/1 or dose
treatment column is the Study keyword ``treatment=``). This module turns the Study into a
:class:`PanelDesign`: a copy of the rows used (treated units and the comparison pool;
excluded units left out) and, as arrays beside it (never as columns, so no user column is
overwritten), the treatment :math:`D_{it}` (the Study's ``treatment`` column where it has
one, else 1 from each unit's start to the Study's end), each row's event time (periods since
the unit's start; NaN for never-treated units) and whether the unit is ever treated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DesignError
from ..options import renamed
from ..study import Study

__all__ = ["REGRESSOR_NAMES", "PanelDesign", "check_finite", "event_time_bins", "event_time_dummies",
           "panel_design", "renamed_first_argument"]

#: Labels the estimators give their own regressors; a covariate may not be called so.
REGRESSOR_NAMES = ("treatment",)


def renamed_first_argument(*old_names: str):
    """Decorator: accept the first argument under its old keyword names (``data=``) for one
    release, with a :class:`DeprecationWarning` (:func:`~utvardering.options.renamed`).
    """

    def decorate(function):
        where = function.__name__

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            old = [k for k in old_names if k in kwargs]
            if old:
                if args:
                    raise DesignError(f"{where}: give the data once, as the first argument "
                                      f"(study=); {old[0]}= is its old name.")
                kwargs = renamed(kwargs, {k: "study" for k in old}, where)
            return function(*args, **kwargs)

        return wrapper

    return decorate


@dataclass
class PanelDesign:
    """Normalised panel for the regression estimators (see module docstring).

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows used, with the user's columns only.
    treat : numpy.ndarray
        Treatment of each row (0/1 or dose).
    event : numpy.ndarray
        Event time of each row (periods since the unit's first treated period; NaN for
        never-treated units).
    ever : numpy.ndarray
        1 for rows of units treated at some point, else 0.
    y : numpy.ndarray, optional
        The analysed outcome when it is not a column of ``frame`` as it is (e.g. a survey
        item dichotomised at a threshold); see :meth:`outcome_values`.
    """

    frame: pd.DataFrame
    outcome: str
    unit: str
    time: str
    covariates: list = field(default_factory=list)
    weights: str | None = None
    cluster: str = "unit"
    exposure: str | None = None
    treated_units: list = field(default_factory=list)
    study: Study | None = None
    start: str | None = None
    left_out: list = field(default_factory=list)
    treat: np.ndarray | None = None
    event: np.ndarray | None = None
    ever: np.ndarray | None = None
    y: np.ndarray | None = None

    def outcome_values(self) -> np.ndarray:
        """The analysed outcome of each row, as floats."""
        if self.y is not None:
            return np.asarray(self.y, dtype=float)
        return self.frame[self.outcome].to_numpy(float)

    @property
    def n_units(self) -> int:
        """Units in the estimation sample."""
        return int(self.frame[self.unit].nunique())

    def subset(self, keep: np.ndarray) -> None:
        """Keep only the rows where the boolean array ``keep`` is true (frame and arrays)."""
        keep = np.asarray(keep, dtype=bool)
        self.frame = self.frame.loc[keep].reset_index(drop=True)
        for name in ("treat", "event", "ever", "y"):
            values = getattr(self, name)
            if values is not None:
                setattr(self, name, values[keep])


def _check_columns(data: pd.DataFrame, columns: list) -> None:
    missing = [c for c in dict.fromkeys(columns) if c is not None and c not in data.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; the data have columns {list(map(str, data.columns))[:40]}. "
            "Pass the right names (outcome=, unit=, time=, weights=, cluster=)."
        )


def check_finite(frame: pd.DataFrame, columns, unit: str | None = None,
                 time: str | None = None) -> None:
    """Raise :class:`~utvardering.errors.DataError` naming the first non-finite cell.

    ``±inf`` (or NaN) in an outcome, covariate, weight or exposure column would make every
    fixed-effects projection and variance meaningless; the message names the column, the
    number of such cells and the first unit and period (or row) holding one.
    """
    for col in dict.fromkeys(c for c in columns if c is not None):
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            where = (f"unit {frame[unit].iloc[i]!r}, period {frame[time].iloc[i]}"
                     if unit is not None and time is not None else f"row {frame.index[i]!r}")
            raise DataError(
                f"column {col!r} holds {int(bad.sum())} non-finite value(s) (inf, -inf or NaN), "
                f"the first at {where} (value {frame[col].iloc[i]!r}); correct or drop those "
                "rows before estimating.")


def _check_regressor_names(covariates: list, where: str) -> None:
    clash = [c for c in covariates if c in REGRESSOR_NAMES or str(c).startswith("event_time[")]
    if clash:
        raise DesignError(f"{where}: covariate(s) {clash} share a name with the estimator's own "
                          "regressors ('treatment', 'event_time[e]'); rename those columns.")


def panel_design(
    study,
    *,
    where: str = "this estimator",
    covariates=None,
    weights: str | None = None,
    cluster: str | None = None,
    exposure: str | None = None,
    extra: tuple = (),
    absorbing: bool = False,
    **design: Any,
) -> PanelDesign:
    """Build a :class:`PanelDesign` from a Study (or a DataFrame + Study keywords).

    Parameters
    ----------
    study : Study or pandas.DataFrame
        The design. A DataFrame is turned into a Study by
        :meth:`~utvardering.study.Study.coerce` with ``**design`` (``outcome``, ``unit``,
        ``time``, ``treated`` + ``start``, ``starts``, ``cohort`` or ``treatment``,
        ``exclude``, ...). With ``treatment=`` the Study defaults to ``allow_gaps=True`` and
        ``min_pre_periods=0``, as this path always did: a fixed-effects regression on the
        row-level treatment takes an unbalanced panel and units treated in every period.
    where : str
        The estimator's public name, for messages.
    covariates : list of str, optional
        Controls; default (``None``) the Study's own ``covariates`` (``[]``: none).
    weights, cluster, exposure : str, optional
        Columns of regression weights, clusters (default: the unit) and exposure (default:
        the Study's).
    extra : tuple of str
        Further columns that must exist (e.g. extra fixed effects).
    absorbing : bool, default False
        The estimator needs a 0/1 treatment that stays on once it starts (event time from
        each unit's start): a Study whose ``treatment`` column is a dose or switches off is
        refused (:meth:`~utvardering.study.Study.require_absorbing`).

    Returns
    -------
    PanelDesign
    """
    if isinstance(covariates, str):
        covariates = [covariates]
    elif covariates is not None:
        covariates = list(covariates)
    if isinstance(study, pd.DataFrame):
        if covariates:
            design["covariates"] = covariates
        if exposure is not None:
            design["exposure"] = exposure
        if "outcome" not in design:
            raise DesignError(f"{where}: pass outcome='column' (or a Study) to say what is "
                              "analysed.")
        if design.get("treatment") is not None:
            design.setdefault("allow_gaps", True)
            design.setdefault("min_pre_periods", 0)
    study = Study.coerce(study, where=where, absorbing=absorbing, **design)
    keep = set(study.treated) | set(study.donors)
    frame = study.data.loc[study.data[study.unit].isin(keep)].copy()
    left_out = [u for u in study.units if u not in keep]
    unit, time, outcome = study.unit, study.time, study.outcome
    exposure = exposure or study.exposure
    covariates = list(study.covariates) if covariates is None else covariates
    _check_columns(frame, [*covariates, weights, cluster, exposure, *extra])
    if study.treatment is not None:  # the row-level treatment (0/1 or dose) as given
        treat = frame[study.treatment].to_numpy(float)
    else:
        on = study.treatment_matrix().stack()
        on.index.names = [unit, time]
        treat = on.reindex(pd.MultiIndex.from_frame(frame[[unit, time]])).to_numpy(float)
    _check_regressor_names(covariates, where)
    check_finite(frame, [outcome, *covariates, weights, exposure], unit, time)
    times = sorted(frame[time].unique().tolist())
    position = {t: i for i, t in enumerate(times)}
    pos = frame[time].map(position).to_numpy()
    first_by_unit = {u: position.get(s, np.nan) for u, s in study.starts.items()}
    first = frame[unit].map(first_by_unit).to_numpy(float)
    frame = frame.reset_index(drop=True)
    return PanelDesign(
        frame=frame, outcome=outcome, unit=unit, time=time,
        covariates=covariates, weights=weights, cluster=cluster or unit, exposure=exposure,
        treated_units=sorted(study.starts, key=str), study=study, start=str(study.start),
        left_out=left_out, treat=np.asarray(treat, dtype=float), event=pos - first,
        ever=np.isfinite(first).astype(float),
    )


def event_time_dummies(event: np.ndarray, *, leads: int | None, lags: int | None,
                       reference: int = -1, bin_endpoints: bool = True):
    """Dummy matrix of event times (NaN = never treated), the bins used and rows to drop.

    Returns
    -------
    dummies : pandas.DataFrame
        One column ``event_time[e]`` per kept event time except ``reference``.
    bins : list of int
        Event times with a column (sorted).
    outside : numpy.ndarray
        Boolean mask of treated rows outside the window when ``bin_endpoints`` is false.
    """
    e, bins, outside = event_time_bins(event, leads=leads, lags=lags, reference=reference,
                                       bin_endpoints=bin_endpoints)
    cols = {f"event_time[{b}]": ((e == b) & ~outside).astype(float) for b in bins}
    return pd.DataFrame(cols), bins, outside


def event_time_bins(event: np.ndarray, *, leads: int | None, lags: int | None,
                    reference: int = -1, bin_endpoints: bool = True):
    """Binned event time of each row, the bins with a coefficient, and rows outside the window.

    The arrays behind :func:`event_time_dummies`, without forming the rows × bins matrix.
    """
    finite = np.isfinite(event)
    lo = int(np.nanmin(event)) if leads is None else -int(leads)
    hi = int(np.nanmax(event)) if lags is None else int(lags)
    if not lo <= reference <= hi:
        raise DesignError(f"reference period {reference} lies outside the event window "
                          f"[{lo}, {hi}]; choose reference= inside it or widen leads=/lags=.")
    e = event.copy()
    outside = np.zeros(len(e), dtype=bool)
    if bin_endpoints:
        e[finite] = np.clip(e[finite], lo, hi)
    else:
        outside = finite & ((e < lo) | (e > hi))
    bins = [b for b in range(lo, hi + 1) if b != reference]
    return e, bins, outside
