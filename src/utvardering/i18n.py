"""Languages of the reports: a gettext message catalogue and number/date formatting per language.

Every string a reader of a report sees is written in English in the code, wrapped in ``_()``
(the gettext convention), and translated from the catalogue
``utvardering/locale/<lang>/LC_MESSAGES/utvardering.po`` (compiled to ``.mo``, shipped in the
wheel). Numbers, percentages, p-values, intervals and dates are formatted for the language by
Babel's CLDR data: Swedish uses a decimal comma, a (non-breaking) space as thousands separator,
the minus sign U+2212 and "95 % KI".

Examples
--------
>>> sv = Language("sv")
>>> sv.number(12345.5, 1)
'12\\xa0345,5'
>>> sv.p_value(0.0004)
'<\\xa00,001'
>>> Language("en").interval(-0.25, 0.125, 2)
'[−0.25, 0.12]'

To add or change a translation, edit the ``.po`` file and run
``python -m utvardering.i18n`` (recompiles every ``.mo``); ``tests/report/test_i18n.py`` fails
when a ``.mo`` is out of date or a string used in a report has no Swedish translation.
"""

from __future__ import annotations

import datetime as _dt
import functools
import gettext
import math
import re
from pathlib import Path
from typing import Any

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "Language", "compile_catalogs", "get_language"]

DOMAIN = "utvardering"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: Report languages and the CLDR locale used to format their numbers.
LANGUAGES = {"en": "en_GB", "sv": "sv_SE"}
_MINUS = "\u2212"
_P_ZERO = re.compile(r"\bp = 0\.0+(?![0-9]*[1-9])")


