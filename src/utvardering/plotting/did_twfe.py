"""Figures of the regression DiD family: the Goodman-Bacon decomposition scatter and the
placebo estimates of randomization inference for counts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plot_bacon", "plot_placebos"]

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


def plot_placebos(effect, ax=None, title: str | None = None, **kwargs: Any):
    """Placebo estimates of a randomization-inference Poisson DiD against their size term.

    Every placebo assignment is a point at (:math:`1/C^1 + 1/C^0`, estimate) — filled when it is
    in the reference set, hollow otherwise (``heteroskedasticity="matched"``) — and the
    treated estimate a red line with the interval's band; the x axis is logarithmic, so the
    funnel of Poisson noise shows whether the treated unit's placebos are comparable.

    Parameters
    ----------
    effect : PoissonDiDEffect
        A fit with a ``placebo`` table.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axis = plt.subplots(figsize=(7, 4.5)) if ax is None else (ax.figure, ax)
    table = effect.placebo
    finite = np.isfinite(table["estimate"]) & np.isfinite(table["size_term"])
    size = table["size_term"].where(finite)
    if finite.any():
        used = table["used"] & finite
        axis.scatter(size[used], table.loc[used, "estimate"], s=22, color="tab:blue",
                     label="placebo (reference set)")
        axis.scatter(size[~used & finite], table.loc[~used & finite, "estimate"], s=22,
                     facecolors="none", edgecolors="grey", label="placebo (not used)")
        axis.set_xscale("log")
    model = effect.diagnostics.get("randomization", {})
    if np.isfinite(model.get("size_term", np.nan)):
        axis.scatter([model["size_term"]], [effect.estimate], marker="*", s=160, color="tab:red",
                     zorder=3, label="treated")
    axis.axhline(effect.estimate, color="tab:red", lw=1.5, label=f"estimate {effect.estimate:.3g}")
    low, high = effect.interval
    if np.isfinite(low) and np.isfinite(high):
        axis.axhspan(low, high, color="tab:red", alpha=0.1, label=f"{effect.level:.0%} interval")
    axis.axhline(0, color="grey", lw=0.8)
    axis.set_xlabel("size term 1/C¹ + 1/C⁰ (expected counts; log scale)")
    axis.set_ylabel(f"placebo estimate ({effect.scale})")
    axis.legend(frameon=False, fontsize="small")
    axis.set_title(title or f"Placebo estimates: {effect.outcome or 'outcome'}")
    fig.tight_layout()
    return fig
