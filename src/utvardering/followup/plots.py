"""Funnel plot and small-multiples trend chart for the annual follow-up."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

__all__ = ["plot_funnel", "plot_trends"]

_LABELS = {
    "en": {"size": {"share": "effective sample size (Kish)", "mean": "effective sample size (Kish)",
                    "rate": "expected count"},
           "city": "city", "flag": "real change (FDR)", "direct": "direct (95% CI)",
           "sae": "small-area (95%)", "limits": "{:.1%} / {:.1%} limits"},
    "sv": {"size": {"share": "effektiv urvalsstorlek (Kish)", "mean": "effektiv urvalsstorlek (Kish)",
                    "rate": "förväntat antal"},
           "city": "staden", "flag": "verklig förändring (FDR)", "direct": "direkt (95 % KI)",
           "sae": "småområde (95 %)", "limits": "{:.1%} / {:.1%} gränser"},
}


def plot_funnel(result, indicator: str, *, lang: str = "en", limits: Sequence[float] = (0.95, 0.998),
                ax=None):
    r"""Funnel plot: this year's value of every area against its sample size.

    The centre line is the city value :math:`\theta_0` of the report year; the control
    limits are where an area's direct estimate would fall with the given probability if it
    were exactly at the city value: :math:`\theta_0 \pm z\sqrt{\theta_0(1-\theta_0)/n}` for
    shares (:math:`n` the Kish effective sample size), :math:`\theta_0 \pm z\,s/\sqrt{n}` for
    means (:math:`s` the pooled respondent s.d.) and exact Poisson limits for rates against
    the expected count. Points outside the outer limits differ from the city beyond noise
    at that single-area level; areas flagged with a real change this year are marked.

    References
    ----------
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
    *Statistics in Medicine* 24, 1185–1202.
    """
    import matplotlib.pyplot as plt

    lab = _LABELS.get(lang, _LABELS["en"])
    ind = result.indicators[indicator]
    est = result.estimates
    year = result.year
    cur = est[(est["indicator"] == indicator) & (est["time"] == year)]
    city = cur[cur["unit"] == "City"]
    areas = cur[cur["unit"] != "City"]
    theta0 = float(city["estimate"].iloc[0])
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    if ind.kind == "rate":
        x = areas["exposure"].to_numpy() * theta0
        y = areas["estimate"].to_numpy()
    else:
        x = areas["n_eff"].to_numpy()
        y = areas["estimate"].to_numpy()
    grid = np.linspace(max(np.nanmin(x) * 0.8, 0.5), np.nanmax(x) * 1.05, 200)
    styles = ["--", ":"]
    for lev, style in zip(limits, styles, strict=False):
        if ind.kind == "share":
            z = stats.norm.ppf(0.5 + lev / 2)
            half = z * np.sqrt(theta0 * (1 - theta0) / grid)
            lo, hi = theta0 - half, theta0 + half
        elif ind.kind == "mean":
            s = float(np.nanmedian(areas["se"] * np.sqrt(areas["n_eff"])))
            z = stats.norm.ppf(0.5 + lev / 2)
            lo, hi = theta0 - z * s / np.sqrt(grid), theta0 + z * s / np.sqrt(grid)
        else:
            a = (1 - lev) / 2
            lo = stats.poisson.ppf(a, grid) / grid * theta0
            hi = stats.poisson.ppf(1 - a, grid) / grid * theta0
        ax.plot(grid, lo, style, color="0.4", lw=1)
        ax.plot(grid, hi, style, color="0.4", lw=1,
                label=lab["limits"].format(*limits) if style == "--" else None)
    ax.axhline(theta0, color="0.2", lw=1, label=f"{lab['city']} {year}")
    flagged = set(result.real_changes.query("indicator == @indicator")["unit"])
    is_flag = areas["unit"].isin(flagged).to_numpy()
    ax.scatter(x[~is_flag], y[~is_flag], s=14, color="tab:blue", alpha=0.7)
    if is_flag.any():
        ax.scatter(x[is_flag], y[is_flag], s=40, color="tab:red", label=lab["flag"], zorder=3)
        for xi, yi, name in zip(x[is_flag], y[is_flag], areas["unit"][is_flag], strict=True):
            ax.annotate(name, (xi, yi), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(lab["size"][ind.kind])
    ax.set_ylabel(ind.label(lang))
    ax.set_title(f"{ind.label(lang)} {year}")
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_trends(result, *, indicator: str | None = None, units: Sequence[str] | None = None,
                lang: str = "en", max_panels: int = 12):
    """Small multiples: one panel per area × indicator with direct estimates (points and
    intervals), the small-area estimate (line and band) and the city (grey line).

    By default the panels are the flagged real changes (all indicators), topped up with the
    largest non-flagged changes so that a reader sees what noise looks like too.
    """
    import matplotlib.pyplot as plt

    lab = _LABELS.get(lang, _LABELS["en"])
    est = result.estimates
    if units is not None:
        pairs = [(u, indicator or next(iter(result.indicators))) for u in units]
    else:
        real = result.real_changes
        if indicator is not None:
            real = real[real["indicator"] == indicator]
        pairs = list(zip(real["unit"], real["indicator"], strict=True))
        if len(pairs) < 4:
            rest = result.changes[~(result.changes["flag_last"] | result.changes["flag_baseline"])]
            if indicator is not None:
                rest = rest[rest["indicator"] == indicator]
            rest = rest.reindex(rest["z_last"].abs().sort_values(ascending=False).index)
            pairs += list(zip(rest["unit"], rest["indicator"], strict=True))[: 4 - len(pairs)]
    pairs = pairs[:max_panels]
    n = max(len(pairs), 1)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), squeeze=False)
    flagged = {(u, i) for u, i in zip(result.real_changes["unit"], result.real_changes["indicator"], strict=True)}
    for ax, (unit, ind_name) in zip(axes.ravel(), pairs, strict=False):
        ind = result.indicators[ind_name]
        g = est[(est["unit"] == unit) & (est["indicator"] == ind_name)].sort_values("time")
        c = est[(est["unit"] == "City") & (est["indicator"] == ind_name)].sort_values("time")
        yerr = np.clip([g["estimate"] - g["ci_low"], g["ci_high"] - g["estimate"]], 0, None)
        ax.errorbar(g["time"], g["estimate"], yerr=np.nan_to_num(yerr),
                    fmt="o", ms=3, color="tab:blue", lw=0.8, label=lab["direct"])
        ax.plot(g["time"], g["sae"], color="tab:orange", lw=1.5, label=lab["sae"])
        ax.fill_between(g["time"], g["sae_low"], g["sae_high"], color="tab:orange", alpha=0.2)
        ax.plot(c["time"], c["estimate"], color="0.5", lw=1, label=lab["city"])
        mark = " *" if (unit, ind_name) in flagged else ""
        ax.set_title(f"{unit}{mark}\n{ind.label(lang)}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(pairs):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=6, loc="best")
    fig.tight_layout()
    return fig
