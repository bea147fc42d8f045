"""Bayesian structural time-series benchmarks (issue 3): ours against CausalPy and statsmodels.

Run: ``/work/venv/bin/python benchmarks/bench_bsts.py [--quick] [--only TEXT]``.
Tasks: Gaussian BSTS on 365 daily points with 5 controls and weekly seasonality, 2 chains ×
1,000 draws with the default Gibbs backend — cold (a fresh process; once with numba's on-disk
cache of the kernels warm, once with an empty cache so the kernels are compiled), warm
(median of 5 repeats in one process) and the same with ``backend="pymc"`` (NUTS, cold);
count BSTS on 120 months with 15 controls and yearly seasonality: Poisson cold (NUTS) and
negative binomial cold and warm (Pólya-Gamma Gibbs, the default; NUTS cold beside it); the
statsmodels ``UnobservedComponents`` path; and warm time of the Gaussian default against
series length (100 → 5,000 points) with its log-log slope. Cold times exclude the imports
(``setup``); they include everything ``causal_impact`` does at its first call.
Peers: CausalPy (its PyMC ``InterruptedTimeSeries`` with a linear regression on the controls
and Fourier terms — CausalPy's state-space model needs pymc-extras and takes minutes) and
statsmodels. tfcausalimpact needs tensorflow (1.87 GB) and is skipped by ``peers.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
from harness import Row, Snippet, data_path, missing, ours, print_table, save
from options import parse


def gaussian_data(n: int, k: int = 5, seed: int = 0) -> pd.DataFrame:
    """Daily series: y follows the controls plus a local level and weekly pattern; effect −2
    in the last 20 %."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    common = np.cumsum(rng.normal(0, 0.5, n))
    week = np.sin(2 * np.pi * t / 7)
    X = 100 + common[:, None] + rng.normal(0, 1, (n, k))
    y = 50 + 0.5 * X.mean(axis=1) + np.cumsum(rng.normal(0, 0.05, n)) + 2 * week + rng.normal(0, 1, n)
    y[int(0.8 * n):] -= 2.0
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(k)])
    frame.insert(0, "y", y)
    frame.insert(0, "t", t)
    return frame


def poisson_data(n: int = 120, k: int = 15, seed: int = 1) -> pd.DataFrame:
    """Monthly counts (mean ~4) sharing a log factor with k control counts; rate ratio 0.7 in
    the last 36 months."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    f = np.cumsum(rng.normal(0, 0.04, n)) + 0.15 * np.sin(2 * np.pi * t / 12)
    X = rng.poisson(rng.uniform(15, 40, k)[None, :] * np.exp(f)[:, None])
    y = rng.poisson(4 * np.exp(f) * np.where(t >= n - 36, 0.7, 1.0))
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(k)])
    frame.insert(0, "y", y)
    frame.insert(0, "t", t)
    return frame


def _ours_setup(path: Path, n: int, fresh_cache: bool = False) -> str:
    cut = int(0.8 * n)
    # An empty NUMBA_CACHE_DIR (set before numba is imported) forces the kernels to compile.
    head = ("import os, tempfile\nos.environ['NUMBA_CACHE_DIR'] = tempfile.mkdtemp()\n"
            if fresh_cache else "")
    return (head + "import pandas as pd\nfrom utvardering.timeseries import causal_impact\n"
            f"d = pd.read_csv({str(path)!r}).drop(columns='t')\n"
            f"PRE, POST = (0, {cut - 1}), ({cut}, {n - 1})\n")


def _fit(extra: str = "") -> str:
    return ("e = causal_impact(d, pre_period=PRE, post_period=POST, seasonality=(7, 3), "
            f"draws=1000, tune=1000, chains=2, random_state=1{extra})\n")


RESULT = ("{'estimate': e.estimate, 'r_hat': e.diagnostics.get('r_hat_max'), "
          "'ess_bulk': e.diagnostics.get('ess_bulk')}")


def numba_cache_warm() -> bool:
    """Whether numba's on-disk cache already holds the Gibbs kernels (index files)."""
    cache = Path(__file__).resolve().parents[1] / "src/utvardering/timeseries/__pycache__"
    return any(cache.glob("gibbs.gibbs_sample-*.nbi"))


