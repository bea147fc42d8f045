"""Result classes of the regression-based DiD estimators (2×2, TWFE, event study, counts, surveys).

:class:`DiDEffect` extends :class:`~utvardering.effect.Effect` with the regression's
coefficient table and variance, the event-study table (indexed by ``event_time``), the
Goodman-Bacon decomposition when requested, and :meth:`DiDEffect.pretrend` (the joint Wald
test of the leads). :class:`PoissonDiDEffect` adds rate ratios and events prevented;
:class:`SurveyDiDEffect` the weighted cell means of a survey item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..effect import Effect
from ..inference.cluster import wald_test

__all__ = ["DiDEffect", "PoissonDiDEffect", "SurveyDiDEffect", "pretrend_test",
           "pretrend_warnings"]


@dataclass(repr=False)
class DiDEffect(Effect):
    """Effect of a regression DiD estimator.

    Attributes
    ----------
    coefficients : pandas.DataFrame, optional
        One row per regressor (index ``term``): ``estimate``, ``se``, ``t``, ``p_value``,
        ``low``, ``high``.
    vcov : pandas.DataFrame, optional
        Variance of the coefficients (terms × terms).
    event_study : pandas.DataFrame, optional
        Event-time coefficients (index ``event_time``): ``estimate``, ``se``, ``low``,
        ``high``, ``n_obs`` (treated observations in the bin); the reference period has
        estimate 0 and missing ``se``.
    bacon : pandas.DataFrame, optional
        Goodman-Bacon 2×2 comparisons (see :func:`~utvardering.did.bacon.bacon_decomposition`).
    cell_means : pandas.DataFrame, optional
        (Weighted) outcome means by group and period of a 2×2 design, with counts.
    """

    coefficients: pd.DataFrame | None = None
    vcov: pd.DataFrame | None = None
    event_study: pd.DataFrame | None = None
    bacon: pd.DataFrame | None = None
    cell_means: pd.DataFrame | None = None

    def pretrend(self) -> dict:
        """Joint Wald test that every lead (event time < reference) is zero.

        Returns
        -------
        dict
            ``chi2``, ``df``, ``p_chi2``, ``F``, ``df_denom``, ``p_F`` and ``terms`` (the
            leads tested); the F form uses ``G - 1`` denominator degrees of freedom.

        Raises
        ------
        ValueError
            When the effect has no event study (use :func:`~utvardering.did.twfe.event_study`).
        """
        if self.event_study is None or self.vcov is None:
            raise ValueError("this effect has no event study; fit it with event_study(...).")
        if "pretrend" in self.diagnostics and isinstance(self.diagnostics["pretrend"], dict):
            return dict(self.diagnostics["pretrend"])
        return pretrend_test(self.event_study, self.vcov, self.params.get("reference", -1),
                             self.diagnostics.get("df"))

    def plot(self, ax=None, **kwargs):
        """Goodman-Bacon scatter for a decomposition, otherwise the effect path (event studies:
        coefficients with intervals over event time).

        Returns
        -------
        matplotlib.figure.Figure
        """
        if self.bacon is not None:
            from ..plotting.did_twfe import plot_bacon

            return plot_bacon(self, ax=ax, **kwargs)
        return super().plot(ax=ax, **kwargs)


def pretrend_test(table: pd.DataFrame, vcov: pd.DataFrame, reference: int, df: int | None) -> dict:
    """Wald test of the leads of an event-study ``table`` with coefficient variance ``vcov``.

    Rank-aware (:func:`~utvardering.inference.cluster.wald_test`): with more leads than
    clusters less one, or a singular variance, the statistics are NaN and ``note`` says why,
    so the verdict cannot depend on how the units are labelled.
    """
    leads = [e for e in table.index if e < reference and np.isfinite(table.loc[e, "se"])]
    terms = [f"event_time[{e}]" for e in leads]
    terms = [t for t in terms if t in vcov.index]
    if not terms:
        out = wald_test(np.array([]), np.zeros((0, 0)), df)
    else:
        out = wald_test(table.loc[leads, "estimate"].to_numpy(), vcov.loc[terms, terms].to_numpy(), df)
    out["terms"] = terms
    return out


@dataclass(repr=False)
class PoissonDiDEffect(DiDEffect):
    """Effect of :func:`~utvardering.did.poisson.poisson_did`.

    ``estimate`` is the coefficient :math:`\\beta` on the log scale; ``relative`` is
    :math:`e^{\\beta} - 1`.

    Attributes
    ----------
    rate_ratio : float, optional
        :math:`e^{\\hat\\beta}`.
    rate_ratio_interval : tuple of float, optional
        :math:`(e^{\\beta_{lo}}, e^{\\beta_{hi}})`.
    events_prevented : float, optional
        Counterfactual minus fitted events summed over treated post-period cells,
        :math:`\\sum \\hat\\mu_{it}(e^{-\\hat\\beta} - 1)` (positive when crime fell).
    events_prevented_interval : tuple of float, optional
        The interval of ``events_prevented`` (the :math:`\\beta` interval mapped through the
        monotone function above).
    dropped_units : list, optional
        Units left out of the likelihood because every count is zero (perfectly predicted).
    placebo : pandas.DataFrame, optional
        With randomization inference, one row per placebo assignment: ``assignment`` (the
        comparison unit that received the treated unit's path, or the draw number with several
        treated units), its ``estimate``, ``size_term`` (:math:`1/C^1 + 1/C^0`), whether it is
        ``used`` in the reference set, and its ``reference_value`` (rescaled under
        ``heteroskedasticity="size"``). Drawn by :meth:`plot_placebos`.
    """

    rate_ratio: float | None = None
    rate_ratio_interval: tuple[float, float] | None = None
    events_prevented: float | None = None
    events_prevented_interval: tuple[float, float] | None = None
    dropped_units: list | None = None
    placebo: pd.DataFrame | None = None

    def plot_placebos(self, ax=None, **kwargs):
        """The treated estimate among the placebo estimates, against each placebo's size.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        ValueError
            When the effect was not fitted with randomization inference.
        """
        if self.placebo is None:
            raise ValueError("no placebo estimates: fit poisson_did with inference='randomization' "
                             "(the default below 20 treated clusters).")
        from ..plotting.did_twfe import plot_placebos

        return plot_placebos(self, ax=ax, **kwargs)


@dataclass(repr=False)
class SurveyDiDEffect(DiDEffect):
    """Effect of :func:`~utvardering.did.survey.survey_did`.

    ``cell_means`` holds the survey-weighted means of the analysed item (or the share at or
    above the threshold) by group and period, with respondent counts.

    Attributes
    ----------
    item : str, optional
        The survey item analysed.
    threshold : int, optional
        Answers at or above it count as 1 (ordinal items analysed as a share).
    """

    item: str | None = None
    threshold: int | None = None


def pretrend_warnings(pre: dict, n_treated_clusters: int | None) -> list[str]:
    """Warnings about the joint pre-trend test: not computable, or rejecting (with the caveat
    that cluster-robust tests over-reject with few treated clusters).
    """
    from ..inference.cluster import MIN_TREATED_CLUSTERS

    if pre.get("note"):
        return [f"joint pre-trend test {pre['note']}"]
    if pre["df"] and pre["p_F"] < 0.05:
        text = (f"joint pre-trend test rejects (F = {pre['F']:.2f}, p = {pre['p_F']:.3f}): "
                "parallel trends are doubtful; see a sensitivity analysis (HonestDiD).")
        if n_treated_clusters is not None and n_treated_clusters < MIN_TREATED_CLUSTERS:
            text += (f" With {n_treated_clusters} treated cluster(s) this cluster-robust test "
                     "over-rejects, so read it with care.")
        return [text]
    return []
