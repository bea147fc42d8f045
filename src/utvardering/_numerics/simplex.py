"""Solvers on the probability simplex, shared below the synth family.

Three problems, three solvers:

1. **Exact simplex least squares** (:func:`simplex_lstsq`, :func:`simplex_nnls`,
   :func:`simplex_warm`, :func:`simplex_lstsq_many`): the inner problem of synthetic
   control, :math:`\\min_{w \\in \\Delta} \\lVert A w - b \\rVert^2`, by the exact NNLS
   reduction (section A below).
2. **Simplex quadratic programs** (:func:`simplex_qp`):
   :math:`\\min_{w \\in \\Delta} \\tfrac12 w^\\top Q w + q^\\top w` by a primal active-set
   method (penalized synthetic control).
3. **Frank–Wolfe with a ridge** (:func:`frank_wolfe_simplex`, :func:`frank_wolfe_solve`):
   the weights of synthetic difference-in-differences, as R ``synthdid`` (section C).

Used by :mod:`utvardering.synth` and :mod:`utvardering.inference.conformal`; this module
imports nothing from either.

Section A — exact least squares on the simplex
----------------------------------------------
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

Section C — Frank–Wolfe
-----------------------

Both weight problems of :mod:`~utvardering.synth.sdid_weights` are
:math:`\\min_{x \\in \\Delta} \\lVert A x - b \\rVert^2 + \\eta\\lVert x\\rVert^2`, solved as in R
``synthdid``: Frank–Wolfe with exact line search from uniform weights, at most 100
iterations; then the weights at or below a quarter of the largest are set to zero
(sparsification) and a second Frank–Wolfe run from there, stopped when the objective
(divided by the number of rows) falls by less than :math:`(10^{-5}\\hat\\sigma)^2` in one
iteration or after 10,000 iterations.

Each iteration is :math:`O(n + k)`: the residual :math:`r = Ax - b` and the gradient
:math:`A^\\top r` are updated along the Frank–Wolfe direction with the Gram matrix, not
recomputed. The kernels are compiled with numba (a dependency of PyMC). They are compiled
*without* floating-point reassociation (``fastmath`` minus ``reassoc``): with it, LLVM
vectorises the sums in an order that depends on where the solver's scratch arrays happen to
be allocated, so the same inputs gave estimates differing by ~1e-14 between runs and
processes (measured on synthetic DiD power draws). Sums are therefore taken in index order
and every result is reproducible to the last bit, serially, with joblib and on Dask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

try:  # numba ships with pytensor, a PyMC dependency; fall back to plain Python without it
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False
    prange = range

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

__all__ = [
    "HAVE_NUMBA",
    "SimplexSolution",
    "frank_wolfe_simplex",
    "frank_wolfe_solve",
    "njit",
    "prange",
    "simplex_kkt",
    "simplex_lstsq",
    "simplex_lstsq_many",
    "simplex_nnls",
    "simplex_qp",
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


# -- Section B: quadratic programs on the simplex ----------------------------------------


def simplex_qp(Q: np.ndarray, q: np.ndarray, *, tol: float = 1e-10, max_iter: int | None = None) -> np.ndarray:
    """Minimise :math:`\\tfrac12 w^\\top Q w + q^\\top w` over the probability simplex.

    Primal active-set method (Nocedal & Wright 2006, §16.5) started at the best vertex:
    solve the equality-constrained problem on the working support; step to it if feasible,
    else move to the first bound reached and drop that donor; at a feasible stationary point
    add the donor with the most negative multiplier, stop when there is none.

    Parameters
    ----------
    Q : numpy.ndarray
        Positive semi-definite, ``(J, J)`` (a relative ridge of 1e-12 is added so that the
        working systems are non-singular).
    q : numpy.ndarray
        Linear term, ``(J,)``.
    tol : float, default 1e-10
        Relative tolerance of the optimality check.
    max_iter : int, optional
        Iteration cap (default ``50 J + 100``).

    Returns
    -------
    numpy.ndarray
        Weights (non-negative, summing to one).
    """
    Q = np.asarray(Q, dtype=float)
    q = np.asarray(q, dtype=float)
    J = q.size
    scale = max(float(np.abs(Q).max(initial=0.0)), float(np.abs(q).max(initial=0.0)), 1e-300)
    Qr = Q + 1e-12 * scale * np.eye(J)
    j0 = int(np.argmin(0.5 * np.diag(Qr) + q))
    w = np.zeros(J)
    w[j0] = 1.0
    support = [j0]
    for _ in range(max_iter or 50 * J + 100):
        S = np.array(support)
        k = S.size
        K = np.zeros((k + 1, k + 1))
        K[:k, :k] = Qr[np.ix_(S, S)]
        K[:k, k] = K[k, :k] = 1.0
        rhs = np.concatenate([-q[S], [1.0]])
        sol = np.linalg.solve(K, rhs)
        x, nu = sol[:k], sol[k]
        if np.all(x > 0):
            w = np.zeros(J)
            w[S] = x
            mult = Qr @ w + q + nu
            mult[S] = 0.0
            j = int(np.argmin(mult))
            if mult[j] >= -tol * scale:
                return w / w.sum()
            support.append(j)
            continue
        p = x - w[S]
        neg = p < 0
        ratios = np.full(k, np.inf)
        ratios[neg] = w[S][neg] / -p[neg]
        i = int(np.argmin(ratios))
        step = min(1.0, ratios[i])
        w[S] = w[S] + step * p
        w[S[i]] = 0.0
        support.pop(i)
        if not support:  # pragma: no cover - cannot happen from a feasible point
            raise RuntimeError("active set emptied")
    raise RuntimeError("simplex_qp did not converge; the problem may be badly scaled.")


# -- Section C: Frank–Wolfe (numba) -----------------------------------------------------





@njit(cache=True)
def _centre(M, intercept):  # pragma: no cover - compiled
    """Split M = [A | b] (n × (k+1)) into A as k × n rows and b, centring columns if asked."""
    n, kp1 = M.shape
    k = kp1 - 1
    A = np.empty((k, n))
    b = np.empty(n)
    for j in range(kp1):
        mean = 0.0
        if intercept:
            for i in range(n):
                mean += M[i, j]
            mean /= n
        for i in range(n):
            if j < k:
                A[j, i] = M[i, j] - mean
            else:
                b[i] = M[i, j] - mean
    return A, b


#: fastmath flags of the Frank–Wolfe kernel: everything but ``reassoc`` (see the module notes).
#: Editing this file does not invalidate numba's cache of kernels in other files that call it
#: (e.g. ``synth/sdid_weights.py``): delete their ``__pycache__/*.nbi|*.nbc`` after a change.
_FW_FASTMATH = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}


@njit(cache=True, fastmath=_FW_FASTMATH)
def _fw(A, b, x, zeta, min_decrease, max_iter):  # pragma: no cover - compiled
    """Frank–Wolfe for min ||A'x - b||^2 + n zeta^2 ||x||^2 (A: k × n, centred).

    ``x`` (length k) is the start and is overwritten; returns the iteration count and the
    final objective divided by n (R's ``vals``).
    """
    k, n = A.shape
    eta = n * zeta * zeta
    G = np.empty((k, k))
    c = np.empty(k)
    for j in range(k):
        acc = 0.0
        for i in range(n):
            acc += A[j, i] * b[i]
        c[j] = acc
        for m in range(j, k):
            acc = 0.0
            for i in range(n):
                acc += A[j, i] * A[m, i]
            G[j, m] = acc
            G[m, j] = acc
    r = np.empty(n)
    sr = 0.0
    for i in range(n):
        acc = -b[i]
        for j in range(k):
            acc += A[j, i] * x[j]
        r[i] = acc
        sr += acc * acc
    g = np.empty(k)  # = G x - c = A r, the half-gradient without the ridge term
    xx = 0.0
    hgx = 0.0
    best = 0
    best_val = np.inf
    for j in range(k):
        acc = 0.0
        for i in range(n):
            acc += A[j, i] * r[i]
        g[j] = acc
        v = acc + eta * x[j]
        xx += x[j] * x[j]
        hgx += v * x[j]
        if v < best_val:
            best_val = v
            best = j
    e = np.empty(n)
    prev = np.inf
    cur = np.inf
    it = 0
    while it < max_iter and (it < 2 or prev - cur > min_decrease * min_decrease):
        it += 1
        if x[best] != 1.0 or xx != 1.0:
            dd = 0.0
            for i in range(n):
                e[i] = A[best, i] - b[i] - r[i]  # A e_best - A x
                dd += e[i] * e[i]
            denom = dd + eta * (xx - 2.0 * x[best] + 1.0)
            step = -(best_val - hgx) / denom if denom > 0 else 0.0
            step = min(1.0, max(0.0, step))
            if step > 0:
                keep = 1.0 - step
                moved = best
                xx = 0.0
                hgx = 0.0
                best_val = np.inf
                for j in range(k):
                    xj = keep * x[j]
                    if j == moved:
                        xj += step
                    x[j] = xj
                    gj = keep * g[j] + step * (G[moved, j] - c[j])
                    g[j] = gj
                    v = gj + eta * xj
                    xx += xj * xj
                    hgx += v * xj
                    if v < best_val:
                        best_val = v
                        best = j
                sr = 0.0
                for i in range(n):
                    ri = r[i] + step * e[i]
                    r[i] = ri
                    sr += ri * ri
        prev = cur
        cur = zeta * zeta * xx + sr / n
    return it, cur


@njit(cache=True)
def frank_wolfe_solve(M, x, intercept, zeta, min_decrease, max_iter, max_pre, do_sparsify):  # pragma: no cover
    """R's two-round solve: up to ``max_pre`` iterations, sparsify, then ``max_iter``."""
    A, b = _centre(M, intercept)
    it1 = 0
    if do_sparsify:
        it1, _ = _fw(A, b, x, zeta, min_decrease, max_pre)
        top = 0.0
        for j in range(x.shape[0]):
            top = max(top, x[j])
        total = 0.0
        for j in range(x.shape[0]):
            if x[j] <= top / 4.0:
                x[j] = 0.0
            total += x[j]
        for j in range(x.shape[0]):
            x[j] /= total
    it2, val = _fw(A, b, x, zeta, min_decrease, max_iter)
    return it1 + it2, val


def frank_wolfe_simplex(
    A: np.ndarray,
    b: np.ndarray,
    *,
    zeta: float,
    intercept: bool = True,
    x0: np.ndarray | None = None,
    min_decrease: float = 1e-3,
    max_iter: int = 1000,
) -> tuple[np.ndarray, int, float]:
    """Frank–Wolfe for :math:`\\min_{x\\in\\Delta} \\lVert A x - b\\rVert^2 + n\\zeta^2\\lVert x\\rVert^2`.

    The solver of R ``synthdid``'s ``sc.weight.fw``: exact line search, start ``x0``
    (uniform by default), stop when the objective divided by ``n`` falls by at most
    ``min_decrease**2`` in an iteration, or after ``max_iter`` iterations.

    Parameters
    ----------
    A : numpy.ndarray
        Shape ``(n, k)``.
    b : numpy.ndarray
        Shape ``(n,)``.
    zeta : float
        Ridge parameter :math:`\\zeta`.
    intercept : bool, default True
        Centre the columns of ``A`` and ``b`` first (a free intercept).
    x0 : numpy.ndarray, optional
        Starting weights.
    min_decrease : float, default 1e-3
        Stopping tolerance.
    max_iter : int, default 1000
        Iteration cap.

    Returns
    -------
    x : numpy.ndarray
        Weights on the simplex.
    iterations : int
    value : float
        Final objective divided by ``n``.
    """
    A = np.asarray(A, dtype=float)
    M = np.ascontiguousarray(np.column_stack([A, np.asarray(b, dtype=float)]))
    x = np.full(A.shape[1], 1.0 / A.shape[1]) if x0 is None else np.array(x0, dtype=float)
    At, bt = _centre(M, bool(intercept))
    it, val = _fw(At, bt, x, float(zeta), float(min_decrease), int(max_iter))
    return x, int(it), float(val)
