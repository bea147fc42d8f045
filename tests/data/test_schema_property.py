"""Property-based test: random malformed frames give a clean Panel or a DataError, nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from utvardering import DataError, validate_panel

_cell = st.one_of(
    st.integers(-3, 50), st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.text(max_size=4), st.none(), st.booleans(),
)
_time = st.one_of(
    st.sampled_from(["2018-01", "2018-02", "2018-03", "2018", "2018Q1", "2018-02-15", "x", "", "2018-13"]),
    st.integers(1990, 1995), st.none(),
)


@st.composite
def malformed_frames(draw):
    n = draw(st.integers(0, 12))
    columns = {
        "unit": draw(st.lists(st.one_of(st.sampled_from(["a", "b", "c"]), st.none(), st.integers(0, 2)),
                              min_size=n, max_size=n)),
        "time": draw(st.lists(_time, min_size=n, max_size=n)),
        "y": draw(st.lists(_cell, min_size=n, max_size=n)),
    }
    frame = pd.DataFrame(columns)
    drop = draw(st.sampled_from([None, "unit", "time", "y"]))
    if drop:
        frame = frame.drop(columns=drop)
    return frame


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=malformed_frames(), counts=st.booleans(), dropna=st.booleans())
def test_validation_returns_panel_or_data_error(frame, counts, dropna):
    before = frame.copy(deep=True)
    try:
        result = validate_panel(frame, outcomes="y", counts="y" if counts else (), dropna=dropna)
    except DataError as exc:
        assert str(exc)  # a message, never an empty error
    else:
        clean = result.data
        assert not clean.duplicated(["unit", "time"]).any()
        assert clean["y"].notna().all()
        assert np.issubdtype(clean["y"].dtype, np.number)
        if counts:
            assert (clean["y"] >= 0).all()
    pd.testing.assert_frame_equal(frame, before)
