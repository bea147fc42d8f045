"""Small-count suppression."""

from __future__ import annotations

import pandas as pd
import pytest

from utvardering import DataError
from utvardering.report.suppression import suppress_small_counts


def test_cells_below_threshold_are_blanked_zeros_kept():
    table = pd.DataFrame({"area": ["A", "B", "C"], "violence": [12, 3, 0], "drugs": [4, 9, 7]})
    out = suppress_small_counts(table, ["violence", "drugs"])
    assert out["violence"].tolist() == [12, "<5", 0]
    assert out["drugs"].tolist() == ["<5", 9, 7]
    assert out.attrs["suppressed"] == {"violence": 1, "drugs": 1}
    assert table["violence"].tolist() == [12, 3, 0]  # input untouched


def test_complementary_suppression_protects_row_totals():
    table = pd.DataFrame({"violence": [12, 3], "drugs": [40, 9], "theft": [30, 20]})
    out = suppress_small_counts(table, ["violence", "drugs", "theft"], complementary=True)
    # row 1: 3 is suppressed; the smallest other cell (9) is suppressed with it
    assert out.loc[1].tolist() == ["<5", "<5", 20]
    assert out.loc[0].tolist() == [12, 40, 30]


def test_errors():
    with pytest.raises(DataError, match=r"cannot suppress missing column\(s\) \['x'\]"):
        suppress_small_counts(pd.DataFrame({"a": [1]}), "x")
    with pytest.raises(DataError, match="threshold must be at least 1"):
        suppress_small_counts(pd.DataFrame({"a": [1]}), "a", threshold=0)
