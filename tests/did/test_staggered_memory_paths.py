"""Memory-saving layouts give exactly the same results as the plain ones.

``Study`` keeps the caller's rows when they only need whole unit blocks reordered (integer
units in numeric order are sorted by their string form), and the Callaway–Sant'Anna event-time
standard errors are formed a chunk of paths at a time; neither may change any number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utvardering.did import callaway_santanna
from utvardering.did.staggered import aggregate
from utvardering.study import Study


def _panel(n_units=40, n_t=8, seed=0):
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 4, 5, 6], n_units)
    rows = []
    for i in range(n_units):
        for t in range(1, n_t + 1):
            treated = cohort[i] and t >= cohort[i]
            rows.append((i + 1, t, rng.normal() + 0.1 * t + (1.0 if treated else 0.0),
                         int(cohort[i])))
    return pd.DataFrame(rows, columns=["unit", "time", "y", "g"])


def test_study_of_numeric_units_equals_the_study_of_string_sorted_rows():
    df = _panel()
    by_string = df.assign(_k=df["unit"].astype(str)).sort_values(["_k", "time"]).drop(columns="_k")
    a = Study(df, outcome="y", cohort="g")
    b = Study(by_string.reset_index(drop=True), outcome="y", cohort="g")
    pd.testing.assert_frame_equal(a.data, b.data)
    assert list(a.units) == list(b.units) and list(a.times) == list(b.times)
    assert a.starts == b.starts
    pd.testing.assert_frame_equal(a.wide(), b.wide())
    for study in (a, b):  # the per-unit start codes decode to the same starts
        codes, values = study._start_codes()
        decoded = [values[c] if c >= 0 else None for c in codes]
        assert decoded == [study.starts.get(u) for u in study.units]
    assert a._start_codes()[0].tolist() == b._start_codes()[0].tolist()
    assert df.equals(_panel())  # the caller's frame is untouched


def test_event_time_standard_errors_do_not_depend_on_the_chunk_size(monkeypatch):
    df = _panel(n_units=60)
    ref = callaway_santanna(df, unit="unit", time="time", outcome="y", cohort="g")
    ref_path = ref.aggregate("dynamic").path
    for chunk in (1, 5_000):
        monkeypatch.setattr(aggregate, "_PATH_CHUNK", chunk)
        got = callaway_santanna(df, unit="unit", time="time", outcome="y", cohort="g")
        pd.testing.assert_frame_equal(got.aggregate("dynamic").path, ref_path, check_exact=True)
        assert got.aggregate("simple").se == pytest.approx(ref.aggregate("simple").se, abs=0)
