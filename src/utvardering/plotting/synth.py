"""Synthetic-control figures: treated vs synthetic, gap, placebo spaghetti, weights, leave-one-out.

Every function reads numbers held by a result object and draws them; none fits a model.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from .effect_path import start_position, time_axis

__all__ = [
    "plot_leave_one_out",
    "plot_placebo_gaps",
    "plot_ratio_histogram",
    "plot_synth",
    "plot_weights",
]


def _axes(ax, n: int, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(n, 1, figsize=figsize, squeeze=False, sharex=n > 1)
        return fig, list(axes[:, 0])
    axes = list(np.atleast_1d(ax))
    return axes[0].figure, axes


def _start(index: pd.Index, start: str | None):
    return start_position(SimpleNamespace(start=start), index)


def plot_synth(effect, ax=None, title: str | None = None, **kwargs: Any):
    """Treated vs synthetic (top) and the gap with its conformal band, if any (bottom).

    Parameters
    ----------
    effect : SynthEffect
        The fit.
    ax : sequence of two Axes, optional
        Axes to draw on.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    path = effect.path
    fig, (top, bottom) = _axes(ax, 2, (8, 6))
    x = time_axis(path.index)
    start = _start(path.index, effect.start) if path.index.name != "event_time" else -0.5
    treated = "treated" if (effect.n_treated or 1) == 1 else "treated (mean)"
    top.plot(x, path["observed"], color="black", lw=1.6, label=treated)
    top.plot(x, path["counterfactual"], color="C0", ls="--", lw=1.6, label="synthetic")
    top.set_ylabel(f"{effect.outcome or 'outcome'} ({effect.scale})")
    top.legend(frameon=False)
    if "low" in path and path["low"].notna().any():
        low, high = path["low"].to_numpy(dtype=float), path["high"].to_numpy(dtype=float)
        finite = np.isfinite(low) & np.isfinite(high)
        tested = ~np.isnan(low)
        if finite.any():
            label = f"{effect.level:.0%} conformal band"
            if (tested & ~finite).any():
                label += " (unbounded where not drawn)"
            bottom.fill_between(x, np.where(finite, low, np.nan), np.where(finite, high, np.nan),
                                color="C0", alpha=0.2, lw=0, label=label)
            bottom.legend(frameon=False, loc="lower left")
        else:
            bottom.text(0.01, 0.03, f"{effect.level:.0%} pointwise conformal band unbounded "
                        "(pre-period too short); not drawn", transform=bottom.transAxes,
                        fontsize="small", color="grey")
    bottom.plot(x, path["effect"], color="C0", lw=1.6)
    bottom.axhline(0, color="grey", lw=0.8)
    bottom.set_ylabel("gap (treated − synthetic)")
    bottom.set_xlabel(effect.params.get("time_column", "time") if path.index.name != "event_time"
                      else "periods since the start")
    for a in (top, bottom):
        if start is not None:
            a.axvline(start, color="grey", ls=":", lw=1)
    top.set_title(title or f"Synthetic control: {effect.outcome or ''}")
    fig.tight_layout()
    return fig


def plot_weights(effect, ax=None, tol: float = 1e-3, **kwargs: Any):
    """Horizontal bars of the donor weights above ``tol``; returns the Figure."""
    w = effect.weights[effect.weights > tol].sort_values()
    fig, (axis,) = _axes(ax, 1, (6, 0.4 * max(len(w), 3) + 1))
    axis.barh([str(i) for i in w.index], w.to_numpy(), color="C0")
    axis.set_xlabel("donor weight")
    axis.set_xlim(0, max(1.0, float(w.max()) * 1.05) if len(w) else 1.0)
    axis.set_title(f"Donor weights ({int((effect.weights > tol).sum())} above {tol:g})")
    fig.tight_layout()
    return fig


def plot_placebo_gaps(placebo, ax=None, only_kept: bool = True, **kwargs: Any):
    """Placebo gap paths in grey with the treated unit's gap highlighted; returns the Figure."""
    fig, (axis,) = _axes(ax, 1, (8, 4.5))
    gaps = placebo.gaps
    x = time_axis(gaps.index)
    table = placebo.table
    for name in gaps.columns[1:]:
        if only_kept and not table.loc[name, "kept"]:
            continue
        axis.plot(x, gaps[name], color="grey", lw=0.7, alpha=0.6)
    axis.plot(x, gaps.iloc[:, 0], color="black", lw=2, label=str(gaps.columns[0]))
    axis.axhline(0, color="grey", lw=0.8, ls="--")
    start = _start(gaps.index, placebo.start)
    if start is not None:
        axis.axvline(start, color="grey", ls=":", lw=1)
    axis.set_ylabel("gap (unit − its synthetic)")
    axis.set_title(f"Placebos in space (RMSPE-ratio p = {placebo.p_value:.3f})")
    axis.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_ratio_histogram(placebo, ax=None, **kwargs: Any):
    """Histogram of post/pre RMSPE ratios with the treated unit marked; returns the Figure."""
    fig, (axis,) = _axes(ax, 1, (6, 4))
    t = placebo.table
    kept = t[t["kept"]]
    axis.hist(kept["ratio"].to_numpy(), bins=20, color="grey", alpha=0.7)
    axis.axvline(float(t["ratio"].iloc[0]), color="black", lw=2, label=str(t.index[0]))
    axis.set_xlabel("post/pre RMSPE ratio")
    axis.set_ylabel("units")
    axis.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_leave_one_out(loo, ax=None, **kwargs: Any):
    """Treated path, the original synthetic and each leave-one-out synthetic; returns the Figure."""
    fig, (axis,) = _axes(ax, 1, (8, 4.5))
    cf = loo.counterfactuals
    x = time_axis(cf.index)
    for name in cf.columns[1:]:
        axis.plot(x, cf[name], color="C0", lw=0.8, alpha=0.5)
    axis.plot([], [], color="C0", lw=0.8, alpha=0.5, label="leave one donor out")
    axis.plot(x, cf["(none)"], color="C0", ls="--", lw=1.6, label="synthetic")
    axis.plot(x, loo.observed, color="black", lw=1.6, label="treated")
    start = _start(cf.index, loo.start)
    if start is not None:
        axis.axvline(start, color="grey", ls=":", lw=1)
    axis.legend(frameon=False)
    axis.set_title("Leave-one-out synthetic controls")
    fig.tight_layout()
    return fig
