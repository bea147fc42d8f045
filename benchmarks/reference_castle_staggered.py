"""Cross-check numbers for the staggered estimators on the castle-doctrine data.

Run in the peer environment (``benchmarks/.venv-peers/bin/python
benchmarks/reference_castle_staggered.py``); it prints the overall ATT and its standard error
from diff-diff's Callaway–Sant'Anna (never-treated, DR, analytic SEs), Sun–Abraham and
imputation (Borusyak–Jaravel–Spiess) estimators on ``castle.csv`` (cohort = first year with
``post`` > 0, 0 = never treated; outcome ``l_homicide``). The values are copied, with this
script as their source, into ``tests/reference/test_castle.py``.
"""

from __future__ import annotations

from pathlib import Path

import diff_diff
import pandas as pd
from diff_diff import CallawaySantAnna, ImputationDiD, SunAbraham

DATA = Path(__file__).resolve().parents[1] / "src" / "utvardering" / "data" / "files" / "castle.csv"


def main() -> None:
    d = pd.read_csv(DATA)
    first = d[d["post"] > 0].groupby("sid")["year"].min()
    d = d.assign(cohort=d["sid"].map(first).fillna(0).astype(int))
    kw = {"outcome": "l_homicide", "unit": "sid", "time": "year", "first_treat": "cohort"}
    print("diff-diff", diff_diff.__version__)
    cs = CallawaySantAnna(control_group="never_treated").fit(d, **kw)
    print(f"CS simple: {cs.overall_att:.10f} ({cs.overall_se:.10f})")
    sa = SunAbraham().fit(d, **kw)
    print(f"SA overall: {sa.overall_att:.10f} ({sa.overall_se:.10f})")
    bjs = ImputationDiD().fit(d, **kw)
    print(f"BJS overall: {bjs.overall_att:.10f} ({bjs.overall_se:.10f})")


if __name__ == "__main__":
    main()
