"""Card & Krueger (1994) New Jersey minimum wage: the 2×2 DiD on full-time-equivalent employment.

Data: the Angrist–Pischke MHE archive copy (410 stores × 2 waves). Published numbers:
Card & Krueger (1994), AER 84(4), Table 3, reproduced in Angrist & Pischke (2009), MHE
Table 5.2.1:

* rows 1–2 (all stores with data): mean FTE PA 23.33 → 21.17, NJ 20.44 → 21.03, whose
  difference in differences is 2.76 (1.36) in the tables. The unrounded means of this file
  give 2.7536 (the tables' 2.76 is the difference of separately rounded changes); the cell
  means match to the printed 2 decimals.
* row 4 (balanced sample, 384 stores with FTE in both waves): 2.75 (1.34).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import utvardering as utv
from utvardering.did.basic import diff_in_diff as did

FILES = Path(utv.__file__).parent / "data" / "files"


@pytest.fixture(scope="module")
def ck() -> pd.DataFrame:
    return pd.read_csv(FILES / "card_krueger.csv")


def test_cell_means_all_stores(ck):
    effect = did(ck, outcome="fte", group="nj", post="d", unit="id")
    means = effect.cell_means["mean"]
    # MHE Table 5.2.1 / CK Table 3 rows 1–2, printed to 2 decimals (tolerance: half a unit)
    assert means[("comparison", "pre")] == pytest.approx(23.33, abs=0.005)
    assert means[("comparison", "post")] == pytest.approx(21.17, abs=0.005)
    assert means[("treated", "pre")] == pytest.approx(20.44, abs=0.005)
    assert means[("treated", "post")] == pytest.approx(21.03, abs=0.005)
    # the DiD of the unrounded means (the tables print 2.76 from rounded changes)
    assert effect.estimate == pytest.approx(2.753606, abs=1e-6)
    assert effect.diagnostics["rows_with_missing_values_left_out"] == 26


def test_balanced_sample(ck):
    both = ck.groupby("id")["fte"].transform(lambda s: s.notna().all())
    effect = did(ck.loc[both], outcome="fte", group="nj", post="d", unit="id", vcov="CR2")
    # CK Table 3 row 4: 2.75 (1.34), printed to 2 decimals (tolerance: half a unit)
    assert effect.estimate == pytest.approx(2.75, abs=0.005)
    assert effect.se == pytest.approx(1.34, abs=0.005)
    # CR2 with two waves per store equals the textbook SE of a difference in mean changes
    wide = ck.loc[both].pivot(index="id", columns="d", values="fte")
    change = wide[1] - wide[0]
    nj = ck.loc[both].groupby("id")["nj"].first()
    textbook = (change[nj == 1].var() / (nj == 1).sum() + change[nj == 0].var() / (nj == 0).sum()) ** 0.5
    assert effect.se == pytest.approx(textbook, rel=1e-10)
    assert effect.n_treated == int(nj.sum()) and effect.n_control == int((nj == 0).sum())


def test_study_route(ck):
    both = ck.groupby("id")["fte"].transform(lambda s: s.notna().all())
    panel = ck.loc[both, ["id", "d", "fte", "nj"]].assign(wave=lambda f: 1992 + f["d"])
    nj_stores = panel.loc[panel["nj"] == 1, "id"].unique().tolist()
    study = utv.Study(panel, outcome="fte", unit="id", time="wave", treated=nj_stores, start=1993,
                      min_pre_periods=1)
    assert did(study).estimate == pytest.approx(2.75, abs=1e-9)
