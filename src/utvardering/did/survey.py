"""DiD on repeated cross-sections of survey respondents (weights, clustering by area).

Respondent :math:`r` in area :math:`a` and wave :math:`t` with survey weight :math:`w_r`:

* **linear** (default): weighted least squares of the item (or of
  :math:`1[\\text{answer} \\ge c]` for an ordinal item with ``threshold=c``) on area and wave
  effects and :math:`D_{at} = 1[a \\text{ treated}, t \\ge \\text{start}]`,

  .. math:: y_r = \\alpha_a + \\lambda_t + \\beta D_{at} + x_r'\\gamma + u_r .

  With a 0/1 outcome this is the linear probability model: :math:`\\beta` is the change in
  the *population* share (weights make it a population, not a sample, quantity).
* **ordered_logit**: the proportional-odds model
  :math:`P(Y_r \\le j) = \\Lambda(\\kappa_j - \\alpha_a - \\lambda_t - \\beta D_{at})`, fitted by
  weighted pseudo-maximum likelihood (area and wave effects as dummies); :math:`\\beta` is a
  log odds ratio of answering higher. Limitations: the effect is on a latent scale, the
  proportional-odds assumption is not tested, and the incidental-parameter bias of the
  dummies is small only with many respondents per area.

Inference clusters by area (CR1, sandwich for the ordered logit). With one treated area
the cluster-robust errors are invalid: a warning says so, and ``inference="randomization"``
(reassigning the treated area, exact) or ``inference="wild"`` can be asked for.

References
----------
Lumley, T. (2010). *Complex Surveys*. Wiley.
Solon, G., Haider, S. J. & Wooldridge, J. M. (2015). What are we weighting for?
*Journal of Human Resources* 50(2), 301–316.
McCullagh, P. (1980). Regression models for ordinal data. *JRSS B* 42(2), 109–142.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from .._numerics.fixed_effects import factorize
from ..data.schema_micro import SurveyData, validate_survey
from ..data.timeparse import to_period
from ..errors import DataError, DesignError
from ..estimators import register_estimator
from ..inference.cluster import coefficient_table, few_cluster_warnings, small_sample_factor
from ..options import check_level, check_option
from ..study import Study
from ._design import PanelDesign, check_finite, renamed_first_argument
from .fe_regression import apply_inference, fit_fe_regression, guard_inference, spread
from .result import SurveyDiDEffect

__all__ = ["SurveyStudy", "ordered_logit", "survey_did"]


def _ordered_nll(params, X, y, w, n_cut):
    beta, raw = params[:X.shape[1]], params[X.shape[1]:]
    cuts = np.concatenate([[raw[0]], raw[0] + np.cumsum(np.exp(raw[1:]))])
    eta = X @ beta
    upper = np.append(cuts, np.inf)[y] - eta
    lower = np.insert(cuts, 0, -np.inf)[y] - eta
    prob = special.expit(upper) - special.expit(lower)
    return -float(np.sum(w * np.log(np.clip(prob, 1e-300, None))))


def _score_parts(params, X, y, w, n_cut):
    k = X.shape[1]
    beta, raw = params[:k], params[k:]
    cuts = np.concatenate([[raw[0]], raw[0] + np.cumsum(np.exp(raw[1:]))])
    eta = X @ beta
    fu = special.expit(np.append(cuts, np.inf)[y] - eta)
    fl = special.expit(np.insert(cuts, 0, -np.inf)[y] - eta)
    prob = np.clip(fu - fl, 1e-300, None)
    gu, gl = w * fu * (1 - fu) / prob, w * fl * (1 - fl) / prob   # density ratios, 0 at ±inf
    jac = np.zeros((n_cut, n_cut))
    jac[:, 0] = 1.0
    for m in range(1, n_cut):
        jac[m:, m] = np.exp(raw[m])
    return gu, gl, jac


def _obs_scores(params, X, y, w, n_cut):
    """Per-observation gradients of the weighted log-likelihood (analytic)."""
    gu, gl, jac = _score_parts(params, X, y, w, n_cut)
    g_cut = np.zeros((len(y), n_cut))
    rows = np.arange(len(y))
    up, low = y < n_cut, y > 0
    g_cut[rows[up], y[up]] += gu[up]
    g_cut[rows[low], y[low] - 1] -= gl[low]
    return np.column_stack([-(gu - gl)[:, None] * X, g_cut @ jac])


def _total_score(params, X, y, w, n_cut):
    """Sum of :func:`_obs_scores` without forming the n × p matrix."""
    gu, gl, jac = _score_parts(params, X, y, w, n_cut)
    up, low = y < n_cut, y > 0
    g_cut = (np.bincount(y[up], weights=gu[up], minlength=n_cut)
             - np.bincount(y[low] - 1, weights=gl[low], minlength=n_cut))
    return np.concatenate([-X.T @ (gu - gl), g_cut @ jac])


def ordered_logit(y: np.ndarray, X: np.ndarray, weights: np.ndarray, clusters: np.ndarray):
    """Weighted proportional-odds logit with a cluster-robust sandwich.

    Parameters
    ----------
    y : numpy.ndarray
        Answers coded 0..J-1.
    X : numpy.ndarray
        Regressors without intercept (n × k).
    weights : numpy.ndarray
        Survey weights (normalised to mean one internally).
    clusters : numpy.ndarray
        Integer cluster codes.

    Returns
    -------
    coef : numpy.ndarray
        The k slopes.
    vcov : numpy.ndarray
        Their CR1 sandwich variance :math:`c\\,H^{-1}(\\sum_g s_g s_g')H^{-1}`.
    """
    n_cat = int(y.max()) + 1
    n_cut = n_cat - 1
    w = weights / weights.mean()
    shares = np.cumsum(np.bincount(y, weights=w, minlength=n_cat))[:-1] / w.sum()
    cuts0 = special.logit(np.clip(shares, 1e-3, 1 - 1e-3))
    start = np.concatenate([np.zeros(X.shape[1]), [cuts0[0]], np.log(np.maximum(np.diff(cuts0), 1e-2))])

    def grad(p, *_):
        return -_total_score(p, X, y, w, n_cut)

    res = optimize.minimize(_ordered_nll, start, args=(X, y, w, n_cut), jac=grad, method="BFGS",
                            options={"gtol": 1e-7, "maxiter": 2000})
    p = res.x
    scores = _obs_scores(p, X, y, w, n_cut)
    h = np.zeros((len(p), len(p)))
    for j in range(len(p)):
        step = np.zeros(len(p))
        step[j] = 1e-5
        h[:, j] = (grad(p + step) - grad(p - step)) / 2e-5
    h = (h + h.T) / 2
    bread = np.linalg.inv(h)
    g = int(clusters.max()) + 1
    sg = np.zeros((g, len(p)))
    np.add.at(sg, clusters, scores)
    c = small_sample_factor(len(y), len(p), g)
    V = c * bread @ (sg.T @ sg) @ bread
    k = X.shape[1]
    return p[:k], V[:k, :k]


#: Below this many treated areas ``inference="auto"`` uses the wild cluster bootstrap.
WILD_BELOW_TREATED = 20


@dataclass(frozen=True)
class SurveyStudy:
    """A survey design: respondent micro-data, the item analysed, who is treated from when.

    The Study of :func:`survey_did` (one row per respondent and wave, so not a panel
    :class:`~utvardering.study.Study`); built by :meth:`from_keywords` from the Study keywords
    the command line passes, e.g. ``utvardering estimate survey_did --data survey.csv
    --outcome unsafe_evening --treated Möllevången --start 2021``.

    Attributes
    ----------
    data : pandas.DataFrame or SurveyData
        The responses (validated by :func:`survey_did`).
    item : str
        The survey item analysed (the ``outcome``).
    treated : list
        Treated areas.
    start, end : period-like
        First and (optionally) last treated wave.
    exclude : list
        Areas left out.
    unit, time : str
        Area and wave columns.
    """

    data: Any
    item: str
    treated: list
    start: Any
    end: Any = None
    exclude: list = field(default_factory=list)
    unit: str = "unit"
    time: str = "time"

    @classmethod
    def from_keywords(cls, data, *, outcome: str, unit: str = "unit", time: str = "time",
                      treated=None, start=None, end=None, exclude=None, cohort=None,
                      donors=None, exposure=None, counts=None, covariates=None,
                      min_pre_periods=None, **others: Any) -> SurveyStudy:
        """Build a SurveyStudy from the Study keywords (as the registry's design builder).

        Raises
        ------
        DesignError
            For Study keywords a survey design cannot use (``cohort``, ``donors``,
            ``exposure``, ...), naming them.
        """
        unused = {"cohort": cohort, "donors": donors, "exposure": exposure,
                  "covariates": covariates, **others}
        unusable = sorted(k for k, v in unused.items() if v not in (None, [], (), False))
        if unusable:
            raise DesignError(f"survey_did cannot use {unusable}: name the treated areas and "
                              "the first treated wave (treated=, start=); respondent controls "
                              "go in survey_did(..., covariates=[...]).")
        if treated is None or start is None:
            raise DesignError("survey_did needs the treated areas and the first treated wave "
                              "(treated=, start=; on the command line --treated and --start).")
        treated = [treated] if isinstance(treated, str) else list(treated)
        return cls(data=data, item=outcome, treated=treated, start=start, end=end,
                   exclude=list(exclude or []), unit=unit, time=time)


def _resolve_inference(inference: str, model: str, n_treated: int) -> tuple[str, str]:
    """The inference ``"auto"`` stands for, and why."""
    if inference != "auto":
        return inference, "asked for"
    if model != "linear":
        return "cluster", "auto: the ordered logit has cluster-robust (CR1) inference only"
    if n_treated == 1:
        return "randomization", ("auto: one treated area, so cluster-robust and wild bootstrap "
                                 "inference are invalid; the treated area is reassigned exactly")
    if n_treated < WILD_BELOW_TREATED:
        return "wild", (f"auto: {n_treated} treated areas (fewer than {WILD_BELOW_TREATED}); "
                        "CR1 t-tests over-reject with few treated clusters, so the wild cluster "
                        "restricted bootstrap (Webb weights) is used")
    return "cluster", f"auto: {n_treated} treated areas support cluster-robust (CR1) inference"


@register_estimator("survey_did", family="did",
                    summary="DiD on repeated survey cross-sections with weights, clustered by area",
                    design=SurveyStudy.from_keywords)
@renamed_first_argument("data")
def survey_did(
    study,
    *,
    item: str | None = None,
    treated=None,
    start=None,
    end=None,
    respondent: str = "respondent",
    unit: str = "unit",
    time: str = "time",
    weight: str = "weight",
    item_range: tuple[int, int] | None = None,
    threshold: int | None = None,
    model: Literal["linear", "ordered_logit"] = "linear",
    covariates=None,
    exclude=None,
    inference: Literal["auto", "cluster", "wild", "randomization"] = "auto",
    n_draws: int = 9999,
    weights_type: Literal["rademacher", "webb"] = "webb",
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
) -> SurveyDiDEffect:
    """DiD for a survey item: treated areas vs comparison areas, before vs after.

    Parameters
    ----------
    study : SurveyStudy, SurveyData or pandas.DataFrame
        Survey micro-data (see :func:`~utvardering.data.schema_micro.validate_survey`), with
        ``item``, ``treated`` and ``start`` given here, or a :class:`SurveyStudy` that carries
        them (what ``utvardering estimate survey_did`` builds). A panel
        :class:`~utvardering.study.Study` of area means is refused: use
        :func:`~utvardering.did.twfe.twfe` for those.
    item : str
        Item analysed (0/1, or ordinal such as Likert 1–4).
    treated : str or list of str
        Treated areas.
    start : period-like
        First treated survey wave (e.g. ``2021``).
    end : period-like, optional
        Last treated wave (later waves are left out).
    respondent, unit, time, weight : str
        Column names of the survey contract.
    item_range : (int, int), optional
        Allowed answers (default: the observed minimum and maximum).
    threshold : int, optional
        Analyse the share answering ``threshold`` or higher (e.g. 3 = "fairly or very
        unsafe" on a 1–4 scale).
    model : {"linear", "ordered_logit"}, default "linear"
        Weighted linear (probability) model or weighted proportional-odds logit.
    covariates : list of str, optional
        Respondent-level controls (e.g. age, sex dummies).
    exclude : list of str, optional
        Areas left out (e.g. neighbours that may be affected).
    inference : {"auto", "cluster", "wild", "randomization"}, default "auto"
        Linear model only for ``"wild"`` and ``"randomization"`` (see
        :func:`~utvardering.did.twfe.twfe`). ``"auto"`` picks from the number of treated
        areas :math:`G_1`: randomization inference (exact reassignment of the treated area)
        when :math:`G_1 = 1`; the wild cluster restricted bootstrap (Webb weights) when
        :math:`G_1 <` :data:`WILD_BELOW_TREATED` (MacKinnon & Webb 2017: CR1 t-tests
        over-reject with few treated clusters; on the simulated school survey, 12 of 60
        treated schools, CR1 intervals covered 89.5 % against 95.5 % for the wild bootstrap
        over 200 draws); cluster-robust CR1 otherwise. The ordered logit always uses CR1.
        The choice and its reason are in ``diagnostics["inference"]``.
    n_draws : int, default 9999
        Bootstrap draws or random reassignments.
    weights_type : {"rademacher", "webb"}, default "webb"
        Wild bootstrap weights (Webb: areas are usually few).
    level : float, default 0.95
        Interval coverage.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    SurveyDiDEffect
        ``estimate`` on the population scale (change in share / mean answer) for the linear
        model, log odds ratio for the ordered logit; ``cell_means`` the weighted means by
        group and wave.
    """
    check_option("model", model, ("linear", "ordered_logit"))
    check_option("inference", inference, ("auto", "cluster", "wild", "randomization"))
    check_option("weights_type", weights_type, ("rademacher", "webb"))
    level = check_level(level)
    if model == "ordered_logit" and inference not in ("auto", "cluster"):
        raise DesignError("inference='wild'/'randomization' is available for model='linear' only.")
    data = study
    if isinstance(study, Study):
        raise DesignError("survey_did analyses respondent micro-data (one row per respondent and "
                          "wave); a Study holds one row per area and period. Pass the responses "
                          "(a DataFrame or SurveyData with item=, treated=, start=), or use "
                          "twfe(study) for a panel of area means.")
    if isinstance(study, SurveyStudy):
        given = {k: v for k, v in {"item": item, "treated": treated, "start": start,
                                   "end": end, "exclude": exclude}.items() if v is not None}
        if given:
            raise DesignError(f"survey_did: got a SurveyStudy and also {sorted(given)}; the "
                              "SurveyStudy already says what is analysed and who is treated.")
        data, item, treated, start, end = (study.data, study.item, study.treated, study.start,
                                           study.end)
        exclude, unit, time = study.exclude or None, study.unit, study.time
    if item is None or treated is None or start is None:
        raise DesignError("survey_did needs item=, treated= and start= (or a SurveyStudy).")
    sd = data if isinstance(data, SurveyData) else None
    if sd is None:
        if item not in getattr(data, "columns", []):
            raise DataError(f"item column {item!r} is not in the data.")
        values = pd.to_numeric(data[item], errors="coerce")
        rng = item_range or (int(np.nanmin(values)), int(np.nanmax(values)))
        sd = validate_survey(data, respondent=respondent, unit=unit, time=time, weight=weight,
                             items={item: rng})
    frame = sd.data
    unit, time, weight = sd.unit, sd.time, sd.weight
    treated = [treated] if isinstance(treated, str) else list(treated)
    unknown = [a for a in treated if a not in set(frame[unit])]
    if unknown:
        raise DesignError(f"treated area(s) {unknown} are not in column {unit!r}.")
    if exclude:
        frame = frame.loc[~frame[unit].isin(list(exclude))]
    freq = frame[time].dtype.freq if isinstance(frame[time].dtype, pd.PeriodDtype) else None
    s = to_period(start, freq.name if freq is not None else None) if freq is not None else start
    post = frame[time] >= s
    if end is not None:
        e = to_period(end, freq.name) if freq is not None else end
        frame, post = frame.loc[frame[time] <= e], post.loc[frame[time] <= e]
    if not post.any() or post.all():
        raise DesignError(f"start {start!r} leaves no pre- or no post-period waves in {time!r}.")
    answered = frame[item].notna()
    n_nonresponse = int((~answered).sum())
    frame, post = frame.loc[answered].reset_index(drop=True), post.loc[answered].to_numpy()
    answers = frame[item].astype(int)
    if threshold is not None:
        y = (answers >= threshold).to_numpy(float)
    else:
        y = answers.to_numpy(float)
    in_treated = frame[unit].isin(treated).to_numpy()
    treat = (in_treated & post).astype(float)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    check_finite(frame, [*covariates, weight])
    design = PanelDesign(frame=frame, outcome=item, unit=unit, time=time, covariates=covariates,
                         weights=weight, cluster=unit, treated_units=treated, treat=treat, y=y)
    n_cl = int(frame[unit].nunique())
    n_tr = len(treated)
    warn = few_cluster_warnings(n_cl, n_tr, what="cluster-robust (by area) standard errors")
    if n_nonresponse:
        warn.append(f"{n_nonresponse} respondent(s) did not answer {item!r} and were left out "
                    "(item non-response; the weights are not re-calibrated).")
    diagnostics = {"n_respondents": len(frame), "n_areas": n_cl, "n_treated_areas": n_tr,
                   "item_nonresponse": n_nonresponse, "warnings": warn}
    inference, reason = _resolve_inference(inference, model, n_tr)
    diagnostics["inference"] = {"method": inference, "reason": reason}
    if model == "linear":
        regs = pd.concat([pd.DataFrame({"treatment": treat}), frame[covariates]], axis=1)
        res = fit_fe_regression(design, regs, level=level)
        table, df = res.table, res.df
        vcov = pd.DataFrame(res.vcov, index=res.names, columns=res.names)
        row = table.loc["treatment"]
        est, se = float(row["estimate"]), float(row["se"])
        interval, p_value = apply_inference(design, res, inference, diagnostics, n_draws=n_draws,
                                            weights_type=weights_type, level=level,
                                            random_state=random_state)
        se, interval, p_value = guard_inference(est, se, interval, p_value, warn,
                                                spread=spread(y), what="cluster-robust (by area)",
                                                check_se=inference == "cluster")
        scale = "share (population)" if threshold is not None or set(answers.unique()) <= {0, 1} \
            else "mean answer (population)"
    else:  # ordered logit
        ylev = answers - answers.min()
        dummies = pd.get_dummies(frame[[unit, time]].astype(str), drop_first=True, dtype=float)
        X = np.asfortranarray(np.column_stack([treat, frame[covariates].to_numpy(float),
                                               dummies.to_numpy()]))
        coef, V = ordered_logit(ylev.to_numpy(), X, frame[weight].to_numpy(float),
                                factorize(frame[unit])[0])
        names = ["treatment", *covariates]
        k = len(names)
        table = coefficient_table(names, coef[:k], V[:k, :k], n_cl - 1, level)
        vcov = pd.DataFrame(V[:k, :k], index=names, columns=names)
        row = table.loc["treatment"]
        est, se = float(row["estimate"]), float(row["se"])
        interval, p_value, df = (float(row["low"]), float(row["high"])), float(row["p_value"]), n_cl - 1
        scale = "log odds ratio (proportional odds)"
    diagnostics["df"] = df
    cells = (pd.DataFrame({"group": np.where(in_treated, "treated", "comparison"),
                           time: frame[time].to_numpy(), "wy": y * frame[weight].to_numpy(float),
                           "w": frame[weight].to_numpy(float)})
             .groupby(["group", time]).agg(wy=("wy", "sum"), w=("w", "sum"), n=("w", "size")))
    cells["mean"] = cells["wy"] / cells["w"]
    cells = cells[["mean", "n"]]
    return SurveyDiDEffect(
        method="survey_did", estimate=est, interval=interval, level=level, se=se,
        p_value=p_value, diagnostics=diagnostics, outcome=item, scale=scale,
        estimand=("change in the population share answering "
                  f">= {threshold}" if threshold is not None else "change in the population mean")
        + " in treated areas relative to comparison areas" if model == "linear"
        else "log odds ratio of a higher answer (treated vs counterfactual)",
        n_treated=n_tr, n_control=n_cl - n_tr, start=str(start), coefficients=table, vcov=vcov,
        cell_means=cells, item=item, threshold=threshold,
        params={"model": model, "threshold": threshold, "inference": inference,
                "covariates": covariates, "exclude": list(exclude or [])},
    )
