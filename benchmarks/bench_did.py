"""Difference-in-differences benchmarks (issue 6): ours against the Python DiD peers.

Run: ``/work/venv/bin/python benchmarks/bench_did.py [--quick] [--only TEXT]``
(``--only CS`` runs just the Callaway–Sant'Anna tasks).
Tasks: mpdta Callaway–Sant'Anna (analytic and 999-draw multiplier bootstrap, all four
aggregations); staggered panels of 2,000 to 200,000 units × 20 periods, six cohorts (time
and peak memory; the growth of time with units as a log-log slope); HonestDiD on ehec
(relative magnitudes and smoothness grids); wild cluster bootstrap (9,999 draws, 50
clusters, 10,000 obs); castle TWFE and Poisson; the reliability review's scale case: 2,000
units × 200 periods with 40 cohorts through Callaway–Sant'Anna, Sun–Abraham and the imputation
estimator (time and peak memory; ``--only scale``) against diff-diff and pyfixest.

Peers run in ``benchmarks/.venv-peers`` (:mod:`peers`), or, for the scale case, in
``$UTV_PEERS_DIR/<package>/bin/python`` (default ``/work/peers``) when that exists — one venv
per peer, installed from PyPI (``python3 -m venv /work/peers/pyfixest &&
/work/peers/pyfixest/bin/pip install pyfixest "pandas<3"``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
from harness import Row, Snippet, data_path, have, print_table, reference, save
from options import parse

AGGS = ("simple", "group", "dynamic", "calendar")
KEYS = tuple(k + s for k in AGGS for s in ("", "_se"))
RM_GRID = (0.5, 1.0, 1.5, 2.0)
SD_GRID = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05)
#: HonestDiD R README (REFERENCES.md): robust 95% intervals for the 2014 effect
R_RM = {0.5: (0.0240, 0.0672), 1.0: (0.0170, 0.0720), 1.5: (0.00824, 0.0797),
        2.0: (-0.000916, 0.0881)}
R_SD = {0.0: (0.0259, 0.0607), 0.01: (0.0132, 0.0787), 0.02: (0.00286, 0.0907),
        0.03: (-0.00714, 0.101), 0.04: (-0.0171, 0.111), 0.05: (-0.0271, 0.121)}


def write_data(quick: bool) -> dict:
    """Write every input once (CSV / npz) so ours and the peers read identical data."""
    from utvardering.data.reference_did import load_castle, load_ehec, load_mpdta

    paths = {"mpdta": data_path("mpdta.csv"), "castle": data_path("castle.csv")}
    load_mpdta().to_csv(paths["mpdta"], index=False)
    castle = load_castle()
    castle["homicide_count"] = np.round(castle["homicide"] * castle["popwt"] / 1e5).astype(int)
    castle.to_csv(paths["castle"], index=False)
    sizes = [2_000, 20_000] if quick else [2_000, 20_000, 50_000, 100_000, 200_000]
    for n in sizes:
        paths[f"panel{n}"] = _staggered(n, data_path(f"staggered_{n}.npz"))
    paths["wild"] = _wild(data_path("wild.npz"))
    ehec = load_ehec()
    ehec = ehec.loc[(ehec["year"] < 2016) & (ehec["yexp2"] != 2015)].reset_index(drop=True)
    paths["ehec"] = _event_study(ehec)
    return {"paths": paths, "sizes": sizes}


def _staggered(n: int, path: Path, periods: int = 20) -> Path:
    """n units × 20 periods, six cohorts (periods 5, 7, ..., 15) and a never-treated group."""
    if path.exists():
        return path
    rng = np.random.default_rng(n)
    cohorts = np.array([0, 5, 7, 9, 11, 13, 15])
    g = cohorts[rng.integers(0, len(cohorts), n)]
    unit = np.repeat(np.arange(1, n + 1), periods)
    time = np.tile(np.arange(1, periods + 1), n)
    gg = np.repeat(g, periods)
    treated = (gg > 0) & (time >= gg)
    effect = np.where(treated, 1.0 + 0.1 * (time - gg), 0.0)
    y = (np.repeat(rng.normal(size=n), periods) + 0.05 * time + effect
         + rng.normal(size=n * periods))
    np.savez(path, unit=unit, time=time, y=y, g=gg)
    return path


def _wild(path: Path, n: int = 10_000, clusters: int = 50) -> Path:
    rng = np.random.default_rng(50)
    cl = rng.integers(0, clusters, n)
    x = rng.normal(size=n) + rng.normal(size=clusters)[cl]
    y = 1.0 + 0.05 * x + rng.normal(size=clusters)[cl] + rng.normal(size=n)
    np.savez(path, y=y, x=x, cl=cl)
    return path


def _event_study(ehec) -> dict:
    """ehec TWFE event study (HonestDiD README sample): beta and Sigma handed to every package."""
    from utvardering.did.twfe import event_study

    treated = sorted(ehec.loc[ehec["yexp2"] == 2014, "stfips"].unique())
    es = event_study(ehec, outcome="dins", unit="stfips", time="year", treated=treated,
                     start=2014)
    names = list(es.coefficients.index)
    return {"beta": es.coefficients["estimate"].tolist(),
            "sigma": es.vcov.loc[names, names].to_numpy().tolist(), "pre": 5, "post": 2}


PANEL = ("import numpy as np, pandas as pd\n"
         "z = np.load({path!r})\n"
         "df = pd.DataFrame({{'unit': z['unit'], 'time': z['time'], 'y': z['y'], 'g': z['g']}})\n")


def cs_tasks(paths: dict, sizes: list, only) -> list:
    ok = have("utvardering.did", "callaway_santanna")
    read = f"import pandas as pd, numpy as np\ndf = pd.read_csv({str(paths['mpdta'])!r})\n"
    res = "{" + ", ".join(f"'{k}': a.get('{k}', (None, None))[0], "
                          f"'{k}_se': a.get('{k}', (None, None))[1]" for k in AGGS) + "}"
    ours = ("from utvardering.did import callaway_santanna\n", (
        "cs = callaway_santanna(df, unit='countyreal', time='year', outcome='lemp', "
        "cohort='first.treat'{boot})\n"
        "a = {{k: (e.estimate, e.se) for k in {aggs!r} for e in [cs.aggregate(k)]}}\n"))
    dd = ("from diff_diff import CallawaySantAnna\n", (
        "r = CallawaySantAnna(control_group='never_treated', estimation_method='dr'{boot})"
        ".fit(df, outcome='lemp', unit='countyreal', time='year', first_treat='first.treat')\n"
        "a = {{'simple': (r.overall_att, r.overall_se)}}\n"
        "gr, es = r.aggregate('group'), r.aggregate('event_study')  # per cohort / event time;\n"
        "# diff-diff 3.13 has no overall group or dynamic summary and no calendar aggregation\n"))
    md = ("import moderndid as md\n", (
        "r = md.att_gt(data=df, yname='lemp', tname='year', idname='countyreal', "
        "gname='first.treat', est_method='dr'{boot})\n"
        "a = {{k: (x.overall_att, x.overall_se) for k in {aggs!r} "
        "for x in [md.aggte(r, type=k)]}}\n"))
    cd = ("import io, contextlib\nfrom csdid.att_gt import ATTgt\n", (
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    o = ATTgt(yname='lemp', gname='first.treat', idname='countyreal', tname='year', "
        "xformla='lemp~1', data=df{cboot}).fit(est_method='dr'{boot})\n"
        "    a = {{}}\n"
        "    for k in {aggs!r}:\n"
        "        o.aggte(typec=k)\n"
        "        a[k] = tuple(np.ravel(o.atte[c])[0] for c in ('overall_att', 'overall_se'))\n"))
    df_ = ("from differences import ATTgt\n"
           "d2 = df.copy(); d2['cohort'] = d2['first.treat'].replace(0, np.nan)\n"
           "d2 = d2.set_index(['countyreal', 'year'])\n", (
               "att = ATTgt(data=d2, cohort_column='cohort')\n"
               "att.fit(formula='lemp', control_group='never_treated', est_method='dr', "
               "progress_bar=False)\n"
               "a = {{}}\n"
               "for k, kk in zip({aggs!r}, ('simple', 'cohort', 'event', 'time')):\n"
               "    x = att.aggregate(kk, overall=kk != 'simple'); "
               "a[k] = (x.iloc[0, 0], x.iloc[0, 1])\n"))

    def snip(pair, boot, cboot="", timeout=120):
        return Snippet(read + pair[0], pair[1].format(boot=boot, cboot=cboot, aggs=AGGS), res,
                       timeout=timeout)

    rows = peers.compare(
        "mpdta CS analytic", snip(ours, ""), {
            "diff-diff": snip(dd, ""), "moderndid": snip(md, ", boot=False"),
            "csdid": snip(cd, ", bstrap=False"), "differences": snip(df_, "")},
        keys=KEYS, tol=1e-6, available=ok, only=only)
    boot_tol = {k: (1e-9 if not k.endswith("_se") else "15%") for k in KEYS}
    rows += peers.compare(
        "mpdta CS 999 multiplier boot", snip(ours, ", inference='bootstrap', n_draws=999, random_state=0"), {
            "diff-diff": snip(dd, ", n_bootstrap=999, seed=0"),
            "moderndid": snip(md, ", boot=True, biters=999, random_state=0"),
            "csdid": snip(cd, ", bstrap=True", ", biters=999")},
        keys=KEYS, tol=boot_tol, available=ok, only=only)
    for n in sizes:
        setup = PANEL.format(path=str(paths[f"panel{n}"]))
        big = n >= 100_000
        kw = {"timeout": 900 if big else 300, "repeats": 3 if big else 5, "budget": 120}
        res1 = "{'simple': att, 'simple_se': se}"
        theirs = {"diff-diff": Snippet(
            setup + "from diff_diff import CallawaySantAnna\n",
            "r = CallawaySantAnna(control_group='never_treated', estimation_method='dr')"
            ".fit(df, outcome='y', unit='unit', time='time', first_treat='g')\n"
            "att, se = r.overall_att, r.overall_se\n", res1, **kw)}
        if n in (20_000, 200_000):
            theirs["moderndid"] = Snippet(
                setup + "import moderndid as md\n",
                "r = md.att_gt(data=df, yname='y', tname='time', idname='unit', gname='g', "
                "est_method='dr', boot=False)\n"
                "x = md.aggte(r, type='simple'); att, se = x.overall_att, x.overall_se\n",
                res1, **kw)
        rows += peers.compare(
            f"staggered {n:,} × 20 CS DR", Snippet(
                setup + "from utvardering.did import callaway_santanna\n",
                "cs = callaway_santanna(df, unit='unit', time='time', outcome='y', cohort='g')\n"
                "e = cs.aggregate('simple'); att, se = e.estimate, e.se\n", res1, **kw),
            theirs, keys=("simple", "simple_se"), tol=1e-6, available=ok, only=only)
    return rows


#: diff-diff's HonestDiD takes a results object; hand it the same beta/Sigma as everyone else
DD_HONEST = ("import diff_diff.honest_did as h\n"
             "h._extract_event_study_params = lambda results: (beta, sigma, 5, 2, "
             "[2008, 2009, 2010, 2011, 2012], [2014, 2015], None)\n")


def honest_tasks(es: dict, only) -> list:
    ok = have("utvardering.inference.honest_did", "honest_did")
    setup = ("import numpy as np\n"
             f"beta = np.array({es['beta']!r}); sigma = np.array({es['sigma']!r})\n")
    res = "out"
    rows = []
    for kind, grid in (("RM", RM_GRID), ("SD", SD_GRID)):
        key = "rm" if kind == "RM" else "sd"
        method = "relative_magnitudes" if kind == "RM" else "smoothness"
        dd_method = "relative_magnitude" if kind == "RM" else "smoothness"
        collect = ("out = {}\n"
                   "for m, lb, ub in zip(grid, lbs, ubs):\n"
                   f"    out[f'{key}{{m:g}}_lb'] = lb; out[f'{key}{{m:g}}_ub'] = ub\n")
        mine = Snippet(setup + "from utvardering.inference.honest_did import honest_did\n",
                       f"grid = {grid!r}\n"
                       "r = honest_did(beta, sigma, num_pre_periods=5, num_post_periods=2, "
                       f"method={method!r}, m_values=grid)\n"
                       "lbs, ubs = r.path.loc[list(grid), 'low'], r.path.loc[list(grid), 'high']\n"
                       + collect, res, timeout=300)
        if kind == "RM":
            md = ("r = md.create_sensitivity_results_rm(beta, sigma, 5, 2, "
                  "m_bar_vec=list(grid))\n")
            hd = ("r = honestdid.createSensitivityResults_relativeMagnitudes(beta, sigma, 5, 2, "
                  "Mbarvec=list(grid))\n")
        else:
            md = ("r = md.create_sensitivity_results_sm(beta, sigma, 5, 2, m_vec=list(grid))\n")
            hd = ("r = honestdid.createSensitivityResults(beta, sigma, 5, 2, Mvec=list(grid))\n")
        tail = "lbs, ubs = list(r['lb']), list(r['ub'])\n" + collect
        kw = {"timeout": 240, "repeats": 5, "budget": 60}
        keys = tuple(f"{key}{m:g}_{b}" for m in grid for b in ("lb", "ub"))
        rows += peers.compare(
            f"ehec honest_did {kind} grid", mine, {
                "moderndid": Snippet(setup + "import moderndid as md\n",
                                     f"grid = {grid!r}\n" + md + tail, res, **kw),
                "honestdid": Snippet(setup + "import honestdid\n",
                                     f"grid = {grid!r}\n" + hd + tail, res,
                                     **(kw | {"timeout": 480})),
                "diff-diff": Snippet(setup + DD_HONEST, f"grid = {grid!r}\n" + (
                    "lbs, ubs = [], []\n"
                    "for m in grid:\n"
                    f"    r = h.HonestDiD(method={dd_method!r}, M=m, "
                    "l_vec=np.array([1.0, 0.0])).fit(None)\n"
                    "    lbs.append(r.ci_lb); ubs.append(r.ci_ub)\n") + collect, res, **kw)},
            keys=keys, tol=6e-4, available=ok, only=only)
        if rows:
            ref = R_RM if kind == "RM" else R_SD
            rows.append(Row(rows[-1].task, "R HonestDiD (ref)", rows[-1].ours, reference(
                {f"{key}{m:g}_{b}": ref[m][i] for m in grid for i, b in enumerate(("lb", "ub"))}),
                keys, 6e-4))
    for row in rows:  # also hold each peer against R's printed intervals
        if row.theirs.status == "reference":
            continue
        ref = R_RM if "RM" in row.task else R_SD
        key = "rm" if "RM" in row.task else "sd"
        if row.theirs.ok:
            worst = max(abs(row.theirs.result[f"{key}{m:g}_{b}"] - ref[m][i])
                        for m in ref for i, b in enumerate(("lb", "ub")))
            row.peer += f" (vs R: max|Δ| {worst:.2g})"
    return rows


def wild_tasks(paths: dict, only) -> list:
    ok = have("utvardering.inference.wild_bootstrap", "wild_cluster_bootstrap")
    setup = (f"import numpy as np\nz = np.load({str(paths['wild'])!r})\n"
             "y, x, cl = z['y'], z['x'], z['cl']\nX = np.column_stack([x, np.ones_like(x)])\n")
    res = "{'b': b, 'p': p, 'low': lo, 'high': hi}"
    mine = Snippet(setup + "from utvardering.inference.wild_bootstrap import "
                   "wild_cluster_bootstrap\n",
                   "r = wild_cluster_bootstrap(y, X, cl, param=0, n_draws=9999, random_state=1)\n"
                   "b, p, (lo, hi) = r.estimate, r.p_value, r.interval\n", res)
    wb = Snippet(setup + "import pandas as pd, statsmodels.api as sm\n"
                 "from wildboottest.wildboottest import wildboottest\n"
                 "Xd = pd.DataFrame({'x': x, 'const': 1.0})\n",
                 "m = sm.OLS(y, Xd)\n"
                 "t = wildboottest(m, B=9999, cluster=cl, param='x', seed=1, show=False)\n"
                 "b = m.fit().params['x']; p = float(t['p-value'].iloc[0]); lo = hi = None\n",
                 res)
    dd = Snippet(setup + "from diff_diff.utils import wild_bootstrap_se\n",
                 "beta = np.linalg.lstsq(X, y, rcond=None)[0]; u = y - X @ beta\n"
                 "r = wild_bootstrap_se(X, y, u, cl, 0, n_bootstrap=9999, seed=1)\n"
                 "b = beta[0]; p = r.p_value; lo, hi = r.ci_lower, r.ci_upper\n", res)
    return peers.compare("wild cluster boot 9,999×50cl", mine,
                         {"wildboottest": wb, "diff-diff": dd}, keys=("b", "p", "low", "high"),
                         tol={"b": 1e-8, "p": 0.02, "low": 0.01, "high": 0.01},
                         available=ok, only=only)


def castle_tasks(paths: dict, only) -> list:
    setup = (f"import pandas as pd, numpy as np\ndf = pd.read_csv({str(paths['castle'])!r})\n"
             "ry = [c for c in df.columns if c.startswith('r200')]\n")
    res = "{'b': b, 'se': se}"
    specs = {
        "castle TWFE unweighted": ("", "", ""),
        "castle TWFE pop-weighted": (", weights='popwt'", "", ", weights='popwt'"),
        "castle TWFE weighted + region×yr": (", weights='popwt', covariates=ry",
                                             "''.join(' + ' + c for c in ry)",
                                             ", weights='popwt'"),
    }
    rows = []
    ok_twfe = have("utvardering.did.twfe", "twfe")
    for task, (ours_kw, extra, pf_kw) in specs.items():
        mine = Snippet(setup + "from utvardering.did.twfe import twfe\n",
                       f"e = twfe(df, outcome='l_homicide', unit='sid', time='year', "
                       f"treatment='post'{ours_kw})\nb, se = e.estimate, e.se\n", res)
        pf = Snippet(setup + "import pyfixest as pf\n",
                     f"f = pf.feols('l_homicide ~ post' + {extra or repr('')} + "
                     f"' | sid + year', data=df, vcov={{'CRV1': 'sid'}}{pf_kw})\n"
                     "b, se = f.coef()['post'], f.se()['post']\n", res)
        rows += peers.compare(task, mine, {"pyfixest": pf}, keys=("b", "se"), tol=1e-6,
                              available=ok_twfe, only=only)
    mine = Snippet(setup + "from utvardering.did.poisson import poisson_did\n",
                   "e = poisson_did(df, outcome='homicide_count', unit='sid', time='year', "
                   "treatment='post')\nb, se = e.estimate, e.se\n", res)
    pf = Snippet(setup + "import pyfixest as pf\n",
                 "f = pf.fepois('homicide_count ~ post | sid + year', data=df, "
                 "vcov={'CRV1': 'sid'})\nb, se = f.coef()['post'], f.se()['post']\n", res)
    rows += peers.compare("castle Poisson (fepois)", mine, {"pyfixest": pf}, keys=("b", "se"),
                          tol=1e-6, available=have("utvardering.did.poisson", "poisson_did"),
                          only=only)
    return rows


def _find(rows: list, task: str, who: str):
    """The measurement of ``who`` ("ours" or a peer package) in the task ``task``."""
    for r in rows:
        if r.task == task and (who == "ours" or r.peer.startswith(who + " ")):
            return r.ours if who == "ours" else r.theirs
    return None


def _seconds(m) -> str:
    return f"{m.median:.4g} s" if m is not None and m.ok else "—"


def cs_summary(rows: list, sizes: list, load: tuple) -> None:
    """The acceptance numbers of the Callaway–Sant'Anna issue, measured in this run.

    mpdta with 999 bootstrap draws (ours vs diff-diff and csdid), time and peak memory at
    each panel size (ours vs diff-diff and moderndid), and the growth of time with units:
    the slope of log(time) on log(units) (1 = linear).
    """
    if not any("CS" in r.task for r in rows):
        return
    print("\n-- Callaway–Sant'Anna: acceptance numbers of this run --")
    print(f"machine load (1-min average) at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}"
          f" on {os.cpu_count()} cores")
    for task in ("mpdta CS analytic", "mpdta CS 999 multiplier boot"):
        mine = _find(rows, task, "ours")
        if mine is None:
            continue
        parts = [f"ours {_seconds(mine)}"]
        for peer in ("diff-diff", "csdid", "moderndid"):
            m = _find(rows, task, peer)
            if m is not None and m.ok and mine.ok:
                parts.append(f"{peer} {_seconds(m)} ({m.median / mine.median:.2f}× ours)")
        print(f"{task}: " + ", ".join(parts))
    curve: dict = {}
    for n in sizes:
        task = f"staggered {n:,} × 20 CS DR"
        parts = []
        for who in ("ours", "diff-diff", "moderndid"):
            m = _find(rows, task, who)
            if m is not None and m.ok:
                curve.setdefault(who, []).append((n, m.median))
                parts.append(f"{who} {m.median:.4g} s, peak {m.peak_mb:.0f} MB "
                             f"(+{m.delta_mb:.0f})")
        if parts:
            print(f"{n:>7,} units × 20: " + " | ".join(parts))
    print("growth with units (s per 10,000 units; log-log slope 1 = linear, below 1 while "
          "fixed costs still matter):")
    for who, pts in curve.items():
        per = ", ".join(f"{n:,}: {t / n * 1e4:.4f}" for n, t in pts)
        large = [(n, t) for n, t in pts if n >= 20_000]
        print(f"  {who:<10} slope {_slope(pts):.3f}, from 20,000 units {_slope(large):.3f}"
              f"  ({per})")


def _slope(points: list) -> float:
    """Least-squares slope of log(time) on log(units)."""
    if len(points) < 2:
        return float("nan")
    return float(np.polyfit(np.log([n for n, _ in points]), np.log([t for _, t in points]),
                            1)[0])


SCALE = (2_000, 200, 5)  # units, periods, a cohort every 5 periods (40 cohorts) + never treated
MEMORY_CAP = 8 * 2**30  # address-space cap of every process in the scale case


def _scale_panel(path: Path, n: int, periods: int, step: int) -> Path:
    """The reliability review's sweep at its largest size: T/5 cohorts and a never-treated group
    drawn with equal probability; effect 1 + 0.01·(event time) from the start."""
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    starts = np.arange(step, periods + 1, step)
    g = rng.choice(np.append(starts, 0), size=n)
    unit = np.repeat(np.arange(1, n + 1), periods)
    time = np.tile(np.arange(1, periods + 1), n)
    gg = np.repeat(g, periods)
    effect = np.where((gg > 0) & (time >= gg), 1.0 + 0.01 * (time - gg), 0.0)
    y = (np.repeat(rng.normal(size=n), periods) + 0.05 * time + effect
         + rng.normal(size=n * periods))
    np.savez(path, unit=unit, time=time, y=y, g=gg)
    return path


def _peer_python(package: str):
    """A peer's own venv under ``$UTV_PEERS_DIR`` (one per package), if there is one."""
    root = Path(os.environ.get("UTV_PEERS_DIR", "/work/peers"))
    python = root / package / "bin" / "python"
    return python if python.exists() else None


