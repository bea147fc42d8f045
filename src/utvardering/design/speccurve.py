"""The specification curve: every defensible analysis, and joint inference across them.

A single evaluation makes many choices — start date, donor pool, outcome, window, rates or
counts, method and its options — each defensible, none forced. :func:`specification_curve`
runs every combination and returns a :class:`SpecCurve`: the tidy table of estimates and
intervals, the share of specifications agreeing in sign and excluding zero, the median, and
the two-panel figure of Simonsohn, Simmons & Nelson (2020).

Joint inference asks whether the curve as a whole is more extreme than curves where the true
effect is zero. Following SSN's permutation logic with the placebos the designs already have,
the whole curve is re-run with each donor in turn as the placebo-treated unit (the real treated
units removed), and the observed curve's absolute median and share of significant specifications in
its dominant direction are ranked among the placebo curves':
:math:`p = (1 + \\#\\{k: S_k \\ge S_{\\mathrm{obs}}\\})/(1 + K)`.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DesignError, DesignWarning, warn
from ..executor import Backend, CellFailure, root_seed, run_cells
from ..options import check_level
from ..study import Study
from .methods import accepts, resolve_method

__all__ = ["SpecCurve", "specification_curve"]

_STUDY_KEYS = frozenset(p for p in inspect.signature(Study.__init__).parameters if p not in ("self", "data"))


def _label(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (tuple, list)):
        return "–".join(map(str, value)) if len(value) <= 3 else f"{len(value)} items"
    return str(value)


def _normalise_choices(choices: Mapping[str, Any] | None) -> list[tuple[str, list[tuple[str, Any]]]]:
    out = []
    for key, values in (choices or {}).items():
        if isinstance(values, Mapping):
            items = [(str(k), v) for k, v in values.items()]
        elif isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            items = [(_label(values), values)]
        else:
            items = [(_label(v), v) for v in values]
        if not items:
            raise DesignError(f"choices[{key!r}] is empty; give at least one value.")
        labels = [lab for lab, _ in items]
        if len(set(labels)) < len(labels):
            raise DesignError(f"choices[{key!r}] has repeated labels {labels}; give a dict "
                              "{label: value} to name them.")
        out.append((str(key), items))
    return out


def _normalise_methods(methods) -> list[tuple[str, str | Callable, dict]]:
    if isinstance(methods, (str, bytes)) or callable(methods):
        methods = [methods]
    items = list(methods.items()) if isinstance(methods, Mapping) else [(None, m) for m in methods]
    out = []
    for label, m in items:
        options: dict = {}
        if isinstance(m, tuple):
            m, options = m[0], dict(m[1] if len(m) > 1 else {})
        name, _ = resolve_method(m)
        out.append((str(label) if label is not None else name, m, options))
    labels = [lab for lab, _, _ in out]
    if len(set(labels)) < len(labels):
        raise DesignError(f"methods {labels} repeat a label; give a dict {{label: (method, options)}}.")
    if not out:
        raise DesignError("methods is empty; name at least one estimator, e.g. ['synthetic_did'].")
    return out


@dataclass
class _SpecSetup:
    study: Study
    choices: list
    methods: list
    level: float
    _cache: dict = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def spec_study(self, combo: tuple, placebo) -> tuple[Study, dict]:
        key = (combo, placebo)
        if key not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            changes, options = {}, {}
            for (name, items), k in zip(self.choices, combo):
                (changes if name in _STUDY_KEYS else options)[name] = items[k][1]
            study = self.study.replace(**changes) if changes else self.study
            if placebo is not None:
                study = _placebo_study(study, placebo)
            self._cache[key] = (study, options)
        return self._cache[key]


def _placebo_study(study: Study, unit) -> Study:
    data = study.panel.data
    data = data.loc[~data[study.unit].isin(study.treated)]
    return study.replace(data=data, treated=[unit], start=study.start, cohort=None,
                         donors=[d for d in study.donors if d != unit],
                         exclude=[x for x in study.excluded if x != unit] or None)


def _spec_cell(setup: _SpecSetup, cell: tuple, seed: np.random.SeedSequence) -> dict:
    combo, m, placebo = cell
    study, choice_options = setup.spec_study(combo, placebo)
    _, method, options = setup.methods[m]
    fn = resolve_method(method)[1]
    options = {**options, **choice_options}
    if accepts(fn, "random_state") and "random_state" not in options:
        options["random_state"] = int(np.random.default_rng(seed).integers(2**31 - 1))
    if accepts(fn, "level") and "level" not in options:
        options["level"] = setup.level
    fit = fn(study, **options)
    ri = fit.relative_interval or (math.nan, math.nan)
    return {"estimate": float(fit.estimate), "low": float(fit.interval[0]),
            "high": float(fit.interval[1]),
            "p_value": math.nan if fit.p_value is None else float(fit.p_value),
            "relative": math.nan if fit.relative is None else float(fit.relative),
            "relative_low": float(ri[0]), "relative_high": float(ri[1]), "scale": fit.scale}


def _curve_stats(values: np.ndarray, significant: np.ndarray) -> tuple[float, float]:
    """Absolute median and the share of specifications significant in the median's direction."""
    ok = np.isfinite(values)
    if not ok.any():
        return math.nan, math.nan
    med = float(np.median(values[ok]))
    direction = np.sign(med) if med != 0 else 1.0
    return abs(med), float(np.mean(significant[ok] & (np.sign(values[ok]) == direction)))


