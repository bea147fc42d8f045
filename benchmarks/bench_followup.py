"""Annual follow-up benchmark (issue 14): the full-size follow-up, the report, and EB vs NUTS.

Run: ``/work/venv/bin/python benchmarks/bench_followup.py [--quick] [--only TEXT]``.
Tasks: ``follow_up`` on the simulated annual world at full size — 136 areas × 8 years
(2015–2022) × 10 indicators (7 survey, 3 police counts; about 148,000 respondents) — with the
empirical-Bayes small-area model: cold (first call in a fresh process, imports excluded) and
warm (median of 3); the same plus writing the report (figures, tables, Markdown, HTML); and
the check of the empirical-Bayes small-area path against PyMC NUTS on a small case (30 areas ×
5 years; a common and a rare share, the problem index and a rare count): the largest
difference of posterior means in units of the NUTS posterior s.d., the ratio of posterior
s.d.s, and both times. The issue's budget for the full follow-up is 60 s on 2 cores.
There is no peer package for small-area survey follow-ups in Python; the reference for the
fast path is the full-Bayes NUTS fit of the same model.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Row, Snippet, missing, ours, print_table, save
from options import parse

SETUP = """
import warnings, tempfile
warnings.filterwarnings("ignore")
from utvardering.data.worlds.annual_survey import simulate_annual_followup
from utvardering.followup import follow_up, write_report
world = simulate_annual_followup(seed=2022, n_areas={n_areas})
out_dir = tempfile.mkdtemp()
"""
RUN = "r = follow_up(world.survey, world.counts, year=2022)"
REPORT = RUN + "\nwrite_report(r, out_dir, lang='sv')"
RESULT = ("{'cells': len(r.estimates), 'flags_last': int(r.changes['flag_last'].sum()), "
          "'flags_baseline': int(r.changes['flag_baseline'].sum())}")

NUTS_SETUP = """
import warnings
warnings.filterwarnings("ignore")
import numpy as np, time
from utvardering.data.worlds.annual_survey import simulate_annual_followup
from utvardering.followup import survey_estimates, count_estimates, fit_small_area
world = simulate_annual_followup(seed=5, n_areas=30, years=(2018, 2022))
import pandas as pd
est = pd.concat([survey_estimates(world.survey), count_estimates(world.counts)])
est = est[est['unit'] != 'City']
"""
NUTS_STMT = """
out = {}
for name in ('unsafe_evening', 'victim_violence', 'problem_index', 'robbery'):
    g = est[est['indicator'] == name]
    kind = g['kind'].iloc[0]
    t0 = time.perf_counter(); _, eb = fit_small_area(g, kind=kind); t_eb = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, nuts = fit_small_area(g, kind=kind, method='nuts', random_state=1, n_draws=1000)
    t_nuts = time.perf_counter() - t0
    z = np.abs(eb.mean - nuts.mean) / nuts.sd
    out[name + '_max_mean_diff_in_sd'] = float(z.max())
    out[name + '_mean_mean_diff_in_sd'] = float(z.mean())
    out[name + '_sd_ratio_eb_over_nuts'] = float(np.median(eb.sd / nuts.sd))
    out[name + '_eb_s'] = t_eb
    out[name + '_nuts_s'] = t_nuts
    out[name + '_rhat_max'] = nuts.diagnostics['r_hat_max']
"""


def main(argv=None) -> None:
    args = parse(__doc__, argv)
    n_areas = 30 if args.quick else 136
    rows, extra = [], {}
    tasks = {
        f"follow_up {n_areas}x8x10 cold": Snippet(SETUP.format(n_areas=n_areas), RUN, RESULT, repeats=1,
                                                  warmup=False, timeout=600),
        f"follow_up {n_areas}x8x10 warm": Snippet(SETUP.format(n_areas=n_areas), RUN, RESULT, repeats=3,
                                                  timeout=900, budget=300),
        f"follow_up + report {n_areas}x8x10": Snippet(SETUP.format(n_areas=n_areas), REPORT, RESULT,
                                                      repeats=1, warmup=False, timeout=900),
        "small area EB vs NUTS 30x5": Snippet(NUTS_SETUP, NUTS_STMT, "out", repeats=1, warmup=False,
                                              timeout=1800),
    }
    for task, snippet in tasks.items():
        if args.only and args.only not in task:
            continue
        m = ours(snippet)
        rows.append(Row(task, "(budget 60 s)" if "follow_up" in task else "NUTS (same model)", m, missing("")))
        extra[task] = {"seconds": m.median, "times": m.times, "peak_mb": m.peak_mb, "result": m.result,
                       "status": m.status, "message": m.message}
        print(f"{task}: {m.seconds_text()} s  {m.result or m.message}", flush=True)
    print_table("Annual follow-up (issue 14)", rows)
    path = save("bench_followup", rows, {"details": extra})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
