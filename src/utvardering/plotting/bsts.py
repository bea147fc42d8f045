"""The CausalImpact figure: original series, pointwise effect and cumulative effect."""

from __future__ import annotations

from typing import Any

import numpy as np

from .effect_path import time_axis

__all__ = ["plot_causal_impact"]


def plot_causal_impact(effect, axes=None, title: str | None = None, **kwargs: Any):
    """Draw the three CausalImpact panels for a BSTS result.

    Panels: (1) observed series and counterfactual prediction with its credible band,
    (2) pointwise effect (observed minus counterfactual) with its band, (3) cumulative
    effect over the post-period with its band. A dotted line marks the first post-period.

    Parameters
    ----------
    effect : BSTSEffect
        Result of :func:`~utvardering.timeseries.causal_impact.causal_impact`.
    axes : sequence of three matplotlib Axes, optional
        Created if omitted.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    path, cum = effect.path, effect.cumulative
    if axes is None:
        fig, axes = plt.subplots(3, 1, sharex=True, figsize=(8, 7.5))
    else:
        axes = np.atleast_1d(axes)
        fig = axes[0].figure
    x = time_axis(path.index)
    x0 = time_axis(cum.index)[0]
    top, mid, bottom = axes
    top.fill_between(x, path["counterfactual_low"], path["counterfactual_high"], color="C0",
                     alpha=0.2, lw=0)
    top.plot(x, path["observed"], color="black", lw=1.2, label="observed")
    top.plot(x, path["counterfactual"], color="C0", ls="--", lw=1.2, label="counterfactual")
    top.set_ylabel(effect.outcome or "outcome")
    top.legend(loc="best", frameon=False)
    mid.fill_between(x, path["low"], path["high"], color="C0", alpha=0.2, lw=0)
    mid.plot(x, path["effect"], color="C0", ls="--", lw=1.2)
    mid.set_ylabel("pointwise")
    cx = time_axis(cum.index)
    bottom.fill_between(cx, cum["low"], cum["high"], color="C0", alpha=0.2, lw=0)
    bottom.plot(cx, cum["effect"], color="C0", ls="--", lw=1.2)
    bottom.set_ylabel("cumulative")
    for ax in (mid, bottom):
        ax.axhline(0, color="grey", lw=0.8)
    for ax in axes:
        ax.axvline(x0, color="grey", ls=":", lw=1)
    axes[0].set_title(title or f"{effect.method} ({effect.likelihood}): {effect.outcome or ''}")
    fig.tight_layout()
    return fig
