"""Repeated draws of the simulated annual world: false-flag rate, power and small-area MSE."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.worlds.annual_survey import simulate_annual_followup
from .run import follow_up

__all__ = ["calibrate", "summarise"]


def calibrate(n_draws: int = 200, *, seed: int = 1, year: int | None = None, fdr: float = 0.10,
              baseline: str = "level", **world) -> dict:
    """Run the follow-up on ``n_draws`` independent draws of the annual world.

    Parameters
    ----------
    n_draws : int, default 200
    seed : int, default 1
        Draw ``i`` uses world seed ``seed * 100_003 + i``.
    year : int, optional
        Report year (default: the world's change year, its last year).
    fdr, baseline
        Passed to :func:`~utvardering.followup.run.follow_up`.
    **world
        Options of :func:`~utvardering.data.worlds.annual_survey.simulate_annual_followup`.

    Returns
    -------
    dict
        Per comparison (``last``, ``baseline``): ``fdr`` (mean false discovery proportion,
        0 when nothing is flagged), its Monte Carlo standard error, ``power`` (share of real
        changes flagged) for all changes and for 8-point share changes in areas with 300
        sampled (``power_share_300``) with MC standard errors, ``flags_per_draw``; ``mse``:
        a table of mean squared errors of the direct and small-area estimates by indicator
        and respondents per area; ``n_draws``.
    """
    per_draw, errors = [], []
    for i in range(n_draws):
        w = simulate_annual_followup(seed=seed * 100_003 + i, **world)
        y = year or w.info["change_year"]
        r = follow_up(w.survey, w.counts, year=y, fdr=fdr, baseline=baseline)
        tr = w.truth[w.truth["time"] == y][["unit", "indicator", "changed"]]
        m = r.changes.merge(tr, on=["unit", "indicator"])
        ch = pd.DataFrame(w.info["changes"])
        big = set()
        if len(ch):
            sel = ch[(ch["scale"] == "share") & (ch["change"].abs() >= 0.08 - 1e-9)
                     & (ch["sampled"] >= 300)]
            big = set(zip(sel["unit"], sel["indicator"], strict=True))
        key = list(zip(m["unit"], m["indicator"], strict=True))
        is_big = np.array([k in big for k in key])
        for comp in ("last", "baseline"):
            flag = m[f"flag_{comp}"].to_numpy(bool)
            changed = m["changed"].to_numpy(bool)
            per_draw.append({
                "draw": i, "comparison": comp, "flags": int(flag.sum()),
                "fdp": float((flag & ~changed).sum() / max(flag.sum(), 1)),
                "found": int((flag & changed).sum()), "changed": int(changed.sum()),
                "found_big": int((flag & is_big).sum()), "big": int(is_big.sum()),
            })
        e = r.estimates[r.estimates["unit"] != "City"].merge(w.truth, on=["unit", "time", "indicator"])
        e = e[e["kind"] != "rate"]
        errors.append(pd.DataFrame({
            "indicator": e["indicator"], "n": e["n"],
            "se_direct": (e["estimate"] - e["value"]) ** 2, "se_sae": (e["sae"] - e["value"]) ** 2,
            "cover_direct": (e["ci_low"] <= e["value"]) & (e["value"] <= e["ci_high"]),
            "cover_sae": (e["sae_low"] <= e["value"]) & (e["value"] <= e["sae_high"]),
        }))
    out = summarise(pd.DataFrame(per_draw), pd.concat(errors, ignore_index=True), fdr)
    out["world"] = world
    return out


def summarise(per_draw: pd.DataFrame, errors: pd.DataFrame, fdr: float = 0.10) -> dict:
    """Aggregate per-draw flag counts and per-cell errors (as made by :func:`calibrate`);
    draws from several runs can be concatenated first. The inputs are kept in the output as
    ``per_draw`` and ``errors``.
    """
    d, err = per_draw, errors
    n_draws = int(d["draw"].nunique()) if "run" not in d else int(d[["run", "draw"]].drop_duplicates().shape[0])
    out: dict = {"n_draws": n_draws, "fdr_nominal": fdr, "per_draw": d, "errors": err}
    for comp, g in d.groupby("comparison"):
        power = g["found"].sum() / max(g["changed"].sum(), 1)
        power_big = g["found_big"].sum() / max(g["big"].sum(), 1)
        out[comp] = {
            "fdr": float(g["fdp"].mean()), "fdr_mc_se": float(g["fdp"].std(ddof=1) / np.sqrt(len(g))),
            "power": float(power),
            "power_mc_se": float(np.sqrt(power * (1 - power) / max(g["changed"].sum(), 1))),
            "power_share_300": float(power_big), "n_share_300": int(g["big"].sum()),
            "power_share_300_mc_se": float(np.sqrt(power_big * (1 - power_big) / max(g["big"].sum(), 1))),
            "flags_per_draw": float(g["flags"].mean()),
        }
    err["respondents"] = pd.cut(err["n"], [0, 50, 100, 150, np.inf],
                                labels=["1-50", "51-100", "101-150", ">150"])
    mse = err.groupby("respondents", observed=True).agg(
        cells=("se_direct", "size"), mse_direct=("se_direct", "mean"), mse_small_area=("se_sae", "mean"),
        coverage_direct=("cover_direct", "mean"), coverage_small_area=("cover_sae", "mean"))
    mse["ratio"] = mse["mse_small_area"] / mse["mse_direct"]
    out["mse"] = mse.reset_index()
    by_ind = err.groupby("indicator").agg(mse_direct=("se_direct", "mean"), mse_small_area=("se_sae", "mean"))
    by_ind["ratio"] = by_ind["mse_small_area"] / by_ind["mse_direct"]
    out["mse_by_indicator"] = by_ind.reset_index()
    return out
