"""Penalized synthetic control (Abadie & L'Hour 2021): solver, limits, cross-validation."""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from utvardering._numerics.simplex import simplex_lstsq, simplex_qp
from utvardering.effect import Effect
from utvardering.errors import DesignError
from utvardering.estimators import get_estimator
from utvardering.study import Study
from utvardering.synth.augmented import AugmentedSynthEffect
from utvardering.synth.penalized import penalized_synthetic_control, penalized_weights


def panel(seed: int = 0, n_co: int = 12, t_pre: int = 10, t_post: int = 4, tau: float = 0.0):
    rng = np.random.default_rng(seed)
    T = t_pre + t_post
    f = np.cumsum(rng.normal(0, 1, (T, 2)), axis=0) + 10
    load = rng.uniform(0.5, 1.5, (n_co + 1, 2))
    Y = load @ f.T + rng.normal(0, 0.2, (n_co + 1, T))
    Y[-1, t_pre:] += tau
    names = [f"d{i:02d}" for i in range(n_co)] + ["treated"]
    rows = [(names[i], 2000 + t, Y[i, t]) for i in range(n_co + 1) for t in range(T)]
    return pd.DataFrame(rows, columns=["unit", "year", "y"])


def study_of(df, **kw):
    return Study(df, outcome="y", unit="unit", time="year", treated="treated", start=2010, **kw)


def brute_force(Q, q):
    """Exact minimum of ½w'Qw + q'w on the simplex by enumerating supports (small J)."""
    J, best, best_w = q.size, np.inf, None
    for k in range(1, J + 1):
        for S in combinations(range(J), k):
            S = list(S)
            K = np.zeros((k + 1, k + 1))
            K[:k, :k], K[:k, k], K[k, :k] = Q[np.ix_(S, S)], 1, 1
            try:
                x = np.linalg.solve(K, np.r_[-q[S], 1])[:k]
            except np.linalg.LinAlgError:
                continue
            if np.all(x >= -1e-12):
                w = np.zeros(J)
                w[S] = x
                val = 0.5 * w @ Q @ w + q @ w
                if val < best:
                    best, best_w = val, w
    return best, best_w


def test_simplex_qp_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(30):
        J = int(rng.integers(2, 7))
        A = rng.normal(size=(J + 2, J))
        Q, q = A.T @ A, rng.normal(size=J)
        w = simplex_qp(Q, q)
        best, _ = brute_force(Q, q)
        assert w.min() >= 0 and w.sum() == pytest.approx(1)
        assert 0.5 * w @ Q @ w + q @ w == pytest.approx(best, abs=1e-9)


def test_zero_penalty_is_synthetic_control():
    rng = np.random.default_rng(1)
    for _ in range(50):
        J, K = int(rng.integers(2, 30)), int(rng.integers(1, 15))
        X0, x1 = rng.normal(size=(J, K)), rng.normal(size=K) * 2
        w = penalized_weights(X0, x1, 0.0)
        ref = simplex_lstsq(X0.T, x1)
        assert np.sum((X0.T @ w - x1) ** 2) == pytest.approx(ref.loss, abs=1e-9 * (1 + ref.loss))


def test_large_penalty_is_nearest_neighbour_matching():
    rng = np.random.default_rng(2)
    for _ in range(50):
        J, K = int(rng.integers(2, 30)), int(rng.integers(1, 15))
        X0, x1 = rng.normal(size=(J, K)), rng.normal(size=K)
        w = penalized_weights(X0, x1, 1e6)
        nearest = int(np.argmin(np.sum((X0 - x1) ** 2, axis=1)))
        assert w[nearest] == pytest.approx(1.0, abs=1e-9)


def test_estimator_limits_on_a_panel():
    df = panel(3, tau=1.0)
    study = study_of(df)
    wide = df.pivot(index="unit", columns="year", values="y")
    donors, y = wide.drop(index="treated").to_numpy(), wide.loc["treated"].to_numpy()
    pre = wide.columns < 2010
    sd = np.vstack([donors[:, pre], y[pre]]).std(axis=0, ddof=1)
    sc = penalized_synthetic_control(study, penalty=0.0, inference=None)
    ref = simplex_lstsq((donors[:, pre] / sd).T, y[pre] / sd)
    fit = np.sum(((donors[:, pre] / sd).T @ sc.weights.to_numpy() - y[pre] / sd) ** 2)
    assert fit == pytest.approx(ref.loss, abs=1e-9)
    nn = penalized_synthetic_control(study, penalty=1e8, inference=None)
    nearest = wide.drop(index="treated").index[np.argmin((((donors - y)[:, pre] / sd) ** 2).sum(axis=1))]
    assert nn.weights[nearest] == pytest.approx(1.0)
    assert nn.estimate == pytest.approx((y - wide.loc[nearest].to_numpy())[~pre].mean())


