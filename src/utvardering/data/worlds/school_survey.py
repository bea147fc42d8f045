"""Simulated yearly student survey in the schools of :func:`simulate_schools`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ...errors import DesignError
from ._common import (
    GENERATOR_VERSION,
    SeedLike,
    check_positive,
    jsonable,
    normalise_seed,
    spawn_streams,
)
from .schools import SCHOOL_STREAMS, school_structure
from .weights import poststratify

__all__ = ["simulate_school_survey"]

_SAFE_CUTS = np.array([-2.0, -0.5, 1.5])     # latent cut-points of the 1-4 item
_MALE_USE, _MALE_SAFE = 0.3, 0.3


def simulate_school_survey(
    *,
    seed: SeedLike = 2019,
    n_schools: int = 60,
    n_treated: int = 12,
    selection_on_trend: float = 0.0,
    prevalence_effect: float = 0.85,
    safety_effect: float = 0.0,
    years: tuple[int, int] = (2017, 2022),
    fieldwork_month: int = 10,
    response_rate: float = 0.8,
) -> pd.DataFrame:
    r"""Simulate a yearly student survey (drug use, feeling safe) in the simulated schools.

    The schools and their search dates are those of :func:`simulate_schools` with the same
    ``seed``, ``n_schools``, ``n_treated`` and ``selection_on_trend``. Every student of the
    surveyed grade (year 9 in ``grundskola``, year 2 in ``gymnasium``) is asked; a girl
    answers with probability ``response_rate`` + 0.03, a boy with ``response_rate`` − 0.03.
    For student :math:`r` of sex :math:`s` in school :math:`i` and year :math:`t`,

    .. math::

        p^0_{r} = \operatorname{logit}^{-1}\{\pi_i + \tfrac12 b_i (t - 2018) + 0.3\,M_r
            + \gamma_t\},\quad p^1_r = P\,p^0_r,\quad U_r(d) = \mathbf 1\{V_r < p^d_r\},

    with a uniform :math:`V_r` shared by both potential outcomes, :math:`b_i` the school's
    drug-offence trend and :math:`P` = ``prevalence_effect``. Feeling safe in school (1 = very
    unsafe … 4 = very safe) is ordinal logistic with location
    :math:`\sigma_i + \gamma'_t + 0.3\,M_r` shifted by ``safety_effect`` when treated.

    Parameters
    ----------
    seed : int or numpy.random.Generator, default 2019
        As in :func:`simulate_schools`; the same seed gives the same schools.
    n_schools, n_treated, selection_on_trend
        As in :func:`simulate_schools`.
    prevalence_effect : float, default 0.85
        :math:`P`, the ratio of the probability of drug use (last 12 months) once searched.
    safety_effect : float, default 0.0
        Latent shift of feeling safe in school once searched (0: no effect).
    years : tuple of int, default (2017, 2022)
        First and last survey year.
    fieldwork_month : int, default 10
        Month the survey is fielded; a school is treated in a year when its first search
        is on or before the first day of that month.
    response_rate : float, default 0.8
        Average response probability.

    Returns
    -------
    pandas.DataFrame
        One row per responding student: ``respondent``, ``unit`` (school id),
        ``school_type``, ``time`` (year, int), ``sex``, ``weight`` (students of the grade by
        sex / respondents by sex), ``first_search`` (monthly Period, NaT if never searched),
        ``treated``, ``drug_use``, ``drug_use_y0``, ``safe_school``, ``safe_school_y0``;
        ``df.attrs["truth"]`` holds the population effects.
    """
    what = "simulate_school_survey"
    check_positive(what, prevalence_effect=prevalence_effect)
    year_list = np.arange(years[0], years[1] + 1)
    if len(year_list) < 3 or not 1 <= fieldwork_month <= 12 or not 0.1 <= response_rate <= 0.95:
        raise DesignError(
            f"{what}: years={years}, fieldwork_month={fieldwork_month}, "
            f"response_rate={response_rate}: need at least 3 years, a month 1-12 and a "
            "response rate in [0.1, 0.95]."
        )
    streams = spawn_streams(seed, SCHOOL_STREAMS)
    st = school_structure(streams["structure"], n_schools, n_treated, selection_on_trend)
    rs = streams["survey"]
    n_s, n_y = n_schools, len(year_list)
    use_year, safe_year = rs.normal(0.0, 0.1, n_y), rs.normal(0.0, 0.1, n_y)
    fieldwork = pd.to_datetime([f"{y}-{fieldwork_month:02d}-01" for y in year_list])
    search = st.search_date.to_numpy()
    treated_sy = (~np.isnat(search))[:, None] & (search[:, None] <= fieldwork.to_numpy()[None, :])
    if not treated_sy.any() or treated_sy[:, 0].any():
        raise DesignError(f"{what}: years={years} must start before and include 2019 searches.")
    pop = np.stack([np.ceil(st.grade_size / 2), np.floor(st.grade_size / 2)], axis=1)  # (s, 2)
    pop = np.repeat(pop[:, None, :], n_y, axis=1)                         # (s, y, sex)
    male = np.array([0.0, 1.0])
    logit0 = (st.use_logit[:, None, None] + 0.5 * st.trend[:, None, None]
              * (year_list - 2018)[None, :, None] + _MALE_USE * male + use_year[None, :, None])
    p0 = special.expit(logit0)
    p1 = np.where(treated_sy[:, :, None], p0 * prevalence_effect, p0)
    if p1.max() >= 1:
        raise DesignError(f"{what}: prevalence_effect={prevalence_effect} pushes a probability "
                          "of drug use above 1; use a smaller ratio.")
    eta = st.safe_logit[:, None, None] + safe_year[None, :, None] + _MALE_SAFE * male
    shift = np.where(treated_sy[:, :, None], safety_effect, 0.0) * np.ones((1, 1, 2))

    resp_p = np.clip(response_rate + np.array([0.03, -0.03]), 0.01, 0.99)
    n_resp = rs.binomial(pop.astype(np.int64), resp_p)                    # (s, y, sex)
    flat = n_resp.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    i_s, rem = np.divmod(cell, n_y * 2)
    i_y, i_x = np.divmod(rem, 2)
    n = cell.size
    v = rs.random(n)
    use0 = (v < p0[i_s, i_y, i_x]).astype(np.int64)
    use1 = (v < p1[i_s, i_y, i_x]).astype(np.int64)
    z = eta[i_s, i_y, i_x] + rs.logistic(size=n)
    safe0 = 1 + (z[:, None] > _SAFE_CUTS[None, :]).sum(axis=1)
    safe1 = 1 + ((z + shift[i_s, i_y, i_x])[:, None] > _SAFE_CUTS[None, :]).sum(axis=1)
    weight = poststratify(i_s * n_y + i_y, i_x, i_x, pop.reshape(n_s * n_y, 2))
    treated = treated_sy[i_s, i_y].astype(np.int64)
    df = pd.DataFrame({
        "respondent": np.arange(1, n + 1, dtype=np.int64),
        "unit": st.ids[i_s],
        "school_type": st.school_type[i_s],
        "time": year_list[i_y].astype(np.int64),
        "sex": np.array(["female", "male"])[i_x],
        "weight": weight,
        "first_search": pd.PeriodIndex(st.first_search[i_s], freq="M"),
        "treated": treated,
        "drug_use": use1,
        "drug_use_y0": use0,
        "safe_school": safe1.astype(np.int64),
        "safe_school_y0": safe0.astype(np.int64),
    })

    tw = pop * treated_sy[:, :, None]                                       # treated population
    c = _SAFE_CUTS[1]
    safe_gap = special.expit(eta + shift - c) - special.expit(eta - c)
    by_year_use = (tw * (p1 - p0)).sum(axis=(0, 2)) / np.maximum(tw.sum(axis=(0, 2)), 1)
    tr = treated == 1
    w = weight[tr]
    df.attrs["truth"] = jsonable({
        "world": "school_survey",
        "function": "simulate_school_survey",
        "generator_version": GENERATOR_VERSION,
        "seed": normalise_seed(seed),
        "outcomes": ["drug_use", "safe_school >= 3"],
        "prevalence_effect": prevalence_effect,
        "safety_effect": safety_effect,
        "population_effect": float((tw * (p1 - p0)).sum() / tw.sum()),
        "population_effect_by_year": {int(y): float(by_year_use[j])
                                      for j, y in enumerate(year_list) if treated_sy[:, j].any()},
        "population_prevalence_y0": float((tw * p0).sum() / tw.sum()),
        "population_safety_effect": float((tw * safe_gap).sum() / tw.sum()),
        "realised_effect_weighted": float(np.sum(w * (use1 - use0)[tr]) / w.sum()),
        "realised_safety_effect_weighted": float(
            np.sum(w * ((safe1 >= 3).astype(float) - (safe0 >= 3))[tr]) / w.sum()),
        "n_respondents": int(n),
        "n_students": int(pop.sum()),
        "definitions": {
            "population_effect": "change in the share using drugs among all students of the "
                                 "surveyed grade in searched schools, years after the search "
                                 "(exact, on the model's probabilities)",
            "population_safety_effect": "the same for the share answering 3-4 on safe_school",
            "realised_effect_weighted": "sum of weight * (drug_use - drug_use_y0) / sum of "
                                        "weight over treated respondents",
        },
        "parameters": {
            "n_schools": n_schools, "n_treated": n_treated,
            "selection_on_trend": selection_on_trend, "years": list(years),
            "fieldwork_month": fieldwork_month, "response_rate": response_rate,
            "safe_cuts": _SAFE_CUTS,
        },
    })
    return df
