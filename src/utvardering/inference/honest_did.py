"""HonestDiD sensitivity analysis (Rambachan & Roth 2023): robust intervals for event studies.

:func:`honest_did` asks how far the conclusion of an event study survives violations of
parallel trends that are bounded by what the pre-period coefficients show: relative
magnitudes Δ^RM(M̄) with conditional least-favourable hybrid ("C-LF") intervals, or
smoothness Δ^SD(M) with fixed-length confidence intervals (FLCI) — the R package's defaults.
Numerics live in :mod:`~utvardering.inference.honest_rm` and
:mod:`~utvardering.inference.honest_sd`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..effect import Effect
from ..errors import DataError, DesignError
from ..options import renamed
from .honest_rm import rm_confidence_set, rm_grid
from .honest_sd import flci

__all__ = ["HonestEffect", "honest_did"]


@dataclass(repr=False)
class HonestEffect(Effect):
    """Result of :func:`honest_did`.

    ``estimate``, ``se`` and ``interval`` are the plug-in estimate l'β̂_post and its usual
    (non-robust, normal) interval; ``path`` (index ``M`` — M̄ for relative magnitudes —
    plus a last row ``"original"``) holds the robust intervals in columns ``low`` and
    ``high``.

    Attributes
    ----------
    breakdown : float, optional
        Smallest M (or M̄) among those tried whose robust interval includes 0; ``None`` if
        none does (the conclusion survives every M tried) and 0 if the original interval
        already includes 0.
    restriction : str
        ``"relative_magnitudes"`` or ``"smoothness"``.
    l_vec : list of float
        Weights on the post-period coefficients defining the target θ = l'τ_post.
    """

    breakdown: float | None = None
    restriction: str = "relative_magnitudes"
    l_vec: list | None = None

    def plot(self, ax=None, **kwargs: Any):
        """Sensitivity plot: robust intervals against M next to the original interval.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from ..plotting.honest_did import plot_honest_did

        return plot_honest_did(self, ax=ax, **kwargs)