def test_cross_validated_penalty_and_sparsity():
    df = panel(4, tau=2.0)
    effect = penalized_synthetic_control(study_of(df), inference=None)
    assert effect.penalty in effect.cv["lambda"].to_numpy()
    assert effect.penalty == effect.cv["lambda"][effect.cv["error"].idxmin()]
    assert (effect.weights > 1e-9).sum() <= 10 + 1  # at most K + 1 donors (sparse)
    assert effect.estimate == pytest.approx(2.0, abs=1.0)
    assert isinstance(effect, AugmentedSynthEffect)


def test_jackknife_round_trip_registry_and_errors():
    df = panel(5, tau=1.0)
    before = df.copy()
    effect = penalized_synthetic_control(df, outcome="y", unit="unit", time="year", treated="treated",
                                         start=2010, penalty=0.1)
    pd.testing.assert_frame_equal(df, before)
    assert effect.se > 0
    back = Effect.from_dict(json.loads(json.dumps(effect.to_dict())))
    assert back.penalty == 0.1 and np.allclose(back.weights.to_numpy(), effect.weights.to_numpy())
    assert get_estimator("penalized_synthetic_control").function is penalized_synthetic_control
    with pytest.raises(DesignError, match="non-negative"):
        penalized_synthetic_control(study_of(df), penalty=-1.0)


def test_covariates_enter_the_predictors():
    df = panel(6, tau=1.0)
    df["z"] = df["unit"].map({u: float(i) for i, u in enumerate(sorted(df["unit"].unique()))})
    study = study_of(df, covariates=["z"])
    with_z = penalized_synthetic_control(study, penalty=1e6, inference=None)
    # a dominant penalty gives nearest-neighbour matching on the predictors, with or without z
    without = penalized_synthetic_control(study, penalty=1e6, covariates=[], inference=None)
    assert with_z.weights.max() == pytest.approx(1.0) and without.weights.max() == pytest.approx(1.0)
    assert with_z.params["covariates"] == ["z"] and without.params["covariates"] == []


# -- inference: conformal (CWZ) and placebo-in-space ------------------------------------------


def test_conformal_and_placebo_with_zero_penalty_match_synthetic_control():
    """Penalty 0 on unstandardised outcomes is synthetic control: same conformal refits."""
    from utvardering.synth.adh import synthetic_control

    df = panel(seed=3, n_co=8, t_pre=10, t_post=3, tau=-1.0)
    pen = penalized_synthetic_control(study_of(df), penalty=0.0, standardize=False, inference=None)
    sc = synthetic_control(study_of(df), inference=None)
    a, b = pen.conformal(), sc.conformal()
    assert a.p_value == pytest.approx(b.p_value)
    np.testing.assert_allclose(a.interval, b.interval, atol=1e-3)
    np.testing.assert_allclose(a.pointwise[["low", "high"]], b.pointwise[["low", "high"]], atol=1e-3)
    assert pen.placebo_in_space().p_value == pytest.approx(sc.placebo_in_space().p_value)


def test_conformal_and_placebo_detect_a_large_effect():
    df = panel(seed=4, n_co=9, t_pre=10, t_post=3, tau=-10.0)
    fit = penalized_synthetic_control(study_of(df), inference=None)
    res = fit.conformal(level=0.9)  # pointwise: T = 11, smallest p = 1/11 < 0.1
    assert res.p_value == pytest.approx(1 / 13)  # the observed statistic is the largest shift
    assert (res.pointwise["high"] < 0).all()
    assert res.n_blocks == 4  # 10 pre-periods = 3 blocks of 3 (first dropped) + the post block
    assert res.average_interval == (-np.inf, np.inf)  # 1/4 > 10 %: no finite 90 % interval
    pl = fit.placebo_in_space()
    assert pl.p_value == pytest.approx(1 / 10) and len(pl.table) == 10


def test_leave_one_out_refits_the_estimator_without_each_donor():
    # leave-one-out is shared with synthetic control (synth.robustness) and refits penalized SC
    # itself: dropping a donor equals fitting on a Study without it (penalty fixed)
    df = panel(seed=4)
    study = study_of(df)
    fit = penalized_synthetic_control(study, penalty=0.05, inference=None)
    loo = fit.leave_one_out()
    used = fit.weights[fit.weights.abs() > 1e-6]
    assert list(loo.table.index) == ["(none)", *used.sort_values(ascending=False).index]
    dropped = loo.table.index[1]
    direct = penalized_synthetic_control(study.replace(exclude=[dropped]), penalty=0.05,
                                         inference=None)
    assert loo.table.loc[dropped, "estimate"] == pytest.approx(direct.estimate, abs=1e-10)
    np.testing.assert_allclose(loo.counterfactuals[dropped].to_numpy(),
                               direct.path["counterfactual"].to_numpy(), atol=1e-10)
