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

__all__ = ["suppress_small_counts"]


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