def _from_event_study(effect) -> tuple[np.ndarray, np.ndarray, int, int, list[str]]:
    """Coefficients (pre then post), covariance, counts and notes from an event-study Effect.

    Two shapes are read: a TWFE ``event_study`` table (column ``estimate``) with ``vcov``,
    or a staggered estimator's ``path`` (column ``effect``, index ``event_time``) with its
    event-time ``vcov`` (Sun–Abraham, Callaway–Sant'Anna ``aggregate("dynamic")``,
    imputation). Either way the ``vcov`` labels ``event_time[e]`` say which event times are
    coefficients (a reference period fixed at 0 is not among them).
    """
    table = getattr(effect, "event_study", None)
    column = "estimate"
    if table is None:
        table, column = getattr(effect, "path", None), "effect"
    vcov = getattr(effect, "vcov", None)
    if table is None or vcov is None or column not in getattr(table, "columns", []):
        raise DataError("honest_did needs event-study coefficients and their covariance: pass "
                        "(betahat, sigma) arrays, an event_study(...) or sun_abraham(...) or "
                        "imputation_did(...) result, or callaway_santanna(...)"
                        ".aggregate('dynamic').")
    notes: list[str] = []
    if column == "estimate":
        reference = effect.params.get("reference", -1)
        if reference != -1:
            raise DesignError(f"the event study uses reference period {reference}; HonestDiD "
                              "normalises the period just before treatment (event time -1). "
                              "Refit with event_study(..., reference=-1).")
    elif effect.params.get("aggregation") == "dynamic" and \
            effect.params.get("base_period") != "universal":
        notes.append("callaway_santanna with base_period='varying': the pre-period "
                     "coefficients compare adjacent periods, not the period before treatment; "
                     "HonestDiD (as R's honest_did.AGGTEobj warns) should be run with "
                     "base_period='universal'.")
    elif effect.method == "imputation_did":
        notes.append("imputation_did: the pre-period coefficients are the BJS pre-trend leads "
                     "(deviations of untreated outcomes from the fixed-effects model), not "
                     "event-study coefficients relative to event time -1; read the bounds with "
                     "that in mind.")
    times = [int(e) for e in table.index
             if not _missing(e) and f"event_time[{int(e)}]" in vcov.index]
    if not times:
        raise DataError("the effect's vcov has no 'event_time[e]' rows matching its event-time "
                        "table; pass (betahat, sigma) arrays for this estimator instead.")
    names = [f"event_time[{e}]" for e in times]
    betahat = table.loc[times, column].to_numpy(float)
    sigma = vcov.loc[names, names].to_numpy(float)
    n_pre = sum(e < 0 for e in times)
    return betahat, sigma, n_pre, len(times) - n_pre, notes


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _validate(betahat, sigma, n_pre, n_post, l_vec, level):
    betahat = np.asarray(betahat, float)
    if betahat.ndim != 1 or not np.all(np.isfinite(betahat)):
        raise DataError("betahat must be a 1-D array of finite event-study coefficients "
                        "(pre then post, reference period excluded).")
    if sigma is None:
        raise DataError("sigma (the covariance matrix of betahat) is required with array input.")
    sigma = np.asarray(sigma, float)
    k = len(betahat)
    if sigma.shape != (k, k):
        raise DataError(f"sigma has shape {sigma.shape} but betahat has {k} coefficients; pass "
                        f"the {k}×{k} covariance of exactly these coefficients (drop covariates).")
    if not np.all(np.isfinite(sigma)):
        raise DataError("sigma contains NaN or infinite values; check the event-study variance.")
    if not np.allclose(sigma, sigma.T, rtol=1e-8, atol=1e-12 * max(np.abs(sigma).max(), 1e-300)):
        raise DataError("sigma is not symmetric; pass a covariance matrix (e.g. (S + S.T) / 2).")
    eig = np.linalg.eigvalsh((sigma + sigma.T) / 2)
    if eig.min() < -1e-10 * max(eig.max(), 1e-300):
        raise DataError(f"sigma is not positive semi-definite (smallest eigenvalue {eig.min():.3g});"
                        " pass a valid covariance matrix of betahat.")
    if n_pre is None or n_post is None:
        raise DataError("with array input give num_pre_periods and num_post_periods.")
    if n_pre < 1 or n_post < 1 or n_pre + n_post != k:
        raise DataError(f"num_pre_periods ({n_pre}) + num_post_periods ({n_post}) must equal the "
                        f"number of coefficients ({k}), each at least 1.")
    if l_vec is None:
        l_vec = np.eye(n_post)[0]
    l_vec = np.asarray(l_vec, float).ravel()
    if l_vec.shape != (n_post,) or not np.all(np.isfinite(l_vec)) or not np.any(l_vec != 0):
        raise DataError(f"l_vec must hold {n_post} finite weights (one per post period), not all 0.")
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1, got {level}.")
    return betahat, (sigma + sigma.T) / 2, int(n_pre), int(n_post), l_vec


def _sd_default_m(betahat, sigma, n_pre, alpha=0.05):
    """HonestDiD's default upper end for M: largest one-sided upper bound on the pre-period
    second differences.
    """
    A = np.zeros((n_pre - 1, n_pre + 1))
    for r in range(n_pre - 1):
        A[r, r:r + 3] = (1.0, -2.0, 1.0)
    A = A[:, :n_pre]  # the reference (0) column is dropped
    diffs = A @ betahat[:n_pre]
    se = np.sqrt(np.diag(A @ sigma[:n_pre, :n_pre] @ A.T))
    return float(np.max(diffs + stats.norm.ppf(1 - alpha) * se))


