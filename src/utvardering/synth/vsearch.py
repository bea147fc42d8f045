"""Compiled kernels of the nested V search (:func:`~utvardering.synth.vweights.nested_v`).

The nested criterion :math:`L(V) = \\tfrac1T \\lVert Z_1 - Z_0 W(V) \\rVert^2` is evaluated a
few thousand times per fit. Here one evaluation is a compiled loop: the donor Gram matrix
for the diagonal :math:`V = \\operatorname{diag}(v)`,

.. math:: G(v) = \\sum_m v_m d_m d_m^\\top, \\qquad c(v) = \\sum_m v_m d_m x_{1m}, \\qquad
          d_m = X_{0m\\cdot},

is assembled in :math:`O(kJ^2)`; :math:`W(V) = \\arg\\min_{w \\in \\Delta} w^\\top G w - 2c^\\top w`
is solved by a primal active-set method warm-started from the previous evaluation's support
(successive V of a local search share their support almost always: then one small KKT solve
suffices); and the local searches are Nelder–Mead (the same rules and start simplex as
SciPy's: reflection 1, expansion 2, contraction 1/2, shrink 1/2, 5 % initial steps) on
:math:`v = \\operatorname{softmax}(\\theta)`, all inside numba. The answer a search returns is
re-solved by the exact NNLS reduction (:func:`~utvardering._numerics.simplex.simplex_lstsq`)
by the caller, so the kernels only steer the search.
"""

from __future__ import annotations

import numpy as np

from .._numerics.simplex import njit

__all__ = ["nelder_mead", "screen", "simplex_weights", "v_loss"]

#: Smallest log-ratio between predictor weights (as :mod:`~utvardering.synth.vweights`).
LOG_RATIO = 12.0


@njit(cache=True)
def _solve_kkt(G, c, support, n):  # pragma: no cover - compiled
    """Equality-constrained minimiser on ``support[:n]``; returns (w_S, ok)."""
    K = np.empty((n + 1, n + 1))
    rhs = np.empty(n + 1)
    for a in range(n):
        for b in range(n):
            K[a, b] = G[support[a], support[b]]
        K[a, n] = 1.0
        K[n, a] = 1.0
        rhs[a] = c[support[a]]
    K[n, n] = 0.0
    rhs[n] = 1.0
    sol = np.linalg.solve(K, rhs)
    return sol[:n]


@njit(cache=True)
def simplex_weights(G, c, support, n_support, tol):  # pragma: no cover - compiled
    """:math:`\\arg\\min_{w\\in\\Delta} w^\\top G w - 2 c^\\top w` by a primal active-set method.

    ``support[:n_support]`` is a guessed support (used first if it is optimal); on return
    it holds the solution's support and the new size is returned with the weights.
    """
    J = c.size
    scale = 0.0
    for a in range(J):
        scale = max(scale, abs(G[a, a]), abs(c[a]))
    if scale == 0.0:
        scale = 1.0
    ridge = 1e-12 * scale
    Gr = G.copy()
    for a in range(J):
        Gr[a, a] += ridge
    w = np.zeros(J)
    # warm start: the guessed support, accepted if feasible and optimal
    if n_support > 0:
        ws = _solve_kkt(Gr, c, support, n_support)
        ok = True
        for a in range(n_support):
            if not ws[a] > 0.0:
                ok = False
        if ok:
            for a in range(n_support):
                w[support[a]] = ws[a]
            g = Gr @ w - c
            level = g[support[0]]
            best = 0.0
            for j in range(J):
                best = min(best, g[j] - level)
            if best >= -tol * scale:
                return w, n_support
            w[:] = 0.0
    # cold start at the best vertex
    j0 = 0
    val = np.inf
    for j in range(J):
        f = Gr[j, j] - 2.0 * c[j]
        if f < val:
            val, j0 = f, j
    w[j0] = 1.0
    support[0] = j0
    n = 1
    for _ in range(50 * J + 100):
        ws = _solve_kkt(Gr, c, support, n)
        feasible = True
        for a in range(n):
            if not ws[a] > 0.0:
                feasible = False
        if feasible:
            for a in range(n):
                w[support[a]] = ws[a]
            g = Gr @ w - c
            level = g[support[0]]
            jmin, gmin = -1, -tol * scale
            for j in range(J):
                if w[j] == 0.0 and g[j] - level < gmin:
                    gmin, jmin = g[j] - level, j
            if jmin < 0:
                return w, n
            support[n] = jmin
            n += 1
            continue
        # step towards ws until the first weight hits zero, drop it
        step, drop = 1.0, -1
        for a in range(n):
            p = ws[a] - w[support[a]]
            if p < 0.0:
                r = w[support[a]] / -p
                if r < step:
                    step, drop = r, a
        for a in range(n):
            w[support[a]] += step * (ws[a] - w[support[a]])
        if drop < 0:  # pragma: no cover - numerical safety
            drop = 0
        w[support[drop]] = 0.0
        for a in range(drop, n - 1):
            support[a] = support[a + 1]
        n -= 1
        if n == 0:  # cannot happen from a feasible point; restart at the vertex
            w[j0] = 1.0
            support[0] = j0
            n = 1
    return w, n


@njit(cache=True)
def _v_from_theta(theta):  # pragma: no cover - compiled
    top = theta.max()
    v = np.exp(np.maximum(theta - top, -LOG_RATIO))
    return v / v.sum()


