"""Choosing the predictor weights V of the Abadie–Diamond–Hainmueller synthetic control.

Given standardised predictors :math:`X_1` (k) and :math:`X_0` (k × J) and pre-period outcomes
:math:`Z_1` (T) and :math:`Z_0` (T × J) over the ``optimize_periods``, the donor weights for a
diagonal :math:`V = \\operatorname{diag}(v)`, :math:`v \\ge 0`, :math:`\\sum_m v_m = 1`, are

.. math:: W(V) = \\arg\\min_{w \\in \\Delta^J} \\sum_m v_m (X_{1m} - X_{0m} w)^2 ,

and the *nested* choice of V minimises the outcome fit

.. math:: L(V) = \\tfrac1T \\lVert Z_1 - Z_0 W(V) \\rVert^2 .

:math:`L` is piecewise smooth (its pieces are the supports of :math:`W(V)`) with many local
minima, and its best values often lie near the boundary of the simplex of V. The search
therefore screens many candidate V (equal weights, the regression-based V, near-vertices and
sparse random draws), runs derivative-free local searches on the softmax parametrisation from
the best of them, polishes the winner, and reports the loss every search reached.

*References.*

Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *JASA* 105(490), 493–505.
Abadie, A. (2021). Using synthetic controls: feasibility, data requirements, and
methodological aspects. *Journal of Economic Literature* 59(2), 391–425.
Kaul, A., Klößner, S., Pfeifer, G. & Schieler, M. (2022). Standard synthetic control methods:
the case of using all preintervention outcomes together with covariates. *JBES* 40(3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg.lapack import dgesv as _dgesv
from scipy.optimize import minimize

from .._numerics.simplex import simplex_lstsq, simplex_nnls
from . import vsearch

__all__ = ["TIE_BREAKS", "LocalOptimum", "VResult", "break_tie", "choose_v", "distinct_optima",
           "near_optima", "nested_v", "outcome_loss", "regression_v", "weights_for_v"]


@dataclass
class VResult:
    """Predictor weights and the donor weights they imply.

    Attributes
    ----------
    v : numpy.ndarray
        Predictor weights (non-negative, sum one).
    w : numpy.ndarray
        Donor weights :math:`W(V)`.
    loss : float
        Outcome MSPE over the optimisation periods.
    method : str
        ``"nested"``, ``"regression"``, ``"given"`` or ``"outcome"``.
    info : dict
        Optimiser details: every start's loss, evaluations, the winning start.
    optima : list of LocalOptimum
        The distinct local optima the nested search reached (best first; empty for the
        other V choices); see :func:`distinct_optima`.
    """

    v: np.ndarray
    w: np.ndarray
    loss: float
    method: str
    info: dict = field(default_factory=dict)
    optima: list = field(default_factory=list)


@dataclass
class LocalOptimum:
    """One local optimum of the nested V search.

    Attributes
    ----------
    loss : float
        Outcome MSPE over the optimisation periods.
    v : numpy.ndarray
        Predictor weights.
    w : numpy.ndarray
        Donor weights :math:`W(V)`.
    pre_mspe : float
        Outcome MSPE over every pre-period (set by the caller; NaN until then).
    """

    loss: float
    v: np.ndarray
    w: np.ndarray
    pre_mspe: float = float("nan")


#: Two donor-weight vectors count as different donor sets when their total-variation
#: distance :math:`\\tfrac12\\lVert w - w'\\rVert_1` exceeds this (a fifth of the weight moved).
DISTINCT_TV = 0.2

TIE_BREAKS = ("loss", "min_norm", "pre_fit")


def distinct_optima(optima: list[LocalOptimum], *, tv: float = DISTINCT_TV) -> list[LocalOptimum]:
    """The local optima, the first (the search's answer) first, then the others by loss,
    keeping one per donor set.

    An optimum is dropped when its weights lie within total-variation distance ``tv`` of one
    already kept (the same basin reached from another start).

    Parameters
    ----------
    optima : list of LocalOptimum
    tv : float, default 0.2
        Distance :math:`\\tfrac12\\lVert w - w'\\rVert_1` below which two solutions share a
        donor set.

    Returns
    -------
    list of LocalOptimum
        The first optimum, then the others by loss.
    """
    if not optima:
        return []
    kept: list[LocalOptimum] = [optima[0]]
    for opt in sorted(optima[1:], key=lambda o: o.loss):
        if all(0.5 * np.abs(opt.w - k.w).sum() > tv for k in kept):
            kept.append(opt)
    return kept


def near_optima(optima: list[LocalOptimum], rtol: float) -> list[LocalOptimum]:
    """The distinct optima whose loss is within ``rtol`` (relative) of the best one's.

    Parameters
    ----------
    optima : list of LocalOptimum
        Distinct optima, the search's answer first (:func:`distinct_optima`).
    rtol : float
        Relative tolerance: :math:`L_k \\le L_{\\min}(1 + \\text{rtol})`.

    Returns
    -------
    list of LocalOptimum
        The search's answer first; more than one element means the donor weights are not identified by the
        nested criterion (Becker & Klößner 2018).
    """
    if not optima:
        return []
    best = min(o.loss for o in optima)
    return [optima[0]] + [o for o in optima[1:] if o.loss <= best * (1.0 + rtol) + 1e-15]


def break_tie(candidates: list[LocalOptimum], rule: str) -> LocalOptimum:
    """Choose among near-optimal solutions.

    Parameters
    ----------
    candidates : list of LocalOptimum
        Near-optimal solutions, the search's answer first (their ``pre_mspe`` set for
        ``"pre_fit"``).
    rule : {"loss", "min_norm", "pre_fit"}
        ``"loss"``: the search's answer, the lowest loss (Synth's choice); ``"min_norm"``: the smallest
        :math:`\\lVert w\\rVert^2` (the most spread-out weights, the least reliance on single
        donors); ``"pre_fit"``: the lowest outcome MSPE over every pre-period.

    Returns
    -------
    LocalOptimum
    """
    if rule == "min_norm":
        return min(candidates, key=lambda o: float(o.w @ o.w))
    if rule == "pre_fit":
        return min(candidates, key=lambda o: o.pre_mspe)
    return candidates[0]


def weights_for_v(X1: np.ndarray, X0: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Donor weights :math:`W(V)` for diagonal predictor weights ``v``.

    Parameters
    ----------
    X1 : numpy.ndarray
        Treated predictors, shape ``(k,)``.
    X0 : numpy.ndarray
        Donor predictors, shape ``(k, J)``.
    v : numpy.ndarray
        Predictor weights, shape ``(k,)``.

    Returns
    -------
    numpy.ndarray
        Weights on the simplex, shape ``(J,)``.
    """
    sv = np.sqrt(np.maximum(np.asarray(v, dtype=float), 0.0))
    return simplex_lstsq(sv[:, None] * X0, sv * X1).w


