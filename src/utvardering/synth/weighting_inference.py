"""Placebo and conformal inference for augmented and penalized synthetic control.

Both refit the weighting estimator itself (ridge ASCM with the fit's :math:`\\lambda`, or
penalized SC with the fit's penalty), so the inference accounts for the augmentation.
"""

from __future__ import annotations

import numpy as np

from ..errors import DesignError
from .conformal_refit import ConformalResult, conformal_arrays, legacy_n_draws
from .placebo import PlaceboResult, _placebo_result

__all__ = ["weighting_conformal", "weighting_placebo_in_space"]


def _weighting_args(effect):
    study, spec = effect._need_fit("this method")
    if len(study.treated) != 1:
        raise DesignError(
            f"conformal and placebo inference need one treated unit; this fit has "
            f"{len(study.treated)}. Fit each unit separately (study.replace(treated=unit, start=...))."
        )
    table = spec["table"]
    times = list(table.columns)
    u = study.treated[0]
    pre = np.array([t < study.starts[u] for t in times])
    return study, spec, table, times, u, pre, ~pre


def weighting_conformal(effect, *, null: float | np.ndarray = 0.0, scheme: str = "moving_block",
                        q: float = 1.0, level: float | None = None, n_draws: int = 999,
                        random_state: int | None = 0, **deprecated) -> ConformalResult:
    """Conformal inference for augmented or penalized synthetic control.

    Under each null the estimator is refitted on all periods — ridge ASCM with the fit's
    :math:`\\lambda` (as ``augsynth``'s conformal inference), or penalized SC with the fit's
    penalty — and its residuals are permuted over time (see
    :mod:`utvardering.inference.conformal`).

    Parameters
    ----------
    effect : AugmentedSynthEffect
        A fit with one treated unit.
    null, scheme, q, level, n_draws, random_state :
        As in :func:`conformal` (``n_draws`` was ``n_permutations``).

    Returns
    -------
    ConformalResult
    """
    n_draws = legacy_n_draws(deprecated, n_draws, "conformal")
    study, spec, table, times, u, pre, post = _weighting_args(effect)
    donors = list(study.donors)
    residuals = spec["residuals"](u, donors, spec["lam"])
    return conformal_arrays(table.loc[u].to_numpy(dtype=float),
                            table.loc[donors].to_numpy(dtype=float).T, pre, post, times,
                            effect.path["effect"].to_numpy(dtype=float),
                            level=effect.level if level is None else level, null=null,
                            scheme=scheme, q=q, n_draws=n_draws,
                            random_state=random_state, residuals=residuals)


def weighting_placebo_in_space(effect, *, max_pre_mspe_ratio: float | None = None) -> PlaceboResult:
    """Every donor in turn as a placebo treated unit, for augmented or penalized SC.

    Each placebo is refitted with the other donors (the treated unit left out) and the fit's
    options; a cross-validated :math:`\\lambda` is cross-validated again for each placebo (a
    given one is kept). Statistic and p-value as in :func:`placebo_in_space`.

    Parameters
    ----------
    effect : AugmentedSynthEffect
        A fit with one treated unit.
    max_pre_mspe_ratio : float, optional
        As in :func:`placebo_in_space`.

    Returns
    -------
    PlaceboResult
    """
    study, spec, table, times, u, pre, post = _weighting_args(effect)
    donors = list(study.donors)
    lam = None if spec["cv"] else spec["lam"]
    gaps = [effect.path["effect"].to_numpy(dtype=float)]
    for d in donors:
        others = [x for x in donors if x != d]
        y = table.loc[d].to_numpy(dtype=float)
        w, _ws, _lam, _cv, yy, Y0 = spec["fit"](y, table.loc[others].to_numpy(dtype=float), pre, d,
                                               others, lam)
        gaps.append(yy - w @ Y0)
    return _placebo_result([u, *donors], np.array(gaps), pre, post, times, max_pre_mspe_ratio,
                           str(study.start))
