"""Simulated yearly local safety survey (repeated cross-sections) around Möllevången."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special

from ...errors import DesignError
from ._common import GENERATOR_VERSION, SeedLike, jsonable, normalise_seed, spawn_streams
from .malmo_areas import AREA_NAMES, DEFAULT_NEIGHBOURS, TREATED_AREA, area_table
from .weights import poststratify

__all__ = ["AGE_GROUPS", "PROBLEM_ITEMS", "simulate_safety_survey"]

AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("16-24", 16, 24), ("25-44", 25, 44), ("45-64", 45, 64), ("65-85", 65, 85),
)
PROBLEM_ITEMS: tuple[str, ...] = (
    "problem_drugs", "problem_litter", "problem_vandalism", "problem_loitering",
    "problem_disturbance",
)
_STREAMS = ("structure", "sample", "outcome")
_AGE_SHARE = np.array([0.13, 0.38, 0.30, 0.19])           # city profile, ages 16-85
_YOUTH_LOADING = np.array([1.0, 0.5, -0.3, -0.8])
_FEMALE_SHARE = np.array([0.49, 0.49, 0.50, 0.55])
_UNSAFE_CUTS = np.array([-0.5, 1.0, 2.5])                 # latent cut-points, items 1-4
_UNSAFE_AGE = np.array([0.1, 0.0, 0.05, 0.3])
_UNSAFE_FEMALE, _UNSAFE_VICTIM = 1.0, 0.7
_VICTIM_AGE = np.array([0.5, 0.2, -0.2, -0.7])
_PROBLEM_CUTS = np.array([-0.6, 0.6, 1.8, 3.0])           # items 1-5
_PROBLEM_ITEM_SHIFT = np.array([0.0, 0.5, 0.0, 0.2, -0.2])


def _unsafe_share_change(eta: np.ndarray, w: np.ndarray, shift: float) -> float:
    """Population change in P(item >= 3) when the latent location moves by ``-shift``."""
    c = _UNSAFE_CUTS[1]
    return float(np.sum(w * (special.expit(eta - shift - c) - special.expit(eta - c))) / w.sum())


def simulate_safety_survey(
    *,
    seed: SeedLike = 2022,
    effect: float = -0.08,
    problem_effect: float = -0.3,
    start: str = "2021-06-14",
    end: str = "2022-12-31",
    fieldwork_month: int = 10,
    years: tuple[int, int] = (2017, 2023),
    n_comparison: int = 24,
    n_sampled: int = 300,
    response_intercept: float = 0.25,
) -> pd.DataFrame:
    r"""Simulate the police's yearly local safety survey in Möllevången and other areas.

    Each year ``n_sampled`` residents aged 16–85 are sampled per area (design weight
    :math:`N_{at}/n`); respondent :math:`r` answers with probability
    :math:`\operatorname{logit}^{-1}\{\alpha + 0.035(\text{age}-50) - 0.15\,\text{male} + u_a\}`
    (older people answer more often). Feeling unsafe outdoors in the evening is ordinal:

    .. math::

        z^{0}_{r} = \alpha_a + \gamma_t + \beta_{g(r)} + \beta_F F_r + \beta_V V_r,\quad
        Y_r(d) = 1 + \sum_{c=1}^{3} \mathbf 1\{z^0_r - d\,\Delta_t + \varepsilon_r > \kappa_c\},

    with :math:`\varepsilon_r` standard logistic and shared by both potential outcomes.
    :math:`\Delta_t` is solved so that the share of Möllevången's population answering 3 or 4
    ("fairly" or "very unsafe") changes by exactly ``effect`` in each treated year.

    Parameters
    ----------
    seed : int or numpy.random.Generator, default 2022
        Seed for ``numpy.random.default_rng``; structure, sampling and answers use
        independent spawned child streams.
    effect : float, default -0.08
        True change (absolute share) in Möllevången's population share feeling unsafe.
    problem_effect : float, default -0.3
        Latent (logit-scale) shift of the five local-problem items for treated respondents.
    start, end : str, default "2021-06-14", "2022-12-31"
        Days the guards were in force; a survey year is treated when its fieldwork
        (the first day of ``fieldwork_month``) falls inside.
    fieldwork_month : int, default 10
        Month the postal survey is fielded (autumn).
    years : tuple of int, default (2017, 2023)
        First and last survey year.
    n_comparison : int, default 24
        Number of comparison areas (besides Möllevången and its neighbours).
    n_sampled : int, default 300
        Residents sampled per area and year.
    response_intercept : float, default 0.25
        :math:`\alpha` of the response model (about 50% respond).

    Returns
    -------
    pandas.DataFrame
        One row per respondent: ``respondent``, ``unit``, ``time`` (year, int),
        ``age``, ``age_group``, ``sex``, ``design_weight``, ``weight`` (post-stratified to
        the area's population by age group × sex), ``treated``, ``neighbour``,
        ``unsafe_evening`` (1 = very safe … 4 = very unsafe), ``unsafe_evening_y0``, the
        problem items (1 = no problem … 5 = very big problem), ``problem_index`` (their
        mean), ``problem_index_y0`` and ``victim``. ``df.attrs["truth"]`` holds the effects.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 7.
    """
    what = "simulate_safety_survey"
    year_list = np.arange(years[0], years[1] + 1)
    if len(year_list) < 3 or not 1 <= fieldwork_month <= 12 or n_sampled < 20:
        raise DesignError(
            f"{what}: years={years}, fieldwork_month={fieldwork_month}, n_sampled={n_sampled}"
            " need at least 3 years, a month 1-12 and at least 20 sampled per area."
        )
    fieldwork = pd.to_datetime([f"{y}-{fieldwork_month:02d}-01" for y in year_list])
    treated_year = (fieldwork >= pd.Timestamp(start)) & (fieldwork <= pd.Timestamp(end))
    if not treated_year.any() or treated_year[0]:
        raise DesignError(
            f"{what}: no pre- and post-survey years for start={start}, end={end} with "
            f"fieldwork in month {fieldwork_month} of {years[0]}..{years[1]}; adjust them."
        )
    streams = spawn_streams(seed, _STREAMS)
    rs = streams["structure"]

    # --- areas and their populations (structure) ---
    population, _ = area_table(rs)
    others = [i for i, n in enumerate(AREA_NAMES)
              if n != TREATED_AREA and n not in DEFAULT_NEIGHBOURS and population[i] >= 1500]
    if not 1 <= n_comparison <= len(others):
        raise DesignError(f"{what}: n_comparison={n_comparison} must be 1..{len(others)}.")
    comp = np.sort(rs.choice(others, n_comparison, replace=False))
    idx = np.concatenate([[AREA_NAMES.index(TREATED_AREA)],
                          [AREA_NAMES.index(n) for n in DEFAULT_NEIGHBOURS], comp])
    names = np.array(AREA_NAMES)[idx]
    n_a, n_y, n_g = len(idx), len(year_list), len(AGE_GROUPS)
    role = np.array([2] + [1] * len(DEFAULT_NEIGHBOURS) + [0] * n_comparison)  # 2 treated
    youth = np.where(role == 2, 0.6, np.where(role == 1, 0.3, rs.normal(0.0, 0.3, n_a)))
    alpha = np.where(role == 2, 0.15, np.where(role == 1, -0.05, rs.normal(-0.7, 0.4, n_a)))
    victim_area = np.where(role == 2, -1.1, np.where(role == 1, -1.4, rs.normal(-1.7, 0.3, n_a)))
    problem_area = np.where(role == 2, 0.8, np.where(role == 1, 0.4, rs.normal(-0.2, 0.5, n_a)))
    response_area = rs.normal(0.0, 0.2, n_a)
    year_effect = rs.normal(0.0, 0.08, n_y)
    age_share = _AGE_SHARE[None, :] * np.exp(youth[:, None] * _YOUTH_LOADING[None, :])
    age_share /= age_share.sum(axis=1, keepdims=True)
    sex_share = np.stack([_FEMALE_SHARE, 1 - _FEMALE_SHARE], axis=1)       # (g, s) female, male
    adults = 0.82 * population[idx][:, None] * 1.008 ** (year_list - 2019)[None, :]
    cells = np.rint(adults[:, :, None, None] * age_share[:, None, :, None]
                    * sex_share[None, None, :, :])                       # (a, y, g, s)

    # --- the population truth: latent shift per treated year (Möllevången) ---
    p_victim_cell = special.expit(victim_area[:, None, None, None] + _VICTIM_AGE[None, None, :, None]
                                  + np.zeros((1, n_y, 1, 2)))
    eta_cell = (alpha[:, None, None, None] + year_effect[None, :, None, None]
                + _UNSAFE_AGE[None, None, :, None] + _UNSAFE_FEMALE * np.array([1.0, 0.0]))
    shifts = np.zeros(n_y)
    pop_effect, pop_share0 = {}, {}
    for j in np.flatnonzero(treated_year):
        eta = np.concatenate([eta_cell[0, j].ravel(), (eta_cell[0, j] + _UNSAFE_VICTIM).ravel()])
        w = np.concatenate([(cells[0, j] * (1 - p_victim_cell[0, j])).ravel(),
                            (cells[0, j] * p_victim_cell[0, j]).ravel()])
        share0 = float(np.sum(w * special.expit(eta - _UNSAFE_CUTS[1])) / w.sum())
        if not -share0 < effect < 1 - share0:
            raise DesignError(
                f"{what}: effect={effect} is impossible in {year_list[j]}: the untreated share "
                f"unsafe is {share0:.3f}, so effect must lie in ({-share0:.3f}, {1 - share0:.3f})."
            )
        shifts[j] = optimize.brentq(lambda s, eta=eta, w=w: _unsafe_share_change(eta, w, s) - effect,
                                    -30.0, 30.0, xtol=1e-14)
        pop_effect[int(year_list[j])] = _unsafe_share_change(eta, w, shifts[j])
        pop_share0[int(year_list[j])] = share0

    # --- sampling and response ---
    rp = streams["sample"]
    cell_p = (cells / cells.sum(axis=(2, 3), keepdims=True)).reshape(n_a * n_y, n_g * 2)
    counts = rp.multinomial(n_sampled, cell_p)                           # (a*y, g*s)
    ay = np.repeat(np.arange(n_a * n_y), n_sampled)
    gs = np.concatenate([np.repeat(np.arange(n_g * 2), c) for c in counts])
    a_i, y_i = ay // n_y, ay % n_y
    g_i, s_i = gs // 2, gs % 2
    lo = np.array([g[1] for g in AGE_GROUPS])[g_i]
    hi = np.array([g[2] for g in AGE_GROUPS])[g_i]
    age = lo + np.floor(rp.random(len(ay)) * (hi - lo + 1)).astype(np.int64)
    p_resp = special.expit(response_intercept + 0.035 * (age - 50) - 0.15 * s_i + response_area[a_i])
    responded = rp.random(len(ay)) < p_resp

    # --- answers (outcome stream; drawn for every sampled person so CRN holds) ---
    ro = streams["outcome"]
    n_s = len(ay)
    victim = (ro.random(n_s) < p_victim_cell[a_i, y_i, g_i, s_i]).astype(np.int64)
    z0 = eta_cell[a_i, y_i, g_i, s_i] + _UNSAFE_VICTIM * victim + ro.logistic(size=n_s)
    treated = ((role[a_i] == 2) & treated_year[y_i]).astype(np.int64)
    unsafe0 = 1 + (z0[:, None] > _UNSAFE_CUTS[None, :]).sum(axis=1)
    unsafe1 = 1 + ((z0 - treated * shifts[y_i])[:, None] > _UNSAFE_CUTS[None, :]).sum(axis=1)
    q0 = (problem_area[a_i] + 0.5 * year_effect[y_i] + 0.3 * victim)[:, None] \
        + _PROBLEM_ITEM_SHIFT[None, :] + ro.normal(0.0, 0.8, n_s)[:, None] \
        + ro.logistic(size=(n_s, len(PROBLEM_ITEMS)))
    q0[:, 0] += np.where(role[a_i] == 2, 1.0, 0.0)                      # visible drug dealing
    items0 = 1 + (q0[:, :, None] > _PROBLEM_CUTS[None, None, :]).sum(axis=2)
    items1 = 1 + ((q0 + treated[:, None] * problem_effect)[:, :, None]
                  > _PROBLEM_CUTS[None, None, :]).sum(axis=2)

    keep = np.flatnonzero(responded)
    design_weight = (cells.sum(axis=(2, 3)).ravel()[ay] / n_sampled)[keep]
    weight = poststratify(ay[keep], gs[keep], s_i[keep], cells.reshape(n_a * n_y, n_g * 2))
    df = pd.DataFrame({
        "respondent": np.arange(1, len(keep) + 1, dtype=np.int64),
        "unit": names[a_i[keep]],
        "time": year_list[y_i[keep]].astype(np.int64),
        "age": age[keep],
        "age_group": np.array([g[0] for g in AGE_GROUPS])[g_i[keep]],
        "sex": np.array(["female", "male"])[s_i[keep]],
        "design_weight": design_weight,
        "weight": weight,
        "treated": treated[keep],
        "neighbour": (role[a_i[keep]] == 1).astype(np.int64),
        "unsafe_evening": unsafe1[keep].astype(np.int64),
        "unsafe_evening_y0": unsafe0[keep].astype(np.int64),
    })
    for j, item in enumerate(PROBLEM_ITEMS):
        df[item] = items1[keep, j].astype(np.int64)
    df["problem_index"] = items1[keep].mean(axis=1)
    df["problem_index_y0"] = items0[keep].mean(axis=1)
    df["victim"] = victim[keep]
    df.attrs["truth"] = _truth(df, seed, dict(
        effect=effect, problem_effect=problem_effect, start=start, end=end,
        fieldwork_month=fieldwork_month, years=years, n_comparison=n_comparison,
        n_sampled=n_sampled, response_intercept=response_intercept, year_list=year_list,
        treated_year=treated_year, names=names, ay=ay, keep=keep, shifts=shifts,
        pop_effect=pop_effect, pop_share0=pop_share0))
    return df


def _truth(df: pd.DataFrame, seed: SeedLike, v: dict) -> dict:
    tr = df[df["treated"] == 1]
    w = tr["weight"].to_numpy()
    d_unsafe = (tr["unsafe_evening"] >= 3).to_numpy(float) - (tr["unsafe_evening_y0"] >= 3).to_numpy(float)
    d_index = (tr["problem_index"] - tr["problem_index_y0"]).to_numpy()
    year_list, treated_year, names = v["year_list"], v["treated_year"], v["names"]
    resp = np.bincount(v["ay"][v["keep"]], minlength=len(names) * len(year_list))
    return jsonable({
        "world": "safety_survey",
        "function": "simulate_safety_survey",
        "generator_version": GENERATOR_VERSION,
        "seed": normalise_seed(seed),
        "treated_unit": TREATED_AREA,
        "neighbours": list(DEFAULT_NEIGHBOURS),
        "outcome": "unsafe_evening >= 3 (fairly or very unsafe)",
        "effect": v["effect"],
        "treated_years": [int(y) for y in year_list[treated_year]],
        "population_effect": v["pop_effect"],
        "population_share_unsafe_y0": v["pop_share0"],
        "latent_shift": {int(y): float(v["shifts"][j]) for j, y in enumerate(year_list)
                         if treated_year[j]},
        "realised_effect_weighted": float(np.sum(w * d_unsafe) / w.sum()),
        "realised_effect_unweighted": float(d_unsafe.mean()),
        "problem_effect": v["problem_effect"],
        "realised_problem_index_effect_weighted": float(np.sum(w * d_index) / w.sum()),
        "n_sampled_per_area_year": v["n_sampled"],
        "n_sampled": len(v["ay"]),
        "n_responded": len(v["keep"]),
        "responded_by_area": {str(n): [int(c) for c in resp.reshape(len(names), -1)[i]]
                              for i, n in enumerate(names)},
        "definitions": {
            "population_effect": "per treated year, change in Möllevången's population share "
                                 "answering 3-4, on the model's population (exact)",
            "realised_effect_weighted": "sum of weight * (1{y >= 3} - 1{y0 >= 3}) / sum of "
                                        "weight over treated respondents",
            "realised_problem_index_effect_weighted": "the same for problem_index - problem_index_y0",
            "responded_by_area": "respondents per area, one count per survey year",
        },
        "parameters": {
            "start": v["start"], "end": v["end"], "fieldwork_month": v["fieldwork_month"],
            "years": list(v["years"]), "n_comparison": v["n_comparison"],
            "response_intercept": v["response_intercept"], "unsafe_cuts": _UNSAFE_CUTS,
            "problem_cuts": _PROBLEM_CUTS, "areas": list(names),
        },
    })
