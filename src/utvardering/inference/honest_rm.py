"""Relative-magnitude restrictions Δ^RM(M̄) and conditional / least-favourable hybrid tests.

Numerics for :func:`utvardering.inference.honest_did.honest_did` with
``method="relative_magnitudes"`` (Rambachan & Roth 2023, section 4.2), following the
conventions of the HonestDiD R package so that results agree with it:

* Δ^RM(M̄) is the union over the location s ∈ {−T+1, …, 0} and sign of the largest
  pre-period first difference of the polyhedra Δ^RM_{s,±}(M̄) = {δ : A_{s,±} δ ≤ 0};
* for each piece the moment inequalities E[A(β̂ − (0, τ)) ] ≤ 0 are tested with the
  conditional test of Andrews, Roth & Pakes (ARP, 2023) and its least-favourable hybrid
  (first stage at κ = α/10 with a critical value simulated from R's ``rnorm`` with seed 0,
  1000 draws), using only the moments that involve post-period coefficients;
* the confidence set is inverted over R's grid: 1000 equally spaced θ in ±20 standard
  errors of the plug-in estimate l'β̂_post around 0, and a θ is accepted if any piece accepts.

Instead of solving one linear program per θ we list the vertices of the dual feasible set
{γ ≥ 0 : γ'σ = 1, γ'X = 0} once; η(θ) = max_v γ_v'(y − aθ) is then vectorised over the grid,
and the conditioning bounds (V^lo, V^up) of the dual approach are exact breakpoints.

The vertices come from the structure of Δ^RM, not from enumerating bases. Each post-period
moment bounds one first difference u_t = τ_t − τ_{t−1} from one side (coefficient ±1 on u_t),
and γ'X = 0 says γ'C = λ l' for the post-period coefficient matrix C = E D (D the
first-difference map, E's rows ±e_t), i.e. Σ_r γ_r E_rt = λ w_t with w' = l'D^{-1}. With one
"+" and one "−" moment per period, every feasible γ splits into a balanced part (equal weight
on both moments of a period: the T̄ vertices with λ = 0) and a λ-part (weight abs(λ w_t) on the
moment whose sign is that of λ w_t: one vertex for λ > 0 and one for λ < 0). So the dual has
at most T̄ + 2 vertices, found in O(T̄²) time, where enumerating bases takes
C(2T̄, T̄) linear solves (48,620 for T̄ = 9, 2.7 million for T̄ = 12). The basis enumeration
is kept for constraint matrices without this structure and as a test oracle.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.stats import truncnorm

from .honest_sd import r_quantile7, r_rnorm

__all__ = ["rm_confidence_set", "rm_constraints", "rm_grid"]

_N_SIMS = 1000


def rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Matrix A with Δ^RM_{s,±}(M̄) = {δ : A δ ≤ 0} (δ excludes the reference period).

    Every first difference δ_t − δ_{t−1} (t ≤ 0 pre, t ≥ 1 post, δ_0 = 0) is bounded in
    absolute value by ±(δ_s − δ_{s−1}) (pre) or M̄·±(δ_s − δ_{s−1}) (post).
    """
    n = n_pre + n_post
    atilde = np.zeros((n, n + 1))
    for r in range(n):
        atilde[r, r:r + 2] = (-1.0, 1.0)
    v = np.zeros(n + 1)
    v[n_pre + s - 1:n_pre + s + 1] = (-1.0, 1.0)
    if not positive:
        v = -v
    a_ub = np.vstack([np.tile(v, (n_pre, 1)), np.tile(mbar * v, (n_post, 1))])
    A = np.vstack([atilde - a_ub, -atilde - a_ub])
    A = A[(A * A).sum(axis=1) > 1e-10]
    return np.delete(A, n_pre, axis=1)


