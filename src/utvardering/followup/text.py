"""Wording of the annual follow-up in Swedish and English (conclusion first)."""

from __future__ import annotations

import numpy as np

__all__ = ["T", "detectable_section", "format_value", "summary_text"]

T = {
    "en": {
        "title": "Annual follow-up {year}: safety survey and reported crime by area",
        "conclusion": "Conclusion",
        "n_real": "Of {m} area × indicator pairs, {k1} changed since last year beyond sampling "
                  "noise, at a false discovery rate of {fdr:.0%} (at most about one in {inv} such "
                  "flags is expected to be noise){tail}",
        "n_base": "{k2} more differ from the area's own level in the previous {b} years (relative "
                  "to the city). This comparison is more sensitive, but it also picks up gradual "
                  "drift, not only sudden change{tail}",
        "none": ".",
        "list": ":",
        "noise": "Everything else moved within sampling noise: {big} area × indicator pairs changed by "
                 "{thr} or more since last year without that being distinguishable from noise "
                 "(about {n:.0f} respondents per area).",
        "change_line": "• {unit} — {label}: {v0} → {v1} ({d}; city {dc}); {which}",
        "q_last": "vs last year q {q}",
        "q_base": "vs own baseline q {q}",
        "up": "higher", "down": "lower",
        "programme_note": "Programmes in force in flagged areas are listed under Programmes: "
                          "that is co-occurrence, not an evaluation.",
        "city": "The city as a whole",
        "city_text": "City values with 95 % confidence intervals (areas as strata); the change "
                     "from last year is tested with the design-based standard error.",
        "changes": "The real changes in detail",
        "changes_text": "`change` is this year minus last year (direct estimates); `expected` is "
                        "what the area's own baseline and the city's change predict for this year; "
                        "q-values are Benjamini–Hochberg adjusted across all areas × indicators; "
                        "`prob_up` is the small-area model's posterior probability that the area "
                        "moved up relative to the city.",
        "programmes": "Programmes in force (description, not evaluation)",
        "programmes_text": "Programmes from the intervention registry that were in force in these "
                           "areas this year or last. An area's change in the same year does not "
                           "show that a programme worked or failed: programmes go where problems "
                           "are, overlap, and start at different times. For an evaluation see the "
                           "analysis named in the last column (`utvardering run NAME`).",
        "no_programmes": "No programme in the registry was in force in the flagged areas.",
        "funnel": "Funnel plots",
        "funnel_text": "Each point is an area this year against its sample size; the lines are "
                       "where 95 % and 99.8 % of areas would fall by sampling noise alone if they "
                       "were at the city value. Small areas scatter widely: a large deviation in "
                       "a small area is weak evidence.",
        "trends": "Trends in flagged areas",
        "trends_text": "Direct estimates (points, 95 % intervals), small-area estimates (orange "
                       "line and band, shrunk towards the area's level and the city's year) and "
                       "the city (grey). * = real change.",
        "truth": "Truth check (simulated world)",
        "truth_text": "The data are simulated with known real changes, so the flags can be "
                      "checked: a false flag is a flag where the world has no change.",
        "areas": "All areas this year",
        "areas_text": "Direct (design-based) estimate and, in brackets, the small-area estimate "
                      "per area; the small-area estimate is the better single number for a small "
                      "area, the direct estimate is the one to use for change tests and official "
                      "tables. The last column lists the programmes in force in the area this "
                      "year or last (co-occurrence, not evaluation).",
        "real": "Real data: Malmö's published city figures",
        "real_text": "Only city totals are public. Changes of the published shares are tested "
                     "with the published number of respondents and an assumed design effect of "
                     "{deff}; the problem index went from {pi0} to {pi1}: that is beyond noise "
                     "only if respondents' answers vary with a standard deviation below {smax:.2f} "
                     "index points (the micro-data would tell).",
        "method": "How to read this report",
        "method_text": "Survey shares and means are weighted (post-stratified to age × sex) and "
                       "their standard errors account for the weights (Kish effective sample size "
                       "n/deff). Counts are rates per 100,000 with exact Poisson intervals. A "
                       "change is called real only if it survives the false-discovery-rate "
                       "correction across every area × indicator; with about 150 respondents per "
                       "area a change of 8 points is usually not distinguishable from noise "
                       "(see the methods page, 'utvardering followup').",
        "cols": {"unit": "area", "indicator": "indicator", "value_last": "last year", "value": "this year",
                 "change": "change", "city_change": "city change", "expected": "expected",
                 "q_last": "q (vs last year)", "q_baseline": "q (vs baseline)", "prob_up": "prob_up"},
    },
    "sv": {
        "title": "Årlig uppföljning {year}: trygghetsmätning och anmälda brott per område",
        "conclusion": "Slutsats",
        "n_real": "Av {m} par område × indikator har {k1} förändrats sedan förra året mer än "
                  "slumpen i urvalet förklarar, med andelen falska upptäckter {fdr:.0%} (högst "
                  "ungefär en av {inv} sådana flaggor väntas vara brus){tail}",
        "n_base": "Ytterligare {k2} skiljer sig från områdets egen nivå de {b} föregående åren "
                  "(i förhållande till staden). Den jämförelsen är känsligare men fångar också "
                  "gradvisa förskjutningar, inte bara plötsliga förändringar{tail}",
        "none": ".",
        "list": ":",
        "noise": "Allt annat rörde sig inom slumpvariationen: {big} par område × indikator "
                 "ändrades med {thr} eller mer sedan förra året utan att det går att skilja från "
                 "brus (cirka {n:.0f} svarande per område).",
        "change_line": "• {unit} — {label}: {v0} → {v1} ({d}; staden {dc}); {which}",
        "q_last": "mot förra året q {q}",
        "q_base": "mot egen baslinje q {q}",
        "up": "högre", "down": "lägre",
        "programme_note": "Insatser i de flaggade områdena listas under Insatser: det är "
                          "samförekomst, inte en utvärdering.",
        "city": "Staden som helhet",
        "city_text": "Stadens värden med 95 % konfidensintervall (områden som strata); "
                     "förändringen från förra året testas med designbaserat medelfel.",
        "changes": "De verkliga förändringarna i detalj",
        "changes_text": "`förändring` är i år minus förra året (direkta skattningar); `väntat` är "
                        "vad områdets egen baslinje och stadens förändring ger för i år; q-värden "
                        "är Benjamini–Hochberg-justerade över alla områden × indikatorer; "
                        "`prob_upp` är småområdesmodellens sannolikhet att området steg i "
                        "förhållande till staden.",
        "programmes": "Insatser (beskrivning, inte utvärdering)",
        "programmes_text": "Insatser ur insatsregistret som pågick i dessa områden i år eller förra "
                           "året. Att ett område förändrades samma år visar inte att en insats "
                           "fungerade eller inte: insatser sätts in där problemen finns, överlappar "
                           "och börjar vid olika tidpunkter. För en utvärdering, se analysen i sista "
                           "kolumnen (`utvardering run NAMN`).",
        "no_programmes": "Ingen insats i registret pågick i de flaggade områdena.",
        "funnel": "Trattdiagram",
        "funnel_text": "Varje punkt är ett område i år mot dess urvalsstorlek; linjerna visar var "
                       "95 % och 99,8 % av områdena skulle hamna av ren slump om de låg på stadens "
                       "värde. Små områden sprider mycket: en stor avvikelse i ett litet område är "
                       "svagt belägg.",
        "trends": "Utveckling i flaggade områden",
        "trends_text": "Direkta skattningar (punkter, 95 % intervall), småområdesskattningar "
                       "(orange linje och band, krympta mot områdets nivå och stadens år) och "
                       "staden (grå). * = verklig förändring.",
        "truth": "Sanningskontroll (simulerad värld)",
        "truth_text": "Data är simulerade med kända verkliga förändringar, så flaggorna kan "
                      "kontrolleras: en falsk flagga är en flagga där världen inte har någon "
                      "förändring.",
        "areas": "Alla områden i år",
        "areas_text": "Direkt (designbaserad) skattning och, inom parentes, småområdesskattningen "
                      "per område; småområdesskattningen är det bättre enskilda talet för ett "
                      "litet område, den direkta skattningen används för förändringstest och "
                      "officiella tabeller. Sista kolumnen visar insatser som pågick i området i "
                      "år eller förra året (samförekomst, inte utvärdering).",
        "real": "Verkliga data: Malmös publicerade stadsvärden",
        "real_text": "Endast stadens totaler är offentliga. Förändringar av de publicerade "
                     "andelarna testas med publicerat antal svarande och en antagen designeffekt "
                     "på {deff}; problemindex gick från {pi0} till {pi1}: det är mer än brus bara "
                     "om de svarandes svar har en standardavvikelse under {smax:.2f} indexpoäng "
                     "(mikrodata skulle visa det).",
        "method": "Så läser du rapporten",
        "method_text": "Andelar och medelvärden är viktade (efterstratifierade på ålder × kön) och "
                       "medelfelen tar hänsyn till vikterna (Kish effektiv urvalsstorlek n/deff). "
                       "Brott är antal per 100 000 invånare med exakta Poissonintervall. En "
                       "förändring kallas verklig bara om den klarar korrektionen för falska "
                       "upptäckter över alla områden × indikatorer; med cirka 150 svarande per "
                       "område går en förändring på 8 procentenheter oftast inte att skilja från "
                       "brus (se metodsidan, 'utvardering followup').",
        "cols": {"unit": "område", "indicator": "indikator", "value_last": "förra året", "value": "i år",
                 "change": "förändring", "city_change": "stadens förändring", "expected": "väntat",
                 "q_last": "q (mot förra året)", "q_baseline": "q (mot baslinje)", "prob_up": "prob_upp"},
    },
}