def outcome_loss(Z1: np.ndarray, Z0: np.ndarray, w: np.ndarray) -> float:
    """Mean squared outcome gap :math:`\\tfrac1T\\lVert Z_1 - Z_0 w\\rVert^2`."""
    r = Z1 - Z0 @ w
    return float(r @ r / r.size)


def _warm_weights(v, X1, X0, support):
    """W(V) on a guessed support via its KKT system, or None if that is not the optimum.

    A lean version of :func:`~utvardering._numerics.simplex.simplex_warm` for the nested loop
    (same exactness check, fewer array operations).
    """
    n = support.size
    Xs = X0[:, support]
    VX = Xs.T * v
    K = np.ones((n + 1, n + 1))
    K[:n, :n] = VX @ Xs
    K[n, n] = 0.0
    rhs = np.empty(n + 1)
    rhs[:n] = VX @ X1
    rhs[n] = 1.0
    _, _, sol, info = _dgesv(K, rhs)
    ws = sol[:n]
    if info != 0 or ws.min() <= 0:
        return None
    g = X0.T @ (v * (Xs @ ws - X1))
    lo, hi = g.min(), g.max()
    if lo < g[support].max() - 1e-10 * (1.0 + max(hi, -lo)):
        return None
    w = np.zeros(X0.shape[1])
    w[support] = ws
    return w


def _screen_loss(v, X1, X0, Z1, Z0, memo: dict | None = None) -> float:
    w = None
    if memo is not None and memo.get("support") is not None and \
            memo["support"].size <= X1.size + 1:
        w = _warm_weights(v, X1, X0, memo["support"])
    if w is None:
        sv = np.sqrt(v)
        w = simplex_nnls(sv[:, None] * X0, sv * X1)
    support = np.flatnonzero(w)
    r = Z1 - Z0[:, support] @ w[support]
    loss = float(r @ r) / r.size
    if memo is not None:
        memo["support"] = support
        if loss < memo.get("best", (np.inf,))[0]:
            memo["best"] = (loss, v, w)
    return loss


