"""Cluster-robust variance (CR1, CR2) and the few-cluster checks every estimator runs.

For a linear model fitted by (weighted) least squares with regressors :math:`X` (fixed
effects already projected off), residuals :math:`\\hat u` and weights :math:`W`, the
cluster-robust ("sandwich") variance is

.. math::

    \\hat V = c\\,(X'WX)^{-1} \\Big(\\sum_{g=1}^{G} X_g' W_g A_g \\hat u_g \\hat u_g' A_g' W_g X_g
    \\Big) (X'WX)^{-1}.

*CR1* takes :math:`A_g = I` and the small-sample factor of Stata and R ``fixest``,
:math:`c = \\frac{G}{G-1}\\frac{N-1}{N-K}`, where :math:`K` counts the regressors and the
fixed effects that are *not* nested in the clusters (``fixest``'s ``fixef.K = "nested"``).
*CR2* (Bell & McCaffrey 2002) takes :math:`A_g = (I - H_{gg})^{-1/2}` in the
:math:`W^{1/2}`-scaled design with :math:`c = 1`; it is unbiased under homoskedastic
independent errors and is the recommended basis with few clusters (Pustejovsky & Tipton 2018).

References
----------
Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
*Journal of Human Resources* 50(2), 317–372.
Bell, R. M. & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear regression
with multi-stage samples. *Survey Methodology* 28(2), 169–181.
Pustejovsky, J. E. & Tipton, E. (2018). Small-sample methods for cluster-robust variance
estimation and hypothesis testing in fixed effects models. *JBES* 36(4), 672–683.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "MIN_CLUSTERS",
    "MIN_TREATED_CLUSTERS",
    "WALD_RCOND",
    "VcovKind",
    "cluster_vcov",
    "few_cluster_warnings",
    "small_sample_factor",
    "wald_test",
]

VcovKind = Literal["CR1", "CR2"]

#: Fewer clusters than this in all → conventional cluster-robust SEs are flagged.
MIN_CLUSTERS = 30
#: Fewer treated clusters than this → conventional cluster-robust SEs are flagged.
MIN_TREATED_CLUSTERS = 10
#: Up to this many fixed-effect levels, CR2 forms the fixed-effect projection densely.
_DENSE_FE_LIMIT = 3000


def small_sample_factor(n: int, k: int, g: int) -> float:
    """CR1 factor :math:`\\frac{G}{G-1}\\frac{N-1}{N-K}` (Stata, ``fixest`` default)."""
    return g / (g - 1) * (n - 1) / (n - k)


def _group_sums(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros((n_groups, values.shape[1]))
    np.add.at(out, codes, values)
    return out


def cluster_vcov(
    Xd: np.ndarray,
    resid: np.ndarray,
    clusters: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    bread: np.ndarray | None = None,
    kind: VcovKind = "CR1",
    k_extra: int = 0,
    absorber=None,
) -> np.ndarray:
    """Cluster-robust variance of least-squares coefficients.

    Parameters
    ----------
    Xd : numpy.ndarray
        Regressors (n × k) with fixed effects projected off.
    resid : numpy.ndarray
        Residuals (n).
    clusters : numpy.ndarray
        Integer cluster codes ``0..G-1`` (n).
    weights : numpy.ndarray, optional
        Observation weights.
    bread : numpy.ndarray, optional
        :math:`(X'WX)^{-1}`; computed when omitted.
    kind : {"CR1", "CR2"}
        Small-sample correction (see the module docstring).
    k_extra : int, default 0
        Fixed-effect parameters not nested in the clusters, added to :math:`K` for CR1.
    absorber : Absorber, optional
        The absorbed fixed effects (with the same weights). For CR2 the leverage
        :math:`H_{gg}` then includes the fixed-effect projection, so the result is the CR2 of
        the dummy-variable regression (generalised inverse square roots where
        :math:`I - H_{gg}` is singular, as with unit effects nested in the clusters;
        Pustejovsky & Tipton 2018).

    Returns
    -------
    numpy.ndarray
        k × k variance matrix.
    """
    Xd = np.asarray(Xd, dtype=float)
    n, k = Xd.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if bread is None:
        bread = np.linalg.inv(Xd.T @ (w[:, None] * Xd))
    g = int(clusters.max()) + 1
    if kind == "CR1":
        scores = _group_sums(Xd * (w * resid)[:, None], clusters, g)
        meat = scores.T @ scores
        return small_sample_factor(n, k + k_extra, g) * bread @ meat @ bread
    if kind != "CR2":
        raise ValueError(f"kind={kind!r} is not one of 'CR1', 'CR2'.")
    sw = np.sqrt(w)
    xw, uw = Xd * sw[:, None], resid * sw
    order = np.argsort(clusters, kind="stable")
    bounds = np.searchsorted(clusters[order], np.arange(g + 1))
    scores = np.zeros((g, k))
    fe_block = _fe_projection_blocks(absorber, sw) if absorber is not None and absorber.codes else None
    for j in range(g):
        idx = order[bounds[j]:bounds[j + 1]]
        xg = xw[idx]
        h = np.eye(len(idx)) - xg @ bread @ xg.T
        if fe_block is not None:
            h -= fe_block(idx)
        vals, vecs = np.linalg.eigh((h + h.T) / 2)
        keep = vals > 1e-12
        inv_sqrt = (vecs[:, keep] / np.sqrt(vals[keep])) @ vecs[:, keep].T
        scores[j] = xg.T @ (inv_sqrt @ uw[idx])
    meat = scores.T @ scores
    return bread @ meat @ bread


def _fe_projection_blocks(absorber, sw: np.ndarray):
    """Function giving the block ``idx`` of the fixed-effect projection in the W^(1/2) space.

    With few fixed-effect levels (≤ 3000) the projection :math:`D(D'WD)^{+}D'` is formed from a
    dense generalised inverse once; otherwise each block comes from projecting the unit
    vectors of the block off the fixed effects (alternating projections).
    """
    from scipy import sparse

    n = len(sw)
    mats = sparse.hstack(absorber.matrices).tocsr()
    if mats.shape[1] <= _DENSE_FE_LIMIT:
        dw = sparse.diags(sw) @ mats
        ginv = np.linalg.pinv((dw.T @ dw).toarray(), hermitian=True)

        def block(idx):
            dg = dw[idx].toarray()
            return dg @ ginv @ dg.T
        return block

    def block_map(idx):
        cols = np.zeros((n, len(idx)))
        cols[idx, np.arange(len(idx))] = 1.0 / sw[idx]
        return np.eye(len(idx)) - sw[idx][:, None] * absorber.demean(cols)[idx]
    return block_map


#: Smallest eigenvalue, relative to the largest, of a correlation matrix that can be inverted.
WALD_RCOND = 1e-10


def wald_test(coef: np.ndarray, vcov: np.ndarray, df_denom: int | None = None,
              n_clusters: int | None = None) -> dict:
    """Joint Wald test that all ``coef`` are zero, refused where the variance is singular.

    A cluster-robust variance from :math:`G` clusters has rank at most :math:`G - 1` (the
    cluster scores sum to zero), so :math:`q \\ge G` coefficients cannot be tested jointly:
    inverting the singular matrix gives noise whose sign and size change with the order of
    the rows (e.g. a relabelling of the units). The statistic is computed on the correlation
    only when :math:`q \\le G - 1` and the smallest eigenvalue of the correlation matrix
    :math:`R = D^{-1/2} V D^{-1/2}` exceeds :data:`WALD_RCOND` times the largest (then
    :math:`W = b'V^{-1}b`); otherwise every statistic is NaN and ``note`` says why.

    Parameters
    ----------
    coef : numpy.ndarray
        q coefficients.
    vcov : numpy.ndarray
        Their q × q variance.
    df_denom : int, optional
        Denominator degrees of freedom for the F form (``G - 1`` with clustering).
    n_clusters : int, optional
        Clusters :math:`G` behind ``vcov`` (default ``df_denom + 1`` when given).

    Returns
    -------
    dict
        ``chi2``, ``df``, ``p_chi2``, ``F``, ``df_denom``, ``p_F`` and ``note`` (empty when
        the test was computed).
    """
    coef = np.asarray(coef, dtype=float)
    q = len(coef)
    nan = float("nan")
    out = {"chi2": nan, "df": q, "p_chi2": nan, "F": nan, "df_denom": df_denom, "p_F": nan,
           "note": ""}
    if q == 0:
        out["df"] = 0
        return out
    if n_clusters is None and df_denom:
        n_clusters = int(df_denom) + 1
    if n_clusters is not None and q > n_clusters - 1:
        out["note"] = (f"not computed: {q} coefficients but {n_clusters} clusters; a "
                       f"cluster-robust variance has rank at most {n_clusters - 1}, so at most "
                       f"{n_clusters - 1} can be tested jointly (fewer leads, or bin them).")
        return out
    vcov = np.asarray(vcov, dtype=float)
    sd = np.sqrt(np.diag(vcov))
    if not (np.all(np.isfinite(sd)) and np.all(sd > 0) and np.all(np.isfinite(coef))):
        out["note"] = "not computed: a coefficient or its variance is zero or not finite."
        return out
    corr = vcov / np.outer(sd, sd)
    corr = (corr + corr.T) / 2
    eig = np.linalg.eigvalsh(corr)
    if not eig[0] > WALD_RCOND * eig[-1]:
        out["note"] = ("not computed: the variance of the coefficients is singular (they are "
                       "linearly dependent given the clusters).")
        return out
    chi2 = float(coef @ np.linalg.solve(vcov, coef))  # well conditioned (checked above)
    out.update(chi2=chi2, p_chi2=float(stats.chi2.sf(chi2, q)), F=chi2 / q)
    out["p_F"] = float(stats.f.sf(chi2 / q, q, df_denom)) if df_denom else nan
    return out


def few_cluster_warnings(n_clusters: int, n_treated_clusters: int | None, *,
                         what: str = "cluster-robust standard errors",
                         remedy: str | None = None) -> list[str]:
    """Warnings when there are too few (treated) clusters for conventional inference.

    Thresholds: fewer than :data:`MIN_CLUSTERS` clusters in all, or fewer than
    :data:`MIN_TREATED_CLUSTERS` treated clusters (MacKinnon & Webb 2017: with few treated
    clusters CR1 t-tests over-reject badly even with many clusters in all). With one treated
    cluster conventional cluster-robust inference is invalid.

    Parameters
    ----------
    n_clusters : int
        Clusters in all.
    n_treated_clusters : int or None
        Clusters containing treated observations (None: not a treatment design).
    what : str
        The inference the message refers to.
    remedy : str, optional
        What to use instead, for estimators without the default options (``inference='wild'``
        or ``'randomization'``); replaces the default advice.

    Returns
    -------
    list of str
        Human-readable warnings (empty when the design supports conventional inference).
    """
    out: list[str] = []
    if remedy is not None:
        if n_treated_clusters == 1:
            out.append(f"only 1 treated cluster: {what} are invalid. Use {remedy}")
        elif (n_treated_clusters is not None and n_treated_clusters < MIN_TREATED_CLUSTERS) \
                or n_clusters < MIN_CLUSTERS:
            out.append(f"only {n_treated_clusters} treated of {n_clusters} clusters (thresholds "
                       f"{MIN_TREATED_CLUSTERS} treated, {MIN_CLUSTERS} in all): {what} are "
                       f"unreliable. Use {remedy}")
        return out
    if n_treated_clusters == 1:
        out.append(
            f"only 1 treated cluster: {what} are invalid (the treated cluster's residuals are "
            "fitted almost exactly, so the variance is badly underestimated). Use "
            "randomization inference with a Conley–Taber interval (inference='randomization'), "
            "and compare with synthetic control; the wild cluster bootstrap is also unreliable "
            "with one treated cluster."
        )
        return out
    if n_treated_clusters is not None and n_treated_clusters < MIN_TREATED_CLUSTERS:
        out.append(
            f"only {n_treated_clusters} treated clusters (< {MIN_TREATED_CLUSTERS}): {what} "
            "over-reject. Use the wild cluster bootstrap with the null imposed "
            "(inference='wild'; weights_type='webb' when there are fewer than 12 clusters) or "
            "randomization inference (inference='randomization')."
        )
    if n_clusters < MIN_CLUSTERS:
        out.append(
            f"only {n_clusters} clusters (< {MIN_CLUSTERS}): {what} are biased downward. "
            "Prefer CR2 (vcov='CR2') and the restricted wild cluster bootstrap "
            "(inference='wild'; weights_type='webb' below 12 clusters) for p-values and "
            "intervals."
        )
    return out


def coefficient_table(names, coef, vcov, df: int | None, level: float = 0.95) -> pd.DataFrame:
    """Tidy coefficients: estimate, se, t, p_value, low, high (t with ``df``, else normal)."""
    se = np.sqrt(np.diag(vcov))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    dist = stats.t(df) if df else stats.norm()
    crit = dist.ppf(0.5 + level / 2)
    return pd.DataFrame(
        {"estimate": coef, "se": se, "t": t, "p_value": 2 * dist.sf(np.abs(t)),
         "low": coef - crit * se, "high": coef + crit * se},
        index=pd.Index(list(names), name="term"),
    )
