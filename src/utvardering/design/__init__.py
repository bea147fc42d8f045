"""Design diagnosis: whether a design could detect an effect, and whether the answer survives.

* :func:`power` — simulation-based power, coverage and minimum detectable effect of any
  registered estimator on the study's own panel, by injecting known effects into placebo
  versions of the design (:class:`PowerResult`, :class:`MDE`);
* :func:`specification_curve` — every combination of defensible analysis choices, with the
  joint inference of Simonsohn, Simmons & Nelson (2020) by placebo curves (:class:`SpecCurve`);
* :func:`run_cells` — the executor both use: serial, joblib (``n_jobs=``) or Dask
  (``backend="dask"``), with per-cell seeds so that the numbers do not depend on the backend;
* :func:`report_design_diagnosis` — the design-diagnosis section of the Malmö analyses'
  reports, built by :func:`design_diagnosis_section` (both imported on first use, PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ..executor import CellFailure, run_cells
from .power import MDE, PowerResult, power
from .speccurve import SpecCurve, specification_curve

#: Public names imported on first use (the report sections need not load with the package).
_LAZY: dict[str, str] = {
    "design_diagnosis_section": ".sections",
    "report_design_diagnosis": ".analyses",
}

if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from .analyses import report_design_diagnosis
    from .sections import design_diagnosis_section

__all__ = ["MDE", "CellFailure", "PowerResult", "SpecCurve", "design_diagnosis_section", "power",
           "report_design_diagnosis", "run_cells", "specification_curve"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
