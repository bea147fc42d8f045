"""Simulated reported crime in Malmö's areas, with security guards at Möllevången."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
    jsonable,
    month_fraction,
    monthly_periods,
    normalise_seed,
    open_uniform,
    seasonal,
    spawn_streams,
)
from .malmo_areas import AREA_NAMES, DEFAULT_NEIGHBOURS, OFFENCES, TREATED_AREA, area_table

__all__ = ["DEFAULT_EFFECTS", "simulate_area_crime"]

DEFAULT_EFFECTS: dict[str, float] = {
    "violence": 0.85, "theft": 0.9, "drugs": 1.1, "public_order": 0.8,
}
_STREAMS = ("structure", "latent", "counts")
# Per offence: city trend per year (log), seasonal amplitude, peak month, frailty variance,
# multiplier during the pandemic months 2020-03..2021-05.
_OFFENCE_PARAMS = {
    "violence": (0.00, 0.10, 7.0, 0.02, 0.92),
    "theft": (-0.05, 0.08, 9.0, 0.02, 0.85),
    "drugs": (0.04, 0.05, 5.0, 0.06, 1.00),
    "public_order": (-0.01, 0.15, 7.0, 0.04, 0.95),
}
_CITIZEN_PROMISE = (("Möllevången", "Rådmansvången"), "2021-04-01", "2022-04-30")


def _per_offence(value: float | Mapping[str, float], name: str, default: float) -> dict[str, float]:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(OFFENCES))
        if unknown:
            raise DesignError(
                f"simulate_area_crime: {name} has unknown offence(s) {unknown}; "
                f"use keys from {list(OFFENCES)}."
            )
        return {k: float(value.get(k, default)) for k in OFFENCES}
    return dict.fromkeys(OFFENCES, float(value))


def simulate_area_crime(
    *,
    seed: SeedLike = 2021,
    effects: Mapping[str, float] | None = None,
    start: str = "2021-06-14",
    end: str | None = "2022-12-31",
    displacement: float | Mapping[str, float] = 0.0,
    neighbours: Sequence[str] = DEFAULT_NEIGHBOURS,
    citizen_promise_ratio: float = 1.0,
    first: str = "2017-01",
    last: str = "2023-12",
    area_trend_sd: float = 0.03,
) -> pd.DataFrame:
    r"""Simulate monthly reported crime by offence group in 136 Malmö areas.

    For area :math:`i`, offence :math:`k` and month :math:`t`,

    .. math::

        \log\mu^{0}_{ikt} = \log L_{ik} + (\beta_k + b_i)(\tau_t - 2019.5) + s_k(m_t)
            + \eta_{kt} + \log C_{kt} + x_{ikt} - \sigma_x^2/2 - c_{ik},

    with :math:`L_{ik}` the expected monthly count in 2019 (:math:`c_{ik}` normalises the
    2019 mean), city-wide offence trends :math:`\beta_k`, area trends :math:`b_i`,
    seasonality :math:`s_k`, city-wide AR(1) shocks :math:`\eta_{kt}`, a pandemic factor
    :math:`C_{kt}` and an area × offence AR(1) process :math:`x_{ikt}`. With :math:`d_t` the
    share of month :math:`t`'s days in ``[start, end]``, Möllevången's treated mean is
    :math:`\mu^1 = \mu^0\{1 + d_t(\theta_k - 1)\}` and each neighbour's is
    :math:`\mu^1 = \mu^0(1 + d_t\delta_k)`. Counts are Poisson–gamma with common random
    numbers for both potential outcomes.

    Parameters
    ----------
    seed : int or numpy.random.Generator, default 2021
        Seed for ``numpy.random.default_rng``; structure, latent paths and counts use
        independent spawned child streams.
    effects : mapping, optional
        True rate ratios :math:`\theta_k` by offence; default
        ``{"violence": 0.85, "theft": 0.9, "drugs": 1.1, "public_order": 0.8}`` (drug
        offences rise because guards detect more). Offences left out get 1.0.
    start, end : str, default "2021-06-14", "2022-12-31"
        First and last day (inclusive) the guards are in force; ``end=None`` = to the end.
    displacement : float or mapping, default 0.0
        Multiplicative change :math:`\delta_k` in the neighbours' rates while in force;
        positive is displacement, negative diffusion of benefits.
    neighbours : sequence of str
        Areas that receive displacement (flagged ``neighbour = 1``).
    citizen_promise_ratio : float, default 1.0
        Confounding multiplicative shock in Möllevången and Rådmansvången during the police
        citizen promise (1 Apr 2021 – 30 Apr 2022), on both potential outcomes.
    first, last : str, default "2017-01", "2023-12"
        Months covered.
    area_trend_sd : float, default 0.03
        Standard deviation of the area trends :math:`b_i` (log per year).

    Returns
    -------
    pandas.DataFrame
        Wide panel, one row per area × month: ``unit``, ``time`` (monthly Period), one
        count column per offence, ``population``, ``treated`` (1 in every month with any
        day in force), ``treated_share`` (:math:`d_t`), ``neighbour`` and
        ``<offence>_y0``; ``df.attrs["truth"]`` holds the true and realised effects.

    References
    ----------
    Bowers, K. J., Johnson, S. D., Guerette, R. T., Summers, L. & Poynton, S. (2011). Spatial
    displacement and diffusion of benefits among geographically focused policing
    initiatives. *Journal of Experimental Criminology*, 7(4), 347–374.
    """
    what = "simulate_area_crime"
    theta = _per_offence(DEFAULT_EFFECTS if effects is None else effects, "effects", 1.0)
    delta = _per_offence(displacement, "displacement", 0.0)
    check_positive(what, citizen_promise_ratio=citizen_promise_ratio,
                   **{f"effects[{k}]": v for k, v in theta.items()},
                   **{f"1 + displacement[{k}]": 1 + v for k, v in delta.items()})
    unknown = [n for n in neighbours if n not in AREA_NAMES]
    if unknown or TREATED_AREA in neighbours:
        raise DesignError(
            f"{what}: neighbours {unknown or [TREATED_AREA]} are not valid neighbour areas; "
            f"use area names other than {TREATED_AREA!r}, e.g. {list(DEFAULT_NEIGHBOURS)}."
        )
    periods = monthly_periods(first, last, what)
    share = month_fraction(periods, start, end)
    if share.sum() == 0 or share[0] > 0:
        raise DesignError(
            f"{what}: the period in force {start}..{end} must start after the first simulated "
            f"month {periods[0]} and overlap {periods[0]}..{periods[-1]}; adjust start/end."
        )
    streams = spawn_streams(seed, _STREAMS)
    rs = streams["structure"]
    n_a, n_k = len(AREA_NAMES), len(OFFENCES)
    population, levels = area_table(rs)
    area_trend = rs.normal(0.0, area_trend_sd, n_a)
    growth = rs.normal(0.008, 0.005, n_a)
    cal = calendar_with(periods, "2019-01", "2019-12")
    n_cal = len(cal)
    tau = cal.year.to_numpy() + (cal.month.to_numpy() - 0.5) / 12.0 - 2019.5
    city_shocks = ar1(rs, n_k, n_cal, rho=0.5, sigma=0.05)
    covid = (cal >= pd.Period("2020-03", "M")) & (cal <= pd.Period("2021-05", "M"))

    log_mu = np.empty((n_a, n_k, n_cal))
    for k, off in enumerate(OFFENCES):
        beta, amp, peak, _, cfac = _OFFENCE_PARAMS[off]
        log_mu[:, k, :] = ((beta + area_trend)[:, None] * tau[None, :]
                           + (seasonal(cal, amp, peak) + city_shocks[k]
                              + np.where(covid, np.log(cfac), 0.0))[None, :])
    ref = (cal >= pd.Period("2019-01", "M")) & (cal <= pd.Period("2019-12", "M"))
    log_mu -= np.log(np.exp(log_mu[:, :, ref]).mean(axis=2))[:, :, None]
    sigma_x = 0.1
    x = ar1(streams["latent"], n_a * n_k, n_cal, rho=0.5, sigma=sigma_x).reshape(n_a, n_k, n_cal)
    log_mu += np.log(levels)[:, :, None] + x - sigma_x**2 / 2.0
    in_range = (cal >= periods[0]) & (cal <= periods[-1])
    mu0 = np.exp(log_mu[:, :, in_range])

    cp_units, cp_from, cp_to = _CITIZEN_PROMISE
    cp_share = month_fraction(periods, cp_from, cp_to)
    cp_rows = np.isin(np.array(AREA_NAMES), cp_units)
    mu0[cp_rows] *= (1.0 + cp_share * (citizen_promise_ratio - 1.0))[None, None, :]
    treated_row = AREA_NAMES.index(TREATED_AREA)
    is_neigh = np.isin(np.array(AREA_NAMES), list(neighbours))
    mult = np.ones_like(mu0)
    mult[treated_row] = 1.0 + share[None, :] * (np.array([theta[k] for k in OFFENCES]) - 1.0)[:, None]
    mult[is_neigh] = (1.0 + share[None, :] * np.array([delta[k] for k in OFFENCES])[:, None])[None]
    mu1 = mu0 * mult

    rc = streams["counts"]
    n_t = len(periods)
    phi = np.array([_OFFENCE_PARAMS[k][3] for k in OFFENCES])
    frailty = rc.gamma(1.0 / phi[None, :, None], phi[None, :, None], size=(n_a, n_k, n_t))
    y0, y1 = coupled_poisson_gamma(mu0, mu1, frailty, open_uniform(rc, (n_a, n_k, n_t)))

    years = periods.year.to_numpy() + (periods.month.to_numpy() - 0.5) / 12.0 - 2019.5
    pop = np.rint(population[:, None] * (1.0 + growth[:, None]) ** years[None, :]).astype(np.int64)
    cols: dict[str, object] = {
        "unit": np.repeat(np.array(AREA_NAMES), n_t),
        "time": pd.PeriodIndex(np.tile(periods, n_a), freq="M"),
    }
    for k, off in enumerate(OFFENCES):
        cols[off] = y1[:, k, :].ravel()
    cols["population"] = pop.ravel()
    treated = np.zeros((n_a, n_t), dtype=np.int64)
    treated[treated_row] = (share > 0).astype(np.int64)
    treated_share = np.zeros((n_a, n_t))
    treated_share[treated_row] = share
    cols["treated"] = treated.ravel()
    cols["treated_share"] = treated_share.ravel()
    cols["neighbour"] = np.repeat(is_neigh.astype(np.int64), n_t)
    for k, off in enumerate(OFFENCES):
        cols[f"{off}_y0"] = y0[:, k, :].ravel()
    df = pd.DataFrame(cols)

    params = dict(effects=theta, start=str(pd.Timestamp(start).date()),
                  end=None if end is None else str(pd.Timestamp(end).date()),
                  displacement=delta, neighbours=list(neighbours),
                  citizen_promise_ratio=citizen_promise_ratio,
                  citizen_promise=[list(cp_units), cp_from, cp_to], first=str(periods[0]),
                  last=str(periods[-1]), area_trend_sd=area_trend_sd, latent_sigma=sigma_x,
                  offence_params={k: dict(zip(("trend", "season_amplitude", "season_peak",
                                               "dispersion", "pandemic_factor"), v))
                                  for k, v in _OFFENCE_PARAMS.items()})
    on = share > 0
    df.attrs["truth"] = jsonable({
        "world": "area_crime",
        "function": "simulate_area_crime",
        "generator_version": GENERATOR_VERSION,
        "seed": normalise_seed(seed),
        "treated_unit": TREATED_AREA,
        "outcomes": list(OFFENCES),
        "rate_ratios": theta,
        "neighbours": list(neighbours),
        "displacement": delta,
        "start": params["start"],
        "end": params["end"],
        "treated_months": [str(periods[on][0]), str(periods[on][-1])],
        "n_treated_months": int(on.sum()),
        "first_month_share": float(share[on][0]),
        "att": _mean_diff(y1[treated_row][:, on], y0[treated_row][:, on]),
        "events_changed": _sum_diff(y1[treated_row][:, on], y0[treated_row][:, on]),
        "realised_ratio": _ratio(y1[treated_row][:, on], y0[treated_row][:, on]),
        "expected_att": _mean_diff(mu1[treated_row][:, on], mu0[treated_row][:, on]),
        "neighbour_att": _mean_diff(y1[is_neigh][:, :, on], y0[is_neigh][:, :, on]),
        "neighbour_events_changed": _sum_diff(y1[is_neigh][:, :, on], y0[is_neigh][:, :, on]),
        "neighbour_realised_ratio": _ratio(y1[is_neigh][:, :, on], y0[is_neigh][:, :, on]),
        "definitions": {
            "att": "per offence, mean of y - y0 over Möllevången months with treated == 1",
            "events_changed": "per offence, sum of y - y0 over the same cells",
            "realised_ratio": "per offence, sum(y) / sum(y0) over the same cells",
            "expected_att": "per offence, mean of mu1 - mu0 over the same cells",
            "neighbour_*": "the same over neighbour areas in the months with treated == 1",
        },
        "parameters": params,
    })
    return df


def _offence_axis(a: np.ndarray) -> np.ndarray:
    """Move the offence axis first and flatten the rest."""
    return np.moveaxis(a, -2, 0).reshape(a.shape[-2], -1)


def _mean_diff(y1: np.ndarray, y0: np.ndarray) -> dict[str, float]:
    d = _offence_axis(y1 - y0)
    return {k: float(d[i].mean()) if d.shape[1] else None for i, k in enumerate(OFFENCES)}


def _sum_diff(y1: np.ndarray, y0: np.ndarray) -> dict[str, int]:
    d = _offence_axis(y1 - y0)
    return {k: int(d[i].sum()) for i, k in enumerate(OFFENCES)}


def _ratio(y1: np.ndarray, y0: np.ndarray) -> dict[str, float | None]:
    a, b = _offence_axis(y1).sum(axis=1), _offence_axis(y0).sum(axis=1)
    return {k: float(a[i] / b[i]) if b[i] > 0 else None for i, k in enumerate(OFFENCES)}
