"""The DiD family's contract (issue 11): options checked before fitting, the first argument
``study`` (old name ``data=`` with a DeprecationWarning), survey_did through the registry and
the command line, and an import graph in which inference/ never imports a family."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import utvardering as utv
from utvardering import cli
from utvardering.did.survey import SurveyStudy, survey_did
from utvardering.errors import DesignError
from utvardering.estimators import get_estimator

SRC = Path(utv.__file__).parent
basic_module = importlib.import_module("utvardering.did.basic")
poisson_module = importlib.import_module("utvardering.did.poisson")
twfe_module = importlib.import_module("utvardering.did.twfe")  # the package exports twfe()


def _panel(n_units=8, n_t=10, seed=0):
    rng = np.random.default_rng(seed)
    rows = [(f"U{i}", 2000 + t, rng.normal(i + 0.1 * t + (1.0 if i < 2 and t >= 6 else 0)))
            for i in range(n_units) for t in range(n_t)]
    return pd.DataFrame(rows, columns=["unit", "time", "y"])


KW = dict(outcome="y", treated=["U0", "U1"], start=2006)


@pytest.mark.parametrize("call, bad", [
    (lambda d, **o: utv.diff_in_diff(d, **KW, **o), {"inference": "randomisation"}),
    (lambda d, **o: utv.twfe(d, **KW, **o), {"inference": "magic"}),
    (lambda d, **o: utv.twfe(d, **KW, **o), {"vcov": "CR9"}),
    (lambda d, **o: utv.twfe(d, **KW, **o), {"level": 1.5}),
    (lambda d, **o: utv.event_study(d, **KW, **o), {"inference": "randomization"}),
    (lambda d, **o: utv.poisson_did(d.assign(y=1), **KW, **o), {"heteroskedasticity": "x"}),
])
def test_options_are_checked_before_fitting(monkeypatch, call, bad):
    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before the options were checked")

    for module in (twfe_module, poisson_module):
        monkeypatch.setattr(module, "panel_design", no_fit)
    monkeypatch.setattr(basic_module, "two_by_two", no_fit)
    with pytest.raises(DesignError, match=r"is not an option|must lie strictly"):
        call(_panel(), **bad)


def test_old_first_argument_name_still_works_with_a_deprecation_warning():
    frame = _panel()
    with pytest.warns(DeprecationWarning, match="data= is renamed study="):
        old = utv.twfe(data=frame, **KW)
    assert old.estimate == utv.twfe(frame, **KW).estimate


def test_survey_did_runs_through_the_registry_and_the_command_line(tmp_path, capsys):
    survey = utv.simulate_safety_survey(seed=1)
    info = get_estimator("survey_did")
    design = info.design(survey, outcome="unsafe_evening", unit="unit", time="time",
                         treated=["Möllevången"], start=2021)
    assert isinstance(design, SurveyStudy)
    via_registry = info.function(design, random_state=0, n_draws=99)
    direct = survey_did(survey, item="unsafe_evening", treated="Möllevången", start=2021,
                        random_state=0, n_draws=99)
    assert via_registry.estimate == direct.estimate and via_registry.p_value == direct.p_value
    path = tmp_path / "survey.csv"
    survey.to_csv(path, index=False)
    code = cli.main(["estimate", "survey_did", "--data", str(path), "--outcome", "unsafe_evening",
                     "--treated", "Möllevången", "--start", "2021", "--set", "inference=cluster",
                     "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    effect = utv.Effect.from_dict(json.loads(out))
    cluster = survey_did(survey, item="unsafe_evening", treated="Möllevången", start=2021,
                         inference="cluster")
    assert effect.estimate == pytest.approx(cluster.estimate, abs=1e-12)
    with pytest.raises(DesignError, match="cannot use \\['cohort'\\]"):
        info.design(survey, outcome="unsafe_evening", cohort="first")
    with pytest.raises(DesignError, match="respondent micro-data"):
        survey_did(utv.Study(_panel(), **KW))


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            out.append(("." * node.level + (node.module or ""), [a.name for a in node.names]))
    return out


def test_inference_never_imports_a_family_and_no_private_names_cross_modules():
    for path in (SRC / "inference").glob("*.py"):  # (synth's conformal.py is another job)
        for module, _ in _imports(path):
            assert "did" not in module.split("."), (path.name, module)
    mine = [*(SRC / "did").glob("*.py"), SRC / "_numerics" / "fixed_effects.py",
            *(SRC / "inference" / n for n in ("cluster.py", "wild_bootstrap.py",
                                               "randomization.py"))]
    staggered = {"callaway_santanna", "att_gt", "att_gt_rcs", "aggregate", "_bootstrap",
                 "_cell_influence", "_did_2x2", "_staggered_data", "staggered_result",
                 "sun_abraham", "imputation"}
    for path in mine:
        if path.stem in staggered:
            continue
        for module, names in _imports(path):
            private = [n for n in names if n.startswith("_") and n != "__future__"]
            assert not private, (path.name, module, private)


def test_resample_counts_are_n_draws():
    """permutation_test's count is n_draws (n_permutations= still works, with a warning)."""
    from utvardering._numerics.fixed_effects import Absorber, factorize
    from utvardering.inference.randomization import permutation_test

    frame = _panel()
    unit, _ = factorize(frame["unit"])
    pos = frame["time"].to_numpy(float) - 2000
    starts = np.where(np.arange(8) < 2, 6.0, np.inf)
    absorber = Absorber([unit, factorize(frame["time"])[0]])
    new = permutation_test(frame["y"].to_numpy(), unit, pos, starts, absorber, n_draws=30,
                           random_state=1)
    with pytest.warns(DeprecationWarning, match="n_permutations= is renamed n_draws="):
        old = permutation_test(frame["y"].to_numpy(), unit, pos, starts, absorber,
                               n_permutations=30, random_state=1)
    assert new.p_value == old.p_value and new.n_permutations == 31
