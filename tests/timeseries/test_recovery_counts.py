r"""Recovery study for the count BSTS model (slow): interval coverage of the rate ratio.

Issue acceptance: on simulated monthly counts (mean 2–6 a month, 60 pre-periods, 36
post-periods, 3–10 controls) the Poisson / negative-binomial model's 95 % interval for the
rate ratio covers the truth 88–99 % of the time over at least 100 seeds, and the Gaussian
model's coverage on the same data is reported next to it.

Data-generating process
-----------------------
The library's shootings world, :func:`utvardering.data.worlds.shootings.simulate_shootings`,
set to the issue's shape. For seed :math:`s` a generator ``default_rng(s)`` draws

- Malmö's expected level :math:`\lambda \sim U(2, 6)` shootings a month (``malmo_level``);
- the number of controls :math:`k \sim U\{3, \dots, 10\}` and which :math:`k` of the 19 donor
  cities they are (uniformly, without replacement);

and the world is simulated with ``seed=s``, months 2014-01 … 2021-12 and the programme from
2019-01 (60 pre-months, 36 post-months), a true multiplicative effect
:math:`\theta = 0.7` on Malmö's expected rate and no confounding shock
(``rimfrost_ratio=1``). Expected counts share a seasonal pattern, national trend and AR(1)
national shocks across cities (the common factor the controls carry), plus a city-specific
AR(1) "conflict" process and gamma frailty (negative-binomial counts, :math:`\phi = 0.1`).
The donors' monthly counts are the controls; the model is misspecified in the way real data
are (the conflict process is autocorrelated noise, not a random walk).

Truth
-----
The model's ``rate_ratio_interval`` is the interval of
:math:`\sum_{t\in\text{post}} y_t / \sum_{t\in\text{post}} \tilde y^{(s)}_t` where
:math:`\tilde y^{(s)}_t` are posterior *predictive* counterfactual counts (count sampling
included, see ``causal_impact._assemble``). Its target is therefore the **realised** rate
ratio :math:`\sum_t y_t / \sum_t y^0_t` with :math:`y^0_t` the simulated untreated counts
(``truth["realised_ratio"]``, column ``shootings_y0``), not the ratio of expected rates
:math:`\sum_t\mu^1_t/\sum_t\mu^0_t = \theta` (``truth["expected_ratio"]``). Because the
interval is monotone in :math:`\sum_t\tilde y_t`, covering the realised ratio is the same
event as the predictive interval of the post-period counterfactual total covering
:math:`\sum_t y^0_t`; it does not depend on how :math:`y` and :math:`y^0` are coupled. Coverage
of :math:`\theta` is reported for information only.

The Gaussian model has no ``rate_ratio``; its interval for the same quantity is
``1 + relative_interval`` (quantiles of :math:`\sum_t y_t/\sum_t\tilde y_t - 1` over the
same kind of predictive draws, :func:`utvardering.timeseries.impact.impact_table`).

Sampler settings: 2 chains × 500 tuning + 500 draws, the library's default priors and
backends (``backend="auto"``: the Pólya-Gamma Gibbs sampler for the negative binomial, NUTS
for the Poisson, the Gibbs sampler for the Gaussian model). With ``UTV_TEST_FAST=1``: 10
seeds, 2 chains × 200 + 200 and the wider band [0.7, 1.0] (6 or fewer of 10 covering has
probability 0.001 when the coverage is 0.95, binomial).

Worlds: the shootings world without its national trend (:data:`WORLD`), so that Malmö's
untreated rate does not drift between the pre- and the post-period (all three likelihoods),
and the default world with its 4 %/year national trend (:data:`DRIFT`; the untreated rate
drifts up by about 18 % between the period means; negative binomial only, the default count
model, whose Gibbs sampler takes about a second a fit).

Measured (26 November 2026, seeds 0–99) with the count level prior scaled by the s.d. of
the log rate net of Poisson noise and share 0.1 (``design.PRIOR_LEVEL_SD``): see
``docs/methods/bsts_recovery.md`` for the numbers. With the earlier default (share 0.01 of
the s.d. of the raw log counts) the negative binomial covered 0.94 without the trend and
0.75 with it: the level was too stiff to follow the drift.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from utvardering.data.worlds.shootings import CITIES, simulate_shootings
from utvardering.timeseries.causal_impact import causal_impact

import budget

N_SEEDS = budget.draws(full=100, fast=10)
DRAWS = budget.draws(full=500, fast=200)
TUNE = budget.draws(full=500, fast=200)
CHAINS = 2
# Acceptance band from the issue (≥100 seeds); FAST: see the module docstring.
BAND = budget.choose(full=(0.88, 0.99), fast=(0.7, 1.0))
THETA = 0.7
FIRST, START, LAST = "2014-01", "2019-01", "2021-12"
DONORS = tuple(c[0] for c in CITIES if c[0] != "Malmö")
LIKELIHOODS = ("poisson", "negative_binomial", "gaussian")
# The acceptance world: no national trend, so Malmö's untreated rate does not drift between
# the pre- and the post-period. With the default 4 %/year trend the local-level forecast
# misses the drift and coverage falls (documented failure mode, docs/methods/bsts_recovery.md).
WORLD = {"national_trend": 0.0}
#: The default shootings world (4 %/year national trend): the untreated rate drifts.
DRIFT = {"national_trend": 0.04}

pytestmark = pytest.mark.slow


def simulate(seed: int, **world):
    """One replication: outcome + controls frame, pre/post windows and the truth.

    ``world`` overrides further arguments of :func:`simulate_shootings` on top of
    :data:`WORLD` (sensitivity runs, e.g. ``national_trend=0.04`` for the drifting default).

    Returns
    -------
    tuple
        ``(frame, pre, post, truth)``; ``frame`` has Malmö's shootings first and one column
        per donor city, indexed by month; ``truth`` holds ``realised_ratio``,
        ``expected_ratio``, ``level``, ``k`` and the counterfactual post-period total
        ``y0_sum``.
    """
    rng = np.random.default_rng(seed)
    level = float(rng.uniform(2.0, 6.0))
    k = int(rng.integers(3, 11))
    donors = [str(d) for d in rng.choice(DONORS, size=k, replace=False)]
    world = {**WORLD, **world}
    df = simulate_shootings(seed=seed, rate_ratio=THETA, start=START, first=FIRST, last=LAST,
                            malmo_level=level, units=["Malmö", *donors], **world)
    wide = df.pivot(index="time", columns="unit", values="shootings")
    frame = wide[["Malmö", *sorted(donors)]]
    malmo = df[df["unit"] == "Malmö"].set_index("time")
    post_mask = malmo.index >= START
    t = df.attrs["truth"]
    truth = {"realised_ratio": t["realised_ratio"], "expected_ratio": t["expected_ratio"],
             "level": level, "k": k,
             "y0_sum": int(malmo.loc[post_mask, "shootings_y0"].sum()),
             "y_sum": int(malmo.loc[post_mask, "shootings"].sum())}
    pre = (frame.index[0], frame.index[~post_mask][-1])
    post = (frame.index[post_mask][0], frame.index[-1])
    return frame, pre, post, truth


def fit_one(seed: int, likelihood: str, *, draws: int = DRAWS, tune: int = TUNE,
            chains: int = CHAINS, world: dict | None = None, **options) -> dict:
    """Fit one replication with one likelihood and summarise the rate-ratio interval.

    ``options`` go to :func:`causal_impact` unchanged (sensitivity runs, e.g.
    ``prior_level_sd``) and ``world`` to :func:`simulate`; the test itself uses the
    library's defaults.
    """
    frame, pre, post, truth = simulate(seed, **(world or {}))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eff = causal_impact(frame, pre_period=pre, post_period=post, likelihood=likelihood,
                            draws=draws, tune=tune, chains=chains, random_state=seed,
                            **options)
    wall = time.perf_counter() - t0
    if likelihood == "gaussian":
        estimate = 1.0 + eff.relative
        lo, hi = (1.0 + r for r in eff.relative_interval)
    else:
        estimate = eff.rate_ratio
        lo, hi = eff.rate_ratio_interval
    d = eff.diagnostics
    post_path = eff.path.loc[eff.path.index >= post[0]]
    return {
        "seed": seed, "likelihood": likelihood, **truth,
        "estimate": float(estimate), "low": float(lo), "high": float(hi),
        "covers": bool(lo <= truth["realised_ratio"] <= hi),
        "covers_theta": bool(lo <= THETA <= hi),
        "negative_low": bool((post_path["counterfactual_low"] < 0).any()),
        "r_hat": float(d.get("r_hat_max", np.nan)), "divergences": int(d.get("divergences", 0)),
        "ess_bulk": float(d.get("ess_bulk_min", np.nan)), "backend": d.get("backend"),
        "sample_seconds": float(d.get("sample_seconds", np.nan)),
        "compile_seconds": float(d.get("compile_seconds", 0.0)), "wall_seconds": wall,
    }


def summarise(records: list[dict]) -> dict:
    """Coverage, mean width, mean estimate vs truth and sampler health for one likelihood."""
    def col(name):
        return np.array([r[name] for r in records], dtype=float)

    fresh = [r["wall_seconds"] for r in records if r["compile_seconds"] == 0.0]
    return {
        "n": len(records),
        "coverage": float(col("covers").mean()),
        "coverage_theta": float(col("covers_theta").mean()),
        "mean_width": float(np.mean(col("high") - col("low"))),
        "mean_estimate": float(col("estimate").mean()),
        "mean_truth": float(col("realised_ratio").mean()),
        "mean_error": float(np.mean(col("estimate") - col("realised_ratio"))),
        "rhat_gt_1.01": int((col("r_hat") > 1.01).sum()),
        "with_divergences": int((col("divergences") > 0).sum()),
        "negative_low": int(col("negative_low").sum()),
        "seconds_per_fit": float(np.median(fresh)) if fresh else float("nan"),
    }


def format_row(likelihood: str, s: dict) -> str:
    """One printed line of the recovery table."""
    return (f"{likelihood:18s} n={s['n']:3d} coverage={s['coverage']:.3f} "
            f"(theta {s['coverage_theta']:.3f}) width={s['mean_width']:.3f} "
            f"estimate={s['mean_estimate']:.3f} truth={s['mean_truth']:.3f} "
            f"rhat>1.01={s['rhat_gt_1.01']} divergent={s['with_divergences']} "
            f"negative_low={s['negative_low']} s/fit={s['seconds_per_fit']:.1f}")


def test_simulated_world_has_the_issue_shape():
    for seed in range(3):
        frame, pre, _, truth = simulate(seed)
        n_pre = int((frame.index <= pre[1]).sum())
        assert (n_pre, len(frame) - n_pre) == (60, 36)
        assert 3 <= frame.shape[1] - 1 <= 10 and truth["k"] == frame.shape[1] - 1
        assert 2.0 <= truth["level"] <= 6.0
        # realised ratio from the world's own counterfactual counts
        assert truth["realised_ratio"] == pytest.approx(truth["y_sum"] / truth["y0_sum"])
        assert truth["expected_ratio"] == pytest.approx(THETA)


def test_rate_ratio_interval_coverage():
    results = {lik: [fit_one(seed, lik) for seed in range(N_SEEDS)] for lik in LIKELIHOODS}
    summary = {lik: summarise(recs) for lik, recs in results.items()}
    print(f"\nrecovery on the shootings world: {N_SEEDS} seeds, {CHAINS} chains x {TUNE} tune "
          f"+ {DRAWS} draws; truth = realised rate ratio sum(y)/sum(y0)")
    for lik in LIKELIHOODS:
        print(format_row(lik, summary[lik]))
    for lik in ("poisson", "negative_binomial"):
        assert BAND[0] <= summary[lik]["coverage"] <= BAND[1], (lik, summary[lik])
    # The Gaussian model's coverage is reported, not bounded; what holds by construction is
    # that it is computed for every seed, and on counts this small its pointwise
    # counterfactual intervals reach below zero for some seeds (the count models' never do).
    gauss = summary["gaussian"]
    assert gauss["n"] == N_SEEDS and 0.0 <= gauss["coverage"] <= 1.0
    assert gauss["negative_low"] > 0
    assert summary["poisson"]["negative_low"] == summary["negative_binomial"]["negative_low"] == 0


def test_rate_ratio_interval_coverage_drifting_world():
    # The default count model (negative binomial, Gibbs) on the default world, whose untreated
    # rate drifts; before the count level prior was rescaled this covered 0.75.
    records = [fit_one(seed, "negative_binomial", world=DRIFT) for seed in range(N_SEEDS)]
    s = summarise(records)
    print(f"\nrecovery on the drifting shootings world (4 %/year national trend): {N_SEEDS} "
          f"seeds, {CHAINS} chains x {TUNE} tune + {DRAWS} draws")
    print(format_row("negative_binomial", s))
    assert BAND[0] <= s["coverage"] <= BAND[1], s
    assert s["negative_low"] == 0
