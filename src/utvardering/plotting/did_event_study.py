"""Event-study figure for staggered DiD: effects by event time with their intervals.

Draws any Effect whose ``path`` is indexed by ``event_time`` (Callaway–Sant'Anna
``dynamic`` aggregation, Sun–Abraham, imputation), optionally several side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["plot_att_gt", "plot_event_study"]


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


def plot_att_gt(effect, *, ncols: int = 3, title: str | None = None, **kwargs: Any):
    """One panel per cohort: ATT(g, t) by period with intervals (R ``did``'s ``ggdid``).

    Parameters
    ----------
    effect : StaggeredEffect
        A Callaway–Sant'Anna result (its ``att_gt`` table: ``group``, ``time``, ``att``,
        ``low``, ``high``).
    ncols : int, default 3
        Panels per row.
    title : str, optional
        Figure title (default: method and outcome).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar`.

    Returns
    -------
    matplotlib.figure.Figure
        Pre-treatment cells in grey, post-treatment cells in colour, the cohort's first
        treated period marked; all panels share the y axis.
    """
    import matplotlib.pyplot as plt

    table = getattr(effect, "att_gt", None)
    if table is None or table.empty:
        raise ValueError(f"{effect.method}: no ATT(g,t) table to draw (a Callaway–Sant'Anna "
                         "result has one).")
    cohorts = sorted(table["group"].unique())
    ncols = max(1, min(ncols, len(cohorts)))
    nrows = int(np.ceil(len(cohorts) / ncols))
    fig, axes = plt.subplots(nrows, ncols, sharey=True, squeeze=False,
                             figsize=(3.2 * ncols, 2.6 * nrows))
    for ax, cohort in zip(axes.flat, cohorts):
        cells = table[table["group"] == cohort].sort_values("time")
        times = cells["time"].to_numpy()
        x = np.arange(len(times), dtype=float)
        est = cells["att"].to_numpy(dtype=float)
        err = np.vstack([est - cells["low"].to_numpy(dtype=float),
                         cells["high"].to_numpy(dtype=float) - est])
        post = np.asarray(times >= cohort)
        for mask, colour, label in ((~post, "grey", "pre-treatment"), (post, "C0", "post-treatment")):
            if mask.any():
                ax.errorbar(x[mask], est[mask], yerr=np.nan_to_num(err[:, mask]), fmt="o",
                            color=colour, capsize=3, label=label, **kwargs)
        ax.axhline(0, color="black", lw=0.8)
        if post.any():
            ax.axvline(x[post][0] - 0.5, color="grey", ls=":", lw=1)
        ax.set_xticks(x)
        ax.set_xticklabels([str(t) for t in times], rotation=45, fontsize=7)
        ax.set_title(f"cohort {cohort}", fontsize=9)
    for ax in list(axes.flat)[len(cohorts):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel(f"ATT(g, t) ({effect.scale})")
    axes[0, 0].legend(frameon=False, fontsize=7, loc="best")
    level = round(effect.level * 100)
    fig.suptitle(title or f"{effect.method}: {effect.outcome or ''} by cohort ({level}% intervals)",
                 fontsize=10)
    fig.tight_layout()
    return fig
