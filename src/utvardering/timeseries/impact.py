r"""Impact statistics from counterfactual draws (pure numpy), as CausalImpact reports them.

With observed post-period outcomes :math:`y_t`, posterior predictive counterfactual draws
:math:`\tilde y^{(s)}_t` (state plus observation noise / count sampling) and their
conditional means :math:`\hat y^{(s)}_t`, following Brodersen et al. (2015):

- prediction: :math:`\bar{\hat y}` = mean over draws of the state; interval and s.d. from
  :math:`\tilde y` averaged (or summed) over the post-period;
- absolute effect :math:`\bar y - \bar{\hat y}` with interval and s.d. of
  :math:`\bar y - \bar{\tilde y}^{(s)}`;
- relative effect: mean of :math:`\sum_t y_t / \sum_t \tilde y^{(s)}_t - 1`;
- one-sided posterior tail-area probability
  :math:`p = \min(\#\{s: \Sigma\tilde y^{(s)} \ge \Sigma y\}, \#\{s: \Sigma\tilde y^{(s)} \le \Sigma y\}) / (S + 1)`,
  counting the observed sum itself once in each set, and the posterior probability of a
  causal effect :math:`1 - p`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["cumulative_frame", "impact_table", "path_frame", "tail_probability"]


def tail_probability(y_sum: float, sample_sums: np.ndarray) -> float:
    """CausalImpact's one-sided posterior tail-area probability of the observed total."""
    both = np.append(sample_sums, y_sum)
    return float(min((both >= y_sum).sum(), (both <= y_sum).sum()) / (len(sample_sums) + 1))


def impact_table(y_post: np.ndarray, samples: np.ndarray, state: np.ndarray,
                 level: float = 0.95) -> pd.DataFrame:
    """CausalImpact's summary table.

    Parameters
    ----------
    y_post : numpy.ndarray
        Observed post-period outcome, shape ``(H,)``.
    samples : numpy.ndarray
        Counterfactual outcome draws, ``(S, H)``.
    state : numpy.ndarray
        Counterfactual conditional means, ``(S, H)``.
    level : float
        Interval coverage.

    Returns
    -------
    pandas.DataFrame
        Rows ``Average`` and ``Cumulative``; columns ``actual, pred, pred_lower,
        pred_upper, pred_sd, abs_effect, abs_effect_lower, abs_effect_upper, abs_effect_sd,
        rel_effect, rel_effect_lower, rel_effect_upper, rel_effect_sd``.
    """
    q = [(1 - level) / 2, (1 + level) / 2]
    n_h = len(y_post)
    rows = {}
    sums = samples.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = y_post.sum() / sums - 1.0
    rel = rel[np.isfinite(rel)]
    for name, agg in (("Average", lambda a: a.mean(axis=-1)), ("Cumulative", lambda a: a.sum(axis=-1))):
        pred_draws = agg(samples)
        eff_draws = agg(np.broadcast_to(y_post, samples.shape)) - pred_draws
        actual = float(agg(y_post))
        pred = float(agg(state.mean(axis=0)))
        rows[name] = {
            "actual": actual, "pred": pred,
            "pred_lower": float(np.quantile(pred_draws, q[0])),
            "pred_upper": float(np.quantile(pred_draws, q[1])),
            "pred_sd": float(np.std(pred_draws, ddof=1)),
            "abs_effect": actual - pred,
            "abs_effect_lower": float(np.quantile(eff_draws, q[0])),
            "abs_effect_upper": float(np.quantile(eff_draws, q[1])),
            "abs_effect_sd": float(np.std(eff_draws, ddof=1)),
            "rel_effect": float(np.mean(rel)) if rel.size else np.nan,
            "rel_effect_lower": float(np.quantile(rel, q[0])) if rel.size else np.nan,
            "rel_effect_upper": float(np.quantile(rel, q[1])) if rel.size else np.nan,
            "rel_effect_sd": float(np.std(rel, ddof=1)) if rel.size > 1 else np.nan,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "statistic"
    table.attrs["n_post"] = n_h
    return table


def path_frame(index: pd.Index, y: np.ndarray, state: np.ndarray, samples: np.ndarray,
               level: float = 0.95) -> pd.DataFrame:
    """Pointwise path: observed, counterfactual (mean, interval) and effect (interval)."""
    q = [(1 - level) / 2, (1 + level) / 2]
    pred = state.mean(axis=0)
    lo, hi = np.quantile(samples, q, axis=0)
    frame = pd.DataFrame({
        "observed": y, "counterfactual": pred, "counterfactual_low": lo,
        "counterfactual_high": hi, "effect": y - pred, "low": y - hi, "high": y - lo,
    }, index=index)
    frame.index.name = "time"
    return frame


def cumulative_frame(index: pd.Index, y: np.ndarray, state: np.ndarray, samples: np.ndarray,
                     level: float = 0.95) -> pd.DataFrame:
    """Cumulative effect over the post-period: point (from the mean) and interval (draws)."""
    q = [(1 - level) / 2, (1 + level) / 2]
    point = np.cumsum(y - state.mean(axis=0))
    draws = np.cumsum(y[None, :] - samples, axis=1)
    lo, hi = np.quantile(draws, q, axis=0)
    frame = pd.DataFrame({"effect": point, "low": lo, "high": hi}, index=index)
    frame.index.name = "time"
    return frame
