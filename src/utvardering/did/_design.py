"""Input adapter of the regression DiD estimators: a Study or plain arguments → one panel frame.

Every public estimator in :mod:`utvardering.did` (2×2, TWFE, event study, Poisson) accepts a
:class:`~utvardering.study.Study` or a DataFrame with column names. This module turns either
into a :class:`PanelDesign`: a copy of the rows used (treated units and the comparison pool;
excluded units left out), a treatment column ``_treat``, each unit's first treated period
and event time (``_event``, in periods since the start; missing for never-treated units).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.schema import validate_panel
from ..errors import DataError, DesignError
from ..study import Study

__all__ = ["PanelDesign", "event_time_dummies", "panel_design"]


@dataclass
class PanelDesign:
    """Normalised panel for the regression estimators (see module docstring)."""

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

    @property
    def n_units(self) -> int:
        """Units in the estimation sample."""
        return int(self.frame[self.unit].nunique())


def _check_columns(data: pd.DataFrame, columns: list) -> None:
    missing = [c for c in dict.fromkeys(columns) if c is not None and c not in data.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; the data have columns {list(map(str, data.columns))[:40]}. "
            "Pass the right names (outcome=, unit=, time=, treatment=, weights=, cluster=)."
        )


def panel_design(
    data,
    *,
    outcome: str | None = None,
    unit: str = "unit",
    time: str = "time",
    treatment: str | None = None,
    treated=None,
    start=None,
    starts=None,
    cohort: str | None = None,
    covariates=None,
    weights: str | None = None,
    cluster: str | None = None,
    exposure: str | None = None,
    extra: tuple = (),
) -> PanelDesign:
    """Build a :class:`PanelDesign` from a Study or from a DataFrame and column names.

    With a DataFrame, either ``treatment`` names a 0/1 (or dose) column, or the design is
    given as for :class:`~utvardering.study.Study` (``treated`` + ``start``, ``starts`` or
    ``cohort``), in which case a Study is built (and its design checks run).
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    if isinstance(data, Study):
        study = data
    elif treatment is None:
        if outcome is None:
            raise DesignError("pass outcome='column' (or a Study) to say what is analysed.")
        study = Study(data, outcome=outcome, unit=unit, time=time, treated=treated, start=start,
                      starts=starts, cohort=cohort, exposure=exposure,
                      covariates=[c for c in covariates if c in getattr(data, "columns", [])])
    else:
        study = None
    if study is not None:
        keep = set(study.treated) | set(study.donors)
        frame = study.data.loc[study.data[study.unit].isin(keep)].copy()
        left_out = [u for u in study.units if u not in keep]
        unit, time, outcome = study.unit, study.time, study.outcome
        exposure = exposure or study.exposure
        covariates = covariates or list(study.covariates)
        _check_columns(frame, [*covariates, weights, cluster, exposure, *extra])
        on = study.treatment_matrix().stack()
        on.index.names = [unit, time]
        frame["_treat"] = on.reindex(pd.MultiIndex.from_frame(frame[[unit, time]])).to_numpy(float)
        starts_map = dict(study.starts)
        start_text = str(study.start)
    else:
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"expected a Study or a pandas DataFrame, got {type(data).__name__}.")
        _check_columns(data, [outcome, unit, time, treatment, *covariates, weights, cluster,
                              exposure, *extra])
        if data[treatment].isna().any():
            rows = data.index[data[treatment].isna()].tolist()[:8]
            raise DataError(f"treatment {treatment!r} is missing in rows {rows}; fill or drop "
                            "them before estimating.")
        numeric = [c for c in dict.fromkeys([treatment, *covariates, weights]) if c is not None]
        frame = validate_panel(data, unit=unit, time=time, outcomes=[outcome], exposure=exposure,
                               covariates=numeric, allow_gaps=True).data
        frame["_treat"] = frame[treatment].astype(float)
        on = frame.loc[frame["_treat"] != 0]
        starts_map = on.groupby(unit)[time].min().to_dict()
        left_out = []
        start_text = str(min(starts_map.values())) if starts_map else None
    times = sorted(frame[time].unique().tolist())
    position = {t: i for i, t in enumerate(times)}
    pos = frame[time].map(position).to_numpy()
    first = frame[unit].map(lambda u: position.get(starts_map.get(u), np.nan)
                            if u in starts_map else np.nan).to_numpy(float)
    frame["_event"] = pos - first
    frame["_ever"] = np.isfinite(first).astype(float)
    return PanelDesign(
        frame=frame.reset_index(drop=True), outcome=outcome, unit=unit, time=time,
        covariates=covariates, weights=weights, cluster=cluster or unit, exposure=exposure,
        treated_units=sorted(starts_map, key=str), study=study, start=start_text,
        left_out=left_out,
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
    finite = np.isfinite(event)
    lo = int(np.nanmin(event)) if leads is None else -int(leads)
    hi = int(np.nanmax(event)) if lags is None else int(lags)
    if not lo <= reference <= hi:
        raise ValueError(f"reference period {reference} lies outside the event window [{lo}, {hi}].")
    e = event.copy()
    outside = np.zeros(len(e), dtype=bool)
    if bin_endpoints:
        e[finite] = np.clip(e[finite], lo, hi)
    else:
        outside = finite & ((e < lo) | (e > hi))
    bins = [b for b in range(lo, hi + 1) if b != reference]
    cols = {f"event_time[{b}]": ((e == b) & ~outside).astype(float) for b in bins}
    return pd.DataFrame(cols), bins, outside