def format_value(value: float, kind: str, lang: str = "en", change: bool = False) -> str:
    """A share as percent (points for a change), a mean with two decimals, a rate as a whole number."""
    if value is None or not np.isfinite(value):
        return "–"
    sign = "+" if change and value > 0 else ("−" if change and value < 0 else "")
    v = abs(value) if change else value
    if kind == "share":
        text = f"{100 * v:.1f}"
        text = text.replace(".", ",") if lang == "sv" else text
        unit = (" p.e." if lang == "sv" else " points") if change else " %"
        return f"{sign}{text}{unit}"
    if kind == "mean":
        text = f"{v:.2f}"
        return sign + (text.replace(".", ",") if lang == "sv" else text)
    text = f"{v:,.0f}".replace(",", " ")
    return sign + text


def _q(value: float) -> str:
    return "< 0.001" if value < 1e-3 else f"= {value:.3f}"


def _change_line(row, result, t: dict, lang: str) -> str:
    ind = result.indicators[row.indicator]
    which = []
    if row.flag_last:
        which.append(t["q_last"].format(q=_q(row.q_last)))
    if row.flag_baseline:
        which.append(t["q_base"].format(q=_q(row.q_baseline)))
    return t["change_line"].format(
        unit=row.unit, label=ind.label(lang),
        v0=format_value(row.value_last, ind.kind, lang), v1=format_value(row.value, ind.kind, lang),
        d=format_value(row.change, ind.kind, lang, change=True),
        dc=format_value(row.city_change, ind.kind, lang, change=True), which="; ".join(which))


