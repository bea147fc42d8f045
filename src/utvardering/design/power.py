"""Simulation-based power on the user's own panel, by injecting known effects into placebos.

For one treated city or one guarded square, textbook power formulas do not apply: the noise
that matters is how far the comparison units' path strays from the treated unit's, and that
is only visible in the data themselves. :func:`power` measures it directly. For each simulated
draw it takes a placebo version of the study in which the programme certainly did nothing
(a fake start inside the pre-period, or a donor standing in for the treated unit), injects an
effect of known size, runs the estimator with its own default inference, and records whether
the interval excludes zero (rejection), whether it covers the injected effect (coverage), the
estimate's error (bias) and the interval's width. Across draws this gives the power curve,
the false-positive rate at effect zero and the minimum detectable effect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DesignError, InferenceWarning, warn
from ..executor import Backend, CellFailure, root_seed, run_cells
from ..options import check_level
from ..study import Study
from .inject import PlaceboDesign, inject, placebo_designs, treated_post_mask
from .methods import accepts, resolve_method

__all__ = ["MDE", "PowerResult", "power"]

_PERIODS_PER_YEAR = {"D": 365.25, "W": 52.18, "M": 12.0, "Q": 4.0, "Y": 1.0, "A": 1.0}


@dataclass
class _PowerSetup:
    """Everything a power cell needs; sent once per worker."""

    study: Study
    method: str | Callable
    options: dict
    effects: tuple
    level: float
    designs: list
    post_periods: int
    _cache: dict = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def function(self) -> Callable:
        if "function" not in self._cache:
            self._cache["function"] = resolve_method(self.method)[1]
        return self._cache["function"]

    def frame(self, d: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
        """Placebo design ``d``'s rows, its injected rows and (continuous) their shift base."""
        key = ("frame", d)
        if key not in self._cache:
            if len(self._cache) > 64:  # keep memory flat over many designs
                self._cache = {k: v for k, v in self._cache.items() if k[0] != "frame"}
            self._cache[key] = _design_frame(self.study, self.designs[d])
        return self._cache[key]

    def study_for(self, frame: pd.DataFrame, design: PlaceboDesign) -> Study:
        study = self.study
        if design.kind == "time":
            return study.replace(data=frame, treated=list(design.treated), start=design.starts[0],
                                 end=None, window=None, cohort=None)
        donors = [u for u in study.donors if u not in design.treated]
        if len(set(design.starts)) == 1:
            return study.replace(data=frame, treated=list(design.treated), start=design.starts[0],
                                 donors=donors, window=None, cohort=None)
        return study.replace(data=frame, treated=None, start=None, cohort=None, donors=donors,
                             window=None, starts=dict(zip(design.treated, design.starts)))


def _design_frame(study: Study, design: PlaceboDesign):
    data = study.data
    if design.kind == "time":
        frame = data.loc[data[study.time] <= design.last].reset_index(drop=True)
    else:
        frame = data.loc[~data[study.unit].isin(study.treated)].reset_index(drop=True)
    end = design.last if design.kind == "time" else study.end
    mask = treated_post_mask(frame, study.unit, study.time, design, end)
    shift = None
    if not study.is_count:
        pre = np.zeros(len(frame), dtype=bool)
        units = frame[study.unit].to_numpy()
        shift = np.zeros(len(frame))
        for u, s in zip(design.treated, design.starts):
            rows = units == u
            pre_rows = rows & (frame[study.time] < s).to_numpy()
            shift[rows] = float(frame.loc[pre_rows, study.outcome].mean())
            pre |= pre_rows
        shift = shift[mask]
    return frame, mask, shift