@dataclass(repr=False)
class SpecCurve:
    """A specification curve (returned by :func:`specification_curve`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per specification: ``spec``, one column per choice (its label), ``method``,
        ``estimate``, ``low``, ``high``, ``p_value``, ``relative`` (and interval), ``scale``,
        ``significant`` (interval excludes zero) and ``error`` (empty, or the failure's message).
    dimensions : list of str
        The choice columns, ``"method"`` last.
    value : str
        Column the curve is drawn and summarised on: ``"estimate"``, or ``"relative"`` when the
        methods report on different scales.
    median : float
        Over the specifications that ran: the median of ``value``.
    share_same_sign : float
        The share with the median's sign.
    share_significant : float
        The share whose interval excludes zero.
    share_significant_same_sign : float
        The share whose interval excludes zero on the median's side.
    joint : dict or None
        Joint inference: ``p_median`` (absolute median), ``p_share`` (share significant in the
        dominant direction), ``n_placebos`` and ``smallest_p``; ``None`` when not feasible.
    joint_note : str
        How the joint inference was made, or why it was not.
    placebos : pandas.DataFrame
        Per placebo unit: its curve's absolute median and share significant in its dominant
        direction.
    info : dict
        Backend, workers, seconds, failed cells, seed entropy.
    """

    table: pd.DataFrame
    dimensions: list
    value: str
    level: float
    joint: dict | None = None
    joint_note: str = ""
    placebos: pd.DataFrame | None = None
    info: dict = field(default_factory=dict)

    @property
    def _ok(self) -> pd.DataFrame:
        return self.table[self.table["error"] == ""]

    @property
    def interval_columns(self) -> tuple[str, str]:
        """Interval columns matching :attr:`value`."""
        return ("relative_low", "relative_high") if self.value == "relative" else ("low", "high")

    @property
    def value_label(self) -> str:
        """Axis label of :attr:`value` (with the estimate's scale when all methods share one)."""
        if self.value == "relative":
            return "relative effect"
        scales = self._ok["scale"].dropna().unique()
        return f"estimate ({scales[0]})" if len(scales) == 1 else "estimate"

    @property
    def median(self) -> float:
        """Median of :attr:`value` over the specifications that ran."""
        v = self._ok[self.value].dropna()
        return float(v.median()) if len(v) else math.nan

    @property
    def share_same_sign(self) -> float:
        """Share of the specifications that ran whose estimate has the median's sign."""
        v = self._ok[self.value].dropna()
        return float((np.sign(v) == np.sign(self.median)).mean()) if len(v) else math.nan

    @property
    def share_significant(self) -> float:
        """Share of the specifications that ran whose interval excludes zero."""
        ok = self._ok
        return float(ok["significant"].mean()) if len(ok) else math.nan

    @property
    def share_significant_same_sign(self) -> float:
        """Share whose interval excludes zero on the median's side."""
        ok = self._ok
        if not len(ok):
            return math.nan
        return float((ok["significant"] & (np.sign(ok[self.value]) == np.sign(self.median))).mean())

    @property
    def n_failed(self) -> int:
        """Number of specifications that failed (their error messages are in :attr:`table`)."""
        return int((self.table["error"] != "").sum())

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict:
        """JSON-friendly summary with the table."""
        return {"value": self.value, "level": self.level, "n_specifications": len(self.table),
                "n_failed": self.n_failed, "median": self.median,
                "share_same_sign": self.share_same_sign, "share_significant": self.share_significant,
                "share_significant_same_sign": self.share_significant_same_sign,
                "joint": self.joint, "joint_note": self.joint_note,
                "table": self.table.to_dict(orient="records"),
                "seed_entropy": self.info.get("entropy")}

    def summary(self) -> str:
        """Readable summary of the curve and its joint inference."""
        lines = [f"Specification curve: {len(self.table)} specifications "
                 f"({self.n_failed} failed) over {', '.join(self.dimensions)}",
                 f"Median {self.value_label}: {self.median:.4g}",
                 f"Same sign as the median: {self.share_same_sign:.1%}; interval excludes zero: "
                 f"{self.share_significant:.1%} (same sign: {self.share_significant_same_sign:.1%})"]
        if self.joint:
            lines.append(f"Joint inference ({self.joint['n_placebos']} placebo curves): "
                         f"p = {self.joint['p_median']:.3f} for the median, "
                         f"p = {self.joint['p_share']:.3f} for the share significant")
        lines.append(self.joint_note)
        if self.n_failed:
            top = self.table.loc[self.table["error"] != "", "error"].value_counts()
            lines.append(f"Failed specifications ({self.n_failed}); most common error: {top.index[0]}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"SpecCurve(n={len(self.table)}, median={self.median:.4g}, "
                f"share_significant={self.share_significant:.3f})")

    def plot(self, ax=None, *, lang: str = "en"):
        """The two-panel specification-curve figure (:func:`~.plots.plot_specification_curve`)."""
        from .plots import plot_specification_curve

        return plot_specification_curve(self, ax=ax, lang=lang)


def specification_curve(
    study: Study,
    choices: Mapping[str, Any] | None = None,
    methods: str | Sequence | Mapping = ("synthetic_did",),
    *,
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    joint: bool = True,
    n_placebos: int | None = None,
    value: str = "auto",
    n_jobs: int | None = None,
    backend: Backend | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
) -> SpecCurve:
    """Run every combination of ``choices`` × ``methods`` and summarise the curve.

    Parameters
    ----------
    study : Study
        The baseline design.
    choices : mapping, optional
        ``{name: values}``; ``values`` a list, or a dict ``{label: value}``. A name that is a
        :class:`~utvardering.Study` keyword (``start``, ``window``, ``outcome``, ``donors``,
        ``exclude``, ``exposure``, ``end`` ...) changes the Study (``study.replace``); any other
        name is passed to every method as an estimator option, unchanged. E.g.
        ``{"start": ["2018-02", "2018-10"], "exposure": {"rates": "population", "counts": None}}``.
    methods : str, sequence or mapping, default ("synthetic_did",)
        Estimators: names, callables, ``(method, options)`` tuples, or a dict
        ``{label: method or (method, options)}``.
    level : float, default 0.95
        Interval level (given to each estimator that takes ``level=``).
    random_state : int or Generator, optional
        Root seed; every cell gets its own spawned seed.
    joint : bool, default True
        Joint inference by placebo curves (one per donor of the baseline study). Needs one
        common start; otherwise the result says why it was not done.
    n_placebos : int, optional
        Use this many donors (a seeded random subset) for the placebo curves.
    value : {"auto", "estimate", "relative"}
        The curve's scale: ``"auto"`` is ``"estimate"`` when every specification reports on
        the same scale, else ``"relative"``.
    n_jobs, backend, scheduler, progress
        Execution (:func:`~utvardering.executor.run_cells`).

    Returns
    -------
    SpecCurve

    References
    ----------
    Simonsohn, U., Simmons, J. P. & Nelson, L. D. (2020). Specification curve analysis.
    *Nature Human Behaviour* 4, 1208–1214.
    Steegen, S., Tuerlinckx, F., Gelman, A. & Vanpaemel, W. (2016). Increasing transparency
    through a multiverse analysis. *Perspectives on Psychological Science* 11(5), 702–712.
    """
    if not isinstance(study, Study):
        raise DesignError(f"specification_curve() needs a Study, got {type(study).__name__}.")
    level = check_level(level)
    if value not in ("auto", "estimate", "relative"):
        raise DesignError(f"value={value!r} is not an option; choose 'auto', 'estimate' or 'relative'.")
    spec_choices = _normalise_choices(choices)
    spec_methods = _normalise_methods(methods)
    root = root_seed(random_state)
    combos = list(itertools.product(*[range(len(items)) for _, items in spec_choices]))
    cells = [(combo, m, None) for combo in combos for m in range(len(spec_methods))]
    n_real = len(cells)
    note, joint_reason = "", "done"
    placebo_units: list = []
    if joint:
        if study.is_staggered:
            note = ("Joint inference not done: placebo curves need one common start, and this "
                    "study has staggered starts.")
            joint_reason = "staggered"
        elif len(study.donors) < 3:
            note = f"Joint inference not done: {len(study.donors)} donor(s) are too few placebos."
            joint_reason = "few_donors"
        else:
            placebo_units = list(study.donors)
            if n_placebos is not None and n_placebos < len(placebo_units):
                rng = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(2**31,)))
                placebo_units = sorted(rng.choice(placebo_units, int(n_placebos), replace=False).tolist(),
                                       key=str)
            cells += [(combo, m, u) for u in placebo_units for combo in combos
                      for m in range(len(spec_methods))]
    else:
        note = "Joint inference not requested (joint=False)."
        joint_reason = "not_requested"
    setup = _SpecSetup(study, spec_choices, spec_methods, level)
    results, info = run_cells(_spec_cell, cells, setup, random_state=root, backend=backend,
                              n_jobs=n_jobs, scheduler=scheduler, progress=progress,
                              label="specification curve")
    rows = []
    for i, (cell, out) in enumerate(zip(cells, results)):
        combo, m, placebo = cell
        row = {"spec": i if placebo is None else i % n_real, "placebo": placebo}
        for (name, items), k in zip(spec_choices, combo):
            row[name] = items[k][0]
        row["method"] = spec_methods[m][0]
        if isinstance(out, CellFailure):
            row["error"] = out.error
        else:
            row.update(out)
            row["error"] = ""
        rows.append(row)
    dims = [name for name, _ in spec_choices] + ["method"]
    columns = ["spec", "placebo", *dims, "estimate", "low", "high", "p_value", "relative",
               "relative_low", "relative_high", "scale", "error"]
    full = pd.DataFrame.from_records(rows).reindex(columns=columns)
    full["error"] = full["error"].fillna("")
    full["significant"] = ((full["low"] > 0) | (full["high"] < 0)) & (full["error"] == "")
    real = full[full["placebo"].isna()].drop(columns="placebo").reset_index(drop=True)
    ok = real[real["error"] == ""]
    if value == "auto":
        value = "estimate" if ok["scale"].nunique() <= 1 else "relative"
    if value == "relative" and ok["relative"].isna().any():
        warn("specification_curve: some specifications report no relative effect; they are "
             "left out of the curve's summaries.", DesignWarning)
    curve = SpecCurve(table=real, dimensions=dims, value=value, level=level, info=info)
    if placebo_units:
        obs = _curve_stats(ok[value].to_numpy(dtype=float), ok["significant"].to_numpy(dtype=bool))
        prow = []
        for u in placebo_units:
            p = full[(full["placebo"] == u) & (full["error"] == "")]
            med, share = _curve_stats(p[value].to_numpy(dtype=float), p["significant"].to_numpy(dtype=bool))
            prow.append({"placebo": u, "abs_median": med, "share_significant": share,
                         "n_failed": int(((full["placebo"] == u) & (full["error"] != "")).sum())})
        placebos = pd.DataFrame(prow)
        k = int(placebos["abs_median"].notna().sum())
        p_med = (1 + int((placebos["abs_median"] >= obs[0] - 1e-12).sum())) / (1 + k)
        p_share = (1 + int((placebos["share_significant"] >= obs[1] - 1e-12).sum())) / (1 + k)
        curve.joint = {"abs_median": obs[0], "share_significant_dominant": obs[1],
                       "p_median": p_med, "p_share": p_share, "n_placebos": k,
                       "smallest_p": 1 / (1 + k)}
        curve.placebos = placebos
        note = (f"Joint inference (Simonsohn, Simmons & Nelson 2020) by {k} placebo curves: the "
                "whole curve re-run with each donor as the placebo-treated unit and the real "
                f"treated unit(s) removed; the smallest attainable p-value is {1 / (1 + k):.3f}.")
        if 1 / (1 + k) > 1 - level:
            note += f" With {k} placebos no p-value can fall below {1 - level:.2f}."
    curve.joint_note = note
    curve.info["joint_reason"] = joint_reason
    return curve
