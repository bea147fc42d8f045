r"""Frank–Wolfe on the simplex: the solver behind the synthetic-DiD weights.

Both weight problems of :mod:`~utvardering.synth.sdid_weights` are
:math:`\min_{x \in \Delta} \lVert A x - b \rVert^2 + \eta\lVert x\rVert^2`, solved as in R
``synthdid``: Frank–Wolfe with exact line search from uniform weights, at most 100
iterations; then the weights at or below a quarter of the largest are set to zero
(sparsification) and a second Frank–Wolfe run from there, stopped when the objective
(divided by the number of rows) falls by less than :math:`(10^{-5}\hat\sigma)^2` in one
iteration or after 10,000 iterations.

Each iteration is :math:`O(n + k)`: the residual :math:`r = Ax - b` and the gradient
:math:`A^\top r` are updated along the Frank–Wolfe direction with the Gram matrix, not
recomputed. The kernels are compiled with numba (a dependency of PyMC; ``fastmath`` lets it
vectorise the sums, which changes results only in the last bits).
"""

from __future__ import annotations

import numpy as np

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


__all__ = ["HAVE_NUMBA", "frank_wolfe_simplex"]


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


@njit(cache=True, fastmath=True)
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
def _solve(M, x, intercept, zeta, min_decrease, max_iter, max_pre, do_sparsify):  # pragma: no cover
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
