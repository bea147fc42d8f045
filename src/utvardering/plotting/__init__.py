"""matplotlib figures, one module per figure family; they read Effects and never fit models.

Most figures are drawn by an Effect's ``plot()``; the functions below are the same figures for
use on their own. Each is imported from its module the first time it is used (PEP 562), so
importing this package does not load matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

#: Public name -> the module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    "plot_att_gt": ".did_event_study",
    "plot_bacon": ".did_twfe",
    "plot_causal_impact": ".bsts",
    "plot_effect_path": ".effect_path",
    "plot_event_study": ".did_event_study",
    "plot_forest": ".forest",
    "plot_honest_did": ".honest_did",
    "plot_leave_one_out": ".synth",
    "plot_placebo_gaps": ".synth",
    "plot_placebos": ".did_twfe",
    "plot_ratio_histogram": ".synth",
    "plot_synth": ".synth",
    "plot_synthetic_did": ".sdid",
    "plot_weights": ".synth",
}

if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from .bsts import plot_causal_impact
    from .did_event_study import plot_att_gt, plot_event_study
    from .did_twfe import plot_bacon, plot_placebos
    from .effect_path import plot_effect_path
    from .forest import plot_forest
    from .honest_did import plot_honest_did
    from .sdid import plot_synthetic_did
    from .synth import (
        plot_leave_one_out,
        plot_placebo_gaps,
        plot_ratio_histogram,
        plot_synth,
        plot_weights,
    )

__all__ = [
    "plot_att_gt",
    "plot_bacon",
    "plot_causal_impact",
    "plot_effect_path",
    "plot_event_study",
    "plot_forest",
    "plot_honest_did",
    "plot_leave_one_out",
    "plot_placebo_gaps",
    "plot_placebos",
    "plot_ratio_histogram",
    "plot_synth",
    "plot_synthetic_did",
    "plot_weights",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
