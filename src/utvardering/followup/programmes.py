"""Which programmes were in force where: co-occurrence beside the indicators, not evaluation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from ..interventions import MALMO_PROGRAMMES, Intervention

__all__ = ["ANALYSIS_FOR_PROGRAMME", "programme_cooccurrence"]

#: Registry key → the analysis in ``analyses/`` that evaluates it (``utvardering run NAME``).
ANALYSIS_FOR_PROGRAMME: dict[str, str] = {
    "ordningsvakter_mollevangen": "ordningsvakter_mollevangen",
    "sluta_skjut": "sluta_skjut",
    "drogfri_skola": "drogfri_skola",
}


def programme_cooccurrence(
    units: Iterable[str],
    year: int,
    *,
    registry: Mapping[str, Intervention] | None = None,
    city_unit: str = "Malmö",
) -> pd.DataFrame:
    """Programmes in force in each area during ``year`` or the year before.

    Area-level programmes are matched by area name; city-wide programmes (level
    ``"city"``) are listed once with ``unit == "(all areas)"``. This is a description of
    co-occurrence: an area's change in the same year is not an estimate of a programme's
    effect (areas were chosen for programmes because of their problems, and several
    programmes overlap). The column ``analysis`` names the evaluation in ``analyses/``, if any.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``programme``, ``key``, ``start``, ``end``, ``in_force`` (``"year"``,
        ``"year before"`` or ``"both"``), ``analysis``.
    """
    registry = registry or MALMO_PROGRAMMES
    units = list(dict.fromkeys(units))
    this = (f"{year}-01-01", f"{year}-12-31")
    before = (f"{year - 1}-01-01", f"{year - 1}-12-31")
    rows = []
    for prog in registry.values():
        now, prev = prog.active_between(*this), prog.active_between(*before)
        if not (now or prev):
            continue
        when = "both" if now and prev else ("year" if now else "year before")
        targets = (["(all areas)"] if prog.level == "city" and city_unit in prog.units
                   else [u for u in units if u in prog.units])
        for unit in targets:
            rows.append({"unit": unit, "programme": prog.name, "key": prog.key, "start": prog.start,
                         "end": prog.end or "", "in_force": when,
                         "analysis": ANALYSIS_FOR_PROGRAMME.get(prog.key, "")})
    cols = ["unit", "programme", "key", "start", "end", "in_force", "analysis"]
    return pd.DataFrame(rows, columns=cols)