def _causalpy(path: Path, n: int, fourier: str) -> Snippet:
    cut = int(0.8 * n)
    setup = (
        "import numpy as np, pandas as pd, causalpy as cp\n"
        f"d = pd.read_csv({str(path)!r})\n"
        f"{fourier}\n"
        "controls = ' + '.join(c for c in d.columns if c.startswith('x') or c.startswith('f'))\n")
    stmt = (
        f"r = cp.InterruptedTimeSeries(d, {cut}, formula='y ~ 1 + ' + controls, "
        "model=cp.pymc_models.LinearRegression(sample_kwargs={'draws': 1000, 'tune': 1000, "
        "'chains': 2, 'progressbar': False, 'random_seed': 1}))\n")
    result = "{'estimate': float(np.asarray(r.post_impact.mean(('chain', 'draw'))).mean())}"
    return Snippet(setup, stmt, result, repeats=3, timeout=900, budget=600)


def gaussian_tasks(n: int, only) -> list[Row]:
    path = data_path(f"bsts_gaussian_{n}.csv")
    gaussian_data(n).to_csv(path, index=False)
    setup = _ours_setup(path, n)
    fourier = ("for j in (1, 2, 3):\n"
               "    d[f'fc{j}'] = np.cos(2 * np.pi * j * d.t / 7)\n"
               "    d[f'fs{j}'] = np.sin(2 * np.pi * j * d.t / 7)")
    rows = []
    task = f"Gaussian BSTS {n} pts, 5 controls, weekly, 2×1000, cold"
    if not only or only in task:
        # The empty-cache case uses a throw-away cache directory; the real cache is untouched.
        print(f"[bench] {task} (numba cache empty)", flush=True)
        fresh = ours(Snippet(_ours_setup(path, n, fresh_cache=True), _fit(), RESULT, repeats=1,
                             warmup=False, timeout=900))
        was_warm = numba_cache_warm()
        print(f"[bench] {task} (numba cache {'warm' if was_warm else 'empty'})", flush=True)
        cold = ours(Snippet(setup, _fit(), RESULT, repeats=1, warmup=False, timeout=900))
        label = "numba cache warm" if was_warm else "numba cache empty"
        rows.append(Row(f"{task}, Gibbs, {label}", peers.label("causalpy"), cold,
                        peers.run("causalpy", _causalpy(path, n, fourier)), ("estimate",), 0.5))
        pymc = ours(Snippet(setup, _fit(", backend='pymc'"), RESULT, repeats=1, warmup=False,
                            timeout=900))
        rows.append(Row(f"{task}, Gibbs, numba cache empty (kernels compiled)",
                        "ours, backend='pymc' (nutpie), cold", fresh, pymc, ("estimate",), 0.5))
    task = f"Gaussian BSTS {n} pts, 5 controls, weekly, 2×1000, warm"
    if not only or only in task:
        print(f"[bench] {task}", flush=True)
        warm = ours(Snippet(setup, _fit(), RESULT, repeats=5, timeout=900, budget=300))
        mle = ours(Snippet(setup, _fit(", backend='mle'"), RESULT, repeats=5))
        rows.append(Row(task, "statsmodels UC (backend='mle')", warm, mle, ("estimate",), 0.5))
    return rows


def _count_fit(likelihood: str, extra: str = "") -> str:
    return ("e = causal_impact(d, pre_period=(0, 83), post_period=(84, 119), "
            f"likelihood={likelihood!r}, seasonality=(12, 2), draws=1000, tune=1000, chains=2, "
            f"random_state=1{extra})\n")


COUNT_RESULT = ("{'rate_ratio': e.rate_ratio, 'r_hat': e.diagnostics.get('r_hat_max'), "
                "'ess_bulk': e.diagnostics.get('ess_bulk')}")


