"""From a Study (or plain arguments) to the arrays the staggered estimators work on.

Shared by :mod:`~utvardering.did.staggered.callaway_santanna`, :mod:`~utvardering.did.sun_abraham`
and :mod:`~utvardering.did.imputation`: resolves the Study, keeps the treated units and the
comparison pool (excluded units are left out and named in the diagnostics), and builds the
balanced units × periods outcome matrix, each unit's cohort on an ordinal period scale, and
the optional weights, clusters and covariates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...data.timeparse import parse_time, to_period
from ...errors import DataError, DesignError
from ...options import renamed
from ...study import Study

__all__ = ["CrossSections", "StaggeredPanel", "cross_sections", "legacy_options", "ordinal",
           "resolve_study", "staggered_panel"]


def ordinal(value) -> float:
    """Position of a period on an integer scale (``Period.ordinal`` or the integer itself)."""
    if isinstance(value, pd.Period):
        return float(value.ordinal)
    return float(value)


def resolve_study(study, *, where: str, unit=None, time=None, outcome=None, cohort=None,
                  covariates=None) -> Study:
    """The Study of a staggered estimator's first argument (one adapter: :meth:`Study.coerce`).

    A DataFrame needs ``unit``, ``time``, ``outcome`` and ``cohort`` (the column holding each
    unit's first treated period, 0 or missing = never treated); the Study built from it
    allows cohorts with a single pre-period (``min_pre_periods=1``), as R ``did`` does. With
    a Study, those keywords must be left out (they are the Study's); a Study defined by a
    ``treatment=`` column that holds a dose or switches off is refused by
    :meth:`~utvardering.study.Study.coerce`, naming the unit and period: these estimators
    assume staggered adoption of a 0/1 treatment.
    """
    columns = {"unit": unit, "time": time, "outcome": outcome, "cohort": cohort}
    if isinstance(study, pd.DataFrame):
        missing = [k for k, v in columns.items() if v is None]
        if missing:
            raise DesignError(
                f"{where}: with a DataFrame, also pass {', '.join(m + '=' for m in missing)} "
                "(column names); cohort= is the column holding each unit's first treated "
                "period (0 = never)."
            )
        return Study.coerce(study, where=where, **columns,
                            covariates=list(covariates or []) or None, min_pre_periods=1)
    return Study.coerce(study, where=where, **{k: v for k, v in columns.items() if v is not None})


def _is_default(value: Any, default: Any) -> bool:
    if value is None or default is None:
        return value is default
    return isinstance(value, str) and value == default


def legacy_options(where: str, given: dict[str, Any], old_to_new: dict[str, str],
                   current: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Apply deprecated keyword names (``**given``) to the current option values.

    Old names are moved to new ones with a :class:`DeprecationWarning`
    (:func:`utvardering.options.renamed`); an old name given together with a non-default
    new one raises :class:`~utvardering.DesignError`; an unknown keyword raises
    :class:`TypeError`, as for any function.
    """
    unknown = sorted(set(given) - set(old_to_new))
    if unknown:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {', '.join(unknown)}")
    out = dict(current)
    for old, new in old_to_new.items():
        if old in given and not _is_default(out.get(new), defaults.get(new)):
            raise DesignError(f"{where}: give {new}= only ({old}= is its old name).")
    out.update(renamed(given, old_to_new, where))
    return out


@dataclass
class StaggeredPanel:
    """Arrays of a balanced staggered panel (rows = units, columns = periods)."""

    study: Study
    units: list
    times: list
    y: np.ndarray
    t_ord: np.ndarray
    g_ord: np.ndarray
    labels: dict = field(default_factory=dict)
    weights: np.ndarray | None = None
    cluster: np.ndarray | None = None
    covariates: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def _unit_constant(study: Study, column: str, units: list, what: str) -> pd.Series:
    if column not in study.data.columns:
        raise DesignError(f"{what} column {column!r} is not in the data; add it or fix the name.")
    per_unit = study.data.groupby(study.unit)[column].agg(["first", "nunique"])
    varying = per_unit.index[per_unit["nunique"] > 1].tolist()
    if varying:
        raise DataError(
            f"{what} column {column!r} changes over time within unit(s) "
            f"{', '.join(map(str, varying[:5]))}; it must be constant within a unit."
        )
    return per_unit["first"].loc[units]


def _start_ordinals(study: Study, kept: np.ndarray) -> tuple[np.ndarray, list]:
    """Start of each kept unit on the ordinal scale (``inf`` if never treated), and the
    distinct starts; ``kept`` is a boolean mask over ``study.units``.

    Starts are held as codes into the few distinct periods, each converted once.
    """
    codes, distinct = study.start_codes()
    scale = np.append(np.array([ordinal(s) for s in distinct], dtype=float), np.inf)
    return scale[codes[kept]], list(distinct)


def staggered_panel(study: Study, *, weights: str | None = None, cluster: str | None = None,
                    covariates: list[str] | None = None) -> StaggeredPanel:
    """Build the arrays for the staggered estimators from a Study.

    Units are the treated units and the donor pool; excluded units are left out (noted).
    The panel must be balanced over the kept units.
    """
    keep = set(study.treated) | set(study.donors)
    kept = np.array([u in keep for u in study.units], dtype=bool)
    if kept.all():
        units, left_out = list(study.units), []
    else:
        units = [u for u, k in zip(study.units, kept) if k]
        left_out = [u for u, k in zip(study.units, kept) if not k]
    wide = study.wide(units=units)
    y = wide.to_numpy(dtype=float)
    if np.isnan(y).any():
        gaps = wide.isna().stack()
        first = gaps[gaps].index[:5].tolist()
        raise DesignError(
            f"the staggered estimators need a balanced panel; outcome {study.outcome!r} is "
            f"missing for (unit, period) {first}. Fill or drop these units."
        )
    times = list(wide.columns)
    t_ord = np.array([ordinal(t) for t in times])
    g_ord, distinct = _start_ordinals(study, kept)
    labels = {ordinal(t): t for t in times}
    labels.update({ordinal(s): s for s in distinct})
    panel = StaggeredPanel(study, units, times, y, t_ord, g_ord, labels)
    if left_out:
        panel.notes.append(f"left out {len(left_out)} excluded unit(s): "
                           f"{', '.join(map(str, left_out[:10]))}")
    if weights is not None:
        w = _unit_constant(study, weights, units, "weights").to_numpy(dtype=float)
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise DataError(f"weights column {weights!r} must be non-negative and finite.")
        panel.weights = w / w.mean()
    if cluster is not None and cluster != study.unit:
        codes, _ = pd.factorize(_unit_constant(study, cluster, units, "cluster"), sort=True)
        if (codes < 0).any():
            raise DataError(f"cluster column {cluster!r} is missing for some units; fill it.")
        panel.cluster = codes.astype(np.int64)
    if covariates:
        mats = []
        for c in covariates:
            if c not in study.columns:
                raise DesignError(f"covariate {c!r} is not in the data; add it or fix the name.")
            mat = study.wide(c, units=units)[times]
            if mat.isna().any().any():
                raise DataError(f"covariate {c!r} has missing values; fill them or drop the unit.")
            mats.append(mat.to_numpy(dtype=float))
        panel.covariates = np.stack(mats, axis=2)
    return panel


@dataclass
class CrossSections:
    """Rows of repeated cross-sections: outcome, period index, cohort (ordinal scale)."""

    y: np.ndarray
    period: np.ndarray
    g_ord: np.ndarray
    t_ord: np.ndarray
    times: list
    labels: dict
    outcome: str
    start: Any
    weights: np.ndarray | None = None
    cluster: np.ndarray | None = None
    covariates: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def cross_sections(study_or_data, *, time, outcome, cohort, weights=None, cluster=None,
                   covariates=None) -> CrossSections:
    """Arrays for repeated cross-sections, from a Study (its rows) or a DataFrame.

    A DataFrame needs ``time``, ``outcome`` and ``cohort`` (first treated period of the
    row's group; 0 or missing = never treated); no unit identifier is required.
    """
    if isinstance(study_or_data, Study):
        study = study_or_data
        study.require_absorbing("callaway_santanna")  # cohorts = first treated periods
        keep = set(study.treated) | set(study.donors)
        frame = study.data[study.data[study.unit].isin(keep)]
        time, outcome = study.time, study.outcome
        starts = frame[study.unit].map(study.starts)
        cohort_ord = np.array([np.inf if pd.isna(s) else ordinal(s) for s in starts])
        labels = {ordinal(s): s for s in study.starts.values()}
    else:
        frame = study_or_data
        missing = [k for k, v in {"time": time, "outcome": outcome, "cohort": cohort}.items()
                   if v is None or v not in getattr(frame, "columns", [])]
        if missing:
            raise DesignError(f"repeated cross-sections need columns for {', '.join(missing)} "
                              "(pass time=, outcome=, cohort= naming columns of the data).")
        frame = frame.copy()
        frame[time] = parse_time(frame[time], column=time)
        raw = frame[cohort]
        never = raw.isna() | (raw == 0)
        freq = frame[time].iloc[0].freqstr if isinstance(frame[time].iloc[0], pd.Period) else None
        parsed = {v: to_period(int(v) if isinstance(v, (float, np.floating)) else v, freq)
                  for v in raw[~never].unique()}
        cohort_ord = np.array([np.inf if nv else ordinal(parsed[v])
                               for v, nv in zip(raw, never)])
        labels = {ordinal(p): p for p in parsed.values()}
    y = pd.to_numeric(frame[outcome], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        bad = np.flatnonzero(~np.isfinite(y))[:5].tolist()
        raise DataError(f"outcome {outcome!r} is missing or not numeric in rows {bad}; "
                        "fix or drop them.")
    times = sorted(frame[time].unique().tolist())
    t_ord = np.array([ordinal(t) for t in times])
    period = np.searchsorted(t_ord, np.array([ordinal(t) for t in frame[time]]))
    labels.update({ordinal(t): t for t in times})
    late = np.isfinite(cohort_ord) & (cohort_ord > t_ord[-1])
    cohort_ord[late] = np.inf
    finite = cohort_ord[np.isfinite(cohort_ord)]
    start = labels[finite.min()] if finite.size else None
    data = CrossSections(y, period, cohort_ord, t_ord, times, labels, outcome, start)
    if late.any():
        data.notes.append(f"{int(late.sum())} row(s) treated after the last period count as "
                          "never treated")
    if weights is not None:
        w = pd.to_numeric(frame[weights], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise DataError(f"weights column {weights!r} must be non-negative and finite.")
        data.weights = w / w.mean()
    if cluster is not None:
        codes, _ = pd.factorize(frame[cluster], sort=True)
        if (codes < 0).any():
            raise DataError(f"cluster column {cluster!r} has missing values; fill them.")
        data.cluster = codes.astype(np.int64)
    if covariates:
        data.covariates = frame[list(covariates)].to_numpy(dtype=float)
        if not np.all(np.isfinite(data.covariates)):
            raise DataError("covariates have missing values; fill them or drop the rows.")
    return data
