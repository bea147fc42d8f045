"""The real city-level Malmö survey values (public figures) as a follow-up example.

Only city totals are public (no area tables), so the example tests year-on-year changes of
the city's shares with the published number of respondents and an *assumed* Kish design
effect, and states for the problem index how small the respondents' standard deviation
would have to be for the published change to be beyond noise.
"""

from __future__ import annotations

import itertools
from importlib import resources

import numpy as np
import pandas as pd
from scipy import stats

from .changes import benjamini_hochberg

__all__ = ["city_change_example", "load_city_survey"]

_SHARES = {
    "pct_not_victimised_12m": ("Not victimised (12 months)", "Inte utsatt för brott (12 mån)"),
    "pct_physical_violence_12m": ("Victim of physical violence", "Utsatt för fysiskt våld"),
    "pct_theft_12m": ("Victim of theft", "Utsatt för stöld"),
    "pct_worried_any_crime": ("Worried about crime", "Orolig för brott"),
    "pct_refrained_activity_fear": ("Refrained from an activity", "Avstått från aktivitet"),
    "pct_problem_people_fighting_outdoors": ("Problem: people fighting outdoors",
                                             "Problem: personer som bråkar utomhus"),
    "pct_problem_drug_affected_outdoors": ("Problem: drug-affected people outdoors",
                                           "Problem: narkotikapåverkade utomhus"),
    "pct_problem_women_harassed": ("Problem: women harassed", "Problem: kvinnor antastas"),
}


def load_city_survey() -> pd.DataFrame:
    """The bundled public Malmö survey values with their sources (see ``data/README.md``)."""
    path = resources.files("utvardering.followup").joinpath("data/malmo_city_survey.csv")
    with resources.as_file(path) as file:
        frame = pd.read_csv(file)
    frame["period"] = frame["period"].astype(int)
    return frame


def _respondents(table: pd.DataFrame) -> dict[int, float]:
    """Respondents per year: published counts, else sample × response rate, else ~3,700."""
    out: dict[int, float] = {}
    get = {(m, p): v for m, p, v in table[["measure", "period", "value"]].itertuples(index=False)}
    for year in sorted(set(table["period"])):
        if ("survey_respondents", year) in get:
            out[year] = get[("survey_respondents", year)]
        elif ("survey_sample_size", year) in get and ("survey_response_rate_pct", year) in get:
            out[year] = get[("survey_sample_size", year)] * get[("survey_response_rate_pct", year)] / 100
        elif ("survey_response_rate_pct", year) in get:
            out[year] = 7000 * get[("survey_response_rate_pct", year)] / 100
        elif ("survey_sample_size", year) in get:
            out[year] = get[("survey_sample_size", year)] * 0.5
        else:
            out[year] = 3700.0
    return out


def city_change_example(deff: float = 1.3, fdr: float = 0.10, lang: str = "en") -> tuple[pd.DataFrame, dict]:
    """Year-on-year changes of Malmö's published survey shares, tested beyond sampling noise.

    Parameters
    ----------
    deff : float, default 1.3
        Assumed Kish design effect of the survey weights (the micro-data are not public).
    fdr : float, default 0.10
        False discovery rate across the tested changes.
    lang : {"en", "sv"}

    Returns
    -------
    table : pandas.DataFrame
        ``measure``, ``label``, ``from``, ``to``, ``value_from``, ``value_to``, ``change``
        (percentage points), ``se`` (points), ``p_value``, ``q_value``, ``real`` and the
        ``sources``.
    problem_index : dict
        The published change of the problem index and the largest respondent-level standard
        deviation for which that change would be significant at 5 % (the test needs it).
    """
    table = load_city_survey()
    resp = _respondents(table)
    rows = []
    for measure, labels in _SHARES.items():
        sub = table[table["measure"] == measure].drop_duplicates("period", keep="last").sort_values("period")
        years = sub["period"].tolist()
        for y0, y1 in itertools.pairwise(years):
            if y1 != y0 + 1:
                continue
            p0 = float(sub.loc[sub["period"] == y0, "value"].iloc[0]) / 100
            p1 = float(sub.loc[sub["period"] == y1, "value"].iloc[0]) / 100
            n0, n1 = resp[y0] / deff, resp[y1] / deff
            se = np.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
            p_value = 2 * stats.norm.sf(abs(p1 - p0) / se)
            rows.append({"measure": measure, "label": labels[1 if lang == "sv" else 0], "from": y0,
                         "to": y1, "value_from": 100 * p0, "value_to": 100 * p1,
                         "change": 100 * (p1 - p0), "se": 100 * se, "p_value": p_value,
                         "sources": ", ".join(sorted(set(sub["source_id"])))})
    out = pd.DataFrame(rows)
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy())
    out["real"] = out["q_value"] <= fdr
    pi = table[table["measure"] == "problemindex"].sort_values("period")
    pi = pi[pi["period"].isin([2021, 2022])]
    v21, v22 = (float(pi.loc[pi["period"] == y, "value"].iloc[0]) for y in (2021, 2022))
    n21, n22 = resp[2021] / deff, resp[2022] / deff
    s_max = abs(v22 - v21) / (stats.norm.ppf(0.975) * np.sqrt(1 / n21 + 1 / n22))
    problem = {"from": 2021, "to": 2022, "value_from": v21, "value_to": v22, "change": v22 - v21,
               "respondents": {2021: resp[2021], 2022: resp[2022]}, "deff": deff,
               "max_sd_for_significance": float(s_max), "sources": "S62"}
    return out, problem
