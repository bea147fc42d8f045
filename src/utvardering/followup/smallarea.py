r"""Small-area estimates: a hierarchical model that shrinks noisy areas towards city and year.

For one indicator on its link scale (logit for shares, log for rates, identity for means),
area :math:`a` and year :math:`t`,

.. math::

    \theta_{at} = \beta_t + a_a + u_{at},\qquad a_a \sim N(0, \sigma_a^2),\quad
    u_{at} \sim N(0, \sigma_u^2),

with city year means :math:`\beta_t`, an area effect :math:`a_a` (the area's persistent level)
and an area × year deviation :math:`u_{at}`. The data are the design-based estimates: shares
enter as binomial counts on the Kish effective sample size
(:math:`y = \hat p\, n_{\text{eff}}` successes of :math:`n_{\text{eff}}`), rates as Poisson
counts with the population as exposure, means as normal with their design variance.

The default fit (``method="eb"``) is empirical Bayes: the binomial and Poisson likelihoods
are replaced by their iteratively re-weighted normal approximation (penalised
quasi-likelihood, Breslow & Clayton 1993), the variance components are maximum-likelihood
estimates from the exact marginal likelihood of that normal model (one
:math:`T \times T` covariance per area, inverted in closed form), and each cell's
posterior is normal. It takes milliseconds per indicator. ``method="nuts"`` samples the
binomial / Poisson model with PyMC's NUTS (priors :math:`\beta_t \sim N(0, 2.5^2)`,
:math:`\sigma_a, \sigma_u \sim \text{HalfNormal}(1)`); it is the reference the EB path is
checked against (see the methods page) and takes tens of seconds per indicator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..errors import ConvergenceWarning, warn
from ..options import check_level, check_option

__all__ = ["SmallAreaFit", "fit_small_area", "small_area_nuts"]


class SmallAreaFit:
    """Posterior of one indicator's cells on the link scale.

    Attributes
    ----------
    units, times : pandas.Index
    mean, sd : ndarray, shape (A, T)
        Posterior mean and standard deviation of :math:`\\theta_{at}` (link scale).
    beta, beta_cov : ndarray
        City year means and their covariance.
    sigma_a, sigma_u : float
        Estimated standard deviations of area and area × year effects.
    link : {"logit", "log", "identity"}
    change_sd : ndarray, shape (A,)
        Posterior s.d. of :math:`\\theta_{aT} - \\theta_{a,T-1}` (last two years).
    iterations : int
    """

    def __init__(self, **values) -> None:
        self.__dict__.update(values)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """Back-transform from the link scale."""
        if self.link == "logit":
            return special.expit(x)
        if self.link == "log":
            return np.exp(x)
        return x


def _fh_nll(log_sig: np.ndarray, y: np.ndarray, pi: np.ndarray) -> float:
    sa2, su2 = np.exp(2 * log_sig)
    beta, _, parts = _fh_solve(sa2, su2, y, pi)
    r = y - beta[None, :]
    d_prec, s, c = parts
    pr = np.where(d_prec > 0, d_prec * r, 0.0)
    quad = np.sum(pr * r) - np.sum(c * pr.sum(axis=1) ** 2)
    obs = d_prec > 0
    logdet = np.sum(-np.log(d_prec[obs])) + np.sum(np.log1p(sa2 * s))
    return 0.5 * (logdet + quad)


def _fh_solve(sa2: float, su2: float, y: np.ndarray, pi: np.ndarray):
    """GLS year means for given variance components (Woodbury form per area)."""
    with np.errstate(divide="ignore"):
        d_prec = np.where(pi > 0, 1.0 / (su2 + 1.0 / np.where(pi > 0, pi, 1.0)), 0.0)
    s = d_prec.sum(axis=1)
    c = sa2 / (1.0 + sa2 * s)
    xtx = np.diag(d_prec.sum(axis=0)) - (d_prec * c[:, None]).T @ d_prec
    py = d_prec * y
    xty = py.sum(axis=0) - (d_prec * c[:, None]).T @ py.sum(axis=1)
    xtx_inv = np.linalg.pinv(xtx)
    return xtx_inv @ xty, xtx_inv, (d_prec, s, c)


def _fh_fit(y: np.ndarray, pi: np.ndarray, start: np.ndarray):
    # two parameters: Nelder–Mead on log standard deviations (clipped to [e^-9, e^3])
    res = optimize.minimize(lambda x: _fh_nll(np.clip(x, -9.0, 3.0), y, pi), np.clip(start, -8.0, 2.0),
                            method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-8})
    res.x = np.clip(res.x, -9.0, 3.0)
    sa2, su2 = np.exp(2 * res.x)
    beta, beta_cov, (d_prec, s, c) = _fh_solve(sa2, su2, y, pi)
    r = y - beta[None, :]
    pr = d_prec * r
    spr = pr.sum(axis=1)
    inv1 = d_prec / (1.0 + sa2 * s)[:, None]                       # (Σ⁻¹ 1)_t
    sig_r = pr - d_prec * (c * spr)[:, None]                        # (Σ⁻¹ r)_t
    a_hat = c * spr
    u_hat = su2 * sig_r
    one_s_one = s / (1.0 + sa2 * s)
    diag_inv = d_prec - c[:, None] * d_prec**2
    # g1: posterior variance of the random part given the variance components
    g1 = np.maximum(sa2 + su2 - (sa2**2 * one_s_one[:, None] + 2 * sa2 * su2 * inv1
                                 + su2**2 * diag_inv), 1e-12)
    # g2: the year means are estimated (Henderson 1975; Kackar & Harville 1984):
    # (x_t - k_t' Σ⁻¹ X) Cov(β̂) (x_t - k_t' Σ⁻¹ X)' with k_t = Cov(θ_t, y_a)
    n_t = y.shape[1]
    eye = np.eye(n_t)
    w = (sa2 * inv1[:, None, :] + su2 * (d_prec[:, :, None] * eye[None]
                                         - c[:, None, None] * d_prec[:, :, None] * d_prec[:, None, :]))
    dvec = eye[None] - w                                            # (A, T, T): row t for cell t
    var = g1 + np.einsum("atk,kl,atl->at", dvec, beta_cov, dvec)
    # the change between the last two years: covariance of their random parts, and g2
    t1, t0 = -1, -2
    cov_last = (sa2 - (sa2**2 * one_s_one + sa2 * su2 * (inv1[:, t1] + inv1[:, t0])
                       - su2**2 * c * d_prec[:, t1] * d_prec[:, t0]))
    dc = dvec[:, t1, :] - dvec[:, t0, :]
    var_change = g1[:, t1] + g1[:, t0] - 2 * cov_last + np.einsum("ak,kl,al->a", dc, beta_cov, dc)
    mean = beta[None, :] + a_hat[:, None] + u_hat
    return dict(mean=mean, var=var, beta=beta, beta_cov=beta_cov, sigma_a=float(np.sqrt(sa2)),
                sigma_u=float(np.sqrt(su2)), a_hat=a_hat, var_change=np.maximum(var_change, 1e-12),
                x=res.x, converged=bool(res.success))


def fit_small_area(
    table: pd.DataFrame,
    *,
    kind: str,
    method: str = "eb",
    max_iter: int = 30,
    tol: float = 1e-4,
    level: float = 0.95,
    random_state=None,
    n_draws: int = 1000,
) -> tuple[pd.DataFrame, SmallAreaFit]:
    """Fit the hierarchical small-area model to one indicator's area × year estimates.

    Parameters
    ----------
    table : pandas.DataFrame
        One indicator's area rows with ``unit``, ``time`` and, for ``kind="share"``,
        ``estimate`` and ``n_eff``; for ``"mean"``, ``estimate`` and ``se``; for ``"rate"``,
        ``count`` and ``exposure`` (expected count at rate 1, i.e. population / per).
    kind : {"share", "mean", "rate"}
    method : {"eb", "nuts"}, default "eb"
        Empirical Bayes with a normal (PQL) approximation, or full Bayes with PyMC NUTS.
    max_iter, tol : int, float
        PQL iterations and convergence tolerance (link scale).
    level : float, default 0.95
        Posterior interval coverage.
    random_state, n_draws
        For ``method="nuts"``: seed and posterior draws per chain.

    Returns
    -------
    frame : pandas.DataFrame
        ``unit``, ``time``, ``sae`` (posterior median on the indicator's scale), ``sae_low``,
        ``sae_high``, ``sae_link_mean``, ``sae_link_sd``.
    fit : SmallAreaFit
    """
    check_option("method", method, ("eb", "nuts"))
    check_option("kind", kind, ("share", "mean", "rate"))
    level = check_level(level)
    units = pd.Index(sorted(table["unit"].unique()))
    times = pd.Index(sorted(table["time"].unique()))
    a = units.get_indexer(table["unit"])
    t = times.get_indexer(table["time"])
    shape = (len(units), len(times))

    def grid(col, fill=np.nan):
        out = np.full(shape, fill, float)
        out[a, t] = table[col].to_numpy(float)
        return out

    link = {"share": "logit", "rate": "log", "mean": "identity"}[kind]
    if method == "nuts":
        return small_area_nuts(table, kind=kind, level=level, random_state=random_state,
                               n_draws=n_draws)
    if kind == "mean":
        est, se = grid("estimate"), grid("se")
        ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
        pi = np.where(ok, 1.0 / np.where(ok, se, 1.0) ** 2, 0.0)
        y = np.where(ok, est, 0.0)
        fit = _fh_fit(y, pi, np.log([np.nanstd(est) / 2 + 1e-6, np.nanstd(est) / 4 + 1e-6]))
        iterations = 1
    else:
        if kind == "share":
            p_hat, n = grid("estimate"), grid("n_eff", 0.0)
            ok = np.isfinite(p_hat) & (n > 0)
            p_hat, n = np.where(ok, p_hat, 0.0), np.where(ok, n, 0.0)
            eta = special.logit((p_hat * n + 0.5) / (n + 1.0))
        else:
            cnt, expo = grid("count"), grid("exposure", 0.0)
            ok = np.isfinite(cnt) & (expo > 0)
            cnt, expo = np.where(ok, cnt, 0.0), np.where(ok, expo, 0.0)
            eta = np.log((cnt + 0.5) / np.where(ok, expo, 1.0))
        start = np.log([0.3, 0.1])
        for iterations in range(1, max_iter + 1):  # noqa: B007
            if kind == "share":
                mu = special.expit(eta)
                w = n * mu * (1 - mu)
                y = eta + np.where(ok, (p_hat - mu) / np.maximum(mu * (1 - mu), 1e-12), 0.0)
            else:
                mu = expo * np.exp(eta)
                w = mu
                y = eta + np.where(ok, (cnt - mu) / np.maximum(mu, 1e-12), 0.0)
            pi = np.where(ok, w, 0.0)
            fit = _fh_fit(np.where(ok, y, 0.0), pi, start)
            start = fit["x"]
            change = np.max(np.abs(fit["mean"] - eta))
            eta = fit["mean"]
            if change < tol:
                break
        else:
            warn(f"small-area model ({kind}): the PQL iterations did not converge in {max_iter} "
                 f"steps (last change {change:.2g} on the link scale); raise max_iter.",
                 ConvergenceWarning)
    sd = np.sqrt(fit["var"])
    z = stats.norm.ppf(0.5 + level / 2)
    result = SmallAreaFit(units=units, times=times, mean=fit["mean"], sd=sd, beta=fit["beta"],
                          beta_cov=fit["beta_cov"], sigma_a=fit["sigma_a"], sigma_u=fit["sigma_u"],
                          link=link, change_sd=np.sqrt(fit["var_change"]), iterations=iterations,
                          method="eb")
    frame = pd.DataFrame({
        "unit": np.repeat(units, shape[1]), "time": np.tile(times, shape[0]),
        "sae": result.inverse(fit["mean"]).ravel(),
        "sae_low": result.inverse(fit["mean"] - z * sd).ravel(),
        "sae_high": result.inverse(fit["mean"] + z * sd).ravel(),
        "sae_link_mean": fit["mean"].ravel(), "sae_link_sd": sd.ravel(),
    })
    return frame, result


def small_area_nuts(
    table: pd.DataFrame,
    *,
    kind: str,
    level: float = 0.95,
    random_state=None,
    n_draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
) -> tuple[pd.DataFrame, SmallAreaFit]:
    """Full-Bayes version of :func:`fit_small_area` with PyMC NUTS (binomial / Poisson / normal).

    Same inputs and outputs as :func:`fit_small_area`; ``fit.diagnostics`` holds r-hat, ESS
    and divergences. Intended for checking the empirical-Bayes path and for small
    problems: it costs tens of seconds per indicator.
    """
    import pymc as pm
    import pytensor.tensor as pt

    from ..inference.bayes import convergence_diagnostics, sample_cached

    level = check_level(level)
    units = pd.Index(sorted(table["unit"].unique()))
    times = pd.Index(sorted(table["time"].unique()))
    a = units.get_indexer(table["unit"])
    t = times.get_indexer(table["time"])
    n_a, n_t = len(units), len(times)
    if kind == "share":
        n = table["n_eff"].to_numpy(float)
        yv = table["estimate"].to_numpy(float) * n
    elif kind == "rate":
        n = table["exposure"].to_numpy(float)
        yv = table["count"].to_numpy(float)
    else:
        n = table["se"].to_numpy(float)
        yv = table["estimate"].to_numpy(float)
    data = {"y": yv, "n": n, "a_idx": a.astype(np.int64), "t_idx": t.astype(np.int64)}
    centre = float(np.nanmean(yv)) if kind == "mean" else 0.0

    def build(d):
        with pm.Model() as model:
            y = pm.Data("y", d["y"])
            nn = pm.Data("n", d["n"])
            ai = pm.Data("a_idx", d["a_idx"])
            ti = pm.Data("t_idx", d["t_idx"])
            beta = pm.Normal("beta", centre, 2.5, shape=n_t)
            sigma_a = pm.HalfNormal("sigma_a", 1.0)
            sigma_u = pm.HalfNormal("sigma_u", 1.0)
            za = pm.Normal("za", 0.0, 1.0, shape=n_a)
            zu = pm.Normal("zu", 0.0, 1.0, shape=(n_a, n_t))
            theta = pm.Deterministic("theta", beta[None, :] + sigma_a * za[:, None] + sigma_u * zu)
            eta = theta[ai, ti]
            if kind == "share":
                # binomial log-likelihood on the (non-integer) effective counts
                pm.Potential("lik", -pt.sum(y * pt.softplus(-eta) + (nn - y) * pt.softplus(eta)))
            elif kind == "rate":
                pm.Poisson("lik", mu=nn * pt.exp(eta), observed=y)
            else:
                pm.Normal("lik", mu=eta, sigma=nn, observed=y)
        return model

    idata, info = sample_cached(("followup_small_area", kind, n_a, n_t, len(yv)), build, data,
                                draws=n_draws, tune=tune, chains=chains, random_state=random_state)
    theta = idata.posterior["theta"].stack(s=("chain", "draw")).transpose("s", ...).to_numpy()
    link = {"share": "logit", "rate": "log", "mean": "identity"}[kind]
    result = SmallAreaFit(units=units, times=times, mean=theta.mean(axis=0), sd=theta.std(axis=0),
                          beta=idata.posterior["beta"].mean(("chain", "draw")).to_numpy(),
                          beta_cov=None,
                          sigma_a=float(idata.posterior["sigma_a"].mean()),
                          sigma_u=float(idata.posterior["sigma_u"].mean()), link=link,
                          change_sd=(theta[:, :, -1] - theta[:, :, -2]).std(axis=0), iterations=0,
                          method="nuts", sampling=info,
                          diagnostics=convergence_diagnostics(idata, ["beta", "sigma_a", "sigma_u"]))
    q = np.quantile(result.inverse(theta), [0.5, (1 - level) / 2, (1 + level) / 2], axis=0)
    frame = pd.DataFrame({
        "unit": np.repeat(units, n_t), "time": np.tile(times, n_a),
        "sae": q[0].ravel(), "sae_low": q[1].ravel(), "sae_high": q[2].ravel(),
        "sae_link_mean": result.mean.ravel(), "sae_link_sd": result.sd.ravel(),
    })
    return frame, result
