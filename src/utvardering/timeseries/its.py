r"""Interrupted time series: segmented regression with a level and a slope change.

.. math::

    g(\mathrm{E}[y_t]) = \beta_0 + \beta_1 t + \beta_2 D_t + \beta_3 (t - t_0) D_t
        + f_t^\top\gamma + x_t^\top\delta\ (+ \log E_t),

with :math:`D_t = 1` from the first post-period :math:`t_0`. The counterfactual sets
:math:`\beta_2 = \beta_3 = 0`; the effect per period is the fitted minus the counterfactual
mean. Gaussian errors use Newey–West (HAC) standard errors or ARMA errors (state-space
regression with ARMA(p, q) disturbances); counts use Poisson or negative-binomial
regression with a log link, ``log(exposure)`` offset and HAC standard errors.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..effect import Effect
from ..errors import ConvergenceWarning, DesignError, warn
from ..estimators import register_estimator
from ..options import Likelihood, check_level, check_option, renamed_arguments
from ..study import Study
from .inputs import fourier_terms, series_inputs

__all__ = ["interrupted_time_series", "newey_west_lags", "segmented_design"]


def newey_west_lags(n: int) -> int:
    r"""Newey & West (1994) rule of thumb :math:`\lfloor 4 (n/100)^{2/9} \rfloor`."""
    return math.floor(4 * (n / 100) ** (2 / 9))


def segmented_design(n_t: int, first_post: int, seasonality=None, slope_change: bool = True,
                     covariates: np.ndarray | None = None, names=()) -> pd.DataFrame:
    """Design matrix ``const, time, level_change, slope_change`` (+ seasonal, covariates)."""
    t = np.arange(n_t, dtype=float)
    d = (t >= first_post).astype(float)
    cols = {"const": np.ones(n_t), "time": t, "level_change": d}
    if slope_change:
        cols["slope_change"] = d * (t - first_post)
    frame = pd.DataFrame(cols)
    F = fourier_terms(n_t, seasonality)
    for j in range(F.shape[1]):
        frame[f"season_{j + 1}"] = F[:, j]
    if covariates is not None:
        for j, name in enumerate(names):
            frame[f"x_{name}"] = covariates[:, j]
    return frame


def _fit(y, Z: pd.DataFrame, family: str, errors: str, maxlags: int, arma_order, offset):
    import statsmodels.api as sm

    hac = {"cov_type": "HAC", "cov_kwds": {"maxlags": maxlags}} if errors == "hac" else {}
    if family == "gaussian":
        if errors == "arma":
            from statsmodels.tsa.statespace.sarimax import SARIMAX

            model = SARIMAX(y, exog=Z, order=(arma_order[0], 0, arma_order[1]), trend="n")
            res = model.fit(disp=False, maxiter=200)
        else:
            res = sm.OLS(y, Z).fit(**hac)
    elif family == "poisson":
        res = sm.GLM(y, Z, family=sm.families.Poisson(), offset=offset).fit(**hac)
    else:
        res = sm.NegativeBinomial(y, Z, offset=offset).fit(disp=False, maxiter=500, **hac)
    k = Z.shape[1]
    beta = np.asarray(res.params, dtype=float)[:k]
    cov = np.asarray(res.cov_params(), dtype=float)[:k, :k]
    return res, beta, cov


@register_estimator("interrupted_time_series", family="timeseries",
                    summary="Segmented regression (level and slope change), HAC/ARMA, counts")
@renamed_arguments(study_or_series="study", family="likelihood", errors="vcov")
def interrupted_time_series(
    study,
    pre_period=None,
    post_period=None,
    *,
    likelihood: Literal["gaussian", "poisson", "negative_binomial"] = "gaussian",
    vcov: Literal["hac", "arma", "iid"] = "hac",
    maxlags: int | None = None,
    arma_order: tuple[int, int] = (1, 0),
    exposure=None,
    seasonality=None,
    slope_change: bool = True,
    controls=None,
    level: float = 0.95,
) -> Effect:
    r"""Segmented-regression interrupted time series for one treated series.

    Parameters
    ----------
    study : Study, pandas.Series or pandas.DataFrame
        A Study with one treated unit (its own series is used; donors are ignored unless
        passed as ``controls``), a Series, or a DataFrame whose first column is the outcome.
    pre_period, post_period : (label, label), optional
        Needed unless a Study. Rows between the two windows are not used.
    likelihood : {"gaussian", "poisson", "negative_binomial"}, default "gaussian"
        Linear model, or log-link count regression with ``log(exposure)`` offset
        (``family=`` is the old name).
    vcov : {"hac", "arma", "iid"}, default "hac"
        Newey–West HAC standard errors, ARMA(p, q) errors (Gaussian only), or classical
        (``errors=`` is the old name).
    maxlags : int, optional
        HAC truncation lag; default :func:`newey_west_lags`.
    arma_order : (int, int), default (1, 0)
        ARMA order for ``vcov="arma"``.
    exposure : str, array or pandas.Series, optional
        Population at risk for count families (default the Study's exposure column).
    seasonality : (int, int or "dummies"), optional
        Fourier terms ``(period, harmonics)`` or ``(period, "dummies")`` (e.g. ``(12,
        "dummies")`` for month dummies).
    slope_change : bool, default True
        Include the post-period slope change :math:`\beta_3`.
    controls : pandas.DataFrame, optional
        Extra covariates (same index as the outcome).
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    Effect
        ``estimate`` = average fitted minus counterfactual outcome per post-period, with a
        delta-method interval; ``relative`` its ratio to the counterfactual; ``params``
        holds the level and slope changes with standard errors (and, for counts, the level
        change as a rate ratio) and all coefficients.

    References
    ----------
    Wagner, A. K., Soumerai, S. B., Zhang, F. & Ross-Degnan, D. (2002). Segmented regression
    analysis of interrupted time series studies in medication use research. *J. Clin. Pharm.
    Ther.*, 27(4), 299–309. Newey, W. K. & West, K. D. (1994). Automatic lag selection in
    covariance matrix estimation. *Rev. Econ. Stud.*, 61(4), 631–653.
    """
    check_option("likelihood", likelihood, Likelihood)
    check_option("vcov", vcov, ("hac", "arma", "iid"))
    level = check_level(level)
    if vcov == "arma" and likelihood != "gaussian":
        raise DesignError("vcov='arma' is available for likelihood='gaussian' only; use "
                          "vcov='hac' for count families.")
    if isinstance(study, pd.DataFrame) and controls is None:
        controls = pd.DataFrame(index=study.index)
        study = study.iloc[:, 0]
    inp = series_inputs(study, controls, pre_period, post_period, exposure)
    if isinstance(study, Study):
        inp.X, inp.control_names = np.zeros((len(inp.y), 0)), []
    rows = np.flatnonzero(inp.pre | inp.post)
    y = inp.y[rows]
    first_post = int(np.searchsorted(rows, np.flatnonzero(inp.post)[0]))
    Z = segmented_design(len(rows), first_post, seasonality, slope_change,
                         inp.X[rows] if inp.X.shape[1] else None, inp.control_names)
    offset = None
    if likelihood != "gaussian":
        offset = np.log(inp.exposure[rows]) if inp.exposure is not None else None
    L = newey_west_lags(len(rows)) if maxlags is None else int(maxlags)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res, beta, cov = _fit(y, Z, likelihood, vcov, L, arma_order, offset)
    notes = []
    retvals = getattr(res, "mle_retvals", None) or {}
    if retvals and not retvals.get("converged", True):
        notes.append(f"the {likelihood} / {vcov} fit did not converge"
                     + (" (the dispersion may be at its boundary: try likelihood='poisson')"
                        if likelihood == "negative_binomial" else "") + "; check the estimates.")
    if not np.all(np.isfinite(cov)):
        notes.append("the covariance matrix is not finite; standard errors are unreliable.")
    for note in notes:
        warn(note, ConvergenceWarning)
    Zc = Z.copy()
    Zc[["level_change"] + (["slope_change"] if slope_change else [])] = 0.0
    post = np.arange(len(rows)) >= first_post
    Zm, Zcm = Z.to_numpy(), Zc.to_numpy()
    off = np.zeros(len(rows)) if offset is None else offset
    if likelihood == "gaussian":
        mu, mu_c = Zm @ beta, Zcm @ beta
        jac, jac_c = Zm, Zcm
    else:
        mu, mu_c = np.exp(Zm @ beta + off), np.exp(Zcm @ beta + off)
        jac, jac_c = mu[:, None] * Zm, mu_c[:, None] * Zcm
    eff, g_eff = mu - mu_c, jac - jac_c
    z = stats.norm.ppf((1 + level) / 2)
    se_t = np.sqrt(np.einsum("ij,jk,ik->i", g_eff, cov, g_eff))
    grad = g_eff[post].mean(axis=0)
    est, se = float(eff[post].mean()), float(np.sqrt(grad @ cov @ grad))
    A, B = eff[post].sum(), mu_c[post].sum()
    a, b = g_eff[post].sum(axis=0), jac_c[post].sum(axis=0)
    if likelihood == "gaussian":
        g_rel = (a * B - A * b) / B**2
        rel, se_rel = A / B, float(np.sqrt(g_rel @ cov @ g_rel))
        rel_int = (rel - z * se_rel, rel + z * se_rel)
    else:
        g_log = jac[post].sum(axis=0) / mu[post].sum() - b / B
        log_r, se_log = np.log(mu[post].sum() / B), float(np.sqrt(g_log @ cov @ g_log))
        rel = float(np.exp(log_r) - 1)
        rel_int = (float(np.exp(log_r - z * se_log) - 1), float(np.exp(log_r + z * se_log) - 1))
    p_value = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")
    names = list(Z.columns)
    sds = np.sqrt(np.diag(cov))
    extra = {"coefficients": dict(zip(names, beta.tolist())), "se": dict(zip(names, sds.tolist())),
             "likelihood": likelihood, "vcov": vcov, "maxlags": L if vcov == "hac" else None,
             "arma_order": list(arma_order) if vcov == "arma" else None,
             "seasonality": None if seasonality is None else list(seasonality),
             "slope_change": slope_change, "n_obs": len(rows), "level": level}
    for name in ("level_change", "slope_change"):
        if name in names:
            i = names.index(name)
            extra[f"{name}_estimate"] = float(beta[i])
            extra[f"{name}_interval"] = [float(beta[i] - z * sds[i]), float(beta[i] + z * sds[i])]
            if likelihood != "gaussian":
                extra[f"{name}_rate_ratio"] = float(np.exp(beta[i]))
    if likelihood == "negative_binomial":
        extra["alpha"] = float(np.asarray(res.params)[-1])
    path = pd.DataFrame({"observed": y, "counterfactual": mu_c, "fitted": mu, "effect": eff,
                         "low": eff - z * se_t, "high": eff + z * se_t},
                        index=inp.index[rows])
    path.index.name = inp.index.name or "time"  # the data's own time column name on the x axis
    resid = y - mu
    diag = {"rmspe_pre": float(np.sqrt(np.mean(resid[~post] ** 2))), "warnings": notes}
    if likelihood == "gaussian" and vcov != "arma":
        from statsmodels.stats.stattools import durbin_watson

        diag["durbin_watson"] = float(durbin_watson(resid))
    return Effect(
        method="interrupted_time_series", estimate=est, interval=(est - z * se, est + z * se),
        level=level, se=se, relative=float(rel), relative_interval=rel_int, p_value=p_value,
        path=path, diagnostics=diag, outcome=inp.outcome, scale="outcome units per period",
        estimand="average fitted minus counterfactual outcome per post-period",
        n_treated=1, n_control=0, start=inp.start, params=extra,
    )
