"""Small-count suppression for published tables (privacy of incident and survey micro-data).

Tables of counts derived from incident or survey micro-data can identify people when a cell
is small. :func:`suppress_small_counts` blanks cells below a threshold (default 5, the rule
Swedish statistical agencies commonly apply) and, optionally, a complementary cell per row so
that a suppressed value cannot be recovered from a published total.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["SuppressionPolicy", "publishable", "suppress_small_counts"]


def suppress_small_counts(
    table: pd.DataFrame,
    columns: str | Iterable[str],
    *,
    threshold: int = 5,
    complementary: bool = False,
    marker: str | None = None,
) -> pd.DataFrame:
    """Blank counts below ``threshold`` in the given columns (a copy is returned).

    Parameters
    ----------
    table : pandas.DataFrame
        Aggregated table (never micro-data). Not modified.
    columns : str or iterable of str
        Count columns to protect.
    threshold : int, default 5
        Cells with ``0 < count < threshold`` are suppressed. Zeros are kept (a zero reveals no
        individual), following common practice; set ``threshold`` to 1 to disable.
    complementary : bool, default False
        Also suppress the smallest remaining cell in the same row when exactly one cell of a
        row was suppressed, so the suppressed value cannot be recovered from a row total.
    marker : str, optional
        Text to put in suppressed cells (default ``"<{threshold}"``); a column with a
        suppressed cell becomes text.

    Returns
    -------
    pandas.DataFrame
        The table with suppressed cells replaced by the marker, and ``attrs["suppressed"]``
        giving the number of cells suppressed per column.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"cannot suppress missing column(s) {missing}; the table has {list(table.columns)}.")
    if threshold < 1:
        raise DataError(f"threshold must be at least 1, got {threshold}.")
    values = table[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    small = (values > 0) & (values < threshold)
    if complementary:
        one = small.sum(axis=1) == 1
        candidates = np.where(small | np.isnan(values) | (values == 0), np.inf, values)
        rows = np.flatnonzero(one & np.isfinite(candidates).any(axis=1))
        small[rows, np.argmin(candidates[rows], axis=1)] = True
    out = table.copy()
    text = marker if marker is not None else f"<{threshold}"
    for j, col in enumerate(columns):
        if small[:, j].any():
            out[col] = out[col].astype(object)
            out.loc[small[:, j], col] = text
    out.attrs["suppressed"] = {c: int(small[:, j].sum()) for j, c in enumerate(columns)}
    return out


# -- what a published report may carry ---------------------------------------------------------
#: Path columns that, together with the published counterfactual, reveal the observed value.
_REVEALING = ("observed", "effect", "low", "high")


def _count_like(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all(finite >= 0)) and bool(np.allclose(finite, np.round(finite)))


class SuppressionPolicy:
    """The one rule for what leaves a run: small counts and small cells are suppressed.

    A report's tables, ``effects.json`` and captions all go through this object, so the
    caption can never say "cells < 5 suppressed" while the numbers are published.

    What an exported Effect may carry
        Estimates, intervals, p-values, model outputs (counterfactuals) and aggregates. It
        may not carry a count between 1 and ``threshold − 1`` of the treated unit's observed
        series, nor a value that with the published counterfactual reveals one (the path's
        ``effect``/``low``/``high`` in the same row, and a cumulative effect path, which then
        keeps only its total), nor a mean of fewer than ``threshold`` respondents (survey
        ``cell_means``). A series is treated as counts when every observed value is a
        non-negative whole number.

    Parameters
    ----------
    threshold : int or None or False
        Cells with ``0 < count < threshold`` are suppressed (default 5). ``None`` or
        ``False`` switches suppression off explicitly (the report says so); ``0``, negative or
        non-integer values are refused with a :class:`~utvardering.errors.DataError` instead of
        silently publishing small counts.
    """

    def __init__(self, threshold: int | bool | None = 5) -> None:
        if threshold is None or threshold is False:
            self.threshold: int | None = None
        elif isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) or threshold < 1:
            raise DataError(
                f"privacy.suppress_below = {threshold!r}: the threshold must be a whole number ≥ 1 "
                "(5 is the usual rule); to publish small counts deliberately set "
                "`suppress_below = false` in the [privacy] table of the configuration.")
        else:
            self.threshold = int(threshold)

    @property
    def active(self) -> bool:
        """Whether anything is suppressed (threshold above 1)."""
        return self.threshold is not None and self.threshold > 1

    def caption(self, tr) -> str:
        """The sentence that describes the rule applied, in the report's language."""
        if self.threshold is None:
            return tr("(small counts are not suppressed: suppression is switched off in the configuration)")
        return tr("(cells < {k} suppressed)", k=self.threshold)

    def table(self, frame: pd.DataFrame, counts: Iterable[str]) -> pd.DataFrame:
        """The table with small counts in ``counts`` suppressed (unchanged when off)."""
        if self.threshold is None:
            out = frame.copy()
            out.attrs["suppressed"] = {}
            return out
        return suppress_small_counts(frame, list(counts), threshold=self.threshold)

    def frame(self, name: str, frame: pd.DataFrame, suppressed_rows: pd.Index | None = None
              ) -> tuple[pd.DataFrame, pd.Index | None, int]:
        """Apply the rule to one DataFrame an Effect carries; returns (frame, rows hit, cells hit)."""
        k = self.threshold
        out, hits, rows = frame, 0, None
        if "observed" in frame.columns:
            values = pd.to_numeric(frame["observed"], errors="coerce").to_numpy(dtype=float)
            if _count_like(values):
                small = (values > 0) & (values < k)
                if small.any():
                    out = frame.copy()
                    cols = [c for c in _REVEALING if c in out.columns]
                    out[cols] = out[cols].astype(float)
                    out.loc[small, cols] = np.nan
                    hits, rows = int(small.sum()), frame.index[small]
        elif name == "cumulative" and suppressed_rows is not None and len(suppressed_rows):
            out = frame.copy()
            cols = [c for c in ("effect", "low", "high") if c in out.columns]
            out[cols] = out[cols].astype(float)
            out.iloc[:-1, [out.columns.get_loc(c) for c in cols]] = np.nan
            hits = int(len(out) - 1) * len(cols)
        elif {"mean", "n"} <= set(frame.columns):
            n = pd.to_numeric(frame["n"], errors="coerce").to_numpy(dtype=float)
            small = n < k
            if small.any():
                out = frame.copy()
                out["mean"] = out["mean"].astype(float)
                out.loc[small, "mean"] = np.nan
                hits = int(small.sum())
        return out, rows, hits


