"""Synthetic-control benchmarks (issue 5): ours against pysyncon, diff-diff and synthdid-py.

Run: ``/work/venv/bin/python benchmarks/bench_synth.py [--quick] [--only TEXT]``.
Tasks: Prop 99 ADH fit with nested V optimisation (ADH predictors) vs pysyncon; outcome-only
simplex SC vs scpi-pkg (when installed in the peers' venv; its ``scest`` has no V
optimisation); full placebo-in-space (38 refits, V re-optimised), also with ``n_jobs=2``;
synthetic DiD with 200 random placebo permutations vs diff-diff and synthdid-py, and our
default exact placebo SE (every donor once) vs R's published 8.4; growth of the fit time with
donors (10 → 1,000) and pre-periods, with the log-log slope (ours only: pysyncon needs
minutes per fit). Peers are capped by a timeout and reported as "> timeout".
``UTV_BENCH_SKIP_PEERS=pysyncon`` (comma-separated names) leaves those peers out, e.g. to run
the quick parts on a busy machine (pysyncon's two tasks are capped at 360 s and 300 s).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import peers
from harness import (
    Row,
    Snippet,
    data_path,
    have,
    missing,
    ours,
    print_table,
    reference,
    run_snippet,
    save,
)
from options import parse

SKIP = {p.strip() for p in os.environ.get("UTV_BENCH_SKIP_PEERS", "").split(",") if p.strip()}


def keep(theirs: dict) -> dict:
    """The peers not listed in ``UTV_BENCH_SKIP_PEERS``."""
    return {k: v for k, v in theirs.items() if k not in SKIP}


PUBLISHED = {"Utah": 0.334, "Nevada": 0.235, "Montana": 0.202, "Colorado": 0.161,
             "Connecticut": 0.068}
W_KEYS = tuple(f"w_{s}" for s in PUBLISHED)
PREDICTORS = [("lnincome", range(1980, 1989), "mean"), ("retprice", range(1980, 1989), "mean"),
              ("age15to24", range(1980, 1989), "mean"), ("beer", range(1984, 1989), "mean"),
              ("cigsale", [1975], "mean"), ("cigsale", [1980], "mean"),
              ("cigsale", [1988], "mean")]
OUR_PRED = ("PRED = [('lnincome', range(1980, 1989), 'mean'), "
            "('retprice', range(1980, 1989), 'mean'), ('age15to24', range(1980, 1989), 'mean'), "
            "('beer', range(1984, 1989), 'mean'), ('cigsale', [1975], 'mean'), "
            "('cigsale', [1980], 'mean'), ('cigsale', [1988], 'mean')]\n")
PYSYNCON = (
    "from pysyncon import Dataprep, Synth\n"
    "units = sorted(df['state_name'].unique())\n"
    "def prep(treated):\n"
    "    return Dataprep(foo=df, predictors=['lnincome', 'retprice', 'age15to24'],\n"
    "        predictors_op='mean', time_predictors_prior=range(1980, 1989),\n"
    "        special_predictors=[('beer', range(1984, 1989), 'mean'), ('cigsale', [1975], "
    "'mean'),\n"
    "                            ('cigsale', [1980], 'mean'), ('cigsale', [1988], 'mean')],\n"
    "        dependent='cigsale', unit_variable='state_name', time_variable='year',\n"
    "        treatment_identifier=treated,\n"
    "        controls_identifier=[u for u in units if u not in (treated, 'California')],\n"
    "        time_optimize_ssr=range(1970, 1989))\n")


#: Basque Country with R Synth's example specification (Abadie, Diamond & Hainmueller 2011,
#: JSS 42(13)): the loss is the 1960-69 MSPE of the GDP gap. R Synth's published weights
#: (Cataluna .851, Madrid .149) give 0.00886 (tests/reference/test_basque.py).
BASQUE = "Basque Country (Pais Vasco)"
BASQUE_PRED = (
    "BP = [(c, range(1964, 1970), 'mean') for c in ['school.illit', 'school.prim', "
    "'school.med', 'school.high', 'school.post.high', 'invest']]\n"
    "BP.append(('gdpcap', range(1960, 1970), 'mean'))\n"
    "BP += [(c, range(1961, 1970, 2), 'mean') for c in ['sec.agriculture', 'sec.energy', "
    "'sec.industry', 'sec.construction', 'sec.services.venta', 'sec.services.nonventa']]\n"
    "BP.append(('popdens', [1969], 'mean'))\n")
BASQUE_LOSS = (
    "Y = df.pivot(index='regionname', columns='year', values='gdpcap')\n"
    "def loss_of(w):\n"
    "    gap = Y.loc[" + repr(BASQUE) + "] - sum(v * Y.loc[u] for u, v in w.items())\n"
    "    return float((gap.loc[1960:1969] ** 2).mean())\n")
BASQUE_RESULT = ("{'loss': loss_of(w), 'w_Cataluna': float(w.get('Cataluna', 0.0)), "
                 "'w_Madrid': float(w.get('Madrid (Comunidad De)', 0.0))}")
#: pysyncon lives in its own venv (pandas < 3), outside /work/venv
PYSYNCON_PYTHON = os.environ.get("PYSYNCON_PYTHON", "/work/peers/pysyncon/bin/python")


def basque_tasks(only) -> list:
    """Basque ADH fit (R Synth's specification): ours (compiled and reference engines) against
    pysyncon and R Synth's published loss."""
    task = "Basque ADH fit (R Synth spec, nested V)"
    if only and only not in task:
        return []
    print(f"[bench] {task}", flush=True)
    csv = Path(__file__).resolve().parents[1] / "src" / "utvardering" / "data" / "files" / "basque.csv"
    read = (f"import pandas as pd\ndf = pd.read_csv({str(csv)!r})\n"
            "df = df[df['regionname'] != 'Spain (Espana)'].copy()\n"
            "df['year'] = df['year'].astype(int)\n" + BASQUE_LOSS)
    setup = (read + "from utvardering import Study\n"
             "from utvardering.synth.adh import synthetic_control\n" + BASQUE_PRED +
             "study = Study(df, outcome='gdpcap', unit='regionname', time='year', "
             f"treated={BASQUE!r}, start=1970, covariates=[c for c in df.columns if c not in "
             "('regionno', 'regionname', 'year', 'gdpcap')])\n")
    stmt = ("e = synthetic_control(study, predictors=BP, optimize_periods=range(1960, 1970), "
            "inference=None)\nw = e.weights.to_dict()\n")
    ok = have("utvardering.synth.vweights", "nested_v")
    compiled = ours(Snippet(setup, stmt, BASQUE_RESULT)) if ok else missing()
    reference_engine = Snippet(
        setup + "import utvardering.synth.vweights as vw\n_nv = vw.nested_v\n"
        "vw.nested_v = lambda *a, **k: _nv(*a, engine='scipy', **k)\n", stmt, BASQUE_RESULT)
    scipy_engine = ours(reference_engine) if ok else missing()
    theirs = Snippet(
        read + "from pysyncon import Dataprep, Synth\n"
        "units = sorted(u for u in df['regionname'].unique() if u != " + repr(BASQUE) + ")\n"
        "dp = Dataprep(foo=df, predictors=['school.illit', 'school.prim', 'school.med', "
        "'school.high', 'school.post.high', 'invest'], predictors_op='mean', "
        "time_predictors_prior=range(1964, 1970), special_predictors=[('gdpcap', "
        "range(1960, 1970), 'mean'), ('sec.agriculture', range(1961, 1970, 2), 'mean'), "
        "('sec.energy', range(1961, 1970, 2), 'mean'), ('sec.industry', range(1961, 1970, 2), "
        "'mean'), ('sec.construction', range(1961, 1970, 2), 'mean'), ('sec.services.venta', "
        "range(1961, 1970, 2), 'mean'), ('sec.services.nonventa', range(1961, 1970, 2), "
        "'mean'), ('popdens', [1969], 'mean')], dependent='gdpcap', "
        "unit_variable='regionname', time_variable='year', treatment_identifier="
        + repr(BASQUE) + ", controls_identifier=units, time_optimize_ssr=range(1960, 1970))\n",
        "s = Synth(); s.fit(dataprep=dp, optim_method='Nelder-Mead', optim_initial='equal')\n"
        "w = s.weights(round=9).to_dict()\n", BASQUE_RESULT, timeout=300)
    peer = (run_snippet(PYSYNCON_PYTHON, theirs, env={"PYTHONWARNINGS": "ignore"})
            if Path(PYSYNCON_PYTHON).exists() and "pysyncon" not in SKIP
            else missing(f"pysyncon venv {PYSYNCON_PYTHON} not found"))
    keys = ("loss", "w_Cataluna", "w_Madrid")
    tol = {"loss": 0.005, "w_Cataluna": 1.0, "w_Madrid": 1.0}
    return [Row(task, "pysyncon (own venv)", compiled, peer, keys, tol),
            Row(task, "ours, engine='scipy' (reference)", compiled, scipy_engine, keys, tol),
            Row(task, "published (R Synth, JSS 2011)", compiled,
                reference({"loss": 0.00886, "w_Cataluna": 0.851, "w_Madrid": 0.149}), keys, tol)]


def write_data() -> dict:
    from utvardering.data.reference_synth import load_prop99, load_prop99_covariates

    paths = {"cov": data_path("prop99_covariates.csv"), "prop99": data_path("prop99.csv")}
    load_prop99_covariates().to_csv(paths["cov"], index=False)
    load_prop99().to_csv(paths["prop99"], index=False)
    return paths


def adh_tasks(paths: dict, only) -> list:
    ok = have("utvardering.synth.adh", "synthetic_control")
    read = f"import pandas as pd, numpy as np\ndf = pd.read_csv({str(paths['cov'])!r})\n"
    res = "{" + ", ".join(f"'w_{s}': w.get({s!r}, 0.0)" for s in PUBLISHED) + ", 'gap': gap}"
    fit_ours = ("e = synthetic_control(study, predictors=PRED, random_state=0)\n"
                "w = e.weights.to_dict(); gap = e.estimate\n")
    setup_ours = (read + "from utvardering import Study\n"
                  "from utvardering.synth.adh import synthetic_control\n" + OUR_PRED +
                  "study = Study(df, outcome='cigsale', unit='state_name', time='year', "
                  "treated='California', start=1989, "
                  "covariates=['lnincome', 'beer', 'age15to24', 'retprice'])\n")
    mine = Snippet(setup_ours, fit_ours, res)
    theirs = Snippet(read + PYSYNCON,
                     "s = Synth(); s.fit(dataprep=prep('California'), optim_method='Nelder-Mead',"
                     " optim_initial='equal')\n"
                     "w = s.weights(round=6).to_dict(); "
                     "gap = s.att(time_period=range(1989, 2001))['att']\n",
                     res, timeout=360, budget=60)
    keys = (*W_KEYS, "gap")
    tol = dict.fromkeys(W_KEYS, 0.02) | {"gap": 1.0}
    rows = peers.compare("Prop 99 ADH fit (nested V)", mine, keep({"pysyncon": theirs}), keys=keys,
                         tol=tol, available=ok, only=only)
    if rows:
        rows.append(Row(rows[0].task, "published (synth2)", rows[0].ours,
                        reference({f"w_{s}": v for s, v in PUBLISHED.items()} | {"gap": -19.0}),
                        keys, tol))
    ok_pl = ok and have("utvardering.synth.robustness", "placebo_in_space")
    mine = Snippet(setup_ours + "from utvardering.synth.robustness import placebo_in_space\n"
                   + fit_ours, "pl = placebo_in_space(e)\np = pl.p_value\n",
                   "{'p': p, 'n_units': len(pl.table)}", timeout=600, budget=120)
    hand = Snippet(read + PYSYNCON,
                   "ratios = {}\n"
                   "for u in units:\n"
                   "    s = Synth(); s.fit(dataprep=prep(u), optim_method='Nelder-Mead', "
                   "optim_initial='equal')\n"
                   "    ratios[u] = s.mspe(time_period=range(1989, 2001)) / "
                   "s.mspe(time_period=range(1970, 1989))\n"
                   "p = sum(r >= ratios['California'] for r in ratios.values()) / len(ratios)\n",
                   "{'p': p, 'n_units': len(ratios)}", timeout=300, warmup=False)
    rows += peers.compare("Prop 99 placebo-in-space (38)", mine,
                          keep({"pysyncon": hand}), keys=("p", "n_units"),
                          tol={"p": 0.03, "n_units": 0}, available=ok_pl, only=only)
    if rows and rows[-1].task.startswith("Prop 99 placebo") and ok_pl:
        print("[bench] Prop 99 placebo-in-space (38), n_jobs=2", flush=True)
        two = Snippet(mine.setup, mine.stmt.replace("placebo_in_space(e)",
                                                    "placebo_in_space(e, n_jobs=2)"),
                      mine.result, timeout=600, budget=120)
        rows.append(Row("Prop 99 placebo-in-space, n_jobs=2", "ours n_jobs=1", ours(two),
                        rows[-1].ours, ("p", "n_units"), {"p": 0.0, "n_units": 0}))
    return rows


SCPI = ("import warnings\nwarnings.filterwarnings('ignore')\n"
        "from scpi_pkg.scdata import scdata\nfrom scpi_pkg.scest import scest\n"
        "units = sorted(df['State'].unique())\n")


def scpi_version() -> str | None:
    """scpi-pkg's version in the peers' venv (it is not in ``peers.PACKAGES``)."""
    import subprocess

    if not peers.PYTHON.exists():
        return None
    proc = subprocess.run([str(peers.PYTHON), "-c", "import importlib.metadata as m; "
                           "print(m.version('scpi-pkg'))"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def scpi_tasks(paths: dict, only) -> list:
    """Outcome-only simplex SC on Prop 99 (no covariates, no V): ours vs scpi-pkg ``scest``."""
    task = "Prop 99 outcome-only SC (simplex)"
    if only and only not in task:
        return []
    print(f"[bench] {task}", flush=True)
    keys = ("w_Utah", "w_Montana", "w_Nevada", "w_Connecticut", "gap")
    res = "{" + ", ".join(f"'{k}': w.get({k[2:]!r}, 0.0)" for k in keys[:-1]) + ", 'gap': gap}"
    read = f"import pandas as pd, numpy as np\ndf = pd.read_csv({str(paths['prop99'])!r})\n"
    mine = Snippet(read + "from utvardering import Study\n"
                   "from utvardering.synth.adh import synthetic_control\n"
                   "study = Study(df, outcome='PacksPerCapita', unit='State', time='Year', "
                   "treated='California', start=1989)\n",
                   "e = synthetic_control(study, inference=None)\n"
                   "w = e.weights.to_dict(); gap = e.estimate\n", res)
    version = scpi_version()
    ok = have("utvardering.synth.adh", "synthetic_control")
    if "scpi-pkg" in SKIP:
        theirs = missing("skipped (UTV_BENCH_SKIP_PEERS)")
    elif version is None:
        theirs = missing("scpi-pkg not installed: benchmarks/.venv-peers/bin/pip install scpi-pkg")
    else:
        snip = Snippet(read + SCPI,
                       "d = scdata(df=df, id_var='State', time_var='Year', "
                       "outcome_var='PacksPerCapita', period_pre=np.arange(1970, 1989), "
                       "period_post=np.arange(1989, 2001), unit_tr='California', "
                       "unit_co=[u for u in units if u != 'California'], constant=False)\n"
                       "r = scest(d, w_constr={'name': 'simplex'})\n"
                       "w = {k[1]: v for k, v in r.w.iloc[:, 0].items()}\n"
                       "gap = float(np.mean(np.ravel(r.Y_post) - np.ravel(r.Y_post_fit)))\n",
                       res, timeout=300)
        theirs = run_snippet(peers.PYTHON, snip, env={"PYTHONWARNINGS": "ignore"})
    tol = dict.fromkeys(keys[:-1], 0.01) | {"gap": 0.1}
    return [Row(task, f"scpi-pkg {version}" if version else "scpi-pkg",
                ours(mine) if ok else missing(), theirs, keys, tol)]


def sdid_tasks(paths: dict, only) -> list:
    ok = have("utvardering.synth.sdid", "synthetic_did")
    read = (f"import pandas as pd, numpy as np\ndf = pd.read_csv({str(paths['prop99'])!r})\n")
    res = "{'att': att, 'se': se}"
    mine = Snippet(read + "from utvardering import Study\n"
                   "from utvardering.synth.sdid import synthetic_did\n"
                   "study = Study(df, outcome='PacksPerCapita', unit='State', time='Year', "
                   "treated='California', start=1989)\n",
                   "e = synthetic_did(study, inference='placebo', n_draws=200, random_state=0, "
                   "enumerate_placebos=False)\n"
                   "att, se = e.estimate, e.se\n", res)
    dd = Snippet(read + "from diff_diff import SyntheticDiD\n"
                 "df['ever'] = (df['State'] == 'California').astype(int)\n",
                 "r = SyntheticDiD(variance_method='placebo', n_bootstrap=200, seed=0).fit("
                 "df, outcome='PacksPerCapita', treatment='ever', unit='State', time='Year', "
                 "post_periods=list(range(1989, 2001)))\n"
                 "att, se = r.att, r.se\n", res, timeout=300)
    sd = Snippet(read + "from synthdid.synthdid import Synthdid\n",
                 "# synthdid-py 0.10.1's vcov() ignores n_reps and always draws 50 placebos\n"
                 "m = Synthdid(df, unit='State', time='Year', treatment='treated', "
                 "outcome='PacksPerCapita').fit().vcov(method='placebo', n_reps=200)\n"
                 "att, se = float(np.ravel(m.att)[0]), float(np.ravel(m.se)[0])\n",
                 res, timeout=300, budget=60)
    # diff-diff draws its permutations from numpy's default_rng(seed) like ours, so with the
    # same seed the two SEs must be identical (seed 0: 10.2767); synthdid-py draws 50 of its own
    rows = peers.compare("Prop 99 SDID + 200 placebo SE", mine, keep({"diff-diff": dd}),
                         keys=("att", "se"), tol={"att": 1e-4, "se": 1e-6}, available=ok,
                         only=only)
    rows += peers.compare("Prop 99 SDID + 200 placebo SE", mine, keep({"synthdid": sd}),
                          keys=("att", "se"), tol={"att": 1e-4, "se": 1.5}, available=ok,
                          only=only)
    if rows:
        exact = Snippet(mine.setup, "e = synthetic_did(study, random_state=0)\n"
                        "att, se = e.estimate, e.se\n", res)
        # R's SE is a Monte Carlo draw (mean 9.33, sd 0.64 over seeds); ours (default) is its
        # exact limit, every donor once as the placebo (docs/methods/synthetic_did.md)
        rows.append(Row("Prop 99 SDID exact placebo SE", "R synthdid (ref)",
                        ours(exact), reference({"att": -15.60383, "se": 8.4}), ("att", "se"),
                        {"att": 1e-4, "se": 1.5}))
    return rows


def _factor_panel(n_donors: int, t0: int, t1: int = 10) -> Path:
    """Treated unit + donors from a 3-factor model; a few covariates for the ADH predictors."""
    path = data_path(f"factor_{n_donors}_{t0}_v2.csv")
    if path.exists():
        return path
    import pandas as pd

    rng = np.random.default_rng(n_donors * 1000 + t0)
    t = t0 + t1
    loads = rng.dirichlet(np.ones(3), n_donors + 1) * 3
    factors = np.cumsum(rng.normal(size=(t, 3)), axis=0) + 10
    y = loads @ factors.T + rng.normal(scale=0.5, size=(n_donors + 1, t))
    units = np.repeat([f"u{i}" for i in range(n_donors + 1)], t)  # Study(treated=0) fails
    times = np.tile(np.arange(1, t + 1), n_donors + 1)
    frame = pd.DataFrame({"unit": units, "time": times, "y": y.ravel(),
                          "x1": np.repeat(loads[:, 0], t) + rng.normal(size=units.size) * .1,
                          "x2": np.repeat(loads[:, 1], t) + rng.normal(size=units.size) * .1})
    frame.to_csv(path, index=False)
    return path


def growth_tasks(quick: bool, only) -> list:
    if only and only not in "growth":
        return []
    ok = have("utvardering.synth.adh", "synthetic_control")
    donors = [10, 30, 100] if quick else [10, 30, 100, 300, 1000]
    pres = [10, 20, 40] if quick else [10, 20, 40, 80, 160]
    rows = []
    configs = [(d, 20) for d in donors] + [(50, p) for p in pres if p != 20]
    for n, t0 in configs:
        path = _factor_panel(n, t0)
        setup = (f"import pandas as pd\ndf = pd.read_csv({str(path)!r})\n"
                 "from utvardering import Study\nfrom utvardering.synth.adh import "
                 "synthetic_control\nfrom utvardering.synth.sdid import synthetic_did\n"
                 f"study = Study(df, outcome='y', unit='unit', time='time', treated='u0', "
                 f"start={t0 + 1}, covariates=['x1', 'x2'])\n"
                 f"PRED = [('x1', range(1, {t0 + 1}), 'mean'), ('x2', range(1, {t0 + 1}), "
                 f"'mean'), ('y', [{t0 // 2}], 'mean'), ('y', [{t0}], 'mean')]\n")
        print(f"[bench] growth: {n} donors × {t0} pre-periods", flush=True)
        for label, stmt in (
                ("ADH nested V", "e = synthetic_control(study, predictors=PRED, "
                                 "inference=None, random_state=0)\n"),
                ("outcome-only SC", "e = synthetic_control(study, inference=None)\n"),
                ("SDID (no SE)", "e = synthetic_did(study, inference=None)\n")):
            snip = Snippet(setup, stmt, "{'estimate': e.estimate}", timeout=600, budget=60,
                           repeats=3)
            m = ours(snip) if ok else missing()
            rows.append(Row(f"{label}: {n} donors × {t0} pre", "(ours only)", m,
                            missing("no peer"), ("estimate",)))
    return rows


def slopes(rows: list) -> dict:
    """Log-log slope of the median fit time on donors (at 20 pre-periods) and on pre-periods
    (at 50 donors), per method: time ~ size^slope, over all sizes and over the two largest
    (fixed per-call overhead flattens the small sizes)."""
    out = {}
    for label in ("ADH nested V", "outcome-only SC", "SDID (no SE)"):
        pts = {"donors": [], "pre-periods": []}
        for r in rows:
            if not (r.task.startswith(label + ":") and r.ours.ok):
                continue
            n, t0 = (int(v.split()[0]) for v in r.task.split(": ")[1].split(" × "))
            if t0 == 20:
                pts["donors"].append((n, r.ours.median))
            if n == 50:
                pts["pre-periods"].append((t0, r.ours.median))
        for axis, xy in pts.items():
            xy = sorted(xy)
            if len(xy) >= 2:
                x, y = np.log([p[0] for p in xy]), np.log([p[1] for p in xy])
                out[f"{label} vs {axis}"] = float(np.polyfit(x, y, 1)[0])
                out[f"{label} vs {axis}, two largest"] = float((y[-1] - y[-2]) / (x[-1] - x[-2]))
    return out


def bayes_tasks(paths: dict, only) -> list:
    """Bayesian SC on Prop 99 (Dirichlet(1) weights, HalfNormal(1) noise as CausalPy, 2 chains × 1,000
    draws after 1,000 tuning): ours vs CausalPy's ``SyntheticControl`` with
    ``WeightedSumFitter`` (the same model), cold — one run each, compilation included."""
    ok = have("utvardering.synth.bayesian", "bayesian_synthetic_control")
    read = f"import pandas as pd, numpy as np\ndf = pd.read_csv({str(paths['prop99'])!r})\n"
    mine = Snippet(read + "from utvardering import Study\n"
                   "from utvardering.synth.bayesian import bayesian_synthetic_control\n"
                   "study = Study(df, outcome='PacksPerCapita', unit='State', time='Year', "
                   "treated='California', start=1989)\n",
                   "e = bayesian_synthetic_control(study, sigma_prior=1.0, draws=1000, tune=1000, "
                   "chains=2, "
                   "random_state=0)\navg = e.estimate\n", "{'avg': avg}",
                   timeout=900, warmup=False)
    theirs = Snippet(read + "import warnings\nwarnings.filterwarnings('ignore')\n"
                     "import causalpy as cp\n"
                     "wide = df.pivot(index='Year', columns='State', values='PacksPerCapita')\n"
                     "ctrl = [c for c in wide.columns if c != 'California']\n",
                     "m = cp.pymc_models.WeightedSumFitter(sample_kwargs={'draws': 1000, "
                     "'tune': 1000, 'chains': 2, 'cores': 1, 'random_seed': 0, "
                     "'progressbar': False})\n"
                     "r = cp.SyntheticControl(wide, treatment_time=1989, control_units=ctrl, "
                     "treated_units=['California'], model=m)\n"
                     "avg = float(r.post_impact.sel(treated_units='California')"
                     ".mean(dim=('chain', 'draw', 'obs_ind')))\n", "{'avg': avg}",
                     timeout=900, warmup=False)
    # Posterior means from 2,000 draws: Monte Carlo error about 0.1 pack (reference test).
    return peers.compare("Prop 99 Bayesian SC, Dirichlet(1), 2×1000, cold", mine,
                         keep({"causalpy": theirs}), keys=("avg",), tol={"avg": 0.5},
                         available=ok, only=only)


def main(argv=None) -> list:
    args = parse(__doc__, argv)
    if SKIP and "partial" not in harness.TAG:  # never overwrite a full run's results file
        harness.TAG = ".".join(t for t in (harness.TAG, "partial") if t)
    paths = write_data()
    rows = adh_tasks(paths, args.only) + basque_tasks(args.only) + scpi_tasks(paths, args.only)
    rows += sdid_tasks(paths, args.only) + bayes_tasks(paths, args.only)
    rows += growth_tasks(args.quick, args.only)
    print_table("Synthetic control (issue 5)", [r for r in rows if "donors ×" not in r.task])
    grow = [r for r in rows if "donors ×" in r.task]
    if grow:
        print("\n-- fit time vs donors and pre-periods (ours; median s) --")
        for r in grow:
            est = r.ours.result.get("estimate")
            print(f"{r.task:<44} {r.ours.seconds_text():>12}  "
                  f"estimate={'—' if est is None else f'{est:.4g}'}")
    slope = slopes(grow)
    if slope:
        print("\n-- growth slopes: time ~ size^slope (log-log least squares) --")
        for k, v in slope.items():
            print(f"{k:<50} {v:6.2f}")
    extra = {"peers": peers.ensure() | {"scpi-pkg": scpi_version()}, "slopes": slope}
    print(f"\nsaved {save('bench_synth', rows, extra)}")
    return rows


if __name__ == "__main__":
    main()
