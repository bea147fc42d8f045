"""Figures of design diagnosis: the power curve and the two-panel specification curve."""

from __future__ import annotations

import math

import numpy as np

from ..errors import DesignError
from ..i18n import get_language

__all__ = ["plot_power", "plot_specification_curve"]


def plot_power(result, ax=None, *, target: float = 0.8, lang: str = "en"):
    """Power against the injected effect, ±2 Monte Carlo s.e., nominal size and the MDE.

    Parameters
    ----------
    result : PowerResult
    ax : matplotlib.axes.Axes, optional
    target : float, default 0.8
        Power at which the MDE is marked.
    lang : {"en", "sv"}, default "en"
        Language of the labels (the report's message catalogue).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    tr = get_language(lang)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    t = result.table.sort_values("effect")
    x = t["effect"].to_numpy() * 100
    ax.errorbar(x, t["power"], yerr=2 * t["power_se"].fillna(0), marker="o", capsize=3,
                color="C0", label=tr("power ({method})", method=tr.method(str(result.method))))
    ax.plot(x, t["coverage"], ls=":", marker=".", color="C2", label=tr("coverage"))
    ax.axhline(1 - result.level, color="C3", ls="--", lw=1,
               label=tr("nominal size {size}", size=tr.percent(1 - result.level)))
    ax.axhline(target, color="grey", ls="-", lw=0.8)
    try:
        mde = result.mde(target)
    except DesignError:  # a grid without the side asked for: no MDE to mark
        mde = None
    if mde is not None and math.isfinite(mde.relative):
        ax.axvline(mde.relative * 100, color="grey", ls="--", lw=0.8)
        ax.annotate(tr("MDE {mde}\n({per_year} a year)", mde=tr.percent(mde.relative, sign=True),
                       per_year=tr.significant(mde.per_year)),
                    (mde.relative * 100, target), textcoords="offset points", xytext=(4, -28),
                    fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(tr("injected effect (%)"))
    ax.set_ylabel(tr("share of draws"))
    ax.set_title(tr("Could this design detect an effect? ({n} draws)", n=result.n_sims),
                 fontsize=10)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def plot_specification_curve(curve, ax=None, *, lang: str = "en"):
    """The specification curve: sorted estimates with intervals, and the choices below.

    Parameters
    ----------
    curve : SpecCurve
    ax : pair of matplotlib.axes.Axes, optional
        Upper (estimates) and lower (choice indicators) axes.
    lang : {"en", "sv"}, default "en"
        Language of the labels (the report's message catalogue).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    tr = get_language(lang)
    t = curve.table[curve.table["error"] == ""].sort_values(curve.value).reset_index(drop=True)
    dims = [c for c in curve.dimensions if t[c].nunique() > 1 or c == "method"]
    labels = [(c, v) for c in dims for v in dict.fromkeys(t[c].astype(str))]
    if ax is None:
        fig, (top, bottom) = plt.subplots(
            2, 1, sharex=True, figsize=(7.5, 3.2 + 0.18 * max(len(labels), 4)),
            gridspec_kw={"height_ratios": [2.2, max(1.0, 0.12 * len(labels))]})
    else:
        top, bottom = ax
        fig = top.figure
    x = np.arange(len(t))
    lo, hi = curve.interval_columns
    sig = t["significant"].to_numpy(dtype=bool)
    colours = np.where(sig, "C3", "C0")
    top.vlines(x, t[lo], t[hi], colors=colours, alpha=0.35, lw=1 if len(t) < 200 else 0.5)
    top.scatter(x, t[curve.value], c=colours, s=12 if len(t) < 200 else 3, zorder=3)
    top.axhline(0, color="black", lw=0.8)
    top.axhline(curve.median, color="grey", ls="--", lw=0.8)
    top.set_ylabel(tr.column(curve.value) if lang != "en" else curve.value_label)
    top.set_title(tr("Specification curve: {n} specifications, median {median}, {share} "
                     "significant", n=len(t), median=tr.significant(curve.median),
                     share=tr.percent(curve.share_significant)), fontsize=10)
    for row, (c, v) in enumerate(labels):
        on = (t[c].astype(str) == v).to_numpy()
        bottom.scatter(x[on], np.full(on.sum(), row), marker="|", s=30, color="black", lw=1)
    bottom.set_yticks(range(len(labels)))
    bottom.set_yticklabels([f"{tr.column(c)}: {tr(v)}" for c, v in labels], fontsize=7)
    bottom.set_ylim(len(labels) - 0.5, -0.5)
    bottom.set_xlabel(tr("specification (sorted by estimate)"))
    fig.tight_layout()
    return fig
