"""Sluta skjut (Group Violence Intervention, Malmö, from autumn 2018) — shootings vs donor cities.

Run: ``python analyses/sluta_skjut.py [--config FILE] [--quick]`` or ``utvardering run sluta_skjut``.
Primary: synthetic control on shooting rates per 100,000 with placebo-in-space and conformal
inference. Secondary: synthetic DiD, count BSTS with population exposure, Poisson DiD.
Robustness: February vs October 2018 start and a start-date scan, leave-one-out donors,
excluding the Rimfrost period, a shorter pre-period, and dead + injured as the outcome.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import utvardering as utv
from utvardering.did.poisson import poisson_did
from utvardering.report.sections import (
    design_section,
    label,
    overlap_section,
    triangulation_section,
    truth_check_section,
)
from utvardering.synth.adh import synthetic_control
from utvardering.synth.sdid import synthetic_did
from utvardering.timeseries.causal_impact import causal_impact


def load_data(ctx) -> pd.DataFrame:
    """The panel named in the configuration (bundled simulated world by default)."""
    cfg = ctx.config["data"]
    if cfg["source"] == "bundled":
        data = utv.datasets.load_dataset(cfg["name"])
        ctx.record_input(f"bundled:{cfg['name']}", data)
    else:
        path = Path(cfg["path"])
        data = pd.read_csv(path)
        ctx.record_input(str(path), path)
    return data.rename(columns={cfg["unit"]: "unit", cfg["time"]: "time"})


def _ppml(data, start, **kw):
    return poisson_did(data, outcome=kw.pop("outcome", "shootings"), treated=kw.pop("treated"), start=start,
                       exposure="population", **kw)


def run(ctx) -> None:
    """Run the Sluta skjut evaluation into ``ctx.report``."""
    report, lang, d = ctx.report, ctx.report.lang, ctx.config["design"]
    m = ctx.config["methods"]
    data = load_data(ctx)
    data["casualties"] = data["dead"] + data["injured"]
    study = utv.Study(data, outcome="shootings", treated=d["treated"], start=d["start"],
                      exposure="population", exclude=d["exclude"] or None, window=tuple(d["window"]),
                      intervention="sluta_skjut")
    design_section(report, {
        "question": "Did Sluta skjut change the number of confirmed shootings in Malmö, compared with "
                    "what would have happened without it?",
        "estimand": "Average effect on Malmö's monthly confirmed shootings per 100,000 residents over "
                    f"{study.post_times[0]}–{study.post_times[-1]}; also as a relative effect and as "
                    "shootings prevented.",
        "treated": f"{d['treated']}, from {d['start']} (the usual date; one source says "
                   f"{d['alternative_start']}: analysed as robustness).",
        "comparison": f"{len(study.donors)} Swedish cities/police areas with shootings: "
                      f"{', '.join(map(str, study.donors))}. Excluded: {', '.join(d['exclude']) or 'none'}.",
        "outcomes": "Confirmed shootings (the Police definition since Nov 2016), per 100,000 residents; "
                    "secondary outcome dead + injured.",
        "windows": f"{study.times[0]}–{study.times[-1]}: {len(study.pre_times)} pre- and "
                   f"{len(study.post_times)} post-months.",
        "primary": "Synthetic control on rates per 100,000 with placebo-in-space (RMSPE ratio) and "
                   "conformal (Chernozhukov–Wüthrich–Zhu) inference.",
        "secondary": "Synthetic DiD; count BSTS (negative binomial, population exposure) on donor "
                     "series; Poisson DiD (rate ratio).",
        "robustness": "Start February vs October 2018 and a start-date scan; leave-one-out donors; "
                      "post-period ending before operation Rimfrost (Nov 2019); pre-period from 2016; "
                      "dead + injured.",
    })
    overlap_section(report, study.overlapping_programmes())

    report.heading(label("data", lang))
    yearly = (study.data.assign(year=study.data["time"].map(lambda t: t.year))
              .query("unit == @d['treated']").groupby("year")[["shootings", "dead", "injured"]].sum())
    report.table("malmo_yearly", yearly, counts=["shootings", "dead", "injured"],
                 caption=f"{d['treated']}: shootings, dead and injured per year (cells < 5 suppressed).")

    effects = {}
    report.heading(label("primary", lang))
    with ctx.step("synthetic control"):
        sc = synthetic_control(study, random_state=ctx.seed("synthetic_control"))
        placebo = sc.placebo_in_space()
    effects["synthetic control"] = sc
    report.effect("synthetic control", sc)
    report.text(f"Placebo-in-space: RMSPE-ratio permutation p = {placebo.p_value:.3f} "
                f"({len(placebo.table)} units); p for the average gap = {placebo.p_value_estimate:.3f}.")
    report.figure("sc_path", sc.plot(), caption="Malmö and its synthetic control (rates per 100,000).")
    report.figure("sc_placebos", placebo.plot(), caption="Placebo gaps: every donor treated in turn.")
    report.table("sc_weights", sc.weights[sc.weights > 0.001].round(3).to_frame())

    report.heading(label("secondary", lang))
    with ctx.step("synthetic DiD"):
        reps = m["quick_sdid_replications"] if ctx.quick else m["sdid_replications"]
        effects["synthetic DiD"] = synthetic_did(study, replications=reps,
                                                 random_state=ctx.seed("synthetic_did"))
    report.effect("synthetic DiD", effects["synthetic DiD"])
    with ctx.step("count BSTS"):
        draws = ctx.draws(m["bsts_draws"], m["quick_bsts_draws"])
        bsts = causal_impact(study, likelihood=m["bsts_likelihood"], draws=draws, tune=draws,
                             random_state=ctx.seed("bsts"))
    effects["count BSTS"] = bsts
    report.effect("count BSTS", bsts)
    report.figure("bsts", bsts.plot(), caption="Count BSTS: observed vs counterfactual, pointwise and cumulative.")
    with ctx.step("Poisson DiD"):
        effects["Poisson DiD"] = _ppml(study.data, d["start"], treated=d["treated"])
    report.effect("Poisson DiD", effects["Poisson DiD"])

    report.heading(label("robustness", lang))
    with ctx.step("robustness"):
        robust = {
            f"SC, start {d['alternative_start']}": synthetic_control(
                study.replace(start=d["alternative_start"]), random_state=ctx.seed("synthetic_control")),
            f"Poisson DiD, start {d['alternative_start']}": _ppml(study.data, d["alternative_start"],
                                                                  treated=d["treated"]),
            "SC, post-period before Rimfrost": synthetic_control(
                study.replace(window=(d["window"][0], str(pd.Period(d["rimfrost_start"], "M") - 1))),
                random_state=ctx.seed("synthetic_control")),
            f"SC, pre-period from {d['short_pre_start']}": synthetic_control(
                study.replace(window=(d["short_pre_start"], d["window"][1])),
                random_state=ctx.seed("synthetic_control")),
            "Poisson DiD, dead + injured": _ppml(study.data, d["start"], treated=d["treated"],
                                                 outcome="casualties"),
        }
        scan = pd.DataFrame([
            {"start": s, **_ppml(study.data, s, treated=d["treated"]).to_frame()[
                ["relative", "relative_low", "relative_high"]].iloc[0].to_dict()}
            for s in d["scan"]
        ])
        loo = sc.leave_one_out()
    for name, effect in robust.items():
        report.effect(name, effect)
    report.table("start_scan", scan, caption="Poisson DiD relative effect by assumed start date.")
    report.text("Leave-one-out donors (synthetic control refitted without each donor with positive weight):")
    report.table("leave_one_out", loo.table if hasattr(loo, "table") else pd.DataFrame(loo))

    triangulation_section(report, effects)
    if "shootings_y0" in study.data.columns:
        post = study.data[(study.data["unit"] == d["treated"]) & (study.data["time"] >= study.start)]
        truth = float(post["shootings"].sum() / post["shootings_y0"].sum() - 1)
        truth_check_section(report, effects, truth, primary=["synthetic control"])
    report.heading(label("caveats", lang))
    report.text("Shootings are rare counts (a few a month): monthly rates are noisy, and Malmö's rate "
                "lies at the edge of the donor cities' rates, which synthetic control cannot always "
                "match (check the pre-period fit warning). Operation Rimfrost (from Nov 2019) and "
                "COVID-19 overlap the post-period; the pre-Rimfrost window isolates the first year. "
                "The start date is uncertain; the scan shows how much the conclusion depends on it.")


if __name__ == "__main__":
    from utvardering.cli import main

    sys.exit(main(["run", "sluta_skjut", *sys.argv[1:]]))
