"""Triangulation: several Effects side by side on a common scale.

Triangulating designs is the point of the library: a synthetic control, a Poisson event
study and a count BSTS answer the same question with different assumptions. :func:`compare`
puts their estimates, relative effects, intervals and p-values / posterior probabilities in
one table, and :func:`plot_comparison` draws the matching forest plot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from .effect import Effect

__all__ = ["compare", "plot_comparison"]

_COLUMNS = ["label", "method", "outcome", "scale", "estimate", "low", "high", "level", "relative",
            "relative_low", "relative_high", "p_value", "prob", "n_treated", "n_control", "start",
            "n_warnings", "warnings"]


def _labelled(effects: Iterable[Effect] | Mapping[str, Effect]) -> list[tuple[str, Effect]]:
    if isinstance(effects, Mapping):
        items = list(effects.items())
    else:
        items = [(e.method, e) for e in effects]
    seen: dict[str, int] = {}
    out = []
    for label, effect in items:
        if not isinstance(effect, Effect):
            raise TypeError(f"compare() takes Effects; {label!r} is a {type(effect).__name__}.")
        seen[label] = seen.get(label, 0) + 1
        out.append((label if seen[label] == 1 else f"{label} ({seen[label]})", effect))
    return out


def compare(
    effects: Iterable[Effect] | Mapping[str, Effect],
    *,
    truth: float | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Triangulation table of several Effects.

    Parameters
    ----------
    effects : iterable of Effect or mapping of label to Effect
        The results to compare. Labels default to each Effect's ``method`` (numbered when
        repeated).
    truth : float or mapping, optional
        The true effect (on simulated data), either one number for all rows or a mapping
        label → value. Adds ``truth`` and ``covers_truth`` columns.

    Returns
    -------
    pandas.DataFrame
        One row per Effect with ``label``, ``method``, ``outcome``, ``scale``, ``estimate``,
        ``low``, ``high``, ``level``, ``relative`` (and its interval), ``p_value``, ``prob``,
        ``n_treated``, ``n_control``, ``start``, ``n_warnings`` and ``warnings`` (each
        Effect's own warnings joined by " | ": an interval or p-value its estimator calls
        invalid must not stand unflagged next to valid ones). Rows on different ``scale`` s are
        not directly comparable in ``estimate``; compare them on ``relative``.
    """
    rows = []
    for label, effect in _labelled(effects):
        row = effect.to_frame().iloc[0].to_dict()
        row["label"] = label
        row["n_warnings"] = len(effect.warnings)
        row["warnings"] = " | ".join(effect.warnings)
        rows.append(row)
    table = pd.DataFrame(rows, columns=_COLUMNS)
    if truth is not None:
        values = [truth.get(label) if isinstance(truth, Mapping) else truth for label in table["label"]]
        table["truth"] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        covers = (table["low"] <= table["truth"]) & (table["truth"] <= table["high"])
        table["covers_truth"] = covers.astype("boolean").mask(table["truth"].isna())
    return table


def plot_comparison(
    effects: Iterable[Effect] | Mapping[str, Effect],
    *,
    relative: bool = False,
    truth: float | None = None,
    ax=None,
):
    """Forest plot of several Effects (estimate and interval per row).

    Rows whose estimator raised warnings are marked with an asterisk and a footnote.

    Parameters
    ----------
    effects : iterable of Effect or mapping of label to Effect
        The results to draw.
    relative : bool, default False
        Plot relative effects (shares of the counterfactual), the common scale across
        methods whose estimates are in different units.
    truth : float, optional
        Draw the known true effect as a vertical line (simulated data).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plotting.forest import plot_forest

    return plot_forest(compare(effects), relative=relative, truth=truth, ax=ax)
