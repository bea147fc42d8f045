"""The BSTS result: :class:`BSTSEffect`, with CausalImpact's table and a short report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from ..effect import Effect
from ..errors import DesignError
from ..options import renamed_arguments

__all__ = ["BSTSEffect"]


@dataclass(repr=False)
class BSTSEffect(Effect):
    """Result of :func:`~utvardering.timeseries.causal_impact.causal_impact`.

    Besides the :class:`~utvardering.Effect` fields (``estimate`` = average absolute effect
    per post-period, ``relative``, ``p_value`` = CausalImpact's posterior tail-area
    probability, ``prob`` = posterior probability of a causal effect, ``path`` = pointwise
    observed / counterfactual / effect with intervals):

    Attributes
    ----------
    table : pandas.DataFrame
        CausalImpact's summary table (rows ``Average`` and ``Cumulative``).
    cumulative : pandas.DataFrame
        Cumulative effect over the post-period (``effect``, ``low``, ``high``).
    likelihood : str
        ``"gaussian"``, ``"poisson"`` or ``"negative_binomial"``.
    rate_ratio, rate_ratio_interval : float, tuple
        Count likelihoods: posterior median and interval of
        :math:`\\sum_t y_t / \\sum_t \\tilde y_t` over the post-period.
    events_prevented, events_prevented_interval : float, tuple
        Count likelihoods: counterfactual minus observed events over the post-period
        (positive = fewer events than predicted).
    idata : arviz.InferenceData or None
        Posterior of the pre-period model (not exported by :meth:`to_dict`).
    inputs : dict or None
        Arguments needed to refit (placebo-in-time; not exported).
    """

    table: pd.DataFrame | None = None
    cumulative: pd.DataFrame | None = None
    likelihood: str = "gaussian"
    rate_ratio: float | None = None
    rate_ratio_interval: tuple[float, float] | None = None
    events_prevented: float | None = None
    events_prevented_interval: tuple[float, float] | None = None
    idata: Any = None
    inputs: dict | None = field(default=None)

    _transient: ClassVar[tuple[str, ...]] = ("idata", "inputs")

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("rate_ratio_interval", "events_prevented_interval"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, (float(value[0]), float(value[1])))

    # -- CausalImpact-style summaries -------------------------------------------------------
    def summary(self, kind: str = "table", lang: str = "en") -> str:
        """CausalImpact's summary table (``kind="table"``) or a short report (``"report"``).

        Parameters
        ----------
        kind : {"table", "report"}
            Table in CausalImpact's layout, or a plain-language paragraph.
        lang : {"en", "sv"}
            Language of the report (the table is in English).

        Returns
        -------
        str
        """
        from .report import impact_report, impact_table_text

        if kind == "table":
            return impact_table_text(self)
        if kind == "report":
            return impact_report(self, lang=lang)
        raise ValueError(f"kind must be 'table' or 'report', got {kind!r}.")

    def plot(self, ax=None, **kwargs: Any):
        """The three-panel CausalImpact figure (original, pointwise, cumulative).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..plotting.bsts import plot_causal_impact

        return plot_causal_impact(self, axes=ax, **kwargs)

    @renamed_arguments(n_placebos="n_draws")
    def placebo_in_time(self, n_draws: int = 5, **options: Any) -> pd.DataFrame:
        """Refit with fake starts in the pre-period; see :func:`~.placebo.placebo_in_time`."""
        from .placebo import placebo_in_time

        if self.inputs is None:
            raise DesignError("this result was rebuilt from a dict and has no inputs to refit; "
                             "call utvardering.timeseries.placebo.placebo_in_time directly.")
        kwargs = {**self.inputs, **options}
        return placebo_in_time(n_draws=n_draws, **kwargs)