def conclusion_lines(result, lang: str = "en") -> list[str]:
    """The conclusion paragraph(s) and one line per real change."""
    t = T[lang]
    c = result.changes
    fdr = c.attrs.get("fdr", 0.1)
    m = len(c)
    real = result.real_changes
    b = c.attrs.get("baseline_years", 4)
    last = real[real["flag_last"]]
    base = real[~real["flag_last"]]
    lines = [t["n_real"].format(m=m, k1=len(last), fdr=fdr, inv=round(1 / fdr),
                                tail=t["list"] if len(last) else t["none"])]
    lines += [_change_line(row, result, t, lang) for row in last.itertuples(index=False)]
    lines.append(t["n_base"].format(k2=len(base), b=b, tail=t["list"] if len(base) else t["none"]))
    lines += [_change_line(row, result, t, lang) for row in base.itertuples(index=False)]
    shares = c[(c["kind"] == "share") & ~(c["flag_last"] | c["flag_baseline"])]
    big = int((shares["change"].abs() >= 0.06).sum())
    n_typ = float(np.nanmedian(result.estimates.loc[result.estimates["kind"] == "share", "n"])) \
        if (result.estimates["kind"] == "share").any() else np.nan
    if np.isfinite(n_typ):
        lines.append(t["noise"].format(big=big, thr=format_value(0.06, "share", lang, change=True).lstrip("+"),
                                       n=n_typ))
    sentence = detectable_section(result, lang)["sentence"]
    if sentence:
        lines.append(sentence)
    if len(real):
        lines.append(t["programme_note"])
    return lines


def summary_text(result, lang: str = "en") -> str:
    """Plain-text summary of a :class:`~utvardering.followup.run.FollowUp`."""
    t = T[lang]
    lines = [t["title"].format(year=result.year), "", t["conclusion"], ""]
    lines += conclusion_lines(result, lang)
    return "\n".join(lines)