def regression_v(X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray) -> np.ndarray:
    """Regression-based predictor weights.

    Regress each optimisation-period outcome on the standardised predictors (with an
    intercept) across the treated unit and the donors; :math:`v_m \\propto \\sum_t
    \\hat\\beta_{mt}^2`. This is the starting value Synth uses and the "regression-based V" of
    Abadie (2021).

    Parameters
    ----------
    X1, X0 : numpy.ndarray
        Standardised predictors, shapes ``(k,)`` and ``(k, J)``.
    Z1, Z0 : numpy.ndarray
        Outcomes in the optimisation periods, shapes ``(T,)`` and ``(T, J)``.

    Returns
    -------
    numpy.ndarray
        ``v`` (sums to one; equal weights if every coefficient is zero).
    """
    X = np.column_stack([np.ones(X0.shape[1] + 1), np.column_stack([X1, X0]).T])
    Y = np.column_stack([Z1, Z0]).T
    beta = np.linalg.lstsq(X, Y, rcond=None)[0][1:]
    v = (beta**2).sum(axis=1)
    return v / v.sum() if v.sum() > 0 else np.full(X1.size, 1.0 / X1.size)


#: Smallest ratio between predictor weights the search uses (keeps W(V) well defined).
_LOG_RATIO = 12.0


def _v_from_theta(theta: np.ndarray) -> np.ndarray:
    v = np.exp(np.maximum(theta - theta.max(), -_LOG_RATIO))
    return v / v.sum()


def _diverse(order: np.ndarray, weights: list, n: int) -> list[int]:
    """The ``n`` best screened candidates, preferring one per donor set.

    Walks the candidates by loss and takes each whose W is farther than
    :data:`DISTINCT_TV` (total variation) from every one taken; if fewer than ``n`` are
    found, the best remaining candidates fill up. Local searches from the same basin
    mostly end at the same optimum, so spreading the starts over basins finds the best
    one more often and shows competing ones.
    """
    chosen: list[int] = []
    for i in order:
        if all(0.5 * np.abs(weights[i] - weights[j]).sum() > DISTINCT_TV for j in chosen):
            chosen.append(int(i))
            if len(chosen) == n:
                return chosen
    rest = [int(i) for i in order if int(i) not in chosen]
    return chosen + rest[: n - len(chosen)]


def _nested_compiled(X1, X0, Z1, Z0, pool, fixed, n_starts, maxfev) -> VResult:
    """:func:`nested_v` with the compiled kernels of :mod:`~utvardering.synth.vsearch`.

    The kernels' inner solutions steer the search; every reported loss is that of the exact
    NNLS weights (:func:`weights_for_v`) at the V concerned, and the answer is the V with the
    lowest exact loss among the best V evaluated and every search's end point. The two best
    searches are polished (the reference engine polishes one).
    """
    D = np.ascontiguousarray(X0, dtype=float)
    DX = np.ascontiguousarray(X1, dtype=float)
    Z1c = np.ascontiguousarray(Z1, dtype=float)
    Z0c = np.ascontiguousarray(Z0, dtype=float)
    screened, W = vsearch.screen(np.ascontiguousarray(pool), D, DX, Z1c, Z0c)
    order = np.argsort(screened, kind="stable")
    candidates = fixed + [pool[i] for i in _diverse(order, list(W), n_starts)]
    nfev = len(pool)
    ends, kernel_best = [], []
    for start in candidates:
        theta0 = np.log(np.maximum(start / max(start.sum(), 1e-300), np.exp(-_LOG_RATIO)))
        x, fx, nf, bv, _bl = vsearch.nelder_mead(theta0, D, DX, Z1c, Z0c, maxfev, 1e-5, 1e-10)
        nfev += nf
        ends.append((x, fx))
        kernel_best.append(bv)
    polished = []
    for i in np.argsort([fx for _x, fx in ends], kind="stable")[:2]:
        x, fx, nf, bv, _bl = vsearch.nelder_mead(ends[i][0], D, DX, Z1c, Z0c, 2 * maxfev,
                                                1e-7, 1e-12)
        nfev += nf
        polished.append((x, fx))
        kernel_best.append(bv)

    def exact(v):
        w = weights_for_v(X1, X0, v)
        return LocalOptimum(outcome_loss(Z1, Z0, w), v, w)

    searched = [exact(_v_from_theta(x)) for x, _fx in ends]
    pool_best = [exact(_v_from_theta(x)) for x, _fx in polished] + [exact(v) for v in kernel_best]
    best = min(searched + pool_best, key=lambda o: o.loss)
    best_i = int(np.argmin([o.loss for o in searched]))
    info = {"start_losses": [o.loss for o in searched], "nfev": int(nfev),
            "best_start": best_i, "n_starts": len(candidates),
            "screened_best": float(screened[order[0]]),
            "polish_gain": float(searched[best_i].loss - best.loss), "engine": "compiled"}
    return VResult(v=best.v, w=best.w, loss=best.loss, method="nested", info=info,
                   optima=distinct_optima([best, *searched]))


