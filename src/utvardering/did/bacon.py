"""Goodman-Bacon decomposition of the static TWFE estimate under staggered adoption.

In a balanced panel with a binary, absorbing treatment, the TWFE coefficient is a weighted
average of every 2×2 DiD between timing groups (Goodman-Bacon 2021, Theorem 1):

.. math:: \\hat\\beta^{TWFE} = \\sum_k s_{kU}\\hat\\beta_{kU}
   + \\sum_{k<\\ell} \\big(s^{k}_{k\\ell}\\hat\\beta^{k}_{k\\ell} + s^{\\ell}_{k\\ell}\\hat\\beta^{\\ell}_{k\\ell}\\big),

* treated vs never treated (:math:`\\hat\\beta_{kU}`),
* earlier vs later treated (:math:`\\hat\\beta^{k}_{k\\ell}`: group :math:`k` against the
  not-yet-treated :math:`\\ell`, before :math:`\\ell` starts),
* later vs earlier treated (:math:`\\hat\\beta^{\\ell}_{k\\ell}`: group :math:`\\ell` against the
  already-treated :math:`k` — the "forbidden" comparison that biases TWFE when effects change
  over time).

With :math:`n_k` the share of units in group :math:`k`, :math:`\\bar D_k` the share of periods
it is treated and :math:`\\hat V^D` the variance of the two-way demeaned treatment, the weights
are

.. math::

   s_{kU} &= (n_k + n_U)^2\\, n_{kU}(1 - n_{kU})\\, \\bar D_k (1 - \\bar D_k) / \\hat V^D,\\\\
   s^{k}_{k\\ell} &= \\big((n_k + n_\\ell)(1 - \\bar D_\\ell)\\big)^2 n_{k\\ell}(1 - n_{k\\ell})
      \\frac{\\bar D_k - \\bar D_\\ell}{1 - \\bar D_\\ell}\\frac{1 - \\bar D_k}{1 - \\bar D_\\ell} / \\hat V^D,\\\\
   s^{\\ell}_{k\\ell} &= \\big((n_k + n_\\ell)\\bar D_k\\big)^2 n_{k\\ell}(1 - n_{k\\ell})
      \\frac{\\bar D_\\ell}{\\bar D_k}\\frac{\\bar D_k - \\bar D_\\ell}{\\bar D_k} / \\hat V^D,

with :math:`n_{ab} = n_a / (n_a + n_b)`; they are non-negative and sum to one.

References
----------
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
*Journal of Econometrics* 225(2), 254–277.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._numerics.fixed_effects import Absorber, factorize
from ..errors import DesignError
from ..estimators import register_estimator
from ._design import panel_design, renamed_first_argument
from .result import DiDEffect

__all__ = ["bacon_decomposition"]


def _mean(y: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> float:
    return float(y[np.ix_(rows, cols)].mean())


def bacon_weights(Y: np.ndarray, first: np.ndarray) -> pd.DataFrame:
    """The 2×2 comparisons of a balanced panel.

    Parameters
    ----------
    Y : numpy.ndarray
        Units × periods outcomes.
    first : numpy.ndarray
        Each unit's first treated period index (``-1`` = never treated).

    Returns
    -------
    pandas.DataFrame
        Columns ``type``, ``treated``, ``control`` (first-period indices; ``-1`` = never),
        ``estimate``, ``weight``.
    """
    _n_units, n_t = Y.shape
    t = np.arange(n_t)
    D = (first[:, None] >= 0) & (t[None, :] >= first[:, None])
    Dd = D - D.mean(1, keepdims=True) - D.mean(0, keepdims=True) + D.mean()
    VD = float((Dd ** 2).mean())
    groups = sorted(set(first[first >= 0].tolist()))
    share = {k: float(np.mean(first == k)) for k in [*groups, -1]}
    dbar = {k: float(np.mean(t >= k)) for k in groups}
    members = {k: np.flatnonzero(first == k) for k in [*groups, -1]}
    rows = []
    never = members[-1]
    for k in groups:
        pre, post = t < k, t >= k
        if len(never):
            est = (_mean(Y, members[k], post) - _mean(Y, members[k], pre)) - (
                _mean(Y, never, post) - _mean(Y, never, pre))
            nk, nu = share[k], share[-1]
            nku = nk / (nk + nu)
            w = (nk + nu) ** 2 * nku * (1 - nku) * dbar[k] * (1 - dbar[k]) / VD
            rows.append(("treated vs never treated", k, -1, est, w))
    for i, k in enumerate(groups):
        for ell in groups[i + 1:]:
            nk, nl, dk, dl = share[k], share[ell], dbar[k], dbar[ell]
            nkl = nk / (nk + nl)
            pre, mid, post = t < k, (t >= k) & (t < ell), t >= ell
            a, b = members[k], members[ell]
            est_e = (_mean(Y, a, mid) - _mean(Y, a, pre)) - (_mean(Y, b, mid) - _mean(Y, b, pre))
            w_e = ((nk + nl) * (1 - dl)) ** 2 * nkl * (1 - nkl) * (dk - dl) / (1 - dl) * (1 - dk) / (1 - dl) / VD
            rows.append(("earlier vs later treated", k, ell, est_e, w_e))
            est_l = (_mean(Y, b, post) - _mean(Y, b, mid)) - (_mean(Y, a, post) - _mean(Y, a, mid))
            w_l = ((nk + nl) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * (dk - dl) / dk / VD
            rows.append(("later vs earlier treated", ell, k, est_l, w_l))
    return pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])


@register_estimator("bacon_decomposition", family="did",
                    summary="Goodman-Bacon decomposition of a staggered TWFE estimate")
@renamed_first_argument("data")
def bacon_decomposition(study, **design: Any) -> DiDEffect:
    """Decompose the static TWFE estimate into its 2×2 comparisons and weights.

    Parameters
    ----------
    study : Study or pandas.DataFrame
        Balanced panel with a binary absorbing treatment (no weights, no covariates): a
        Study, or a DataFrame with the Study keywords in ``**design`` (as for
        :func:`~utvardering.did.twfe.twfe`; a ``treatment=`` column must be 0/1 and never
        switch off).
    **design
        Study keywords when ``study`` is a DataFrame, e.g. ``outcome=``, ``treatment=``.

    Returns
    -------
    DiDEffect
        ``bacon``: one row per comparison with ``type``, ``treated`` and ``control`` (first
        treated period; ``"never"``), ``estimate`` and ``weight``; ``estimate`` is
        :math:`\\sum s\\hat\\beta` (equal to the TWFE coefficient); ``diagnostics`` has the
        weight and weighted-average estimate of each comparison type and the TWFE
        coefficient computed directly.

    Raises
    ------
    DesignError
        Unbalanced panel, or a treatment that switches off.
    """
    design = panel_design(study, where="bacon_decomposition", covariates=[], absorbing=True,
                          **design)
    frame = design.frame
    Y = frame.pivot(index=design.unit, columns=design.time, values=design.outcome)
    if Y.isna().any().any():
        raise DesignError("bacon_decomposition needs a balanced panel: some unit-periods are "
                          "missing. Restrict to units observed in every period.")
    D = (pd.DataFrame({"unit": frame[design.unit].to_numpy(), "time": frame[design.time].to_numpy(),
                       "d": design.treat})
         .pivot(index="unit", columns="time", values="d").to_numpy())
    if not np.isin(D, [0, 1]).all() or (np.diff(D, axis=1) < 0).any():
        raise DesignError("bacon_decomposition needs a 0/1 treatment that never switches off.")
    if (D[:, 0] == 1).any():
        raise DesignError("some units are treated in the first period (always treated); drop "
                          "them or start the panel earlier.")
    first = np.where(D.any(1), D.argmax(1), -1)
    table = bacon_weights(Y.to_numpy(float), first)
    times = list(Y.columns)
    label = {i: str(times[i]) for i in range(len(times))} | {-1: "never"}
    table["treated"] = table["treated"].map(label)
    table["control"] = table["control"].map(label)
    estimate = float((table["estimate"] * table["weight"]).sum())
    y = frame[design.outcome].to_numpy(float)
    absorber = Absorber([factorize(frame[design.unit])[0], factorize(frame[design.time])[0]])
    both = absorber.demean(np.column_stack([y, design.treat]))
    direct = float(both[:, 1] @ both[:, 0] / (both[:, 1] @ both[:, 1]))
    summary = table.assign(wb=table["estimate"] * table["weight"]).groupby("type").agg(
        weight=("weight", "sum"), wb=("wb", "sum"))
    diagnostics = {"twfe_estimate": direct, "warnings": []}
    for kind, r in summary.iterrows():
        key = kind.replace(" ", "_")
        diagnostics[f"weight_{key}"] = float(r["weight"])
        diagnostics[f"estimate_{key}"] = float(r["wb"] / r["weight"]) if r["weight"] > 0 else np.nan
    forbidden = float(summary["weight"].get("later vs earlier treated", 0.0))
    if forbidden > 0.1:
        diagnostics["warnings"].append(
            f"{forbidden:.0%} of the TWFE weight is on comparisons that use already-treated units "
            "as controls; with effects that change over time TWFE is biased: use "
            "callaway_santanna, sun_abraham or imputation_did.")
    return DiDEffect(
        method="bacon_decomposition", estimate=estimate, diagnostics=diagnostics,
        outcome=design.outcome, estimand="TWFE coefficient as a weighted sum of 2×2 DiDs",
        n_treated=len(design.treated_units), n_control=design.n_units - len(design.treated_units),
        start=design.start, bacon=table, params={},
    )
