r"""Change separated from noise: this year vs last year and vs the area's own baseline.

For area :math:`a` and indicator :math:`k` in report year :math:`T`, on the indicator's link
scale (logit for shares, log for rates, identity for means), the *change beyond the city* is

.. math::

    D_a = (\hat\theta_{aT} - \hat\theta_{a,T-1}) - (\hat\beta_T - \hat\beta_{T-1}),

where :math:`\hat\beta_t` are the city year means of the small-area model. It is tested
against zero with the sampling variances evaluated under the null, :math:`v_{at} =
1/\{n^{\text{eff}}_{at}\tilde p_{at}(1-\tilde p_{at})\}` for shares (with :math:`\tilde p` the
area's fitted level in that year) and the design variance for means; the p-values of
shares and counts are exact conditional tests instead (shares: Fisher's non-central
hypergeometric test on the Kish effective counts with the city's odds ratio; counts: the
binomial test of :math:`y_T \mid y_T + y_{T-1}`, Poisson), because normal approximations
are far too optimistic in the tails for rare items (victimisation by violence: about two
cases per area and year), and the false-discovery correction lives in those tails. The comparison with the area's own baseline
replaces year :math:`T-1` by the precision-weighted mean of the area's deviations from the
city in the ``baseline_years`` before :math:`T` (``baseline="level"``), or by their weighted
linear trend extrapolated to :math:`T` (``baseline="linear"``).

P-values of all areas × indicators are adjusted with the Benjamini–Hochberg procedure; a
change is flagged as real when its adjusted value (q-value) is at most ``fdr``. Among all
flags, the expected share of false ones is then at most ``fdr`` (Benjamini & Hochberg 1995).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import DesignError
from ..options import check_option

__all__ = ["benjamini_hochberg", "conditional_exact_p", "detect_changes"]


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    r"""Benjamini–Hochberg adjusted p-values (q-values); NaN p-values stay NaN.

    :math:`q_{(i)} = \min_{j \ge i} \min(1, m\,p_{(j)}/j)` for the :math:`m` finite p-values
    sorted increasingly. Rejecting every hypothesis with :math:`q \le \alpha` controls the
    false discovery rate at :math:`\alpha` for independent or positively dependent tests.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57, 289–300.
    """
    p = np.asarray(p, float)
    q = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    q[ok] = out
    return q


def _inverse(link: str, x):
    return special.expit(x) if link == "logit" else np.exp(x) if link == "log" else x


def conditional_exact_p(y1: np.ndarray, n1: np.ndarray, y0: np.ndarray, n0: np.ndarray,
                 omega: np.ndarray) -> np.ndarray:
    r"""Two-sided exact conditional p-values for two binomials with a known odds ratio.

    Given :math:`m = y_1 + y_0` successes, :math:`y_1` follows Fisher's non-central
    hypergeometric distribution :math:`P(k) \propto \binom{n_1}{k}\binom{n_0}{m-k}\omega^k`
    under :math:`H_0`: the odds ratio of group 1 to group 0 is :math:`\omega` (the city's
    change). The p-value sums the probabilities of outcomes no more likely than the observed
    one (the conditional exact test; exact for rare items where normal approximations fail).
    """
    out = np.full(len(y1), np.nan)
    for i in range(len(y1)):
        a, b, k_obs = int(n1[i]), int(n0[i]), int(y1[i])
        m = k_obs + int(y0[i])
        if a <= 0 or b <= 0:
            continue
        k = np.arange(max(0, m - b), min(a, m) + 1)
        logp = (special.gammaln(a + 1) - special.gammaln(k + 1) - special.gammaln(a - k + 1)
                + special.gammaln(b + 1) - special.gammaln(m - k + 1) - special.gammaln(b - m + k + 1)
                + k * np.log(omega[i]))
        logp -= logp.max()
        prob = np.exp(logp)
        prob /= prob.sum()
        obs = prob[k == k_obs][0]
        out[i] = min(1.0, float(prob[prob <= obs * (1 + 1e-7)].sum()))
    return out


def _binom_p(k: np.ndarray, m: np.ndarray, p0: np.ndarray) -> np.ndarray:
    """Two-sided exact binomial p-values (outcomes no more likely than the observed one)."""
    out = np.ones(len(k))
    for i in np.flatnonzero(m > 0):
        n, p = int(m[i]), float(np.clip(p0[i], 1e-12, 1 - 1e-12))
        x = np.arange(n + 1)
        logp = (special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
                + x * np.log(p) + (n - x) * np.log1p(-p))
        prob = np.exp(logp - logp.max())
        prob /= prob.sum()
        out[i] = min(1.0, float(prob[prob <= prob[int(k[i])] * (1 + 1e-7)].sum()))
    return out


def detect_changes(
    area_table: pd.DataFrame,
    fits: dict,
    year,
    *,
    fdr: float = 0.10,
    baseline: str = "level",
    baseline_years: int = 4,
) -> pd.DataFrame:
    """Test every area × indicator for a real change in ``year``.

    Parameters
    ----------
    area_table : pandas.DataFrame
        Area rows (no city rows) of the survey and count estimates: ``unit``, ``time``,
        ``indicator``, ``kind``, ``estimate``, and ``n_eff`` (shares), ``se`` (means),
        ``count`` and ``exposure`` (rates).
    fits : dict
        Indicator → :class:`~utvardering.followup.smallarea.SmallAreaFit`.
    year
        The report year :math:`T`.
    fdr : float, default 0.10
        False discovery rate for the flags.
    baseline : {"level", "linear"}, default "level"
        The area's own baseline: its mean deviation from the city over the previous
        ``baseline_years`` years, or its linear trend in that deviation.
    baseline_years : int, default 4

    Returns
    -------
    pandas.DataFrame
        One row per area × indicator: ``unit``, ``indicator``, ``kind``, ``value``
        (this year's direct estimate), ``value_last``, ``change``, ``city_change``,
        ``z_last``, ``p_last``, ``q_last``, ``flag_last``, ``expected`` (the value
        expected from the area's own baseline and the city's change), ``p_baseline``,
        ``q_baseline``, ``flag_baseline``, ``prob_up`` (small-area posterior probability
        that the area moved up relative to the city), ``size`` (this year's Kish effective
        sample size, or the count for rates); ``se_last`` and ``se_baseline`` (the standard
        errors of the two comparisons on the link scale, with the null variances above),
        ``level`` (the area's level this year under the null: share, mean or rate) and
        ``var_now`` (this year's null variance on the link scale, the part of both
        comparisons' variances that changes with the area's level this year) and ``slope``
        (the derivative of the indicator's scale with respect to the link at that
        level: :math:`p(1-p)`, 1 or the rate), used by
        :func:`~utvardering.followup.detectable.detectable_change`.
    """
    check_option("baseline", baseline, ("level", "linear"))
    if not 0 < fdr < 1:
        raise DesignError(f"fdr={fdr!r} must lie strictly between 0 and 1, e.g. 0.10.")
    if baseline_years < (2 if baseline == "linear" else 1):
        raise DesignError(f"baseline_years={baseline_years} is too few for baseline={baseline!r}.")
    rows = []
    for indicator, g in area_table.groupby("indicator", sort=False):
        fit = fits[indicator]
        kind = g["kind"].iloc[0]
        times = list(fit.times)
        if year not in times or times.index(year) == 0:
            raise DesignError(f"indicator {indicator!r}: year {year!r} has no earlier year in the "
                              f"data (years {times[0]}..{times[-1]}); choose a later report year.")
        j = times.index(year)
        units = fit.units
        shape = (len(units), len(times))
        ai = units.get_indexer(g["unit"])
        ti = pd.Index(times).get_indexer(g["time"])

        def grid(col, fill=np.nan, ai=ai, ti=ti, g=g, shape=shape):
            out = np.full(shape, fill, float)
            out[ai, ti] = g[col].to_numpy(float)
            return out

        est = grid("estimate")
        beta = fit.beta
        level_a = (fit.mean - fit.beta[None, :]).mean(axis=1) if fit.method == "nuts" else None
        fitted = fit.mean if level_a is None else fit.beta[None, :] + level_a[:, None]
        if kind == "share":
            n = grid("n_eff", 0.0)
            obs = np.isfinite(est) & (n > 0)
            theta = special.logit((np.where(obs, est, 0) * n + 0.5) / (n + 1.0))
            # null variance from the area's level (area effect + city year), not the cell's own p
            a_level = _area_level(fit, fitted)
            p0 = special.expit(beta[None, :] + a_level[:, None])
            v = np.where(obs, 1.0 / np.maximum(n * p0 * (1 - p0), 1e-12), np.inf)
        elif kind == "mean":
            se = grid("se")
            obs = np.isfinite(est) & np.isfinite(se) & (se > 0)
            theta = np.where(obs, est, 0.0)
            v = np.where(obs, se**2, np.inf)
        else:
            cnt, expo = grid("count"), grid("exposure", 0.0)
            obs = np.isfinite(cnt) & (expo > 0)
            theta = np.log((np.where(obs, cnt, 0) + 0.5) / np.where(obs, expo, 1.0))
            a_level = _area_level(fit, fitted)
            mu0 = expo * np.exp(beta[None, :] + a_level[:, None])
            v = np.where(obs, 1.0 / np.maximum(mu0, 1e-12), np.inf)
        dev = theta - beta[None, :]
        # --- vs last year ---
        d_last = dev[:, j] - dev[:, j - 1]
        var_last = v[:, j] + v[:, j - 1]
        z_last = d_last / np.sqrt(var_last)
        p_last = 2 * stats.norm.sf(np.abs(z_last))
        ok_last = obs[:, j] & obs[:, j - 1]
        # --- vs own baseline ---
        lo = max(0, j - baseline_years)
        win = slice(lo, j)
        prec = np.where(obs[:, win], 1.0 / v[:, win], 0.0)
        if baseline == "level":
            sp = prec.sum(axis=1)
            pred = np.where(sp > 0, (prec * np.where(obs[:, win], dev[:, win], 0)).sum(axis=1) / np.maximum(sp, 1e-300), np.nan)
            var_pred = np.where(sp > 0, 1.0 / np.maximum(sp, 1e-300), np.inf)
        else:
            x = np.arange(lo, j, dtype=float) - j
            sp = prec.sum(axis=1)
            xbar = (prec * x).sum(axis=1) / np.maximum(sp, 1e-300)
            sxx = (prec * (x[None, :] - xbar[:, None]) ** 2).sum(axis=1)
            dd = np.where(obs[:, win], dev[:, win], 0)
            dbar = (prec * dd).sum(axis=1) / np.maximum(sp, 1e-300)
            slope = (prec * (x[None, :] - xbar[:, None]) * (dd - dbar[:, None])).sum(axis=1) / np.maximum(sxx, 1e-300)
            pred = dbar + slope * (0.0 - xbar)
            var_pred = 1.0 / np.maximum(sp, 1e-300) + xbar**2 / np.maximum(sxx, 1e-300)
            bad = (obs[:, win].sum(axis=1) < 2) | (sxx <= 0)
            pred, var_pred = np.where(bad, np.nan, pred), np.where(bad, np.inf, var_pred)
        z_base = (dev[:, j] - pred) / np.sqrt(v[:, j] + var_pred)
        p_base = 2 * stats.norm.sf(np.abs(z_base))
        ok_base = obs[:, j] & np.isfinite(pred)
        if kind == "share":
            # exact conditional tests on the effective counts (n_eff, p * n_eff rounded)
            ni = np.rint(np.where(obs, n, 0)).astype(np.int64)
            yi = np.rint(np.where(obs, est, 0) * ni).astype(np.int64)
            p_last = conditional_exact_p(yi[:, j], ni[:, j], yi[:, j - 1], ni[:, j - 1],
                                  np.exp(np.full(len(units), beta[j] - beta[j - 1])))
            if baseline == "level":
                nw = np.where(obs[:, win], ni[:, win], 0)
                beta_ref = (nw * beta[None, win]).sum(axis=1) / np.maximum(nw.sum(axis=1), 1)
                p_base = conditional_exact_p(yi[:, j], ni[:, j], np.where(obs[:, win], yi[:, win], 0).sum(axis=1),
                                      nw.sum(axis=1), np.exp(beta[j] - beta_ref))
        if kind == "rate":
            # exact conditional Poisson tests (the normal approximation fails for rare offences)
            e = np.where(obs, expo * np.exp(beta[None, :]), 0.0)
            c = np.where(obs, cnt, 0.0)
            p_last = _binom_p(c[:, j], c[:, j] + c[:, j - 1], e[:, j] / (e[:, j] + e[:, j - 1] + 1e-300))
            if baseline == "level":
                m = c[:, j] + c[:, win].sum(axis=1)
                p_base = _binom_p(c[:, j], m, e[:, j] / (e[:, j] + e[:, win].sum(axis=1) + 1e-300))
        p_last = np.where(ok_last, p_last, np.nan)
        p_base = np.where(ok_base, p_base, np.nan)
        link = fit.link
        city_change = _inverse(link, beta[j]) - _inverse(link, beta[j - 1])
        expected = _inverse(link, beta[j] + pred)
        # small-area posterior probability of a rise relative to the city
        m_change = (fit.mean[:, j] - beta[j]) - (fit.mean[:, j - 1] - beta[j - 1])
        prob_up = stats.norm.cdf(m_change / fit.change_sd)
        # the area's null level this year on the indicator's scale, and d(value)/d(link) there:
        # what turns a link-scale standard error into points / index points / rate units
        level_now = _inverse(link, beta[j] + _area_level(fit, fitted))
        if kind == "mean":
            slope = np.ones(len(units))
        else:
            slope = level_now * (1 - level_now) if kind == "share" else level_now
        size = grid("count" if kind == "rate" else "n_eff")[:, j] if (
            "count" if kind == "rate" else "n_eff") in g else np.full(len(units), np.nan)
        rows.append(pd.DataFrame({
            "unit": units, "indicator": indicator, "kind": kind,
            "value": est[:, j], "value_last": est[:, j - 1], "change": est[:, j] - est[:, j - 1],
            "city_change": city_change, "z_last": np.where(ok_last, z_last, np.nan),
            "p_last": p_last, "expected": np.where(ok_base, expected, np.nan),
            "z_baseline": np.where(ok_base, z_base, np.nan), "p_baseline": p_base,
            "prob_up": prob_up, "size": size,
            "se_last": np.where(ok_last, np.sqrt(var_last), np.nan),
            "se_baseline": np.where(ok_base, np.sqrt(v[:, j] + var_pred), np.nan),
            "level": level_now, "slope": slope, "var_now": np.where(obs[:, j], v[:, j], np.nan),
        }))
    table = pd.concat(rows, ignore_index=True)
    table["q_last"] = benjamini_hochberg(table["p_last"].to_numpy())
    table["q_baseline"] = benjamini_hochberg(table["p_baseline"].to_numpy())
    table["flag_last"] = table["q_last"] <= fdr
    table["flag_baseline"] = table["q_baseline"] <= fdr
    table.attrs["fdr"] = fdr
    table.attrs["baseline"] = baseline
    table.attrs["baseline_years"] = baseline_years
    return table


def _area_level(fit, fitted: np.ndarray) -> np.ndarray:
    """The area's persistent level relative to the city (posterior mean over years)."""
    return (fitted - fit.beta[None, :]).mean(axis=1)