def nested_v(
    X1: np.ndarray,
    X0: np.ndarray,
    Z1: np.ndarray,
    Z0: np.ndarray,
    *,
    n_starts: int = 6,
    random_state: int | np.random.Generator | None = None,
    starts: list[np.ndarray] | None = None,
    n_screen: int = 1000,
    maxfev: int = 300,
    engine: str = "compiled",
) -> VResult:
    """Nested optimisation of V: minimise the pre-period outcome MSPE over predictor weights.

    Parameters
    ----------
    X1, X0 : numpy.ndarray
        Standardised predictors, shapes ``(k,)`` and ``(k, J)``.
    Z1, Z0 : numpy.ndarray
        Outcomes over the optimisation periods, shapes ``(T,)`` and ``(T, J)``.
    n_starts : int, default 6
        Number of local searches, started from the best of the screened candidates.
    random_state : int or numpy.random.Generator, optional
        Seed for the random candidates; None means seed 0, so that the search is
        deterministic by default (as R ``Synth``).
    starts : list of numpy.ndarray, optional
        Extra candidates (e.g. a V from another fit); always searched from.
    n_screen : int, default 1000
        Random candidates screened by their loss, half sparse Dirichlet(1/2) and half very
        sparse Dirichlet(1/10) draws, besides equal weights, the regression-based V and the
        k near-vertices (99 % of the weight on one predictor).
    maxfev : int, default 300
        Evaluations allowed to each local search (the final polish gets twice as many).
    engine : {"compiled", "scipy"}, default "compiled"
        ``"compiled"``: screening, the inner simplex QP (donor Gram matrix per V, active set
        warm-started from the previous support) and Nelder–Mead run in numba
        (:mod:`~utvardering.synth.vsearch`); ``"scipy"``: the reference implementation
        (SciPy's Nelder–Mead around the NNLS / KKT inner solver), about ten times slower.
        Both search the same candidates by the same rules; the returned W is always the
        exact NNLS solution for the returned V.

    Returns
    -------
    VResult
        The best V found, its donor weights and loss; ``info["start_losses"]`` holds the loss
        reached by every local search, ``info["nfev"]`` the number of inner problems solved.

    Notes
    -----
    :math:`L(V)` is piecewise smooth with many local minima, and its best values are often
    reached near the boundary of the simplex (most weight on one predictor, small weights
    on others, which then break ties). The local searches are Nelder–Mead on
    :math:`\\theta` with :math:`v = \\operatorname{softmax}(\\theta)`, which moves freely along
    that boundary; the best result is polished by a restarted search. Ratios between
    predictor weights are kept above :math:`e^{-12}` so that :math:`W(V)` stays numerically
    well defined (the returned V reproduces the returned W when passed back). A single local
    search can land far from the best solution, which is why several are run and all their
    losses reported.
    """
    k = X1.size
    rng = np.random.default_rng(0 if random_state is None else random_state)
    if k == 1:
        w = weights_for_v(X1, X0, np.ones(1))
        loss = outcome_loss(Z1, Z0, w)
        return VResult(np.ones(1), w, loss, "nested",
                       {"start_losses": [loss], "nfev": 1, "best_start": 0, "n_starts": 1},
                       [LocalOptimum(loss, np.ones(1), w)])
    fixed = [np.asarray(s, dtype=float) for s in (starts or [])]
    base = [np.full(k, 1.0 / k), regression_v(X1, X0, Z1, Z0)]
    half = n_screen // 2
    pool = np.vstack([*base, 0.99 * np.eye(k) + 0.01 / k,
                      rng.dirichlet(np.full(k, 0.5), size=half),
                      rng.dirichlet(np.full(k, 0.1), size=n_screen - half)])
    if engine == "compiled":
        return _nested_compiled(X1, X0, Z1, Z0, pool, fixed, n_starts, maxfev)
    memos = [{} for _ in pool]
    screened = np.array([_screen_loss(p, X1, X0, Z1, Z0, m) for p, m in zip(pool, memos)])
    order = np.argsort(screened, kind="stable")
    candidates = fixed + [pool[i] for i in _diverse(order, [m["best"][2] for m in memos], n_starts)]
    nfev = len(pool)

    memo: dict = {}

    def fun(theta):
        return _screen_loss(_v_from_theta(theta), X1, X0, Z1, Z0, memo)

    results = []
    for start in candidates:
        theta0 = np.log(np.maximum(start / max(start.sum(), 1e-300), np.exp(-_LOG_RATIO)))
        res = minimize(fun, theta0, method="Nelder-Mead",
                       options={"maxfev": maxfev, "xatol": 1e-5, "fatol": 1e-10})
        nfev += res.nfev
        results.append(res)
    best_i = int(np.argmin([r.fun for r in results]))
    polish = minimize(fun, results[best_i].x, method="Nelder-Mead",
                      options={"maxfev": 2 * maxfev, "xatol": 1e-7, "fatol": 1e-12})
    nfev += polish.nfev
    # the best V seen; its weights are recomputed by the cold exact solver so that passing
    # this V to another fit reproduces them
    v = memo["best"][1]
    w = weights_for_v(X1, X0, v)
    loss = outcome_loss(Z1, Z0, w)
    optima = [LocalOptimum(loss, v, w)]
    for r in results:
        vr = _v_from_theta(r.x)
        wr = weights_for_v(X1, X0, vr)
        optima.append(LocalOptimum(outcome_loss(Z1, Z0, wr), vr, wr))
    info = {"start_losses": [float(r.fun) for r in results], "nfev": int(nfev),
            "best_start": best_i, "n_starts": len(candidates),
            "screened_best": float(screened[order[0]]), "polish_gain":
            float(results[best_i].fun - min(polish.fun, results[best_i].fun))}
    return VResult(v=v, w=w, loss=loss, method="nested", info=info,
                   optima=distinct_optima(optima))


