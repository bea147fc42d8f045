"""Two-group, two-period DiD on panel data with its influence function.

The cell estimator behind :func:`~utvardering.did.att_gt.att_gt_panel`: the doubly robust
(Sant'Anna & Zhao 2020), inverse-probability-weighted or outcome-regression DiD of one
cohort against its comparison group between a base period and ``t``, with a weighted logit
propensity score.

References
----------
Sant'Anna, P. H. C. & Zhao, J. (2020). Doubly robust difference-in-differences estimators.
*Journal of Econometrics* 219(1), 101–122.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TRIM_LEVEL", "did_panel_2x2", "fit_logit"]

#: Controls whose propensity score reaches this level get no weight (Sant'Anna & Zhao trimming).
TRIM_LEVEL = 0.995


def fit_logit(X: np.ndarray, d: np.ndarray, w: np.ndarray, *, tol: float = 1e-12,
              max_iter: int = 100) -> np.ndarray:
    """Weighted logistic regression by Newton–Raphson.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Design matrix (including the intercept column).
    d : ndarray, shape (n,)
        0/1 outcome.
    w : ndarray, shape (n,)
        Non-negative observation weights.
    tol, max_iter : float, int
        Convergence tolerance on the coefficient change and iteration cap.

    Returns
    -------
    ps : ndarray, shape (n,)
        Fitted probabilities :math:`\\Lambda(X\\hat\\beta)`.
    """
    beta = np.zeros(X.shape[1])
    if X.shape[1] == 1 and np.allclose(X[:, 0], 1.0):
        share = float(np.sum(w * d) / np.sum(w))
        beta[0] = np.log(share / (1.0 - share))
    for _ in range(max_iter):
        ps = 1.0 / (1.0 + np.exp(-(X @ beta)))
        hess = X.T @ (X * (w * ps * (1.0 - ps))[:, None])
        step = np.linalg.solve(hess, X.T @ (w * (d - ps)))
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    return 1.0 / (1.0 + np.exp(-(X @ beta)))


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    xw = X * w[:, None]
    return np.linalg.solve(X.T @ xw, xw.T @ y)


def did_panel_2x2(dy: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray,
                  method: str = "dr") -> tuple[float, np.ndarray]:
    """Two-group, two-period DiD on panel data with its influence function.

    With :math:`\\Delta Y = Y_t - Y_{base}`, treatment indicator :math:`D`, covariates
    :math:`X` (first column the intercept) and weights normalised to mean one:

    * ``"reg"`` (outcome regression): :math:`\\hat\\tau = \\bar{\\Delta Y}_{D=1} -
      \\overline{X\\hat\\beta}_{D=1}`, with :math:`\\hat\\beta` from WLS of
      :math:`\\Delta Y` on :math:`X` among the comparison units;
    * ``"ipw"`` (normalised inverse probability weighting with a logit propensity score
      :math:`\\hat p(X)`): comparison units weighted by :math:`\\hat p/(1-\\hat p)`;
    * ``"dr"`` (doubly robust): the IPW contrast of :math:`\\Delta Y - X\\hat\\beta`.

    The influence functions include the estimation effect of :math:`\\hat\\beta` and the
    propensity score, as in Sant'Anna & Zhao (2020, Sect. 3).

    Parameters
    ----------
    dy : ndarray, shape (n,)
        Outcome change of each unit between the base period and ``t``.
    d : ndarray, shape (n,)
        1 for treated, 0 for comparison units.
    X : ndarray, shape (n, p)
        Covariates with a leading intercept column.
    w : ndarray, shape (n,)
        Sampling weights (normalised to mean one inside).
    method : {"dr", "ipw", "reg"}
        Estimator.

    Returns
    -------
    att : float
    influence : ndarray, shape (n,)
        Influence function; ``sqrt(sum(influence**2)) / n`` is the standard error.
    """
    n = d.shape[0]
    w = w / w.mean()
    control = d == 0
    if method in ("dr", "reg"):
        beta = _wls(X[control], dy[control], w[control])
        fitted = X @ beta
        w_ols = w * (1.0 - d)
        xpx_inv = np.linalg.inv(X.T @ (X * w_ols[:, None]) / n)
        lin_ols = (w_ols * (dy - fitted))[:, None] * X @ xpx_inv
    if method == "reg":
        w_treat = w * d
        eta_treat = np.mean(w_treat * dy) / np.mean(w_treat)
        eta_cont = np.mean(w_treat * fitted) / np.mean(w_treat)
        inf_treat = (w_treat * dy - w_treat * eta_treat) / np.mean(w_treat)
        m1 = np.mean(w_treat[:, None] * X, axis=0)
        inf_cont = (w_treat * fitted - w_treat * eta_cont + lin_ols @ m1) / np.mean(w_treat)
        return float(eta_treat - eta_cont), inf_treat - inf_cont
    ps = np.minimum(fit_logit(X, d, w), 1.0 - 1e-6)
    hess_inv = np.linalg.inv(X.T @ (X * (w * ps * (1.0 - ps))[:, None]))
    keep = np.where(control, ps < TRIM_LEVEL, True).astype(float)
    w_treat = keep * w * d
    w_cont = keep * w * ps * (1.0 - d) / (1.0 - ps)
    lin_ps = (w * (d - ps))[:, None] * X @ (hess_inv * n)
    resid = dy - fitted if method == "dr" else dy
    eta_treat = np.mean(w_treat * resid) / np.mean(w_treat)
    eta_cont = np.mean(w_cont * resid) / np.mean(w_cont)
    inf_treat = w_treat * resid - w_treat * eta_treat
    m2 = np.mean((w_cont * (resid - eta_cont))[:, None] * X, axis=0)
    inf_cont = w_cont * resid - w_cont * eta_cont + lin_ps @ m2
    if method == "dr":
        inf_treat = inf_treat - lin_ols @ np.mean(w_treat[:, None] * X, axis=0)
        inf_cont = inf_cont - lin_ols @ np.mean(w_cont[:, None] * X, axis=0)
    influence = inf_treat / np.mean(w_treat) - inf_cont / np.mean(w_cont)
    return float(eta_treat - eta_cont), influence
