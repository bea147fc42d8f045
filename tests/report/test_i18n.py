"""The message catalogue and per-language formatting (issue 16 item 2, friction F15)."""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from utvardering import Effect
from utvardering.i18n import LOCALE_DIR, Language
from utvardering.report.conclusion import bottom_line
from utvardering.report.document import Report
from utvardering.report.sections import design_section, overlap_section, triangulation_section

ROOT = Path(__file__).resolve().parents[2]

#: Words that mark an untranslated English sentence in a Swedish report. Words spelled the same in
#: Swedish ("start", "data", "design", "form", "placebo", "is") are not listed.
ENGLISH = set("""
the of and or to with without from than that this these those which while when where because
was were are been has have had will would should could can no yes only also between over
after before into each every other their there they them its it an as at by on
effect effects estimate estimates estimated treated comparison control synthetic average
interval intervals outcome outcomes units unit periods month months year years
shootings crimes crime offences offence schools school survey warning warnings change changes
fewer more evidence strong moderate weak inconclusive caveats caveat primary secondary
analysis analyses robustness triangulation question estimand windows contents bottom line
truth programme programmes relative share rate rates counterfactual observed gap donors
donor weights weight level levels demeaned outside inside highest lowest mean chart plot line
figure table notes method methods suppressed cells small generated privacy technical summary
""".split())

#: English words allowed in a Swedish report: method and variable names, citations, units.
ALLOWED = set("""
DiD BSTS SC RMSPE WDQ HonestDiD TWFE Callaway Sant'Anna Sun Abraham Chernozhukov Wüthrich Zhu
Conley Taber Ferman Pinto Doudchenko Imbens Bowers Johnson Rimfrost utvardering provenance json
r-hat tune draws bulk CR1 ATT demean synthetic_control synthetic_did poisson_did
Communities That Care BID ITS
""".split())


def english_words(text: str) -> list[str]:
    """English words found in ``text`` (identifiers, paths and file names ignored)."""
    found = []
    for token in text.split():
        if any(mark in token for mark in ("/", "_", "=", "(..")) or re.search(r"\.(py|toml|csv|json)\b", token):
            continue
        for word in re.findall(r"[A-Za-zÅÄÖåäö']+", token):
            bare = word.strip("'")
            if bare and bare not in ALLOWED and bare.lower() in ENGLISH:
                found.append(bare)
    return found


def visible_text(html_text: str) -> str:
    """Text a reader can see (or unfold): tags, styles and embedded images removed."""
    import html

    body = re.sub(r"<style>.*?</style>", " ", html_text, flags=re.S)
    body = re.sub(r"<(code)>.*?</\1>", " ", body, flags=re.S)  # identifiers
    body = re.sub(r'(src|href)="[^"]*"', " ", body)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _compile(po: Path) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as handle:
        catalogue = read_po(handle, locale=po.parts[-3])
    out = io.BytesIO()
    write_mo(out, catalogue)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_compiled_catalogue_matches_its_po_file(lang):
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "utvardering.po"
    assert _compile(po) == po.with_suffix(".mo").read_bytes(), (
        f"{po.with_suffix('.mo')} is out of date: run `python -m utvardering.i18n`.")


