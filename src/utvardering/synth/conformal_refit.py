"""Conformal inference for a fitted synthetic control (Chernozhukov–Wüthrich–Zhu 2021).

The outcome synthetic control is refitted on all periods under each null and its residuals
are permuted over time (:mod:`utvardering.inference.conformal`).

*Reference.* Chernozhukov, V., Wüthrich, K. & Zhu, Y. (2021). An exact and robust conformal
inference method for counterfactual and synthetic controls. *JASA* 116(536), 1849–1864.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._legacy import take_renamed

__all__ = ["ConformalResult", "conformal", "conformal_arrays", "legacy_n_draws"]


def legacy_n_draws(deprecated: dict, n_draws: int, where: str) -> int:
    """``n_draws`` with the old name ``n_permutations=`` moved in (DeprecationWarning); any
    other unexpected keyword is a TypeError, as for a normal signature."""
    given = take_renamed(deprecated, {"n_permutations": "n_draws"}, where,
                         {"n_draws": n_draws}, {"n_draws": 999})
    if deprecated:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {sorted(deprecated)}")
    return given["n_draws"]


@dataclass
class ConformalResult:
    """Conformal inference (Chernozhukov–Wüthrich–Zhu 2021).

    Attributes
    ----------
    p_value : float
        p-value of the sharp null (``null`` in every post-period).
    interval : tuple of float
        Interval for a *constant* effect over the post-period, at ``level`` (valid for the
        average effect only if the effect is constant).
    pointwise : pandas.DataFrame
        Per post-period: ``effect`` (gap of the fit), ``low``, ``high``.
    level : float
    scheme : str
    average_p_value : float
        p-value of :math:`\\bar\\theta = \\bar\\theta^0` for the average effect (block means,
        CWZ 2021 Appendix A.1; :func:`~utvardering.inference.conformal.conformal_average`);
        NaN when the pre-period is shorter than the post-period.
    average_interval : tuple of float
        Interval for the average effect by the same test (unbounded when there are fewer
        than :math:`1/(1-\\text{level})` blocks; NaN as above).
    n_blocks : int
        Blocks of the average-effect test (0 when it cannot be run).
    """

    p_value: float
    interval: tuple[float, float]
    pointwise: pd.DataFrame
    level: float
    scheme: str
    average_p_value: float = float("nan")
    average_interval: tuple[float, float] = (float("nan"), float("nan"))
    n_blocks: int = 0


def conformal(effect, *, null: float | np.ndarray = 0.0, scheme: str = "moving_block",
              q: float = 1.0, level: float | None = None, n_draws: int = 999,
              random_state: int | None = 0, **deprecated) -> ConformalResult:
    """Conformal p-value and intervals for a synthetic-control effect.

    The counterfactual model is the outcome synthetic control refitted on all periods under
    each null (see :mod:`utvardering.inference.conformal`).

    Parameters
    ----------
    effect : SynthEffect
        A fit with one treated unit.
    null : float or numpy.ndarray, default 0
        Sharp null effect path for the p-value (scalar or one value per post-period); the
        average-effect p-value tests its mean.
    scheme : {"moving_block", "iid"}, default "moving_block"
        Permutation scheme.
    q : float, default 1
        Exponent of the test statistic.
    level : float, optional
        Interval coverage (default: the fit's ``level``).
    n_draws : int, default 999
        Random permutations for ``scheme="iid"`` (old name ``n_permutations=``).
    random_state : int, default 0
        Seed for ``scheme="iid"``.

    Returns
    -------
    ConformalResult
    """
    from .placebo import _refit_args

    n_draws = legacy_n_draws(deprecated, n_draws, "conformal")

    study, _spec, Y, _X, units, times, u, pre, post, _opt, _v = _refit_args(effect)
    didx = [units.index(d) for d in study.donors]
    return conformal_arrays(Y[units.index(u)], Y[didx].T, pre, post, times,
                            effect.path["effect"].to_numpy(dtype=float),
                            level=effect.level if level is None else level, null=null,
                            scheme=scheme, q=q, n_draws=n_draws,
                            random_state=random_state)


def conformal_arrays(y: np.ndarray, Y0: np.ndarray, pre: np.ndarray, post: np.ndarray, times: list,
                     gap: np.ndarray, *, level: float, null: float | np.ndarray = 0.0,
                     scheme: str = "moving_block", q: float = 1.0, n_draws: int = 999,
                     random_state: int | None = 0, residuals=None) -> ConformalResult:
    """Sharp-null p-value, constant-effect, pointwise and average-effect intervals on arrays.

    Parameters
    ----------
    y : numpy.ndarray
        Treated outcomes ``(T,)``.
    Y0 : numpy.ndarray
        Donor outcomes ``(T, J)``.
    pre, post : numpy.ndarray of bool
        Pre- and post-periods (other periods are ignored).
    times : list
        Period labels.
    gap : numpy.ndarray
        The fit's effect path ``(T,)`` (reported in ``pointwise``).
    level, null, scheme, q, n_draws, random_state :
        As in :func:`conformal`.
    residuals : callable, optional
        Counterfactual model refitted on all periods (default: the outcome synthetic control,
        :func:`~utvardering.inference.conformal.sc_residuals`).

    Returns
    -------
    ConformalResult
    """
    from ..inference.conformal import (
        conformal_average,
        conformal_interval,
        conformal_pvalue,
        sc_residuals,
    )

    residuals = sc_residuals if residuals is None else residuals
    keep = pre | post
    kw = {"scheme": scheme, "q": q, "n_permutations": n_draws, "residuals": residuals}
    p = conformal_pvalue(y[keep], Y0[keep], post[keep], null, random_state=random_state, **kw)
    ci = conformal_interval(y[keep], Y0[keep], post[keep], level=level, random_state=random_state,
                            **kw)
    rows = []
    for t in np.flatnonzero(post):
        sel = pre.copy()
        sel[t] = True
        lo, hi = conformal_interval(y[sel], Y0[sel], (np.arange(y.size) == t)[sel], level=level,
                                    random_state=random_state, **kw)
        rows.append({"time": times[t], "effect": float(gap[t]), "low": lo, "high": hi})
    pointwise = pd.DataFrame(rows).set_index("time")
    try:
        avg_p, avg_ci, n_blocks = conformal_average(y[keep], Y0[keep], post[keep],
                                                    float(np.mean(null)), level=level,
                                                    random_state=random_state, **kw)
    except ValueError:  # pre-period shorter than the post-period: no block test
        avg_p, avg_ci, n_blocks = float("nan"), (float("nan"), float("nan")), 0
    return ConformalResult(p_value=p, interval=ci, pointwise=pointwise, level=level, scheme=scheme,
                           average_p_value=avg_p, average_interval=avg_ci, n_blocks=n_blocks)
