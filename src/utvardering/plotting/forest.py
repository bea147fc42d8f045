"""Forest plot of a triangulation table (one row per estimate)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_forest"]


def plot_forest(table: pd.DataFrame, *, relative: bool = False, truth: float | None = None, ax=None):
    """Draw estimates with their intervals, one row each, top to bottom.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`utvardering.compare`.
    relative : bool, default False
        Use ``relative`` and its interval instead of ``estimate``.
    truth : float, optional
        Vertical line at the true effect.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    est, lo, hi = ("relative", "relative_low", "relative_high") if relative else ("estimate", "low", "high")
    n = len(table)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.5 * n + 1.2))
    else:
        fig = ax.figure
    y = np.arange(n)[::-1]
    centre = table[est].astype(float).to_numpy()
    low = table[lo].astype(float).to_numpy()
    high = table[hi].astype(float).to_numpy()
    has = ~np.isnan(low) & ~np.isnan(high)
    ax.errorbar(centre[has], y[has], xerr=[centre[has] - low[has], high[has] - centre[has]],
                fmt="o", color="C0", capsize=3)
    ax.plot(centre[~has], y[~has], "o", color="C0", mfc="white")
    ax.axvline(0, color="grey", lw=0.8)
    if truth is not None:
        ax.axvline(truth, color="C3", ls="--", lw=1, label="true effect")
        ax.legend(loc="best", frameon=False)
    warned = (table["n_warnings"].fillna(0).astype(int) > 0 if "n_warnings" in table
              else pd.Series(False, index=table.index)).to_numpy()
    labels = [f"{label} *" if flag else str(label) for label, flag in zip(table["label"], warned)]
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_xlabel("relative effect" if relative else "effect")
    if warned.any():
        fig.text(0.01, 0.01, "* the estimator warned (see compare(...)['warnings']); read its "
                 "interval with care", fontsize=7, color="0.35", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04 if warned.any() else 0, 1, 1))
    return fig
