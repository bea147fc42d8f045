"""Simulated offences near schools, with staggered narcotics-dog searches (Drogfri skola)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import DesignError
from ._common import (
    GENERATOR_VERSION,
    SeedLike,
    ar1,
    calendar_with,
    check_positive,
    coupled_poisson_gamma,
    gamma_frailty,
    jsonable,
    monthly_periods,
    normalise_seed,
    open_uniform,
    spawn_streams,
)

__all__ = ["SCHOOL_STREAMS", "SchoolStructure", "school_structure", "simulate_schools"]

SCHOOL_STREAMS = ("structure", "latent", "counts", "survey")
SEARCH_WINDOW = ("2019-02-01", "2019-06-14")
# Relative level of offences near schools by calendar month (summer holiday in July).
_TERM = np.array([0.95, 1.05, 1.1, 1.05, 1.05, 0.8, 0.4, 0.8, 1.1, 1.1, 1.1, 0.9])


@dataclass(frozen=True)
class SchoolStructure:
    """The schools and who is searched when (shared by the count panel and the survey)."""

    ids: np.ndarray            # "S01".."S60"
    school_type: np.ndarray    # "grundskola" / "gymnasium"
    enrolment: np.ndarray      # pupils
    grade_size: np.ndarray     # pupils in the surveyed grade (year 9 / upper-secondary year 2)
    drug_level: np.ndarray     # expected drug offences a month near the school, 2017-2018
    other_level: np.ndarray
    trend: np.ndarray          # log drug-offence trend per year (the "pre-trend")
    other_trend: np.ndarray
    use_logit: np.ndarray      # logit prevalence of drug use in the surveyed grade, 2018
    safe_logit: np.ndarray     # latent location of feeling safe in school
    first_search: pd.PeriodIndex  # NaT for never searched
    search_date: pd.DatetimeIndex  # NaT for never searched


def school_structure(rng: np.random.Generator, n_schools: int, n_treated: int,
                     selection_on_trend: float) -> SchoolStructure:
    r"""Draw the schools and the searched ones.

    Searched schools are the top ``n_treated`` of :math:`\lambda z_i + G_i` (Gumbel
    :math:`G_i`, standardised drug-offence trend :math:`z_i`, :math:`\lambda` =
    ``selection_on_trend``): sampling without replacement with probabilities proportional to
    :math:`\exp(\lambda z_i)`.
    """
    if not 2 <= n_treated < n_schools or n_schools > 999:
        raise DesignError(
            f"n_schools={n_schools}, n_treated={n_treated}: need 2 <= n_treated < n_schools <= 999."
        )
    n_gym = round(n_schools / 3)
    gym = np.zeros(n_schools, dtype=bool)
    gym[rng.permutation(n_schools)[:n_gym]] = True
    enrolment = np.rint(np.where(gym, np.exp(rng.normal(np.log(900), 0.35, n_schools)),
                                 np.exp(rng.normal(np.log(450), 0.3, n_schools))))
    grade_size = np.rint(np.where(gym, enrolment / 3.0, enrolment / 6.0)).astype(np.int64)
    drug_level = np.where(gym, 1.0, 0.35) * np.exp(rng.normal(0.0, 0.5, n_schools))
    other_level = np.where(gym, 6.0, 4.0) * np.exp(rng.normal(0.0, 0.5, n_schools))
    trend = rng.normal(0.0, 0.10, n_schools)
    other_trend = 0.5 * trend + rng.normal(0.0, 0.03, n_schools)
    use_logit = np.where(gym, np.log(0.16 / 0.84), np.log(0.06 / 0.94)) + rng.normal(0, 0.3, n_schools)
    safe_logit = rng.normal(1.5, 0.4, n_schools)
    z = (trend - trend.mean()) / trend.std()
    keys = selection_on_trend * z + rng.gumbel(size=n_schools)
    searched = np.argsort(-keys, kind="stable")[:n_treated]
    lo, hi = (pd.Timestamp(d) for d in SEARCH_WINDOW)
    offsets = rng.integers(0, (hi - lo).days + 1, size=n_schools)
    date = pd.DatetimeIndex(np.full(n_schools, np.datetime64("NaT"), dtype="datetime64[ns]"))
    date_values = date.to_numpy().copy()
    date_values[searched] = (lo + pd.to_timedelta(offsets[searched], unit="D")).to_numpy()
    search_date = pd.DatetimeIndex(date_values)
    return SchoolStructure(
        ids=np.array([f"S{i:0{max(2, len(str(n_schools)))}d}" for i in range(1, n_schools + 1)]),
        school_type=np.where(gym, "gymnasium", "grundskola"),
        enrolment=enrolment.astype(np.int64), grade_size=grade_size, drug_level=drug_level,
        other_level=other_level, trend=trend, other_trend=other_trend, use_logit=use_logit,
        safe_logit=safe_logit, first_search=search_date.to_period("M"), search_date=search_date,
    )


def simulate_schools(
    *,
    seed: SeedLike = 2019,
    n_schools: int = 60,
    n_treated: int = 12,
    selection_on_trend: float = 0.0,
    detection_effect: float = 2.5,
    detection_decay: float = 0.3,
    prevalence_effect: float = 0.85,
    other_effect: float = 1.0,
    first: str = "2017-01",
    last: str = "2022-12",
    dispersion: float = 0.1,
) -> pd.DataFrame:
    r"""Simulate monthly drug and other offences near schools with staggered dog searches.

    For school :math:`i`, month :math:`t` and outcome :math:`o` (drug or other offences),

    .. math::

        \log\mu^{0}_{iot} = \log L_{io} + b_{io}(\tau_t - 2018) + \log T_o(m_t) + \eta_t
            + x_{iot} - \sigma_x^2/2 - c_{io},

    with :math:`L_{io}` the mean over 2017–2018, school trends :math:`b_{io}`, the school
    calendar :math:`T_o` (summer dip), city-wide AR(1) shocks :math:`\eta_t` and school AR(1)
    noise :math:`x_{iot}`. For a school first searched in month :math:`g_i`, at event time
    :math:`e = t - g_i \ge 0` the drug-offence mean is
    :math:`\mu^1 = \mu^0\,\{1 + (D - 1)\rho^{e}\}\,P` — recorded offences jump by detection
    :math:`D` and decay at rate :math:`\rho`, while use (and the offences it causes) changes by
    the prevalence ratio :math:`P`; other offences change by ``other_effect``. Counts are
    Poisson–gamma with common random numbers for both potential outcomes.

    Parameters
    ----------
    seed : int or numpy.random.Generator, default 2019
        Seed for ``numpy.random.default_rng``; :func:`simulate_school_survey` with the same
        seed and structure arguments uses the same schools and search dates.
    n_schools : int, default 60
        Schools (a third upper-secondary ``gymnasium``, the rest compulsory ``grundskola``).
    n_treated : int, default 12
        Schools searched, each on a date between 1 Feb and 14 Jun 2019.
    selection_on_trend : float, default 0.0
        :math:`\lambda`; schools volunteer with probability proportional to
        :math:`\exp(\lambda z_i)`, :math:`z_i` the standardised drug-offence trend, so
        :math:`\lambda > 0` selects schools whose drug offences were rising anyway.
    detection_effect : float, default 2.5
        :math:`D`, the multiplier of recorded drug offences in the month of the search.
    detection_decay : float, default 0.3
        :math:`\rho`, the share of the detection bump left one month later.
    prevalence_effect : float, default 0.85
        :math:`P`, the ratio of drug use (and use-driven offences) after the search.
    other_effect : float, default 1.0
        Ratio for other offences (1.0: none — a placebo outcome).
    first, last : str, default "2017-01", "2022-12"
        Months covered.
    dispersion : float, default 0.1
        Gamma frailty variance of the counts.

    Returns
    -------
    pandas.DataFrame
        Long panel: ``unit`` (school id), ``school_type``, ``enrolment``, ``time`` (monthly
        Period), ``drug_offences``, ``other_offences``, ``first_search`` (monthly Period,
        NaT if never searched), ``treated``, ``drug_offences_y0``, ``other_offences_y0``;
        ``df.attrs["truth"]`` holds the true effects by cohort and event time.

    References
    ----------
    Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics*, 225(2), 200–230.
    """
    what = "simulate_schools"
    check_positive(what, detection_effect=detection_effect, prevalence_effect=prevalence_effect,
                   other_effect=other_effect)
    if not 0 <= detection_decay < 1 or dispersion < 0:
        raise DesignError(
            f"{what}: detection_decay={detection_decay} must be in [0, 1) and "
            f"dispersion={dispersion} >= 0."
        )
    periods = monthly_periods(first, last, what)
    streams = spawn_streams(seed, SCHOOL_STREAMS)
    st = school_structure(streams["structure"], n_schools, n_treated, selection_on_trend)
    searched = ~st.first_search.isna()
    if st.first_search[searched].min() <= periods[0] or st.first_search[searched].max() > periods[-1]:
        raise DesignError(f"{what}: the months {periods[0]}..{periods[-1]} must cover 2019 "
                          "with pre-periods; the searches are in spring 2019.")
    cal = calendar_with(periods, "2017-01", "2018-12")
    n_cal, n_s = len(cal), n_schools
    tau = cal.year.to_numpy() + (cal.month.to_numpy() - 0.5) / 12.0 - 2018.0
    rl = streams["latent"]
    city = ar1(rl, 1, n_cal, rho=0.5, sigma=0.05)[0]
    sigma_x = 0.15
    term = np.log(_TERM)[cal.month.to_numpy() - 1]
    mus0 = []
    for level, trend, term_w in ((st.drug_level, st.trend, 1.0),
                                 (st.other_level, st.other_trend, 0.4)):
        smooth = trend[:, None] * tau[None, :] + (term_w * term + city)[None, :]
        ref = (cal >= pd.Period("2017-01", "M")) & (cal <= pd.Period("2018-12", "M"))
        smooth -= np.log(np.exp(smooth[:, ref]).mean(axis=1))[:, None]
        x = ar1(rl, n_s, n_cal, rho=0.5, sigma=sigma_x)
        in_range = (cal >= periods[0]) & (cal <= periods[-1])
        mus0.append((level[:, None] * np.exp(smooth + x - sigma_x**2 / 2.0))[:, in_range])
    n_t = len(periods)
    month_no = (periods.year.to_numpy() * 12 + periods.month.to_numpy() - 1)
    g_no = np.where(searched, st.first_search.year * 12 + st.first_search.month - 1, 10**9)
    event = month_no[None, :] - np.asarray(g_no)[:, None]                # (s, t)
    on = event >= 0
    e_pos = np.where(on, event, 0)
    ratio_drug = np.where(on, (1 + (detection_effect - 1) * detection_decay**e_pos)
                          * prevalence_effect, 1.0)
    ratio_other = np.where(on, other_effect, 1.0)
    rc = streams["counts"]
    ys = []
    for mu0, ratio in zip(mus0, (ratio_drug, ratio_other)):
        frailty = gamma_frailty(rc, dispersion, (n_s, n_t))
        ys.append(coupled_poisson_gamma(mu0, mu0 * ratio, frailty, open_uniform(rc, (n_s, n_t))))
    (drug0, drug1), (other0, other1) = ys
    df = pd.DataFrame({
        "unit": np.repeat(st.ids, n_t),
        "school_type": np.repeat(st.school_type, n_t),
        "enrolment": np.repeat(st.enrolment, n_t),
        "time": pd.PeriodIndex(np.tile(periods, n_s), freq="M"),
        "drug_offences": drug1.ravel(),
        "other_offences": other1.ravel(),
        "first_search": pd.PeriodIndex(np.repeat(st.first_search, n_t), freq="M"),
        "treated": on.ravel().astype(np.int64),
        "drug_offences_y0": drug0.ravel(),
        "other_offences_y0": other0.ravel(),
    })
    max_e = int(event[on].max())
    expected = {e: (1 + (detection_effect - 1) * detection_decay**e) * prevalence_effect
                for e in range(max_e + 1)}
    cohorts = {str(c): list(st.ids[st.first_search == c]) for c in sorted(set(st.first_search[searched]))}
    diff_drug, diff_other = drug1 - drug0, other1 - other0
    cohort_of = np.array([str(c) for c in st.first_search])
    df.attrs["truth"] = jsonable({
        "world": "schools",
        "function": "simulate_schools",
        "generator_version": GENERATOR_VERSION,
        "seed": normalise_seed(seed),
        "outcomes": ["drug_offences", "other_offences"],
        "cohorts": cohorts,
        "search_dates": {str(i): str(d.date()) for i, d in zip(st.ids[searched], st.search_date[searched])},
        "expected_ratio_by_event_time": expected,
        "att": float(diff_drug[on].mean()),
        "att_other": float(diff_other[on].mean()),
        "realised_ratio": float(drug1[on].sum() / drug0[on].sum()),
        "att_by_event_time": _by_event(diff_drug, event, on),
        "att_by_cohort_event_time": {c: _by_event(diff_drug[cohort_of == c], event[cohort_of == c],
                                                  on[cohort_of == c]) for c in cohorts},
        "mean_trend_searched": float(st.trend[searched].mean()),
        "mean_trend_not_searched": float(st.trend[~searched].mean()),
        "definitions": {
            "att": "mean of drug_offences - drug_offences_y0 over cells with treated == 1",
            "att_other": "the same for other_offences",
            "realised_ratio": "sum(drug_offences) / sum(drug_offences_y0) over the same cells",
            "att_by_event_time": "mean of drug_offences - drug_offences_y0 over searched schools "
                                 "at event time e = month - first_search",
            "expected_ratio_by_event_time": "(1 + (D - 1) rho^e) P, the true ratio of means",
        },
        "parameters": {
            "n_schools": n_schools, "n_treated": n_treated,
            "selection_on_trend": selection_on_trend, "detection_effect": detection_effect,
            "detection_decay": detection_decay, "prevalence_effect": prevalence_effect,
            "other_effect": other_effect, "first": str(periods[0]), "last": str(periods[-1]),
            "dispersion": dispersion, "search_window": list(SEARCH_WINDOW),
        },
    })
    return df


def _by_event(diff: np.ndarray, event: np.ndarray, on: np.ndarray) -> dict[int, float]:
    """Mean of ``diff`` over treated cells at each event time, vectorised with bincount."""
    e, d = event[on], diff[on].astype(float)
    total = np.bincount(e, weights=d)
    count = np.bincount(e)
    return {int(k): float(total[k] / count[k]) for k in np.flatnonzero(count)}