def poisson_tasks(only) -> list[Row]:
    """Count BSTS on 120 months, 15 controls, yearly seasonality: Poisson (NUTS) and negative
    binomial (Pólya-Gamma Gibbs, the default, against NUTS), cold and warm."""
    path = data_path("bsts_poisson_120.csv")
    poisson_data().to_csv(path, index=False)
    setup = (f"import pandas as pd\nfrom utvardering.timeseries import causal_impact\n"
             f"d = pd.read_csv({str(path)!r}).drop(columns='t')\n")
    rows = []
    task = "Poisson BSTS 120 months, 15 controls, yearly, 2×1000, cold"
    if not only or only in task:
        print(f"[bench] {task}", flush=True)
        cold = ours(Snippet(setup, _count_fit("poisson"), COUNT_RESULT, repeats=1,
                            warmup=False, timeout=900))
        rows.append(Row(task, "— (no count BSTS peer)", cold,
                        missing("no peer has count likelihoods")))
    task = "NegBin BSTS 120 months, 15 controls, yearly, 2×1000, cold"
    if not only or only in task:
        print(f"[bench] {task}", flush=True)
        gibbs = ours(Snippet(setup, _count_fit("negative_binomial"), COUNT_RESULT, repeats=1,
                             warmup=False, timeout=900))
        nuts = ours(Snippet(setup, _count_fit("negative_binomial", ", backend='pymc'"),
                            COUNT_RESULT, repeats=1, warmup=False, timeout=900))
        rows.append(Row(f"{task}, Pólya-Gamma Gibbs (default)",
                        "ours, backend='pymc' (nutpie), cold", gibbs, nuts, ("rate_ratio",), 0.05))
    task = "NegBin BSTS 120 months, 15 controls, yearly, 2×1000, warm"
    if not only or only in task:
        print(f"[bench] {task}", flush=True)
        warm = ours(Snippet(setup, _count_fit("negative_binomial"), COUNT_RESULT, repeats=5,
                            timeout=900, budget=300))
        rows.append(Row(f"{task}, Pólya-Gamma Gibbs (default)", "— (no count BSTS peer)", warm,
                        missing("no peer has count likelihoods")))
    return rows


def growth(sizes, only) -> dict:
    """Warm fit time of the Gaussian default against series length; log-log slope ≤ 1."""
    if only and "growth" not in only:
        return {}
    out = {}
    for n in sizes:
        path = data_path(f"bsts_gaussian_{n}.csv")
        gaussian_data(n).to_csv(path, index=False)
        m = ours(Snippet(_ours_setup(path, n) + _fit(), _fit(), RESULT, repeats=3,
                         timeout=1800, budget=600))
        out[n] = m.median
        print(f"[growth] n={n}: warm fit {m.median if m.median is None else round(m.median, 2)} s",
              flush=True)
    good = [(n, t) for n, t in out.items() if t]
    if len(good) >= 2:
        slope = np.polyfit(np.log([n for n, _ in good]), np.log([t for _, t in good]), 1)[0]
        print(f"[growth] log-log slope of warm time on length: {slope:.2f} (≤ 1 = linear)")
        out["slope"] = float(slope)
    return out


def main(argv=None) -> list:
    args = parse(__doc__, argv)
    n = 120 if args.quick else 365
    cache_warm = numba_cache_warm()
    print(f"[bench] numba on-disk cache of the Gibbs kernels at start: "
          f"{'warm' if cache_warm else 'empty'}", flush=True)
    rows = gaussian_tasks(n, args.only)
    rows += poisson_tasks(args.only)
    print_table("BSTS (issue 3)", rows)
    sizes = (100, 300, 1000) if args.quick else (100, 300, 1000, 2000, 5000)
    grow = growth(sizes, args.only)
    extra = {"peers": peers.ensure(), "growth": grow, "numba_cache_warm_at_start": cache_warm}
    print(f"\nsaved {save('bench_bsts', rows, extra)}")
    return rows


if __name__ == "__main__":
    main()
