"""Repeated draws of the simulated annual world: false-flag rate, power and small-area MSE, and
the power at the minimum detectable change (:func:`calibrate_mdc`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.worlds.annual_survey import simulate_annual_followup
from ..errors import DesignError
from .run import follow_up

__all__ = ["calibrate", "calibrate_mdc", "summarise", "summarise_mdc"]


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


def calibrate_mdc(n_draws: int = 200, *, seed: int = 21, power: float = 0.8, n_planted: int = 40,
                  iterations: int = 3, year: int | None = None, fdr: float = 0.10, **world) -> dict:
    r"""Plant changes of exactly the size the follow-up says it could detect; measure the power.

    For draw :math:`i` (world seed ``seed * 100_003 + i``), a pilot follow-up of the world
    without real changes gives each cell's minimum detectable change
    (:func:`~utvardering.followup.detectable.detectable_change` at ``power``), and
    ``n_planted`` survey area × indicator cells that are not ``rare`` are chosen at random
    (half for the comparison with last year, half for the comparison with the area's own
    level), each to rise or fall at random. Then,
    ``iterations`` times, the world is simulated again with the same seed (same sample, same
    answers' random numbers) with each chosen cell changed by its MDC from the previous run,
    and the MDCs are recomputed from that run; a rising cell gets its ``mdc_up``, a falling
    one its ``mdc_down`` (both are MDCs at ``power`` for their direction; the other direction is
    used when the drawn one cannot be reached or leaves the world's range). Random directions
    matter: the follow-up tests change *beyond the city's*, and many planted changes in one
    direction would move the city's year mean and hide part of each (measured: 40 rises in one
    indicator hide about 30 % of each). The MDC depends on the Benjamini–Hochberg
    threshold the flags reach, and that threshold rises when real changes are planted; the
    iterations bring the planted MDC and the threshold of the run it is planted in together
    (a fixed point). The power is measured in the last run: the share of cells flagged by
    their comparison. If the MDC is right, it equals ``power``.

    A cell that cannot change by its MDC in either direction within the world's range (a share's
    [2 %, 98 %], the index's 0–6) is not planted and not counted (``dropped``).

    Parameters
    ----------
    n_draws : int, default 200
    seed : int, default 21
    power : float, default 0.8
        Power at which the MDCs are computed (and the target of the measured power).
    n_planted : int, default 40
        Cells with a planted change per draw (even; half per comparison).
    iterations : int, default 3
        Refinement runs after the pilot.
    year : int, optional
        Report year (default: the world's last year).
    fdr : float, default 0.10
    **world
        Options of :func:`~utvardering.data.worlds.annual_survey.simulate_annual_followup`
        (not ``changes`` or ``n_changes``).

    Returns
    -------
    dict
        ``power`` per comparison (``last``, ``baseline``, ``all``): ``measured``, ``mc_se``
        (standard error of the mean over draws of the per-draw share flagged), ``cells``;
        ``by_indicator`` and ``by_direction`` (measured power per group); ``full_sample``
        (cells in areas with ``n_sampled`` sampled); ``threshold_z`` (median BH
        :math:`z_{\text{crit}}` per comparison in the pilot and in the last run);
        ``mdc_shift`` (median and 90th percentile of :math:`|\log(\text{MDC}_{\text{last run}}
        / \text{MDC}_{\text{planted}})|`: how far the threshold still moved in the last
        run); ``cells`` (one row per planted cell and draw); ``n_draws``, ``dropped``,
        ``target``.
    """
    from ..data.worlds.annual_survey import ANNUAL_SURVEY_INDICATORS
    from .detectable import detectable_change

    if n_planted < 2 or n_planted % 2:
        raise DesignError(f"n_planted={n_planted!r} must be an even number of at least 2.")
    if iterations < 1:
        raise DesignError(f"iterations={iterations!r} must be at least 1.")
    for bad in ("changes", "n_changes"):
        if bad in world:
            raise DesignError(f"calibrate_mdc plants its own changes; do not pass {bad}=.")
    survey_names = list(ANNUAL_SURVEY_INDICATORS)
    rows, dropped = [], 0
    for i in range(n_draws):
        wseed = seed * 100_003 + i
        pilot = simulate_annual_followup(seed=wseed, n_changes=0, **world)
        y = year or pilot.info["change_year"]
        result = follow_up(pilot.survey, pilot.counts, year=y, fdr=fdr)
        mdc = detectable_change(result, power=power)
        rng = np.random.default_rng([seed, i, 7])
        # survey cells whose MDC the report shows (not rare), chosen at random
        ok = mdc[(mdc["comparison"] == "last") & mdc["indicator"].isin(survey_names) & ~mdc["rare"]]
        pick = rng.choice(len(ok), n_planted, replace=False)
        cells = pd.DataFrame({"unit": ok["unit"].to_numpy()[pick], "indicator": ok["indicator"].to_numpy()[pick],
                              "comparison": ["last", "baseline"] * (n_planted // 2),
                              "want": rng.choice(["up", "down"], n_planted)})
        base = pilot.truth[pilot.truth["time"] == y].set_index(["unit", "indicator"])["value"]
        cells["before"] = [float(base.loc[(u, k)]) for u, k in zip(cells["unit"], cells["indicator"], strict=True)]
        z_pilot = {c: mdc.attrs["thresholds"][c]["z_crit"] for c in ("last", "baseline")}
        keep = np.ones(len(cells), bool)
        for _ in range(iterations):
            # each cell changes by its MDC for the drawn direction (mdc_up or mdc_down), or for
            # the other direction when the drawn one is unreachable or leaves the world's range
            key = mdc.set_index(["unit", "indicator", "comparison"])
            rows_ = key.loc[list(zip(cells["unit"], cells["indicator"], cells["comparison"], strict=True))]
            upper = np.where(cells["indicator"] == "problem_index", 6.0, 0.98)
            lower = np.where(cells["indicator"] == "problem_index", 0.0, 0.02)
            before = cells["before"].to_numpy()
            up, down = rows_["mdc_up"].to_numpy(float), rows_["mdc_down"].to_numpy(float)
            up_ok = np.isfinite(up) & (before + up < upper)
            down_ok = np.isfinite(down) & (before - down > lower)
            go_up = np.where(cells["want"].to_numpy() == "up", up_ok | ~down_ok, ~(down_ok | ~up_ok))
            sign = np.where(go_up, 1.0, -1.0)
            size = np.where(go_up, up, down)
            keep = np.where(go_up, up_ok, down_ok)
            cells["planted"] = size
            cells["direction"] = np.where(sign > 0, "up", "down")
            planted = pd.DataFrame({"unit": cells["unit"], "indicator": cells["indicator"],
                                    "change": sign * size})[keep]
            w = simulate_annual_followup(seed=wseed, changes=planted, **world)
            result = follow_up(w.survey, w.counts, year=y, fdr=fdr)
            mdc = detectable_change(result, power=power)
        sampled = {c["unit"]: c["sampled"] for c in w.info["changes"]}
        ch = result.changes.set_index(["unit", "indicator"])
        key = mdc.set_index(["unit", "indicator", "comparison"])[["mdc_up", "mdc_down"]]
        for j, c in enumerate(cells.itertuples(index=False)):
            if not keep[j]:
                dropped += 1
                continue
            rows.append({"draw": i, "unit": c.unit, "indicator": c.indicator, "comparison": c.comparison,
                         "direction": c.direction, "before": c.before, "planted": c.planted,
                         "mdc_after": float(key.loc[(c.unit, c.indicator, c.comparison), f"mdc_{c.direction}"]),
                         "sampled": sampled.get(c.unit), "flag": bool(ch.loc[(c.unit, c.indicator),
                                                                        f"flag_{c.comparison}"]),
                         "z_pilot": z_pilot[c.comparison],
                         "z_final": mdc.attrs["thresholds"][c.comparison]["z_crit"]})
    return summarise_mdc(pd.DataFrame(rows), target=power, dropped=dropped,
                         full_sample=world.get("n_sampled", 300))


def summarise_mdc(cells: pd.DataFrame, *, target: float = 0.8, dropped: int = 0,
                  full_sample: int = 300) -> dict:
    """Aggregate the planted cells of :func:`calibrate_mdc` (runs can be concatenated first)."""
    draws = cells["draw"] if "run" not in cells else cells["run"].astype(str) + ":" + cells["draw"].astype(str)
    cells = cells.assign(_draw=draws)

    def power_of(g: pd.DataFrame) -> dict:
        per = g.groupby("_draw")["flag"].mean()
        return {"measured": float(g["flag"].mean()), "cells": len(g),
                "mc_se": float(per.std(ddof=1) / np.sqrt(len(per))) if len(per) > 1 else float("nan"),
                "binomial_se": float(np.sqrt(g["flag"].mean() * (1 - g["flag"].mean()) / max(len(g), 1)))}

    out: dict = {"target": target, "n_draws": int(cells["_draw"].nunique()), "dropped": dropped,
                 "cells": cells.drop(columns="_draw")}
    out["power"] = {c: power_of(g) for c, g in cells.groupby("comparison")}
    out["power"]["all"] = power_of(cells)
    full = cells[cells["sampled"] == full_sample]
    out["full_sample"] = {c: power_of(g) for c, g in full.groupby("comparison")}
    out["by_indicator"] = cells.groupby(["indicator", "comparison"])["flag"].agg(["mean", "size"]).reset_index()
    out["by_direction"] = cells.groupby(["direction", "comparison"])["flag"].agg(["mean", "size"]).reset_index()
    out["threshold_z"] = cells.groupby("comparison")[["z_pilot", "z_final"]].median().to_dict(orient="index")
    shift = np.abs(np.log(cells["mdc_after"] / cells["planted"]))
    out["mdc_shift"] = {"median": float(shift.median()), "p90": float(shift.quantile(0.9)),
                        "mean_ratio": float(np.exp(np.log(cells["mdc_after"] / cells["planted"]).mean()))}
    return out