def _power_cell(setup: _PowerSetup, cell: tuple[int, int], seed: np.random.SeedSequence) -> list[dict]:
    """One draw: the placebo design ``cell[1]`` with every effect size injected."""
    draw, d = cell
    design = setup.designs[d]
    study = setup.study
    frame, mask, shift = setup.frame(d)
    y = frame[study.outcome].to_numpy()[mask]
    rng = np.random.default_rng(seed)
    uniforms = rng.random(int(mask.sum()))
    fn = setup.function()
    options = dict(setup.options)
    if accepts(fn, "random_state") and "random_state" not in options:
        options["random_state"] = int(rng.integers(2**31 - 1))
    if accepts(fn, "level") and "level" not in options:
        options["level"] = setup.level
    rows, base = [], math.nan
    for effect in setup.effects:
        new = inject(y, effect, counts=study.is_count, shift_base=shift, uniforms=uniforms)
        row = {"draw": draw, "design": design.label, "effect": effect,
               "injected": float(np.mean(new - y)) if len(y) else math.nan,
               "injected_relative": (float(new.sum() / y.sum() - 1.0) if y.sum() != 0 else math.nan),
               "estimate": math.nan, "low": math.nan, "high": math.nan, "p_value": math.nan,
               "relative": math.nan, "truth": math.nan, "scale": None, "error": ""}
        try:
            data = frame.copy()
            values = data[study.outcome].to_numpy(dtype=np.int64 if study.is_count else float).copy()
            values[mask] = new
            data[study.outcome] = values
            fit = fn(setup.study_for(data, design), **options)
            low, high = fit.interval
            row.update(estimate=float(fit.estimate), low=float(low), high=float(high),
                       p_value=math.nan if fit.p_value is None else float(fit.p_value),
                       relative=math.nan if fit.relative is None else float(fit.relative),
                       scale=fit.scale)
            if not (np.isfinite(low) or np.isfinite(high)):
                row["error"] = "no interval: the estimator returned none (set its inference option)"
        except Exception as exc:
            text = str(exc).strip().splitlines()
            row["error"] = f"{type(exc).__name__}: {text[0] if text else ''}"
        if effect == 0:
            base = row["estimate"]
        row["truth"] = row["estimate"] - base if effect != 0 else 0.0
        rows.append(row)
    return rows


@dataclass(frozen=True)
class MDE:
    """A minimum detectable effect.

    Attributes
    ----------
    relative : float
        Smallest effect (share of the untreated outcome; −0.25 = 25 % fewer) reaching the
        target power, linearly interpolated on the power curve; ``nan`` when no effect in the
        grid reaches it.
    interval : (float, float)
        Monte Carlo interval (95 %) of ``relative`` from a parametric bootstrap of the
        simulated rejection counts.
    power : float
        The target power.
    per_period, per_year : float
        ``relative`` in the outcome's natural unit: events (or outcome units) per treated unit
        per period and per year, against the treated units' pre-period mean.
    interval_per_year : (float, float)
        ``interval`` per year.
    outcome : str
        The outcome's name.
    """

    relative: float
    interval: tuple[float, float]
    power: float
    per_period: float
    per_year: float
    interval_per_year: tuple[float, float]
    outcome: str

    def __str__(self) -> str:
        if not math.isfinite(self.relative):
            return f"no effect in the grid reaches {self.power:.0%} power"
        return (f"MDE at {self.power:.0%} power: {self.relative:+.1%} (Monte Carlo 95% "
                f"{self.interval_text()}), {self.per_year:+.3g} {self.outcome} per year "
                f"({self.per_period:+.3g} per period)")

    def interval_text(self) -> str:
        """The Monte Carlo interval in words (an end beyond the effect grid says so)."""
        ends = ["beyond the grid" if not math.isfinite(v) else f"{v:+.1%}" for v in self.interval]
        return f"{ends[0]} to {ends[1]}"

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _interp_mde(mag: np.ndarray, pw: np.ndarray, target: float) -> float:
    """First crossing of ``target`` along increasing |effect| (linear between grid points)."""
    for k in range(len(mag)):
        if pw[k] >= target:
            if k == 0:
                return float(mag[0])
            x0, x1, p0, p1 = mag[k - 1], mag[k], pw[k - 1], pw[k]
            return float(x0 + (target - p0) * (x1 - x0) / (p1 - p0)) if p1 > p0 else float(x1)
    return math.nan


