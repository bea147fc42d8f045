"""The 2×2 difference-in-differences estimator (panel or repeated cross-sections).

.. math:: y_i = a + b\\,G_i + c\\,P_i + \\delta\\,(G_i P_i) + x_i'\\gamma + u_i,

with :math:`G_i` = treated group, :math:`P_i` = post-period. Without covariates
:math:`\\hat\\delta = (\\bar y_{11} - \\bar y_{10}) - (\\bar y_{01} - \\bar y_{00})`, the difference of
the four (weighted) cell means. Standard errors are cluster-robust by unit (panel) or
heteroskedasticity-robust (HC1: every observation its own cluster) for repeated
cross-sections without a cluster column.

References
----------
Card, D. & Krueger, A. B. (1994). Minimum wages and employment: a case study of the fast-food
industry in New Jersey and Pennsylvania. *AER* 84(4), 772–793.
Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, section 5.2.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from .._numerics.fixed_effects import factorize
from ..errors import DataError, DesignError
from ..estimators import register_estimator
from ..inference.cluster import cluster_vcov, coefficient_table, few_cluster_warnings
from ..inference.wild_bootstrap import wild_cluster_bootstrap
from ..options import check_level, check_option
from ..study import Study
from ._design import check_finite, renamed_first_argument
from .fe_regression import guard_inference, power_of_two_scale, spread, unscale
from .result import DiDEffect

__all__ = ["diff_in_diff", "two_by_two"]


def two_by_two(y: np.ndarray, group: np.ndarray, post: np.ndarray, clusters: np.ndarray, *,
               covariates: np.ndarray | None = None, weights: np.ndarray | None = None,
               vcov: str = "CR1"):
    """Least squares of the 2×2 regression; returns (names, coef, vcov, residuals, X)."""
    cols = [np.ones(len(y)), group, post, group * post]
    names = ["intercept", "treated", "post", "treated:post"]
    if covariates is not None and covariates.size:
        cols += list(covariates.T)
        names += [f"x{j}" for j in range(covariates.shape[1])]
    X = np.column_stack(cols)
    w = np.ones(len(y)) if weights is None else weights
    bread = np.linalg.inv(X.T @ (w[:, None] * X))
    coef = bread @ (X.T @ (w * y))
    resid = y - X @ coef
    V = cluster_vcov(X, resid, clusters, weights=w, bread=bread, kind=vcov)
    return names, coef, V, resid, X


@register_estimator("diff_in_diff", family="did", deprecated_names=("did",),
                    summary="Classic 2×2 difference-in-differences")
@renamed_first_argument("data")
def diff_in_diff(
    study,
    *,
    group: str | None = None,
    post: str | None = None,
    covariates=None,
    weights: str | None = None,
    cluster: str | None = None,
    vcov: Literal["CR1", "CR2"] = "CR1",
    inference: Literal["cluster", "wild"] = "cluster",
    n_draws: int = 9999,
    weights_type: Literal["rademacher", "webb"] = "rademacher",
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    **design: Any,
) -> DiDEffect:
    """Classic 2×2 DiD: treated vs comparison group, before vs after.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        A Study (group = its treated units, post = periods from its start to its end; the
        comparison pool as in the Study; a ``treatment=`` column must be 0/1 and never switch
        off); or a panel DataFrame with the Study keywords in ``**design`` (``outcome=``,
        ``unit=``, ``time=``, ``treated=``, ``start=``, ...; one pre-period is enough, e.g.
        the two waves of Card & Krueger); or a DataFrame with 0/1
        columns ``group`` and ``post`` (panel or repeated cross-sections; then ``outcome=``
        and optionally ``unit=``, the default cluster).
    group, post : str, optional
        0/1 columns: treated group, post-period.
    covariates : list of str, optional
        Controls; default the Study's ``covariates`` (``[]`` for none).
    weights : str, optional
        Weights column.
    cluster : str, optional
        Cluster column (default the unit; without either, HC1 robust errors).
    vcov : {"CR1", "CR2"}, default "CR1"
        Cluster-robust variance.
    inference : {"cluster", "wild"}, default "cluster"
        ``"wild"``: restricted wild cluster bootstrap p-value and interval.
    n_draws, weights_type, random_state : optional
        Wild bootstrap settings.
    level : float, default 0.95
        Interval coverage.
    **design
        Study keywords when ``study`` is a DataFrame without ``group``/``post``.

    Returns
    -------
    DiDEffect
        ``estimate`` :math:`\\hat\\delta`, ``cell_means`` (the four means with counts),
        ``coefficients``.
    """
    check_option("inference", inference, ("cluster", "wild"))
    check_option("vcov", vcov, ("CR1", "CR2"))
    check_option("weights_type", weights_type, ("rademacher", "webb"))
    level = check_level(level)
    if isinstance(covariates, str):
        covariates = [covariates]
    if group is None and post is None:
        if isinstance(study, pd.DataFrame) and covariates:
            design["covariates"] = covariates
        study = Study.coerce(study, where="diff_in_diff", **design)
        keep = set(study.treated) | set(study.donors)
        frame = study.data.loc[study.data[study.unit].isin(keep)]
        if study.end is not None:  # periods after the intervention ended are neither pre nor post
            frame = frame.loc[frame[study.time] <= study.end]
        frame = frame.reset_index(drop=True)
        g_all = frame[study.unit].isin(study.treated).to_numpy(float)
        p_all = (frame[study.time] >= study.start).to_numpy(float)
        outcome, unit = study.outcome, study.unit
        start_text = str(study.start)
        if covariates is None:
            covariates = list(study.covariates)
        group_name, post_name = "the Study's treated units", "the Study's start"
    else:
        outcome, unit = design.pop("outcome", None), design.pop("unit", None)
        design.pop("time", None)
        if design:
            raise DesignError(f"diff_in_diff: with group= and post= the design is those two "
                              f"columns; {sorted(design)} cannot be combined with them.")
        if not isinstance(study, pd.DataFrame) or outcome is None or group is None or post is None:
            raise DesignError("pass a Study, or a DataFrame with outcome=, group= and post= "
                              "(0/1 columns), or with unit=, time=, treated= and start=.")
        needed = [outcome, group, post, *(covariates or []), weights, cluster, unit]
        missing = [c for c in needed if c is not None and c not in study.columns]
        if missing:
            raise DataError(f"missing column(s) {missing}; the data have {list(study.columns)[:30]}.")
        frame = study.reset_index(drop=True)
        g_all = pd.to_numeric(frame[group], errors="coerce").to_numpy(float)
        p_all = pd.to_numeric(frame[post], errors="coerce").to_numpy(float)
        start_text = None
        group_name, post_name = repr(group), repr(post)
    covariates = list(covariates or [])
    used = [outcome, *covariates] + ([weights] if weights else [])
    missing_rows = (frame[used].isna().any(axis=1).to_numpy() | np.isnan(g_all)
                    | np.isnan(p_all))
    n_missing = int(missing_rows.sum())
    frame = frame.loc[~missing_rows].reset_index(drop=True)
    g, p = g_all[~missing_rows], p_all[~missing_rows]
    for values, name in ((g, group_name), (p, post_name)):
        if not np.isin(values, [0, 1]).all():
            raise DataError(f"column {name} must be 0/1.")
    check_finite(frame, used)
    cl_col = cluster or unit
    clusters = factorize(frame[cl_col])[0] if cl_col else np.arange(len(frame))
    y = frame[outcome].to_numpy(float)
    w = frame[weights].to_numpy(float) if weights else None
    cov = frame[covariates].to_numpy(float) if covariates else None
    factor = power_of_two_scale(y)  # 1 unless the outcome is near over- or underflow
    names, coef, V, resid, X = two_by_two(y / factor if factor != 1.0 else y, g, p, clusters,
                                          covariates=cov, weights=w, vcov=vcov)
    n_cl = int(clusters.max()) + 1
    table = coefficient_table(names[:4] + covariates, coef, V, n_cl - 1, level)
    if factor != 1.0:  # back to the outcome's scale (exact: a power of two)
        table, coef, resid, _, V = unscale(table, factor, coef, resid, resid, V)
    row = table.loc["treated:post"]
    interval, p_value = (float(row["low"]), float(row["high"])), float(row["p_value"])
    n_tr = len(np.unique(clusters[g == 1]))
    warn = few_cluster_warnings(n_cl, n_tr) if cl_col else []
    diagnostics = {"n_obs": len(frame), "n_clusters": n_cl if cl_col else None,
                   "n_treated_clusters": n_tr if cl_col else None, "vcov": vcov if cl_col else "HC1",
                   "df": n_cl - 1, "rows_with_missing_values_left_out": n_missing, "warnings": warn}
    if n_missing:
        warn.append(f"{n_missing} row(s) with a missing outcome, covariate or weight were left out.")
    if inference == "wild":
        wb = wild_cluster_bootstrap(y, X, clusters, param=3, weights=w, n_draws=n_draws,
                                    weights_type=weights_type, level=level,
                                    random_state=random_state)
        diagnostics["wild_bootstrap"] = wb.to_dict()
        interval, p_value = wb.interval, wb.p_value
    se, interval, p_value = guard_inference(float(row["estimate"]), float(row["se"]), interval,
                                            p_value, warn, spread=spread(y),
                                            check_se=inference == "cluster")
    ww = np.ones(len(frame)) if w is None else w
    cells = (pd.DataFrame({"group": np.where(g == 1, "treated", "comparison"),
                           "period": np.where(p == 1, "post", "pre"), "y": y * ww, "w": ww})
             .groupby(["group", "period"]).agg(sum_y=("y", "sum"), weight=("w", "sum"),
                                               n=("w", "size")))
    cells["mean"] = cells["sum_y"] / cells["weight"]
    cells = cells[["mean", "n"]]
    base = cells.loc[("treated", "post"), "mean"] - float(row["estimate"])
    relative = rel_int = None
    if base > 0 and np.isfinite(row["estimate"]):
        relative, rel_int = float(row["estimate"]) / base, (interval[0] / base, interval[1] / base)
    n_units_t = int(frame.loc[g == 1, unit].nunique()) if unit else None
    n_units_c = int(frame.loc[g == 0, unit].nunique()) if unit else None
    return DiDEffect(
        method="diff_in_diff", estimate=float(row["estimate"]), interval=interval, level=level,
        se=se, relative=relative, relative_interval=rel_int, p_value=p_value,
        diagnostics=diagnostics, outcome=outcome,
        estimand="2×2 difference in mean changes, treated minus comparison",
        n_treated=n_units_t, n_control=n_units_c, start=start_text, coefficients=table,
        vcov=pd.DataFrame(V, index=table.index, columns=table.index), cell_means=cells,
        params={"vcov": vcov, "cluster": cl_col, "weights": weights, "covariates": covariates,
                "inference": inference},
    )
