"""Randomization inference for panel DiD, and the Conley–Taber interval for one treated unit.

*Randomization (permutation) inference* treats the assignment of treatment as the random
element: under the sharp null of no effect for any unit, the TWFE coefficient computed under
any other assignment the design could have produced is as likely as the observed one. The
p-value is the share of assignments whose :math:`|\\hat\\beta^{(p)}|` is at least the observed
:math:`|\\hat\\beta|` (the observed assignment included). Assignments are drawn by

* ``"units"`` — shuffling the vector of start dates across all units (which units are
  treated, and when; the number treated per start date is kept), or
* ``"cohorts"`` — keeping the treated units and shuffling the start dates among them
  (a test of the timing of staggered adoption).

With few possible assignments (e.g. one treated unit among N), all are enumerated and the
p-value is exact (its smallest possible value is 1/N).

*Conley–Taber* intervals (Conley & Taber 2011) address one (or few) treated units: the error
of :math:`\\hat\\beta` comes from the treated unit's own shocks, which cluster-robust
variances cannot estimate. Its distribution is approximated by the placebo estimates
obtained by treating, in turn, each comparison unit as if it had been treated at the same
dates (using comparison units only); the interval inverts the placebo test, :math:`\\hat\\beta
\\pm e_{(m)}` (:func:`symmetric_inversion`), so it excludes zero exactly when the placebo
p-value is at most :math:`\\alpha`, and it is unbounded when there are too few placebos for
the level (fewer than :math:`\\lceil 1/\\alpha \\rceil - 1`). It assumes the treated unit's
errors are exchangeable with the comparison units'.

All placebo coefficients are computed at once: the candidate treatment columns form an
n × P matrix that is projected off the fixed effects in one call (Frisch–Waugh–Lovell).

References
----------
Fisher, R. A. (1935). *The Design of Experiments*.
Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a small
number of policy changes. *REStat* 93(1), 113–125.
MacKinnon, J. G. & Webb, M. D. (2020). Randomization inference for difference-in-differences
with few treated clusters. *J. Econometrics* 218(2), 435–450.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .._numerics.fixed_effects import Absorber
from ..options import renamed

__all__ = ["RandomizationResult", "conley_taber_interval", "permutation_test", "placebo_coefficients",
           "placebos_needed", "size_variance_rescale", "symmetric_inversion"]


@dataclass
class RandomizationResult:
    """Result of :func:`permutation_test` or :func:`conley_taber_interval`.

    Attributes
    ----------
    estimate : float
        Coefficient under the observed assignment.
    p_value : float
        Randomization p-value (NaN for a Conley–Taber interval alone).
    interval : tuple of float
        Conley–Taber interval (NaN from :func:`permutation_test`).
    level : float
        Nominal level of ``interval``.
    n_permutations : int
        Assignments used (the observed one included).
    exact : bool
        Whether every possible assignment was enumerated.
    scheme : str
        ``"units"``, ``"cohorts"`` or ``"conley_taber"``.
    placebo : numpy.ndarray
        The placebo coefficients.
    """

    estimate: float
    p_value: float
    interval: tuple[float, float]
    level: float
    n_permutations: int
    exact: bool
    scheme: str
    placebo: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def to_dict(self) -> dict:
        """Plain summary for ``Effect.diagnostics`` (without the placebo draws)."""
        return {"estimate": self.estimate, "p_value": self.p_value, "interval": list(self.interval),
                "level": self.level, "n_permutations": self.n_permutations, "exact": self.exact,
                "scheme": self.scheme}


def placebo_coefficients(y: np.ndarray, D: np.ndarray, absorber: Absorber,
                         covariates: np.ndarray | None = None, block: int = 256) -> np.ndarray:
    """TWFE coefficient of each column of ``D`` (n × P) on ``y`` with the absorber's effects.

    :math:`\\hat\\beta_p = \\tilde D_p' W \\tilde y / \\tilde D_p' W \\tilde D_p`, with tildes
    denoting residuals after the fixed effects (and covariates, if given).
    """
    w = absorber.weights
    yd = absorber.demean(y)
    xd = None
    if covariates is not None and covariates.size:
        xd = absorber.demean(covariates.reshape(len(y), -1))
        gram = xd.T @ (w[:, None] * xd)
        yd = yd - xd @ np.linalg.solve(gram, xd.T @ (w * yd))
    out = []
    for lo in range(0, D.shape[1], block):
        dd = absorber.demean(D[:, lo:lo + block].astype(float))
        if xd is not None:
            dd = dd - xd @ np.linalg.solve(gram, xd.T @ (w[:, None] * dd))
        out.append((dd.T @ (w * yd)) / np.einsum("ij,ij->j", dd, w[:, None] * dd))
    return np.concatenate(out)


def _treatment_columns(unit_codes, pos, starts_matrix):
    """N × P treatment matrix from a (P × units) matrix of start positions (inf = never)."""
    return (pos[:, None] >= starts_matrix.T[unit_codes]).astype(float)


def permutation_test(
    y: np.ndarray,
    unit_codes: np.ndarray,
    time_pos: np.ndarray,
    unit_starts: np.ndarray,
    absorber: Absorber,
    *,
    covariates: np.ndarray | None = None,
    scheme: Literal["units", "cohorts"] = "units",
    n_draws: int = 999,
    random_state: int | np.random.Generator | None = None,
    n_permutations: int | None = None,
) -> RandomizationResult:
    """Randomization p-value for the static TWFE coefficient.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome (n).
    unit_codes : numpy.ndarray
        Unit code of each row (0..N-1).
    time_pos : numpy.ndarray
        Period index of each row.
    unit_starts : numpy.ndarray
        First treated period index of each unit (``numpy.inf`` = never treated).
    absorber : Absorber
        Unit and period fixed effects (and weights).
    covariates : numpy.ndarray, optional
        Controls partialled out.
    scheme : {"units", "cohorts"}
        What is reassigned (see the module docstring).
    n_draws : int, default 999
        Random assignments (besides the observed one) when enumeration is not possible.
    random_state : int or numpy.random.Generator, optional
        Seed.
    n_permutations : int, optional
        Old name of ``n_draws`` (accepted until the next release, with a DeprecationWarning).

    Returns
    -------
    RandomizationResult
    """
    if n_permutations is not None:
        n_draws = renamed({"n_permutations": n_permutations}, {"n_permutations": "n_draws"},
                          "permutation_test")["n_draws"]
    starts = np.asarray(unit_starts, dtype=float)
    n_units = len(starts)
    treated = np.flatnonzero(np.isfinite(starts))
    rng = np.random.default_rng(random_state)
    exact = False
    if scheme == "units" and len(treated) == 1:
        mats = np.full((n_units, n_units), np.inf)
        mats[np.arange(n_units), np.arange(n_units)] = starts[treated[0]]
        observed = int(treated[0])
        exact = True
    elif scheme in ("units", "cohorts"):
        pool = np.arange(n_units) if scheme == "units" else treated
        rows = [starts.copy()]
        for _ in range(n_draws):
            s = starts.copy()
            s[pool] = starts[rng.permutation(pool)]
            rows.append(s)
        mats = np.vstack(rows)
        observed = 0
    else:
        raise ValueError(f"scheme={scheme!r} is not one of 'units', 'cohorts'.")
    D = _treatment_columns(unit_codes, time_pos, mats)
    betas = placebo_coefficients(y, D, absorber, covariates)
    beta = float(betas[observed])
    p = float(np.mean(np.abs(betas) >= abs(beta) * (1 - 1e-12)))
    return RandomizationResult(beta, p, (np.nan, np.nan), np.nan, len(betas), exact, scheme, betas)


def conley_taber_interval(
    y: np.ndarray,
    unit_codes: np.ndarray,
    time_pos: np.ndarray,
    unit_starts: np.ndarray,
    absorber_factory,
    *,
    level: float = 0.95,
) -> RandomizationResult:
    """Conley–Taber interval for a DiD with one (or few, same-start) treated unit(s).

    Parameters
    ----------
    y, unit_codes, time_pos, unit_starts
        As for :func:`permutation_test`.
    absorber_factory : callable
        ``absorber_factory(mask)`` returns the :class:`~utvardering._numerics.fixed_effects.Absorber`
        for the rows in the boolean ``mask`` (comparison units only for the placebos).
    level : float, default 0.95
        Nominal coverage; with N comparison units the attainable levels are multiples of
        1/(N + 1) (see :func:`symmetric_inversion`).

    Returns
    -------
    RandomizationResult
        ``interval``, ``placebo`` (one estimate per comparison unit) and the placebo p-value
        (share of placebos at least as large in absolute value as the estimate).
    """
    starts = np.asarray(unit_starts, dtype=float)
    treated = np.flatnonzero(np.isfinite(starts))
    controls = np.flatnonzero(~np.isfinite(starts))
    if len(controls) < 2:
        raise ValueError("a Conley–Taber interval needs at least two comparison units.")
    start = float(starts[treated].min())
    D = (np.isin(unit_codes, treated) & (time_pos >= start)).astype(float)[:, None]
    beta = float(placebo_coefficients(y, D, absorber_factory(np.ones(len(y), dtype=bool)))[0])
    mask = np.isin(unit_codes, controls)
    uc = unit_codes[mask]
    Dp = ((uc[:, None] == controls[None, :]) & (time_pos[mask][:, None] >= start)).astype(float)
    placebo = placebo_coefficients(y[mask], Dp, absorber_factory(mask))
    p = float((1 + np.sum(np.abs(placebo) >= abs(beta))) / (1 + len(placebo)))
    return RandomizationResult(beta, p, symmetric_inversion(beta, placebo, level), level,
                               len(placebo), True, "conley_taber", placebo)


def placebos_needed(level: float) -> int:
    """Fewest placebos for which :func:`symmetric_inversion` can be bounded at ``level``:
    :math:`\\lceil 1/\\alpha \\rceil - 1` (19 at 95 %).
    """
    return int(np.ceil(1 / (1 - level) - 1e-9)) - 1


def symmetric_inversion(beta: float, placebo: np.ndarray, level: float) -> tuple[float, float]:
    """The interval that inverts the placebo p-value :math:`(1 + \\#\\{|e_j| \\ge |\\hat\\beta -
    \\beta_0|\\})/(N + 1)` at ``level``: :math:`\\hat\\beta \\pm e_{(m)}`.

    :math:`e_{(m)}` is the :math:`m`-th largest :math:`|e_j|` with
    :math:`m = \\lfloor \\alpha (N + 1) \\rfloor`; zero lies outside the interval exactly when
    the p-value is at most :math:`\\alpha`. With fewer than :func:`placebos_needed` placebos
    no value can be rejected and the interval is :math:`(-\\infty, \\infty)` (an interpolated
    quantile of so few placebos would claim a coverage the test cannot attain).
    """
    size = np.sort(np.abs(np.asarray(placebo, dtype=float)))[::-1]
    m = int(np.floor((1 - level) * (len(size) + 1) + 1e-12))
    if m < 1 or m > len(size):
        return -np.inf, np.inf
    radius = float(size[m - 1])
    return float(beta - radius), float(beta + radius)


def size_variance_rescale(estimates: np.ndarray, size_terms: np.ndarray, observed: int, *,
                          reweight: int = 3) -> tuple[np.ndarray, dict]:
    """Rescale placebo estimates to the observed assignment's variance (Ferman & Pinto 2019).

    The variance of the estimate under assignment :math:`j` is modelled as
    :math:`V_j = A + B s_j` with a known size term :math:`s_j` (e.g. inverse group sizes or
    inverse expected counts). :math:`(A, B) \\ge 0` are estimated by non-negative least
    squares of :math:`\\hat e_j^2` on :math:`(1, s_j)` over the finite placebo estimates
    (:math:`E[\\hat e_j^2] = V_j` under the null), reweighted ``reweight`` times by
    :math:`1/\\hat V_j^2` (:math:`\\mathrm{Var}(\\hat e_j^2) = 2V_j^2` for normal errors, so
    the precise placebos of large units, which carry the information on :math:`A`, are not
    drowned by the noisy small ones), and every estimate is multiplied by
    :math:`(\\hat V_{obs} / \\hat V_j)^{1/2}`, so the observed one is unchanged and the
    placebos mimic its distribution.

    Parameters
    ----------
    estimates : numpy.ndarray
        Estimate under every assignment (observed included; ±inf and NaN are kept as they are).
    size_terms : numpy.ndarray
        :math:`s_j` for every assignment.
    observed : int
        Index of the observed assignment.
    reweight : int, default 3
        Feasible weighted least-squares iterations after the unweighted fit.

    Returns
    -------
    scaled : numpy.ndarray
        The rescaled estimates (unchanged if the fitted variances are not all positive).
    model : dict
        ``A``, ``B``, ``size_term`` (the observed one), ``sd`` (:math:`\\hat V_{obs}^{1/2}`),
        ``n_fit`` (placebos in the regression) and ``rescaled`` (bool).

    References
    ----------
    Ferman, B. & Pinto, C. (2019). Inference in differences-in-differences with few treated
    groups and heteroskedasticity. *REStat* 101(3), 452–467.
    """
    from scipy.optimize import nnls

    e = np.asarray(estimates, dtype=float)
    s = np.asarray(size_terms, dtype=float)
    fit = np.isfinite(e) & np.isfinite(s)
    fit[observed] = False
    model = {"A": float("nan"), "B": float("nan"), "size_term": float(s[observed]),
             "sd": float("nan"), "n_fit": int(fit.sum()), "rescaled": False}
    if fit.sum() < 3 or not np.isfinite(s[observed]):
        return e.copy(), model
    design, target = np.column_stack([np.ones(fit.sum()), s[fit]]), e[fit] ** 2
    coef = nnls(design, target)[0]
    for _ in range(reweight):  # Var(e^2) = 2 V^2 for normal e: weights 1 / V^2
        v = design @ coef
        if not np.all(v > 0):
            break
        coef = nnls(design / v[:, None], target / v)[0]
    var = coef[0] + coef[1] * np.where(np.isfinite(s), s, np.inf)
    model.update(A=float(coef[0]), B=float(coef[1]), sd=float(np.sqrt(var[observed])))
    if not np.all(var[np.isfinite(e)] > 0) or not var[observed] > 0:
        return e.copy(), model
    with np.errstate(invalid="ignore"):
        scaled = np.where(np.isfinite(e), e * np.sqrt(var[observed] / var), e)
    model["rescaled"] = True
    return scaled, model
