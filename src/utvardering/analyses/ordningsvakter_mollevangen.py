"""Ordningsvakter kring Möllevången (security guards, 14 June 2021 – 2022) — area crime and survey.

Run: ``python analyses/ordningsvakter_mollevangen.py [--config FILE] [--quick]`` or
``utvardering run ordningsvakter_mollevangen``. Primary: Poisson DiD event study by offence
group against comparison areas (neighbours excluded). Secondary: synthetic control and
synthetic DiD on the area, BSTS. Displacement: the neighbour ring as its own treated group and
the weighted displacement quotient. Survey: ``survey_did`` on feeling unsafe in the evening
with wild cluster bootstrap and randomization inference (one treated area).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import utvardering as utv
from utvardering import (
    causal_impact,
    poisson_did,
    survey_did,
    synthetic_control,
    synthetic_did,
    weighted_displacement_quotient,
)
from utvardering.report import (
    NullTest,
    bottom_line,
    design_section,
    label,
    overlap_section,
    triangulation_section,
    truth_check_section,
)

STEPS = ("Poisson DiD by offence", "synthetic control and SDID", "BSTS", "displacement", "survey DiD")


def load_data(ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Area crime panel and survey micro-data named in the configuration."""
    cfg = ctx.config["data"]
    if cfg["source"] == "bundled":
        crime, survey = utv.datasets.load_dataset(cfg["crime"]), utv.datasets.load_dataset(cfg["survey"])
        ctx.record_input(f"bundled:{cfg['crime']}", crime)
        ctx.record_input(f"bundled:{cfg['survey']}", survey)
        return crime, survey
    from utvardering.data.sources import read_survey_microdata

    crime = pd.read_csv(cfg["crime_path"])
    survey = read_survey_microdata(cfg["survey_path"], respondent="respondent", unit="unit", time="time",
                                   weight="weight")
    for path in (cfg["crime_path"], cfg["survey_path"]):
        ctx.record_input(path, Path(path))
    return crime, survey


def _outside_donor_range(study) -> tuple[bool, pd.Series]:
    """Whether the treated area's pre-period mean rate lies outside the donors' range."""
    from utvardering.synth import pre_period_means

    data = study.data
    rate = data[study.outcome] / data[study.exposure] * 100_000
    means = pre_period_means(study, rate)
    (unit,) = study.treated
    means = means[[unit, *study.donors]]
    donors = means.drop(unit)
    return bool(not donors.min() <= means[unit] <= donors.max()), means