def publishable(effect, policy: SuppressionPolicy | None = None) -> dict:
    """``effect.to_dict(timings=False)`` with everything the policy forbids removed.

    The one place where an Effect is prepared for publication (``effects.json`` of a report).
    Counts of suppressed cells are recorded in ``diagnostics["suppressed"]``.
    """
    import copy
    from dataclasses import fields

    policy = policy or SuppressionPolicy()
    if not policy.active:
        return effect.to_dict(timings=False)
    clone = copy.copy(effect)
    clone.diagnostics = dict(effect.diagnostics)
    names = [f.name for f in fields(effect) if isinstance(getattr(effect, f.name, None), pd.DataFrame)]
    names.sort(key=lambda n: n != "path")  # the path first: the cumulative rule depends on it
    suppressed, path_rows = {}, None
    for name in names:
        frame, rows, hits = policy.frame(name, getattr(effect, name), path_rows)
        if name == "path":
            path_rows = rows
        if hits:
            setattr(clone, name, frame)
            suppressed[name] = hits
    for key, value in effect.diagnostics.items():
        if key.startswith("observed") and isinstance(value, (int, float)) and 0 < value < policy.threshold:
            clone.diagnostics[key] = None
            suppressed[f"diagnostics.{key}"] = 1
    if suppressed:
        clone.diagnostics["suppressed"] = {"below": policy.threshold, "cells": suppressed}
    return clone.to_dict(timings=False)
