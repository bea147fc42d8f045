"""The yearly follow-up report (conclusion first), written with the library's report document.

Only :class:`utvardering.report.document.Report`'s ``heading``, ``text``, ``table``,
``figure`` and ``write`` are used, so the follow-up depends on the report machinery through
this one module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .plots import plot_funnel, plot_trends
from .realdata import city_change_example
from .text import T, conclusion_lines, detectable_section, format_value

__all__ = ["build_report", "write_report"]


def _p(value) -> str:
    value = float(value)
    if not np.isfinite(value):
        return "–"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


def _changes_table(result, lang: str) -> pd.DataFrame:
    t = T[lang]["cols"]
    real = result.real_changes
    rows = []
    for row in real.itertuples(index=False):
        ind = result.indicators[row.indicator]
        rows.append({
            t["unit"]: row.unit, t["indicator"]: ind.label(lang),
            t["value_last"]: format_value(row.value_last, ind.kind, lang),
            t["value"]: format_value(row.value, ind.kind, lang),
            t["change"]: format_value(row.change, ind.kind, lang, change=True),
            t["city_change"]: format_value(row.city_change, ind.kind, lang, change=True),
            t["expected"]: format_value(row.expected, ind.kind, lang),
            t["q_last"]: _p(row.q_last), t["q_baseline"]: _p(row.q_baseline),
            t["prob_up"]: round(float(row.prob_up), 3),
        })
    return pd.DataFrame(rows)


def _city_table(result, lang: str) -> pd.DataFrame:
    est = result.estimates
    city = est[est["unit"] == "City"]
    rows = []
    sv = lang == "sv"
    for name, ind in result.indicators.items():
        g = city[city["indicator"] == name].set_index("time")
        if result.year not in g.index or result.year - 1 not in g.index:
            continue
        cur, prev = g.loc[result.year], g.loc[result.year - 1]
        diff = cur["estimate"] - prev["estimate"]
        if ind.kind == "rate":
            # exact conditional test of this year's count given the two years' total
            from scipy import stats

            p0 = cur["exposure"] / (cur["exposure"] + prev["exposure"])
            p_value = stats.binomtest(int(cur["count"]), int(cur["count"] + prev["count"]), p0).pvalue
        else:
            from scipy import stats

            se = float(np.hypot(cur["se"], prev["se"]))
            p_value = 2 * stats.norm.sf(abs(diff) / se)
        rows.append({
            ("indikator" if sv else "indicator"): ind.label(lang),
            (str(result.year - 1)): format_value(prev["estimate"], ind.kind, lang),
            (str(result.year)): format_value(cur["estimate"], ind.kind, lang),
            ("95 % KI" if sv else "95% CI"): f"{format_value(cur['ci_low'], ind.kind, lang)} – "
                                              f"{format_value(cur['ci_high'], ind.kind, lang)}",
            ("förändring" if sv else "change"): format_value(diff, ind.kind, lang, change=True),
            "p": _p(p_value),
        })
    return pd.DataFrame(rows)


def _areas_table(result, lang: str) -> pd.DataFrame:
    est = result.estimates
    cur = est[(est["time"] == result.year) & (est["unit"] != "City")]
    out = None
    for name, ind in result.indicators.items():
        g = cur[cur["indicator"] == name].set_index("unit")
        col = g.apply(lambda r, ind=ind: f"{format_value(r['estimate'], ind.kind, lang)} "
                      f"({format_value(r['sae'], ind.kind, lang)})", axis=1).rename(ind.name)
        out = col.to_frame() if out is None else out.join(col, how="outer")
    prog = result.programmes[result.programmes["unit"] != "(all areas)"]
    names = prog.groupby("unit")["programme"].apply(lambda x: "; ".join(x))
    out["programmes" if lang == "en" else "insatser"] = names.reindex(out.index).fillna("")
    out.index.name = "område" if lang == "sv" else "area"
    return out


def _truth_table(check: dict, lang: str) -> pd.DataFrame:
    sv = lang == "sv"
    rows = []
    for comp, label in (("last", "mot förra året" if sv else "vs last year"),
                        ("baseline", "mot baslinje" if sv else "vs baseline")):
        c = check[comp]
        rows.append({("jämförelse" if sv else "comparison"): label, ("flaggor" if sv else "flags"): c["flags"],
                     ("falska" if sv else "false"): c["false_flags"],
                     ("verkliga förändringar" if sv else "real changes"): c["true_changes"],
                     ("hittade" if sv else "found"): c["found"],
                     ("andel falska" if sv else "false share"): round(c["false_discovery_proportion"], 3)})
    return pd.DataFrame(rows)


def build_report(result, *, lang: str = "en", truth_check: dict | None = None,
                 real_example: bool = True, funnel_indicators: list[str] | None = None,
                 figures: bool = True):
    """Build the yearly report as a :class:`~utvardering.report.document.Report`.

    Parameters
    ----------
    result : FollowUp
    lang : {"en", "sv"}
    truth_check : dict, optional
        Output of :func:`~utvardering.followup.run.truth_check` (simulated data).
    real_example : bool, default True
        Add the section on Malmö's published city figures.
    funnel_indicators : list of str, optional
        Indicators with a funnel plot (default: feeling unsafe, the problem index and every
        indicator with a real change, at most four).
    figures : bool, default True
        Draw the funnel plots and the trend chart (``False``: tables and text only).
    """
    from ..report.document import Report

    t = T[lang]
    report = Report(t["title"].format(year=result.year), lang=lang)
    report.heading(t["conclusion"])
    report.text("\n\n".join(conclusion_lines(result, lang)))
    if truth_check is not None:
        report.heading(t["truth"])
        report.text(t["truth_text"])
        report.table("truth_check", _truth_table(truth_check, lang))
    report.heading(t["city"])
    report.text(t["city_text"])
    report.table("city", _city_table(result, lang))
    if len(result.real_changes):
        report.heading(t["changes"])
        report.text(t["changes_text"])
        report.table("real_changes", _changes_table(result, lang))
    detect = detectable_section(result, lang)
    if detect["paragraphs"]:
        report.heading(detect["heading"])
        report.text(detect["paragraphs"][0])
        if len(detect["table"]):
            report.table("detectable_change", detect["table"])
        for paragraph in detect["paragraphs"][1:]:
            report.text(paragraph)
    report.heading(t["programmes"])
    flagged_units = set(result.real_changes["unit"])
    prog = result.programmes[result.programmes["unit"].isin(flagged_units | {"(all areas)"})]
    report.text(t["programmes_text"])
    if len(prog):
        report.table("programmes", prog.drop(columns=["key"]).reset_index(drop=True))
    else:
        report.text(t["no_programmes"])
    if figures:
        import matplotlib.pyplot as plt

        report.heading(t["funnel"])
        report.text(t["funnel_text"])
        wanted = funnel_indicators or list(dict.fromkeys(
            [i for i in ("unsafe_evening", "problem_index") if i in result.indicators]
            + list(result.real_changes["indicator"])))[:4]
        for name in wanted:
            fig, ax = plt.subplots(figsize=(7, 4.5))
            plot_funnel(result, name, lang=lang, ax=ax)
            report.figure(f"funnel_{name}", fig)
        report.heading(t["trends"])
        report.text(t["trends_text"])
        report.figure("trends", plot_trends(result, lang=lang))
    report.heading(t["areas"])
    report.text(t["areas_text"])
    report.table(f"areas_{result.year}", _areas_table(result, lang))
    if real_example:
        table, problem = city_change_example(lang=lang)
        report.heading(t["real"])
        report.text(t["real_text"].format(deff=problem["deff"], pi0=problem["value_from"],
                                          pi1=problem["value_to"], smax=problem["max_sd_for_significance"]))
        report.table("malmo_published", table.round(4))
    report.heading(t["method"])
    report.text(t["method_text"])
    return report


def write_report(result, out: str | Path, *, lang: str = "en", truth_check: dict | None = None,
                 extra: dict[str, Any] | None = None, **kwargs) -> dict[str, Path]:
    """Build and write the report to ``out`` (``report.md``, ``report.html``, ``tables/``,
    ``figures/``) plus ``followup.json`` (settings, flagged changes, diagnostics, truth check)
    and ``changes.csv`` (every area × indicator test).
    """
    report = build_report(result, lang=lang, truth_check=truth_check, **kwargs)
    written = report.write(out)
    out = Path(out)
    payload = result.to_dict()
    if truth_check is not None:
        payload["truth_check"] = truth_check
    if extra:
        payload.update(extra)
    (out / "followup.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n",
                                       encoding="utf-8")
    result.changes.to_csv(out / "changes.csv", index=False)
    written["followup.json"] = out / "followup.json"
    written["changes.csv"] = out / "changes.csv"
    return written