@njit(cache=True)
def v_loss(v, D, DX, Z1, Z0, support, n_support):  # pragma: no cover - compiled
    """Outcome MSPE of :math:`W(V)` for predictor weights ``v``; returns (loss, w, n)."""
    k, J = D.shape
    G = np.zeros((J, J))
    c = np.zeros(J)
    for m in range(k):
        vm = v[m]
        if vm == 0.0:
            continue
        for a in range(J):
            da = vm * D[m, a]
            c[a] += da * DX[m]
            for b in range(a, J):
                G[a, b] += da * D[m, b]
    for a in range(J):
        for b in range(a):
            G[a, b] = G[b, a]
    w, n = simplex_weights(G, c, support, n_support, 1e-10)
    T = Z1.size
    total = 0.0
    for t in range(T):
        r = Z1[t]
        for a in range(n):
            r -= Z0[t, support[a]] * w[support[a]]
        total += r * r
    return total / T, w, n


@njit(cache=True)
def screen(pool, D, DX, Z1, Z0):  # pragma: no cover - compiled
    """Loss and weights of every candidate V (rows of ``pool``), each from a cold start."""
    P = pool.shape[0]
    J = D.shape[1]
    losses = np.empty(P)
    W = np.empty((P, J))
    support = np.zeros(J + 1, dtype=np.int64)
    for i in range(P):
        loss, w, _ = v_loss(pool[i], D, DX, Z1, Z0, support, 0)
        losses[i] = loss
        W[i] = w
    return losses, W


@njit(cache=True)
def nelder_mead(theta0, D, DX, Z1, Z0, maxfev, xatol, fatol):  # pragma: no cover - compiled
    """Nelder–Mead on :math:`\\theta` (SciPy's rules); returns (theta, loss, nfev, best v).

    The best V evaluated is tracked (as the reference implementation's memo), and returned
    with its loss.
    """
    n = theta0.size
    J = D.shape[1]
    support = np.zeros(J + 1, dtype=np.int64)
    ns = 0
    sim = np.empty((n + 1, n))
    sim[0] = theta0
    for i in range(n):
        y = theta0.copy()
        if y[i] != 0.0:
            y[i] = 1.05 * y[i]
        else:
            y[i] = 0.00025
        sim[i + 1] = y
    fs = np.empty(n + 1)
    best_loss = np.inf
    best_v = np.full(n, 1.0 / n)
    nfev = 0
    for i in range(n + 1):
        v = _v_from_theta(sim[i])
        loss, _w, ns = v_loss(v, D, DX, Z1, Z0, support, ns)
        nfev += 1
        fs[i] = loss
        if loss < best_loss:
            best_loss, best_v = loss, v
    while nfev < maxfev:
        order = np.argsort(fs)
        sim = sim[order]
        fs = fs[order]
        xd = 0.0
        fd = 0.0
        for i in range(1, n + 1):
            fd = max(fd, abs(fs[i] - fs[0]))
            for j in range(n):
                xd = max(xd, abs(sim[i, j] - sim[0, j]))
        if xd <= xatol and fd <= fatol:
            break
        xbar = np.zeros(n)
        for i in range(n):
            xbar += sim[i]
        xbar /= n
        xr = 2.0 * xbar - sim[n]
        v = _v_from_theta(xr)
        fxr, _w, ns = v_loss(v, D, DX, Z1, Z0, support, ns)
        nfev += 1
        if fxr < best_loss:
            best_loss, best_v = fxr, v
        shrink = False
        if fxr < fs[0]:
            xe = 3.0 * xbar - 2.0 * sim[n]
            v = _v_from_theta(xe)
            fxe, _w, ns = v_loss(v, D, DX, Z1, Z0, support, ns)
            nfev += 1
            if fxe < best_loss:
                best_loss, best_v = fxe, v
            if fxe < fxr:
                sim[n], fs[n] = xe, fxe
            else:
                sim[n], fs[n] = xr, fxr
        elif fxr < fs[n - 1]:
            sim[n], fs[n] = xr, fxr
        else:
            if fxr < fs[n]:
                xc = 1.5 * xbar - 0.5 * sim[n]
                v = _v_from_theta(xc)
                fxc, _w, ns = v_loss(v, D, DX, Z1, Z0, support, ns)
                nfev += 1
                if fxc < best_loss:
                    best_loss, best_v = fxc, v
                if fxc <= fxr:
                    sim[n], fs[n] = xc, fxc
                else:
                    shrink = True
            else:
                xcc = 0.5 * xbar + 0.5 * sim[n]
                v = _v_from_theta(xcc)
                fxcc, _w, ns = v_loss(v, D, DX, Z1, Z0, support, ns)
                nfev += 1
                if fxcc < best_loss:
                    best_loss, best_v = fxcc, v
                if fxcc < fs[n]:
                    sim[n], fs[n] = xcc, fxcc
                else:
                    shrink = True
            if shrink:
                for i in range(1, n + 1):
                    sim[i] = sim[0] + 0.5 * (sim[i] - sim[0])
                    v = _v_from_theta(sim[i])
                    fs[i], _w, ns = v_loss(v, D, DX, Z1, Z0, support, ns)
                    nfev += 1
                    if fs[i] < best_loss:
                        best_loss, best_v = fs[i], v
    i0 = int(np.argmin(fs))
    return sim[i0].copy(), fs[i0], nfev, best_v, best_loss