def _run_peer(package: str, snippet: Snippet):
    from harness import run_snippet

    python = _peer_python(package)
    if python is None:
        return peers.run(package, snippet)
    return run_snippet(python, snippet, env={"PYTHONWARNINGS": "ignore"})


def _peer_label(package: str) -> str:
    python = _peer_python(package)
    if python is None:
        return peers.label(package)
    import subprocess

    out = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                          f"print(m.version({package!r}))"], capture_output=True, text=True)
    return f"{package} {out.stdout.strip()}".strip()


def scale_tasks(only) -> list:
    """2,000 × 200, 40 cohorts: ours (CS, SA, imputation) vs diff-diff and pyfixest."""
    n, periods, step = SCALE
    task_prefix = f"scale {n:,} × {periods} ({periods // step} cohorts)"
    if only and only not in task_prefix and only != "scale":
        return []
    from harness import Row, ours

    path = _scale_panel(data_path(f"staggered_scale_{n}x{periods}.npz"), n, periods, step)
    # every process (ours and the peers') runs under an 8 GiB address-space cap, so a peer that
    # needs more fails with a MemoryError instead of pushing the shared machine into the OOM
    # killer (diff-diff's SunAbraham reached 20 GB resident before being killed). Peak memory is
    # VmHWM of the process: ru_maxrss would also count the parent's peak (Linux keeps it across
    # exec).
    setup = (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, "
             f"{MEMORY_CAP}))\n"
             "def _hwm():\n"
             "    for line in open('/proc/self/status'):\n"
             "        if line.startswith('VmHWM'):\n"
             "            return int(line.split()[1]) / 1024\n"
             + PANEL.format(path=str(path)) + "import warnings; warnings.simplefilter('ignore')\n"
             "_base = _hwm()\n")
    kw = {"timeout": 900, "repeats": 3, "budget": 120}
    res = ("{'att': att, 'se': se, 'theta0': theta0, 'hwm_mb': _hwm(), "
           "'hwm_delta_mb': _hwm() - _base}")
    cols = "unit='unit', time='time', outcome='y', cohort='g'"
    dd_cols = "df, outcome='y', unit='unit', time='time', first_treat='g'"
    specs = {
        "CS": (f"e = callaway_santanna(df, {cols})\n"
               "att, se, theta0 = e.estimate, e.se, e.path.loc[0, 'effect']\n",
               "callaway_santanna", {
                   "diff-diff": ("from diff_diff import CallawaySantAnna\n",
                                 "r = CallawaySantAnna(control_group='never_treated', "
                                 f"estimation_method='dr').fit({dd_cols})\n"
                                 "att, se, theta0 = r.overall_att, r.overall_se, None\n")}),
        "SA": (f"e = sun_abraham(df, {cols})\n"
               "att, se, theta0 = e.estimate, e.se, e.path.loc[0, 'effect']\n",
               "sun_abraham", {
                   "diff-diff": ("from diff_diff import SunAbraham\n",
                                 f"r = SunAbraham().fit({dd_cols})\n"
                                 "att, se, theta0 = r.overall_att, r.overall_se, None\n"),
                   "pyfixest": ("import pyfixest as pf\n",
                                "f = pf.event_study(data=df, yname='y', idname='unit', "
                                "tname='time', gname='g', estimator='saturated')\n"
                                "a = f.aggregate(); att = se = None\n"
                                "theta0 = float(a.iloc[:, 0][a.index == 0].iloc[0])\n")}),
        "imputation": (f"e = imputation_did(df, {cols})\n"
                       "att, se, theta0 = e.estimate, e.se, e.path.loc[0, 'effect']\n",
                       "imputation_did", {
                           "diff-diff": ("from diff_diff import ImputationDiD\n",
                                         f"r = ImputationDiD().fit({dd_cols})\n"
                                         "att, se, theta0 = r.overall_att, r.overall_se, None\n"),
                           "pyfixest": ("import pyfixest as pf\n",
                                        "f = pf.event_study(data=df, yname='y', idname='unit', "
                                        "tname='time', gname='g', estimator='did2s', att=True)\n"
                                        "att = float(f.coef().iloc[0]); se = float(f.se().iloc[0])"
                                        "\ntheta0 = None\n")}),
    }
    rows = []
    for name, (stmt, function, theirs) in specs.items():
        task = f"{task_prefix} {name}"
        print(f"[bench] {task}", flush=True)
        mine = ours(Snippet(setup + f"from utvardering import {function}\n", stmt, res, **kw))
        for package, (imports, code) in theirs.items():
            # one run each (a peer's first call includes its JIT compilation, marked n=1)
            peer = _run_peer(package, Snippet(setup + imports, code, res, timeout=600,
                                              warmup=False))
            rows.append(Row(task, _peer_label(package), mine, peer, ("att", "se", "theta0"),
                            {"att": 1e-6, "se": "5%", "theta0": 1e-6}))
    return rows


