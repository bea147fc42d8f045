"""Provenance records."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from utvardering.report.provenance import (
    provenance_record,
    sha256_file,
    sha256_frame,
    write_provenance,
)


def test_hashes(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"unit,time,y\na,2018-01,1\n")
    assert sha256_file(path) == hashlib.sha256(b"unit,time,y\na,2018-01,1\n").hexdigest()
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert sha256_frame(frame) == sha256_frame(frame.copy())
    assert sha256_frame(frame) != sha256_frame(frame.assign(a=[1, 3]))
    assert sha256_frame(frame) != sha256_frame(frame.rename(columns={"a": "c"}))


def test_record_round_trips_through_json(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("a\n1\n")
    record = provenance_record(config={"start": pd.Period("2018-10", "M"), "draws": 500},
                               inputs={"panel": data, "table": pd.DataFrame({"a": [1]})},
                               seeds={"mcmc": 7}, timings={"fit": 1.23456}, command=["x"])
    out = write_provenance(record, tmp_path / "provenance.json")
    back = json.loads(out.read_text())
    assert back["packages"]["numpy"] and back["packages"]["pandas"]
    assert back["inputs"]["panel"]["sha256"] == sha256_file(data)
    assert back["inputs"]["table"]["kind"] == "table"
    assert back["seeds"] == {"mcmc": 7} and back["timings"] == {"fit": 1.235}
    assert back["config"]["start"] == {"__period__": "2018-10", "freq": "M"}