class Language:
    """Translation and number formatting for one report language.

    Parameters
    ----------
    code : {"en", "sv"}
        Language code.
    """

    def __init__(self, code: str = "en") -> None:
        if code not in LANGUAGES:
            raise ValueError(f"unknown report language {code!r}; use one of {sorted(LANGUAGES)}.")
        from babel import Locale

        self.code = code
        self.locale = Locale.parse(LANGUAGES[code])
        self._catalogue = gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=True)

    def __repr__(self) -> str:
        return f"Language({self.code!r})"

    # -- text --------------------------------------------------------------------------------
    def gettext(self, message: str, /, **values: Any) -> str:
        """``message`` translated, then ``str.format``-ed with ``values`` (when given)."""
        text = self._catalogue.gettext(message) if message else message
        return text.format(**values) if values else text

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """Singular or plural form for ``n``, translated and formatted (``n`` is available)."""
        text = self._catalogue.ngettext(singular, plural, n)
        return text.format(n=n, **values)

    def pgettext(self, context: str, message: str) -> str:
        """``message`` translated in ``context`` (``"column"``, ``"method"``), or itself."""
        return self._catalogue.pgettext(context, message)

    def column(self, name: str) -> str:
        """Display name of a table column or index (``pre_rmspe`` → ``Pre-period RMSPE``)."""
        text = self.pgettext("column", name)
        return text if text != name else name.replace("_", " ")

    def method(self, name: str) -> str:
        """Display name of an estimator's ``method`` (``synthetic_control`` → ``synthetic control``)."""
        text = self.pgettext("method", name)
        return text if text != name else name.replace("_", " ")

    def warning(self, message: str) -> str:
        """A warning from an estimator, translated by the catalogue's ``warning`` templates.

        Templates are entries with context ``warning`` whose msgid has ``{name}`` fields
        (``"only {n} treated cluster: ..."``); the fields are read from the English message
        and numbers in them re-formatted for the language. Unknown warnings stay as they are.
        """
        message = _P_ZERO.sub("p < 0.001", message)  # F15: never "p = 0.000"
        if self.code == "en":
            return message
        for exact in (self.pgettext("warning", message), self.gettext(message)):
            if exact != message:
                return exact
        for pattern, translation in self._warning_templates():
            match = pattern.fullmatch(message)
            if match:
                values = {k: _renumber(v, self) for k, v in match.groupdict().items()}
                return translation.format(**values)
        return message

    @functools.cached_property
    def _templates(self) -> list[tuple[re.Pattern, str]]:
        from babel.messages.mofile import read_mo

        path = LOCALE_DIR / self.code / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not path.exists():
            return []
        with open(path, "rb") as handle:
            catalogue = read_mo(handle)
        out = []
        for message in catalogue:
            if message.context in ("warning", "figure") and message.string and "{" in str(message.id):
                parts = re.split(r"\{(\w+)\}", str(message.id))
                regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                                for i, p in enumerate(parts))
                out.append((re.compile(regex, re.DOTALL), str(message.string)))
        return out

    def _warning_templates(self) -> list[tuple[re.Pattern, str]]:
        return self._templates

    def figure_text(self, text: str) -> str:
        """A figure's title, axis label or legend entry in this language (see ``translate_figure``)."""
        if self.code == "en":
            return text
        for candidate in (self.pgettext("figure", text), self.gettext(text), self.pgettext("column", text),
                          self.pgettext("method", text)):
            if candidate != text:
                return candidate
        if text.endswith(" *"):  # the comparison plot's mark for an estimate with warnings
            return self.figure_text(text[:-2]) + " *"
        templated = self.warning(text)
        if templated != text:
            return templated
        for sep in (": ", ", ", " — ", " vs "):
            if sep in text:
                return sep.join(self.figure_text(part) for part in text.split(sep))
        match = re.fullmatch(r"(.+?) \((.+)\)", text, flags=re.DOTALL)
        if match:
            return f"{self.figure_text(match.group(1))} ({self.figure_text(match.group(2))})"
        return text

    def has(self, message: str) -> bool:
        """Whether the catalogue translates ``message`` (always true for English)."""
        return self.code == "en" or self._catalogue.gettext(message) != message

    # -- numbers -----------------------------------------------------------------------------
    def number(self, value: float | None, digits: int = 2, *, sign: bool = False) -> str:
        """A number with ``digits`` decimals, grouped thousands; ``–`` for missing."""
        from babel.numbers import format_decimal

        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–" if value is None or math.isnan(value) else ("∞" if value > 0 else _MINUS + "∞")
        # thousands grouped from five digits on (1234, 12 345): four-digit numbers such as years stay whole
        pattern = ("#,##0" if abs(float(value)) >= 10_000 else "0") + ("." + "0" * digits if digits > 0 else "")
        if sign:
            pattern = "+" + pattern + ";-" + pattern
        text = format_decimal(round(float(value), digits) + 0.0, format=pattern, locale=self.locale)
        return text.replace("-", _MINUS)

    def significant(self, value: float | None, figures: int = 3) -> str:
        """A number to ``figures`` significant figures (at least as many decimals as needed)."""
        if value is None or not math.isfinite(float(value)):
            return self.number(value)
        value = float(value)
        if value == 0:
            return self.number(0.0, 0)
        digits = max(0, figures - 1 - math.floor(math.log10(abs(value))))
        return self.number(value, min(digits, 6))

    def percent(self, share: float | None, digits: int = 0, *, sign: bool = False) -> str:
        """A share as a percentage (``0.123`` → ``12 %`` in Swedish, ``12%`` in English)."""
        if share is None or not math.isfinite(float(share)):
            return "–"
        number = self.number(100 * float(share), digits, sign=sign)
        return number + ("\xa0%" if self.code == "sv" else "%")

    def p_value(self, p: float | None) -> str:
        """A p-value: three decimals, ``< 0.001`` below 0.001 (never ``0.000``)."""
        if p is None or not math.isfinite(float(p)):
            return "–"
        if p < 0.001:
            return "<\xa0" + self.number(0.001, 3)
        return self.number(p, 3)

    def p(self, p: float | None) -> str:
        """``p = 0.034`` or ``p < 0.001`` (the comparison sign included)."""
        text = self.p_value(p)
        return "p " + text if text.startswith("<") else "p = " + text

    def interval(self, low: float | None, high: float | None, digits: int = 2, *,
                 percent: bool = False, sign: bool = False) -> str:
        """``[low, high]`` (Swedish: ``[low; high]``, since the comma is the decimal mark)."""
        fmt = (lambda v: self.percent(v, digits, sign=sign)) if percent else (
            lambda v: self.number(v, digits, sign=sign))
        sep = "; " if self.code == "sv" else ", "
        return f"[{fmt(low)}{sep}{fmt(high)}]"

    def level(self, level: float, kind: str = "confidence") -> str:
        """``95% CI`` / ``95 % KI`` (``kind="credible"``: ``95% CrI`` / ``95 % KrI``)."""
        pct = self.number(100 * level, 0 if round(100 * level) == 100 * level else 1)
        abbr = self.gettext("CrI") if kind == "credible" else self.gettext("CI")
        unit = "\xa0%" if self.code == "sv" else "%"
        return f"{pct}{unit} {abbr}"

    def date(self, value: Any) -> str:
        """A date or month without a time of day (``2019-07-15``, ``2018-10``)."""
        import pandas as pd

        if value is None:
            return "–"
        if isinstance(value, pd.Period):
            return str(value)
        if isinstance(value, (pd.Timestamp, _dt.datetime)):
            if value.hour == value.minute == value.second == 0 and not getattr(value, "nanosecond", 0):
                return value.strftime("%Y-%m-%d")
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, _dt.date):
            return value.isoformat()
        text = str(value)
        return text[:-9] if text.endswith(" 00:00:00") else text

    def join(self, items: list[str]) -> str:
        """``a, b and c`` / ``a, b och c``."""
        items = [str(i) for i in items]
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + " " + self.gettext("and") + " " + items[-1]


def _renumber(text: str, tr: Language) -> str:
    """Numbers written in English inside ``text`` (``0.875``, ``55%``) in ``tr``'s format."""
    if tr.code == "en":
        return text

    def one(match: re.Match) -> str:
        number = match.group(1)
        digits = len(number.split(".")[1]) if "." in number else 0
        out = tr.number(float(number), digits)
        return out + ("\xa0%" if match.group(2) else "")

    return re.sub(r"(?<![\w.])(-?\d+(?:\.\d+)?)(%?)(?![\w.]\w)", one, text)


@functools.cache
def get_language(code: str = "en") -> Language:
    """The (cached) :class:`Language` for ``code``."""
    return Language(code)


def compile_catalogs(directory: str | Path = LOCALE_DIR) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/*.po`` under ``directory`` to ``.mo`` (Babel)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        with open(po, "rb") as handle:
            catalogue = read_po(handle, locale=po.parts[-3])
        with open(po.with_suffix(".mo"), "wb") as handle:
            write_mo(handle, catalogue)
        written.append(po.with_suffix(".mo"))
    get_language.cache_clear()
    return written


if __name__ == "__main__":  # python -m utvardering.i18n
    for path in compile_catalogs():
        print(path)