@dataclass(repr=False)
class PowerResult:
    """Power of a design on its own panel (returned by :func:`power`).

    Attributes
    ----------
    method : str
        The estimator.
    table : pandas.DataFrame
        One row per injected effect: ``effect``, ``n`` (draws with a result), ``n_failed``,
        ``power`` (share of intervals excluding zero), ``power_se`` (its Monte Carlo standard
        error, :math:`\\sqrt{p(1-p)/n_\\mathrm{eff}}`; ``n_effective`` is the number of draws, or
        of distinct placebo designs when the draws of a design repeat exactly, as at effect 0
        with a deterministic estimator), ``coverage`` (share of intervals covering the injected effect), ``bias``,
        ``rmse``, ``mean_estimate``, ``mean_truth`` (the injected effect on the estimator's
        scale), ``mean_width`` and ``mean_injected`` (events or outcome units added per
        treated unit and period). The row at effect 0 is the false-positive rate.
    draws : pandas.DataFrame
        One row per draw and effect, with the error message of any fit that failed.
    level : float
        Interval level used for rejection and coverage.
    placebo : str
        ``"time"`` or ``"unit"``.
    post_periods : int
        Length of the (fake) post-period the power refers to.
    real_post_periods : int
        Length of the study's real post-period.
    n_designs : int
        Distinct placebo designs the draws cycle through.
    n_sims : int
        Draws per effect.
    baseline : float
        Treated units' mean outcome per unit and period over the real pre-period.
    periods_per_year : float
    info : dict
        Backend, workers, wall time and the root seed's entropy.
    """

    method: str
    table: pd.DataFrame
    draws: pd.DataFrame
    level: float
    placebo: str
    post_periods: int
    real_post_periods: int
    n_designs: int
    n_sims: int
    baseline: float
    periods_per_year: float
    outcome: str
    scale: str | None = None
    info: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    @property
    def false_positive_rate(self) -> float:
        """Power at effect 0: how often the interval excludes zero when nothing happened."""
        row = self.table.loc[self.table["effect"] == 0]
        return float(row["power"].iloc[0]) if len(row) else math.nan

    def mde(self, power: float = 0.8, *, direction: str | None = None, n_boot: int = 2000) -> MDE:
        """Minimum detectable effect at ``power``.

        Parameters
        ----------
        power : float, default 0.8
            Target power.
        direction : {"negative", "positive"}, optional
            Side of the grid to read; default the side with more effects (ties: negative,
            reductions being the usual hope of a crime-prevention programme).
        n_boot : int, default 2000
            Parametric bootstrap draws for the Monte Carlo interval: each effect's rejection
            count is redrawn as :math:`\\mathrm{Binomial}(n, \\widehat{p})` and the curve
            re-interpolated.

        Returns
        -------
        MDE
        """
        t = self.table.sort_values("effect")
        neg, pos = t[t["effect"] < 0], t[t["effect"] > 0]
        if direction is None:
            direction = "positive" if len(pos) > len(neg) else "negative"
        side = neg if direction == "negative" else pos
        if side.empty:
            raise DesignError(f"no {direction} effects in the grid {list(t['effect'])}.")
        side = side.assign(mag=side["effect"].abs()).sort_values("mag")
        zero = t[t["effect"] == 0]
        mag = np.r_[0.0 if len(zero) else [], side["mag"].to_numpy()]
        pw = np.r_[zero["power"].to_numpy(), side["power"].to_numpy()]
        n = np.r_[zero["n_effective"].to_numpy(), side["n_effective"].to_numpy()].astype(int)
        sign = -1.0 if direction == "negative" else 1.0
        est = sign * _interp_mde(mag, pw, power)
        rng = np.random.default_rng(0)
        boot = np.array([_interp_mde(mag, rng.binomial(np.maximum(n, 1), pw) / np.maximum(n, 1), power)
                         for _ in range(n_boot)])
        boot = np.where(np.isnan(boot), np.inf, boot)  # not reached inside the grid
        lo, hi = np.quantile(boot, [0.025, 0.975], method="inverted_cdf")
        interval = tuple(sorted((sign * float(lo), sign * float(hi))))
        per_period = est * self.baseline
        factor = self.baseline * self.periods_per_year
        return MDE(relative=est, interval=interval, power=power, per_period=per_period,
                   per_year=est * factor, interval_per_year=(interval[0] * factor, interval[1] * factor),
                   outcome=self.outcome)

    def to_frame(self, draws: bool = False) -> pd.DataFrame:
        """The per-effect table (or, with ``draws=True``, every draw)."""
        return (self.draws if draws else self.table).copy()

    def to_dict(self) -> dict:
        """JSON-friendly summary: the table, the MDE at 80 % power and the design of the run."""
        try:
            mde = self.mde().to_dict()
        except DesignError:
            mde = None
        return {"method": self.method, "level": self.level, "placebo": self.placebo,
                "post_periods": self.post_periods, "real_post_periods": self.real_post_periods,
                "n_designs": self.n_designs, "baseline": self.baseline,
                "periods_per_year": self.periods_per_year, "outcome": self.outcome,
                "scale": self.scale, "false_positive_rate": self.false_positive_rate,
                "table": self.table.to_dict(orient="records"), "mde": mde,
                "warnings": list(self.warnings),
                "seed_entropy": self.info.get("entropy")}

    def summary(self) -> str:
        """Readable text: the power table, the false-positive rate and the MDE."""
        cols = ["effect", "power", "power_se", "coverage", "bias", "mean_width", "n", "n_failed"]
        body = self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")
        head = (f"Power of {self.method} — {self.outcome} ({self.placebo} placebos, "
                f"{self.n_designs} designs, {self.n_sims} draws per effect, level {self.level:.0%})")
        lines = [head, "-" * len(head), body, "-" * len(head),
                 f"False-positive rate (effect 0): {self.false_positive_rate:.3f} "
                 f"(nominal {1 - self.level:.3f})"]
        try:
            lines.append(str(self.mde()))
        except DesignError as exc:
            lines.append(f"MDE: not computable ({exc})")
        if self.post_periods != self.real_post_periods:
            lines.append(f"Power refers to a post-period of {self.post_periods} periods (the real "
                         f"one has {self.real_post_periods}).")
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"PowerResult(method={self.method!r}, effects={list(self.table['effect'])}, "
                f"power={[round(p, 3) for p in self.table['power']]})")

    def plot(self, ax=None, *, target: float = 0.8, lang: str = "en"):
        """The power curve with ±2 Monte Carlo s.e., the nominal size and the MDE.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plots import plot_power

        return plot_power(self, ax=ax, target=target, lang=lang)


def _summarise(draws: pd.DataFrame, effects: Sequence[float]) -> pd.DataFrame:
    rows = []
    for effect in effects:
        d = draws[draws["effect"] == effect]
        ok = d[d["error"] == ""]
        n = len(ok)
        reject = ((ok["low"] > 0) | (ok["high"] < 0)).to_numpy()
        known = ok[ok["truth"].notna()]  # the truth needs this draw's effect-0 fit
        covered = ((known["low"] <= known["truth"]) & (known["truth"] <= known["high"])).to_numpy()
        err = (known["estimate"] - known["truth"]).to_numpy()
        p = reject.mean() if n else math.nan
        # draws of one design that repeat exactly (no effect injected, deterministic estimator)
        # are one observation, not many: the Monte Carlo s.e. counts distinct designs then
        varies = n and (ok.groupby("design")["estimate"].nunique() > 1).any()
        n_eff = n if varies else ok["design"].nunique()
        rows.append({
            "effect": effect, "n": n, "n_effective": n_eff, "n_failed": len(d) - n, "power": p,
            "power_se": math.sqrt(p * (1 - p) / n_eff) if n_eff else math.nan,
            "coverage": covered.mean() if len(known) else math.nan,
            "bias": err.mean() if len(known) else math.nan,
            "rmse": math.sqrt(np.mean(err**2)) if len(known) else math.nan,
            "mean_estimate": ok["estimate"].mean() if n else math.nan,
            "mean_truth": known["truth"].mean() if len(known) else math.nan,
            "mean_width": (ok["high"] - ok["low"]).mean() if n else math.nan,
            "mean_injected": ok["injected"].mean() if n else math.nan,
        })
    return pd.DataFrame(rows)


def power(
    study: Study,
    method: str | Callable,
    effects: Sequence[float] = (-0.1, -0.2, -0.3, -0.5),
    *,
    n_sims: int = 200,
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    placebo: str = "auto",
    post_periods: int | None = None,
    n_jobs: int | None = None,
    backend: Backend | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
    **options: Any,
) -> PowerResult:
    """Power, coverage and minimum detectable effect of ``method`` on the study's own panel.

    For draw :math:`b = 1..B` (``n_sims``) take placebo design :math:`d_b` (cycled through every
    design in a seeded random order) in which the programme certainly did nothing, inject
    effect :math:`e` into the placebo-treated units' (fake) post-period, fit ``method`` with its
    default inference and record

    .. math::

        \\text{power}(e) = \\frac1B\\sum_b 1\\{0 \\notin \\mathrm{CI}_b(e)\\},\\qquad
        \\text{coverage}(e) = \\frac1B\\sum_b 1\\{\\tau_b(e) \\in \\mathrm{CI}_b(e)\\},

    with Monte Carlo standard error :math:`\\sqrt{\\hat p(1-\\hat p)/B}`. The injected effect on
    the estimator's own scale (rate per 100,000, log points, outcome units ...) is
    :math:`\\tau_b(e) = \\hat\\theta_b(e) - \\hat\\theta_b(0)`: exact for every estimator whose
    counterfactual for the treated post-period uses only pre-period and comparison data (all
    estimators in the registry), because the injection touches nothing else. At :math:`e = 0`
    the power is the false-positive rate of the method's test on this panel.

    Parameters
    ----------
    study : Study
        The design whose power is wanted.
    method : str or callable
        A registered estimator's name (``"synthetic_did"``) or a function
        ``f(study, **options) -> Effect`` (module-level, so that workers can import it).
    effects : sequence of float, default (-0.1, -0.2, -0.3, -0.5)
        Multiplicative effects (−0.2 = 20 % fewer events). Effect 0 is always added.
    n_sims : int, default 200
        Draws per effect.
    level : float, default 0.95
        Interval level (passed to the estimator when it takes ``level=``).
    random_state : int or numpy.random.Generator, optional
        Root seed; each draw gets its own spawned seed, so the result does not depend on the
        backend or the number of workers.
    placebo : {"auto", "time", "unit"}, default "auto"
        ``"time"``: fake starts inside the pre-period, data ending before the real start
        (one common start). ``"unit"``: donors drawn as placebo-treated units with the real
        start(s), the real treated units removed (cross-sectional and staggered designs).
        ``"auto"``: time when the design has one common start and enough pre-periods, else unit.
    post_periods : int, optional
        Fake post-period length for time placebos (default: the real one, at most a third of
        the pre-period).
    n_jobs, backend, scheduler, progress
        Execution (:func:`~utvardering.executor.run_cells`): serial by default,
        ``n_jobs=2`` for two joblib workers, ``backend="dask"`` for a Dask cluster.
    **options
        Passed to the estimator unchanged (e.g. its inference settings).

    Returns
    -------
    PowerResult

    Raises
    ------
    DesignError
        When no placebo design fits the data, or the first draw fails for every effect (bad
        options): the message of that failure is shown.

    Notes
    -----
    The draws of one design differ only in the injected events (binomial thinning or Poisson
    additions for counts); for a continuous outcome with a deterministic estimator they are
    identical, and the precision of the power is limited by the number of distinct designs
    (``n_designs``), not by ``n_sims``.

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic
    control method. *American Journal of Political Science* 59(2), 495–510 (placebos in time).
    Burlig, F., Preonas, L. & Woerman, M. (2020). Panel data and experimental design.
    *Journal of Development Economics* 144, 102458 (simulation-based power on the panel at hand).
    """
    if not isinstance(study, Study):
        raise DesignError(f"power() needs a Study as its first argument, got {type(study).__name__}; "
                          "build one with utv.Study(data, outcome=..., treated=..., start=...).")
    level = check_level(level)
    if int(n_sims) < 1:
        raise DesignError(f"n_sims={n_sims} must be a positive number of draws.")
    grid = [float(e) for e in effects]
    bad = [e for e in grid if not e > -1]
    if bad:
        raise DesignError(f"effects {bad} are not above -1: an effect is a multiplicative change, "
                          "-0.2 = 20 % fewer, -1 would remove every event.")
    grid = [0.0, *sorted({e for e in grid if e != 0}, key=lambda e: (abs(e), e))]
    name, _ = resolve_method(method)
    root = root_seed(random_state)
    kind = placebo
    if kind == "auto":
        kind = "time"
        if study.is_staggered:
            kind = "unit"
        else:
            try:
                placebo_designs(study, "time", post_periods=post_periods)
            except DesignError:
                kind = "unit"
    designs, length = placebo_designs(study, kind, post_periods=post_periods,
                                      rng=np.random.default_rng(root.spawn(1)[0]) if kind == "unit" else None)
    order = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 2**31))
                                  ).permutation(len(designs))
    cells = [(b, int(order[b % len(designs)])) for b in range(int(n_sims))]
    setup = _PowerSetup(study, method, dict(options), tuple(grid), level, designs, length)
    # the first draw here, so that bad options fail fast with the estimator's own message
    first, _ = run_cells(_power_cell, cells[:1], setup, random_state=root, backend="serial",
                         progress=False)
    rows0 = first[0] if not isinstance(first[0], CellFailure) else None
    if rows0 is None or all(r["error"] for r in rows0):
        message = first[0].error if rows0 is None else rows0[0]["error"]
        raise DesignError(f"power(): {name} failed on the first placebo design "
                          f"({designs[cells[0][1]].label}): {message}")
    rest, info = run_cells(_power_cell, cells[1:], setup, random_state=root, backend=backend,
                           n_jobs=n_jobs, scheduler=scheduler, progress=progress,
                           label=f"power {name}", start=1)
    records = []
    for (b, d), out in zip(cells, [rows0, *rest]):
        if isinstance(out, CellFailure):
            records += [{"draw": b, "design": designs[d].label, "effect": e, "error": out.error}
                        for e in grid]
        else:
            records += out
    columns = ["draw", "design", "effect", "estimate", "low", "high", "p_value", "relative",
               "truth", "injected", "injected_relative", "scale", "error"]
    draws = pd.DataFrame.from_records(records).reindex(columns=columns)
    draws["error"] = draws["error"].fillna("")
    table = _summarise(draws, grid)
    data = study.data
    pre = (data[study.time] < study.start).to_numpy() & data[study.unit].isin(study.treated).to_numpy()
    baseline = float(data.loc[pre, study.outcome].mean())
    freq = (study.freq or "Y") if isinstance(study.freq, str) else "Y"
    per_year = _PERIODS_PER_YEAR.get(freq.rstrip("SE").upper()[:1], 1.0)
    notes = []
    failed = int(table["n_failed"].sum())
    if failed:
        top = draws.loc[draws["error"] != "", "error"].value_counts().index[0]
        notes.append(f"{failed} of {len(draws)} fits failed (most common: {top}); they are kept in "
                     ".draws and left out of the table.")
    fpr, n0 = table.loc[0, "power"], table.loc[0, "n_effective"]
    if n0 and fpr > (1 - level) + 2 * math.sqrt(level * (1 - level) / n0):
        notes.append(f"the false-positive rate at effect 0 is {fpr:.3f}, above the nominal "
                     f"{1 - level:.3f} by more than two Monte Carlo standard errors: {name}'s "
                     "intervals are too narrow on this panel, and its power is overstated.")
    for note in notes:
        warn(f"power(): {note}", InferenceWarning)
    info["cells"] = len(cells)
    scales = draws.loc[draws["error"] == "", "scale"].dropna()
    fit_scale = str(scales.iloc[0]) if len(scales) else None
    return PowerResult(method=name, table=table, draws=draws, level=level, placebo=kind,
                       post_periods=length, real_post_periods=len(study.post_times),
                       n_designs=len(designs), n_sims=int(n_sims), baseline=baseline, periods_per_year=per_year,
                       outcome=study.outcome, scale=fit_scale, info=info, warnings=notes)
