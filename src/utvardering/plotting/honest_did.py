"""Sensitivity plot for HonestDiD results: robust intervals against M next to the original."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_honest_did"]


def plot_honest_did(effect, ax=None, *, title: str | None = None, **kwargs: Any):
    """Draw robust confidence intervals for each M (or M̄) and the original interval.

    Parameters
    ----------
    effect : HonestEffect
        Result of :func:`~utvardering.inference.honest_did.honest_did`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; created if omitted.
    title : str, optional
        Axes title.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar` for the robust intervals.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    path = effect.path
    robust = path.drop(index="original")
    m = np.array([float(x) for x in robust.index])
    low, high = robust["low"].to_numpy(float), robust["high"].to_numpy(float)
    step = float(np.min(np.diff(m))) if len(m) > 1 else 1.0
    x_orig = m.min() - step
    mid = (low + high) / 2
    ax.errorbar(m, mid, yerr=[mid - low, high - mid], fmt="none", capsize=4, lw=2,
                color=kwargs.pop("color", "C0"), label="robust interval", **kwargs)
    for column, marker, sign in (("low_at_grid_end", "v", -1), ("high_at_grid_end", "^", 1)):
        if column in robust and robust[column].astype(bool).any():
            cut = robust[column].astype(bool).to_numpy()
            ends = np.where(sign < 0, low, high)
            ax.plot(m[cut], ends[cut], ls="none", marker=marker, ms=9, color="C1",
                    label="reaches the θ grid's end (interval cut)"
                    if column == "low_at_grid_end" or not robust["low_at_grid_end"].any()
                    else None)
    o_low, o_high = path.loc["original", "low"], path.loc["original", "high"]
    ax.errorbar([x_orig], [(o_low + o_high) / 2], yerr=[[(o_high - o_low) / 2]] * 2, fmt="none",
                capsize=4, lw=2, color="C3", label="original")
    ax.axhline(0, color="grey", lw=1, ls="--")
    if effect.breakdown is not None and effect.breakdown > 0:
        ax.axvline(effect.breakdown, color="grey", lw=1, ls=":",
                   label=f"breakdown ≈ {effect.breakdown:g}")
    symbol = "M̄" if effect.restriction == "relative_magnitudes" else "M"
    ax.set_xlabel(symbol)
    ax.set_ylabel(f"effect ({effect.scale})")
    ax.set_xticks([x_orig, *m])
    ax.set_xticklabels(["orig.", *[f"{v:g}" for v in m]])
    ax.set_title(title or f"HonestDiD sensitivity ({effect.diagnostics.get('inference', '')}, "
                          f"{round(effect.level * 100)}%)")
    ax.legend(frameon=False, fontsize="small")
    return fig
