"""Property: randomly corrupted source files give a clean result or a DataError, nothing else."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from utvardering.data.sources import (
    read_bra_export,
    read_jsonstat2,
    read_police_events,
    read_police_shootings,
)
from utvardering.errors import DataError

FIX = Path(__file__).parents[2] / "fixtures" / "sources"
CASES = {
    "bra": (read_bra_export, FIX / "bra_utf8_bom.csv"),
    "shootings": (read_police_shootings, FIX / "police_shootings_2023.csv"),
    "jsonstat": (read_jsonstat2, FIX / "pxweb_sparse.json"),
    "events": (read_police_events, FIX / "police_events.json"),
}
EDIT_CHARS = list(';\n .,x-*0123456789aåM"\t{}[]:')


@st.composite
def corrupted(draw):
    name = draw(st.sampled_from(sorted(CASES)))
    reader, path = CASES[name]
    text = list(path.read_bytes().decode("latin-1"))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["replace", "delete", "insert"]))
        ch = draw(st.sampled_from(EDIT_CHARS))
        if op == "replace":
            text[i] = ch
        elif op == "delete":
            del text[i]
        else:
            text.insert(i, ch)
    return reader, "".join(text).encode("latin-1", errors="replace")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_corrupted_files_raise_only_data_error(case):
    reader, data = case
    try:
        reader(io.BytesIO(data))
    except DataError:
        pass
