"""Data contracts for micro-data: survey responses and incidents.

Survey micro-data are repeated cross-sections of individuals (``respondent`` within
``unit`` and ``time``) with a ``weight`` and item responses (Likert or binary). Incidents
are one row per recorded event (``incident_id``, ``date``, ``offence``, ``unit``). Both are
validated here and leave the library only as aggregates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .timeparse import format_periods, parse_time

__all__ = ["SurveyData", "validate_incidents", "validate_survey"]


@dataclass
class SurveyData:
    """Validated survey micro-data (a copy).

    Attributes
    ----------
    data : pandas.DataFrame
        The responses, time parsed.
    respondent, unit, time, weight : str
        Column names.
    items : dict
        Item column → (lowest, highest) allowed answer.
    item_nonresponse : dict
        Item column → number of respondents who did not answer it (kept as missing).
    """

    data: pd.DataFrame
    respondent: str
    unit: str
    time: str
    weight: str
    items: dict
    item_nonresponse: dict


def _require_columns(data: pd.DataFrame, wanted: list[str], what: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame of {what}, got {type(data).__name__}.")
    missing = [c for c in dict.fromkeys(wanted) if c not in data.columns]
    if missing:
        raise DataError(
            f"{what}: missing column(s) {format_periods(missing)}; the data have columns "
            f"{format_periods(list(map(str, data.columns)), 40)}. Rename them or pass the names."
        )


def validate_survey(
    data: pd.DataFrame,
    *,
    respondent: str = "respondent",
    unit: str = "unit",
    time: str = "time",
    weight: str = "weight",
    items: Mapping[str, tuple[int, int]] | None = None,
) -> SurveyData:
    """Validate survey micro-data against the survey contract.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent and survey wave. Not modified.
    respondent, unit, time, weight : str
        Column names of the respondent id, area, survey period and survey weight.
    items : mapping of str to (int, int), optional
        Item columns and their allowed answer range, e.g. ``{"unsafe_evening": (1, 4),
        "victim": (0, 1)}``. Missing answers (item non-response) are allowed and counted.

    Returns
    -------
    SurveyData

    Raises
    ------
    DataError
        Missing columns; duplicate respondents within a period; weights that are missing,
        zero, negative or infinite; answers that are not whole numbers or lie outside their range.
    """
    items = dict(items or {})
    _require_columns(data, [respondent, unit, time, weight, *items], "survey responses")
    frame = data.copy()
    frame[time] = parse_time(frame[time], column=time)
    dup = frame.duplicated([respondent, time], keep=False)
    if dup.any():
        raise DataError(
            f"respondent id(s) {format_periods(frame.loc[dup, respondent].unique().tolist())} appear "
            f"more than once in the same survey period (column {respondent!r}); each respondent "
            "answers once per wave: remove duplicates or make the ids unique."
        )
    w = pd.to_numeric(frame[weight], errors="coerce")
    bad_w = w.isna() | (w <= 0) | np.isinf(w)
    if bad_w.any():
        kinds = []
        for label, mask in (("missing or non-numeric", w.isna()), ("zero", w == 0),
                            ("negative", (w < 0) & ~np.isinf(w)), ("infinite", np.isinf(w))):
            if mask.any():
                kinds.append(f"{label} for {int(mask.sum())}")
        raise DataError(
            f"survey weight column {weight!r} is {', '.join(kinds)} respondent(s), e.g. "
            f"{format_periods(frame.loc[bad_w, respondent].tolist())}. Weights must be positive and "
            "finite: fix the weighting, or drop respondents outside the population explicitly."
        )
    frame[weight] = w.astype(float)
    nonresponse = {}
    for item, (low, high) in items.items():
        values = pd.to_numeric(frame[item], errors="coerce")
        text_bad = values.isna() & frame[item].notna()
        answered = values.notna()
        fractional = answered & (np.isinf(values) | ~np.isclose(values, np.round(values)))
        outside = answered & ((values < low) | (values > high))
        bad = text_bad | fractional | outside
        if bad.any():
            raise DataError(
                f"item {item!r} must be a whole number from {low} to {high}; respondent(s) "
                f"{format_periods(frame.loc[bad, respondent].tolist())} answered "
                f"{format_periods(frame.loc[bad, item].tolist())}. Recode those answers (e.g. "
                "'don't know' to missing) or declare the right range."
            )
        frame[item] = values
        nonresponse[item] = int((~answered).sum())
    return SurveyData(frame, respondent, unit, time, weight, items, nonresponse)


def validate_incidents(
    data: pd.DataFrame,
    *,
    incident_id: str = "incident_id",
    date: str = "date",
    offence: str = "offence",
    unit: str = "unit",
) -> pd.DataFrame:
    """Validate incident rows and return a copy with ``date`` parsed to timestamps.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per incident. Not modified.
    incident_id, date, offence, unit : str
        Column names.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        Missing columns, duplicate incident ids, unparseable dates or missing units.
    """
    _require_columns(data, [incident_id, date, offence, unit], "incidents")
    frame = data.copy()
    dup = frame[incident_id].duplicated(keep=False)
    if dup.any():
        raise DataError(
            f"incident id(s) {format_periods(frame.loc[dup, incident_id].unique().tolist())} occur "
            f"more than once in column {incident_id!r}; each incident is counted once."
        )
    parsed = pd.to_datetime(frame[date], errors="coerce")
    bad = parsed.isna()
    if bad.any():
        raise DataError(
            f"column {date!r} has dates that do not parse for incident(s) "
            f"{format_periods(frame.loc[bad, incident_id].tolist())}: "
            f"{format_periods(frame.loc[bad, date].tolist())}. Use ISO dates (YYYY-MM-DD)."
        )
    frame[date] = parsed
    no_unit = frame[unit].isna()
    if no_unit.any():
        raise DataError(
            f"incident(s) {format_periods(frame.loc[no_unit, incident_id].tolist())} have no "
            f"{unit!r}; geocode them or assign them to an area before aggregating."
        )
    return frame
