"""Figures of the regression DiD family: the Goodman-Bacon decomposition scatter."""

from __future__ import annotations

from typing import Any

__all__ = ["plot_bacon"]

_MARKERS = {"treated vs never treated": ("o", "C0"), "earlier vs later treated": ("s", "C1"),
            "later vs earlier treated": ("^", "C3")}


def plot_bacon(effect, ax=None, title: str | None = None, **kwargs: Any):
    """Scatter of each 2×2 DiD estimate against its weight, by comparison type.

    Parameters
    ----------
    effect : DiDEffect
        Result of :func:`~utvardering.did.bacon.bacon_decomposition` (its ``bacon`` table).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(7, 4.5)) if ax is None else (ax.figure, ax)
    table = effect.bacon
    for kind, part in table.groupby("type"):
        marker, color = _MARKERS.get(kind, ("o", "grey"))
        axis.scatter(part["weight"], part["estimate"], marker=marker, color=color, label=kind,
                     s=40, alpha=0.8)
    axis.axhline(effect.estimate, color="black", lw=1, ls="--",
                 label=f"TWFE = {effect.estimate:.4g}")
    axis.axhline(0, color="grey", lw=0.8)
    axis.set_xlabel("weight")
    axis.set_ylabel(f"2×2 DiD estimate ({effect.outcome or 'outcome'})")
    axis.legend(frameon=False, fontsize="small")
    axis.set_title(title or "Goodman-Bacon decomposition")
    fig.tight_layout()
    return fig
