r"""``causal_impact``: Bayesian structural time series for an intervention.

Gaussian models are sampled by Gibbs sampling (:mod:`.gibbs`, CausalImpact's algorithm),
negative-binomial models by Pólya-Gamma Gibbs sampling (:mod:`.gibbs_counts`) or NUTS,
Poisson models with NUTS in PyMC (:mod:`.model`). The model is fitted to the pre-period only;
the counterfactual for the post-period is
forecast in numpy from every posterior draw (:mod:`.forecast`) and compared with what
happened (:mod:`.impact`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..errors import ConvergenceWarning, DesignError, DesignWarning, InferenceWarning, warn
from ..estimators import register_estimator
from ..inference.counts import events_prevented_draws
from ..options import renamed_arguments
from .design import PRIOR_LEVEL_SD, make_design
from .diagnostics import mcmc_diagnostics
from .forecast import forecast_eta, in_sample_eta, observe, one_step_checks, posterior_arrays
from .impact import cumulative_frame, impact_table, path_frame, tail_probability
from .inputs import series_inputs
from .result import BSTSEffect

__all__ = ["GIBBS_AUTO", "causal_impact", "check_option"]

Likelihood = Literal["gaussian", "poisson", "negative_binomial"]
Trend = Literal["local_level", "local_linear_trend"]
RegressionPrior = Literal["spike_and_slab", "horseshoe"]
Backend = Literal["auto", "gibbs", "pymc", "mle"]

#: Likelihoods that ``backend="auto"`` samples with the Gibbs samplers.
GIBBS_AUTO = ("gaussian", "negative_binomial")

#: Draws per chain when ``draws`` is not given (CausalImpact's ``niter``).
DEFAULT_DRAWS = 1000
#: With ``draws=None`` and the Gibbs backend, draws are doubled up to this many per chain
#: while the convergence checks fail.
MAX_AUTO_DRAWS = 8000

_OPTIONS = {
    "likelihood": ("gaussian", "poisson", "negative_binomial"),
    "trend": ("local_level", "local_linear_trend"),
    "regression_prior": ("spike_and_slab", "horseshoe"),
    "backend": ("auto", "gibbs", "pymc", "mle"),
}


def check_option(name: str, value) -> None:
    """Fail fast on a misspelt option, listing the allowed values."""
    allowed = _OPTIONS[name]
    if value not in allowed:
        raise DesignError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}.")


def _gibbs_available(likelihood: str) -> bool:
    """The count Gibbs sampler needs the ``polyagamma`` package (NUTS is the fallback)."""
    if likelihood == "gaussian":
        return True
    try:
        import polyagamma  # noqa: F401
    except ImportError:
        return False
    return True


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


@register_estimator("causal_impact", family="timeseries",
                    summary="Bayesian structural time series (CausalImpact), Gaussian or counts")
@renamed_arguments(study_or_series="study")
def causal_impact(
    study,
    controls=None,
    pre_period=None,
    post_period=None,
    *,
    likelihood: Likelihood = "gaussian",
    exposure=None,
    trend: Trend = "local_level",
    seasonality=None,
    regression_prior: RegressionPrior = "spike_and_slab",
    standardize: bool = True,
    prior_level_sd: float | None = None,
    expected_model_size: float = 3,
    log_controls: bool | None = None,
    draws: int | None = None,
    tune: int = 1000,
    chains: int = 2,
    backend: Backend = "auto",
    random_state=None,
    level: float = 0.95,
    sampler: str | None = None,
) -> BSTSEffect:
    r"""Estimate an intervention's effect with a Bayesian structural time-series model.

    The treated series is modelled over the pre-period as a latent random walk (local level
    or local linear trend) plus a regression on control series and optional seasonality;
    the counterfactual post-period series is forecast from each posterior draw, and the
    effect is observed minus counterfactual (Brodersen et al., 2015).

    Gaussian (on the standardised outcome):

    .. math::

        y_t = \mu_t + x_t^\top\beta + f_t^\top\gamma + \varepsilon_t,\quad
        \varepsilon_t \sim N(0, \sigma_\varepsilon^2),\quad
        \mu_t = \mu_{t-1} + \delta_{t-1} + \sigma_\mu z_t .

    Counts (log link, exposure :math:`E_t`):

    .. math::

        y_t \sim \text{Poisson}(E_t e^{\eta_t})\ \text{or}\
        \text{NegBin}(E_t e^{\eta_t}, \phi), \quad
        \eta_t = \mu_t + x_t^\top\beta + f_t^\top\gamma .

    Parameters
    ----------
    study : Study, pandas.DataFrame or pandas.Series
        A :class:`~utvardering.Study` with one treated unit (its outcome is modelled, the
        donors' outcomes are the controls, pre/post periods come from the study), or a
        DataFrame whose first column is the outcome and other columns the controls, or a
        Series with ``controls=``. Rows are consecutive time steps.
    controls : pandas.DataFrame, optional
        Control series, same index as the outcome.
    pre_period, post_period : (label, label), optional
        First and last index labels of the pre- and post-periods (needed unless a Study).
    likelihood : {"gaussian", "poisson", "negative_binomial"}, default "gaussian"
        Observation model. Count likelihoods use a log link and ``log(exposure)`` offset.
    exposure : str, array or pandas.Series, optional
        Population at risk (counts only); default the Study's exposure column.
    trend : {"local_level", "local_linear_trend"}, default "local_level"
        Latent state.
    seasonality : (int, int or "dummies"), optional
        ``(period, harmonics)`` Fourier terms or ``(period, "dummies")``, static coefficients.
    regression_prior : {"spike_and_slab", "horseshoe"}, default "spike_and_slab"
        Prior on control coefficients; spike-and-slab is a two-component normal mixture with
        indicators summed out (see the methods page for how it differs from bsts).
    standardize : bool, default True
        Standardise the Gaussian outcome with its pre-period mean and s.d. (controls are
        always standardised).
    prior_level_sd : float, optional
        Prior guess of the level innovation s.d. as a share of a scale :math:`s`
        (CausalImpact's ``prior.level.sd``; prior
        :math:`\sigma_\mu^2 \sim \text{Inv-Gamma}(16, 16\,(\text{prior\_level\_sd}\cdot s)^2)`).
        Gaussian: :math:`s` is the pre-period s.d. of the outcome and the default is 0.01, as
        in CausalImpact. Counts: :math:`s` is the pre-period s.d. of the log rate net of
        Poisson noise (:func:`~utvardering.timeseries.design.latent_log_rate_sd`) and the
        default is 0.1, CausalImpact's recommended "safer" value when the controls leave much
        of the series unexplained (on small counts they do; ``docs/methods/bsts_recovery.md``).
    expected_model_size : float, default 3
        Expected number of controls in the spike-and-slab model.
    log_controls : bool, optional
        Use ``log(control + 0.5)``; default true for count likelihoods with non-negative
        controls.
    draws : int, optional
        Kept draws per chain. Default ``None``: 1,000 (CausalImpact's ``niter``), and with the
        Gibbs backend doubled (to at most ``MAX_AUTO_DRAWS``) while the chains fail the
        convergence checks (r-hat above 1.01 or bulk/tail ESS below 100 per chain); the draws
        used are in ``diagnostics["draws"]``. An explicit number is used as given.
    tune, chains : int, default 1000, 2
        Warm-up (NUTS tuning or Gibbs burn-in) per chain, and the number of chains.
    backend : {"auto", "gibbs", "pymc", "mle"}, default "auto"
        ``"gibbs"``: Gibbs sampler with forward-filtering backward-sampling of the states
        (CausalImpact's algorithm, linear in the series length, no compilation beyond
        numba's cached kernels); Gaussian, and negative binomial by Pólya-Gamma
        augmentation (:mod:`.gibbs_counts`; not Poisson). ``"pymc"``: NUTS on the
        non-centred model (any likelihood). ``"mle"``: statsmodels
        ``UnobservedComponents`` (Gaussian only; parameter uncertainty from the asymptotic
        normal approximation). ``"auto"``: ``"gibbs"`` for the likelihoods in
        ``GIBBS_AUTO`` (Gaussian and negative binomial; the latter when the ``polyagamma``
        package is installed), else ``"pymc"``.
    random_state : int or numpy.random.Generator, optional
        Seed for the sampler and the forecasts.
    level : float, default 0.95
        Credible-interval coverage.
    sampler : {"nutpie", "pymc"}, optional
        NUTS implementation for ``backend="pymc"``; default nutpie when installed.

    Returns
    -------
    BSTSEffect
        Average effect per post-period (``estimate``) with credible interval, the
        CausalImpact table (``table``), pointwise and cumulative paths, tail-area
        probability (``p_value``), probability of a causal effect (``prob``), and for
        counts ``rate_ratio`` and ``events_prevented``; diagnostics and ``idata``.

    References
    ----------
    Brodersen, K. H., Gallusser, F., Koehler, J., Remy, N. & Scott, S. L. (2015). Inferring
    causal impact using Bayesian structural time-series models. *Annals of Applied
    Statistics*, 9(1), 247–274.
    """
    for name, value in (("likelihood", likelihood), ("trend", trend),
                        ("regression_prior", regression_prior), ("backend", backend)):
        check_option(name, value)
    if prior_level_sd is None:
        prior_level_sd = PRIOR_LEVEL_SD[likelihood]
    if not prior_level_sd > 0:
        raise DesignError(f"prior_level_sd must be positive, got {prior_level_sd}.")
    if not 0 < level < 1:
        raise DesignError(f"level must be between 0 and 1, got {level}.")
    if backend == "auto":
        backend = "gibbs" if likelihood in GIBBS_AUTO and _gibbs_available(likelihood) else "pymc"
    if backend == "mle" and likelihood != "gaussian":
        raise DesignError(f"backend='mle' fits the Gaussian model only; use "
                          f"backend='pymc' (or 'auto') for likelihood={likelihood!r}.")
    if backend == "gibbs" and likelihood == "poisson":
        raise DesignError("backend='gibbs' has no Poisson sampler (the Pólya-Gamma "
                          "augmentation mixes badly in the Poisson limit); use backend='pymc' "
                          "(or 'auto'), or likelihood='negative_binomial' with 'gibbs'.")
    inputs = dict(study=study, controls=controls, pre_period=pre_period,
                  post_period=post_period, likelihood=likelihood, exposure=exposure, trend=trend,
                  seasonality=seasonality, regression_prior=regression_prior,
                  standardize=standardize, prior_level_sd=prior_level_sd,
                  expected_model_size=expected_model_size, log_controls=log_controls,
                  draws=draws, tune=tune, chains=chains, backend=backend, level=level,
                  sampler=sampler)
    inp = series_inputs(study, controls, pre_period, post_period, exposure)
    if likelihood != "gaussian" and inp.exposure is None and exposure is not None:
        raise DesignError("exposure could not be resolved.")
    design = make_design(inp, likelihood=likelihood, trend=trend, seasonality=seasonality,
                         regression_prior=regression_prior, standardize=standardize,
                         prior_level_sd=prior_level_sd, expected_model_size=expected_model_size,
                         log_controls=log_controls)
    rng = _rng(random_state)
    seed = int(rng.integers(0, 2**31 - 1))
    if backend == "mle":
        from .mle import fit_mle

        n_draws = DEFAULT_DRAWS if draws is None else draws
        post, idata, timing = fit_mle(design, draws=n_draws * chains, rng=rng)
        diag = {"backend": "mle", **timing, "draws": n_draws}
    elif backend == "gibbs":
        if likelihood == "gaussian":
            from .gibbs import fit_gibbs
        else:
            from .gibbs_counts import fit_gibbs_counts as fit_gibbs

        n_draws = DEFAULT_DRAWS if draws is None else draws
        while True:
            idata, timing = fit_gibbs(design, draws=n_draws, tune=tune, chains=chains, seed=seed)
            checks = mcmc_diagnostics(idata, chains)
            if draws is not None or not checks["_warnings"] or 2 * n_draws > MAX_AUTO_DRAWS:
                break
            n_draws *= 2
        post = posterior_arrays(idata)
        diag = {"backend": "gibbs", **timing, **checks, "draws": n_draws}
    else:
        from .model import sample_model

        n_draws = DEFAULT_DRAWS if draws is None else draws
        idata, timing = sample_model(design.spec, design.data, draws=n_draws, tune=tune,
                                     chains=chains, random_state=seed, sampler=sampler)
        post = posterior_arrays(idata)
        diag = {"backend": "pymc", **timing, **mcmc_diagnostics(idata, chains), "draws": n_draws}
    return _assemble(inp, design, post, idata, diag, rng, likelihood, level, inputs)


def _assemble(inp, design, post, idata, diag, rng, likelihood, level, inputs) -> BSTSEffect:
    y_all = inp.y
    pre_rows, fc_rows = design.pre_rows, design.forecast_rows
    X_pre, F_pre = design.data["X"], design.data["F"]
    eta_pre = in_sample_eta(post, X_pre, F_pre)
    eta_fc = forecast_eta(post, design.X_f, design.F_f, len(fc_rows), rng)
    off_pre = design.data["offset"] if likelihood != "gaussian" else None
    state_pre, samp_pre = observe(eta_pre, post, likelihood, off_pre, rng)
    state_fc, samp_fc = observe(eta_fc, post, likelihood, design.offset_f, rng)
    if likelihood == "gaussian":
        state_pre, samp_pre, state_fc, samp_fc = (
            a * design.y_sd + design.y_mean for a in (state_pre, samp_pre, state_fc, samp_fc))
    checks = one_step_checks(post, design.data["y"], X_pre, F_pre, likelihood, off_pre, rng)
    diag.update({f"pre_{k}": v for k, v in checks.items()})
    in_post = inp.post[fc_rows]
    y_post = y_all[fc_rows][in_post]
    table = impact_table(y_post, samp_fc[:, in_post], state_fc[:, in_post], level)
    p = tail_probability(float(y_post.sum()), samp_fc[:, in_post].sum(axis=1))
    rows = np.concatenate([pre_rows, fc_rows])
    path = path_frame(inp.index[rows], y_all[rows], np.concatenate([state_pre, state_fc], axis=1),
                      np.concatenate([samp_pre, samp_fc], axis=1), level)
    post_index = inp.index[fc_rows][in_post]
    cumulative = cumulative_frame(post_index, y_post, state_fc[:, in_post],
                                  samp_fc[:, in_post], level)
    diag["rmspe_pre"] = float(np.sqrt(np.mean((y_all[pre_rows] - state_pre.mean(axis=0)) ** 2)))
    _warn(diag, likelihood, table, path, inp)
    avg = table.loc["Average"]
    extra = {}
    if likelihood != "gaussian":
        q = [(1 - level) / 2, (1 + level) / 2]
        sums = samp_fc[:, in_post].sum(axis=1)
        ratio = y_post.sum() / sums[sums > 0]
        prevented, prevented_interval = events_prevented_draws(
            samp_fc[:, in_post], y_post, level, expected=state_fc[:, in_post])
        extra = dict(rate_ratio=float(np.median(ratio)),
                     rate_ratio_interval=tuple(np.quantile(ratio, q)),
                     events_prevented=prevented, events_prevented_interval=prevented_interval)
    relative = (extra["rate_ratio"] - 1.0) if extra else float(avg["rel_effect"])
    rel_int = ((extra["rate_ratio_interval"][0] - 1.0, extra["rate_ratio_interval"][1] - 1.0)
               if extra else (float(avg["rel_effect_lower"]), float(avg["rel_effect_upper"])))
    params = {k: v for k, v in inputs.items()
              if k not in ("study", "controls", "exposure")}
    params["seasonality"] = None if params["seasonality"] is None else list(params["seasonality"])
    for key in ("pre_period", "post_period"):
        params[key] = None if params[key] is None else [str(v) for v in params[key]]
    params["controls"] = list(inp.control_names)
    return BSTSEffect(
        method="bsts", estimate=float(avg["abs_effect"]),
        interval=(float(avg["abs_effect_lower"]), float(avg["abs_effect_upper"])), level=level,
        se=float(avg["abs_effect_sd"]), relative=relative, relative_interval=rel_int,
        p_value=p, prob=1.0 - p, path=path, diagnostics=diag, outcome=inp.outcome,
        scale="outcome units per period",
        estimand="average effect per post-period (observed minus counterfactual)",
        n_treated=1, n_control=len(inp.control_names), start=inp.start, params=params,
        table=table, cumulative=cumulative, likelihood=likelihood, idata=idata,
        inputs={**inputs}, **extra,
    )


def _warn(diag: dict, likelihood: str, table, path, inp) -> None:
    """Turn the diagnostics into warnings (problems) and notes (worth knowing, not a problem).

    Too-*wide* pre-period predictive intervals are conservative: CausalImpact's informative
    prior on the observation s.d. does this whenever the controls fit better than it assumes
    (its own comparison data, Prop 99). That is recorded in ``diagnostics["notes"]``, not
    warned about; too-*narrow* intervals, autocorrelated residuals, non-converged chains and
    negative counterfactual counts are warnings.
    """
    notes = diag.setdefault("warnings", [])
    remarks = diag.setdefault("notes", [])
    convergence = list(diag.pop("_warnings", []))
    notes.extend(convergence)
    calibration = []
    if diag.get("pre_pit_ks_p", 1.0) < 0.01:
        wide = diag.get("pre_resid_sd", 1.0) < 1.0
        message = (f"pre-period one-step-ahead forecasts are miscalibrated (PIT uniformity "
                   f"p = {diag['pre_pit_ks_p']:.3g}, standardised residual s.d. "
                   f"{diag.get('pre_resid_sd', float('nan')):.2f}): the predictive intervals "
                   f"look too {'wide' if wide else 'narrow'} for the pre-period data"
                   + (" (CausalImpact's informative prior on the observation s.d. when the "
                      "controls fit well); the effect's interval is conservative." if wide else
                      "; check trend, seasonality and likelihood."))
        if wide:
            remarks.append(message)
        else:
            calibration.append(message)
    if diag.get("pre_resid_ljung_box_p", 1.0) < 0.01:
        calibration.append(f"pre-period one-step-ahead residuals are autocorrelated (Ljung–Box "
                           f"p = {diag['pre_resid_ljung_box_p']:.3g}); consider seasonality or "
                           "a trend.")
    design_notes = []
    if likelihood == "gaussian" and (inp.y[inp.pre] >= 0).all() and \
            (path["counterfactual_low"] < 0).any():
        design_notes.append("the Gaussian counterfactual interval includes negative values for a "
                            "non-negative outcome; for counts use likelihood='poisson' or "
                            "'negative_binomial'.")
    notes.extend(calibration + design_notes)
    for note in convergence:
        warn(note, ConvergenceWarning)
    for note in calibration:
        warn(note, InferenceWarning)
    for note in design_notes:
        warn(note, DesignWarning)