def honest_did(
    event_study_or_betahat,
    sigma=None,
    *,
    num_pre_periods: int | None = None,
    num_post_periods: int | None = None,
    method: Literal["relative_magnitudes", "smoothness"] = "relative_magnitudes",
    m_values=None,
    l_vec=None,
    level: float = 0.95,
    grid_points: int = 1000,
    hybrid: bool = True,
    simulated_quantile: bool = True,
    random_state: int = 0,
    **old_names: Any,
) -> HonestEffect:
    r"""Sensitivity of an event-study effect to bounded violations of parallel trends.

    With :math:`\hat\beta = (\hat\beta_{pre}, \hat\beta_{post}) \approx N(\tau + \delta, \Sigma)`,
    :math:`\tau_{pre} = 0` and the trend difference :math:`\delta` restricted to a set
    :math:`\Delta`, returns confidence intervals for :math:`\theta = l'\tau_{post}` valid for
    every :math:`\delta \in \Delta`:

    * ``"relative_magnitudes"``: :math:`\Delta^{RM}(\bar M)` — every post-period first
      difference :math:`|\delta_{t} - \delta_{t-1}|` is at most :math:`\bar M` times the largest
      pre-period one; conditional least-favourable hybrid (C-LF) test inverted over a grid;
    * ``"smoothness"``: :math:`\Delta^{SD}(M)` — the slope of :math:`\delta` changes by at most
      :math:`M` per period; optimal fixed-length confidence interval (FLCI).

    Parameters
    ----------
    event_study_or_betahat : DiDEffect or array-like
        An :func:`~utvardering.did.twfe.event_study` result (uses its ``event_study`` and
        ``vcov``; reference period −1) or the coefficients, pre then post, reference excluded.
    sigma : array-like, optional
        Covariance of ``betahat`` (required with array input).
    num_pre_periods, num_post_periods : int, optional
        Number of pre- and post-period coefficients (required with array input).
    method : {"relative_magnitudes", "smoothness"}
        Restriction class.
    m_values : sequence of float, optional
        M̄ (relative magnitudes; default 10 values from 0 to 2) or M (smoothness; default 10
        values from 0 to the largest 95% upper bound on a pre-period second difference).
    l_vec : array-like, optional
        Weights on the post-period effects (default: the first post period).
    level : float, default 0.95
        Coverage.
    grid_points : int, default 1000
        θ grid of the relative-magnitudes test inversion (±20 standard errors around 0).
    hybrid : bool, default True
        Relative magnitudes: least-favourable hybrid (C-LF); false for the plain conditional test.
    simulated_quantile : bool, default True
        Smoothness: HonestDiD's simulated folded-normal critical value (matches R); false
        for the exact one.
    random_state : int, default 0
        R seed of the simulated critical values (HonestDiD uses 0; old name ``seed=``).

    Returns
    -------
    HonestEffect
        ``path`` indexed by ``M`` with robust ``low``/``high`` and a last row ``"original"``;
        ``breakdown`` the smallest M tried whose interval includes 0.

    Raises
    ------
    DataError
        Shapes do not match, ``sigma`` is not a symmetric positive semi-definite matrix,
        period counts or ``l_vec`` are wrong.

    References
    ----------
    Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. *Review of
    Economic Studies* 90(5), 2555–2591.
    Andrews, I., Roth, J. & Pakes, A. (2023). Inference for linear conditional moment
    inequalities. *Review of Economic Studies* 90(6), 2763–2791.
    Armstrong, T. B. & Kolesár, M. (2018). Optimal inference in a class of regression models.
    *Econometrica* 86(2), 655–683.
    """
    unknown = sorted(set(old_names) - {"seed"})
    if unknown:
        raise TypeError(f"honest_did() got unexpected keyword argument(s) {', '.join(unknown)}")
    if old_names:
        if random_state != 0:
            raise DesignError("honest_did: give random_state= only (seed= is its old name).")
        random_state = renamed(old_names, {"seed": "random_state"}, "honest_did")["random_state"]
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise DesignError(f"random_state={random_state!r}: honest_did needs an integer R seed "
                          "(HonestDiD uses 0).")
    source, source_notes = None, []
    if isinstance(event_study_or_betahat, Effect):
        source = event_study_or_betahat
        betahat, sigma, n_pre, n_post, source_notes = _from_event_study(source)
        num_pre_periods = n_pre if num_pre_periods is None else num_pre_periods
        num_post_periods = n_post if num_post_periods is None else num_post_periods
    else:
        betahat = event_study_or_betahat
    betahat, sigma, n_pre, n_post, l_vec = _validate(betahat, sigma, num_pre_periods,
                                                     num_post_periods, l_vec, level)
    alpha = 1 - level
    if method not in ("relative_magnitudes", "smoothness"):
        raise DesignError(f"method must be 'relative_magnitudes' or 'smoothness', got {method!r}.")
    if m_values is None:
        if method == "relative_magnitudes":
            m_values = np.linspace(0, 2, 10)
        else:
            top = _sd_default_m(betahat, sigma, n_pre) if n_pre > 1 else float(np.sqrt(sigma[0, 0]))
            m_values = np.linspace(0, max(top, 0.0), 10)
    m_values = np.atleast_1d(np.asarray(m_values, float))
    if m_values.size == 0 or not np.all(np.isfinite(m_values)) or np.any(m_values < 0):
        raise DataError("m_values must be finite and non-negative.")

    warnings: list[str] = list(source_notes)
    if method == "relative_magnitudes":
        grid = rm_grid(sigma, n_pre, l_vec, grid_points)
        rows, ends = [], []
        for mbar in m_values:
            _, acc = rm_confidence_set(betahat, sigma, n_pre, l_vec, mbar, alpha=alpha,
                                       hybrid=hybrid, grid=grid, seed=int(random_state))
            if not acc.any():
                warnings.append(f"M̄ = {mbar:g}: no θ on the grid accepted (empty robust set).")
                rows.append((math.nan, math.nan))
                ends.append((False, False))
                continue
            ends.append((bool(acc[0]), bool(acc[-1])))
            if acc[0] or acc[-1]:
                warnings.append(f"M̄ = {mbar:g}: the robust set reaches the end of the θ grid "
                                "(±20 s.e.); its bound is the grid end — widen the grid.")
            inside = np.flatnonzero(acc)
            if inside[-1] - inside[0] + 1 != len(inside):
                warnings.append(f"M̄ = {mbar:g}: the accepted θ values are not an interval; "
                                "the bounds span the gaps.")
            rows.append((grid[inside[0]], grid[inside[-1]]))
        bounds = np.array(rows)
        index_name, label = "M", "C-LF" if hybrid else "conditional"
    else:
        bounds = flci(betahat, sigma, n_pre, l_vec, m_values, alpha=alpha,
                      simulated_quantile=simulated_quantile)
        index_name, label = "M", "FLCI"
        ends = [(False, False)] * len(m_values)

    est = float(l_vec @ betahat[n_pre:])
    se = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    z = stats.norm.ppf(1 - alpha / 2)
    original = (est - z * se, est + z * se)
    # low_at_grid_end / high_at_grid_end: the bound is the θ grid's end, not the set's (F14)
    path = pd.DataFrame({"low": [*bounds[:, 0], original[0]], "high": [*bounds[:, 1], original[1]],
                         "low_at_grid_end": [e[0] for e in ends] + [False],
                         "high_at_grid_end": [e[1] for e in ends] + [False]},
                        index=pd.Index([*map(float, m_values), "original"], name=index_name,
                                       dtype=object))
    covers0 = (bounds[:, 0] <= 0) & (bounds[:, 1] >= 0)
    if original[0] <= 0 <= original[1]:
        breakdown = 0.0
    elif covers0.any():
        breakdown = float(m_values[np.flatnonzero(covers0)[0]])
    else:
        breakdown = None
    p_value = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else None
    return HonestEffect(
        method=f"honest_did_{'rm' if method == 'relative_magnitudes' else 'sd'}",
        estimate=est, interval=original, level=level, se=se, p_value=p_value, path=path,
        diagnostics={"inference": label, "n_pre": n_pre, "n_post": n_post,
                     "breakdown": breakdown, "warnings": warnings},
        outcome=getattr(source, "outcome", None),
        scale=getattr(source, "scale", "outcome units"),
        estimand="l'τ_post (default: effect in the first post period) under bounded violations "
                 "of parallel trends",
        n_treated=getattr(source, "n_treated", None), n_control=getattr(source, "n_control", None),
        start=getattr(source, "start", None),
        params={"method": method, "m_values": [float(m) for m in m_values], "level": level,
                "grid_points": grid_points, "hybrid": hybrid,
                "simulated_quantile": simulated_quantile, "random_state": int(random_state)},
        breakdown=breakdown, restriction=method, l_vec=[float(x) for x in l_vec],
    )
