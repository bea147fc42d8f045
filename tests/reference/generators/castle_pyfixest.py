"""Regenerates the pyfixest cross-checks of REFERENCES.md (castle section) used by
tests/reference/test_castle.py.

Run in the peers' environment (pyfixest pins pandas < 3):
    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install "pyfixest==0.60.0" "pandas<3"
    /tmp/peers/bin/python castle_pyfixest.py > castle_pyfixest.out
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf

HERE = Path(__file__).resolve().parent
data = pd.read_csv(HERE.parents[2] / "src/utvardering/data/files/castle.csv")
data["homicide_count"] = np.round(data["homicide"] * data["popwt"] / 1e5).astype(int)
region_year = " + ".join(c for c in data.columns if c.startswith("r20"))
print("pyfixest", pf.__version__)
for label, fit in {
    "ols": pf.feols("l_homicide ~ post | sid + year", data, vcov={"CRV1": "sid"}),
    "ols_weighted": pf.feols("l_homicide ~ post | sid + year", data, weights="popwt",
                             vcov={"CRV1": "sid"}),
    "ols_weighted_region_year": pf.feols(f"l_homicide ~ post + {region_year} | sid + year", data,
                                         weights="popwt", vcov={"CRV1": "sid"}),
    "poisson": pf.fepois("homicide_count ~ post | sid + year", data, vcov={"CRV1": "sid"}),
}.items():
    print(label, round(fit.coef()["post"], 6), round(fit.se()["post"], 6))
ols = pf.feols("l_homicide ~ post | sid + year", data, vcov={"CRV1": "sid"})
print("wild bootstrap p", ols.wildboottest(param="post", reps=9999, seed=1)["pvalue"])