def scale_summary(rows: list) -> None:
    """Time and peak memory of the scale case, one line per estimator and package."""
    scale = [r for r in rows if r.task.startswith("scale ")]
    if not scale:
        return
    print("\n-- 2,000 units × 200 periods, 40 cohorts: time and peak memory --")
    seen = set()
    for r in scale:
        for who, m in (("utvardering", r.ours), (r.peer, r.theirs)):
            if (r.task, who) in seen:
                continue
            seen.add((r.task, who))
            text = (f"{m.median:.3g} s, peak {m.result['hwm_mb']:.0f} MB "
                    f"(+{m.result['hwm_delta_mb']:.0f} over the loaded data)" if m.ok
                    else f"{m.status}: {m.message or 'killed (no output)'}")
            est = m.result.get("att") if m.ok else None
            print(f"{r.task.split(') ')[-1]:<11} {who:<18} {text}"
                  + (f"  ATT {est:.6g}" if est is not None else ""))


def main(argv=None) -> list:
    args = parse(__doc__, argv)
    load = os.getloadavg()
    info = write_data(args.quick)
    paths, sizes = info["paths"], info["sizes"]
    rows = cs_tasks(paths, sizes, args.only)
    rows += scale_tasks(args.only)
    rows += honest_tasks(paths["ehec"], args.only)
    rows += wild_tasks(paths, args.only)
    rows += castle_tasks(paths, args.only)
    print_table("DiD (issue 6)", rows)
    cs_summary(rows, sizes, load)
    scale_summary(rows)
    # (the scale case alone uses the per-package venvs: do not create benchmarks/.venv-peers)
    extra = {} if args.only == "scale" else {"peers": peers.ensure()}
    print(f"\nsaved {save('bench_did', rows, extra)}")
    return rows


if __name__ == "__main__":
    main()
