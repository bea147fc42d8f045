"""Simulated Malmö worlds: realistic synthetic data with known true effects.

Each world is a function returning a long-format :class:`pandas.DataFrame` whose
``attrs["truth"]`` is a JSON-serialisable dict of the true parameters and the realised
effects, computed from the simulated potential outcomes (the ``*_y0`` columns):

- :func:`simulate_shootings` — confirmed shootings in about 20 Swedish cities, Malmö
  treated by Sluta skjut (Group Violence Intervention) from 2018-10;
- :func:`simulate_area_crime` — reported crime by offence group in 136 Malmö areas,
  security guards at Möllevången 14 June 2021 – 2022, displacement to neighbours;
- :func:`simulate_safety_survey` — the yearly local safety survey (repeated
  cross-sections, non-response, calibration weights);
- :func:`simulate_schools` and :func:`simulate_school_survey` — offences near schools and
  a student survey, with staggered narcotics-dog searches in spring 2019 (Drogfri skola).

Every function takes a keyword ``seed`` (int or :class:`numpy.random.Generator`) and is
deterministic for it. Independent child streams (``default_rng(seed).spawn``) separate
the structural draws from the noise, and both potential outcomes of a cell share their
random numbers, so changing an effect size changes only the treated outcomes.
The generative models are written out in the documentation page "Simulated Malmö worlds".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import DesignError
from .bundled import BUNDLED_SIMULATIONS, read_bundled_simulation
from .worlds._common import GENERATOR_VERSION
from .worlds.area_crime import simulate_area_crime
from .worlds.safety_survey import simulate_safety_survey
from .worlds.school_survey import simulate_school_survey
from .worlds.schools import simulate_schools
from .worlds.shootings import simulate_shootings

__all__ = [
    "BUNDLED_SIMULATIONS",
    "GENERATOR_VERSION",
    "SIMULATORS",
    "read_bundled_simulation",
    "simulate",
    "simulate_area_crime",
    "simulate_safety_survey",
    "simulate_school_survey",
    "simulate_schools",
    "simulate_shootings",
]

#: World name → simulator function (the names used by ``utvardering simulate WORLD``).
SIMULATORS: dict[str, Callable[..., pd.DataFrame]] = {
    "shootings": simulate_shootings,
    "area_crime": simulate_area_crime,
    "safety_survey": simulate_safety_survey,
    "schools": simulate_schools,
    "school_survey": simulate_school_survey,
}


def simulate(world: str, **kwargs: Any) -> pd.DataFrame:
    """Simulate a world by name.

    Parameters
    ----------
    world : str
        One of ``"shootings"``, ``"area_crime"``, ``"safety_survey"``, ``"schools"``,
        ``"school_survey"``.
    **kwargs
        Keyword arguments of the simulator, e.g. ``seed=1`` or ``rate_ratio=0.8``.

    Returns
    -------
    pandas.DataFrame
        The simulated data with ``attrs["truth"]``.

    Raises
    ------
    DesignError
        If ``world`` is not a known world.
    """
    try:
        function = SIMULATORS[world]
    except KeyError:
        raise DesignError(
            f"unknown simulated world {world!r}; choose one of {sorted(SIMULATORS)}."
        ) from None
    return function(**kwargs)
