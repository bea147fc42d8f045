"""The synthetic-DiD figure: treated vs weighted controls, the time weights, and the effect."""

from __future__ import annotations

from typing import Any

import numpy as np

from .effect_path import plot_effect_path, time_axis

__all__ = ["plot_synthetic_did"]


def plot_synthetic_did(effect, ax=None, title: str | None = None, **kwargs: Any):
    """Draw a :class:`~utvardering.synth.sdid.SyntheticDiDEffect`.

    Top panel: the treated units' mean (black) and the unit-weighted controls (blue), the
    latter also shifted by the intercept (dashed: the counterfactual); the time weights
    :math:`\\hat\\lambda` appear as bars on the pre-period, and the arrow at the middle of
    the post-period, from the counterfactual's post-period mean, has the length of the
    estimate (as R ``synthdid_plot``). Bottom panel: the effect path. Staggered designs
    (path over event time, no single set of time weights) fall back to the standard
    effect figure.

    Parameters
    ----------
    effect : SyntheticDiDEffect
        Result of :func:`~utvardering.synth.sdid.synthetic_did`.
    ax : sequence of two matplotlib Axes, optional
        Axes to draw on; created if omitted.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    path = effect.path
    if effect.time_weights is None or path is None or path.index.name != "time":
        return plot_effect_path(effect, ax=ax, title=title, **kwargs)
    if ax is None:
        fig, axes = plt.subplots(2, 1, sharex=True, figsize=(8, 6), height_ratios=(2, 1))
    else:
        axes = np.atleast_1d(ax)
        fig = axes[0].figure
    top, bottom = axes[0], axes[-1]
    x = time_axis(path.index)
    synthetic = path["counterfactual"] - (effect.intercept or 0.0)
    top.plot(x, path["observed"], color="black", lw=1.5, label="treated")
    top.plot(x, synthetic, color="C0", lw=1.3, label="weighted controls")
    top.plot(x, path["counterfactual"], color="C0", ls="--", lw=1.1, label="counterfactual (+ intercept)")
    n_pre = len(effect.time_weights)
    start = x[n_pre] if n_pre < len(x) else None
    if start is not None:
        top.axvline(start, color="grey", ls=":", lw=1)
        bottom.axvline(start, color="grey", ls=":", lw=1)
        # the estimate as an arrow at the middle of the post-period (as R synthdid_plot): from
        # the post-period mean of the counterfactual to that mean plus the estimate (for one
        # cohort this is the treated units' post-period mean)
        post = np.arange(len(x)) >= n_pre
        x_mid = x[n_pre + (int(post.sum()) - 1) // 2]
        base = float(path["counterfactual"].to_numpy()[post].mean())
        top.annotate("", xy=(x_mid, base + effect.estimate), xytext=(x_mid, base),
                     arrowprops={"arrowstyle": "->", "color": "C3", "lw": 1.5})
        top.plot([], [], color="C3", lw=1.5, label=f"estimate {effect.estimate:.3g}")
    twin = top.twinx()
    width = (x[1] - x[0]) * 0.8 if len(x) > 1 else 0.8
    twin.bar(x[:n_pre], effect.time_weights.to_numpy(), width=width, color="C1", alpha=0.35,
             label="time weights")
    twin.set_ylim(0, max(3.0, 3 * float(effect.time_weights.max() or 1)))
    twin.set_ylabel("time weight")
    lines, labels = top.get_legend_handles_labels()
    bars, bar_labels = twin.get_legend_handles_labels()
    top.legend(lines + bars, labels + bar_labels, loc="best", frameon=False, fontsize="small")
    top.set_ylabel(effect.outcome or "outcome")
    bottom.plot(x, path["effect"], color="C0", marker="o" if len(x) <= 40 else None, ms=3)
    bottom.axhline(0, color="grey", lw=0.8)
    bottom.set_ylabel(f"effect ({effect.scale})")
    bottom.set_xlabel(effect.params.get("time_column", "time"))
    top.set_title(title or f"{effect.method}: {effect.outcome or ''} (estimate {effect.estimate:.3g})")
    fig.tight_layout()
    return fig
