"""utvardering — evaluating crime-prevention interventions.

Difference-in-differences, synthetic control and Bayesian structural time series
under one result shape (:class:`Effect`), with Malmö's programmes as worked
evaluations. The public API is re-exported flat::

    from utvardering import Study, Effect

Importing the package is cheap: each public name is imported from its module the first time
it is used (PEP 562), so ``import utvardering`` does not load pandas, SciPy, numba, PyMC or
matplotlib until a study, an estimator or a figure needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    DesignError,
    DesignWarning,
    InferenceWarning,
    UtvarderingWarning,
)

__version__ = "0.1.0.dev0"

#: Public name -> the module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    "augmented_synthetic_control": "utvardering.synth",
    "bacon_decomposition": "utvardering.did",
    "bayesian_synthetic_control": "utvardering.synth",
    "callaway_santanna": "utvardering.did",
    "causal_impact": "utvardering.timeseries",
    "check_panel": "utvardering.data.schema",
    "compare": "utvardering.triangulation",
    "datasets": "utvardering.datasets|module",
    "did": "utvardering.did|module",
    "diff_in_diff": "utvardering.did",
    "Effect": "utvardering.effect",
    "event_study": "utvardering.did",
    "get_estimator": "utvardering.estimators",
    "get_intervention": "utvardering.interventions",
    "honest_did": "utvardering.inference",
    "imputation_did": "utvardering.did",
    "interrupted_time_series": "utvardering.timeseries",
    "Intervention": "utvardering.interventions",
    "list_estimators": "utvardering.estimators",
    "MALMO_PROGRAMMES": "utvardering.interventions",
    "MDE": "utvardering.design",
    "overlapping_programmes": "utvardering.interventions",
    "Panel": "utvardering.data.schema",
    "penalized_synthetic_control": "utvardering.synth",
    "plot_comparison": "utvardering.triangulation",
    "poisson_did": "utvardering.did",
    "power": "utvardering.design",
    "PowerResult": "utvardering.design",
    "read_bundled_simulation": "utvardering.data.simulate",
    "register_estimator": "utvardering.estimators",
    "simulate": "utvardering.data.simulate",
    "simulate_area_crime": "utvardering.data.simulate",
    "simulate_safety_survey": "utvardering.data.simulate",
    "simulate_school_survey": "utvardering.data.simulate",
    "simulate_schools": "utvardering.data.simulate",
    "simulate_shootings": "utvardering.data.simulate",
    "SpecCurve": "utvardering.design",
    "specification_curve": "utvardering.design",
    "Study": "utvardering.study",
    "sun_abraham": "utvardering.did",
    "survey_did": "utvardering.did",
    "SurveyData": "utvardering.data.schema_micro",
    "synthetic_control": "utvardering.synth",
    "synthetic_did": "utvardering.synth",
    "twfe": "utvardering.did",
    "validate_incidents": "utvardering.data.schema_micro",
    "validate_panel": "utvardering.data.schema",
    "validate_survey": "utvardering.data.schema_micro",
    "weighted_displacement_quotient": "utvardering.did",
    "wild_cluster_bootstrap": "utvardering.inference",
}

if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from . import (
        datasets,
        did,  # the DiD package (callable as the 2×2 estimator until the next release)
    )
    from .data.schema import Panel, check_panel, validate_panel
    from .data.schema_micro import SurveyData, validate_incidents, validate_survey
    from .data.simulate import (
        read_bundled_simulation,
        simulate,
        simulate_area_crime,
        simulate_safety_survey,
        simulate_school_survey,
        simulate_schools,
        simulate_shootings,
    )
    from .design import MDE, PowerResult, SpecCurve, power, specification_curve
    from .did import (
        bacon_decomposition,
        callaway_santanna,
        diff_in_diff,
        event_study,
        imputation_did,
        poisson_did,
        sun_abraham,
        survey_did,
        twfe,
        weighted_displacement_quotient,
    )
    from .effect import Effect
    from .estimators import get_estimator, list_estimators, register_estimator
    from .inference import honest_did, wild_cluster_bootstrap
    from .interventions import (
        MALMO_PROGRAMMES,
        Intervention,
        get_intervention,
        overlapping_programmes,
    )
    from .study import Study
    from .synth import (
        augmented_synthetic_control,
        bayesian_synthetic_control,
        penalized_synthetic_control,
        synthetic_control,
        synthetic_did,
    )
    from .timeseries import causal_impact, interrupted_time_series
    from .triangulation import compare, plot_comparison

__all__ = [
    "MALMO_PROGRAMMES",
    "MDE",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "DesignError",
    "DesignWarning",
    "Effect",
    "InferenceWarning",
    "Intervention",
    "Panel",
    "PowerResult",
    "SpecCurve",
    "Study",
    "SurveyData",
    "UtvarderingWarning",
    "__version__",
    "augmented_synthetic_control",
    "bacon_decomposition",
    "bayesian_synthetic_control",
    "callaway_santanna",
    "causal_impact",
    "check_panel",
    "compare",
    "datasets",
    "did",
    "diff_in_diff",
    "event_study",
    "get_estimator",
    "get_intervention",
    "honest_did",
    "imputation_did",
    "interrupted_time_series",
    "list_estimators",
    "overlapping_programmes",
    "penalized_synthetic_control",
    "plot_comparison",
    "poisson_did",
    "power",
    "read_bundled_simulation",
    "register_estimator",
    "simulate",
    "simulate_area_crime",
    "simulate_safety_survey",
    "simulate_school_survey",
    "simulate_schools",
    "simulate_shootings",
    "specification_curve",
    "sun_abraham",
    "survey_did",
    "synthetic_control",
    "synthetic_did",
    "twfe",
    "validate_incidents",
    "validate_panel",
    "validate_survey",
    "weighted_displacement_quotient",
    "wild_cluster_bootstrap",
]


# A public name must never equal a submodule's name (the import system would bind the
# submodule to it): the only such names are the packages `datasets` and `did` themselves.


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is used (PEP 562)."""
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'utvardering' has no attribute {name!r}")
    module_name, _, kind = target.partition("|")
    module = importlib.import_module(module_name)
    value = module if kind == "module" else getattr(module, name)
    globals()[name] = value  # cache: later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
