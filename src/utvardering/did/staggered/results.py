"""Result objects of the staggered-adoption estimators.

:class:`StaggeredEffect` is what :func:`~utvardering.did.staggered.callaway_santanna.callaway_santanna`
returns: the usual :class:`~utvardering.effect.Effect` (overall "simple" ATT, event-time
path) plus the tidy ATT(g,t) table and, kept privately (per cohort block, see
:class:`~utvardering.did.staggered.influence.CellInfluence`), the influence functions from which
:meth:`StaggeredEffect.aggregate` builds the ``aggte``-style summaries.
:class:`EventStudyEffect` is returned by the Sun–Abraham and imputation estimators and adds
their cohort × event-time table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from ...effect import Effect
from ...errors import DesignError
from ...options import check_option
from .aggregate import aggregate_gt
from .influence import CellInfluence

__all__ = ["AggregationType", "EventStudyEffect", "StaggeredEffect", "event_time_vcov",
           "normal_summary"]

_NORMAL = NormalDist()
AggregationType = Literal["simple", "group", "dynamic", "calendar"]

_PATH_INDEX = {"group": "group", "dynamic": "event_time", "calendar": "time"}
_ESTIMANDS = {
    "simple": "ATT averaged over all post-treatment (cohort, period) cells, weighted by cohort size",
    "group": "average of the cohort-specific ATTs θ(g), weighted by cohort size",
    "dynamic": "average of the event-time effects θ(e) over e ≥ 0",
    "calendar": "average over calendar periods of the period effects θ(t)",
}


def normal_summary(estimate: float, se: float, level: float) -> dict:
    """Interval and two-sided p-value from a normal approximation."""
    if se is None or not np.isfinite(se):
        return {"interval": (math.nan, math.nan), "p_value": None, "se": None}
    z = _NORMAL.inv_cdf(0.5 + level / 2)
    p = math.erfc(abs(estimate / se) / math.sqrt(2.0)) if se > 0 else None
    return {"interval": (estimate - z * se, estimate + z * se), "p_value": p, "se": float(se)}


def event_time_vcov(vcov: np.ndarray, event_times, effects: np.ndarray,
                    base_period: str | None = None) -> pd.DataFrame:
    """The event-time covariance as a labelled frame (``event_time[e]``).

    With ``base_period="universal"`` the cell of event time -1 is 0 by construction (zero
    influence function); it is the reference period and is left out, as R HonestDiD's
    ``honest_did.AGGTEobj`` does.
    """
    times = [int(e) for e in event_times]
    keep = [i for i, e in enumerate(times)
            if not (e == -1 and base_period == "universal" and effects[i] == 0.0)]
    names = [f"event_time[{times[i]}]" for i in keep]
    return pd.DataFrame(vcov[np.ix_(keep, keep)], index=names, columns=names)


@dataclass(repr=False)
class EventStudyEffect(Effect):
    """An Effect with an event-time path and the cohort × event-time estimates behind it.

    Attributes
    ----------
    cohort_effects : pandas.DataFrame, optional
        One row per (cohort, event time): ``group``, ``event_time``, ``effect`` and, where
        available, ``se`` and ``weight`` (the cohort's share in that event time).
    vcov : pandas.DataFrame, optional
        Covariance of the event-time effects of ``path`` (rows and columns labelled
        ``event_time[e]``; a reference period fixed at 0 is left out), so that
        :func:`~utvardering.honest_did` can be run on the result.
    """

    cohort_effects: pd.DataFrame | None = None
    vcov: pd.DataFrame | None = None

    def plot(self, ax=None, **kwargs: Any):
        """Event-study figure: effects by event time with their intervals.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ...plotting.did_event_study import plot_event_study

        return plot_event_study(self, ax=ax, **kwargs)


@dataclass(repr=False)
class StaggeredEffect(EventStudyEffect):
    """Callaway–Sant'Anna result: ATT(g,t) cells and their aggregations.

    The top-level ``estimate`` is the ``"simple"`` aggregation and ``path`` the
    ``"dynamic"`` (event-time) aggregation.

    Attributes
    ----------
    att_gt : pandas.DataFrame
        One row per (cohort, period) cell: ``group``, ``time``, ``event_time``,
        ``base_period``, ``att``, ``se``, ``low``, ``high`` (``low``/``high`` use the
        simultaneous critical value when bootstrapped), ``n_treated``, ``n_control``.
    """

    att_gt: pd.DataFrame | None = None
    _cell_influence: CellInfluence | None = field(default=None, repr=False, compare=False)
    _design: dict | None = field(default=None, repr=False, compare=False)

    _transient: ClassVar[tuple[str, ...]] = ("_cell_influence", "_design")

    def plot_att_gt(self, **kwargs: Any):
        """ATT(g, t) by period, one panel per cohort (R ``did``'s ``ggdid``); see
        :func:`~utvardering.plotting.did_event_study.plot_att_gt`.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ...plotting.did_event_study import plot_att_gt

        return plot_att_gt(self, **kwargs)

    @property
    def _influence(self) -> np.ndarray | None:
        """The ``(n, cells)`` influence matrix, built on demand from the per-block storage."""
        return None if self._cell_influence is None else self._cell_influence.dense()

    def aggregate(self, type: AggregationType = "simple", *, balance_e: int | None = None,
                  min_e: float | None = None, max_e: float | None = None) -> Effect:
        """Summarise the ATT(g,t) cells, as R ``did::aggte``.

        Parameters
        ----------
        type : {"simple", "group", "dynamic", "calendar"}
            ``simple``: cohort-size weighted mean of all post-treatment cells; ``group``:
            effect by cohort :math:`\\theta(g)`; ``dynamic``: effect by event time
            :math:`\\theta(e)` (an event study); ``calendar``: effect by period
            :math:`\\theta(t)`. See :func:`~utvardering.did.staggered.aggregate.aggregate_gt`.
        balance_e : int, optional
            ``dynamic`` only: keep cohorts observed for at least ``balance_e`` periods after
            treatment, and event times up to ``balance_e``.
        min_e, max_e : float, optional
            Event-time window (``max_e`` also limits the post-treatment cells used by
            ``simple`` and ``group``).

        Returns
        -------
        Effect
            ``estimate``/``se``/``interval`` for the overall summary and ``path`` (index
            ``group``, ``event_time`` or ``time``) with columns ``effect``, ``se``, ``low``,
            ``high``; path intervals are sup-t simultaneous bands when bootstrapped.
        """
        check_option("type", type, AggregationType)
        if self._cell_influence is None or self._design is None:
            raise DesignError(
                "this result has no influence functions (it was rebuilt from to_dict()); "
                "re-run callaway_santanna() to aggregate."
            )
        d = self._design
        inference = d["inference"]
        agg = aggregate_gt(
            d["att"], self._cell_influence, d["group"], d["time"], d["unit_group"], d["unit_weight"],
            type, balance_e=balance_e, min_e=-np.inf if min_e is None else min_e,
            max_e=np.inf if max_e is None else max_e, first_time=d["first_time"],
            # the bootstrap shortcut's linear forms (cells × cells) only when bootstrapping
            cohort_values=d.get("cohort_values") if inference.multipliers is not None else None,
            # analytic, unclustered: event-time paths a few at a time, only their standard
            # errors kept (clustered sums would be summed in another order)
            path_se=(lambda psi: inference.standard_errors(psi)[0])
            if inference.multipliers is None and inference.cluster is None else None,
            vcov_engine=replace(inference, multipliers=None) if type == "dynamic" else None,
        )
        se, _ = inference.standard_errors(agg.influence[:, None], agg.form)
        summary = normal_summary(agg.estimate, float(se[0]), self.level)
        path = None
        diagnostics: dict = {"warnings": list(self.warnings)}
        if type != "simple":
            if agg.path_se is not None:
                path_se, crit = agg.path_se, np.nan  # analytic: the normal quantile below
            else:
                path_se, crit = inference.standard_errors(agg.path_influence, agg.path_form)
            z = _NORMAL.inv_cdf(0.5 + self.level / 2)
            if inference.multipliers is None or not np.isfinite(crit) or crit < z:
                crit = z
            labels = agg.labels
            if type == "dynamic":
                labels = labels.astype(int)
            else:
                labels = [d["labels"][v] for v in labels]
            path = pd.DataFrame(
                {"effect": agg.effects, "se": path_se, "low": agg.effects - crit * path_se,
                 "high": agg.effects + crit * path_se},
                index=pd.Index(labels, name=_PATH_INDEX[type]),
            )
            diagnostics["critical_value"] = float(crit)
        extra: dict = {}
        cls = Effect
        if type == "dynamic":
            cls = EventStudyEffect
            extra["vcov"] = event_time_vcov(agg.path_vcov, labels, agg.effects,
                                            d.get("base_period"))
        return cls(
            method=self.method, estimate=agg.estimate, level=self.level, path=path,
            diagnostics=diagnostics, outcome=self.outcome, scale=self.scale,
            estimand=_ESTIMANDS[type], n_treated=self.n_treated, n_control=self.n_control,
            start=self.start, params={**self.params, "aggregation": type, "balance_e": balance_e,
                                      "min_e": min_e, "max_e": max_e},
            **summary, **extra,
        )
