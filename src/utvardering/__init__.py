"""utvardering — evaluating crime-prevention interventions.

Difference-in-differences, synthetic control and Bayesian structural time series
under one result shape (:class:`Effect`), with Malmö's programmes as worked
evaluations. The public API is re-exported flat::

    from utvardering import Study, Effect
"""

from __future__ import annotations

from . import (
    datasets,
    did,  # the DiD package (callable as the 2×2 estimator until the next release)
)
from .compare import compare, plot_comparison
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
from .errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    DesignError,
    DesignWarning,
    InferenceWarning,
    UtvarderingWarning,
)
from .estimators import get_estimator, list_estimators, register_estimator
from .inference import honest_did, wild_cluster_bootstrap
from .interventions import MALMO_PROGRAMMES, Intervention, get_intervention, overlapping_programmes
from .study import Study
from .synth import (
    augmented_synthetic_control,
    bayesian_synthetic_control,
    penalized_synthetic_control,
    synthetic_control,
    synthetic_did,
)
from .timeseries import causal_impact, interrupted_time_series

__version__ = "0.1.0.dev0"

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
