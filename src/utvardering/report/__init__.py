"""Reports: provenance records, small-count suppression, Markdown and HTML writers.

The names below are this package's public surface; each is imported from its module the first
time it is used (PEP 562), so importing one report module does not load the others.

* the conclusion: :func:`bottom_line` (with :class:`NullTest`, :class:`Conclusion`,
  :func:`grade`);
* the document and what may leave a run: :class:`Report`, :class:`SuppressionPolicy`;
* the report sections the analyses share: :func:`label`, :func:`design_section`,
  :func:`overlap_section`, :func:`triangulation_section`, :func:`truth_check_section`, and the
  public record's :func:`add_public_record_section`, :func:`sluta_skjut_public_section`;
* running the analyses: :func:`list_analyses`, :func:`run_analysis`, :class:`AnalysisContext`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

#: Public name -> the module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    "AnalysisContext": ".runner",
    "Conclusion": ".conclusion",
    "NullTest": ".conclusion",
    "PublicRecordSection": ".public_record",
    "Report": ".document",
    "SuppressionPolicy": ".suppression",
    "add_public_record_section": ".public_record",
    "bottom_line": ".conclusion",
    "design_section": ".sections",
    "grade": ".conclusion",
    "label": ".sections",
    "list_analyses": ".runner",
    "overlap_section": ".sections",
    "run_analysis": ".runner",
    "sluta_skjut_public_section": ".public_record",
    "triangulation_section": ".sections",
    "truth_check_section": ".sections",
}

if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from .conclusion import Conclusion, NullTest, bottom_line, grade
    from .document import Report
    from .public_record import (
        PublicRecordSection,
        add_public_record_section,
        sluta_skjut_public_section,
    )
    from .runner import AnalysisContext, list_analyses, run_analysis
    from .sections import (
        design_section,
        label,
        overlap_section,
        triangulation_section,
        truth_check_section,
    )
    from .suppression import SuppressionPolicy

__all__ = [
    "AnalysisContext",
    "Conclusion",
    "NullTest",
    "PublicRecordSection",
    "Report",
    "SuppressionPolicy",
    "add_public_record_section",
    "bottom_line",
    "design_section",
    "grade",
    "label",
    "list_analyses",
    "overlap_section",
    "run_analysis",
    "sluta_skjut_public_section",
    "triangulation_section",
    "truth_check_section",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
