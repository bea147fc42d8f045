"""The Effect: one result shape for every estimator.

Every estimator in utvardering returns an :class:`Effect` (or a subclass adding
method-specific extras such as donor weights or an ATT(g,t) table), so that results from
difference-in-differences, synthetic control and Bayesian time-series models can be
printed, exported, plotted and compared side by side.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import pandas as pd

from .serialize import decode, encode

__all__ = ["PATH_COLUMNS", "Effect"]

#: Columns a ``path`` may carry (any subset; missing ones are NaN).
PATH_COLUMNS = ("observed", "counterfactual", "effect", "low", "high")

_EFFECT_CLASSES: dict[str, type[Effect]] = {}


def _is_timing(key: str) -> bool:
    """Diagnostics that describe the run, not the result (wall times, compile-cache hits)."""
    return key.endswith("_seconds") or key in ("cache_hit", "seconds", "timings")


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude >= 1e5 or magnitude < 10 ** (-digits)):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}" if magnitude >= 1000 else f"{value:.{digits}f}".rstrip("0").rstrip(".")


@dataclass(repr=False)
class Effect:
    """Result of an impact estimator.

    Attributes
    ----------
    method : str
        Short method name, e.g. ``"synthetic_control"``, ``"callaway_santanna"``, ``"bsts"``.
    estimate : float
        Average effect on the treated over the post-period, in ``scale`` units.
    interval : tuple of float
        ``(low, high)`` confidence or credible interval at ``level``.
    level : float
        Coverage of ``interval`` (default 0.95).
    se : float, optional
        Standard error (or posterior standard deviation).
    relative : float, optional
        Effect as a share of the counterfactual (−0.25 = 25 % lower), where defined.
    relative_interval : tuple of float, optional
        Interval for ``relative``.
    p_value : float, optional
        Frequentist p-value for the null of no effect.
    prob : float, optional
        Posterior probability of an effect of the estimate's sign (Bayesian methods).
    path : pandas.DataFrame, optional
        Over time (index ``time``) or event time (index ``event_time``): any of the columns
        ``observed``, ``counterfactual``, ``effect``, ``low``, ``high``.
    diagnostics : dict
        Pre-period fit, pre-trend tests, r-hat, ESS, divergences and ``"warnings"`` (a list).
    outcome : str, optional
        Outcome the effect is on.
    scale : str
        Unit of ``estimate`` (``"outcome units"``, ``"log points"``, ``"rate per 100,000"`` ...).
    estimand : str
        What is estimated, in words.
    n_treated, n_control : int, optional
        Treated and comparison units.
    start : str, optional
        First treated period (as text).
    params : dict
        Options the estimator ran with (for provenance).
    """

    method: str
    estimate: float
    interval: tuple[float, float] = (math.nan, math.nan)
    level: float = 0.95
    se: float | None = None
    relative: float | None = None
    relative_interval: tuple[float, float] | None = None
    p_value: float | None = None
    prob: float | None = None
    path: pd.DataFrame | None = None
    diagnostics: dict = field(default_factory=dict)
    outcome: str | None = None
    scale: str = "outcome units"
    estimand: str = "average effect on the treated over the post-period"
    n_treated: int | None = None
    n_control: int | None = None
    start: str | None = None
    params: dict = field(default_factory=dict)

    #: Fields not exported by :meth:`to_dict` (e.g. posterior draws as arviz data).
    _transient: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _EFFECT_CLASSES[cls.__name__] = cls

    def __post_init__(self) -> None:
        self.estimate = float(self.estimate)
        self.interval = (float(self.interval[0]), float(self.interval[1]))
        if self.relative_interval is not None:
            self.relative_interval = (float(self.relative_interval[0]), float(self.relative_interval[1]))
        if not 0 < self.level < 1:
            raise ValueError(f"level must be between 0 and 1, got {self.level}.")
        self.diagnostics.setdefault("warnings", [])

    # -- reading ------------------------------------------------------------------------------
    @property
    def warnings(self) -> list[str]:
        """Warnings raised while estimating (also in ``diagnostics["warnings"]``)."""
        return list(self.diagnostics.get("warnings", []))

    def _rows(self, lang: str = "en") -> list[tuple[str, str, str]]:
        from .i18n import get_language

        tr = get_language(lang)
        num = _fmt if lang == "en" else (lambda v: tr.significant(v, 4))
        pct = round(self.level * 100)
        sep = "; " if lang == "sv" else ", "
        rows = [(tr("Effect"), num(self.estimate), f"[{num(self.interval[0])}{sep}{num(self.interval[1])}]")]
        if self.se is not None:
            rows.append((tr("Std. error"), num(self.se), ""))
        if self.relative is not None:
            ri = self.relative_interval
            if lang == "en":
                text = f"[{ri[0]:+.1%}, {ri[1]:+.1%}]" if ri is not None else ""
                rows.append(("Relative effect", f"{self.relative:+.1%}", text))
            else:
                text = tr.interval(*ri, 1, percent=True, sign=True) if ri is not None else ""
                rows.append((tr("Relative effect"), tr.percent(self.relative, 1, sign=True), text))
        if self.p_value is not None:
            rows.append((tr("p-value"), tr.p_value(self.p_value), ""))
        if self.prob is not None:
            rows.append((tr("Posterior prob. of effect"),
                         f"{self.prob:.1%}" if lang == "en" else tr.percent(self.prob, 1), ""))
        rows.insert(0, ("", tr("estimate"), tr("{pct}% interval", pct=pct)))
        return rows

    def summary(self, lang: str = "en") -> str:
        """Readable text table of the result (returned, not printed).

        Parameters
        ----------
        lang : {"en", "sv"}
            Language of the labels and number format (the message catalogue of
            :mod:`utvardering.i18n`); p-values below 0.001 are shown as ``< 0.001``.
        """
        from .i18n import get_language

        tr = get_language(lang)
        title = (f"{tr.method(self.method) if lang != 'en' else self.method} — "
                 f"{(tr.column(self.outcome) if lang != 'en' else self.outcome) if self.outcome else tr('outcome')}"
                 f" ({tr(self.scale)})")
        rows = self._rows(lang)
        width = max(len(r[0]) for r in rows) + 2
        body = [f"{r[0]:<{width}}{r[1]:>12}   {r[2]}".rstrip() for r in rows]
        rule = "-" * max(len(title), *(len(b) for b in body))
        lines = [title, tr("Estimand: {text}", text=tr(self.estimand)), rule, *body, rule]
        design = []
        if self.n_treated is not None:
            design.append(tr("treated units {n}", n=self.n_treated))
        if self.n_control is not None:
            design.append(tr("comparison units {n}", n=self.n_control))
        if self.start is not None:
            design.append(tr("start {date}", date=tr.date(self.start)))
        if design:
            lines.append(tr("Design: {text}", text=", ".join(design)))
        shown = {k: v for k, v in self.diagnostics.items()
                 if k != "warnings" and not _is_timing(k) and isinstance(v, (int, float, str, bool))
                 and v is not None}
        if shown:
            def value(v: Any) -> str:
                if isinstance(v, bool):
                    return tr("yes") if v else tr("no")
                if isinstance(v, float):
                    return _fmt(v) if lang == "en" else tr.significant(v, 4)
                return tr.warning(v) if isinstance(v, str) else str(v)

            lines.append(tr("Diagnostics: {text}", text=", ".join(
                f"{k} {value(v)}" for k, v in shown.items())))
        if self.warnings:
            lines.append(tr("Warnings:"))
            lines += [f"  - {tr.warning(w)}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(method={self.method!r}, estimate={_fmt(self.estimate)}, "
                f"interval=({_fmt(self.interval[0])}, {_fmt(self.interval[1])}), level={self.level})")

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
            for a, b, c in self._rows()[1:]
        )
        pct = round(self.level * 100)
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (
            f"<div><strong>{html.escape(self.method)}</strong> — {html.escape(self.outcome or '')} "
            f"({html.escape(self.scale)})<br><em>{html.escape(self.estimand)}</em>"
            f"<table><thead><tr><th></th><th>estimate</th><th>{pct}% interval</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>" + (f"<ul>{warn}</ul>" if warn else "") + "</div>"
        )

    # -- export ------------------------------------------------------------------------------
    def to_frame(self, path: bool = False) -> pd.DataFrame:
        """Tidy export.

        Parameters
        ----------
        path : bool, default False
            If true, return the effect path (with a ``method`` column) instead of the
            one-row summary.

        Returns
        -------
        pandas.DataFrame
            One row: method, outcome, scale, estimate, se, low, high, level, relative,
            relative_low, relative_high, p_value, prob, n_treated, n_control, start.
        """
        if path:
            if self.path is None:
                return pd.DataFrame(columns=["method", *PATH_COLUMNS])
            out = self.path.copy()
            out.insert(0, "method", self.method)
            return out
        ri = self.relative_interval or (math.nan, math.nan)
        row = {
            "method": self.method, "outcome": self.outcome, "scale": self.scale,
            "estimate": self.estimate, "se": self.se, "low": self.interval[0],
            "high": self.interval[1], "level": self.level, "relative": self.relative,
            "relative_low": ri[0], "relative_high": ri[1], "p_value": self.p_value,
            "prob": self.prob, "n_treated": self.n_treated, "n_control": self.n_control,
            "start": self.start,
        }
        return pd.DataFrame([row])

    def to_dict(self, timings: bool = True) -> dict:
        """JSON-serialisable dict; :meth:`from_dict` rebuilds the object.

        Parameters
        ----------
        timings : bool, default True
            Keep run-dependent diagnostics (keys ending in ``_seconds``, ``cache_hit``). Reports
            drop them so that re-running with the same inputs and seeds gives identical files.
        """
        out = {"class": type(self).__name__}
        for f in fields(self):
            if f.name in self._transient:
                continue
            value = getattr(self, f.name)
            if f.name == "diagnostics" and not timings:
                value = {k: v for k, v in value.items() if not _is_timing(k)}
            out[f.name] = encode(value)
        return out

    def to_json(self, timings: bool = False, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string (strict JSON: no NaN); :meth:`from_json` reads it.

        Parameters
        ----------
        timings : bool, default False
            Keep run-dependent diagnostics (wall-clock seconds, cache hits). Off by default, so
            the same inputs and seeds give byte-identical JSON.
        **kwargs
            Passed to :func:`json.dumps` (e.g. ``indent=2``).
        """
        return json.dumps(self.to_dict(timings=timings), allow_nan=False, ensure_ascii=False,
                          **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Effect:
        """Rebuild an Effect (or its registered subclass) from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict) -> Effect:
        """Rebuild an Effect (or the registered subclass named in ``data["class"]``)."""
        target = _EFFECT_CLASSES.get(data.get("class", ""), cls) if cls is Effect else cls
        names = {f.name for f in fields(target)}
        kwargs = {k: decode(v) for k, v in data.items() if k in names}
        for key in ("interval", "relative_interval"):
            if kwargs.get(key) is not None:
                kwargs[key] = tuple(math.nan if v is None else v for v in kwargs[key])
        return target(**kwargs)

    def plot(self, ax=None, **kwargs: Any):
        """The method's standard figure (observed vs counterfactual and the effect path).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plotting.effect_path import plot_effect_path

        return plot_effect_path(self, ax=ax, **kwargs)


_EFFECT_CLASSES["Effect"] = Effect
