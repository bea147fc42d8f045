"""Newcomer frictions F1, F6 and F13 (``../shared/reviews/newcomer-frictions.md``) for the
non-staggered DiD estimators; each test failed on main at 2dc05b6."""

from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import utvardering as utv
from utvardering import cli
from utvardering.errors import DesignError

FILES = Path(utv.__file__).parent / "data" / "files"


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    return pd.read_csv(FILES / "castle.csv")


@pytest.fixture(scope="module")
def card_krueger() -> pd.DataFrame:
    ck = pd.read_csv(FILES / "card_krueger.csv")
    both = ck.groupby("id")["fte"].transform(lambda s: s.notna().all())
    return ck.loc[both].reset_index(drop=True)  # the balanced 384 stores (CK Table 3 row 4)


def test_f1_study_covariates_reach_every_estimator(castle):
    """Covariates declared once on the Study are used by diff_in_diff, twfe, event_study and
    poisson_did exactly as if passed to the estimator; ``covariates=[]`` switches them off."""
    # mpdta, the 2004 cohort against never-treated counties, 2003 vs 2004: a 2×2 with lpop
    mp = pd.read_csv(FILES / "mpdta.csv")
    mp = mp[mp["first.treat"].isin([0, 2004]) & mp["year"].isin([2003, 2004])]
    kw = dict(outcome="lemp", unit="countyreal", time="year", cohort="first.treat")
    plain, with_x = utv.Study(mp, **kw), utv.Study(mp, **kw, covariates=["lpop"])
    declared = utv.diff_in_diff(with_x)
    passed = utv.diff_in_diff(plain, covariates=["lpop"])
    assert declared.estimate == passed.estimate and declared.se == passed.se
    assert utv.diff_in_diff(with_x, covariates=[]).estimate == utv.diff_in_diff(plain).estimate
    # the same regression by statsmodels, clustered by county (CR1: G/(G-1)(N-1)/(N-K))
    g = (mp["first.treat"] == 2004).astype(float)
    p = (mp["year"] == 2004).astype(float)
    X = sm.add_constant(np.column_stack([g, p, g * p, mp["lpop"]]))
    ols = sm.OLS(mp["lemp"].to_numpy(), X).fit(cov_type="cluster",
                                                cov_kwds={"groups": mp["countyreal"].to_numpy()})
    assert declared.estimate == pytest.approx(ols.params[3], abs=1e-10)
    assert declared.se == pytest.approx(ols.bse[3], rel=1e-8)
    # lpop is time-invariant and the 2×2 balanced: the point estimate stays, the SE moves
    assert declared.se != pytest.approx(utv.diff_in_diff(plain).se, rel=1e-6)
    # castle: state and year effects plus two covariates (frictions note: 0.07478 vs 0.069398)
    starts = castle.loc[castle["post"] == 1].groupby("sid")["year"].min().to_dict()
    ck = dict(outcome="l_homicide", unit="sid", time="year", starts=starts)
    xs = ["unemployrt", "poverty"]
    study_x = utv.Study(castle, **ck, covariates=xs)
    tw = utv.twfe(study_x)
    assert tw.estimate == utv.twfe(utv.Study(castle, **ck), covariates=xs).estimate
    assert tw.estimate == pytest.approx(0.07478, abs=5e-6)
    es_declared = utv.event_study(study_x, leads=3, lags=3)
    es_passed = utv.event_study(utv.Study(castle, **ck), covariates=xs, leads=3, lags=3)
    assert es_declared.estimate == es_passed.estimate
    counts = castle.copy().assign(n=np.round(castle["homicide"] * castle["popwt"] / 1e5).astype(int))
    pois = dict(outcome="n", unit="sid", time="year", starts=starts)
    a = utv.poisson_did(utv.Study(counts, **pois, covariates=xs), inference="cluster")
    b = utv.poisson_did(utv.Study(counts, **pois), covariates=xs, inference="cluster")
    assert a.estimate == b.estimate


def test_f6_two_wave_panel_gives_the_textbook_estimate(card_krueger, tmp_path, capsys):
    """Card & Krueger's two waves, treated = NJ stores from wave 1: 2.75 through
    diff_in_diff, twfe and the command line, with one pre-period (CK 1994 Table 3 row 4)."""
    bal = card_krueger
    nj = sorted(bal.loc[bal["nj"] == 1, "id"].unique())
    design = dict(outcome="fte", unit="id", time="d", treated=nj, start=1)
    assert utv.diff_in_diff(bal, **design).estimate == pytest.approx(2.75, abs=1e-9)
    assert utv.twfe(bal, **design).estimate == pytest.approx(2.75, abs=1e-9)
    columns = utv.diff_in_diff(bal, outcome="fte", group="nj", post="d", unit="id")
    assert utv.diff_in_diff(bal, **design).se == pytest.approx(columns.se, rel=1e-12)
    path = tmp_path / "ck.csv"
    bal.to_csv(path, index=False)
    code = cli.main(["estimate", "diff_in_diff", "--data", str(path), "--unit", "id", "--time", "d",
                     "--outcome", "fte", "--cohort", "nj", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert utv.Effect.from_dict(json.loads(out)).estimate == pytest.approx(2.75, abs=1e-9)
    # the unbalanced file: --dropna exists and gives CK Table 3 rows 1-2 (2.7536)
    full = tmp_path / "ck_full.csv"
    pd.read_csv(FILES / "card_krueger.csv").to_csv(full, index=False)
    argv = ["estimate", "diff_in_diff", "--data", str(full), "--unit", "id", "--time", "d",
            "--outcome", "fte", "--cohort", "nj", "--json"]
    assert cli.main(argv) == 2
    assert "dropna" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main([*argv, "--dropna"]) == 0
    out, _ = capsys.readouterr()
    assert utv.Effect.from_dict(json.loads(out)).estimate == pytest.approx(2.753606, abs=1e-6)


def test_f6_too_few_pre_periods_message_is_short(card_krueger):
    """Treated from the first wave: refused with a message naming a few units and a count."""
    bal = card_krueger
    nj = sorted(bal.loc[bal["nj"] == 1, "id"].unique())
    with pytest.raises(DesignError) as info:
        utv.diff_in_diff(bal, outcome="fte", unit="id", time="d", treated=nj, start=1,
                         min_pre_periods=2)
    text = str(info.value)
    assert len(text) < 300, len(text)
    assert f"{len(nj)} treated units" in text and "at least 2 needed" in text


def test_f13_import_did_gives_the_subpackage():
    """``import utvardering.did as d`` is the package; ``utv.did(...)`` still runs the 2×2
    for one release with a DeprecationWarning; the function is ``diff_in_diff``."""
    d = importlib.import_module("utvardering.did")
    import utvardering.did as d2

    assert d2 is d and d.twfe is utv.twfe and d.diff_in_diff is utv.diff_in_diff
    frame = pd.DataFrame({"unit": np.repeat(["a", "b", "c"], 2), "time": [0, 1] * 3,
                          "y": [1.0, 3.0, 1.0, 1.5, 2.0, 2.4]})
    with pytest.warns(DeprecationWarning, match="renamed utvardering.diff_in_diff"):
        old = utv.did(frame, outcome="y", treated="a", start=1)
    assert old.estimate == utv.diff_in_diff(frame, outcome="y", treated="a", start=1).estimate