def choose_v(
    X1: np.ndarray | None,
    X0: np.ndarray | None,
    Z1: np.ndarray,
    Z0: np.ndarray,
    v,
    *,
    n_starts: int = 6,
    random_state: int | np.random.Generator | None = None,
) -> VResult:
    """Donor weights under one of the V choices.

    Parameters
    ----------
    X1, X0 : numpy.ndarray or None
        Standardised predictors (None for the outcome-only fit).
    Z1, Z0 : numpy.ndarray
        Outcomes over the optimisation periods.
    v : {"nested", "regression", "outcome"} or numpy.ndarray
        ``"nested"``: :func:`nested_v`; ``"regression"``: :func:`regression_v`;
        ``"outcome"``: no predictors, :math:`W` minimises the outcome MSPE directly
        (the lower bound of every V); an array: given predictor weights.
    n_starts : int, default 6
        Local searches of the nested optimisation.
    random_state : int or numpy.random.Generator, optional
        Seed of the nested optimisation.

    Returns
    -------
    VResult
    """
    if isinstance(v, str) and v == "outcome":
        sol = simplex_lstsq(Z0, Z1)
        return VResult(v=np.array([]), w=sol.w, loss=sol.loss / Z1.size, method="outcome",
                       info={"kkt": sol.kkt})
    if isinstance(v, str) and v == "nested":
        return nested_v(X1, X0, Z1, Z0, n_starts=n_starts, random_state=random_state)
    if isinstance(v, str) and v == "regression":
        vv = regression_v(X1, X0, Z1, Z0)
        method = "regression"
    else:
        vv = np.asarray(v, dtype=float)
        method = "given"
    w = weights_for_v(X1, X0, vv)
    return VResult(v=vv, w=w, loss=outcome_loss(Z1, Z0, w), method=method, info={})
