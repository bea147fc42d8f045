"""Exact least squares on the probability simplex: the inner problem of synthetic control.

Synthetic-control weights solve

.. math::

    \\min_{w}\\; \\lVert A w - b \\rVert_2^2 \\quad\\text{s.t.}\\quad w \\ge 0,\\; \\mathbf 1^\\top w = 1,

with :math:`A = V^{1/2} X_0` (predictors × donors) and :math:`b = V^{1/2} X_1`. Because
:math:`\\mathbf 1^\\top w = 1`, :math:`A w - b = (A - b\\mathbf 1^\\top) w =: \\tilde A w`, so the
problem is the minimum-norm point of the convex hull of the columns of :math:`\\tilde A`
(Wolfe's problem). That problem is *exactly* a non-negative least-squares problem: for
:math:`u \\ge 0` write :math:`u = t w` with :math:`t = \\mathbf 1^\\top u` and :math:`w` on the
simplex; then

.. math::

    \\lVert \\tilde A u \\rVert^2 + s^2 (\\mathbf 1^\\top u - 1)^2
    = t^2 \\lVert \\tilde A w \\rVert^2 + s^2 (t - 1)^2 ,

whose minimiser over :math:`w` is the simplex solution for every :math:`t` and every scale
:math:`s > 0`. Hence :math:`w^\\star = u^\\star / \\mathbf 1^\\top u^\\star`, where :math:`u^\\star` is
the Lawson–Hanson active-set NNLS solution of the stacked system (finite, no penalty
parameter, no tolerance on the constraint). The support is then polished by solving the
equality-constrained least-squares problem on it (its KKT system) so that the KKT
conditions hold to about 1e-12.

*References.*

Lawson, C. L. & Hanson, R. J. (1974). *Solving Least Squares Problems*, ch. 23. Prentice-Hall.
Wolfe, P. (1976). Finding the nearest point in a polytope. *Mathematical Programming* 11, 128–149.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

__all__ = [
    "SimplexSolution",
    "simplex_kkt",
    "simplex_lstsq",
    "simplex_lstsq_many",
    "simplex_nnls",
    "simplex_warm",
]


@dataclass(frozen=True)
class SimplexSolution:
    """Solution of :func:`simplex_lstsq`.

    Attributes
    ----------
    w : numpy.ndarray
        Weights (non-negative, summing to one).
    loss : float
        :math:`\\lVert A w - b \\rVert^2`.
    kkt : float
        Largest violation of the KKT conditions (scaled gradient), about 1e-12 at an exact
        solution.
    """

    w: np.ndarray
    loss: float
    kkt: float


def simplex_kkt(A: np.ndarray, b: np.ndarray, w: np.ndarray, tol: float = 0.0) -> float:
    """Largest violation of the optimality conditions of the simplex least-squares problem.

    With gradient :math:`g = 2A^\\top(Aw - b)` and multiplier :math:`\\mu = -\\min_j g_j` over
    the support, optimality means :math:`g_j = -\\mu` where :math:`w_j > 0` and
    :math:`g_j \\ge -\\mu` where :math:`w_j = 0`. Returns the largest violation divided by
    :math:`1 + \\lVert A \\rVert_\\infty \\lVert b \\rVert_\\infty`.

    Parameters
    ----------
    A, b : numpy.ndarray
        Problem data, shapes ``(k, J)`` and ``(k,)``.
    w : numpy.ndarray
        Candidate weights.
    tol : float, default 0
        Weights at or below ``tol`` count as zero.

    Returns
    -------
    float
    """
    g = 2.0 * A.T @ (A @ w - b)
    support = w > tol
    level = g[support].mean()
    viol = np.abs(g[support] - level).max(initial=0.0)
    viol = max(viol, float(np.maximum(level - g[~support], 0.0).max(initial=0.0)))
    scale = 1.0 + np.abs(A).max() * max(np.abs(b).max(), np.abs(A).max())
    return float(viol / scale)


def _polish(A: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Re-solve the equality-constrained least squares on the support of ``w``."""
    support = np.flatnonzero(w > 0)
    if support.size <= 1:
        return w
    As = A[:, support]
    base = np.zeros(support.size)
    base[0] = 1.0
    # w_S = e_1 + N z with N a basis of {x: 1'x = 0}
    N = np.vstack([-np.ones((1, support.size - 1)), np.eye(support.size - 1)])
    z, *_ = np.linalg.lstsq(As @ N, b - As @ base, rcond=None)
    ws = base + N @ z
    if np.any(ws < 0):
        return w
    out = np.zeros_like(w)
    out[support] = ws
    if np.sum((A @ out - b) ** 2) <= np.sum((A @ w - b) ** 2):
        return out
    return w


