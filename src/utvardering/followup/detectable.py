r"""What the follow-up can see: minimum detectable changes and the sample size they need.

A flag that does not appear is not evidence that nothing changed. For every area ×
indicator of a follow-up, :func:`detectable_change` gives the *minimum detectable change*
(MDC): the smallest true change that the follow-up's own test would flag with a given
probability (power), for both comparisons it makes (vs last year; vs the area's own recent
level). :func:`required_sample_size` turns the question around: how many residents must be
sampled per area for a change of a given size to be flagged with that power.

The MDC of a two-sided test at critical value :math:`z_{\text{crit}}` with power
:math:`1-\beta` is (Bloom 1995)

.. math::

    \text{MDC} = (z_{\text{crit}} + z_{1-\beta})\,\operatorname{SE}(\hat D),

where :math:`\operatorname{SE}(\hat D)` is the standard error of the change the follow-up
tests (:mod:`~utvardering.followup.changes`: design-based, on Kish effective sample sizes,
beyond the city's own change). For the Benjamini–Hochberg rule the critical value is not
fixed in advance: a p-value is flagged when it is at most :math:`k\alpha/m`, where :math:`k` is
the number of flags the procedure reached this year among :math:`m` tests (Benjamini &
Hochberg 1995). The MDC uses that threshold, :math:`z_{\text{crit}} =
\Phi^{-1}(1 - k\alpha/2m)` (with :math:`k = 1`, the first step :math:`\alpha/m`, when nothing
was flagged), and the single-test MDC at :math:`z_{1-\alpha_1/2}` is given beside it, so that
the cost of looking at every area × indicator at once is visible.

References
----------
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
powerful approach to multiple testing. *JRSS B* 57, 289–300.

Bloom, H. S. (1995). Minimum detectable effects: a simple way to report the statistical power
of experimental designs. *Evaluation Review* 19, 547–556.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DesignError
from ..options import check_probability

__all__ = [
    "DEFAULT_DEFF",
    "DEFAULT_RESPONSE_RATE",
    "RARE_CASES",
    "SIZE_BANDS",
    "bh_threshold",
    "detectable_by_size",
    "detectable_change",
    "required_sample_size",
]

#: Share of the sampled who answer in the simulated annual world (measured 0.50) and in the
#: police's local safety survey ("about half").
DEFAULT_RESPONSE_RATE = 0.5
#: Kish design effect of post-stratification weights in the simulated annual world (measured
#: 1.11–1.15 by area; real surveys with stronger calibration have 1.3–2).
DEFAULT_DEFF = 1.15
#: Shares with fewer expected cases than this (effective sample size × the rarer of p and 1 − p)
#: and counts with a smaller expected count are ``rare``: the exact tests the follow-up uses are
#: much coarser there than the normal approximation of the MDC (victimisation by violence).
RARE_CASES = 10.0
#: Respondent bands of :func:`detectable_by_size` (upper bounds; the last is open).
SIZE_BANDS = (50, 100, 150)

_COMPARISONS = ("last", "baseline")


def _solve_mdc(kind: np.ndarray, level: np.ndarray, se_link: np.ndarray, var_now: np.ndarray,
               z_crit: float, z_power: float, direction: int) -> np.ndarray:
    r"""MDC in the indicator's units for one direction (+1 up, -1 down); NaN if unreachable.

    Means: :math:`(z_{\text{crit}} + z_{\text{power}})\,s`. Shares: the two-proportion
    formula of the score test that Fisher's exact test approximates (Fleiss, Levin & Paik
    2003, ch. 4), :math:`\Delta = z_{\text{crit}}\sqrt{\bar p(1-\bar p)(1/n_T + 1/n_r)} +
    z_{\text{power}}\sqrt{p_1(1-p_1)/n_T + p(1-p)/n_r}` with :math:`p_1 = p \pm \Delta`,
    :math:`\bar p` the pooled share and :math:`n_T, n_r` the effective sizes of this year and
    of the reference (last year, or the baseline years together), read off the follow-up's
    variances. Counts: on the log scale, :math:`\Delta = z_{\text{crit}}\,s_0 +
    z_{\text{power}}\,s_1(\Delta)` with this year's Poisson variance at the changed mean.
    Solved by fixed-point iteration; a direction that would leave the scale is NaN.
    """
    kind = np.asarray(kind)
    level = np.asarray(level, float)
    share, rate = kind == "share", kind == "rate"
    with np.errstate(all="ignore"):
        var_now = np.where(np.isfinite(var_now), var_now, 0.0)
        rest = np.maximum(se_link**2 - var_now, 0.0)
        pq = level * (1 - level)
        n_now, n_ref = 1.0 / (var_now * pq), 1.0 / (rest * pq)          # shares: effective sizes
        slope = np.where(share, pq, np.where(rate, level, 1.0))
        delta = (z_crit + z_power) * se_link * slope                    # start: the symmetric MDC
        new = delta
        for _ in range(200):
            p1 = level + direction * delta
            pbar = (n_now * p1 + n_ref * level) / (n_now + n_ref)
            s0 = np.sqrt(pbar * (1 - pbar) * (1 / n_now + 1 / n_ref))
            s1 = np.sqrt(p1 * (1 - p1) / n_now + pq / n_ref)
            share_new = z_crit * s0 + z_power * s1
            d_log = np.log1p(direction * delta / level) * direction       # rate: log-scale change
            rate_log = z_crit * se_link + z_power * np.sqrt(rest + var_now * np.exp(-direction * d_log))
            rate_new = level * np.abs(np.expm1(direction * rate_log))
            new = np.where(share, share_new, np.where(rate, rate_new, delta))
            if np.all(~np.isfinite(new) | (np.abs(new - delta) < 1e-12)):
                break
            delta = np.where(np.isfinite(new), new, delta)
        value = level + direction * new
        inside = np.where(share, (value > 0) & (value < 1), np.where(rate, value > 0, True))
        converged = np.isfinite(new) & (np.abs(new - delta) < 1e-8)
    return np.where(converged & inside, new, np.nan)


def bh_threshold(p_values: np.ndarray, flagged: np.ndarray, fdr: float) -> dict:
    r"""The Benjamini–Hochberg threshold a set of tests reached.

    With :math:`k` of :math:`m` finite p-values flagged at false discovery rate
    :math:`\alpha`, every p-value at or below :math:`k\alpha/m` is flagged (the step-up cut),
    so that is the threshold a further change of the same kind had to beat. When nothing was
    flagged, the first step :math:`\alpha/m` is used: the smallest p-value had to be below it.
    (The largest flagged p-value is at most :math:`k\alpha/m` and can be far smaller; it is
    not the cut.)

    Parameters
    ----------
    p_values : array_like
        The comparison's p-values (NaN = not tested).
    flagged : array_like of bool
        Which were flagged.
    fdr : float
        The false discovery rate :math:`\alpha` of the flags.

    Returns
    -------
    dict
        ``p_threshold``, ``z_crit`` (:math:`\Phi^{-1}(1 - p/2)`, two-sided), ``n_flagged``
        (:math:`k`), ``m`` and ``largest_flagged_p`` (NaN when nothing was flagged).

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57, 289–300.
    """
    fdr = check_probability("fdr", fdr, "0.10")
    p = np.asarray(p_values, float)
    flag = np.asarray(flagged, bool) & np.isfinite(p)
    m = int(np.isfinite(p).sum())
    if m == 0:
        raise DesignError("bh_threshold: p_values has no finite p-value, so no test was made.")
    k = int(flag.sum())
    threshold = fdr * max(k, 1) / m
    return {"p_threshold": threshold, "z_crit": float(stats.norm.isf(threshold / 2)),
            "n_flagged": k, "m": m,
            "largest_flagged_p": float(p[flag].max()) if k else float("nan")}


def detectable_change(
    result,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    comparisons: Sequence[str] = _COMPARISONS,
) -> pd.DataFrame:
    r"""Minimum detectable change of every area × indicator, for each comparison.

    .. math::

        \text{MDC} = (z_{\text{crit}} + z_{\text{power}})\,\operatorname{SE}(\hat D),\qquad
        \operatorname{SE}(\hat D) = g'(\eta_a)\sqrt{v_{aT} + v_{\text{ref}}},

    where :math:`v_{at}` are the null sampling variances the follow-up tests with, on the
    indicator's link scale :math:`\eta` (:mod:`~utvardering.followup.changes`):
    :math:`1/\{n^{\text{eff}}_{at}p_a(1-p_a)\}` for shares (Kish effective sample size
    :math:`n/\text{deff}`), the design variance for means and :math:`1/\mu_{at}` for counts
    (Poisson, :math:`\mu` the expected count); :math:`v_{\text{ref}}` is last year's variance
    (``comparison == "last"``) or the variance of the area's baseline (``"baseline"``, e.g.
    :math:`1/\sum_{t<T} v_{at}^{-1}` for the level baseline). The factor
    :math:`g'(\eta_a)` — :math:`p_a(1-p_a)` for shares, 1 for means, the rate for counts —
    expresses the change in the indicator's own units (percentage points as fractions, index
    points, crimes per 100,000) at the area's level this year (delta method); ``se_change``
    is this standard error.

    This symmetric formula is exact for the problem index (a normal test). For shares and
    counts the variance depends on the level, so a rise and a fall of the same size are not
    equally easy to detect; the MDC is then solved per direction with the null variance in the
    critical part and the variance at the changed level in the power part,
    :math:`\Delta = z_{\text{crit}}\,\operatorname{SE}_0(\Delta) + z_{\text{power}}
    \operatorname{SE}_1(\Delta)` — for shares the two-proportion formula of the score test that
    the follow-up's exact conditional test approximates (Fleiss, Levin & Paik 2003), with the
    effective sizes of this year and of the reference read off the variances above.
    ``mdc_up`` and ``mdc_down`` are the two; ``mdc`` is the larger (a change of that size in
    either direction is flagged with at least ``power``), ``direction`` says which one binds,
    and a direction that would leave the scale (a fall of a rare item) is NaN.

    :math:`z_{\text{crit}}` is the critical value the flagging rule really used this year:
    the Benjamini–Hochberg cut :math:`k\alpha/m` reached by the comparison
    (:func:`bh_threshold`, two-sided). ``mdc_single`` is the MDC of one pre-planned two-sided
    test at level ``alpha`` (:math:`z_{1-\alpha/2}`) — what an evaluation of that single area
    and indicator could detect. The far tail of the two-sided test is ignored. ``rare`` marks
    shares with fewer than :data:`RARE_CASES` expected cases (effective size × the rarer of
    :math:`p, 1-p`) and counts with fewer expected crimes: there the exact tests are much
    coarser than any normal approximation (victimisation by violence, robbery in a small area),
    so their MDC is only indicative; the report leaves them out. The MDC against the area's
    own level inherits that comparison's assumption that the area does not drift: drift is
    variance its standard error does not contain, so for drifting areas that MDC is optimistic
    (see :func:`~utvardering.followup.calibration.calibrate_mdc` and the methods page).

    Parameters
    ----------
    result : FollowUp or pandas.DataFrame
        A :class:`~utvardering.followup.run.FollowUp`, or its ``changes`` table (with
        ``attrs["fdr"]``).
    power : float, default 0.8
        Probability of flagging a change of the MDC's size (0.7 and 0.8 are common).
    alpha : float, default 0.05
        Level of the single-test comparison.
    comparisons : sequence of {"last", "baseline"}, default both

    Returns
    -------
    pandas.DataFrame
        One row per area × indicator × comparison: ``unit``, ``indicator``, ``kind``,
        ``comparison``, ``size`` (effective sample size this year, or the count), ``level``,
        ``se_change`` (indicator units), ``p_threshold``, ``z_crit``, ``mdc``, ``mdc_up``,
        ``mdc_down``, ``direction``, ``z_single``, ``mdc_single``, ``mdc_relative``
        (``mdc / level``; for counts the detectable relative change) and ``rare``. ``attrs["thresholds"]`` holds :func:`bh_threshold` per comparison,
        and ``attrs`` also ``power``, ``alpha`` and ``fdr``.

    References
    ----------
    Bloom, H. S. (1995). Minimum detectable effects. *Evaluation Review* 19, 547–556.
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57, 289–300.
    Fleiss, J. L., Levin, B. & Paik, M. C. (2003). *Statistical Methods for Rates and
    Proportions*, 3rd ed., ch. 4. Wiley.

    Examples
    --------
    >>> from utvardering.data.worlds.annual_survey import simulate_annual_followup
    >>> from utvardering.followup import follow_up, detectable_change
    >>> world = simulate_annual_followup(seed=3, n_areas=20, years=(2019, 2022))
    >>> mdc = detectable_change(follow_up(world.survey, world.counts, year=2022))
    >>> sorted(mdc["comparison"].unique())
    ['baseline', 'last']
    """
    power = check_probability("power", power, "0.8")
    alpha = check_probability("alpha", alpha, "0.05")
    changes = getattr(result, "changes", result)
    if not isinstance(changes, pd.DataFrame):
        raise DesignError(f"result={type(result).__name__} must be a FollowUp or its changes table.")
    comparisons = [comparisons] if isinstance(comparisons, str) else list(comparisons)
    for comp in comparisons:
        if comp not in _COMPARISONS:
            raise DesignError(f"comparisons={comparisons!r}: {comp!r} is not one of {list(_COMPARISONS)}.")
    needed = {"se_last", "se_baseline", "level", "slope", "var_now"}
    if not needed <= set(changes.columns):
        raise DesignError(f"result: the changes table lacks {sorted(needed - set(changes.columns))}; "
                          "it was made by an older detect_changes — rerun follow_up.")
    fdr = float(changes.attrs.get("fdr", 0.10))
    z_power = float(stats.norm.ppf(power))
    z_single = float(stats.norm.isf(alpha / 2))
    frames, thresholds = [], {}
    for comp in comparisons:
        th = bh_threshold(changes[f"p_{comp}"].to_numpy(), changes[f"flag_{comp}"].to_numpy(), fdr)
        thresholds[comp] = th
        se_link = changes[f"se_{comp}"].to_numpy(float)
        se = changes["slope"].to_numpy(float) * se_link
        kind = changes["kind"].to_numpy()
        level = changes["level"].to_numpy(float)
        var_now = changes["var_now"].to_numpy(float)
        cols = {}
        for name, z in (("mdc", th["z_crit"]), ("mdc_single", z_single)):
            up = _solve_mdc(kind, level, se_link, var_now, z, z_power, +1)
            down = _solve_mdc(kind, level, se_link, var_now, z, z_power, -1)
            both = np.vstack([up, down])
            cols[name] = np.where(np.isnan(both).all(axis=0), np.nan, np.nanmax(np.where(np.isnan(both), -np.inf, both), axis=0))
            cols[f"{name}_up"], cols[f"{name}_down"] = up, down
        up, down = cols["mdc_up"], cols["mdc_down"]
        direction = np.where(np.isfinite(up) & ~(np.isfinite(down) & (down > up)), "up", "down")
        expected_cases = np.where(kind == "share", changes["size"].to_numpy(float) * np.minimum(level, 1 - level),
                                  np.where(kind == "rate", 1.0 / np.maximum(var_now, 1e-300), np.inf))
        frames.append(pd.DataFrame({
            "unit": changes["unit"].to_numpy(), "indicator": changes["indicator"].to_numpy(),
            "kind": kind, "comparison": comp, "size": changes["size"].to_numpy(),
            "level": level, "se_change": se,
            "p_threshold": th["p_threshold"], "z_crit": th["z_crit"], "mdc": cols["mdc"],
            "mdc_up": cols["mdc_up"], "mdc_down": cols["mdc_down"], "direction": direction,
            "z_single": z_single, "mdc_single": cols["mdc_single"],
            "mdc_relative": cols["mdc"] / level, "rare": expected_cases < RARE_CASES,
        }))
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update({"power": power, "alpha": alpha, "fdr": fdr, "thresholds": thresholds})
    return out


def required_sample_size(
    change: float,
    level: float,
    *,
    power: float = 0.8,
    comparison: str = "last",
    baseline_years: int = 4,
    fdr: float = 0.10,
    m: int = 1360,
    n_flagged: int = 0,
    p_threshold: float | None = None,
    alpha: float = 0.05,
    response_rate: float = DEFAULT_RESPONSE_RATE,
    deff: float = DEFAULT_DEFF,
) -> pd.DataFrame:
    r"""Residents to sample per area so that a change of a share is flagged with ``power``.

    The sample-size form of the MDC (Bloom 1995): with the same effective sample size
    :math:`n_e` every year, the symmetric formula gives

    .. math::

        n_e = f\,\frac{p(1-p)\,(z_{\text{crit}} + z_{\text{power}})^2}{\Delta^2}
        \quad (f = 2 \text{ vs last year}, \; f = 1 + 1/B \text{ vs the mean of } B \text{ years}),

    and, as in :func:`detectable_change`, the two-proportion formula with the variance at the
    changed share :math:`p_1 = p + \Delta` in the power part (Fleiss, Levin & Paik 2003), used
    here:

    .. math::

        \sqrt{n_e} = \frac{z_{\text{crit}}\sqrt{\bar p(1-\bar p)(1 + 1/c)} +
        z_{\text{power}}\sqrt{p_1(1-p_1) + p(1-p)/c}}{|\Delta|},\qquad
        \bar p = \frac{p_1 + c\,p}{1 + c},

    with :math:`c = 1` (vs last year) or :math:`c = B` (vs the area's level over :math:`B`
    years), then :math:`n_{\text{sampled}} = n_e\cdot\text{deff}/r` for the Kish design effect
    and the response rate :math:`r`. (For a share below 50 % a rise needs more than a fall of
    the same size.) Two critical values are used: a single pre-planned two-sided test at
    ``alpha``, and the Benjamini–Hochberg cut :math:`\max(k,1)\,\alpha_{\text{FDR}}/m` for
    :math:`k` flags among :math:`m` tests (or ``p_threshold`` if given, e.g. this year's from
    :func:`detectable_change`'s ``attrs["thresholds"]``).

    Parameters
    ----------
    change : float
        Change to detect, as a signed fraction (0.08 = a rise of 8 percentage points, -0.08 a
        fall).
    level : float
        The share before the change (0.30 = 30 %).
    power : float, default 0.8
    comparison : {"last", "baseline"}, default "last"
    baseline_years : int, default 4
        Years in the baseline (``comparison="baseline"``).
    fdr : float, default 0.10
        False discovery rate of the flags.
    m : int, default 1360
        Number of tests the flags are corrected over (136 areas × 10 indicators).
    n_flagged : int, default 0
        Flags the procedure reaches (0 or 1: the first step :math:`\alpha/m`).
    p_threshold : float, optional
        The BH threshold directly (overrides ``fdr``, ``m`` and ``n_flagged``).
    alpha : float, default 0.05
        Level of the single test.
    response_rate : float, default :data:`DEFAULT_RESPONSE_RATE`
    deff : float, default :data:`DEFAULT_DEFF`
        Kish design effect of the weights (at least 1).

    Returns
    -------
    pandas.DataFrame
        Indexed by rule (``"single"``, ``"fdr"``): ``p_threshold``, ``z_crit``,
        ``n_effective``, ``n_respondents`` and ``n_sampled`` (rounded up), and ``change``,
        ``level``, ``power``, ``response_rate``, ``deff``.

    References
    ----------
    Bloom, H. S. (1995). Minimum detectable effects. *Evaluation Review* 19, 547–556.
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57, 289–300.
    Fleiss, J. L., Levin, B. & Paik, M. C. (2003). *Statistical Methods for Rates and
    Proportions*, 3rd ed., ch. 4. Wiley.

    Examples
    --------
    >>> n = required_sample_size(0.08, 0.30, deff=1.2, response_rate=0.5)
    >>> int(n.loc["single", "n_sampled"])
    1319
    """
    power = check_probability("power", power, "0.8")
    alpha = check_probability("alpha", alpha, "0.05")
    level = check_probability("level", level, "0.30")
    if not (isinstance(response_rate, int | float | np.floating | np.integer) and 0 < response_rate <= 1):
        raise DesignError(f"response_rate={response_rate!r} must lie in (0, 1], e.g. 0.5 when half answer.")
    response_rate = float(response_rate)
    fdr = check_probability("fdr", fdr, "0.10")
    if not (isinstance(change, int | float | np.floating | np.integer) and 0 < abs(change) < 1):
        raise DesignError(f"change={change!r} must be a non-zero share change below 1 in absolute "
                          "value, e.g. 0.08 for 8 percentage points.")
    if not 0 < level + change < 1:
        raise DesignError(f"change={change!r} at level={level!r} leaves the 0-1 range.")
    if comparison not in _COMPARISONS:
        raise DesignError(f"comparison={comparison!r} must be one of {list(_COMPARISONS)}.")
    if not (isinstance(baseline_years, int | np.integer) and baseline_years >= 1):
        raise DesignError(f"baseline_years={baseline_years!r} must be a whole number of at least 1.")
    if not (isinstance(m, int | np.integer) and m >= 1):
        raise DesignError(f"m={m!r} must be a whole number of tests, at least 1 (e.g. 1360).")
    if not (isinstance(n_flagged, int | np.integer) and 0 <= n_flagged <= m):
        raise DesignError(f"n_flagged={n_flagged!r} must be a whole number between 0 and m={m}.")
    if not (isinstance(deff, int | float | np.floating | np.integer) and deff >= 1):
        raise DesignError(f"deff={deff!r} must be a design effect of at least 1, e.g. 1.2.")
    if p_threshold is None:
        p_threshold = fdr * max(int(n_flagged), 1) / m
    p_threshold = check_probability("p_threshold", p_threshold, "0.10 / 1360")
    c = 1.0 if comparison == "last" else float(baseline_years)
    p1 = level + change
    pbar = (p1 + c * level) / (1 + c)
    s0 = math.sqrt(pbar * (1 - pbar) * (1 + 1 / c))
    s1 = math.sqrt(p1 * (1 - p1) + level * (1 - level) / c)
    z_power = float(stats.norm.ppf(power))
    rows = {}
    for rule, p_crit in (("single", alpha), ("fdr", p_threshold)):
        z_crit = float(stats.norm.isf(p_crit / 2))
        n_eff = ((z_crit * s0 + z_power * s1) / change) ** 2
        n_resp = n_eff * deff
        rows[rule] = {"p_threshold": p_crit, "z_crit": z_crit, "n_effective": n_eff,
                      "n_respondents": n_resp, "n_sampled": math.ceil(n_resp / response_rate - 1e-9),
                      "change": float(change), "level": level, "power": power,
                      "response_rate": response_rate, "deff": float(deff)}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "rule"
    return out


def detectable_by_size(result, mdc: pd.DataFrame | None = None, *, kind: str = "share",
                       bands: Sequence[int] = SIZE_BANDS, include_rare: bool = False) -> pd.DataFrame:
    """Median MDC over areas (and indicators of ``kind``) by the area's respondents this year.

    Parameters
    ----------
    result : FollowUp
    mdc : pandas.DataFrame, optional
        Output of :func:`detectable_change` (default: computed with its defaults).
    kind : {"share", "mean", "rate"}, default "share"
        Indicators summarised (rates are banded by nothing and give one row).
    bands : sequence of int, default :data:`SIZE_BANDS`
        Upper bounds of the respondent bands; the last band is open.
    include_rare : bool, default False
        Include ``rare`` rows (fewer than :data:`RARE_CASES` expected cases), whose MDC is
        only a rough normal approximation of the exact test.

    Returns
    -------
    pandas.DataFrame
        One row per band: ``band`` (e.g. ``"101-150"``), ``areas``, ``respondents`` (median)
        and per comparison ``mdc_<comparison>`` and ``mdc_single_<comparison>`` (medians).
    """
    if kind not in ("share", "mean", "rate"):
        raise DesignError(f"kind={kind!r} must be 'share', 'mean' or 'rate'.")
    bands = [int(b) for b in bands]
    if not bands or any(b <= 0 for b in bands) or sorted(set(bands)) != bands:
        raise DesignError(f"bands={bands!r} must be increasing positive whole numbers, e.g. (50, 100, 150).")
    mdc = detectable_change(result) if mdc is None else mdc
    d = mdc[(mdc["kind"] == kind) & (include_rare | ~mdc["rare"].astype(bool))]
    if d.empty:
        return pd.DataFrame()
    est = result.estimates
    # an area's respondents this year: the median over its survey indicators (item
    # non-response makes them differ slightly); rates have none
    cur = est[(est["time"] == result.year) & (est["unit"] != "City") & (est["kind"] != "rate")]
    area_n = cur.groupby("unit")["n"].median() if "n" in cur and len(cur) else pd.Series(dtype=float)
    d = d.assign(n=d["unit"].map(area_n) if kind != "rate" else np.nan)
    edges = [0, *bands, np.inf]
    labels = [f"{lo + 1}-{hi}" for lo, hi in itertools.pairwise([0, *bands])] + [f">{bands[-1]}"]
    if kind == "rate" or d["n"].isna().all():
        d["band"] = "all"
    else:
        d["band"] = pd.cut(d["n"], edges, labels=labels).astype(str)
    wide = d.pivot_table(index=["band", "unit", "indicator"], columns="comparison",
                         values=["mdc", "mdc_single"], observed=True)
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    wide = wide.reset_index()
    areas = d.drop_duplicates("unit").groupby("band", sort=False)
    out = wide.drop(columns=["unit", "indicator"]).groupby("band", sort=False).median()
    out.insert(0, "respondents", areas["n"].median())
    out.insert(0, "areas", areas["unit"].nunique())
    order = [b for b in [*labels, "all"] if b in out.index]
    return out.loc[order].reset_index()