def run(ctx) -> None:
    """Run the Möllevången evaluation into ``ctx.report``."""
    report, lang, d, m = ctx.report, ctx.report.lang, ctx.config["design"], ctx.config["methods"]
    _ = report.tr  # every reader-facing string goes through the message catalogue
    crime, survey = load_data(ctx)
    crime = crime.assign(total=crime[d["offences"]].sum(axis=1))
    neighbours = d["neighbours"]
    study = utv.Study(crime, outcome="total", treated=d["treated"], start=d["start"], end=d["end"],
                      exclude=neighbours, exposure="population", window=tuple(d["window"]),
                      intervention="ordningsvakter_mollevangen")
    controls = study.data[~study.data["unit"].isin(neighbours)]
    design_section(report, {
        "question": _("Did the security guards around Möllevångstorget change reported crime and the "
                      "share of residents feeling unsafe, compared with what would have happened "
                      "without them?"),
        "estimand": _("Rate ratio of reported crimes in Möllevången during the guards' period "
                      "({start}–{end}) relative to the counterfactual, by offence group; change in the "
                      "population share feeling fairly or very unsafe outdoors in the evening.",
                      start=d["start"], end=d["end"]),
        "treated": _("{unit}, from 14 June 2021 (June counted as treated; the simulated world treats "
                     "17/30 of June) to {end}.", unit=d["treated"], end=d["end"]),
        "comparison": _("{n} other Malmö areas. The neighbours ({neighbours}) are excluded from the "
                        "comparison pool because crime may be displaced to them, and are analysed "
                        "separately as a displacement ring.", n=len(study.donors),
                        neighbours=", ".join(neighbours)),
        "outcomes": _("Reported crimes per month by offence group ({offences}) and in total; survey "
                      "item 'unsafe outdoors in the evening' (1–4, 3–4 = unsafe).",
                      offences=", ".join(_.column(o) for o in d["offences"])),
        "windows": _("{first}–{last} ({pre} pre-months); data after the guards' period are not used.",
                     first=study.times[0], last=study.times[-1], pre=len(study.pre_times)),
        "primary": _("Poisson DiD (unit and month fixed effects, population offset) by offence group, "
                     "and its event-study form; randomization inference because there is one treated "
                     "area."),
        "secondary": _("Synthetic control and synthetic DiD on total crime per 100,000; BSTS on total "
                       "crime; survey DiD with weights."),
        "robustness": _("Displacement ring (neighbours as treated) and the weighted displacement "
                        "quotient."),
    })
    overlap_section(report, study.overlapping_programmes())

    effects, truth = {}, {}
    report.heading(label("primary", lang))
    with ctx.step("Poisson DiD by offence"):
        for offence in [*d["offences"], "total"]:
            effects[f"Poisson DiD: {offence}"] = poisson_did(
                controls, outcome=offence, treated=d["treated"], start=d["start"], exposure="population",
                inference="randomization")
            if f"{offence}_y0" in crime.columns or offence == "total":
                truth[offence] = _truth(study.data, d, offence)
        event = poisson_did(controls, outcome="total", treated=d["treated"], start=d["start"],
                            exposure="population", event_study=True, leads=d["event_leads"],
                            lags=d["event_lags"])
    for name, effect in effects.items():
        report.effect(name, effect, display=_("Poisson DiD: {outcome}",
                                              outcome=_.column(name.split(": ")[1])))
    report.effect("Poisson event study: total", event,
                  display=_("Poisson event study: {outcome}", outcome=_.column("total")))
    report.figure("placebos_violence", effects[f"Poisson DiD: {d['offences'][0]}"].plot_placebos(),
                  caption=_("Randomization inference for {offence}: Möllevången's estimate (star) among "
                            "the placebo estimates of the comparison areas, against their Poisson noise "
                            "term (log scale). Filled: the 19 areas closest in expected counts, which "
                            "form the reference set of the interval.",
                            offence=_.column(d["offences"][0])),
                  alt=_("Scatter plot: placebo estimates of the comparison areas against their noise "
                        "term, with Möllevången's estimate marked by a star."))
    report.figure("event_study_total", event.plot(), caption=_(
                  "Event study (log rate ratio by month relative to the start). With one treated area "
                  "the pre-trend test uses cluster SEs that understate uncertainty: read the leads' "
                  "spread, not their p-value."),
                  alt=_("Event-study chart: estimated log rate ratio for each month before and after "
                        "the start, with intervals."))

    report.heading(label("secondary", lang))
    with ctx.step("synthetic control and SDID"):
        levels = synthetic_control(study, random_state=ctx.seed("synthetic_control"))
        outside, means = _outside_donor_range(study)
        sc = levels
        if outside:  # chosen from the pre-period only, as in the Sluta skjut analysis
            sc = synthetic_control(study, demean=True, random_state=ctx.seed("synthetic_control"))
        reps = m["quick_sdid_replications"] if ctx.quick else m["sdid_replications"]
        sdid = synthetic_did(study, n_draws=reps, random_state=ctx.seed("synthetic_did"))
    effects["synthetic control: total"], effects["synthetic DiD: total"] = sc, sdid
    if outside:
        report.text(_(
            "Möllevången's pre-period mean, {mean} crimes per 100,000 a month, is outside the donors' "
            "range ({low} to {high}), so no weighted average of donors can match its level: the "
            "synthetic control shown is the demeaned form (a constant level difference allowed, "
            "weights fitted to each area's deviations from its own pre-period mean); the classic form "
            "in levels follows as a sensitivity check.", mean=_.number(means[d["treated"]], 0),
            low=_.number(means.drop(d["treated"]).min(), 0),
            high=_.number(means.drop(d["treated"]).max(), 0)))
    report.effect("synthetic control: total", sc)
    report.figure("sc_total", sc.plot(), caption=_("Möllevången and its synthetic control (crimes per "
                                                   "100,000)."),
                  alt=_("Line chart: Möllevången's monthly crime rate and its synthetic control before "
                        "and after the start, with the gap between them below."))
    if outside:
        effects["synthetic control (levels): total"] = levels
        report.effect("synthetic control (levels): total", levels)
    report.effect("synthetic DiD: total", sdid)
    with ctx.step("BSTS"):
        draws = ctx.draws(m["bsts_draws"], m["quick_bsts_draws"])
        bsts_study = study.replace(donors=_largest_donors(study, 20))
        bsts = causal_impact(bsts_study, likelihood="negative_binomial", draws=draws, tune=draws,
                             random_state=ctx.seed("bsts"))
    effects["BSTS: total"] = bsts
    report.effect("BSTS: total", bsts)

    report.heading(_("Displacement and diffusion"))
    with ctx.step("displacement"):
        ring = poisson_did(study.data[study.data["unit"] != d["treated"]], outcome="total",
                           treated=neighbours, start=d["start"], exposure="population",
                           random_state=ctx.seed("displacement_ring"))
        wdq = weighted_displacement_quotient(study.data, outcome="total", target=d["treated"],
                                             buffer=neighbours, control=study.donors, start=study.start)
    report.effect("Poisson DiD: neighbour ring", ring)
    report.table("wdq", pd.DataFrame([wdq]), caption=_("Weighted displacement quotient (Bowers & "
                                                       "Johnson 2003)."))
    report.text(_("WDQ = {wdq}: {interpretation}.", wdq=_.number(wdq["wdq"], 2),
                  interpretation=_(wdq["interpretation"])))

    report.heading(_("Survey: feeling unsafe in the evening"))
    with ctx.step("survey DiD"):
        draws = ctx.draws(m["survey_draws"], m["quick_survey_draws"])
        common = dict(item=d["survey_item"], treated=d["treated"], start=d["survey_start"],
                      end=d["survey_end"], threshold=d["survey_threshold"], item_range=(1, 4),
                      exclude=neighbours, random_state=ctx.seed("survey"), n_draws=draws)
        survey_effects = {f"survey DiD ({inf})": survey_did(survey, inference=inf, **common)
                          for inf in ("wild", "randomization")}
    for name, effect in survey_effects.items():
        report.effect(name, effect)
    share = (survey.assign(unsafe=(survey[d["survey_item"]] >= d["survey_threshold"]) * survey["weight"])
             .groupby(["time"]).apply(lambda g: g["unsafe"].sum() / g["weight"].sum(), include_groups=False))
    report.table("survey_share_unsafe_city", share.rename("weighted share unsafe").to_frame(),
                 caption=_("Weighted share feeling unsafe, all survey areas (aggregates only)."))

    triangulation_section(report, effects)
    if truth:
        primary = [f"Poisson DiD: {o}" for o in d["offences"]]
        rows = []
        for name, effect in effects.items():
            offence = name.split(": ")[-1]
            if offence in truth:
                lo, hi = effect.relative_interval or (float("nan"), float("nan"))
                rows.append({"estimate": name, "relative": effect.relative, "low": lo, "high": hi,
                             "truth": truth[offence], "covers_truth": lo <= truth[offence] <= hi,
                             "primary": name in primary})
        report.heading(label("truth", lang))
        report.text(_("Each estimate's relative effect beside the simulated world's realised relative "
                      "effect for that offence (sum of observed over sum of untreated potential "
                      "outcomes − 1)."))
        table = pd.DataFrame(rows)
        table = table.assign(estimate=[report.labels.get(x, _(x)) for x in table["estimate"]])
        report.table("truth_check", table)
        missed = table.loc[table["primary"] & ~table["covers_truth"], "estimate"].tolist()
        if missed:
            report.text(_("**Primary estimate(s) missing the truth:** {labels}. In this world every area "
                          "has its own trend, so parallel trends hold only approximately for Möllevången; "
                          "the synthetic-control family and BSTS, which model the treated area's own "
                          "path, are the check. With one treated area the Poisson DiD interval relies on "
                          "randomization over 130 comparison areas.", labels=", ".join(missed)))
        if "unsafe_evening_y0" in survey.columns:
            pop = survey.attrs.get("truth", {}).get("effect")
            if pop is not None:
                truth_check_section(report, survey_effects, float(pop), name="truth_check_survey",
                                    on="estimate")
    report.heading(label("caveats", lang))
    report.text(_("Other programmes ran in Möllevången at the same time (see the overlap table): the "
                  "estimates are of the guards *together with* those programmes. One treated area means "
                  "conventional clustered standard errors are invalid; randomization inference and the "
                  "synthetic-control family carry the inference. Reported crime mixes prevalence and "
                  "detection: more guards can raise recorded drug and public-order offences."))

    post = study.data[(study.data["unit"] == d["treated"]) & (study.data["time"] >= study.start)]
    total = effects["Poisson DiD: total"]
    bottom_line(
        report, programme="Ordningsvakter Möllevången", primary="Poisson DiD: total",
        compared=["synthetic control: total", "synthetic DiD: total", "BSTS: total"],
        noun=_("reported crimes"), observed_per_year=float(post["total"].sum()) / (len(post) / 12),
        tests=[NullTest("randomization", total.p_value, supported=True)],
        detection=_("reported crime measures detection as well as crime: guards can raise recorded "
                    "drug and public-order offences while crime falls"))
    from utvardering.report import add_public_record_section  # real figures

    add_public_record_section(report, "ordningsvakter_mollevangen")

    from utvardering.design import report_design_diagnosis  # issue 12

    report_design_diagnosis(ctx, "ordningsvakter_mollevangen", study)  # power, MDE and spec curve


def _truth(data: pd.DataFrame, d: dict, offence: str) -> float:
    rows = (data["unit"] == d["treated"]) & (data["time"] >= pd.Period(d["start"], "M"))
    cols = d["offences"] if offence == "total" else [offence]
    observed = data.loc[rows, cols].to_numpy().sum()
    untreated = data.loc[rows, [f"{c}_y0" for c in cols]].to_numpy().sum()
    return float(observed / untreated - 1)


def _largest_donors(study, n: int) -> list:
    """The ``n`` donors with most crime in the pre-period (controls for BSTS)."""
    pre = study.data[study.data["time"] < study.start]
    totals = pre[pre["unit"].isin(study.donors)].groupby("unit")[study.outcome].sum()
    return totals.nlargest(n).index.tolist()


if __name__ == "__main__":
    from utvardering.cli import main

    sys.exit(main(["run", "ordningsvakter_mollevangen", *sys.argv[1:]]))
