r"""What the public record can and cannot say about Sluta skjut (and what the other two need).

The real figures that are public (:mod:`utvardering.data.public_record`) allow exactly one
comparison for Sluta skjut: Malmö's confirmed shootings per year against the rest of Sweden
(the Police's national count minus Malmö), 2017–2022 — two units, six years. This module runs
that comparison with the library's estimators, measures how much such a design can detect,
and words the result in English and Swedish, next to the published evaluation's figures.

**Estimators.** A Poisson DiD (:func:`~utvardering.did.poisson.poisson_did`, unit and year
effects) with 2019 (the first full year after the first call-in in October 2018) and 2018 as
the first treated year; the same with the national 2017 figure of the earlier vintage (324
instead of 281); and a count interrupted time series of Malmö alone, 2016–2022
(:func:`~utvardering.timeseries.its.interrupted_time_series`, Poisson, level change and a
linear trend), with Malmö's 2016 figure of both conflicting vintages (61 and 59).

**Power of the 2-unit annual design (closed form).** With two units the Poisson DiD estimate
is the log ratio of ratios of sums,

.. math:: \hat\beta = \log\frac{M_1}{M_0} - \log\frac{C_1}{C_0},

(:math:`M_0, M_1` Malmö's shootings before and after, :math:`C_0, C_1` the comparison's), and
under Poisson counts its variance is, by the delta method,

.. math:: \sigma^2 = \phi\Big(\frac1{M_0} + \frac1{M_1} + \frac1{C_0} + \frac1{C_1}\Big),

with :math:`\phi = 1` for pure Poisson noise and :math:`\phi` the Pearson dispersion of the
fitted model otherwise. For a true rate ratio :math:`\theta` (so :math:`E M_1 = \theta M_1^{cf}`,
:math:`M_1^{cf} = M_0 C_1 / C_0`), a two-sided test at level :math:`\alpha` has power

.. math:: 1 - \Phi(z_{1-\alpha/2} - |\log\theta|/\sigma) + \Phi(-z_{1-\alpha/2} - |\log\theta|/\sigma),

and the minimum detectable effect is the :math:`\theta < 1` at which this equals the target
power (found by root-finding, :math:`\sigma` evaluated under :math:`\theta`). This counts only
sampling noise; it is an upper bound on what the design can detect. Design-based inference
(giving the treatment to the comparison unit instead, :mod:`~utvardering.did.poisson_placebo`)
has one placebo, so its smallest attainable p-value is 1/2 and its power at 5% is zero.

References
----------
Frome, E. L. (1983). The analysis of rates using Poisson regression models. *Biometrics*
39(3), 665–674. Conley, T. G. & Taber, C. R. (2011). Inference with "difference in
differences" with a small number of policy changes. *REStat* 93(1), 113–125.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import DataError, DataWarning

__all__ = [
    "PublicRecordSection",
    "data_request_paragraph",
    "poisson_did_mde",
    "poisson_did_power",
    "sluta_skjut_public_panel",
    "sluta_skjut_public_section",
]

YEARS = tuple(range(2017, 2023))


def poisson_did_power(rate_ratio: float, pre_treated: float, post_treated_cf: float,
                      pre_control: float, post_control: float, *, level: float = 0.95,
                      dispersion: float = 1.0) -> float:
    r"""Power of the two-unit Poisson DiD (ratio of ratios of sums) for a true rate ratio.

    Parameters
    ----------
    rate_ratio : float
        True :math:`\theta` (e.g. 0.63 for −37 %).
    pre_treated, post_treated_cf : float
        Expected treated counts before, and after *without* the programme (:math:`M_0`,
        :math:`M_1^{cf}`); after with it is :math:`\theta M_1^{cf}`. Under parallel trends
        :math:`M_1^{cf} = M_0 C_1 / C_0`; any other value adds a bias the formula ignores.
    pre_control, post_control : float
        Expected comparison counts before and after.
    level : float, default 0.95
        One minus the two-sided test size.
    dispersion : float, default 1
        Variance inflation :math:`\phi` over Poisson.

    Returns
    -------
    float
        :math:`1-\Phi(z-|\log\theta|/\sigma)+\Phi(-z-|\log\theta|/\sigma)` with
        :math:`\sigma^2=\phi(1/M_0+1/(\theta M_1^{cf})+1/C_0+1/C_1)`.

    Examples
    --------
    >>> round(poisson_did_power(1.0, 100, 100, 400, 400), 3)  # the size of the test
    0.05
    """
    counts = np.array([pre_treated, post_treated_cf, pre_control, post_control], float)
    if rate_ratio <= 0 or (counts <= 0).any() or dispersion <= 0:
        raise DataError("poisson_did_power needs a positive rate ratio, positive expected "
                        f"counts and dispersion (got {rate_ratio}, {counts.tolist()}, "
                        f"{dispersion}).")
    sigma = np.sqrt(dispersion * (1 / counts[0] + 1 / (rate_ratio * counts[1])
                                  + 1 / counts[2] + 1 / counts[3]))
    z = stats.norm.ppf(0.5 + level / 2)
    shift = abs(np.log(rate_ratio)) / sigma
    return float(stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift))


def poisson_did_mde(pre_treated: float, post_treated_cf: float, pre_control: float,
                    post_control: float, *, power: float = 0.8, level: float = 0.95,
                    dispersion: float = 1.0) -> float:
    """Smallest decrease (as a rate ratio below 1) detected with ``power``.

    Solves :func:`poisson_did_power` ``= power`` for the rate ratio in (0, 1).

    Examples
    --------
    >>> round(poisson_did_mde(100, 100, 400, 400), 2)
    0.62
    """
    def gap(log_theta):
        return poisson_did_power(np.exp(log_theta), pre_treated, post_treated_cf, pre_control,
                                 post_control, level=level, dispersion=dispersion) - power

    # power rises as the ratio falls from 1, then falls again for ratios so small that the
    # treated count nearly vanishes; bracket the first crossing on a grid
    grid = np.log(np.linspace(0.999, 0.001, 999))
    counts = np.array([pre_treated, post_treated_cf, pre_control, post_control], float)
    theta = np.exp(grid)
    sigma = np.sqrt(dispersion * (1 / counts[0] + 1 / (theta * counts[1]) + 1 / counts[2]
                                  + 1 / counts[3]))
    z = stats.norm.ppf(0.5 + level / 2)
    values = stats.norm.sf(z - np.abs(grid) / sigma) + stats.norm.cdf(-z - np.abs(grid) / sigma) \
        - power
    above = np.flatnonzero(values >= 0)
    if not len(above):
        raise DataError("no decrease reaches the asked power with these counts.")
    k = int(above[0])
    return float(np.exp(optimize.brentq(gap, grid[k], grid[k - 1]))) if k else float(
        np.exp(grid[0]))


def sluta_skjut_public_panel(*, national_2017: int | None = None,
                             malmo_2016: int | None = None) -> pd.DataFrame:
    """The real annual panel: Malmö, Sweden and the rest of Sweden (Sweden − Malmö).

    Malmö from Malmö stad citing the Police (S36 for 2016–2017, S37 for 2018–2022), Sweden from
    the Police's final per-year PDFs (S01). ``national_2017`` / ``malmo_2016`` replace the
    conflicting value with another vintage's (324, S04; 59, S48).

    Returns
    -------
    pandas.DataFrame
        Index ``year`` 2016–2022; columns ``malmo``, ``sweden`` (NaN for 2016, before the
        Police's national count), ``rest_of_sweden``, ``malmo_source``, ``sweden_source``.
    """
    from ..data.public_record import load_public_record

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the conflicts are reported in the text
        malmo = load_public_record("shootings_malmo")
        sweden = load_public_record("shootings_sweden")

    def annual(frame, measure):
        rows = frame[(frame["measure"] == measure) & (frame["period"].str.fullmatch(r"\d{4}"))
                     & (frame["period_end"].dt.strftime("%m-%d") == "12-31")]
        return rows.assign(year=rows["period"].astype(int)).set_index("year")

    m, s = annual(malmo, "shootings"), annual(sweden, "confirmed_shootings")
    years = list(range(2016, 2023))
    panel = pd.DataFrame({"malmo": m["value"].reindex(years),
                          "sweden": s["value"].reindex(years),
                          "malmo_source": m["source_id"].reindex(years),
                          "sweden_source": s["source_id"].reindex(years)})
    panel.index.name = "year"
    if national_2017 is not None:
        panel.loc[2017, ["sweden", "sweden_source"]] = [float(national_2017), "S04"]
    if malmo_2016 is not None:
        panel.loc[2016, ["malmo", "malmo_source"]] = [float(malmo_2016), "S48"]
    panel["rest_of_sweden"] = panel["sweden"] - panel["malmo"]
    return panel[["malmo", "sweden", "rest_of_sweden", "malmo_source", "sweden_source"]]


def _did(panel: pd.DataFrame, first_year: int) -> dict[str, Any]:
    """Poisson DiD Malmö vs the rest of Sweden, 2017–2022, with the library's estimator."""
    from ..did.poisson import poisson_did
    from ..study import Study

    sub = panel.loc[list(YEARS)]
    long = pd.DataFrame({
        "unit": ["Malmö"] * len(sub) + ["Sverige utom Malmö"] * len(sub),
        "time": list(sub.index) * 2,
        "shootings": np.r_[sub["malmo"], sub["rest_of_sweden"]].astype(int)})
    study = Study(long, outcome="shootings", unit="unit", time="time", treated=["Malmö"],
                  start=first_year, min_pre_periods=1, counts=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Randomization inference needs two or more comparison units; cluster-robust
        # standard errors with two clusters are degenerate (the library warns). Only the
        # point estimate is used; the intervals below are computed in closed form.
        effect = poisson_did(study, inference="cluster")
    pre = sub.index < first_year
    M0, M1 = sub.loc[pre, "malmo"].sum(), sub.loc[~pre, "malmo"].sum()
    C0, C1 = sub.loc[pre, "rest_of_sweden"].sum(), sub.loc[~pre, "rest_of_sweden"].sum()
    beta = float(effect.estimate)
    closed = float(np.log(M1 / M0) - np.log(C1 / C0))
    if not np.isclose(beta, closed, atol=1e-8):  # the two-unit PPML is the ratio of ratios
        raise RuntimeError(f"poisson_did {beta} differs from the closed form {closed}.")
    se = float(np.sqrt(1 / M0 + 1 / M1 + 1 / C0 + 1 / C1))
    # Pearson dispersion of the 2 × 6 model (unit + year effects + treatment; 4 df).
    import statsmodels.api as sm

    X = pd.get_dummies(long[["unit"]].assign(time=long["time"].astype(str)), drop_first=True,
                       dtype=float)
    X["treated"] = ((long["unit"] == "Malmö") & (long["time"] >= first_year)).astype(float)
    fit = sm.GLM(long["shootings"].to_numpy(float), sm.add_constant(X.to_numpy()),
                 family=sm.families.Poisson()).fit()
    phi = float(fit.pearson_chi2 / fit.df_resid)
    z = stats.norm.ppf(0.975)
    return {
        "first_year": first_year, "estimate": beta, "rate_ratio": float(np.exp(beta)),
        "relative": float(np.expm1(beta)), "se_poisson": se,
        "interval_poisson": (float(np.expm1(beta - z * se)), float(np.expm1(beta + z * se))),
        "p_poisson": float(2 * stats.norm.sf(abs(beta) / se)),
        "dispersion": phi, "df_dispersion": int(fit.df_resid),
        "interval_quasi": (float(np.expm1(beta - z * se * np.sqrt(phi))),
                           float(np.expm1(beta + z * se * np.sqrt(phi)))),
        "p_quasi": float(2 * stats.norm.sf(abs(beta) / (se * np.sqrt(phi)))),
        "counts": {"malmo_pre": float(M0), "malmo_post": float(M1), "rest_pre": float(C0),
                   "rest_post": float(C1)},
        "library_warnings": [str(w.message) for w in caught],
    }


def _its(panel: pd.DataFrame) -> dict[str, Any]:
    """Count ITS of Malmö alone 2016–2022, first year 2019, level change with a linear trend."""
    from ..timeseries.its import interrupted_time_series

    series = panel["malmo"].loc[2016:2022].astype(float)
    series.name = "shootings"
    effect = interrupted_time_series(series, pre_period=(2016, 2018), post_period=(2019, 2022),
                                     likelihood="poisson", slope_change=False, vcov="iid")
    p = effect.params
    return {"relative": float(effect.relative), "interval": tuple(effect.relative_interval),
            "p_value": float(effect.p_value), "level_rate_ratio": p["level_change_rate_ratio"],
            "pre_trend_per_year": float(np.expm1(p["coefficients"]["time"])),
            "malmo_2016": float(series.loc[2016])}


@dataclass
class PublicRecordSection:
    """A report section built from the public record: numbers, tables and sentences."""

    lang: str
    title: str
    paragraphs: list[str]
    panel: pd.DataFrame
    estimates: pd.DataFrame
    power: dict[str, Any]
    reference: dict[str, Any]
    numbers: dict[str, float] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        """The section as Markdown: heading, paragraphs, the panel and the estimates."""
        panel = self.panel.reset_index()
        lines = [f"## {self.title}", ""]
        for text in self.paragraphs:
            lines += [text, ""]
        head = "| år | Malmö | Sverige | övriga Sverige |" if self.lang == "sv" else \
            "| year | Malmö | Sweden | rest of Sweden |"
        lines += [head, "|---:|---:|---:|---:|"]
        for row in panel.itertuples(index=False):
            fmt = [f"{v:.0f}" if pd.notna(v) else "–" for v in (row.malmo, row.sweden,
                                                                 row.rest_of_sweden)]
            lines.append(f"| {row.year} | {' | '.join(fmt)} |")
        lines += ["", "| " + " | ".join(self.estimates.columns) + " |",
                  "|" + "---|" * len(self.estimates.columns)]
        for row in self.estimates.itertuples(index=False):
            lines.append("| " + " | ".join(str(v) for v in row) + " |")
        lines += ["", ("Källor" if self.lang == "sv" else "Sources") + ": "
                  + ", ".join(self.sources) + " (utvardering.datasets.sources())."]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The section's text, numbers and power statement as a JSON-serialisable dict."""
        return {"lang": self.lang, "title": self.title, "paragraphs": self.paragraphs,
                "numbers": self.numbers, "power": self.power, "reference": self.reference,
                "sources": self.sources,
                "estimates": self.estimates.to_dict(orient="records"),
                "panel": self.panel.reset_index().to_dict(orient="records")}


def _pct(x: float, lang: str) -> str:
    """A signed percentage: '−67%' (en) / '−67 %' (sv), one decimal below 1 point."""
    text = f"{x * 100:+.1f}" if abs(x) < 0.01 else f"{x * 100:+.0f}"
    text = text.replace("-", "−")
    return text.replace(".", ",") + " %" if lang == "sv" else text + "%"


def _num(x: float, lang: str, digits: int = 2) -> str:
    text = f"{x:.{digits}f}"
    return text.replace(".", ",") if lang == "sv" else text


def _reference() -> dict[str, Any]:
    from ..data.public_record import load_public_record

    facts = load_public_record("programme_facts").set_index("item")
    get = facts["value"]
    return {"change_jan2017_feb2020_pct": float(get["change in shootings Jan 2017-Feb 2020"]),
            "before_count": int(get["shootings before programme (evaluation count)"]),
            "after_count": int(get["shootings after (evaluation count)"]),
            "followup_2023_pct": float(get["average annual shootings since 2018 vs before"]),
            "sources": ["S49", "S50", "S51"]}


def sluta_skjut_public_section(lang: str = "en") -> PublicRecordSection:
    """"What the public record says" about Sluta skjut: estimates, power and the conclusion.

    Parameters
    ----------
    lang : {"en", "sv"}
        Language of the title and sentences (numbers are the same).

    Returns
    -------
    PublicRecordSection
        ``panel`` (the real annual counts with source ids), ``estimates`` (one row per
        specification: Poisson DiD with first treated year 2019 and 2018, the 2017-vintage
        sensitivity, the Malmö-alone count ITS with both 2016 vintages), ``power`` (closed-form
        Poisson power and minimum detectable effect of the 2-unit design, with and without
        over-dispersion, and the design-based bound), ``reference`` (the published
        evaluation's figures), ``numbers`` (flat, for tests and templates), ``paragraphs``
        (the text) and ``to_markdown()``.

    Examples
    --------
    >>> from utvardering.data.public_section import sluta_skjut_public_section
    >>> section = sluta_skjut_public_section("en")  # doctest: +SKIP
    >>> round(section.numbers["did_2019_rate_ratio"], 2)  # doctest: +SKIP
    0.33
    """
    if lang not in ("en", "sv"):
        raise ValueError(f"lang must be 'en' or 'sv', got {lang!r}")
    panel = sluta_skjut_public_panel()
    main, early = _did(panel, 2019), _did(panel, 2018)
    vintage = _did(sluta_skjut_public_panel(national_2017=324), 2019)
    its61 = _its(panel)
    its59 = _its(sluta_skjut_public_panel(malmo_2016=59))
    ref = _reference()
    c = main["counts"]
    cf = c["malmo_pre"] * c["rest_post"] / c["rest_pre"]
    args = (c["malmo_pre"], cf, c["rest_pre"], c["rest_post"])
    power = {
        "first_year": 2019, "level": 0.95, "target_power": 0.8,
        "counterfactual_malmo_post": cf,
        "power_poisson_rr063": poisson_did_power(0.63, *args),
        "power_poisson_rr050": poisson_did_power(0.50, *args),
        "mde_poisson": poisson_did_mde(*args),
        "dispersion": main["dispersion"], "df_dispersion": main["df_dispersion"],
        "power_quasi_rr063": poisson_did_power(0.63, *args, dispersion=max(main["dispersion"], 1)),
        "mde_quasi": poisson_did_mde(*args, dispersion=max(main["dispersion"], 1)),
        "n_placebos": 1, "min_randomization_p": 0.5, "power_randomization_5pct": 0.0,
    }
    pre_ratio = (panel.loc[2018, "malmo"] / panel.loc[2018, "rest_of_sweden"]) / (
        panel.loc[2017, "malmo"] / panel.loc[2017, "rest_of_sweden"])
    raw_before = panel.loc[[2016, 2017], "malmo"].mean()
    raw_after = panel.loc[2018:2022, "malmo"].mean()
    numbers = {
        "did_2019_rate_ratio": main["rate_ratio"], "did_2019_relative": main["relative"],
        "did_2019_low": main["interval_poisson"][0], "did_2019_high": main["interval_poisson"][1],
        "did_2019_quasi_low": main["interval_quasi"][0],
        "did_2019_quasi_high": main["interval_quasi"][1],
        "did_2018_rate_ratio": early["rate_ratio"], "did_2018_relative": early["relative"],
        "did_2019_vintage324_relative": vintage["relative"],
        "its_relative": its61["relative"], "its_low": its61["interval"][0],
        "its_high": its61["interval"][1], "its_p": its61["p_value"],
        "its59_relative": its59["relative"], "its_pre_trend": its61["pre_trend_per_year"],
        "pre_change_2017_2018": float(pre_ratio - 1),
        "raw_change_2016_17_vs_2018_22": float(raw_after / raw_before - 1),
        "dispersion": main["dispersion"], **{k: v for k, v in power.items()
                                             if isinstance(v, float)},
    }
    sv = lang == "sv"
    rows = []
    for label_en, label_sv, res, note_en, note_sv in (
        ("Poisson DiD, first year 2019", "Poisson-DiD, första år 2019", main,
         "main", "huvudanalys"),
        ("Poisson DiD, first year 2018", "Poisson-DiD, första år 2018", early,
         "start-year sensitivity", "känslighet för startår"),
        ("Poisson DiD, 2019, Sweden 2017 = 324", "Poisson-DiD, 2019, Sverige 2017 = 324",
         vintage, "2017 vintage (S04) instead of 281 (S01)",
         "årgång 2017 (S04) i stället för 281 (S01)"),
    ):
        rows.append({
            ("specifikation" if sv else "specification"): label_sv if sv else label_en,
            ("förändring" if sv else "change"): _pct(res["relative"], lang),
            ("95 % (Poisson)" if sv else "95% (Poisson)"):
                f"{_pct(res['interval_poisson'][0], lang)} … {_pct(res['interval_poisson'][1], lang)}",
            ("95 % (överspridning)" if sv else "95% (over-dispersed)"):
                f"{_pct(res['interval_quasi'][0], lang)} … {_pct(res['interval_quasi'][1], lang)}",
            ("not" if sv else "note"): note_sv if sv else note_en})
    for res, v16 in ((its61, 61), (its59, 59)):
        rows.append({
            ("specifikation" if sv else "specification"):
                (f"Räknedata-ITS, Malmö 2016–2022 (2016 = {v16})" if sv
                 else f"Count ITS, Malmö alone 2016–2022 (2016 = {v16})"),
            ("förändring" if sv else "change"): _pct(res["relative"], lang),
            ("95 % (Poisson)" if sv else "95% (Poisson)"):
                f"{_pct(res['interval'][0], lang)} … {_pct(res['interval'][1], lang)}",
            ("95 % (överspridning)" if sv else "95% (over-dispersed)"): "–",
            ("not" if sv else "note"): ("nivåskifte 2019, linjär trend från 3 år"
                                         if sv else "level change 2019, trend from 3 years")})
    estimates = pd.DataFrame(rows)
    n = numbers
    if sv:
        title = "Vad den offentliga statistiken säger"
        paragraphs = [
            "Det enda jämförande underlag som är offentligt är Malmös bekräftade skjutningar per "
            "år (Malmö stad med polisen som källa) och polisens nationella antal (polisens "
            "årliga PDF:er); övriga Sverige är riket minus Malmö, samma årgång. Det ger två "
            "enheter och sex år (2017–2022). Serierna har olika ursprung (lokalpolisens "
            "stadssiffror mot de nationella PDF:erna), och två siffror är omstridda: Malmö 2016 "
            "(61 eller 59) och riket 2017 (281 eller 324).",
            f"Jämfört med övriga Sverige minskade skjutningarna i Malmö med "
            f"{_pct(-abs(n['did_2019_relative']), lang).lstrip('−')} med 2019 som första "
            f"behandlade år (kvot {_num(n['did_2019_rate_ratio'], lang)}) och med "
            f"{_pct(-abs(n['did_2018_relative']), lang).lstrip('−')} med 2018 (kvot "
            f"{_num(n['did_2018_rate_ratio'], lang)}); med rikets äldre siffra för 2017 "
            f"{_pct(n['did_2019_vintage324_relative'], lang)}. Slumpmässig Poisson-variation "
            f"räcker inte för att förklara en så stor skillnad (95 % "
            f"{_pct(n['did_2019_low'], lang)} … {_pct(n['did_2019_high'], lang)}; med skattad "
            f"överspridning φ = {_num(n['dispersion'], lang, 1)}: {_pct(n['did_2019_quasi_low'], lang)} … "
            f"{_pct(n['did_2019_quasi_high'], lang)}).",
            f"Men minskningen började före programmet: redan från 2017 till 2018 (första "
            f"call-in var i oktober 2018) föll Malmös antal relativt övriga Sverige med "
            f"{abs(n['pre_change_2017_2018']) * 100:.0f} %, och "
            f"Malmö ensamt (räknedata-ITS 2016–2022) hade en nedåtgående trend "
            f"({_pct(n['its_pre_trend'], lang)} per år) och ett nivåskifte 2019 på "
            f"{_pct(n['its_relative'], lang)} (95 % {_pct(n['its_low'], lang)} … "
            f"{_pct(n['its_high'], lang)}).",
            f"Styrka: med dessa antal skulle en DiD med två enheter upptäcka en minskning på "
            f"37 % med sannolikhet {_num(n['power_poisson_rr063'], lang)} om bara Poisson-brus "
            f"fanns, och den minsta upptäckbara effekten (80 % styrka, 5 % nivå) är "
            f"{_pct(n['mde_poisson'] - 1, lang)} ({_pct(n['mde_quasi'] - 1, lang)} med "
            f"överspridning). Men det är en övre gräns: med en behandlad och en "
            f"jämförelseenhet finns bara en placebotilldelning, så det minsta möjliga "
            f"p-värdet i ett designbaserat test är 0,5 och styrkan på 5 %-nivån är noll.",
            "Slutsats: minskningen i Malmö är stor och större än i övriga Sverige, men med två "
            "enheter och sex år kan den offentliga statistiken inte skilja programmets effekt "
            "från allt annat som bara hände i Malmö (en nedgång som började 2018, polisens "
            "insats Rimfrost från november 2019, definitionsskillnader mellan serierna). "
            "Månadsdata per polisregion eller kommun (polisens PDF:er: `utvardering fetch "
            "police-shootings`, eller händelsefilen som lämnas ut på begäran) behövs för en "
            "syntetisk kontroll eller en DiD med många jämförelseenheter.",
            f"Som referens, inte som facit: utvärderingen (Malmö universitet för Brå, 2021) "
            f"fann {_pct(ref['change_jan2017_feb2020_pct'] / 100, lang)} från januari 2017 till februari "
            f"2020 ({ref['before_count']} skjutningar före mot {ref['after_count']} efter) men "
            f"kunde inte statistiskt tillskriva programmet nedgången; uppföljningen 2023 anger "
            f"i genomsnitt cirka {abs(ref['followup_2023_pct']):.0f} % färre skjutningar per år "
            f"sedan 2018. De offentliga årssiffrorna ger {_pct(n['raw_change_2016_17_vs_2018_22'], lang)}"
            f" (medel 2018–2022 mot 2016–2017), i linje med uppföljningen.",
        ]
    else:
        title = "What the public record says"
        paragraphs = [
            "The only comparison the public figures allow is Malmö's confirmed shootings per "
            "year (Malmö stad citing the Police) against the Police's national count (the "
            "yearly PDFs); the rest of Sweden is the national count minus Malmö, same vintage. "
            "That is two units and six years (2017–2022). The two series come from different "
            "publishers (the local police's city figures vs the national PDFs), and two "
            "figures conflict between vintages: Malmö 2016 (61 or 59) and Sweden 2017 (281 or "
            "324).",
            f"Relative to the rest of Sweden, Malmö's shootings fell by "
            f"{abs(n['did_2019_relative']) * 100:.0f}% with 2019 as the first treated year "
            f"(rate ratio {n['did_2019_rate_ratio']:.2f}) and by "
            f"{abs(n['did_2018_relative']) * 100:.0f}% with 2018 (rate ratio "
            f"{n['did_2018_rate_ratio']:.2f}); with the earlier national figure for 2017, "
            f"{_pct(n['did_2019_vintage324_relative'], lang)}. Poisson noise cannot explain a "
            f"difference this large (95% {_pct(n['did_2019_low'], lang)} to "
            f"{_pct(n['did_2019_high'], lang)}; allowing for the estimated over-dispersion, "
            f"φ = {n['dispersion']:.1f}, {_pct(n['did_2019_quasi_low'], lang)} to "
            f"{_pct(n['did_2019_quasi_high'], lang)}).",
            f"But the decline began before the programme: from 2017 to 2018 (the first call-in "
            f"was in October 2018) Malmö's count relative to the rest of Sweden already fell "
            f"by {abs(n['pre_change_2017_2018']) * 100:.0f}%, "
            f"and Malmö alone (count ITS, 2016–2022) had a downward trend "
            f"({_pct(n['its_pre_trend'], lang)} a year) and a level change in 2019 of "
            f"{_pct(n['its_relative'], lang)} (95% {_pct(n['its_low'], lang)} to "
            f"{_pct(n['its_high'], lang)}).",
            f"Power: with these counts a two-unit DiD would detect a 37% decrease with "
            f"probability {n['power_poisson_rr063']:.2f} if Poisson noise were all there is, "
            f"and its minimum detectable effect (80% power, 5% level) is "
            f"{_pct(n['mde_poisson'] - 1, lang)} ({_pct(n['mde_quasi'] - 1, lang)} with the "
            f"over-dispersion). That is an upper bound: with one treated and one comparison "
            f"unit there is a single placebo assignment, so the smallest p-value a "
            f"design-based test can give is 0.5 and its power at the 5% level is zero.",
            "Conclusion: the decline in Malmö is large and larger than in the rest of Sweden, "
            "but with two units and six years the public record cannot separate the "
            "programme's effect from anything else that happened only in Malmö (a fall that "
            "started in 2018, the police operation Rimfrost from November 2019, definitional "
            "differences between the series). Monthly data per police region or municipality "
            "(the Police's PDFs: `utvardering fetch police-shootings`, or the incident file "
            "released on request) are needed for a synthetic control or a DiD with many "
            "comparison units.",
            f"For reference, not as truth: the evaluation (Malmö University for Brå, 2021) "
            f"found {_pct(ref['change_jan2017_feb2020_pct'] / 100, lang)} from January 2017 to February "
            f"2020 ({ref['before_count']} shootings before vs {ref['after_count']} after) but "
            f"could not attribute the fall to the programme statistically; the 2023 follow-up "
            f"reports about {abs(ref['followup_2023_pct']):.0f}% fewer shootings per year "
            f"since 2018. The public annual figures give "
            f"{_pct(n['raw_change_2016_17_vs_2018_22'], lang)} (mean 2018–2022 vs 2016–2017), "
            "in line with the follow-up.",
        ]
    return PublicRecordSection(
        lang=lang, title=title, paragraphs=paragraphs, panel=panel, estimates=estimates,
        power=power, reference=ref, numbers=numbers,
        sources=["S01", "S04", "S36", "S37", "S48", "S49", "S50", "S51"])


_REQUESTS = {
    "ordningsvakter_mollevangen": {
        "en": ("What real data exist for Möllevången: the public record holds the programme "
               "facts (guards from 14 June 2021, five guards, a guard visible every 20–60 "
               "minutes; load_public_record('programme_facts')) and Malmö's city-level safety "
               "survey (problem index 2.27 in 2021 and 2.41 in 2022, victimisation and worry "
               "2019–2021; load_public_record('trygghet_malmo')), but no area-level series: "
               "neither reported crime by stadsdel nor survey results for Möllevången are "
               "public. An analyst must request the police incident file (offence, date, "
               "coordinates) or Brå's monthly counts by stadsdel (statistik.bra.se), and the "
               "safety survey's area tables or micro-data from the police (Region Syd) and "
               "Malmö stad. Read them with utvardering.data.sources (read_bra_export, "
               "incidents_to_panel, read_survey_microdata), save the panel as CSV, and point "
               "the analysis at it: utvardering run ordningsvakter_mollevangen --config "
               "my_data.toml, where the TOML overrides the data keys of "
               "analyses/ordningsvakter_mollevangen.toml (the data file and its column "
               "names)."),
        "sv": ("Vilka verkliga data som finns för Möllevången: den offentliga statistiken "
               "innehåller programfakta (ordningsvakter från 14 juni 2021, fem vakter, en vakt "
               "synlig var 20–60:e minut; load_public_record('programme_facts')) och Malmös "
               "trygghetsmätning på stadsnivå (problemindex 2,27 år 2021 och 2,41 år 2022, "
               "utsatthet och oro 2019–2021; load_public_record('trygghet_malmo')), men inga "
               "serier per område: varken anmälda brott per stadsdel eller "
               "trygghetsmätningen för Möllevången är offentliga. En analytiker behöver begära "
               "ut polisens händelsefil (brott, datum, koordinater) eller Brås månadsantal per "
               "stadsdel (statistik.bra.se), och trygghetsmätningens områdestabeller eller "
               "mikrodata från polisen (Region Syd) och Malmö stad. Läs in dem med "
               "utvardering.data.sources (read_bra_export, incidents_to_panel, "
               "read_survey_microdata), spara panelen som CSV och peka analysen mot den: "
               "utvardering run ordningsvakter_mollevangen --config mina_data.toml, där "
               "TOML-filen ersätter datanycklarna i analyses/ordningsvakter_mollevangen.toml "
               "(datafilen och dess kolumnnamn)."),
    },
    "drogfri_skola": {
        "en": ("What real data exist for Drogfri skola: only programme facts (12 dog searches "
               "in spring 2019 with marking or interest at 7 schools, about 20 searches over "
               "2019, no drugs found; load_public_record('programme_facts')). The schools were "
               "not named and no outcome series is public. An analyst must request the search "
               "dates per (pseudonymised) school from Malmö stad and the police, reported drug "
               "and other offences at or near each school (the police incident file, or Brå's "
               "counts for the surrounding areas), and the student survey's micro-data with "
               "weights (Malmö stad; restricted, aggregate results only). Read them with "
               "utvardering.data.sources (incidents_to_panel, read_survey_microdata), save "
               "the panels as CSV and run utvardering run drogfri_skola --config my_data.toml, "
               "where the TOML overrides the data keys of analyses/drogfri_skola.toml."),
        "sv": ("Vilka verkliga data som finns för Drogfri skola: bara programfakta (12 sök med "
               "narkotikahund våren 2019 med markering eller intresse vid 7 skolor, ett 20-tal "
               "sök under 2019, ingen narkotika hittad; load_public_record('programme_facts')). "
               "Skolorna namngavs inte och inga utfallsserier är offentliga. En analytiker "
               "behöver begära ut sökdatum per (pseudonymiserad) skola från Malmö stad och "
               "polisen, anmälda narkotikabrott och andra brott vid eller nära skolorna "
               "(polisens händelsefil eller Brås antal för omgivande områden) och "
               "elevenkätens mikrodata med vikter (Malmö stad; skyddade, bara aggregat "
               "publiceras). Läs in dem med utvardering.data.sources (incidents_to_panel, "
               "read_survey_microdata), spara panelerna som CSV och kör utvardering run "
               "drogfri_skola --config mina_data.toml, där TOML-filen ersätter datanycklarna i "
               "analyses/drogfri_skola.toml."),
    },
}


def data_request_paragraph(analysis: str, lang: str = "en") -> str:
    """One paragraph: which real figures exist for an evaluation and what data to request.

    Parameters
    ----------
    analysis : {"ordningsvakter_mollevangen", "drogfri_skola"}
    lang : {"en", "sv"}

    Returns
    -------
    str
    """
    if analysis not in _REQUESTS or lang not in ("en", "sv"):
        raise ValueError(f"analysis must be one of {sorted(_REQUESTS)} and lang 'en' or 'sv'.")
    return _REQUESTS[analysis][lang]


def add_public_record_section(report, analysis: str) -> None:
    """Append "What the public record says" to an analysis report (a few lines in each script).

    Parameters
    ----------
    report : utvardering.report.document.Report
        The report being written (its ``lang`` chooses English or Swedish).
    analysis : {"sluta_skjut", "ordningsvakter_mollevangen", "drogfri_skola"}
        Sluta skjut gets the full section (:func:`sluta_skjut_public_section`: text, the real
        annual panel and the estimates); the other two one paragraph on which real figures
        exist and what data to request (:func:`data_request_paragraph`).
    """
    lang = getattr(report, "lang", "en")
    lang = lang if lang in ("en", "sv") else "en"
    if analysis == "sluta_skjut":
        section = sluta_skjut_public_section(lang)
        report.heading(section.title)
        for paragraph in section.paragraphs:
            report.text(paragraph)
        panel = section.panel.reset_index()
        report.table("public_record_panel", panel,
                     caption=("Offentliga årssiffror (källor: malmo_source, sweden_source)"
                              if lang == "sv" else
                              "Public annual figures (sources: malmo_source, sweden_source)"))
        report.table("public_record_estimates", section.estimates)
        return
    title = "Verkliga data" if lang == "sv" else "Real data"
    report.heading(title)
    report.text(data_request_paragraph(analysis, lang))
