"""Wild cluster bootstrap: exact agreement with a brute-force refit, enumeration, inversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utvardering._numerics.fixed_effects import Absorber, factorize
from utvardering.inference.wild_bootstrap import bootstrap_weights, wild_cluster_bootstrap


def _panel(n_units=12, n_t=8, seed=0, effect=0.3):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_t)
    time = np.tile(np.arange(n_t), n_units)
    treated = (unit < n_units // 3) & (time >= n_t // 2)
    x = rng.normal(size=len(unit))
    y = (rng.normal(size=n_units)[unit] + 0.1 * time + effect * treated + 0.5 * x
         + rng.normal(size=n_units)[unit] * rng.normal(size=len(unit)))
    return y, np.column_stack([treated.astype(float), x]), unit, time


def _brute_force(y, X, unit, time, V, weights=None, impose_null=True, param=0):
    """Refit the full dummy-variable regression for every draw (slow reference)."""
    D = np.column_stack([X, pd.get_dummies(unit, dtype=float).to_numpy(),
                         pd.get_dummies(time, dtype=float).to_numpy()[:, 1:]])
    w = np.ones(len(y)) if weights is None else weights
    sw = np.sqrt(w)
    pinv = np.linalg.pinv(D * sw[:, None])
    keep = [c for c in range(D.shape[1]) if c != param]
    if impose_null:
        fit = np.linalg.lstsq(D[:, keep] * sw[:, None], y * sw, rcond=None)[0]
        yhat = D[:, keep] @ fit
    else:
        yhat = D @ (pinv @ (y * sw))
    u = y - yhat
    g = unit.max() + 1
    n, k = D.shape[0], X.shape[1]
    ssc = g / (g - 1) * (n - 1) / (n - k)
    xtx = np.linalg.pinv((D * w[:, None]).T @ D)
    out = []
    b0 = 0.0 if impose_null else (pinv @ (y * sw))[param]
    for v in V:
        ys = yhat + v[unit] * u
        b = pinv @ (ys * sw)
        res = ys - D @ b
        sc = np.zeros((g, D.shape[1]))
        np.add.at(sc, unit, D * (w * res)[:, None])
        var = ssc * (xtx @ sc.T @ sc @ xtx)[param, param]
        out.append((b[param] - b0) / np.sqrt(var))
    return np.array(out)


@pytest.mark.parametrize("impose_null", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_brute_force_refits(impose_null, weighted):
    y, X, unit, time = _panel()
    w = np.random.default_rng(9).uniform(0.5, 2, len(y)) if weighted else None
    absorber = Absorber([unit, time], weights=w)
    res = wild_cluster_bootstrap(y, X, unit, absorber=absorber, n_draws=50, weights_type="webb",
                                 impose_null=impose_null, random_state=4, interval=False)
    V, _ = bootstrap_weights(50, 12, "webb", 4)
    expected = _brute_force(y, X, unit, time, V, weights=w, impose_null=impose_null)
    np.testing.assert_allclose(res.t_boot, expected, rtol=1e-8, atol=1e-10)


def test_full_enumeration_is_deterministic():
    y, X, unit, time = _panel(n_units=10)
    absorber = Absorber([unit, time])
    a = wild_cluster_bootstrap(y, X, unit, absorber=absorber, n_draws=9999, random_state=1)
    b = wild_cluster_bootstrap(y, X, unit, absorber=absorber, n_draws=9999, random_state=2)
    assert a.enumerated and a.n_draws == 2 ** 10
    assert a.p_value == b.p_value and a.interval == b.interval


def test_same_seed_same_result_and_webb_support():
    y, X, unit, time = _panel(n_units=30)
    absorber = Absorber([unit, time])
    a = wild_cluster_bootstrap(y, X, unit, absorber=absorber, n_draws=999, weights_type="webb",
                               random_state=11)
    b = wild_cluster_bootstrap(y, X, unit, absorber=absorber, n_draws=999, weights_type="webb",
                               random_state=11)
    assert a.p_value == b.p_value and a.interval == b.interval
    V, enumerated = bootstrap_weights(100, 5, "webb", 0)
    assert not enumerated
    assert set(np.round(np.abs(V).ravel() ** 2, 10)) <= {0.5, 1.0, 1.5}


@pytest.mark.parametrize("impose_null", [True, False])
def test_interval_endpoints_are_where_p_crosses_alpha(impose_null):
    y, X, unit, time = _panel(n_units=30, seed=5)
    absorber = Absorber([unit, time])
    kw = dict(absorber=absorber, n_draws=1999, random_state=3, impose_null=impose_null)
    res = wild_cluster_bootstrap(y, X, unit, **kw)
    lo, hi = res.interval
    assert lo < res.estimate < hi
    eps = 1e-6 * (hi - lo)
    for edge, outward in ((lo, -eps), (hi, eps)):
        inside = wild_cluster_bootstrap(y, X, unit, null=edge - outward, interval=False, **kw)
        outside = wild_cluster_bootstrap(y, X, unit, null=edge + outward * 1e3, interval=False, **kw)
        assert inside.p_value > 0.05 >= outside.p_value


def test_no_fixed_effects_with_intercept_matches_brute_force():
    rng = np.random.default_rng(2)
    g = 15
    cl = np.repeat(np.arange(g), 20)
    x = rng.normal(size=len(cl))
    y = 1 + 0.2 * x + rng.normal(size=g)[cl] + rng.normal(size=len(cl))
    X = np.column_stack([x, np.ones(len(cl))])
    res = wild_cluster_bootstrap(y, X, cl, n_draws=30, weights_type="webb", random_state=0,
                                 interval=False)
    V, _ = bootstrap_weights(30, g, "webb", 0)
    fit = np.linalg.lstsq(X[:, 1:], y, rcond=None)[0]
    u = y - X[:, 1:] @ fit
    xtx = np.linalg.inv(X.T @ X)
    ts = []
    for v in V:
        ys = X[:, 1:] @ fit + v[cl] * u
        b = xtx @ X.T @ ys
        r = ys - X @ b
        sc = np.zeros((g, 2))
        np.add.at(sc, cl, X * r[:, None])
        var = g / (g - 1) * (len(y) - 1) / (len(y) - 2) * (xtx @ sc.T @ sc @ xtx)[0, 0]
        ts.append(b[0] / np.sqrt(var))
    np.testing.assert_allclose(res.t_boot, ts, rtol=1e-8)


def test_cluster_labels_may_be_strings():
    y, X, unit, time = _panel()
    labels = np.array([f"area{u:02d}" for u in unit])  # same sort order as the codes
    a = wild_cluster_bootstrap(y, X, labels, absorber=Absorber([unit, time]), n_draws=99,
                               weights_type="webb", random_state=0, interval=False)
    b = wild_cluster_bootstrap(y, X, unit, absorber=Absorber([unit, time]), n_draws=99,
                               weights_type="webb", random_state=0, interval=False)
    assert a.p_value == b.p_value
    assert factorize(labels)[0].max() == 11


def test_too_many_clusters_is_refused():
    from utvardering.inference.wild_bootstrap import MAX_CLUSTERS

    n = MAX_CLUSTERS + 1
    y = np.arange(n, dtype=float)
    with pytest.raises(ValueError, match="clusters"):
        wild_cluster_bootstrap(y, np.column_stack([np.ones(n), y % 3]), np.arange(n), param=1)
