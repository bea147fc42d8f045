"""Simulated annual follow-up world: the yearly safety survey and police counts in every area.

The police's local safety survey samples about 300 residents aged 16–85 per area and year
(about half answer); the police count reported crime per area. This world generates both for
all 136 Malmö areas over several years, with known population values for every area × year ×
indicator and a known set of *real* changes in the last year, so that an annual follow-up
(:mod:`utvardering.followup`) can be checked against the truth: which changes did it flag,
which did it miss, and how close are its small-area estimates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from ...errors import DesignError
from ._common import GENERATOR_VERSION, SeedLike, normalise_seed, spawn_streams
from .malmo_areas import AREA_NAMES, area_table
from .weights import poststratify

__all__ = [
    "ANNUAL_COUNT_INDICATORS",
    "ANNUAL_SURVEY_INDICATORS",
    "AnnualWorld",
    "simulate_annual_followup",
    "simulate_annual_survey",
]

_STREAMS = ("structure", "changes", "sample", "outcome", "counts")
_AGE_GROUPS = (("16-24", 16, 24), ("25-44", 25, 44), ("45-64", 45, 64), ("65-85", 65, 85))
_AGE_SHARE = np.array([0.13, 0.38, 0.30, 0.19])
_YOUTH_LOADING = np.array([1.0, 0.5, -0.3, -0.8])
_FEMALE_SHARE = np.array([0.49, 0.49, 0.50, 0.55])
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(24)
_GH_W = _GH_W / _GH_W.sum()

#: Survey indicators: name -> (kind, city logit level, area s.d., loading on the respondent's
#: latent worry, age effects (4), female effect, size of a real change). Levels are chosen so
#: that city values match the public Malmö figures (DOMAIN.md; about 30 % feel unsafe out
#: late, 72–75 % worried about crime, 17–19 % refrained from an activity, 25–30 % victimised,
#: 1.6 % violence, 11–14 % theft, problem index 2.3–2.4 on its 0–6 scale).
ANNUAL_SURVEY_INDICATORS: dict[str, dict] = {
    "unsafe_evening": dict(kind="share", level=-1.5, sd=0.45, load=1.0,
                           age=(0.1, 0.0, 0.05, 0.35), female=0.8, change=0.08),
    "worried_crime": dict(kind="share", level=0.95, sd=0.35, load=0.8,
                          age=(-0.2, 0.0, 0.1, 0.1), female=0.4, change=0.08),
    "refrained_activity": dict(kind="share", level=-1.95, sd=0.4, load=0.8,
                               age=(0.0, -0.1, 0.0, 0.3), female=0.5, change=0.08),
    "victim_any": dict(kind="share", level=-1.05, sd=0.3, load=0.3,
                       age=(0.5, 0.2, -0.2, -0.7), female=-0.1, change=0.08),
    "victim_violence": dict(kind="share", level=-4.15, sd=0.4, load=0.3,
                            age=(0.8, 0.2, -0.4, -1.0), female=-0.3, change=0.03),
    "victim_theft": dict(kind="share", level=-2.05, sd=0.3, load=0.3,
                         age=(0.4, 0.2, -0.2, -0.5), female=0.0, change=0.08),
    "problem_index": dict(kind="mean", level=-0.55, sd=0.35, load=0.5,
                          age=(0.1, 0.0, 0.0, -0.1), female=0.1, change=0.25),
}
#: Count indicators: name -> (reported crimes per 100,000 residents and year, area s.d., real
#: change as a rate ratio). Violence about 1,900 and theft 4,800 per 100,000 as in the
#: simulated area-crime world; residential burglary and robbery are the rare offences.
ANNUAL_COUNT_INDICATORS: dict[str, dict] = {
    "violence": dict(rate=1_900.0, sd=0.5, change=1.5),
    "burglary": dict(rate=350.0, sd=0.5, change=1.5),
    "robbery": dict(rate=110.0, sd=0.6, change=1.5),
}
_N_PROBLEM_ITEMS = 6
_PROBLEM_ITEMS = tuple(f"problem_{i}" for i in range(1, _N_PROBLEM_ITEMS + 1))
_ITEM_SHIFT = np.array([0.3, 0.5, 0.0, -0.2, -0.3, -0.3])


@dataclass
class AnnualWorld:
    """One draw of the annual follow-up world.

    Attributes
    ----------
    survey : pandas.DataFrame
        One row per respondent: ``respondent``, ``unit``, ``time`` (year), ``age_group``,
        ``sex``, ``design_weight``, ``weight`` (post-stratified to age group × sex within
        area and year), the items ``unsafe_evening`` and ``worried_crime`` (1–4; 3–4 =
        fairly/very), ``refrained_activity``, ``victim_any``, ``victim_violence``,
        ``victim_theft`` (0/1), ``problem_1`` … ``problem_6`` (0 = no problem … 6 = very
        big problem) and ``problem_index`` (the mean of the answered items). Item
        non-response is missing.
    counts : pandas.DataFrame
        ``unit``, ``time``, ``population`` and one column of reported crimes per offence.
    truth : pandas.DataFrame
        ``unit``, ``time``, ``indicator``, ``value`` (the population value: share, mean
        or rate per 100,000), ``value_y0`` (without the real change) and ``changed``
        (whether the area had a real change in that indicator that year).
    info : dict
        Seed, parameters, generator version and the real changes as a list.
    """

    survey: pd.DataFrame
    counts: pd.DataFrame
    truth: pd.DataFrame
    info: dict = field(default_factory=dict)


def _population_share(eta: np.ndarray, cell_eff: np.ndarray, cell_w: np.ndarray,
                      load: float, mean_items: bool) -> np.ndarray:
    r"""Population value for linear predictors ``eta`` over cells and the latent worry.

    ``cell_eff`` and ``cell_w`` have shape (..., C); the latent is integrated by
    Gauss–Hermite quadrature. A share is :math:`E[p]`; the problem index is the mean over the
    six items of :math:`6\,E[q_i]`, item :math:`i` shifted by its own logit offset.
    """
    shifts = _ITEM_SHIFT if mean_items else np.zeros(1)
    total = 0.0
    for shift in shifts:
        lin = eta[..., None, None] + shift + cell_eff[..., :, None] + load * _GH_X
        p = special.expit(lin) @ _GH_W                                   # (..., C)
        total = total + np.sum(p * cell_w, axis=-1) / np.sum(cell_w, axis=-1)
    value = total / len(shifts)
    return _N_PROBLEM_ITEMS * value if mean_items else value


def simulate_annual_followup(
    *,
    seed: SeedLike = 2022,
    years: tuple[int, int] = (2015, 2022),
    n_areas: int = 136,
    n_sampled: int = 300,
    change_year: int | None = None,
    n_changes: int = 40,
    response_intercept: float = 0.2,
    item_nonresponse: float = 0.02,
    year_sd: float = 0.08,
    trend_sd: float = 0.02,
    change_scale: float = 1.0,
    changes: pd.DataFrame | None = None,
) -> AnnualWorld:
    r"""Simulate the annual safety survey and police counts for ``n_areas`` Malmö areas.

    **Population values.** For survey indicator :math:`k`, area :math:`a`, year :math:`t`
    and respondent :math:`r` in age group × sex cell :math:`c`,

    .. math::

        \Pr(Y_{kr} = 1) = \operatorname{logit}^{-1}\{\mu_k + \alpha_{ka} + \gamma_{kt}
        + \beta_{ka}(t - \bar t) + \delta_{kat} + b_{kc} + \lambda_k z_r\},\qquad
        z_r \sim N(0, 1),

    with area effects :math:`\alpha_{ka} \sim N(0, s_k^2)`, city year effects
    :math:`\gamma_{kt} \sim N(0, 0.08^2)`, small area trends
    :math:`\beta_{ka} \sim N(0, 0.02^2)` and a latent worry :math:`z_r` shared by a
    respondent's answers. The population value (share, or the mean problem index
    :math:`6\,E[q]` for six items :math:`\sim \text{Binomial}(6, q)`) is the population-weighted
    average over cells, integrated over :math:`z` by quadrature: it is exact, not estimated.
    :math:`\delta_{kat}` is non-zero only for the ``n_changes`` real changes, drawn among the
    area × indicator pairs in ``change_year`` with a random sign and solved so that the
    population value moves by exactly the indicator's change size (8 percentage points for
    most shares, 3 for violence victimisation, 0.25 index points, a rate ratio of 1.5 or
    1/1.5 for counts); a change persists in later years.

    **Sampling and non-response.** ``min(n_sampled, adults / 4)`` residents are drawn per
    area and year; each answers with probability
    :math:`\operatorname{logit}^{-1}\{\rho + 0.03(\text{age} - 50) - 0.15\,\text{male} + u_a\}`
    (about 50 %, older people and women more often), independent of the answers given age
    and sex (missing at random given the weighting cells), and leaves each item blank with
    probability ``item_nonresponse``. Weights are post-stratified to age group × sex.

    **Counts.** Reported crimes per offence are Poisson with mean population × rate ×
    :math:`\exp(\alpha_{oa} + \gamma_{ot} + \beta_{oa}(t-\bar t) + \delta_{oat})`.

    Parameters
    ----------
    seed : int or numpy.random.Generator, default 2022
    years : tuple of int, default (2015, 2022)
        First and last survey year (at least 3 years).
    n_areas : int, default 136
        Number of areas (the first ``n_areas`` of the simulated Malmö geography).
    n_sampled : int, default 300
        Residents sampled per area and year (fewer in areas with under 1,200 adults).
    change_year : int, optional
        Year of the real changes; default the last year.
    n_changes : int, default 40
        Number of real changes (area × indicator pairs) in ``change_year``.
    response_intercept : float, default 0.2
        :math:`\rho` of the response model (about 50 % respond).
    item_nonresponse : float, default 0.02
        Probability that a respondent skips an item.
    year_sd, trend_sd : float
        Standard deviations of the city year effects and the area trends (logit scale).
    change_scale : float, default 1.0
        Multiplies every change size (shares and index; rate ratios on the log scale), e.g.
        2.0 for 16-point changes in the power curves.
    changes : pandas.DataFrame, optional
        The real changes, instead of ``n_changes`` random ones: ``unit``, ``indicator`` and
        ``change`` (signed; a share or index-point change, or a rate ratio for counts), e.g.
        changes of the size a follow-up says it could detect
        (:func:`utvardering.followup.calibration.calibrate_mdc`). ``change_scale`` does not
        apply to them; a change that would leave a share's [2 %, 98 %] or the index's 0–6
        range is an error.

    Returns
    -------
    AnnualWorld
    """
    what = "simulate_annual_followup"
    normalise_seed(seed)
    year_list = np.arange(years[0], years[1] + 1)
    n_y = len(year_list)
    change_year = int(year_list[-1] if change_year is None else change_year)
    if n_y < 3 or change_year not in year_list or change_year == year_list[0]:
        raise DesignError(
            f"{what}: years={years} and change_year={change_year} need at least 3 years and a "
            "change year after the first year; e.g. years=(2015, 2022), change_year=2022.")
    if not 2 <= n_areas <= len(AREA_NAMES) or n_sampled < 20:
        raise DesignError(f"{what}: n_areas={n_areas} must be 2..{len(AREA_NAMES)} and "
                          f"n_sampled={n_sampled} at least 20.")
    survey_names = list(ANNUAL_SURVEY_INDICATORS)
    count_names = list(ANNUAL_COUNT_INDICATORS)
    n_k, n_o = len(survey_names), len(count_names)
    if not 0 <= n_changes <= n_areas * (n_k + n_o):
        raise DesignError(f"{what}: n_changes={n_changes} must be 0..{n_areas * (n_k + n_o)}.")
    streams = spawn_streams(seed, _STREAMS)
    rs = streams["structure"]

    # --- structure: areas, population cells, effects ---
    population, _ = area_table(rs)
    population = population[:n_areas]
    names = np.array(AREA_NAMES[:n_areas])
    n_a = n_areas
    youth = rs.normal(0.0, 0.3, n_a)
    age_share = _AGE_SHARE[None, :] * np.exp(youth[:, None] * _YOUTH_LOADING[None, :])
    age_share /= age_share.sum(axis=1, keepdims=True)
    sex_share = np.stack([_FEMALE_SHARE, 1 - _FEMALE_SHARE], axis=1)        # (g, s): female, male
    growth = 1.008 ** (year_list - year_list[-1])
    residents = population[:, None] * growth[None, :]                       # (a, y)
    cells = 0.82 * residents[:, :, None, None] * age_share[:, None, :, None] * sex_share[None, None]
    cells = cells.reshape(n_a, n_y, 8)                                      # cell = 2*g + s
    tc = year_list - year_list.mean()
    spec = [ANNUAL_SURVEY_INDICATORS[k] for k in survey_names]
    mu = np.array([s["level"] for s in spec])
    alpha = rs.normal(0.0, 1.0, (n_k, n_a)) * np.array([s["sd"] for s in spec])[:, None]
    gamma = rs.normal(0.0, year_sd, (n_k, n_y))
    beta = rs.normal(0.0, trend_sd, (n_k, n_a))
    eta0 = (mu[:, None, None] + alpha[:, :, None] + gamma[:, None, :]
            + beta[:, :, None] * tc[None, None, :])                        # (k, a, y)
    age_eff = np.array([s["age"] for s in spec])                             # (k, g)
    sex_eff = np.stack([np.array([s["female"] for s in spec]), np.zeros(n_k)], axis=1)
    cell_eff = (age_eff[:, :, None] + sex_eff[:, None, :]).reshape(n_k, 8)  # (k, c)
    load = np.array([s["load"] for s in spec])
    cspec = [ANNUAL_COUNT_INDICATORS[o] for o in count_names]
    c_alpha = rs.normal(0.0, 1.0, (n_o, n_a)) * np.array([s["sd"] for s in cspec])[:, None]
    c_alpha -= 0.5 * np.array([s["sd"] for s in cspec])[:, None] ** 2
    c_gamma = rs.normal(0.0, year_sd, (n_o, n_y))
    c_beta = rs.normal(0.0, trend_sd, (n_o, n_a))
    log_rate0 = (np.log([s["rate"] for s in cspec])[:, None, None] + c_alpha[:, :, None]
                 + c_gamma[:, None, :] + c_beta[:, :, None] * tc[None, None, :])

    # --- real changes (changes stream) ---
    rc = streams["changes"]
    j_change = int(np.flatnonzero(year_list == change_year)[0])
    sampled = np.minimum(n_sampled, np.floor(0.82 * residents / 4)).astype(np.int64)   # (a, y)
    full = np.flatnonzero(sampled[:, j_change] >= n_sampled)
    pool = np.array([(k, a) for k in range(n_k + n_o) for a in range(n_a)])
    chosen = pool[rc.choice(len(pool), n_changes, replace=False)] if n_changes else np.empty((0, 2), int)
    signs = rc.choice([-1.0, 1.0], n_changes)
    sizes = [None] * len(chosen)
    if changes is not None:
        chosen, signs, sizes = _explicit_changes(changes, names, survey_names, count_names, what)
        n_changes = len(chosen)
    delta = np.zeros((n_k, n_a))
    c_delta = np.zeros((n_o, n_a))
    changes = []
    for (k, a), sign, given in zip(chosen, signs, sizes, strict=True):
        if k < n_k:
            s = spec[k]
            mean_items = s["kind"] == "mean"
            c_w = cells[a, j_change]
            base = float(_population_share(eta0[k, a, j_change], cell_eff[k], c_w, load[k], mean_items))
            size = s["change"] * change_scale if given is None else given
            # keep a changed share inside [2 %, 98 %] (a decrease that would empty the
            # area becomes an increase), and the index inside its 0-6 scale
            lower, upper = (0.0, _N_PROBLEM_ITEMS) if mean_items else (0.02, 0.98)
            if not lower < base + sign * size < upper:
                if given is not None:
                    raise DesignError(
                        f"{what}: changes: {survey_names[k]} in {names[a]} is {base:.4f} before the "
                        f"change; a change of {sign * size:+.4f} leaves the range ({lower}, {upper}).")
                sign = -sign
            shift = optimize.brentq(
                lambda d, k=k, a=a, c_w=c_w, base=base, target=sign * size, m=mean_items: float(
                    _population_share(eta0[k, a, j_change] + d, cell_eff[k], c_w, load[k], m))
                - base - target, -15.0, 15.0, xtol=1e-12)
            delta[k, a] = shift
            changes.append({"unit": str(names[a]), "indicator": survey_names[k],
                            "change": sign * size, "scale": "index points" if mean_items else "share",
                            "sampled": int(sampled[a, j_change]), "logit_shift": shift})
        else:
            o = k - n_k
            ratio = cspec[o]["change"] ** (sign * change_scale) if given is None else given
            c_delta[o, a] = np.log(ratio)
            changes.append({"unit": str(names[a]), "indicator": count_names[o], "change": ratio,
                            "scale": "rate ratio", "sampled": None, "logit_shift": None})
    after = (year_list >= change_year).astype(float)
    eta = eta0 + delta[:, :, None] * after[None, None, :]
    log_rate = log_rate0 + c_delta[:, :, None] * after[None, None, :]

    # --- truth table ---
    truth_rows = []
    for k, name in enumerate(survey_names):
        mean_items = spec[k]["kind"] == "mean"
        v1 = _population_share(eta[k], np.broadcast_to(cell_eff[k], (n_a, n_y, 8)), cells, load[k], mean_items)
        v0 = _population_share(eta0[k], np.broadcast_to(cell_eff[k], (n_a, n_y, 8)), cells, load[k], mean_items)
        truth_rows.append(_truth_frame(names, year_list, name, v1, v0, delta[k] != 0, j_change))
    for o, name in enumerate(count_names):
        truth_rows.append(_truth_frame(names, year_list, name, np.exp(log_rate[o]),
                                       np.exp(log_rate0[o]), c_delta[o] != 0, j_change))
    truth = pd.concat(truth_rows, ignore_index=True)

    # --- sampling and response ---
    rp = streams["sample"]
    response_area = rp.normal(0.0, 0.2, n_a)
    cell_p = (cells / cells.sum(axis=2, keepdims=True)).reshape(n_a * n_y, 8)
    counts_s = np.stack([rp.multinomial(n, p) for n, p in zip(sampled.ravel(), cell_p, strict=True)])
    ay = np.repeat(np.arange(n_a * n_y), sampled.ravel())
    cc = np.concatenate([np.repeat(np.arange(8), c) for c in counts_s])
    a_i, y_i = ay // n_y, ay % n_y
    g_i, s_i = cc // 2, cc % 2
    lo = np.array([g[1] for g in _AGE_GROUPS])[g_i]
    hi = np.array([g[2] for g in _AGE_GROUPS])[g_i]
    age = lo + np.floor(rp.random(len(ay)) * (hi - lo + 1)).astype(np.int64)
    p_resp = special.expit(response_intercept + 0.03 * (age - 50) - 0.15 * s_i + response_area[a_i])
    responded = rp.random(len(ay)) < p_resp

    # --- answers (outcome stream, drawn for everyone sampled) ---
    ro = streams["outcome"]
    n_s = len(ay)
    z = ro.standard_normal(n_s)
    answers = {}
    for k, name in enumerate(survey_names):
        lin = eta[k, a_i, y_i] + cell_eff[k, cc] + load[k] * z
        if name in ("unsafe_evening", "worried_crime"):
            latent = lin + ro.logistic(size=n_s)
            answers[name] = 1 + (latent[:, None] > np.array([-1.5, 0.0, 1.8])[None, :]).sum(axis=1)
        elif spec[k]["kind"] == "share":
            answers[name] = (ro.random(n_s) < special.expit(lin)).astype(np.int64)
        else:
            for i, item in enumerate(_PROBLEM_ITEMS):
                answers[item] = ro.binomial(_N_PROBLEM_ITEMS, special.expit(lin + _ITEM_SHIFT[i]))
    skip = {item: ro.random(n_s) < item_nonresponse for item in answers}

    keep = np.flatnonzero(responded)
    weight = poststratify(ay[keep], cc[keep], s_i[keep], cells.reshape(n_a * n_y, 8))
    df = pd.DataFrame({
        "respondent": np.arange(1, len(keep) + 1, dtype=np.int64),
        "unit": names[a_i[keep]],
        "time": year_list[y_i[keep]].astype(np.int64),
        "age_group": np.array([g[0] for g in _AGE_GROUPS])[g_i[keep]],
        "sex": np.array(["female", "male"])[s_i[keep]],
        "design_weight": (cells.sum(axis=2).ravel()[ay] / sampled.ravel()[ay])[keep],
        "weight": weight,
    })
    for item, values in answers.items():
        col = values[keep].astype(float)
        col[skip[item][keep]] = np.nan
        df[item] = pd.array(np.where(np.isnan(col), pd.NA, col), dtype="Int64")
    items = df[list(_PROBLEM_ITEMS)].astype(float)
    df["problem_index"] = items.mean(axis=1, skipna=True)

    # --- counts ---
    rk = streams["counts"]
    counts = pd.DataFrame({"unit": np.repeat(names, n_y), "time": np.tile(year_list, n_a),
                           "population": np.rint(residents).astype(np.int64).ravel()})
    for o, name in enumerate(count_names):
        mean = residents * np.exp(log_rate[o]) / 1e5
        counts[name] = rk.poisson(mean).ravel().astype(np.int64)

    info = {
        "world": "annual_survey", "function": what, "generator_version": GENERATOR_VERSION,
        "seed": normalise_seed(seed), "years": [int(year_list[0]), int(year_list[-1])],
        "change_year": change_year, "n_areas": n_a, "n_sampled": n_sampled,
        "n_changes": n_changes, "change_scale": change_scale, "changes": changes,
        "areas_with_full_sample": len(full),
        "n_sampled_total": len(ay), "n_responded": len(keep),
        "survey_indicators": survey_names, "count_indicators": count_names,
    }
    return AnnualWorld(df, counts, truth, info)


def _explicit_changes(changes, names, survey_names, count_names, what):
    """Validate a table of planted changes: (indicator index, area index), signs, sizes."""
    if not isinstance(changes, pd.DataFrame) or not {"unit", "indicator", "change"} <= set(changes.columns):
        raise DesignError(f"{what}: changes must be a DataFrame with columns unit, indicator, change.")
    all_names = list(survey_names) + list(count_names)
    area_index = {str(n): i for i, n in enumerate(names)}
    chosen, signs, sizes = [], [], []
    for row in changes.itertuples(index=False):
        if str(row.unit) not in area_index or row.indicator not in all_names:
            raise DesignError(f"{what}: changes: unknown area {row.unit!r} or indicator {row.indicator!r} "
                              f"(indicators: {all_names}).")
        k = all_names.index(row.indicator)
        value = float(row.change)
        if k >= len(survey_names):
            if not (np.isfinite(value) and value > 0):
                raise DesignError(f"{what}: changes: {row.indicator} in {row.unit} needs a rate ratio "
                                  f"above 0, not {row.change!r}.")
            signs.append(1.0)
            sizes.append(value)
        else:
            if not (np.isfinite(value) and value != 0):
                raise DesignError(f"{what}: changes: {row.indicator} in {row.unit}: change={row.change!r} "
                                  "must be a non-zero number.")
            signs.append(float(np.sign(value)))
            sizes.append(abs(value))
        chosen.append((k, area_index[str(row.unit)]))
    if len(set(chosen)) < len(chosen):
        raise DesignError(f"{what}: changes lists an area × indicator pair twice.")
    return np.array(chosen, dtype=int).reshape(-1, 2), np.array(signs), sizes


def _truth_frame(names, year_list, indicator, value, value0, changed_area, j_change) -> pd.DataFrame:
    n_a, n_y = value.shape
    changed = np.zeros((n_a, n_y), bool)
    changed[:, j_change] = changed_area
    return pd.DataFrame({
        "unit": np.repeat(names, n_y), "time": np.tile(year_list, n_a), "indicator": indicator,
        "value": value.ravel(), "value_y0": value0.ravel(), "changed": changed.ravel(),
    })


def simulate_annual_survey(*, seed: SeedLike = 2022, **options) -> pd.DataFrame:
    """The survey part of :func:`simulate_annual_followup` as one table.

    ``attrs["truth"]`` holds the world's ``info`` (seed, parameters and the real changes).
    Keyword arguments are those of :func:`simulate_annual_followup`.
    """
    world = simulate_annual_followup(seed=seed, **options)
    frame = world.survey.copy()
    frame.attrs["truth"] = world.info
    return frame