def simplex_nnls(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Simplex least-squares weights by the NNLS reduction only (no checks, no polishing).

    The fast path used inside optimisation loops; see :func:`simplex_lstsq`.

    Parameters
    ----------
    A, b : numpy.ndarray
        Shapes ``(k, J)`` and ``(k,)``, float.

    Returns
    -------
    numpy.ndarray
        Weights, shape ``(J,)``.
    """
    J = A.shape[1]
    if J == 1:
        return np.ones(1)
    At = A - b[:, None]
    s = float(np.abs(At).max())
    s = s if s > 0 else 1.0
    E = np.empty((A.shape[0] + 1, J))
    E[:-1] = At / s
    E[-1] = 1.0
    f = np.zeros(E.shape[0])
    f[-1] = 1.0
    u, _ = nnls(E, f, maxiter=50 * J)
    total = u.sum()
    if not total > 0:  # pragma: no cover - cannot happen (u = 0 is never optimal)
        raise RuntimeError("NNLS returned zero weights.")
    return u / total


def simplex_warm(A: np.ndarray, b: np.ndarray, support: np.ndarray | None,
                 rtol: float = 1e-10) -> np.ndarray:
    """Simplex least squares warm-started from a guessed support, exact or falling back to NNLS.

    Solves the KKT system on ``support`` (:math:`[A_S^\\top A_S, \\mathbf 1; \\mathbf 1^\\top, 0]
    [w_S; \\mu] = [A_S^\\top b; 1]`) and accepts the result only if it is an exact optimum:
    :math:`w_S > 0` and the gradient :math:`g = A^\\top (A w - b)` satisfies
    :math:`g_j \\ge g_S - \\text{rtol}\\,(1 + |g|_\\infty)` off the support. Otherwise (or without a
    support) it returns :func:`simplex_nnls`. Used inside optimisation loops, where successive
    problems usually share their support.

    Parameters
    ----------
    A, b : numpy.ndarray
        Shapes ``(k, J)`` and ``(k,)``.
    support : numpy.ndarray of int, optional
        Guessed support (indices of positive weights).
    rtol : float, default 1e-10
        Relative tolerance of the optimality check.

    Returns
    -------
    numpy.ndarray
        Weights, shape ``(J,)``.
    """
    if support is not None and 0 < support.size <= A.shape[0] + 1:
        As = A[:, support]
        n = support.size
        K = np.empty((n + 1, n + 1))
        K[:n, :n] = As.T @ As
        K[:n, n] = 1.0
        K[n, :n] = 1.0
        K[n, n] = 0.0
        rhs = np.empty(n + 1)
        rhs[:n] = As.T @ b
        rhs[n] = 1.0
        try:
            sol = np.linalg.solve(K, rhs)
        except np.linalg.LinAlgError:
            sol = None
        if sol is not None and np.all(sol[:n] > 0):
            w = np.zeros(A.shape[1])
            w[support] = sol[:n]
            g = A.T @ (A @ w - b)
            level = g[support].mean()
            if g.min() >= level - rtol * (1.0 + np.abs(g).max()):
                return w
    return simplex_nnls(A, b)


def simplex_lstsq(A: np.ndarray, b: np.ndarray, *, polish: bool = True) -> SimplexSolution:
    """Minimise :math:`\\lVert A w - b \\rVert^2` over the probability simplex, exactly.

    Parameters
    ----------
    A : numpy.ndarray
        Shape ``(k, J)``: one column per donor (already multiplied by :math:`V^{1/2}`).
    b : numpy.ndarray
        Shape ``(k,)``: the treated unit.
    polish : bool, default True
        Re-solve the KKT system on the support found (removes NNLS round-off).

    Returns
    -------
    SimplexSolution
        Weights, loss and KKT violation.

    Notes
    -----
    Solved as the non-negative least-squares problem
    :math:`\\min_{u\\ge 0} \\lVert [\\tilde A; s\\mathbf 1^\\top] u - [0; s] \\rVert^2` with
    :math:`\\tilde A = A - b\\mathbf 1^\\top`; :math:`w = u / \\mathbf 1^\\top u` (module docstring).
    When several weight vectors reach the minimum (the treated unit inside the donors'
    convex hull, or more donors than predictors), the NNLS active set picks one of them.
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float).ravel()
    if A.ndim != 2 or A.shape[0] != b.size:
        raise ValueError(f"A must be (k, J) and b (k,); got {A.shape} and {b.shape}.")
    w = simplex_nnls(A, b)
    if polish and w.size > 1:
        w = _polish(A, b, w)
    r = A @ w - b
    return SimplexSolution(w=w, loss=float(r @ r), kkt=simplex_kkt(A, b, w))


def simplex_lstsq_many(A: np.ndarray, B: np.ndarray, *, polish: bool = True) -> np.ndarray:
    """Solve many simplex least-squares problems.

    Parameters
    ----------
    A : numpy.ndarray
        Shape ``(m, k, J)`` (one design per problem) or ``(k, J)`` (shared design).
    B : numpy.ndarray
        Shape ``(m, k)``: one target per problem.
    polish : bool, default True
        See :func:`simplex_lstsq`.

    Returns
    -------
    numpy.ndarray
        Shape ``(m, J)``: the weights, one row per problem.

    Notes
    -----
    Problems are solved in order, each warm-started from the previous solution's support
    (:func:`simplex_warm`, which verifies the KKT conditions and otherwise solves from
    scratch), so sequences of similar problems — a grid of nulls, placebo refits — cost
    little more than one KKT solve each. ``polish=True`` re-solves every result's support.
    """
    B = np.atleast_2d(np.asarray(B, dtype=float))
    A = np.asarray(A, dtype=float)
    shared = A.ndim == 2
    out = np.empty((B.shape[0], A.shape[-1]))
    support = None
    for i in range(B.shape[0]):
        Ai = A if shared else A[i]
        w = simplex_warm(Ai, B[i], support)
        if polish and w.size > 1:
            w = _polish(Ai, B[i], w)
        support = np.flatnonzero(w > 0)
        out[i] = w
    return out
