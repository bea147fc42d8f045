"""The bundled example files exist and are read by their readers."""

from __future__ import annotations

import pytest

from utvardering.data.sources import (
    example_path,
    read_bra_export,
    read_jsonstat2,
    read_police_events,
    read_police_shootings,
    read_survey_microdata,
)


def test_examples_read():
    # sizes as written in src/utvardering/data/files/examples/
    assert len(read_bra_export(example_path("bra_example.csv"))) == 84
    assert len(read_police_shootings(example_path("police_shootings_example.csv"))) == 36
    assert len(read_police_events(example_path("police_events_example.json"))) == 4
    assert len(read_jsonstat2(example_path("pxweb_example.json"))) == 8
    survey = read_survey_microdata(
        example_path("survey_example.csv"), respondent="lopnr", unit="omrade", time="ar",
        weight="vikt",
    )  # fmt: skip
    assert len(survey) == 7


def test_unknown_example_lists_available():
    with pytest.raises(FileNotFoundError, match=r"available: \['bra_example.csv'"):
        example_path("missing.csv")
