"""Drogfri skola (narcotics-dog searches in 12 schools, spring 2019) — staggered DiD.

Run: ``python analyses/drogfri_skola.py [--config FILE] [--quick]`` or ``utvardering run drogfri_skola``.
Primary: Callaway–Sant'Anna with not-yet-treated controls; Sun–Abraham and imputation side by
side; HonestDiD sensitivity of the event study; a check for selection on pre-trends; the
student-survey outcome with ``survey_did``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import utvardering as utv
from utvardering import survey_did
from utvardering.did import callaway_santanna, imputation_did, sun_abraham
from utvardering.report import (
    bottom_line,
    design_section,
    label,
    triangulation_section,
    truth_check_section,
)

STEPS = ("Callaway–Sant'Anna", "Sun–Abraham and imputation", "selection on pre-trends", "HonestDiD",
         "survey DiD")


def load_data(ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """School panel and student survey named in the configuration."""
    cfg = ctx.config["data"]
    if cfg["source"] == "bundled":
        schools, survey = utv.datasets.load_dataset(cfg["schools"]), utv.datasets.load_dataset(cfg["survey"])
        ctx.record_input(f"bundled:{cfg['schools']}", schools)
        ctx.record_input(f"bundled:{cfg['survey']}", survey)
        return schools, survey
    schools, survey = pd.read_csv(cfg["schools_path"]), pd.read_csv(cfg["survey_path"])
    for path in (cfg["schools_path"], cfg["survey_path"]):
        ctx.record_input(path, Path(path))
    return schools, survey


def pretrend_selection(study) -> pd.DataFrame:
    """Pre-period linear trend of searched vs never-searched schools (selection on trends)."""
    pre = study.data[study.data["time"] < study.start]
    index = pre["time"].map(lambda t: t.ordinal if hasattr(t, "ordinal") else t)
    slopes = {}
    for unit, rows in pre.assign(t=index).groupby("unit"):
        slopes[unit] = np.polyfit(rows["t"], rows[study.outcome], 1)[0] * 12
    slopes = pd.Series(slopes)
    searched = slopes[slopes.index.isin(study.treated)]
    others = slopes[~slopes.index.isin(study.treated)]
    diff = searched.mean() - others.mean()
    se = np.sqrt(searched.var(ddof=1) / len(searched) + others.var(ddof=1) / len(others))
    return pd.DataFrame([{"searched_slope_per_year": searched.mean(), "others_slope_per_year": others.mean(),
                          "difference": diff, "se": se, "z": diff / se}])


def run(ctx) -> None:
    """Run the Drogfri skola evaluation into ``ctx.report``."""
    report, lang, d, m = ctx.report, ctx.report.lang, ctx.config["design"], ctx.config["methods"]
    _ = report.tr  # every reader-facing string goes through the message catalogue
    schools, survey = load_data(ctx)
    studies = {o: utv.Study(schools, outcome=o, cohort=d["cohort"], intervention="drogfri_skola")
               for o in d["outcomes"]}
    study = studies["drug_offences"]
    cohorts = pd.Series(study.starts).astype(str).value_counts().sort_index()
    design_section(report, {
        "question": _("Did narcotics-dog searches change recorded drug offences and other crime near "
                      "the searched schools, and students' drug use?"),
        "estimand": _("Average effect on the treated (searched schools) per school-month after the "
                      "first search, by event time and overall (Callaway–Sant'Anna aggregations)."),
        "treated": _("{n} schools searched on different dates ({cohorts}); schools volunteered "
                     "(self-selection) and are pseudonymous.", n=len(study.treated),
                     cohorts=", ".join(f"{c}: {n}" for c, n in cohorts.items())),
        "comparison": _("Not-yet-searched schools and the {n} never-searched schools.",
                        n=len(study.donors)),
        "outcomes": _("Recorded drug offences and other offences near each school per month; student "
                      "survey: self-reported drug use (0/1), weighted."),
        "windows": f"{study.times[0]}–{study.times[-1]}.",
        "primary": _("Callaway–Sant'Anna (doubly robust, not-yet-treated controls), dynamic "
                     "aggregation."),
        "secondary": _("Sun–Abraham and the imputation estimator side by side; survey DiD."),
        "robustness": _("HonestDiD sensitivity of the event study to violations of parallel trends; a "
                        "test for selection on pre-trends."),
    })
    report.heading(label("caveats", lang))
    report.text(_("**Detection vs prevalence.** A search can *raise* recorded drug offences (drugs "
                  "found are crimes recorded) while lowering drug use. The month of the search is "
                  "therefore reported separately in the event study, and the survey measures "
                  "prevalence directly."))

    effects: dict = {}
    report.heading(label("primary", lang))
    with ctx.step("Callaway–Sant'Anna"):
        draws = ctx.draws(m["bootstrap_draws"], m["quick_bootstrap_draws"])
        cs = {o: callaway_santanna(s, control_group=d["control_group"], inference="bootstrap", n_draws=draws,
                                   random_state=ctx.seed("bootstrap")) for o, s in studies.items()}
        dynamic = cs["drug_offences"].aggregate("dynamic", min_e=d["event_window"][0], max_e=d["event_window"][1])
    for o, effect in cs.items():
        effects[f"Callaway–Sant'Anna: {o}"] = effect
        report.effect(f"Callaway–Sant'Anna: {o}", effect, display=f"Callaway–Sant'Anna: {_.column(o)}")
    report.effect("Callaway–Sant'Anna: drug_offences, dynamic", dynamic,
                  display=_("Callaway–Sant'Anna: {outcome}, dynamic", outcome=_.column("drug_offences")))
    report.figure("cs_event_study", dynamic.plot(), caption=_(
                  "Event-time effects on drug offences (uniform bands from the multiplier bootstrap)."),
                  alt=_("Event-study chart: effect on drug offences per school-month for each month "
                        "before and after the first search, with uniform bands."))

    report.heading(label("secondary", lang))
    with ctx.step("Sun–Abraham and imputation"):
        effects["Sun–Abraham: drug_offences"] = sun_abraham(study)
        effects["imputation: drug_offences"] = imputation_did(study)
    report.effect("Sun–Abraham: drug_offences", effects["Sun–Abraham: drug_offences"],
                  display=f"Sun–Abraham: {_.column('drug_offences')}")
    report.effect("imputation: drug_offences", effects["imputation: drug_offences"],
                  display=_("imputation: {outcome}", outcome=_.column("drug_offences")))

    report.heading(label("robustness", lang))
    with ctx.step("selection on pre-trends"):
        selection = pretrend_selection(study)
    report.table("pretrend_selection", selection, caption=_(
                 "Pre-period linear trend in drug offences (per year) of searched vs never-searched "
                 "schools."))
    report.text(_("Searched schools' pre-period trend differs by {diff} offences per school-month per "
                  "year (z = {z}). A large |z| means the schools that volunteered were already on a "
                  "different path: parallel trends is then doubtful and the HonestDiD bounds below "
                  "carry the inference.", diff=_.number(selection["difference"].iloc[0], 3, sign=True),
                  z=_.number(selection["z"].iloc[0], 2)))
    _honest_section(ctx, study, d)

    report.heading(_("Student survey: drug use"))
    with ctx.step("survey DiD"):
        treated = sorted(study.treated)
        effects["survey DiD: drug use"] = survey_did(survey, item=d["survey_item"], treated=treated,
                                                     start=d["survey_start"], item_range=(0, 1),
                                                     random_state=ctx.seed("survey"))
    report.effect("survey DiD: drug use", effects["survey DiD: drug use"])  # display from the catalogue

    triangulation_section(report, {k: v for k, v in effects.items() if "survey" not in k})
    truth = schools.attrs.get("truth", {})
    if "att" in truth:
        drug = {k: v for k, v in effects.items() if k.endswith("drug_offences")}
        table = truth_check_section(report, drug, float(truth["att"]), on="estimate",
                                    primary=["Callaway–Sant'Anna: drug_offences"])
        if not table["covers_truth"].iloc[0]:
            report.text(_("Here Callaway–Sant'Anna's post-period comparisons are all anchored on the "
                          "month before each school's search (the base period g − 1). With about one "
                          "recorded drug offence per school-month, that single month is noisy and "
                          "shifts every post-period cell of a cohort together; the imputation "
                          "estimator, which uses the whole pre-period, is less exposed. Read the "
                          "event-study path and the imputation estimate together rather than the CS "
                          "average alone. Over 200 independent draws of this simulated world the CS "
                          "interval covered the truth in {coverage} of draws with a mean error of "
                          "{error} (tests/did/test_recovery_worlds.py): this realisation is one of the "
                          "misses, not a sign of bias.", coverage=_.percent(0.915, 1),
                          error=_.number(0.015, 3, sign=True)))
        survey_truth = survey.attrs.get("truth", {}).get("population_effect")
        if survey_truth is not None:
            truth_check_section(report, {"survey DiD: drug use": effects["survey DiD: drug use"]},
                                float(survey_truth), on="estimate", name="truth_check_survey")

    post = study.data[study.data[study.unit].isin(study.treated)]
    post = post[post["time"] >= post[d["cohort"]]] if d["cohort"] in post.columns else post
    months = len(post) / len(study.treated)
    bottom_line(
        report, programme="Drogfri skola", primary="Callaway–Sant'Anna: drug_offences",
        compared=["Sun–Abraham: drug_offences", "imputation: drug_offences"],
        noun=_("recorded drug offences"), per_year=len(study.treated) * 12,
        observed_per_year=float(post[study.outcome].sum()) / (months / 12),
        detection=_("recorded drug offences measure detection as well as use: a search can raise "
                    "them while drug use falls (the student survey measures use)"))
    from utvardering.report import add_public_record_section  # real figures

    add_public_record_section(report, "drogfri_skola")

    from utvardering.design import report_design_diagnosis  # issue 12

    report_design_diagnosis(ctx, "drogfri_skola", study)  # power, MDE and spec curve


def _honest_section(ctx, study, d) -> None:
    """HonestDiD relative-magnitudes bounds on the first post-period event-study effect."""
    report = ctx.report
    try:
        from utvardering import honest_did
    except ImportError:
        report.text(report.tr("HonestDiD sensitivity: not available in this version."))
        return
    from utvardering import event_study

    with ctx.step("HonestDiD"):
        es = event_study(study.data, outcome=study.outcome, cohort=d["cohort"], leads=6, lags=6,
                         cluster="unit")
        sensitivity = honest_did(es, method="relative_magnitudes", m_values=d["honest_m"])
    report.effect("HonestDiD: first post-period effect", sensitivity)
    table = sensitivity.path[["low", "high"]].copy()
    table["covers_zero"] = (table["low"] <= 0) & (table["high"] >= 0)
    table.index = table.index.map(str).rename("Mbar")
    _ = report.tr
    report.table("honest_did_sensitivity", table, caption=_(
                 "HonestDiD (relative magnitudes): robust 95% interval for the first post-period "
                 "effect as the allowed post-period violation of parallel trends grows to M̄ times the "
                 "largest pre-period one; last row: the usual interval."))
    breakdown = sensitivity.breakdown
    if breakdown is None:
        report.text(_("Breakdown M̄ (smallest M̄ tried whose robust interval includes zero): none — the "
                      "conclusion survives every M̄ tried."))
    elif breakdown == 0:
        report.text(_("Breakdown M̄ (smallest M̄ tried whose robust interval includes zero): 0 (the "
                      "usual interval already includes zero)."))
    else:
        report.text(_("Breakdown M̄ (smallest M̄ tried whose robust interval includes zero): {m}.",
                      m=_.significant(breakdown, 3)))
    report.figure("honest_did", sensitivity.plot(), caption=_(
                  "Robust intervals as the allowed post-period violation of parallel trends grows "
                  "relative to the pre-period's."),
                  alt=_("Interval chart: the robust interval for the first post-period effect at each "
                        "M̄, and the usual interval."))


if __name__ == "__main__":
    from utvardering.cli import main

    sys.exit(main(["run", "drogfri_skola", *sys.argv[1:]]))
