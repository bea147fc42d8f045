"""Text output for :class:`~.result.BSTSEffect`: CausalImpact's table and a short report."""

from __future__ import annotations

import math

__all__ = ["impact_report", "impact_table_text"]


def _n(value: float, sd: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _p(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.2g}%"


def impact_table_text(effect) -> str:
    """CausalImpact's "Posterior inference" table for ``effect`` (a BSTSEffect)."""
    t = effect.table
    pct = round(effect.level * 100)
    rows = [("", "Average", "Cumulative"),
            ("Actual", _n(t.at["Average", "actual"]), _n(t.at["Cumulative", "actual"]))]

    def cell(r: str, a: str) -> str:
        return f"{_n(t.at[r, a])} ({_n(t.at[r, a + '_sd'], True)})"

    def ci(r: str, a: str, fmt=_n) -> str:
        return f"[{fmt(t.at[r, a + '_lower'])}, {fmt(t.at[r, a + '_upper'])}]"

    rows += [
        ("Prediction (s.d.)", f"{_n(t.at['Average', 'pred'])} ({_n(t.at['Average', 'pred_sd'], True)})",
         f"{_n(t.at['Cumulative', 'pred'])} ({_n(t.at['Cumulative', 'pred_sd'], True)})"),
        (f"{pct}% CI", ci("Average", "pred"), ci("Cumulative", "pred")),
        ("", "", ""),
        ("Absolute effect (s.d.)", cell("Average", "abs_effect"), cell("Cumulative", "abs_effect")),
        (f"{pct}% CI", ci("Average", "abs_effect"), ci("Cumulative", "abs_effect")),
        ("", "", ""),
        ("Relative effect (s.d.)",
         *(f"{_p(t.at[r, 'rel_effect'])} ({_p(t.at[r, 'rel_effect_sd'])})"
           for r in ("Average", "Cumulative"))),
        (f"{pct}% CI", *(ci(r, "rel_effect", _p) for r in ("Average", "Cumulative"))),
    ]
    if effect.rate_ratio is not None:
        lo, hi = effect.rate_ratio_interval
        e_lo, e_hi = effect.events_prevented_interval
        rows += [("", "", ""),
                 ("Rate ratio", f"{effect.rate_ratio:.3f}", ""),
                 (f"{pct}% CI", f"[{lo:.3f}, {hi:.3f}]", ""),
                 ("Events prevented", "", _n(effect.events_prevented)),
                 (f"{pct}% CI", "", f"[{_n(e_lo)}, {_n(e_hi)}]")]
    w0 = max(len(r[0]) for r in rows) + 3
    w1 = max(len(r[1]) for r in rows) + 3
    lines = [f"Posterior inference (bsts, {effect.likelihood})", ""]
    lines += [f"{a:<{w0}}{b:<{w1}}{c}".rstrip() for a, b, c in rows]
    lines += ["",
              f"Posterior tail-area probability p:   {effect.p_value:.5f}",
              f"Posterior prob. of a causal effect:  {100 * effect.prob:.0f}%"]
    if effect.warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in effect.warnings]
    return "\n".join(lines)


_TEXT = {
    "en": {
        "intro": ("During the post-intervention period ({start} onwards, {n} periods) {outcome} "
                  "averaged {actual}. Without the intervention the model expected {pred} "
                  "({pct}% interval {plo} to {phi}), so the estimated effect is {eff} per period "
                  "({pct}% interval {elo} to {ehi}), {rel} relative to the counterfactual."),
        "sum": " Summed over the post-period: {cact} observed against {cpred} expected.",
        "rate": (" As a rate ratio: {rr} ({pct}% interval {rlo} to {rhi}); about {ep} events "
                 "prevented ({pct}% interval {elo2} to {ehi2})."),
        "yes": (" The probability of obtaining this effect by chance is small (posterior "
                "tail-area probability p = {p}); the effect is unlikely to be due to chance, "
                "provided the control series were not themselves affected by the intervention "
                "and their relation to {outcome} was stable."),
        "no": (" The effect is not statistically distinguishable from zero (posterior "
               "tail-area probability p = {p}): the post-period is consistent with what the "
               "model expected without the intervention."),
        "warn": " Read with care: {k} diagnostic warning(s) were raised.",
    },
    "sv": {
        "intro": ("Under perioden efter insatsen ({start} och framåt, {n} perioder) var "
                  "{outcome} i genomsnitt {actual}. Utan insatsen förväntade modellen {pred} "
                  "({pct} % intervall {plo} till {phi}), så den skattade effekten är {eff} per "
                  "period ({pct} % intervall {elo} till {ehi}), {rel} jämfört med det "
                  "kontrafaktiska förloppet."),
        "sum": " Summerat över perioden: {cact} observerade mot {cpred} förväntade.",
        "rate": (" Som kvot mellan takterna: {rr} ({pct} % intervall {rlo} till {rhi}); omkring "
                 "{ep} förhindrade händelser ({pct} % intervall {elo2} till {ehi2})."),
        "yes": (" Sannolikheten att få en sådan effekt av en slump är liten (posterior "
                "svansannolikhet p = {p}); effekten beror troligen inte på slumpen, förutsatt "
                "att kontrollserierna inte själva påverkades av insatsen och att deras samband "
                "med {outcome} var stabilt."),
        "no": (" Effekten går inte att skilja från noll (posterior svansannolikhet p = {p}): "
               "perioden efter insatsen stämmer med vad modellen förväntade utan insatsen."),
        "warn": " Läs med försiktighet: {k} diagnostiska varningar.",
    },
}


def impact_report(effect, lang: str = "en") -> str:
    """A short plain-language paragraph about ``effect`` in English or Swedish."""
    if lang not in _TEXT:
        raise ValueError(f"lang must be 'en' or 'sv', got {lang!r}.")
    text, t = _TEXT[lang], effect.table
    pct = round(effect.level * 100)
    dec = "," if lang == "sv" else "."

    def f(v):
        return _n(v).replace(".", dec)

    rel = effect.relative
    rel_s = "—" if rel is None else f"{100 * rel:+.1f}%".replace(".", dec)
    if lang == "sv" and rel is not None:
        rel_s = rel_s.replace("%", " %")
    out = text["intro"].format(
        start=effect.start, n=len(effect.cumulative), outcome=effect.outcome,
        actual=f(t.at["Average", "actual"]), pred=f(t.at["Average", "pred"]), pct=pct,
        plo=f(t.at["Average", "pred_lower"]), phi=f(t.at["Average", "pred_upper"]),
        eff=f(effect.estimate), elo=f(effect.interval[0]), ehi=f(effect.interval[1]), rel=rel_s)
    out += text["sum"].format(cact=f(t.at["Cumulative", "actual"]), cpred=f(t.at["Cumulative", "pred"]))
    if effect.rate_ratio is not None:
        out += text["rate"].format(
            rr=f"{effect.rate_ratio:.2f}".replace(".", dec), pct=pct,
            rlo=f"{effect.rate_ratio_interval[0]:.2f}".replace(".", dec),
            rhi=f"{effect.rate_ratio_interval[1]:.2f}".replace(".", dec),
            ep=f(effect.events_prevented), elo2=f(effect.events_prevented_interval[0]),
            ehi2=f(effect.events_prevented_interval[1]))
    p_text = f"{effect.p_value:.3f}".replace(".", dec)
    key = "yes" if effect.p_value < (1 - effect.level) / 2 else "no"
    out += text[key].format(p=p_text, outcome=effect.outcome)
    if effect.warnings:
        out += text["warn"].format(k=len(effect.warnings))
    return out
