"""Event-study figure for staggered DiD: effects by event time with their intervals.

Draws any Effect whose ``path`` is indexed by ``event_time`` (Callaway–Sant'Anna
``dynamic`` aggregation, Sun–Abraham, imputation), optionally several side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["plot_event_study"]


def plot_event_study(effect, ax=None, *, others: Sequence | None = None, title: str | None = None,
                     labels: Sequence[str] | None = None, **kwargs: Any):
    """Plot event-time effects with intervals; pre-treatment periods in grey.

    Parameters
    ----------
    effect : Effect
        Result with a ``path`` indexed by ``event_time`` (columns ``effect``, ``low``,
        ``high``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; created if omitted.
    others : sequence of Effect, optional
        Further event studies drawn next to ``effect`` (slightly offset), e.g. to compare
        Callaway–Sant'Anna, Sun–Abraham and imputation.
    title : str, optional
        Axes title (default: method and outcome).
    labels : sequence of str, optional
        Legend labels (default: the methods).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    effects = [effect, *(others or [])]
    for e in effects:
        if e.path is None or e.path.index.name != "event_time":
            raise ValueError(f"{e.method}: the path is not indexed by event_time; aggregate "
                             "with type='dynamic' first.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4))
    else:
        fig = ax.figure
    names = list(labels) if labels is not None else [e.method for e in effects]
    width = 0.6 / max(len(effects), 1)
    for k, (e, name) in enumerate(zip(effects, names)):
        path = e.path
        x = path.index.to_numpy(dtype=float) + (k - (len(effects) - 1) / 2) * width
        est = path["effect"].to_numpy(dtype=float)
        low = path["low"].to_numpy(dtype=float) if "low" in path else np.full_like(est, np.nan)
        high = path["high"].to_numpy(dtype=float) if "high" in path else np.full_like(est, np.nan)
        err = np.vstack([est - low, high - est])
        pre = path.index.to_numpy() < 0
        colour = f"C{k}"
        if len(effects) == 1:
            for mask, c, lab in ((pre, "grey", "pre-treatment"), (~pre, colour, "post-treatment")):
                if mask.any():
                    ax.errorbar(x[mask], est[mask], yerr=np.nan_to_num(err[:, mask]), fmt="o",
                                color=c, capsize=3, label=lab, **kwargs)
        else:
            ax.errorbar(x, est, yerr=np.nan_to_num(err), fmt="o", color=colour, capsize=3,
                        label=name, **kwargs)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="grey", ls=":", lw=1)
    ax.set_xlabel("periods since treatment (event time)")
    ax.set_ylabel(f"effect ({effect.scale})")
    level = round(effect.level * 100)
    name = effect.method if len(effects) == 1 else "event study"
    ax.set_title(title or f"{name}: {effect.outcome or ''} ({level}% intervals)")
    ax.legend(frameon=False, loc="best")
    fig.tight_layout()
    return fig