def _gamma_matrix(l_vec: np.ndarray) -> np.ndarray:
    """Invertible matrix with first row l' (l and the unit vectors that are independent)."""
    rows = [l_vec]
    for e in np.eye(len(l_vec)):
        cand = np.vstack([*rows, e])
        if np.linalg.matrix_rank(cand) == len(cand):
            rows.append(e)
    return np.vstack(rows)


def _dual_vertices(sd: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Vertices of {γ ≥ 0 : γ'sd = 1, γ'X = 0} (rows), by enumerating basic supports."""
    m, k = X.shape
    W = np.column_stack([sd, X])
    rhs = np.zeros(k + 1)
    rhs[0] = 1.0
    if m >= k + 1 and np.linalg.matrix_rank(W) == k + 1:
        # every vertex is a basic solution of some k + 1 linearly independent rows
        bases = np.array(list(combinations(range(m), k + 1)))
        WB = np.transpose(W[bases], (0, 2, 1))  # n_bases × (k+1) × (k+1)
        ok = np.abs(np.linalg.det(WB)) > 1e-12 * np.abs(W).max() ** (k + 1)
        bases, WB = bases[ok], WB[ok]
        if len(bases) == 0:
            return np.zeros((0, m))
        g = np.linalg.solve(WB, np.broadcast_to(rhs, (len(bases), k + 1))[..., None])[..., 0]
        g[np.abs(g) <= 1e-14] = 0.0
        feasible = np.all(g >= 0, axis=1)
        full = np.zeros((int(feasible.sum()), m))
        np.put_along_axis(full, bases[feasible], g[feasible], axis=1)
        _, first = np.unique(np.round(full, 12), axis=0, return_index=True)
        return full[np.sort(first)]
    verts = []
    for size in range(1, min(k + 1, m) + 1):
        for S in combinations(range(m), size):
            WS = W[list(S)]  # size × (k+1)
            if np.linalg.matrix_rank(WS) < size:
                continue
            g, *_ = np.linalg.lstsq(WS.T, rhs, rcond=None)
            if np.abs(WS.T @ g - rhs).max() > 1e-10 or np.any(g <= 1e-14):
                continue
            full = np.zeros(m)
            full[list(S)] = g
            verts.append(full)
    return np.array(verts).reshape(-1, m)


def _rm_dual_vertices(sd: np.ndarray, C: np.ndarray, l_vec: np.ndarray) -> np.ndarray | None:
    """Vertices of {γ ≥ 0 : γ'sd = 1, γ'C = λ l' for some λ} for Δ^RM's post-period moments.

    ``C`` (moments × T̄) holds the moments' coefficients on τ_post. Returns ``None`` when C is
    not of the form E D with E's rows ±e_t and exactly one "+" and one "−" row per period
    (then the caller enumerates bases instead).
    """
    m, n_post = C.shape
    D = np.eye(n_post) - np.eye(n_post, k=-1)
    E = C @ np.linalg.inv(D)
    period = np.argmax(np.abs(E), axis=1)
    sign = np.sign(E[np.arange(m), period])
    rebuilt = np.zeros_like(E)
    rebuilt[np.arange(m), period] = sign
    if np.abs(E - rebuilt).max() > 1e-9 * max(1.0, np.abs(C).max()):
        return None
    plus = np.full(n_post, -1)
    minus = np.full(n_post, -1)
    for r in range(m):
        slot = plus if sign[r] > 0 else minus
        if slot[period[r]] >= 0:
            return None
        slot[period[r]] = r
    if np.any(plus < 0) or np.any(minus < 0):
        return None
    w = np.linalg.solve(D.T, l_vec)  # w' = l'D^{-1}
    active = np.flatnonzero(np.abs(w) > 1e-12 * np.abs(w).max())
    verts = []
    for t in range(n_post):  # balanced parts (λ = 0)
        if len(active) == 1 and t == active[0]:
            continue  # the midpoint of the two λ-vertices below, not a vertex
        g = np.zeros(m)
        g[[plus[t], minus[t]]] = 1.0 / (sd[plus[t]] + sd[minus[t]])
        verts.append(g)
    for direction in (1.0, -1.0):  # λ-parts
        g = np.zeros(m)
        for t in active:
            g[plus[t] if direction * w[t] > 0 else minus[t]] = abs(w[t])
        verts.append(g / (g @ sd))
    return np.array(verts)


def _mvn_draws(sigma: np.ndarray, seed: int = 0) -> np.ndarray:
    """R's ``set.seed(seed); mvtnorm::rmvnorm(1000, sigma = sigma)`` (eigen square root)."""
    vals, vecs = np.linalg.eigh(sigma)
    root = (vecs * np.sqrt(np.maximum(vals, 0))) @ vecs.T
    z = r_rnorm(_N_SIMS * sigma.shape[0], seed).reshape(_N_SIMS, sigma.shape[0])
    return z @ root


def _truncnorm_ppf(p: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    out = np.full(lo.shape, np.nan)
    ok = hi > lo
    out[ok] = truncnorm.ppf(p, lo[ok], hi[ok])
    out[~ok] = lo[~ok]
    return out


def _arp_accept(y0, a, X, sigma, thetas, G, *, alpha, kappa, lf_cv):
    """Accept indicator of the (hybrid) conditional test of E[y0 − aθ − Xδ] ≤ 0 for each θ.

    ``G`` holds the vertices of the dual feasible set {γ ≥ 0 : γ'sd = 1, γ'X = 0} (rows).
    """
    k = X.shape[1]
    sd = np.sqrt(np.diag(sigma))
    accept = np.ones(len(thetas), dtype=bool)
    if len(G) == 0:  # η unbounded below: never rejects
        return accept
    Y = y0[:, None] - a[:, None] * thetas[None, :]  # m × n_theta
    vals = G @ Y
    best = np.argmax(vals, axis=0)
    eta = vals[best, np.arange(len(thetas))]
    hybrid = lf_cv is not None
    mod_size = (alpha - kappa) / (1 - kappa) if hybrid else alpha
    reject = np.zeros(len(thetas), dtype=bool)
    if hybrid:
        reject |= eta > lf_cv
    for v in np.unique(best):
        idx = np.where((best == v) & ~reject)[0]
        if len(idx) == 0:
            continue
        gam = G[v]
        B = gam > 1e-6
        XB = X[B]
        full_rank = min(XB.shape) > 0 and np.linalg.matrix_rank(XB) == min(XB.shape)
        y = Y[:, idx]
        if B.sum() != k + 1 or not full_rank:
            zlo, zup, sig_b, zero_var = _dual_bounds(gam, G, sigma, y, eta[idx])
        else:
            zlo, zup, sig_b, zero_var = _primal_bounds(B, sd, X, sigma, y)
        if zero_var:
            reject[idx] = eta[idx] > 0
            continue
        if hybrid:
            zup = np.minimum(zup, lf_cv)
        zlo, zup, stat = zlo / sig_b, zup / sig_b, eta[idx] / sig_b
        inside = (zlo <= stat) & (stat <= zup)
        cval = np.maximum(0.0, _truncnorm_ppf(1 - mod_size, zlo, zup))
        reject[idx] = inside & (stat > cval)
    return ~reject


def _primal_bounds(B, sd, X, sigma, y):
    """Truncation bounds (V^lo, V^up) when the k + 1 binding moments are non-degenerate."""
    m = len(sd)
    WB_inv = np.linalg.inv(np.column_stack([sd[B], X[B]]))
    S_B, S_Bc = np.eye(m)[B], np.eye(m)[~B]
    Gamma_B = np.column_stack([sd[~B], X[~B]]) @ WB_inv @ S_B - S_Bc
    v_B = WB_inv[0] @ S_B
    sig2 = float(v_B @ sigma @ v_B)
    sig_b = np.sqrt(sig2)
    rho = Gamma_B @ sigma @ v_B / sig2
    with np.errstate(divide="ignore", invalid="ignore"):
        mm = (-(Gamma_B @ y)) / rho[:, None] + (v_B @ y)[None, :]
    n = y.shape[1]
    vlo = mm[rho > 0].max(axis=0) if np.any(rho > 0) else np.full(n, -np.inf)
    vup = mm[rho < 0].min(axis=0) if np.any(rho < 0) else np.full(n, np.inf)
    return vlo, vup, sig_b, False


def _dual_bounds(gam, G, sigma, y, eta):
    """Truncation bounds from the dual: the interval of c on which γ̃ stays optimal."""
    sig2 = float(gam @ sigma @ gam)
    n = y.shape[1]
    if abs(sig2) < np.finfo(float).eps:
        return None, None, None, True
    sig_b = np.sqrt(sig2)
    b = sigma @ gam / sig2
    s_T = y - np.outer(b, gam @ y)  # (I − b γ̃') y
    gs = G @ s_T  # vertices × n
    gb = G @ b
    def value(c):  # max_v γ_v'(s_T + b c)
        return (gs + np.outer(gb, np.ones(n)) * c).max(axis=0)
    tol = 1e-6
    ok = np.abs(eta - value(eta)) <= tol
    hi_init = np.maximum(100.0, eta + 20 * sig_b)
    lo_init = np.minimum(-100.0, eta - 20 * sig_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = gs / (1 - gb)[:, None]
    up_rows, lo_rows = gb > 1 + 1e-12, gb < 1 - 1e-12
    vup = cross[up_rows].min(axis=0) if up_rows.any() else np.full(n, np.inf)
    vlo = cross[lo_rows].max(axis=0) if lo_rows.any() else np.full(n, -np.inf)
    vup = np.where(np.abs(hi_init - value(hi_init)) <= tol, np.inf, vup)
    vlo = np.where(np.abs(lo_init - value(lo_init)) <= tol, -np.inf, vlo)
    vlo = np.where(ok, vlo, eta)
    vup = np.where(ok, vup, np.inf)
    return vlo, vup, sig_b, False


def _lf_cv_nuisance(G, sigma, kappa, seed):
    xi = _mvn_draws(sigma, seed)
    if len(G) == 0:
        return np.nan
    eta = (xi @ G.T).max(axis=1)
    return float(r_quantile7(eta, 1 - kappa))


def _piece_accept(betahat, sigma, n_pre, n_post, l_vec, mbar, s, positive, thetas, *,
                  alpha, kappa, hybrid, seed):
    A = rm_constraints(n_pre, n_post, mbar, s, positive)
    rows = np.where((A[:, n_pre:] != 0).any(axis=1))[0]  # post-period moments only
    if n_post == 1:
        return _accept_no_nuisance(betahat, sigma, A[rows], n_pre, thetas, alpha=alpha,
                                   kappa=kappa, hybrid=hybrid, seed=seed)
    gamma_inv = np.linalg.inv(_gamma_matrix(l_vec))
    AG = A[:, n_pre:] @ gamma_inv
    Y = A @ betahat
    sigY = A @ sigma @ A.T
    a, X = AG[rows, 0], AG[rows, 1:]
    sig_r = sigY[np.ix_(rows, rows)]
    sd = np.sqrt(np.diag(sig_r))
    G = _rm_dual_vertices(sd, A[np.ix_(rows, range(n_pre, A.shape[1]))], l_vec)
    if G is None:
        G = _dual_vertices(sd, X)
    lf_cv = _lf_cv_nuisance(G, sig_r, kappa, seed) if hybrid else None
    return _arp_accept(Y[rows], a, X, sig_r, thetas, G, alpha=alpha, kappa=kappa, lf_cv=lf_cv)


def _accept_no_nuisance(betahat, sigma, A, n_pre, thetas, *, alpha, kappa, hybrid, seed):
    """One post-period: conditional test on the largest normalised moment (no nuisance)."""
    sigA = A @ sigma @ A.T
    st = np.sqrt(np.diag(sigA))
    At = A / st[:, None]
    e = np.zeros(len(betahat))
    e[n_pre] = 1.0
    Y = betahat[:, None] - e[:, None] * thetas[None, :]
    mom = At @ Y
    loc = np.argmax(mom, axis=0)
    mx = mom[loc, np.arange(len(thetas))]
    reject = np.zeros(len(thetas), dtype=bool)
    size = alpha
    if hybrid:
        draws = _mvn_draws(sigA, seed) / st[None, :]
        lf_cv = float(r_quantile7(draws.max(axis=1), 1 - kappa))
        reject |= mx > lf_cv
        size = (alpha - kappa) / (1 - kappa)
    for j in np.unique(loc):
        idx = np.where((loc == j) & ~reject)[0]
        if len(idx) == 0:
            continue
        g = At[j]
        Abar = At - At[j][None, :]
        sg2 = float(g @ sigma @ g)
        c = sigma @ g / sg2
        z = Y[:, idx] - np.outer(c, g @ Y[:, idx])
        ac = Abar @ c
        with np.errstate(divide="ignore", invalid="ignore"):
            obj = -(Abar @ z) / ac[:, None]
        vlo = obj[ac < 0].max(axis=0) if np.any(ac < 0) else np.full(len(idx), -np.inf)
        vup = obj[ac > 0].min(axis=0) if np.any(ac > 0) else np.full(len(idx), np.inf)
        sd_bar = np.sqrt(sg2)
        cval = np.maximum(0.0, sd_bar * _truncnorm_ppf(1 - size, vlo / sd_bar, vup / sd_bar))
        reject[idx] = mx[idx] > cval
    return ~reject


def rm_grid(sigma: np.ndarray, n_pre: int, l_vec: np.ndarray, grid_points: int = 1000,
            grid_lb: float | None = None, grid_ub: float | None = None) -> np.ndarray:
    """HonestDiD's default θ grid: ``grid_points`` values in ±20 standard errors of l'β̂_post."""
    n_post = len(l_vec)
    sd = float(np.sqrt(l_vec @ sigma[n_pre:n_pre + n_post, n_pre:n_pre + n_post] @ l_vec))
    lb = -20 * sd if grid_lb is None else grid_lb
    ub = 20 * sd if grid_ub is None else grid_ub
    return np.linspace(lb, ub, grid_points)


def rm_confidence_set(betahat: np.ndarray, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray,
                      mbar: float, *, alpha: float = 0.05, hybrid: bool = True,
                      grid: np.ndarray | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Accepted θ values of the C-LF (or conditional) confidence set under Δ^RM(M̄).

    Parameters
    ----------
    betahat, sigma : numpy.ndarray
        Event-study coefficients (pre then post, reference excluded) and their covariance.
    n_pre : int
        Number of pre-period coefficients.
    l_vec : numpy.ndarray
        Weights on post-period coefficients defining θ = l'τ_post.
    mbar : float
        M̄ ≥ 0.
    alpha : float, default 0.05
        1 − coverage.
    hybrid : bool, default True
        Least-favourable hybrid ("C-LF", κ = α/10); if false the plain conditional test.
    grid : numpy.ndarray, optional
        θ values to test (default :func:`rm_grid`).
    seed : int, default 0
        R seed for the least-favourable critical value simulation.

    Returns
    -------
    tuple of numpy.ndarray
        The grid and a boolean accept mask (union over s and sign).
    """
    n_post = len(l_vec)
    thetas = rm_grid(sigma, n_pre, l_vec) if grid is None else np.asarray(grid, float)
    kappa = alpha / 10
    accept = np.zeros(len(thetas), dtype=bool)
    for s in range(-(n_pre - 1), 1):
        for positive in (True, False):
            accept |= _piece_accept(betahat, sigma, n_pre, n_post, l_vec, mbar, s, positive,
                                    thetas, alpha=alpha, kappa=kappa, hybrid=hybrid, seed=seed)
    return thetas, accept
