"""Standard errors for synthetic difference-in-differences (Arkhangelsky et al. 2021, §5).

A *design* is a panel ``Y`` whose first ``n_co`` rows are never-treated controls and whose
remaining rows are treated units, each with its own number of pre-periods (its cohort).
The point estimate averages the cohort estimates :math:`\\hat\\tau_g` with weights
:math:`N_g T_{\\mathrm{post},g}` (treated units × post-periods). The three variance
estimators re-run that whole estimator on altered designs:

- **placebo** (Algorithm 4): permute the controls; the last :math:`N_{\\mathrm{tr}}` play the
  treated units (with the real units' adoption periods), the rest are controls.
  :math:`\\widehat{V} = \\frac1B\\sum_b (\\hat\\tau^{(b)} - \\bar\\tau)^2`. Works with one treated
  unit; needs more controls than treated units. A placebo estimate depends only on *which*
  controls play which cohort (the order of the remaining controls changes only floating-point
  ties), and a uniform permutation makes every such assignment equally likely. When there
  are no more distinct assignments than replications (one treated unit: :math:`N_{\\mathrm{co}}`
  of them) :func:`placebo_assignments` lists each once and :math:`\\widehat{V}` is their
  population variance: the :math:`B \\to \\infty` limit of the random procedure, without
  Monte Carlo error.
- **bootstrap** (Algorithm 2): resample all units with replacement (draws without a control
  or without a treated unit are redrawn), same formula. Needs several treated units.
- **jackknife** (Algorithm 3): leave each unit out with the weights held fixed (unit weights
  renormalised), :math:`\\widehat{V} = \\frac{n-1}{n}\\sum_i (\\hat\\tau^{(-i)} - \\bar\\tau)^2`.
  Needs several treated units and more than one control with positive weight.

Re-estimations re-estimate the weights that the fit estimated, as R ``synthdid`` (checked
against its ``R/vcov.R`` and ``R/synthdid.R``): they start from the fitted time weights and
the fitted unit weights of the chosen controls renormalised, keep the fit's
:math:`\\zeta_\\omega`, :math:`\\zeta_\\lambda` and stopping tolerance (the noise level is not
recomputed on the placebo sample), and run the same two Frank–Wolfe passes (100 iterations,
sparsify, then up to 10,000). All replications are solved in one parallel call of
:func:`~utvardering.synth.sdid_weights.fit_blocks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from ..errors import DesignError
from .sdid_weights import SolverOptions, fit_blocks

__all__ = [
    "SDIDDesign",
    "bootstrap_estimates",
    "jackknife_estimates",
    "placebo_assignments",
    "placebo_estimates",
    "sdid_se",
]


@dataclass
class SDIDDesign:
    """A fitted synthetic-DiD design (arrays only).

    Attributes
    ----------
    Y : numpy.ndarray
        Outcomes ``(N, T)``: controls first, then treated units.
    n_co : int
        Number of control rows.
    treated_t0 : numpy.ndarray
        Pre-periods of each treated row (length ``N - n_co``).
    cohorts : numpy.ndarray
        The distinct values of ``treated_t0`` (sorted).
    omega, lam : list of numpy.ndarray
        Fitted unit weights (over the ``n_co`` controls) and time weights, one per cohort.
    zeta_omega, zeta_lambda, min_decrease : numpy.ndarray
        Regularisation and stopping tolerance, one per cohort.
    options : SolverOptions
        Which weights are estimated.
    """

    Y: np.ndarray
    n_co: int
    treated_t0: np.ndarray
    cohorts: np.ndarray
    omega: list
    lam: list
    zeta_omega: np.ndarray
    zeta_lambda: np.ndarray
    min_decrease: np.ndarray
    options: SolverOptions


def _normalise(v: np.ndarray) -> np.ndarray:
    s = v.sum()
    return v / s if s != 0 else np.full(v.size, 1.0 / v.size)


def _estimate_many(design: SDIDDesign, draws: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                   options: SolverOptions | None = None) -> np.ndarray:
    """Aggregate estimate for each draw ``(control_rows, treated_rows, treated_t0)``.

    ``control_rows`` index the design's controls (0 … n_co-1) and set the unit-weight start
    values; ``treated_rows`` are rows of ``Y``.
    """
    options = options or design.options
    T = design.Y.shape[1]
    rows, n0, t0, om, la, zo, zl, md, owner, weight = [], [], [], [], [], [], [], [], [], []
    for d, (controls, treated, t0s) in enumerate(draws):
        for g, cut in enumerate(design.cohorts):
            members = treated[t0s == cut]
            if members.size == 0:
                continue
            rows.append(np.concatenate([controls, members]))
            n0.append(controls.size)
            t0.append(int(cut))
            om.append(_normalise(design.omega[g][controls]))
            la.append(design.lam[g])
            zo.append(design.zeta_omega[g])
            zl.append(design.zeta_lambda[g])
            md.append(design.min_decrease[g])
            owner.append(d)
            weight.append(members.size * (T - cut))
    tau, *_ = fit_blocks(design.Y, rows, np.array(n0), np.array(t0), om, la, np.array(zo),
                         np.array(zl), np.array(md), options)
    owner = np.array(owner)
    weight = np.array(weight, dtype=float)
    num = np.bincount(owner, weights=weight * tau, minlength=len(draws))
    den = np.bincount(owner, weights=weight, minlength=len(draws))
    return num / den


def placebo_estimates(design: SDIDDesign, permutations: np.ndarray) -> np.ndarray:
    """Placebo estimates (Algorithm 4), one per permutation of the controls.

    Parameters
    ----------
    design : SDIDDesign
        The fitted design.
    permutations : numpy.ndarray
        Shape ``(B, n_co)``: each row a permutation of ``0 … n_co-1``; its last
        :math:`N_{\\mathrm{tr}}` entries become placebo-treated units (taking the real treated
        units' adoption periods in order) and the others controls.

    Returns
    -------
    numpy.ndarray
        ``B`` placebo estimates.
    """
    n_tr = design.treated_t0.size
    if design.n_co <= n_tr:
        raise DesignError(
            f"placebo standard errors need more controls ({design.n_co}) than treated units "
            f"({n_tr}); add comparison units or use se='bootstrap' or 'jackknife'."
        )
    cut = design.n_co - n_tr
    draws = [(np.asarray(p[:cut]), np.asarray(p[cut:]), design.treated_t0) for p in permutations]
    return _estimate_many(design, draws)


def placebo_assignments(design: SDIDDesign, limit: int) -> np.ndarray | None:
    """Every distinct placebo assignment once, as rows for :func:`placebo_estimates`.

    An assignment picks, for each adoption cohort :math:`g` with :math:`n_g` treated units,
    a set of :math:`n_g` controls to play it; there are
    :math:`\\binom{N_{\\mathrm{co}}}{n_1}\\binom{N_{\\mathrm{co}}-n_1}{n_2}\\cdots` of them, all equally
    likely under a uniform random permutation of the controls.

    Parameters
    ----------
    design : SDIDDesign
        The fitted design.
    limit : int
        Return ``None`` when there are more than ``limit`` assignments.

    Returns
    -------
    numpy.ndarray or None
        Shape ``(n_assignments, n_co)``: the remaining controls in their original order, then
        the placebo-treated controls in the order of ``design.treated_t0``. ``None`` also when
        there are no more controls than treated units.
    """
    n_co, t0s = design.n_co, design.treated_t0
    if n_co <= t0s.size:  # no placebo possible; placebo_estimates explains why
        return None
    slots = [np.flatnonzero(t0s == cut) for cut in design.cohorts]
    count, left = 1, n_co
    for s in slots:
        count, left = count * math.comb(left, s.size), left - s.size
        if count > limit:
            return None
    out = []

    def extend(g: int, free: tuple, treated: np.ndarray) -> None:
        if g == len(slots):
            out.append(np.concatenate([free, treated]))
            return
        for chosen in combinations(free, slots[g].size):
            placed = treated.copy()
            placed[slots[g]] = chosen
            extend(g + 1, tuple(c for c in free if c not in chosen), placed)

    extend(0, tuple(range(n_co)), np.empty(t0s.size, dtype=int))
    return np.array(out, dtype=int)


def bootstrap_estimates(design: SDIDDesign, replications: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap estimates (Algorithm 2): units resampled with replacement.

    Draws with no control or no treated unit are redrawn, as in R ``synthdid``.

    Parameters
    ----------
    design : SDIDDesign
        The fitted design.
    replications : int
        Number of valid draws.
    rng : numpy.random.Generator
        Random numbers.

    Returns
    -------
    numpy.ndarray
    """
    N = design.Y.shape[0]
    draws = []
    while len(draws) < replications:
        idx = np.sort(rng.integers(0, N, N))
        controls, treated = idx[idx < design.n_co], idx[idx >= design.n_co]
        if controls.size == 0 or treated.size == 0:
            continue
        draws.append((controls, treated, design.treated_t0[treated - design.n_co]))
    return _estimate_many(design, draws)


def jackknife_estimates(design: SDIDDesign) -> np.ndarray:
    """Fixed-weights leave-one-unit-out estimates (Algorithm 3), one per unit of ``Y``."""
    N = design.Y.shape[0]
    all_t = np.arange(design.n_co, N)
    draws = []
    for i in range(N):
        controls = np.delete(np.arange(design.n_co), i) if i < design.n_co else np.arange(design.n_co)
        treated = all_t[all_t != i]
        draws.append((controls, treated, design.treated_t0[treated - design.n_co]))
    fixed = replace(design.options, update_omega=False, update_lambda=False)
    return _estimate_many(design, draws, fixed)


def sdid_se(design: SDIDDesign, method: str, replications: int = 200,
            rng: np.random.Generator | None = None,
            enumerate_placebos: bool = True) -> tuple[float, np.ndarray]:
    """Standard error of the synthetic-DiD estimate by ``"placebo"``, ``"bootstrap"`` or ``"jackknife"``.

    Parameters
    ----------
    design : SDIDDesign
        The fitted design.
    method : str
        ``"placebo"``, ``"bootstrap"`` or ``"jackknife"``.
    replications : int, default 200
        Draws for the placebo and bootstrap methods.
    rng : numpy.random.Generator, optional
        Random numbers.
    enumerate_placebos : bool, default True
        Placebo: when there are at most ``replications`` distinct placebo assignments
        (:func:`placebo_assignments`), use each once (exact, no Monte Carlo error) instead
        of ``replications`` random permutations. ``False``: always random permutations, as
        R ``synthdid``.

    Returns
    -------
    se : float
    draws : numpy.ndarray
        The replicate estimates.

    Raises
    ------
    DesignError
        Bootstrap or jackknife with one treated unit (the treated unit's own variation is
        then not estimable: R ``synthdid`` returns ``NA``), or the jackknife when only one
        control has positive weight; placebo with no more controls than treated units.
    """
    rng = rng if rng is not None else np.random.default_rng()
    n_tr = design.treated_t0.size
    if method in ("bootstrap", "jackknife") and n_tr == 1:
        raise DesignError(
            f"se='{method}' is not defined with a single treated unit: resampling or leaving "
            "out units cannot reproduce the treated unit's own variation (R synthdid returns "
            "NA; Arkhangelsky et al. 2021, §5). Use se='placebo'."
        )
    if method == "placebo":
        perms = placebo_assignments(design, replications) if enumerate_placebos else None
        if perms is None:
            perms = np.array([rng.permutation(design.n_co) for _ in range(replications)])
        draws = placebo_estimates(design, perms)
        return float(np.std(draws)), draws
    if method == "bootstrap":
        draws = bootstrap_estimates(design, replications, rng)
        return float(np.std(draws)), draws
    if method == "jackknife":
        if design.options.update_omega and any(np.count_nonzero(w) == 1 for w in design.omega):
            raise DesignError(
                "the fixed-weights jackknife is not defined when a single control carries all "
                "the unit weight (R synthdid returns NA); use se='placebo' or 'bootstrap'."
            )
        draws = jackknife_estimates(design)
        n = draws.size
        return float(np.sqrt((n - 1) / n * np.sum((draws - draws.mean()) ** 2))), draws
    raise DesignError(
        f"se={method!r} is not a standard-error method; use 'placebo', 'bootstrap', "
        "'jackknife' or None."
    )
