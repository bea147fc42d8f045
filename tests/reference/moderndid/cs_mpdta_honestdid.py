"""Generator of the moderndid reference numbers for HonestDiD on the CS event study of mpdta.

Run in a separate environment with moderndid (it needs Python >= 3.12 and pandas < 3):

    python3.12 -m venv /work/peers/moderndid
    /work/peers/moderndid/bin/pip install "moderndid[didhonest]" "pandas<3"
    /work/peers/moderndid/bin/python tests/reference/moderndid/cs_mpdta_honestdid.py \
        > tests/reference/moderndid/cs_mpdta_honestdid.out

Data: mpdta as shipped with utvardering (src/utvardering/data/files/mpdta.csv, R did 2.x).
Design: att_gt(lemp ~ 1, never-treated comparison, doubly robust, base_period="universal",
analytic standard errors), aggte(type="dynamic"), then honest_did on event time 0 with
relative magnitudes (M̄ in {0, 0.5, 1, 1.5, 2}; C-LF on moderndid's default grid, and C-LF and
the conditional test on R HonestDiD's grid: 1000 points in ±20 s.e. of l'β̂_post around 0)
and smoothness (FLCI, M in {0, 0.01, 0.02, 0.03}). Writes ``cs_mpdta_honestdid.json`` beside this script
(versions, the event study: event times, estimates, covariance; both sensitivity tables) and
prints the same numbers as text (the solver's banner goes to stdout too, hence the file).
"""

import importlib.metadata as md
import json
import pathlib
import sys

import moderndid as m
import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[3]
data = pd.read_csv(ROOT / "src" / "utvardering" / "data" / "files" / "mpdta.csv")
data = data.rename(columns={"first.treat": "first_treat"})

gt = m.att_gt(data, yname="lemp", tname="year", idname="countyreal", gname="first_treat",
              control_group="nevertreated", est_method="dr", base_period="universal",
              boot=False, cband=False)
es = m.aggte(gt, type="dynamic", boot=False, cband=False)
inf = np.asarray(es.influence_func)
vcov = inf.T @ inf / inf.shape[0] ** 2

M_BAR = [0.0, 0.5, 1.0, 1.5, 2.0]
M_SD = [0.0, 0.01, 0.02, 0.03]
rm = m.honest_did(es, event_time=0, sensitivity_type="relative_magnitude", grid_points=1000,
                  m_bar_vec=M_BAR)
sd = m.honest_did(es, event_time=0, sensitivity_type="smoothness", m_vec=M_SD)
# R HonestDiD's grid (createSensitivityResults_relativeMagnitudes: ±20 sd of l'beta_post)
half = 20 * float(np.sqrt(vcov[4, 4]))  # event time 0 (index 4; -1 at index 3 is the reference)
rm_r = m.honest_did(es, event_time=0, sensitivity_type="relative_magnitude", grid_points=1000,
                    m_bar_vec=M_BAR, grid_lb=-half, grid_ub=half)
rm_cond = m.honest_did(es, event_time=0, sensitivity_type="relative_magnitude",
                       grid_points=1000, m_bar_vec=M_BAR, grid_lb=-half, grid_ub=half,
                       method="Conditional")


def table(result):
    frame = result.robust_ci.to_pandas()
    return {c: [float(v) if isinstance(v, (int, float, np.floating)) else str(v)
                for v in frame[c]] for c in frame.columns}


out = {
    "versions": {"python": sys.version.split()[0],
                 **{p: md.version(p) for p in ("moderndid", "numpy", "pandas", "polars")}},
    "event_times": [int(e) for e in es.event_times],
    "att_by_event": [float(x) for x in es.att_by_event],
    "se_by_event": [None if np.isnan(x) else float(x) for x in es.se_by_event],
    "vcov": vcov.tolist(),
    "original_ci": [float(rm.original_ci.lb), float(rm.original_ci.ub)],
    "relative_magnitude": table(rm),
    "relative_magnitude_r_grid": table(rm_r),
    "conditional_r_grid": table(rm_cond),
    "r_grid": [-half, half, 1000],
    "smoothness": table(sd),
}
(pathlib.Path(__file__).parent / "cs_mpdta_honestdid.json").write_text(json.dumps(out, indent=1))
print("versions:", out["versions"])
print("event study (aggte dynamic, universal base):")
print(pd.DataFrame({"att": out["att_by_event"], "se": out["se_by_event"]},
                   index=pd.Index(out["event_times"], name="event_time")).to_string())
print("original CI:", out["original_ci"])
print("relative magnitudes (C-LF):")
print(rm.robust_ci)
print("relative magnitudes (C-LF), R's grid:")
print(rm_r.robust_ci)
print("relative magnitudes (conditional), R's grid:")
print(rm_cond.robust_ci)
print("smoothness (FLCI):")
print(sd.robust_ci)