def detectable_section(result, lang: str = "en", *, power: float = 0.8, change: float = 0.08,
                       level: float = 0.30, response_rate: float | None = None) -> dict:
    """The report's "What this survey can detect" section (translated by the gettext catalogue).

    Parameters
    ----------
    result : FollowUp
    lang : {"en", "sv"}
    power : float, default 0.8
        Power of the minimum detectable changes.
    change, level : float, default 0.08 and 0.30
        The change (8 points) and the share before it (30 %) for the sample-size sentence.
    response_rate : float, optional
        Assumed share of the sampled who answer (default
        :data:`~utvardering.followup.detectable.DEFAULT_RESPONSE_RATE`).

    Returns
    -------
    dict
        ``heading``, ``paragraphs`` (list of str), ``table`` (pandas.DataFrame with
        translated columns; empty without survey shares) and ``sentence`` (the plain
        sentence for the steering group; empty without survey shares).
    """
    import pandas as pd

    from ..i18n import get_language
    from .detectable import (
        DEFAULT_RESPONSE_RATE,
        detectable_by_size,
        detectable_change,
        required_sample_size,
    )

    _ = get_language(lang)
    rate = DEFAULT_RESPONSE_RATE if response_rate is None else response_rate
    out = {"heading": _("What this survey can detect"), "paragraphs": [], "table": pd.DataFrame(),
           "sentence": ""}
    c = result.changes
    if not (c["kind"] == "share").any() or "se_last" not in c:
        return out
    mdc = detectable_change(result, power=power)
    th = mdc.attrs["thresholds"]
    shares = mdc[(mdc["kind"] == "share") & ~mdc["rare"]]
    pts = lambda v: _.number(100 * float(v), 0)  # noqa: E731 - points, whole numbers
    est = result.estimates
    cur = est[(est["time"] == result.year) & (est["kind"] == "share") & (est["unit"] != "City")]
    n_typ = float(np.nanmedian(cur.groupby("unit")["n"].median())) if "n" in cur else float("nan")
    deff = float(np.nanmedian(cur["deff_kish"])) if "deff_kish" in cur else float("nan")
    last = shares[shares["comparison"] == "last"]
    out["sentence"] = _(
        "A change smaller than about {mdc} percentage points in a survey share since last year, "
        "in an area with about {n} respondents (about {s} sampled), cannot be told apart from "
        "chance in this report.",
        mdc=pts(np.nanmedian(last["mdc"])), n=_.number(n_typ, 0), s=_.number(10 * round(n_typ / rate / 10), 0))
    out["paragraphs"].append(_(
        "The table gives the smallest change in a survey share, in percentage points, that this "
        "report would flag with {power} probability, by the number of respondents in the area "
        "(median over areas and survey shares, either direction; rare items such as victimisation "
        "by violence are left out, their exact tests are coarser). The flags are corrected for {m} tests: "
        "this year a change since last year had to reach p below {p} (z {z}), against the area's "
        "own level p below {pb} (z {zb}). A single comparison planned in advance, at the 5 % level "
        "(z {zs}), could detect much smaller changes: that is the price of looking at every area "
        "and indicator at once.",
        power=_.percent(power), m=_.number(th["last"]["m"], 0), p=_.significant(th["last"]["p_threshold"], 2),
        z=_.number(th["last"]["z_crit"], 2), pb=_.significant(th["baseline"]["p_threshold"], 2),
        zb=_.number(th["baseline"]["z_crit"], 2), zs=_.number(float(last["z_single"].iloc[0]), 2)))
    table = detectable_by_size(result, mdc, kind="share")
    if len(table):
        out["table"] = pd.DataFrame({
            _("respondents in the area"): table["band"].astype(str),
            _("areas"): [_.number(v, 0) for v in table["areas"]],
            _("since last year"): [pts(v) for v in table["mdc_last"]],
            _("since last year, single test"): [pts(v) for v in table["mdc_single_last"]],
            _("against own level"): [pts(v) for v in table["mdc_baseline"]],
            _("against own level, single test"): [pts(v) for v in table["mdc_single_baseline"]],
        })
    need = required_sample_size(change, level, power=power, p_threshold=th["last"]["p_threshold"],
                                response_rate=rate, deff=deff if np.isfinite(deff) and deff >= 1 else 1.0)
    need_base = required_sample_size(change, level, power=power, comparison="baseline",
                                     baseline_years=int(c.attrs.get("baseline_years", 4)),
                                     p_threshold=th["baseline"]["p_threshold"], response_rate=rate,
                                     deff=deff if np.isfinite(deff) and deff >= 1 else 1.0)
    out["paragraphs"].append(_(
        "To flag a change of {d} percentage points in a share near {lvl} with {power} probability, "
        "an area would need about {fdr} sampled residents for a change since last year under this "
        "report's correction ({base} against the area's own level), or {single} for a single "
        "comparison planned in advance; today about {s} are sampled. This assumes that {r} of the "
        "sampled answer and a design effect of the weights of {deff}.",
        d=_.number(100 * change, 0), lvl=_.percent(level), power=_.percent(power),
        fdr=_.number(float(need.loc["fdr", "n_sampled"]), 0),
        base=_.number(float(need_base.loc["fdr", "n_sampled"]), 0),
        single=_.number(float(need.loc["single", "n_sampled"]), 0),
        s=_.number(10 * round(n_typ / rate / 10), 0), r=_.percent(rate),
        deff=_.number(deff, 2)))
    out["paragraphs"].append(_(
        "No flag therefore does not mean no change: it means that the change, if any, was smaller "
        "than what this survey can see. The methods page explains the calculation."))
    return out
