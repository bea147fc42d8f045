"""Design diagnosis: whether a design could detect an effect, and whether the answer survives.

* :func:`power` — simulation-based power, coverage and minimum detectable effect of any
  registered estimator on the study's own panel, by injecting known effects into placebo
  versions of the design (:class:`PowerResult`, :class:`MDE`);
* :func:`specification_curve` — every combination of defensible analysis choices, with the
  joint inference of Simonsohn, Simmons & Nelson (2020) by placebo curves (:class:`SpecCurve`);
* :func:`run_cells` — the executor both use: serial, joblib (``n_jobs=``) or Dask
  (``backend="dask"``), with per-cell seeds so that the numbers do not depend on the backend.
"""

from __future__ import annotations

from ..executor import CellFailure, run_cells
from .power import MDE, PowerResult, power
from .speccurve import SpecCurve, specification_curve

__all__ = ["MDE", "CellFailure", "PowerResult", "SpecCurve", "power", "run_cells",
           "specification_curve"]
