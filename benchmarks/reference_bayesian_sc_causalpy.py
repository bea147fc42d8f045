"""Reference numbers for ``bayesian_synthetic_control`` from CausalPy's ``WeightedSumFitter``.

Run with the peers' interpreter (CausalPy is not a dependency of utvardering)::

    nice -n 10 benchmarks/.venv-peers/bin/python benchmarks/reference_bayesian_sc_causalpy.py

Data: California's Proposition 99 (Abadie, Diamond & Hainmueller 2010) from the package's
bundled copy ``src/utvardering/data/files/prop99.csv`` — the same bytes the test reads —
pivoted to one column per state: treated ``California``, the 38 other states as controls,
treatment time 1989 (pre-period 1970–1988, post-period 1989–2000).

Model: CausalPy's ``SyntheticControl`` experiment with ``WeightedSumFitter`` and its
documented default priors, :math:`\\beta \\sim \\mathrm{Dirichlet}(\\mathbf 1)`,
:math:`\\sigma \\sim \\mathrm{HalfNormal}(1)`, :math:`y \\sim \\mathcal N(X\\beta, \\sigma)`,
fitted on the pre-period. Printed: CausalPy version, sampler settings, divergences,
max :math:`\\hat R`, the posterior mean of every weight and of :math:`\\sigma`, the posterior
mean of the average post-period effect (``post_impact`` averaged over 1989–2000) and
each quantity's Monte Carlo standard error (arviz ``mcse``), as JSON on the last line.
The numbers hard-coded in ``tests/reference/test_bayesian_sc_causalpy.py`` come from this
script.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import arviz as az
import causalpy as cp
import pandas as pd

SEED = 20240601
DRAWS, TUNE, CHAINS = 2000, 1000, 4
DATA = Path(__file__).resolve().parents[1] / "src" / "utvardering" / "data" / "files" / "prop99.csv"


def main() -> dict:
    long = pd.read_csv(DATA)
    wide = long.pivot(index="Year", columns="State", values="PacksPerCapita")
    controls = [c for c in wide.columns if c != "California"]
    model = cp.pymc_models.WeightedSumFitter(sample_kwargs={
        "draws": DRAWS, "tune": TUNE, "chains": CHAINS, "cores": 1, "random_seed": SEED,
        "progressbar": False, "target_accept": 0.9})
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cp.SyntheticControl(wide, treatment_time=1989, control_units=controls,
                                     treated_units=["California"], model=model)
    seconds = time.perf_counter() - t0
    idata = model.idata
    post = idata.posterior
    beta = post["beta"].sel(treated_units="California")  # (chain, draw, coeffs)
    sigma = post["y_hat_sigma"].sel(treated_units="California")
    impact = result.post_impact.sel(treated_units="California")  # (chain, draw, obs_ind)
    avg = impact.mean(dim="obs_ind")
    ds = az.convert_to_dataset({"beta": beta.values, "sigma": sigma.values, "avg": avg.values})
    mcse = az.mcse(ds)
    rhat = az.rhat(ds)
    out = {
        "causalpy": cp.__version__,
        "script": "benchmarks/reference_bayesian_sc_causalpy.py",
        "seed": SEED, "draws": DRAWS, "tune": TUNE, "chains": CHAINS, "target_accept": 0.9,
        "seconds": round(seconds, 1),
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "max_rhat": float(max(rhat[v].max() for v in ("beta", "sigma", "avg"))),
        "weights": {c: round(float(m), 5) for c, m in zip(controls, beta.mean(dim=("chain", "draw")).values)},
        "weights_mcse": {c: round(float(m), 5) for c, m in zip(controls, mcse["beta"].values)},
        "sigma": round(float(sigma.mean()), 4), "sigma_mcse": round(float(mcse["sigma"]), 4),
        "average_effect": round(float(avg.mean()), 4), "average_effect_mcse": round(float(mcse["avg"]), 4),
        "average_effect_sd": round(float(avg.std()), 4),
    }
    return out


if __name__ == "__main__":
    res = main()
    top = sorted(res["weights"].items(), key=lambda kv: -kv[1])[:8]
    print(f"CausalPy {res['causalpy']}  {res['seconds']} s  divergences {res['divergences']}  "
          f"max r-hat {res['max_rhat']:.3f}", file=sys.stderr)
    print("top weights:", [(k, v, res["weights_mcse"][k]) for k, v in top], file=sys.stderr)
    print(f"sigma {res['sigma']} (mcse {res['sigma_mcse']}); average effect {res['average_effect']} "
          f"(mcse {res['average_effect_mcse']}, posterior sd {res['average_effect_sd']})", file=sys.stderr)
    print(json.dumps(res))
