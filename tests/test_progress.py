"""Progress display: the step bar draws on a terminal only; the global switch is off by default."""

from __future__ import annotations

import io
import time

import pytest

from utvardering import progress
from utvardering.progress import StepBar, format_seconds


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_switch_is_off_by_default_and_scoped():
    assert progress.enabled() is False
    with progress.enable():
        assert progress.enabled() is True
        with progress.enable(False):
            assert progress.enabled() is False
        assert progress.enabled() is True
    assert progress.enabled() is False


def test_bar_draws_steps_on_a_terminal():
    stream = FakeTerminal()
    with StepBar("toy", 2, stream=stream, refresh=0) as bar:
        bar.start("fit")
        bar.finish()
        bar.start("placebo")
        bar.finish()
    text = stream.getvalue()
    assert "toy [" + "-" * 20 + "] 1/2 fit" in text  # nothing done yet while the first step runs
    assert "1/2 fit" in text and "2/2 placebo" in text
    assert "[" + "#" * 20 + "] 2/2 steps done" in text  # the final state, full bar
    assert text.endswith("\n") and "\r" in text


def test_bar_draws_nothing_off_a_terminal_or_when_told_not_to():
    for stream, draw in ((io.StringIO(), None), (FakeTerminal(), False)):
        with StepBar("toy", 1, stream=stream, draw=draw, refresh=0) as bar:
            bar.start("fit")
            bar.finish()
        assert stream.getvalue() == ""


def test_bar_without_total_and_with_more_steps_than_announced():
    stream = FakeTerminal()
    with StepBar("toy", 1, stream=stream, refresh=0) as bar:
        for name in ("a", "b"):
            bar.start(name)
            bar.finish()
    assert "1/1 a" in stream.getvalue() and "step 2 b" in stream.getvalue()
    assert "toy 2 steps done" in stream.getvalue()


def test_external_bar_pauses_the_step_bar():
    stream = FakeTerminal()
    with StepBar("toy", 1, stream=stream, refresh=0) as bar:
        bar.start("MCMC")
        with progress.external():
            before = stream.getvalue()
            bar._redraw()  # a tick while the sampler draws: suppressed
            assert stream.getvalue() == before and before.endswith("\n")
        bar.finish()
    assert stream.getvalue().count("1/1 MCMC") == 3  # at the start, when pausing, on resuming


def test_ticker_redraws_elapsed_time_while_a_step_runs():
    stream = FakeTerminal()
    with StepBar("toy", 1, stream=stream, refresh=0.01) as bar:
        bar.start("slow")
        for _ in range(200):  # wait (at most ~2 s) for the ticker to redraw
            if stream.getvalue().count("1/1 slow") >= 3:
                break
            time.sleep(0.01)
        bar.finish()
    assert stream.getvalue().count("1/1 slow") >= 3


def test_time_left_from_the_expected_step_times():
    bar = StepBar("toy", 3, stream=FakeTerminal(), refresh=0,
                  expected={"fit": 10.0, "placebo": 30.0, "report": 5.0})
    assert bar.time_left() == 45.0
    bar.start("fit")
    assert 44.0 < bar.time_left() <= 45.0  # the running step counts down
    bar.finish()
    bar.start("placebo")
    bar._step_began -= 40.0  # it is taking longer than last time: nothing left of it
    assert bar.time_left() == 5.0
    assert "about 5.0 s left" in bar.line()
    assert StepBar("toy", stream=io.StringIO()).time_left() is None


def test_broken_stream_does_not_stop_the_run():
    stream = FakeTerminal()
    stream.close()
    with StepBar("toy", 1, stream=stream, refresh=0) as bar:
        bar.start("fit")
        bar.finish()
    assert bar.draw is False


@pytest.mark.parametrize(("seconds", "text"), [(4.24, "4.2 s"), (41.4, "41 s"), (185, "3 min 05 s"),
                                               (3720, "1 h 02 min")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_sampler_bar_follows_the_switch(sampler, monkeypatch):
    """sample_cached passes progress_bar/progressbar = progress.enabled() unless told otherwise."""
    import pymc as pm

    from utvardering.inference import bayes

    seen = []

    class Compiled:  # stands in for a compiled nutpie model: no compilation in this test
        def with_data(self, **data):
            return self

    if sampler == "nutpie":
        nutpie = pytest.importorskip("nutpie", reason="nutpie is optional")
        monkeypatch.setattr(nutpie, "sample", lambda compiled, **kw: seen.append(kw["progress_bar"]))
    else:
        monkeypatch.setattr(pm, "set_data", lambda data: None)
        monkeypatch.setattr(pm, "sample", lambda **kw: seen.append(kw["progressbar"]))
    monkeypatch.setitem(bayes._CACHE, ("fake", sampler), (pm.Model(), Compiled()))

    def call(**kw):
        bayes.sample_cached("fake", None, {}, draws=1, tune=1, chains=1, random_state=0,
                            sampler=sampler, **kw)

    call()
    with progress.enable():
        call()
        call(progressbar=False)
    call(progressbar=True)
    assert seen == [False, True, False, True]


def test_bsts_sampler_bar_follows_the_progress_setting(monkeypatch):
    """The BSTS PyMC/nutpie path draws the sampler's bar only when progress is enabled."""
    import utvardering.timeseries.model as model

    seen = []

    class Stop(Exception):
        pass

    def fake_sample(*args, **kwargs):
        seen.append(kwargs.get("progress_bar", kwargs.get("progressbar")))
        raise Stop

    import importlib.util

    import pymc as pm

    samplers = ["pymc"]
    if importlib.util.find_spec("nutpie") is not None:  # optional extra "fast"
        import nutpie

        monkeypatch.setattr(nutpie, "sample", fake_sample)
        samplers.append("nutpie")
    monkeypatch.setattr(pm, "sample", fake_sample)
    monkeypatch.setattr(pm, "set_data", lambda updates: None)
    from utvardering.inference import bayes

    monkeypatch.setattr(model, "_updates", lambda spec, data: {})
    spec0 = model.ModelSpec("poisson", "local_level", 10, 0, 0, "spike_and_slab", False)
    for name in samplers:
        monkeypatch.setitem(bayes._CACHE, (("bsts", spec0), name), (_NullModel(), _Compiled()))
    spec = spec0
    for sampler in samplers:
        for on in (False, True):
            with progress.enable(on), pytest.raises(Stop):
                model.sample_model(spec, {}, draws=1, tune=1, chains=1, random_state=0,
                                   sampler=sampler)
    assert seen == [False, True] * len(samplers)


class _Compiled:
    shared_data: dict = {}

    def with_data(self, **kw):
        return self


class _NullModel:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
