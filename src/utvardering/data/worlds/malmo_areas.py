"""The simulated geography of Malmö: 136 areas (delområden) around Möllevången.

Named areas carry real Malmö place names; the remaining ones are pseudonymous
("Delområde 047"). Populations and crime levels are plausible round numbers chosen for the
simulation, not official statistics.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "AREA_NAMES",
    "DEFAULT_NEIGHBOURS",
    "NAMED_LEVELS",
    "OFFENCES",
    "PER_1000",
    "TREATED_AREA",
    "area_table",
]

OFFENCES: tuple[str, ...] = ("violence", "theft", "drugs", "public_order")
TREATED_AREA = "Möllevången"
DEFAULT_NEIGHBOURS: tuple[str, ...] = (
    "Rådmansvången",
    "Södra Sofielund",
    "Norra Sofielund",
    "Nobeltorget",
    "Södervärn",
)

#: Expected reported crimes per month in 2019 (violence, theft, drugs, public order) for
#: Möllevången and its neighbours. Möllevången totals 425 a month (DOMAIN.md: "roughly
#: 400+ reported crimes a month", about 10% of Malmö's reported crime).
NAMED_LEVELS: dict[str, tuple[float, float, float, float]] = {
    "Möllevången": (65.0, 190.0, 75.0, 95.0),
    "Rådmansvången": (25.0, 70.0, 12.0, 25.0),
    "Södra Sofielund": (18.0, 30.0, 22.0, 15.0),
    "Norra Sofielund": (15.0, 35.0, 10.0, 15.0),
    "Nobeltorget": (10.0, 30.0, 6.0, 10.0),
    "Södervärn": (8.0, 25.0, 4.0, 8.0),
}

#: City-wide reported crimes per 1,000 residents and month (plausible Malmö-like levels).
PER_1000: tuple[float, float, float, float] = (1.6, 4.0, 0.7, 1.6)

# (name, residents, relative crime level; None = drawn at random)
_NAMED: tuple[tuple[str, int, float | None], ...] = (
    ("Möllevången", 10_000, None),
    ("Rådmansvången", 8_500, None),
    ("Södra Sofielund", 4_200, None),
    ("Norra Sofielund", 5_000, None),
    ("Nobeltorget", 2_800, None),
    ("Södervärn", 2_600, None),
    ("Sofielunds industriområde", 600, 4.0),
    ("Lugnet", 3_500, 1.3),
    ("Persborg", 3_000, 1.1),
    ("Annelund", 2_500, 1.0),
    ("Gamla staden", 4_500, 3.0),
    ("Davidshall", 5_000, 1.6),
    ("Rörsjöstaden", 8_000, 1.1),
    ("Värnhem", 5_500, 1.2),
    ("Kirseberg", 7_000, 1.0),
    ("Herrgården", 5_000, 1.6),
    ("Törnrosen", 2_500, 1.3),
    ("Örtagården", 3_000, 1.3),
    ("Kryddgården", 3_500, 1.2),
    ("Hermodsdal", 3_000, 1.2),
    ("Lindängen", 5_000, 1.2),
    ("Holma", 4_000, 1.1),
    ("Kroksbäck", 4_000, 1.1),
    ("Bellevuegården", 4_000, 1.0),
    ("Bunkeflostrand", 8_000, 0.4),
    ("Augustenborg", 3_000, 1.0),
    ("Hyllie", 4_000, 1.4),
    ("Fridhem", 4_000, 0.5),
    ("Västra Hamnen", 8_000, 0.7),
    ("Limhamn", 6_000, 0.5),
)
_N_AREAS = 136
AREA_NAMES: tuple[str, ...] = tuple(n for n, _, _ in _NAMED) + tuple(
    f"Delområde {i:03d}" for i in range(len(_NAMED) + 1, _N_AREAS + 1)
)


def area_table(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Residents (2019) and expected 2019 monthly counts by offence for all 136 areas.

    Pseudonymous areas get ``lognormal(mean 2,300)`` residents, a relative crime level
    ``exp(N(0, 0.5^2) - 0.125)`` and an offence mix ``exp(N(0, 0.25^2))``; named areas use
    their listed level; Möllevången and its neighbours use :data:`NAMED_LEVELS`.

    Returns
    -------
    population : ndarray, shape (136,)
    levels : ndarray, shape (136, 4)
    """
    n_named = len(_NAMED)
    n_other = _N_AREAS - n_named
    pop_other = np.exp(rng.normal(np.log(2_300.0) - 0.18, 0.6, n_other)).clip(150, 9_000)
    crime_other = np.exp(rng.normal(-0.125, 0.5, n_other))
    mix = np.exp(rng.normal(0.0, 0.25, (_N_AREAS, len(OFFENCES))))
    population = np.concatenate([np.array([p for _, p, _ in _NAMED], float), pop_other])
    crime = np.concatenate([np.array([c if c is not None else 1.0 for _, _, c in _NAMED]),
                            crime_other])
    levels = population[:, None] / 1000.0 * np.array(PER_1000)[None, :] * crime[:, None] * mix
    for name, row in NAMED_LEVELS.items():
        levels[AREA_NAMES.index(name)] = row
    return np.rint(population), levels
