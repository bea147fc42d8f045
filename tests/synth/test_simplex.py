"""The simplex least-squares solver is exact: checked against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from utvardering._numerics.simplex import (
    simplex_kkt,
    simplex_lstsq,
    simplex_lstsq_many,
    simplex_nnls,
    simplex_warm,
)


def brute_force(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact optimum by enumerating every support (equality-constrained LS on each)."""
    J = A.shape[1]
    best_w, best = None, np.inf
    for size in range(1, J + 1):
        for S in itertools.combinations(range(J), size):
            S = list(S)
            As = A[:, S]
            n = len(S)
            K = np.zeros((n + 1, n + 1))
            K[:n, :n] = As.T @ As
            K[:n, n] = K[n, :n] = 1.0
            rhs = np.r_[As.T @ b, 1.0]
            sol = np.linalg.lstsq(K, rhs, rcond=None)[0][:n]
            if np.any(sol < -1e-13) or abs(sol.sum() - 1) > 1e-9:
                continue
            w = np.zeros(J)
            w[S] = np.maximum(sol, 0)
            loss = float(np.sum((A @ w - b) ** 2))
            if loss < best - 1e-14:
                best_w, best = w, loss
    return best_w, best


@pytest.mark.parametrize("seed", range(12))
def test_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    k, J = rng.integers(2, 9), rng.integers(2, 8)
    A = rng.normal(size=(k, J))
    b = rng.normal(size=k) * 2
    w_ref, loss_ref = brute_force(A, b)
    sol = simplex_lstsq(A, b)
    assert sol.w.min() >= 0
    assert sol.w.sum() == pytest.approx(1.0, abs=1e-12)
    assert sol.loss == pytest.approx(loss_ref, rel=1e-10, abs=1e-12)
    if k >= J:  # full column rank: the optimum is unique
        np.testing.assert_allclose(sol.w, w_ref, atol=1e-10)
    assert sol.kkt < 1e-10


def test_kkt_on_larger_problems():
    rng = np.random.default_rng(1)
    for _ in range(20):
        A = rng.normal(size=(19, 38)) * 30 + 100
        b = rng.normal(size=19) * 30 + 100
        sol = simplex_lstsq(A, b)
        assert sol.kkt < 1e-10
        assert sol.w.sum() == pytest.approx(1.0, abs=1e-12)


def test_special_cases():
    A = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 5.0]])
    # treated equal to donor 1: that donor alone, zero loss
    sol = simplex_lstsq(A, A[:, 1])
    np.testing.assert_allclose(sol.w, [0, 1, 0], atol=1e-12)
    assert sol.loss == pytest.approx(0.0, abs=1e-20)
    # a single donor
    assert simplex_lstsq(A[:, :1], np.array([5.0, 5.0])).w.tolist() == [1.0]
    # treated far outside the hull: the nearest vertex
    sol = simplex_lstsq(A, np.array([100.0, 100.0]))
    np.testing.assert_allclose(sol.w, [0, 0, 1], atol=1e-12)
    with pytest.raises(ValueError, match="A must be"):
        simplex_lstsq(A, np.ones(3))


def test_warm_start_and_many_agree_with_cold():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(7, 30))
    B = rng.normal(size=(5, 7))
    many = simplex_lstsq_many(A, B)
    for i, b in enumerate(B):
        cold = simplex_lstsq(A, b).w
        np.testing.assert_allclose(many[i], cold, atol=1e-12)
        support = np.flatnonzero(cold > 0)
        np.testing.assert_allclose(simplex_warm(A, b, support), cold, atol=1e-10)
        # a wrong guess falls back to the exact solution
        np.testing.assert_allclose(simplex_warm(A, b, np.array([0, 1])), simplex_nnls(A, b),
                                   atol=1e-12)
    assert simplex_kkt(A, B[0], many[0]) < 1e-10
