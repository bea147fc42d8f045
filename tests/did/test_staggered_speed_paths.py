"""Fast paths of the staggered estimators give the same answers as the general code.

Covers: ATT(g,t) from cohort means (no covariates) against the per-cell 2×2 estimators,
the fallback for trimmed cells, the per-cohort-block storage of the influence functions
(every product against the dense matrix), the share-weight influence without the (n, K) matrix,
cluster sums, the block-wise multiplier bootstrap, the reshape (no pivot) of balanced
panels, and validation on unsorted input / string months.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from utvardering import Study
from utvardering.data.schema import validate_panel
from utvardering.did import callaway_santanna
from utvardering.did.staggered.aggregate import (
    CohortShares,
    wald_pretest,
    weight_influence,
)
from utvardering.did.staggered.att_gt import att_gt_means, att_gt_panel
from utvardering.did.staggered.influence import CellInfluence, Inference, MultiplierStream

COLUMNS = {"unit": "countyreal", "time": "year", "outcome": "lemp", "cohort": "first.treat"}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(resources.files("utvardering") / "data" / "files" / "mpdta.csv")


def _panel(n=300, n_times=9, cohorts=(3.0, 5.0, 7.0), seed=0):
    rng = np.random.default_rng(seed)
    cohort = rng.choice(np.array([np.inf, *cohorts]), size=n)
    times = np.arange(1.0, n_times + 1)
    y = rng.normal(size=(n, 1)) + 0.2 * times + rng.normal(size=(n, n_times))
    y += np.where(times[None, :] >= cohort[:, None], 1.0, 0.0)
    return y, cohort, times


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_cohort_means_match_per_cell_estimators(method, control_group, base_period):
    y, cohort, times = _panel()
    weights = np.random.default_rng(1).uniform(0.5, 2.0, len(cohort))
    weights /= weights.mean()
    options = {"weights": weights, "control_group": control_group, "anticipation": 1,
               "base_period": base_period, "method": method}
    fast = att_gt_means(y, cohort, times, **options)
    # zero covariate columns: the per-cell did_panel_2x2 path with an intercept-only design
    slow = att_gt_panel(y, cohort, times, covariates=np.zeros((*y.shape, 0)), **options)
    for name in ("group", "time", "base", "n_treated", "n_control"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    assert fast.skipped == slow.skipped
    np.testing.assert_allclose(fast.att, slow.att, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.influence.dense(), slow.influence.dense(), rtol=0, atol=1e-10)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_trimmed_cells_fall_back_to_the_2x2_estimator():
    # 2 never-treated units against 400 treated: propensity 0.995 > trimming level
    y, _, times = _panel(n=402)
    cohort = np.r_[np.full(400, 5.0), np.inf, np.inf]
    fast = att_gt_means(y, cohort, times)
    slow = att_gt_panel(y, cohort, times, covariates=np.zeros((*y.shape, 0)))
    np.testing.assert_array_equal(np.isnan(fast.att), np.isnan(slow.att))
    np.testing.assert_allclose(fast.att, slow.att, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.influence.dense(), slow.influence.dense(), rtol=0, atol=1e-10)


def test_share_influence_product_equals_dense_matrix():
    rng = np.random.default_rng(3)
    unit_group = rng.choice(np.array([np.inf, 3.0, 5.0, 8.0]), size=200)
    unit_weight = rng.uniform(0.5, 1.5, 200)
    cell_group = np.array([3.0, 3.0, 5.0, 5.0, 5.0, 8.0, 9.0])  # 9: a cohort with no units
    pg = np.array([np.mean(unit_weight * (unit_group == g)) for g in cell_group]) + 0.01
    keep = np.array([0, 2, 3, 5, 6])
    a = rng.normal(size=keep.size)
    dense = weight_influence(keep, pg, cell_group, unit_group, unit_weight) @ a
    shares = CohortShares(pg, cell_group, unit_group, unit_weight)
    np.testing.assert_allclose(shares.dot(keep, a), dense, rtol=0, atol=1e-13)


def test_cluster_sums_and_gram_match_direct_sums():
    rng = np.random.default_rng(4)
    psi = rng.normal(size=(500, 6))
    cluster = rng.integers(0, 37, 500)
    inference = Inference(n=500, cluster=cluster)
    direct = np.zeros((37, 6))
    np.add.at(direct, cluster, psi)
    np.testing.assert_allclose(inference.cluster_sums(psi), direct, atol=1e-12)
    np.testing.assert_allclose(inference.vcov(psi), direct.T @ direct / 500**2, atol=1e-15)


@pytest.mark.parametrize("kind", ["mammen", "rademacher"])
def test_multiplier_stream_is_the_same_bootstrap_in_blocks(kind):
    rng = np.random.default_rng(5)
    psi = rng.normal(size=(300, 4))
    stream = MultiplierStream(199, 300, kind, seed=9, block_elements=300 * 7)
    matrix = stream.product(np.eye(300))  # the multipliers themselves, block by block
    assert set(np.unique(np.round(matrix, 12))) <= (
        {-1.0, 1.0} if kind == "rademacher" else set(np.round([(1 - 5**0.5) / 2,
                                                               (1 + 5**0.5) / 2], 12)))
    by_stream = Inference(n=300, multipliers=stream).standard_errors(psi)
    in_memory = Inference(n=300, multipliers=matrix).standard_errors(psi)
    np.testing.assert_allclose(by_stream[0], in_memory[0], rtol=1e-12)
    assert by_stream[1] == pytest.approx(in_memory[1], rel=1e-12)
    again = Inference(n=300, multipliers=stream).standard_errors(psi)
    np.testing.assert_array_equal(again[0], by_stream[0])


def test_unsorted_input_gives_identical_results(mpdta):
    shuffled = mpdta.sample(frac=1.0, random_state=7).reset_index(drop=True)
    a = callaway_santanna(mpdta, **COLUMNS)
    b = callaway_santanna(shuffled, **COLUMNS)
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt, check_exact=False, rtol=0, atol=1e-13)
    for kind in ("simple", "group", "dynamic", "calendar"):
        x, y = a.aggregate(kind), b.aggregate(kind)
        assert x.estimate == pytest.approx(y.estimate, abs=1e-13)
        assert x.se == pytest.approx(y.se, abs=1e-13)


def test_unbalanced_panel_uses_pivot_and_agrees(mpdta):
    # dropping one row makes the panel unbalanced: the reshape path is not taken
    kw = {"outcome": "lemp", "unit": "countyreal", "time": "year", "cohort": "first.treat",
          "min_pre_periods": 1}
    study = Study(mpdta, **kw)
    assert study._grid() == (500, 5)
    gone = mpdta.loc[3, ["countyreal", "year"]].tolist()
    gappy = Study(mpdta.drop(index=[3]), allow_gaps=True, **kw)
    assert gappy._grid() is None
    units = [gone[0], *study.units[5:40]]
    fast = study.wide(units=units)
    pivot = study.data.pivot(index="countyreal", columns="year", values="lemp").loc[units]
    pd.testing.assert_frame_equal(fast, pivot)
    expected = pivot.copy()
    expected.loc[gone[0], gone[1]] = np.nan
    pd.testing.assert_frame_equal(gappy.wide(units=units), expected)


def test_wide_reshape_matches_pivot_for_string_units_and_months():
    rng = np.random.default_rng(8)
    units = [f"område {c}" for c in "BCAED"]
    months = pd.period_range("2019-11", periods=6, freq="M").astype(str)
    frame = pd.DataFrame({"unit": np.repeat(units, 6), "time": np.tile(months, 5),
                          "y": rng.poisson(4.0, 30)}).sample(frac=1.0, random_state=1)
    study = Study(frame, outcome="y", treated=["område A"], start="2020-02")
    assert study._grid() == (5, 6)
    wanted = ["område E", "område A", "område C"]
    pivot = study.data.pivot(index="unit", columns="time", values="y").loc[wanted]
    pd.testing.assert_frame_equal(study.wide(units=wanted), pivot)
    assert list(study.data["time"].astype(str)) == list(np.tile(months, 5))


def test_validation_sorts_and_parses_like_the_row_wise_reference():
    frame = pd.DataFrame({"unit": [10, 2, 10, 2, 1, 1], "time": ["2018-02", "2018M01",
                                                                 "2018/01", "2018-02",
                                                                 "201802", "2018-01"],
                          "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    panel = validate_panel(frame, outcomes="y")
    # sorted by the unit's string form ('1' < '10' < '2') and then by period
    assert panel.data["unit"].tolist() == [1, 1, 10, 10, 2, 2]
    assert panel.data["time"].astype(str).tolist() == ["2018-01", "2018-02"] * 3
    assert panel.data["y"].tolist() == [6.0, 5.0, 3.0, 1.0, 2.0, 4.0]


@pytest.mark.parametrize("cluster", [None, "state"])
def test_bootstrap_from_linear_forms_equals_direct_draws(mpdta, cluster):
    from utvardering.did.staggered.aggregate import aggregate_gt

    data = mpdta.assign(state=mpdta["countyreal"] // 1000)
    effect = callaway_santanna(data, **COLUMNS, cluster=cluster, inference="bootstrap", n_draws=199,
                               random_state=3)
    d, inf = effect._design, effect._influence
    inference = d["inference"]
    for kind in ("simple", "group", "dynamic", "calendar"):
        agg = aggregate_gt(d["att"], inf, d["group"], d["time"], d["unit_group"],
                           d["unit_weight"], kind, cohort_values=d["cohort_values"])
        pairs = [(agg.influence[:, None], agg.form)]
        if kind != "simple":
            pairs.append((agg.path_influence, agg.path_form))
        for psi, form in pairs:
            fast, crit_fast = inference.standard_errors(psi, form)
            direct, crit_direct = inference.standard_errors(psi)
            np.testing.assert_allclose(fast, direct, rtol=1e-10)
            assert crit_fast == pytest.approx(crit_direct, rel=1e-10)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("trimmed", [False, True])
def test_releasing_the_outcomes_changes_nothing(trimmed):
    y, cohort, times = _panel(n=402)
    if trimmed:  # a cell that needs the 2×2 fallback keeps the outcomes until the end
        cohort = np.r_[np.full(400, 5.0), np.inf, np.inf]
    calls = []
    kept = att_gt_means(y, cohort, times)
    released = att_gt_means(y.copy(), cohort, times, release=lambda: calls.append(1))
    assert calls == [1]
    np.testing.assert_array_equal(released.att, kept.att)
    np.testing.assert_array_equal(released.influence.dense(), kept.influence.dense())


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_block_storage_products_equal_dense_products(control_group):
    y, cohort, times = _panel(n=250)
    stored = att_gt_means(y, cohort, times, control_group=control_group).influence
    dense = stored.dense()
    n, k = dense.shape
    # a cell is stored only for its cohort and comparison units: far fewer values than n * k
    assert sum(b.size for b in stored.blocks) < 0.8 * n * k
    assert np.count_nonzero(dense) <= sum(b.size for b in stored.blocks)
    rng = np.random.default_rng(11)
    weights = rng.normal(size=(k, 4)) * (rng.random((k, 4)) < 0.3)
    cluster = rng.integers(0, 17, n)
    mult = rng.normal(size=(7, n))
    for inf in (stored, CellInfluence.from_dense(dense)):
        np.testing.assert_allclose(inf.dot_rows(weights), (dense @ weights).T, atol=1e-12)
        np.testing.assert_allclose(inf.left_multiply(mult), mult @ dense, atol=1e-11)
        direct = np.zeros((17, k))
        np.add.at(direct, cluster, dense)
        np.testing.assert_allclose(inf.cluster_sums(cluster, 17), direct, atol=1e-11)
        np.testing.assert_allclose(inf.sum_squares(), (dense**2).sum(axis=0), rtol=1e-12)
        pick = rng.random(k) < 0.5
        np.testing.assert_allclose(inf.gram(pick), dense[:, pick].T @ dense[:, pick],
                                   rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("cluster", [False, True])
@pytest.mark.parametrize("draws", [0, 99])
def test_inference_from_block_storage_equals_dense(cluster, draws):
    y, cohort, times = _panel(n=250)
    gt = att_gt_means(y, cohort, times, control_group="not_yet_treated")
    dense = gt.influence.dense()
    rng = np.random.default_rng(12)
    codes = rng.integers(0, 40, 250) if cluster else None
    groups = 40 if cluster else 250
    mult = rng.choice([-1.0, 1.0], size=(draws, groups)) if draws else None
    values = np.unique(cohort)
    results = []
    for inf in (gt.influence, dense):
        inference = Inference(n=250, cluster=codes, multipliers=mult)
        inference.prepare_bootstrap(inf, cohort, np.ones(250), values)
        pre = gt.group > times[gt.time]
        results.append((inference.standard_errors(inf), inference.vcov(inf),
                        wald_pretest(gt.att, inf, pre, inference)[0]))
    (se_a, crit_a), vcov_a, wald_a = results[0]
    (se_b, crit_b), vcov_b, wald_b = results[1]
    np.testing.assert_allclose(se_a, se_b, rtol=1e-11)
    assert crit_a == pytest.approx(crit_b, rel=1e-11)
    np.testing.assert_allclose(vcov_a, vcov_b, rtol=1e-10, atol=1e-15)
    assert wald_a["pretrend_wald"] == pytest.approx(wald_b["pretrend_wald"], rel=1e-9)
    assert wald_a["pretrend_df"] == wald_b["pretrend_df"]


def test_result_keeps_block_storage_not_the_dense_matrix(mpdta):
    effect = callaway_santanna(mpdta, **COLUMNS)
    stored = effect._cell_influence
    assert isinstance(stored, CellInfluence)
    # one value per cell and unit of its cohort or comparison group (not n per cell)
    table = effect.att_gt
    assert sum(b.size for b in stored.blocks) == int((table["n_treated"]
                                                      + table["n_control"]).sum())
    assert "_cell_influence" not in effect.to_dict()
    np.testing.assert_array_equal(effect._influence, stored.dense())
