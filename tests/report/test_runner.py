"""Analysis runner: config override, steps, provenance, reproducible effects.json."""

from __future__ import annotations

import io
import json
import re
import sys
import textwrap

import pytest

from utvardering.report.runner import list_analyses, load_config, run_analysis

SCRIPT = textwrap.dedent('''
    import numpy as np
    import pandas as pd
    from utvardering import Effect, progress

    STEPS = ("estimate",)

    def run(ctx):
        rng = np.random.default_rng(ctx.seed("noise"))
        data = pd.DataFrame({"x": rng.normal(size=ctx.draws(50, 5))})
        ctx.record_input("data", data)
        with ctx.step("estimate"):
            mean = float(data["x"].mean())
        ctx.report.heading("Result")
        ctx.report.effect("mean", Effect("mean", mean, (mean - 1, mean + 1)))
        ctx.report.text(ctx.config["question"])
        ctx.report.text(f"sampler bars allowed: {progress.enabled()}")
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
    meta = re.compile(r'<p class="meta">.*?</p>', re.S)  # the provenance timestamp: the only difference
    assert meta.sub("", first["report.html"].read_text()) == meta.sub("", second["report.html"].read_text())
    override = tmp_path / "other.toml"
    override.write_text("[seeds]\nnoise = 4\n")
    assert load_config(folder / "toy.toml", override)["seeds"] == {"noise": 4}
    third = run_analysis("toy", directory=folder, out=tmp_path / "c", config=override, quiet=True)
    assert json.loads(third["effects.json"].read_text()) != json.loads(first["effects.json"].read_text())


def test_unknown_analysis(folder):
    with pytest.raises(FileNotFoundError, match=r"no analysis named 'nope'.*known: toy"):
        run_analysis("nope", directory=folder)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_run_log_lists_steps_with_timings_and_is_in_provenance(folder, tmp_path):
    written = run_analysis("toy", directory=folder, out=tmp_path / "out", quiet=True)
    log = written["run.log"].read_text()
    assert written["run.log"] == tmp_path / "out" / "run.log"
    assert "[toy] run: quick=False" in log
    assert "[toy] estimate ..." in log and "[toy] estimate done in" in log
    assert "timing estimate" in log and "timing total" in log and "[toy] finished in" in log
    assert json.loads(written["provenance.json"].read_text())["log"] == "run.log"


def test_run_log_records_the_error_of_a_failed_run(folder, tmp_path):
    (folder / "bad.py").write_text(
        "def run(ctx):\n    with ctx.step('fit'):\n        raise ValueError('no donors')\n")
    (folder / "bad.toml").write_text('title = "Bad"\n')
    with pytest.raises(ValueError, match="no donors"):
        run_analysis("bad", directory=folder, out=tmp_path / "bad", quiet=True)
    log = (tmp_path / "bad" / "run.log").read_text()
    assert "[bad] fit failed after" in log and "ValueError: no donors" in log


def test_progress_bar_on_a_terminal_only(folder, tmp_path, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    written = run_analysis("toy", directory=folder, out=tmp_path / "tty")
    assert "toy [" in terminal.getvalue() and "1/1 estimate" in terminal.getvalue()
    assert "1/1 steps done" in terminal.getvalue()
    assert "sampler bars allowed: True" in written["report.md"].read_text()
    assert "left" not in terminal.getvalue()  # no earlier run: no time left shown
    again = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", again)
    run_analysis("toy", directory=folder, out=tmp_path / "tty")  # the earlier run's timings
    assert "left" in again.getvalue()

    quiet = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    written = run_analysis("toy", directory=folder, out=tmp_path / "quiet", quiet=True)
    assert quiet.getvalue() == ""
    assert "sampler bars allowed: False" in written["report.md"].read_text()

    pipe = io.StringIO()  # CI: not a terminal
    monkeypatch.setattr(sys, "stderr", pipe)
    written = run_analysis("toy", directory=folder, out=tmp_path / "pipe")
    assert pipe.getvalue() == ""
    assert "sampler bars allowed: False" in written["report.md"].read_text()
    assert "estimate done in" in written["run.log"].read_text()  # logged all the same


def test_python_warnings_of_the_run_go_to_the_run_log(folder, tmp_path):
    (folder / "warns.py").write_text(
        "import warnings\n\ndef run(ctx):\n    with ctx.step('fit'):\n"
        "        warnings.warn('r-hat up to 1.05', RuntimeWarning, stacklevel=1)\n")
    (folder / "warns.toml").write_text('title = "Warns"\n')
    with pytest.warns(RuntimeWarning, match="r-hat"):
        written = run_analysis("warns", directory=folder, out=tmp_path / "w", quiet=True)
    assert "RuntimeWarning: r-hat up to 1.05" in written["run.log"].read_text()
