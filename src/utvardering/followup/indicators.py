"""Indicators for the annual follow-up and their design-based estimates per area × year.

A survey indicator is a weighted share (an item at or above a threshold, e.g. "fairly or
very unsafe") or a weighted mean (e.g. the problem index, the mean of the local-problem
items). Each area × year gets the weighted estimate, a linearisation standard error that
respects the weights (and optional strata), Kish's design effect and effective sample size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..data.schema_micro import SurveyData
from ..errors import DataError
from ..options import check_level

__all__ = [
    "COUNT_INDICATORS",
    "SURVEY_INDICATORS",
    "Indicator",
    "survey_estimates",
    "weighted_estimates",
]


@dataclass(frozen=True)
class Indicator:
    """One follow-up indicator.

    Parameters
    ----------
    name : str
        Identifier used in tables.
    column : str
        Survey item column (survey indicators) or count column (count indicators).
    kind : {"share", "mean", "rate"}
        Weighted share of respondents with ``column >= threshold``, weighted mean of
        ``column``, or a count per ``per`` residents.
    threshold : float, optional
        For shares: answers at or above it count as 1 (``None``: the item is already 0/1).
    label_en, label_sv : str
        Labels in the report.
    higher_is_worse : bool, default True
        Whether an increase is a deterioration (for the wording of the report).
    per : int, default 100_000
        Rate denominator for count indicators.
    """

    name: str
    column: str
    kind: str
    threshold: float | None = None
    label_en: str = ""
    label_sv: str = ""
    higher_is_worse: bool = True
    per: int = 100_000

    def label(self, lang: str = "en") -> str:
        """The label in ``lang`` (falls back to the name)."""
        return (self.label_sv if lang == "sv" else self.label_en) or self.name


#: The safety survey's indicators as coded in the simulated annual world.
SURVEY_INDICATORS: tuple[Indicator, ...] = (
    Indicator("unsafe_evening", "unsafe_evening", "share", 3, "Feels unsafe out late in own area",
              "Otrygg ute sent i eget område"),
    Indicator("worried_crime", "worried_crime", "share", 3, "Worried about being a victim of crime",
              "Orolig för att utsättas för brott"),
    Indicator("refrained_activity", "refrained_activity", "share", None,
              "Refrained from an activity out of fear", "Avstått från aktivitet av rädsla"),
    Indicator("victim_any", "victim_any", "share", None, "Victim of any crime (12 months)",
              "Utsatt för brott (12 mån)"),
    Indicator("victim_violence", "victim_violence", "share", None, "Victim of violence (12 months)",
              "Utsatt för våld (12 mån)"),
    Indicator("victim_theft", "victim_theft", "share", None, "Victim of theft (12 months)",
              "Utsatt för stöld (12 mån)"),
    Indicator("problem_index", "problem_index", "mean", None, "Problem index (0-6)",
              "Problemindex (0-6)"),
)
#: Police counts in the simulated annual world.
COUNT_INDICATORS: tuple[Indicator, ...] = (
    Indicator("violence", "violence", "rate", label_en="Reported violence per 100,000",
              label_sv="Anmält våld per 100 000"),
    Indicator("burglary", "burglary", "rate", label_en="Reported residential burglary per 100,000",
              label_sv="Anmälda bostadsinbrott per 100 000"),
    Indicator("robbery", "robbery", "rate", label_en="Reported robbery per 100,000",
              label_sv="Anmälda rån per 100 000"),
)


def weighted_estimates(
    y: np.ndarray,
    w: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    strata: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    r"""Weighted means per group with linearisation standard errors and Kish design effects.

    For group :math:`g` with respondents :math:`r` (those with a non-missing ``y``),

    .. math::

        \hat\theta_g = \frac{\sum_r w_r y_r}{\sum_r w_r},\qquad
        \widehat{V}(\hat\theta_g) = \sum_h \frac{n_h}{n_h - 1}\sum_{r \in h}(z_r - \bar z_h)^2,
        \quad z_r = \frac{w_r (y_r - \hat\theta_g)}{\sum_r w_r},

    the with-replacement Taylor linearisation of a ratio estimator within strata :math:`h`
    (one stratum per group when ``strata`` is ``None``; Lumley 2010, sec. 2.2 and 3.1).
    Kish's design effect of unequal weighting is :math:`d_g = n_g \sum w_r^2 / (\sum w_r)^2`
    and the effective sample size :math:`n_g / d_g`.

    Parameters
    ----------
    y, w : ndarray
        Answers (NaN = item non-response, left out) and positive weights.
    group : ndarray of int
        Group code ``0..n_groups-1`` of each respondent.
    n_groups : int
    strata : ndarray of int, optional
        Stratum code of each respondent (strata nested in or crossing the groups).

    Returns
    -------
    dict of ndarray
        ``n``, ``sum_w``, ``estimate``, ``se``, ``deff_kish``, ``n_eff`` (NaN where a group
        has no answers; ``se`` NaN where it has one).

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley. Lumley, T. (2010). *Complex Surveys*. Wiley.
    """
    ok = ~np.isnan(y)
    y, w, group = y[ok], w[ok], group[ok]
    n = np.bincount(group, minlength=n_groups).astype(float)
    sw = np.bincount(group, w, minlength=n_groups)
    sw2 = np.bincount(group, w * w, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.bincount(group, w * y, minlength=n_groups) / sw
        z = w * (y - est[group]) / sw[group]
        if strata is None:
            cell, n_cells, cell_group = group, n_groups, np.arange(n_groups)
        else:
            s = np.asarray(strata)[ok].astype(np.int64)
            base = int(s.max()) + 1
            codes, cell = np.unique(group.astype(np.int64) * base + s, return_inverse=True)
            n_cells, cell_group = len(codes), codes // base
        n_h = np.bincount(cell, minlength=n_cells).astype(float)
        zbar = np.bincount(cell, z, minlength=n_cells) / n_h
        ss = np.bincount(cell, (z - zbar[cell]) ** 2, minlength=n_cells)
        contrib = np.where(n_h > 1, n_h / np.maximum(n_h - 1, 1) * ss, 0.0)
        var = np.bincount(cell_group, contrib, minlength=n_groups)
        var = np.where(n > 1, var, np.nan)
        deff = n * sw2 / sw**2
        n_eff = n / deff
    return {"n": n, "sum_w": sw, "estimate": est, "se": np.sqrt(var), "deff_kish": deff,
            "n_eff": n_eff}


def _as_survey(survey) -> tuple[pd.DataFrame, str, str, str]:
    if isinstance(survey, SurveyData):
        return survey.data, survey.unit, survey.time, survey.weight
    if isinstance(survey, pd.DataFrame):
        return survey, "unit", "time", "weight"
    raise DataError(f"survey must be a SurveyData (utvardering.data.schema_micro.validate_survey) "
                    f"or a DataFrame with columns unit, time, weight; got {type(survey).__name__}.")


def survey_estimates(
    survey,
    indicators: Sequence[Indicator] = SURVEY_INDICATORS,
    *,
    strata: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted design-based estimates for every area × year × indicator, and the city.

    Parameters
    ----------
    survey : SurveyData or pandas.DataFrame
        Validated survey micro-data (a DataFrame must have ``unit``, ``time``, ``weight``).
    indicators : sequence of Indicator
        Survey indicators (kind ``"share"`` or ``"mean"``).
    strata : str, optional
        Column of design strata within areas (e.g. sampling strata); default none. City
        rows always treat the areas as strata (the sample is drawn area by area).
    level : float, default 0.95
        Coverage of the confidence intervals.

    Returns
    -------
    pandas.DataFrame
        One row per ``unit`` × ``time`` × ``indicator`` (plus ``unit == "City"`` rows):
        ``kind``, ``n`` (respondents who answered the item), ``n_missing`` (item
        non-response), ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff_kish``,
        ``n_eff``. Share intervals are Wilson intervals on the Kish effective sample size;
        mean intervals are normal.
    """
    level = check_level(level)
    frame, unit, time, weight = _as_survey(survey)
    for col in (unit, time, weight):
        if col not in frame.columns:
            raise DataError(f"survey data have no column {col!r}; columns: {list(frame.columns)}.")
    units = pd.Index(sorted(frame[unit].unique()))
    times = pd.Index(sorted(frame[time].unique()))
    ui = units.get_indexer(frame[unit])
    ti = times.get_indexer(frame[time])
    n_u, n_t = len(units), len(times)
    group = ui * n_t + ti
    w = frame[weight].to_numpy(float)
    strata_codes = None
    if strata is not None:
        if strata not in frame.columns:
            raise DataError(f"strata column {strata!r} is not in the survey data.")
        strata_codes = pd.factorize(frame[strata])[0]
    out = []
    for ind in indicators:
        if ind.column not in frame.columns:
            raise DataError(
                f"indicator {ind.name!r} needs survey column {ind.column!r}, which is missing; "
                f"columns are {list(frame.columns)}. Pass indicators= matching the data.")
        if ind.kind not in ("share", "mean"):
            raise DataError(f"indicator {ind.name!r} has kind {ind.kind!r}; survey indicators are "
                            "'share' or 'mean'.")
        raw = pd.to_numeric(frame[ind.column], errors="coerce").to_numpy(float)
        if ind.kind == "share":
            y = np.where(np.isnan(raw), np.nan, (raw >= ind.threshold) if ind.threshold is not None else raw)
            bad = ~np.isnan(y) & ~np.isin(y, (0.0, 1.0))
            if bad.any():
                raise DataError(f"indicator {ind.name!r}: column {ind.column!r} must be 0/1 (or give a "
                                f"threshold); found {np.unique(y[bad])[:5]}.")
        else:
            y = raw
        missing_by = np.bincount(group[np.isnan(y)], minlength=n_u * n_t)
        res = weighted_estimates(y, w, group, n_u * n_t, strata_codes)
        block = pd.DataFrame({"unit": np.repeat(units, n_t), "time": np.tile(times, n_u),
                              "indicator": ind.name, "kind": ind.kind, **res,
                              "n_missing": missing_by})
        city = weighted_estimates(y, w, ti, n_t, ui)
        city_block = pd.DataFrame({"unit": "City", "time": times, "indicator": ind.name,
                                   "kind": ind.kind, **city,
                                   "n_missing": np.bincount(ti[np.isnan(y)], minlength=n_t)})
        out += [block, city_block]
    table = pd.concat(out, ignore_index=True)
    table = table[table["n"] > 0].reset_index(drop=True)
    low, high = _intervals(table, level)
    table["ci_low"], table["ci_high"] = low, high
    table["n"] = table["n"].astype(np.int64)
    table["n_missing"] = table["n_missing"].astype(np.int64)
    cols = ["unit", "time", "indicator", "kind", "n", "n_missing", "estimate", "se", "ci_low",
            "ci_high", "deff_kish", "n_eff", "sum_w"]
    return table[cols]


def _intervals(table: pd.DataFrame, level: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(0.5 + level / 2)
    est, se = table["estimate"].to_numpy(float), table["se"].to_numpy(float)
    low, high = est - z * se, est + z * se
    share = (table["kind"] == "share").to_numpy()
    # Wilson on the Kish effective sample size for shares (Korn & Graubard 1998 use the
    # design-effect-adjusted n in the same way); stays inside [0, 1] and is sane at 0 and 1.
    n = table["n_eff"].to_numpy(float)
    p = est
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    low = np.where(share, centre - half, low)
    high = np.where(share, centre + half, high)
    return low, high
