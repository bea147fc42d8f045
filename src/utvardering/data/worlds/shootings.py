"""Simulated confirmed shootings in Swedish cities, with Malmö treated by Sluta skjut."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import DesignError
from ._common import (
    GENERATOR_VERSION,
    SeedLike,
    ar1,
    check_positive,
    coupled_poisson_gamma,
    gamma_frailty,
    jsonable,
    monthly_periods,
    normalise_seed,
    open_uniform,
    seasonal,
    spawn_streams,
)

__all__ = ["CITIES", "simulate_shootings"]

#: (city, population rounded to thousands (about 2022, Statistics Sweden kommun figures),
#: police region, baseline confirmed shootings per 100,000 residents and year in 2016–2017
#: (a plausible level, not a published figure; Malmö is set by ``malmo_level`` instead)).
CITIES: tuple[tuple[str, int, str, float], ...] = (
    ("Malmö", 357_000, "Syd", float("nan")),
    ("Stockholm", 985_000, "Stockholm", 7.5),
    ("Göteborg", 588_000, "Väst", 8.5),
    ("Uppsala", 242_000, "Öst", 6.0),
    ("Örebro", 157_000, "Bergslagen", 7.0),
    ("Norrköping", 144_000, "Öst", 6.0),
    ("Linköping", 166_000, "Öst", 3.0),
    ("Helsingborg", 151_000, "Syd", 5.0),
    ("Södertälje", 102_000, "Stockholm", 11.0),
    ("Västerås", 157_000, "Bergslagen", 5.0),
    ("Eskilstuna", 107_000, "Öst", 6.0),
    ("Jönköping", 143_000, "Öst", 3.0),
    ("Borås", 114_000, "Väst", 4.0),
    ("Sundsvall", 99_000, "Nord", 3.0),
    ("Gävle", 104_000, "Bergslagen", 4.0),
    ("Umeå", 131_000, "Nord", 2.0),
    ("Lund", 127_000, "Syd", 3.0),
    ("Kristianstad", 86_000, "Syd", 4.0),
    ("Halmstad", 104_000, "Väst", 3.0),
    ("Karlstad", 95_000, "Bergslagen", 3.0),
)
_TREATED = "Malmö"
_STREAMS = ("structure", "latent", "counts", "severity")
_REFERENCE = ("2016-01", "2017-12")  # window whose mean expected rate is the unit's level


def _select_units(units: Sequence[str] | None) -> np.ndarray:
    names = [c[0] for c in CITIES]
    if units is None:
        return np.arange(len(names))
    unknown = [u for u in units if u not in names]
    if unknown:
        raise DesignError(
            f"simulate_shootings: unknown unit(s) {unknown}; choose from {names}."
        )
    if _TREATED not in units:
        raise DesignError(
            "simulate_shootings: units must include 'Malmö' (the treated unit); "
            f"got {list(units)}."
        )
    return np.array(sorted(names.index(u) for u in dict.fromkeys(units)))


def simulate_shootings(
    *,
    seed: SeedLike = 2018,
    rate_ratio: float = 0.6,
    start: str = "2018-10",
    true_start: str | None = None,
    rimfrost_ratio: float = 1.0,
    rimfrost_start: str = "2019-11",
    rimfrost_end: str | None = None,
    rimfrost_region_syd: bool = False,
    severity_ratio: float = 1.0,
    units: Sequence[str] | None = None,
    first: str = "2014-01",
    last: str = "2023-12",
    malmo_level: float = 62.0 / 12.0,
    malmo_trend: float = 0.0,
    national_trend: float = 0.04,
    dispersion: float = 0.1,
    p_dead: float = 0.13,
    p_injured: float = 0.3,
) -> pd.DataFrame:
    r"""Simulate monthly confirmed shootings in about 20 Swedish cities, Malmö treated.

    Expected counts follow a log-linear model with city levels and trends, shared
    seasonality and national shocks, and a city-specific AR(1) conflict process:

    .. math::

        \log\mu^{0}_{it} = \log\lambda_i + b_i(\tau_t - 2017) + s(m_t) + \eta_t
            + x_{it} - \sigma_x^2/2 - c_i + \log R_{it},

    where :math:`c_i` makes the mean of :math:`\mu^0_{it}` over 2016–2017 equal
    :math:`\lambda_i` (Malmö: ``malmo_level``) and :math:`R_{it}` is the Rimfrost ratio.
    Treated expected counts are :math:`\mu^1_{it} = \theta\,\mu^0_{it}` for Malmö from
    ``true_start``. Counts are Poisson–gamma (negative binomial with variance
    :math:`\mu + \phi\mu^2`), drawn with common random numbers for both potential outcomes.

    Parameters
    ----------
    seed : int or numpy.random.Generator, default 2018
        Seed for ``numpy.random.default_rng``; structural draws, latent paths, counts and
        severity use independent spawned child streams.
    rate_ratio : float, default 0.6
        True multiplicative effect :math:`\theta` of the programme on Malmö's expected rate.
    start : str, default "2018-10"
        Registered start month; ``treated`` is 1 for Malmö from this month.
    true_start : str, optional
        Month from which the effect operates (default ``start``); set it earlier to
        simulate a registered date that is too late.
    rimfrost_ratio : float, default 1.0
        Multiplicative confounding shock (police operation Rimfrost) on the untreated
        and treated rate alike; 1.0 means none.
    rimfrost_start, rimfrost_end : str, optional
        Months the Rimfrost shock is in force (default from 2019-11 to the end).
    rimfrost_region_syd : bool, default False
        Also apply the shock to the other Police Region Syd cities (Helsingborg, Lund,
        Kristianstad), not only Malmö.
    severity_ratio : float, default 1.0
        Multiplier of the probabilities that a shooting kills or injures, for Malmö's
        treated months (the 2023 follow-up reported a lower share with injury or death).
    units : sequence of str, optional
        A subset of :data:`CITIES` (must include Malmö). Draws are made for all cities and
        then subset, so a unit's series does not depend on which other units are kept.
    first, last : str, default "2014-01", "2023-12"
        Months covered.
    malmo_level : float, default 62/12
        Malmö's expected shootings per month in 2016–2017 (public figures: 59 in 2016 and
        65 in 2017, Police via DOMAIN.md).
    malmo_trend : float, default 0.0
        Malmö's own log-linear trend per year, :math:`b_{\text{Malmö}}`.
    national_trend : float, default 0.04
        Log-linear national growth per year until mid-2022, then flat.
    dispersion : float, default 0.1
        Gamma frailty variance :math:`\phi`.
    p_dead, p_injured : float, default 0.13, 0.3
        Probability that a shooting kills someone, and that a non-fatal one injures someone.

    Returns
    -------
    pandas.DataFrame
        Long panel with columns ``unit``, ``region``, ``time`` (monthly Period),
        ``shootings``, ``dead``, ``injured``, ``population``, ``treated``, ``shootings_y0``,
        ``mu0`` and ``mu``; ``df.attrs["truth"]`` holds the true and realised effects.

    References
    ----------
    Braga, A. A., Weisburd, D. & Turchan, B. (2018). Focused deterrence strategies and crime
    control. *Criminology & Public Policy*, 17(1), 205–250.
    """
    what = "simulate_shootings"
    check_positive(what, rate_ratio=rate_ratio, rimfrost_ratio=rimfrost_ratio,
                   severity_ratio=severity_ratio, malmo_level=malmo_level)
    if not (0 < p_dead * max(severity_ratio, 1.0) <= 1 and 0 <= p_injured * max(severity_ratio, 1.0) <= 1):
        raise DesignError(
            f"{what}: p_dead={p_dead}, p_injured={p_injured} times severity_ratio="
            f"{severity_ratio} must stay probabilities in (0, 1]; lower them."
        )
    if dispersion < 0:
        raise DesignError(f"{what}: dispersion={dispersion} must be >= 0 (0 gives Poisson counts).")
    periods = monthly_periods(first, last, what)
    start_p = pd.Period(start, freq="M")
    true_p = pd.Period(true_start, freq="M") if true_start is not None else start_p
    for name, p in (("start", start_p), ("true_start", true_p)):
        if not periods[0] < p <= periods[-1]:
            raise DesignError(
                f"{what}: {name}={p} lies outside the simulated months {periods[0]}..{periods[-1]}"
                " (or at the first month); choose a month with pre- and post-periods."
            )
    keep = _select_units(units)
    streams = spawn_streams(seed, _STREAMS)

    # Latent paths live on a calendar that always contains the 2016-2017 reference window.
    cal = pd.period_range(min(periods[0], pd.Period(_REFERENCE[0], "M")),
                          max(periods[-1], pd.Period(_REFERENCE[1], "M")), freq="M")
    n_all, n_cal = len(CITIES), len(cal)
    tau = cal.year.to_numpy() + (cal.month.to_numpy() - 0.5) / 12.0

    rs = streams["structure"]
    level_noise = rs.normal(0.0, 0.2, n_all)
    trend = rs.normal(0.0, 0.04, n_all)
    growth = rs.normal(0.01, 0.003, n_all)
    shocks = ar1(rs, 1, n_cal, rho=0.6, sigma=0.06)[0]
    pop22 = np.array([c[1] for c in CITIES], dtype=float)
    per100k = np.array([c[3] for c in CITIES])
    level = per100k * pop22 / 1e5 / 12.0 * np.exp(level_noise)
    level[0], trend[0] = malmo_level, malmo_trend

    eta = national_trend * (np.minimum(tau, 2022.5) - 2017.0) + shocks
    smooth = trend[:, None] * (tau - 2017.0)[None, :] + seasonal(cal, 0.12, 8.0)[None, :] + eta[None, :]
    ref = (cal >= _REFERENCE[0]) & (cal <= _REFERENCE[1])
    smooth -= np.log(np.exp(smooth[:, ref]).mean(axis=1))[:, None]
    sigma_x = 0.15
    conflict = ar1(streams["latent"], n_all, n_cal, rho=0.6, sigma=sigma_x)
    log_mu = np.log(level)[:, None] + smooth + conflict - sigma_x**2 / 2.0

    in_range = (cal >= periods[0]) & (cal <= periods[-1])
    log_mu = log_mu[:, in_range]
    n_t = len(periods)
    names = np.array([c[0] for c in CITIES])
    regions = np.array([c[2] for c in CITIES])
    rim_units = ["Malmö"] + (["Helsingborg", "Lund", "Kristianstad"] if rimfrost_region_syd else [])
    rim_end = pd.Period(rimfrost_end, "M") if rimfrost_end is not None else periods[-1]
    rim_t = (periods >= pd.Period(rimfrost_start, "M")) & (periods <= rim_end)
    rim_i = np.isin(names, rim_units)
    mu0 = np.exp(log_mu) * np.where(rim_i[:, None] & rim_t[None, :], rimfrost_ratio, 1.0)
    effect_on = np.zeros((n_all, n_t), dtype=bool)
    effect_on[0] = periods >= true_p
    mu1 = np.where(effect_on, mu0 * rate_ratio, mu0)

    rc = streams["counts"]
    frailty = gamma_frailty(rc, dispersion, (n_all, n_t))
    y0, y1 = coupled_poisson_gamma(mu0, mu1, frailty, open_uniform(rc, (n_all, n_t)))
    rv = streams["severity"]
    sev = np.where(effect_on, severity_ratio, 1.0)
    dead = stats.binom.ppf(open_uniform(rv, (n_all, n_t)), y1, p_dead * sev).astype(np.int64)
    injured = stats.binom.ppf(open_uniform(rv, (n_all, n_t)), y1 - dead,
                              p_injured * sev).astype(np.int64)
    years = periods.year.to_numpy() + (periods.month.to_numpy() - 0.5) / 12.0
    population = np.rint(pop22[:, None] * (1.0 + growth[:, None]) ** (years[None, :] - 2022.5))

    treated = np.zeros((n_all, n_t), dtype=np.int64)
    treated[0] = (periods >= start_p).astype(np.int64)
    sel = keep
    n_u = len(sel)
    df = pd.DataFrame({
        "unit": np.repeat(names[sel], n_t),
        "region": np.repeat(regions[sel], n_t),
        "time": pd.PeriodIndex(np.tile(periods, n_u), freq="M"),
        "shootings": y1[sel].ravel(),
        "dead": dead[sel].ravel(),
        "injured": injured[sel].ravel(),
        "population": population[sel].ravel().astype(np.int64),
        "treated": treated[sel].ravel(),
        "shootings_y0": y0[sel].ravel(),
        "mu0": mu0[sel].ravel(),
        "mu": mu1[sel].ravel(),
    })
    df.attrs["truth"] = _truth(
        df, periods, seed, start_p, true_p,
        dict(rate_ratio=rate_ratio, rimfrost_ratio=rimfrost_ratio,
             rimfrost_start=str(pd.Period(rimfrost_start, "M")), rimfrost_end=str(rim_end),
             rimfrost_units=rim_units, severity_ratio=severity_ratio, first=str(periods[0]),
             last=str(periods[-1]), malmo_level=malmo_level, malmo_trend=malmo_trend,
             national_trend=national_trend, dispersion=dispersion, p_dead=p_dead,
             p_injured=p_injured, conflict_sigma=sigma_x, conflict_rho=0.6,
             units=list(names[sel])),
    )
    return df


def _truth(df: pd.DataFrame, periods: pd.PeriodIndex, seed: SeedLike, start_p: pd.Period,
           true_p: pd.Period, params: dict) -> dict:
    malmo = df[df["unit"] == _TREATED]
    post = malmo[malmo["treated"] == 1]
    diff = post["shootings"] - post["shootings_y0"]
    y0_sum = int(post["shootings_y0"].sum())
    early = malmo[(malmo["time"] >= true_p) & (malmo["time"] < start_p)]
    truth = {
        "world": "shootings",
        "function": "simulate_shootings",
        "generator_version": GENERATOR_VERSION,
        "seed": normalise_seed(seed),
        "treated_unit": _TREATED,
        "outcome": "shootings",
        "rate_ratio": params.pop("rate_ratio"),
        "rimfrost_ratio": params.pop("rimfrost_ratio"),
        "start": str(start_p),
        "true_start": str(true_p),
        "post_period": [str(start_p), str(periods[-1])],
        "n_post_months": len(post),
        "att_per_month": float(diff.mean()),
        "events_prevented": int(-diff.sum()),
        "realised_ratio": float(post["shootings"].sum() / y0_sum) if y0_sum > 0 else None,
        "expected_att_per_month": float((post["mu"] - post["mu0"]).mean()),
        "expected_ratio": float(post["mu"].sum() / post["mu0"].sum()),
        "events_prevented_before_start": int((early["shootings_y0"] - early["shootings"]).sum()),
        "definitions": {
            "att_per_month": "mean of shootings - shootings_y0 over Malmö months with treated == 1",
            "events_prevented": "sum of shootings_y0 - shootings over the same cells",
            "realised_ratio": "sum(shootings) / sum(shootings_y0) over the same cells",
            "expected_att_per_month": "mean of mu - mu0 over the same cells",
            "events_prevented_before_start": "effect in true_start <= month < start (treated == 0)",
        },
        "parameters": params,
    }
    return jsonable(truth)
