"""The data layer: contracts, time parsing, readers of the public formats, simulated worlds
and the bundled datasets.

The names below are this package's public surface (the bundled datasets are
:mod:`utvardering.datasets`, the readers of the public formats :mod:`utvardering.data.sources`).
Each is imported from its module the first time it is used (PEP 562), so importing one data
module does not load the others. ``simulate(world, ...)`` is ``utvardering.simulate``: here the
name belongs to the module :mod:`utvardering.data.simulate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

#: Public name -> the module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    "BUNDLED_SIMULATIONS": ".simulate",
    "Panel": ".schema",
    "SurveyData": ".schema_micro",
    "check_panel": ".schema",
    "read_bundled_simulation": ".simulate",
    "simulate_annual_followup": ".worlds.annual_survey",
    "simulate_area_crime": ".simulate",
    "simulate_safety_survey": ".simulate",
    "simulate_school_survey": ".simulate",
    "simulate_schools": ".simulate",
    "simulate_shootings": ".simulate",
    "validate_incidents": ".schema_micro",
    "validate_panel": ".schema",
    "validate_survey": ".schema_micro",
}

if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from .schema import Panel, check_panel, validate_panel
    from .schema_micro import SurveyData, validate_incidents, validate_survey
    from .simulate import (
        BUNDLED_SIMULATIONS,
        read_bundled_simulation,
        simulate_area_crime,
        simulate_safety_survey,
        simulate_school_survey,
        simulate_schools,
        simulate_shootings,
    )
    from .worlds.annual_survey import simulate_annual_followup

__all__ = [
    "BUNDLED_SIMULATIONS",
    "Panel",
    "SurveyData",
    "check_panel",
    "read_bundled_simulation",
    "simulate_annual_followup",
    "simulate_area_crime",
    "simulate_safety_survey",
    "simulate_school_survey",
    "simulate_schools",
    "simulate_shootings",
    "validate_incidents",
    "validate_panel",
    "validate_survey",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
