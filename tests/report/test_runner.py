"""Analysis runner: config override, steps, provenance, reproducible effects.json."""

from __future__ import annotations

import json
import textwrap

import pytest

from utvardering.report.runner import list_analyses, load_config, run_analysis

SCRIPT = textwrap.dedent('''
    import numpy as np
    import pandas as pd
    from utvardering import Effect

    def run(ctx):
        rng = np.random.default_rng(ctx.seed("noise"))
        data = pd.DataFrame({"x": rng.normal(size=ctx.draws(50, 5))})
        ctx.record_input("data", data)
        with ctx.step("estimate"):
            mean = float(data["x"].mean())
        ctx.report.heading("Result")
        ctx.report.effect("mean", Effect("mean", mean, (mean - 1, mean + 1)))
        ctx.report.text(ctx.config["question"])
''')


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "toy.py").write_text(SCRIPT)
    (tmp_path / "toy.toml").write_text('title = "Toy"\nquestion = "Is it zero?"\n[seeds]\nnoise = 3\n')
    return tmp_path


def test_run_writes_report_and_provenance(folder, tmp_path):
    assert list_analyses(folder) == ["toy"]
    written = run_analysis("toy", directory=folder, out=tmp_path / "out", quick=True, quiet=True)
    provenance = json.loads(written["provenance.json"].read_text())
    assert provenance["seeds"] == {"noise": 3}
    assert provenance["config"]["run"]["quick"] is True
    assert set(provenance["inputs"]) == {"config", "data"} and provenance["inputs"]["data"]["shape"] == [5, 1]
    assert "estimate" in provenance["timings"] and "total" in provenance["timings"]
    assert "Is it zero?" in written["report.md"].read_text()


def test_same_inputs_same_numbers_and_override(folder, tmp_path):
    first = run_analysis("toy", directory=folder, out=tmp_path / "a", quiet=True)
    second = run_analysis("toy", directory=folder, out=tmp_path / "b", quiet=True)
    assert first["effects.json"].read_bytes() == second["effects.json"].read_bytes()
    assert first["report.html"].read_bytes() == second["report.html"].read_bytes()
    override = tmp_path / "other.toml"
    override.write_text("[seeds]\nnoise = 4\n")
    assert load_config(folder / "toy.toml", override)["seeds"] == {"noise": 4}
    third = run_analysis("toy", directory=folder, out=tmp_path / "c", config=override, quiet=True)
    assert json.loads(third["effects.json"].read_text()) != json.loads(first["effects.json"].read_text())


def test_unknown_analysis(folder):
    with pytest.raises(FileNotFoundError, match=r"no analysis named 'nope'.*known: toy"):
        run_analysis("nope", directory=folder)
