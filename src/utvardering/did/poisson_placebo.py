"""Randomization inference for :func:`~utvardering.did.poisson.poisson_did`: placebo refits.

The treated unit's (or units') treatment path is reassigned to other units and the Poisson
PML is refitted under every assignment. The placebo estimates give

* the randomization p-value (Fisher 1935; MacKinnon & Webb 2020), and
* by inverting the placebo test under a constant effect, a Conley–Taber interval
  (:func:`placebo_shift_interval`; Conley & Taber 2011).

Both assume the placebo errors are exchangeable with the treated unit's. With counts they are
not: the sampling noise of a log rate ratio shrinks with the number of events, so a large
treated area is compared with much noisier small areas (interval too wide) and a small one
with quieter large areas (too short). The size of an assignment is measured by the Poisson
sampling term :math:`s_j = 1/C^{1}_j + 1/C^{0}_j`, with :math:`C^1_j, C^0_j` the expected counts
(without treatment) in its treated cells and in the untreated cells of the units it treats
(:func:`placebo_size_terms`), and two corrections are offered:

* ``heteroskedasticity="matched"`` keeps the :math:`K` placebo assignments closest to the
  observed one in :math:`\\log s_j` (by default the fewest the level needs,
  :math:`K = \\lceil 1/\\alpha \\rceil - 1`, e.g. 19 at 95%): the randomization test and its
  interval are then exact if units of similar expected counts are exchangeable. For the
  largest area its neighbours are still somewhat smaller, so it errs on the wide side.
* ``heteroskedasticity="size"`` is the parametric correction of Ferman & Pinto (2019): the
  variance of a placebo estimate is modelled as :math:`V_j = A + B\\,s_j` (:math:`A` the
  size-free part — area trends, AR(1) shocks, frailty), :math:`(A, B)` are estimated by
  reweighted non-negative least squares of :math:`\\hat e_j^2` on :math:`(1, s_j)`
  (:func:`~utvardering.inference.randomization.size_variance_rescale`), and each placebo is
  rescaled to the treated unit's variance, :math:`\\tilde e_j = \\hat e_j
  \\sqrt{\\hat V_1 / \\hat V_j}`. It uses all placebos but leans on :math:`\\hat A`, which only
  the few large comparison units inform.

References
----------
Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a small
number of policy changes. *REStat* 93(1), 113–125.
Ferman, B. & Pinto, C. (2019). Inference in differences-in-differences with few treated
groups and heteroskedasticity. *REStat* 101(3), 452–467.
MacKinnon, J. G. & Webb, M. D. (2020). Randomization inference for difference-in-differences
with few treated clusters. *J. Econometrics* 218(2), 435–450.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..inference.randomization import size_variance_rescale, symmetric_inversion
from .pml import balanced_grid, batched_fe_poisson, fe_poisson, separation

__all__ = ["placebo_shift_interval", "placebo_size_terms", "poisson_randomization"]


def _placebo_betas(y, unit_codes, time_pos, designs, codes, clusters, offset, batched,
                   covariates=None):
    """Treatment coefficient of the PML refit for each unit × period design in ``designs``."""
    cell = None
    if batched and covariates is None and len(codes) == 2 \
            and np.array_equal(codes[0], unit_codes) and np.array_equal(codes[1], time_pos):
        cell = balanced_grid(unit_codes, time_pos)
    if cell is None:  # unbalanced panel, covariates or other fixed effects: one fit each
        betas = np.full(len(designs), np.nan)
        grid = np.zeros(designs.shape[1:])
        np.add.at(grid, (unit_codes, time_pos), y)
        for j, pattern in enumerate(designs):
            d = pattern[unit_codes, time_pos][:, None]
            if d.std() == 0:
                continue
            sep = int(separation(grid, pattern[None])[0])
            if sep:
                betas[j] = sep * np.inf
                continue
            x = d if covariates is None else np.column_stack([d, covariates])
            betas[j] = fe_poisson(y, x, codes, clusters, offset=offset).coef[0]
        return betas
    n_units, n_t = designs.shape[1:]
    grid = np.empty(n_units * n_t)
    grid[cell] = y
    off = None
    if offset is not None:
        off = np.empty(n_units * n_t)
        off[cell] = offset
        off = off.reshape(n_units, n_t)
    return batched_fe_poisson(grid.reshape(n_units, n_t), designs, offset=off)[0]


def placebo_size_terms(designs: np.ndarray, mu0: np.ndarray) -> np.ndarray:
    """Poisson sampling term :math:`s_j = 1/C^1_j + 1/C^0_j` of each assignment's estimate.

    Parameters
    ----------
    designs : numpy.ndarray
        Assignments (J × units × periods), 1 in placebo-treated cells.
    mu0 : numpy.ndarray
        Expected counts without treatment (units × periods, 0 in unobserved cells).

    Returns
    -------
    numpy.ndarray
        :math:`C^1_j` is the expected count in the treated cells of assignment :math:`j`,
        :math:`C^0_j` in the untreated cells of the units it treats; the variance of a
        log rate ratio of Poisson counts is :math:`1/C^1 + 1/C^0`.
    """
    mu0 = np.asarray(mu0, dtype=float)
    c1 = np.einsum("jnt,nt->j", designs, mu0)
    rows = designs.any(axis=2).astype(float)
    c0 = rows @ mu0.sum(axis=1) - c1
    with np.errstate(divide="ignore"):
        return 1.0 / c1 + 1.0 / c0


def _recode(codes: np.ndarray) -> np.ndarray:
    return np.unique(codes, return_inverse=True)[1].astype(np.int64)


def _comparison_panel(y, unit_codes, time_pos, codes, clusters, offset, covariates, treated):
    """The panel without the treated units, recoded, and without periods left with no events."""
    keep = ~np.isin(unit_codes, treated)
    tot = np.bincount(time_pos[keep], weights=y[keep], minlength=int(time_pos.max()) + 1)
    live = tot > 0
    keep &= live[time_pos]

    def sub(a):
        return None if a is None else a[keep]

    parts = {"y": y[keep], "unit_codes": _recode(unit_codes[keep]),
             "time_pos": _recode(time_pos[keep]), "codes": [_recode(c[keep]) for c in codes],
             "clusters": _recode(clusters[keep]), "offset": sub(offset),
             "covariates": sub(covariates)}
    return parts, live


def _placebo_designs(paths: np.ndarray, n_controls: int, n_draws: int, random_state):
    """Placebo assignments of the treated units' paths to comparison units.

    One treated unit: each comparison unit in turn (all ``n_controls``, exact). Several:
    ``n_draws`` random sets of comparison units, one per treated path.
    """
    n_treated, n_t = paths.shape
    if n_treated == 1:
        designs = np.zeros((n_controls, n_controls, n_t))
        designs[np.arange(n_controls), np.arange(n_controls)] = paths[0]
        return designs, True
    rng = np.random.default_rng(random_state)
    chosen = np.argsort(rng.random((n_draws, n_controls)), axis=1)[:, :n_treated]
    designs = np.zeros((n_draws, n_controls, n_t))
    designs[np.arange(n_draws)[:, None], chosen] = paths[None]
    return designs, False


def _nearest_in_size(betas: np.ndarray, sizes: np.ndarray, k: int):
    """The observed estimate and the ``k`` placebos closest to it in log size term."""
    if k < 1:
        raise ValueError(f"n_matched={k} must be at least 1.")
    cand = np.flatnonzero(~np.isnan(betas[1:]) & np.isfinite(sizes[1:]) & (sizes[1:] > 0)) + 1
    with np.errstate(divide="ignore"):
        gap = np.abs(np.log(sizes[cand]) - np.log(sizes[0]))
    keep = cand[np.argsort(gap, kind="stable")[:k]]
    chosen = sizes[keep]
    span = [float(chosen.min()), float(chosen.max())] if len(keep) else [np.nan, np.nan]
    return keep, span


def poisson_randomization(y, unit_codes, time_pos, pattern, codes, clusters, *, offset=None,
                          covariates: np.ndarray | None = None, mu0: np.ndarray | None = None,
                          heteroskedasticity: Literal["none", "matched", "size"] = "none",
                          n_matched: int = 19, estimate: float | None = None,
                          n_draws: int = 199, random_state=None, batched: bool = True) -> dict:
    """Randomization p-value for the Poisson DiD coefficient by refitting reassigned designs.

    ``pattern`` is the units × periods treatment matrix (0 where a unit has no observation);
    its rows are the units' whole treatment paths, start and any end of the intervention
    included.

    The treated units are left out and their paths are given to comparison units, on the
    comparison units' panel (periods with no event among them dropped), so that the treated
    units' own effects do not leak into the placebos through the period effects (Conley &
    Taber 2011): with one treated unit each comparison unit in turn (exact enumeration),
    otherwise ``n_draws`` random sets of comparison units. The p-value is
    :math:`(1 + \\#\\{j: |\\hat e_j| \\ge |\\hat\\beta|\\}) / (1 + J)`, exact under the sharp
    null and exchangeable units with one treated unit.

    Each assignment is a full PML refit, with the covariates if given. On a balanced
    unit × period panel with unit and period effects and no covariates all refits run at
    once (:func:`~utvardering.did.pml.batched_fe_poisson`, the same IRLS fixed
    point on (J, N, T) arrays); otherwise, or with ``batched=False``, one by one with
    :func:`~utvardering.did.pml.fe_poisson`. ``estimate`` is the observed coefficient
    (refitted when not given).

    With ``heteroskedasticity="matched"`` or ``"size"`` (both need ``mu0``, the units ×
    periods expected counts without treatment) only the ``n_matched`` placebos closest in
    size are kept, or all are rescaled to the observed assignment's variance (Ferman & Pinto
    2019), before the p-value is taken; see the module docstring.

    Returns
    -------
    dict
        ``estimate``, ``p_value``, ``n_permutations`` (assignments with an estimate, the
        observed one included), ``exact``, ``scheme`` (``"comparison units"`` or
        ``"permutations"``), ``heteroskedasticity``, ``placebo`` (the placebo estimates as
        used: matched or rescaled if asked), ``placebo_table`` (every placebo assignment:
        ``assignment`` — the comparison unit's code with one treated unit, else the draw —
        raw ``estimate``, ``size_term`` when ``mu0`` is given, ``used`` in the reference set,
        ``reference_value`` as used) and with a correction ``size_term`` (the observed
        assignment's :math:`s`) and ``variance_model`` (``A``, ``B``, ``sd``; ``"size"``) or
        ``n_matched`` and ``matched_size_range`` (``"matched"``).
    """
    if heteroskedasticity not in ("none", "matched", "size"):
        raise ValueError(f"heteroskedasticity={heteroskedasticity!r} is not one of 'none', "
                         "'matched', 'size'.")
    if heteroskedasticity != "none" and mu0 is None:
        raise ValueError(f"heteroskedasticity={heteroskedasticity!r} needs mu0, the expected "
                         "counts without treatment (units × periods).")
    y = np.asarray(y, dtype=float)
    unit_codes = np.asarray(unit_codes, dtype=np.int64)
    time_pos = np.asarray(time_pos, dtype=np.int64)
    clusters = np.asarray(clusters, dtype=np.int64)
    pattern = np.asarray(pattern, dtype=float)
    n_units = len(pattern)
    treated = np.flatnonzero(pattern.any(axis=1))
    if estimate is None:
        d = pattern[unit_codes, time_pos][:, None]
        x = d if covariates is None else np.column_stack([d, covariates])
        estimate = float(fe_poisson(y, x, codes, clusters, offset=offset).coef[0])
    controls = np.setdiff1d(np.arange(n_units), treated)
    if len(controls) < 2:
        raise DesignError(f"randomization inference needs at least two comparison units; "
                          f"there are {len(controls)}. With so few units no interval is valid: "
                          "report the point estimate only (inference='cluster' gives it, with an "
                          "interval that is not to be trusted).")
    panel, live = _comparison_panel(y, unit_codes, time_pos, codes, clusters, offset,
                                    covariates, treated)
    designs, exact = _placebo_designs(pattern[treated][:, live], len(controls), n_draws,
                                      random_state)
    placebo = _placebo_betas(panel["y"], panel["unit_codes"], panel["time_pos"], designs,
                             panel["codes"], panel["clusters"], panel["offset"], batched,
                             panel["covariates"])
    betas = np.concatenate([[estimate], placebo])
    scheme = "comparison units"
    sizes = np.full(len(betas), np.nan)
    if mu0 is not None:
        mu0 = np.asarray(mu0, dtype=float)
        sizes = np.concatenate([placebo_size_terms(pattern[None], mu0),
                                placebo_size_terms(designs, mu0[controls][:, live])])
    raw, used = betas.copy(), ~np.isnan(betas)
    out: dict = {"heteroskedasticity": heteroskedasticity}
    if heteroskedasticity != "none":
        out["size_term"] = float(sizes[0])
    if heteroskedasticity == "size":
        betas, out["variance_model"] = size_variance_rescale(betas, sizes, 0)
    elif heteroskedasticity == "matched":
        keep, out["matched_size_range"] = _nearest_in_size(betas, sizes, n_matched)
        out["n_matched"] = len(keep)
        used[1:] = False
        used[keep] = True
    ref = betas[used]  # the observed estimate first, then the placebos in the reference set
    p = float(np.mean(np.abs(ref) >= abs(estimate) * (1 - 1e-12)))
    out.update({"estimate": float(estimate), "p_value": p, "n_permutations": int(used.sum()),
                "exact": exact, "scheme": scheme, "placebo": betas[1:][used[1:]],
                "placebo_table": pd.DataFrame({
                    "assignment": controls if exact else np.arange(len(raw) - 1),
                    "estimate": raw[1:], "size_term": sizes[1:], "used": used[1:],
                    "reference_value": np.where(used[1:], betas[1:], np.nan)})})
    return out


def placebo_shift_interval(beta: float, placebo: np.ndarray, level: float) -> tuple[float, float]:
    """Interval from inverting the placebo (randomization) test, Conley–Taber style.

    Under a constant effect and errors exchangeable across units, ``beta_hat - beta`` is
    distributed like the placebo estimates ``e_j``. The value ``beta_0`` is accepted when the
    randomization p-value ``(1 + #{|e_j| >= |beta_hat - beta_0|}) / (N + 1)`` exceeds
    ``1 - level``: the accepted set is ``beta_hat ± e_(m)``, the ``m``-th largest ``|e_j|`` with
    ``m`` the fewest placebos the p-value needs. With too few placebos for the level (fewer
    than ``1 / (1 - level) - 1``) no value is rejected and the interval is unbounded.
    Conley & Taber (2011), Review of Economics and Statistics 93(1).
    """
    return symmetric_inversion(beta, placebo, level)