def test_every_string_marked_for_translation_has_a_swedish_translation():
    spec = importlib.util.spec_from_file_location("extract_messages", ROOT / "scripts" / "extract_messages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert len(module.extract()) > 150
    assert module.missing("sv") == []


def test_swedish_and_english_number_formats():
    sv, en = Language("sv"), Language("en")
    assert sv.number(12345.678, 1) == "12\xa0345,7" and en.number(12345.678, 1) == "12,345.7"
    assert sv.number(-0.5, 2) == "−0,50" and sv.number(3, 1, sign=True) == "+3,0"
    assert sv.percent(-0.1234, 1) == "−12,3\xa0%" and en.percent(0.5) == "50%"
    assert sv.level(0.95) == "95\xa0% KI" and en.level(0.95) == "95% CI" and sv.level(0.9, "credible") == "90\xa0% KrI"
    assert sv.interval(-0.25, 1.5, 2) == "[−0,25; 1,50]" and en.interval(-0.25, 1.5, 2) == "[−0.25, 1.50]"
    assert sv.join(["a", "b", "c"]) == "a, b och c"


def test_f15_p_values_below_a_thousandth_and_dates_without_midnight():
    en, sv = Language("en"), Language("sv")
    assert en.p_value(0.0005) == "<\xa00.001" and en.p(0.0005) == "p <\xa00.001" and en.p(0.0336) == "p = 0.034"
    assert sv.p(0.0005) == "p <\xa00,001" and sv.p_value(0.7) == "0,700"
    assert en.date(pd.Timestamp("2019-07-15")) == "2019-07-15"
    assert en.date("2019-07-15 00:00:00") == "2019-07-15" and en.date(pd.Period("2018-10", "M")) == "2018-10"
    summary = Effect("demo", 1.0, (0.5, 1.5), p_value=0.0005).summary()
    assert "<\xa00.001" in summary and "0.000" not in summary


def test_warnings_are_translated_by_templates_with_numbers_reformatted():
    sv = Language("sv")
    text = ("Malmö: pre-period RMSPE 0.875 is 55% of its mean rate; monthly counts this small are noisy "
            "(Poisson noise alone gives about 0.69).")
    assert sv.warning(text) == ("Malmö: RMSPE före starten 0,875 är 55\xa0% av enhetens medelnivå; så små "
                                "antal per månad är brusiga (enbart Poisson-brus ger ungefär 0,69).")
    assert sv.warning("something new") == "something new"
    assert Language("en").warning(text) == text


def swedish_report() -> Report:
    report = Report("Sluta skjut", lang="sv")
    _ = report.tr
    design_section(report, {"question": _("Did Sluta skjut change the number of confirmed shootings in "
                                          "Malmö, compared with what would have happened without it?")})
    overlap_section(report, pd.DataFrame({"name": ["Operation Rimfrost"], "units": ["Malmö"],
                                          "start": [pd.Timestamp("2019-11-01")], "end": [pd.NaT],
                                          "start_uncertain": [False], "end_uncertain": [True]}))
    report.heading(_("Primary analysis"))
    sc = Effect("synthetic_control", -0.53, (-2.26, -0.03), p_value=0.033, relative=-0.34,
                relative_interval=(-1.4, -0.02), n_treated=1, n_control=19, start="2018-10",
                scale="rate per 100,000", diagnostics={"pre_rmspe": 0.875, "treated_pre_mean": 1.6, "warnings": [
                    "only 1 treated cluster: cluster-robust standard errors are invalid. Use the "
                    "randomization inference reported here, and compare with synthetic control."]})
    did = Effect("poisson_did", -0.48, (-1.0, 0.04), p_value=0.15, relative=-0.38, relative_interval=(-0.63, 0.04),
                 n_treated=1, scale="log rate ratio")
    report.effect("synthetic control (demeaned)", sc, display=_("synthetic control ({form})", form=_("demeaned")))
    report.effect("Poisson DiD", did)
    triangulation_section(report, {"synthetic control (demeaned)": sc, "Poisson DiD": did})
    bottom_line(report, programme="Sluta skjut", primary="synthetic control (demeaned)",
                compared=["Poisson DiD"], noun=_("shootings"), per_year=3.4 * 12, observed_per_year=40.0)
    return report


def test_aswedish_report_has_no_english_sentences(tmp_path):
    report = swedish_report()
    report.write(tmp_path)
    html_text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert english_words(visible_text(html_text)) == []
    assert "Slutsats" in html_text and "95\xa0% KI" in html_text
    assert english_words((tmp_path / "report.md").read_text(encoding="utf-8").split("![")[0]) == []


def test_the_english_word_check_catches_english():
    assert english_words("Skattning of the effect för behandlade") == ["of", "the", "effect"]
    assert english_words("Poisson-DiD: synthetic_control (Callaway–Sant'Anna)") == []
