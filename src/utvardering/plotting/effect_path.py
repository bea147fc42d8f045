"""The standard effect figure: observed vs counterfactual, and the effect with its band."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_effect_path", "start_position", "time_axis"]


def time_axis(index: pd.Index) -> np.ndarray:
    """x-axis values for a path index (periods as timestamps, otherwise the labels)."""
    if isinstance(index, pd.PeriodIndex):
        return index.to_timestamp().to_numpy()
    return np.asarray(index)


def plot_effect_path(effect, ax=None, title: str | None = None, **kwargs: Any):
    """Draw an Effect's path.

    With ``observed`` and ``counterfactual`` columns: two panels (levels; effect with its
    band). With only ``effect`` (event studies): one panel of point estimates and
    intervals, with a zero line and the treatment start marked.

    Parameters
    ----------
    effect : Effect
        The result to draw.
    ax : matplotlib.axes.Axes or sequence of Axes, optional
        Axes to draw on; created if omitted.
    title : str, optional
        Figure title (default: method and outcome).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    path = effect.path
    given_title = title
    title = title or f"{effect.method}: {effect.outcome or ''}"
    if path is None or path.empty:
        fig, axis = plt.subplots(figsize=(5, 2)) if ax is None else (ax.figure, ax)
        lo, hi = effect.interval
        axis.errorbar([effect.estimate], [0], xerr=[[effect.estimate - lo], [hi - effect.estimate]],
                      fmt="o", color="C0")
        axis.axvline(0, color="grey", lw=0.8)
        axis.set_yticks([0])  # one labelled row: the method and its interval's level
        axis.set_yticklabels([f"{effect.method} ({round(100 * effect.level)} %)"])
        axis.set_xlabel(f"effect ({effect.scale})")
        axis.set_title(title)
        fig.tight_layout()
        return fig
    levels = {"observed", "counterfactual"} <= set(path.columns)
    if path.index.name == "event_time" and not levels and "effect" in path.columns:
        # every event study draws alike (TWFE, Poisson, CS, Sun–Abraham, imputation; F14)
        from .did_event_study import plot_event_study

        return plot_event_study(effect, ax=ax, title=given_title, **kwargs)
    x = time_axis(path.index)
    if ax is None:
        fig, axes = plt.subplots(2 if levels else 1, 1, sharex=True, figsize=(8, 6 if levels else 3.5),
                                 squeeze=False)
        axes = axes[:, 0]
    else:
        axes = np.atleast_1d(ax)
        fig = axes[0].figure
    start = start_position(effect, path.index)
    if levels:
        top = axes[0]
        top.plot(x, path["observed"], color="black", lw=1.4, label="observed")
        top.plot(x, path["counterfactual"], color="C0", ls="--", lw=1.4, label="counterfactual")
        if "fitted" in path.columns:  # segmented regression: one fitted line per segment
            after = _after_start(effect, path.index)
            for part, label in ((~after, "fitted"), (after, None)):
                if part.any():
                    top.plot(x[part], path["fitted"].to_numpy()[part], color="C1", lw=1.2,
                             label=label)
        top.set_ylabel(effect.outcome or "outcome")
        top.legend(loc="best", frameon=False)
        if start is not None:
            top.axvline(start, color="grey", ls=":", lw=1)
    bottom = axes[-1]
    if "effect" in path.columns:
        if "low" in path.columns and "high" in path.columns and path[["low", "high"]].notna().any().any():
            if isinstance(path.index, pd.PeriodIndex) or len(path) > 25:
                bottom.fill_between(x, path["low"], path["high"], color="C0", alpha=0.2, lw=0)
                bottom.plot(x, path["effect"], color="C0")
            else:
                err = np.vstack([path["effect"] - path["low"], path["high"] - path["effect"]])
                bottom.errorbar(x, path["effect"], yerr=err, fmt="o", color="C0", capsize=3)
        else:
            bottom.plot(x, path["effect"], color="C0", marker="o" if len(path) <= 25 else None)
    bottom.axhline(0, color="grey", lw=0.8)
    if start is not None:
        bottom.axvline(start, color="grey", ls=":", lw=1)
    bottom.set_ylabel(f"effect ({effect.scale})")
    bottom.set_xlabel(path.index.name or "")
    axes[0].set_title(title)
    fig.tight_layout()
    return fig


def _after_start(effect, index: pd.Index) -> np.ndarray:
    """Boolean mask of the path rows at or after the effect's start."""
    if effect.start is None:
        return np.zeros(len(index), dtype=bool)
    try:
        if isinstance(index, pd.PeriodIndex):
            first = pd.Period(effect.start, freq=index.freq)
        elif isinstance(index, pd.DatetimeIndex):
            first = pd.Timestamp(effect.start)
        else:
            first = type(index[0])(effect.start)
        return np.asarray(index >= first)
    except (ValueError, TypeError):
        return np.zeros(len(index), dtype=bool)


def start_position(effect, index: pd.Index):
    """Where the treatment start is drawn on the x axis of ``index`` (``None`` if unknown)."""
    if index.name == "event_time":
        return -0.5
    if effect.start is None:
        return None
    if isinstance(index, pd.PeriodIndex):
        try:
            return pd.Period(effect.start, freq=index.freq).to_timestamp()
        except (ValueError, TypeError):
            return None
    try:
        return float(effect.start) - 0.5
    except ValueError:
        return None
