"""Loaders for the bundled synthetic-control reference datasets.

Proposition 99 (with ADH's predictors), the Basque Country and German reunification. Each
loader keeps the source's column names, validates the panel and returns a copy sorted by
unit and time; provenance and hashes are in
:data:`~utvardering.data.reference.REFERENCE_DATASETS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .reference import integer_columns, read_reference, reference_panel

__all__ = ["load_basque", "load_germany", "load_prop99", "load_prop99_covariates"]


def load_prop99(covariates: bool = False) -> pd.DataFrame:
    """California's Proposition 99: per-capita cigarette sales in 39 US states, 1970–2000.

    California raised its cigarette tax by 25 cents a pack from January 1989 (Proposition 99);
    the other 38 states had no large tobacco-control programme in the period and form the
    donor pool. The classic synthetic-control example.

    Parameters
    ----------
    covariates : bool, default False
        Add ADH's predictors ``lnincome``, ``beer``, ``age15to24`` and ``retprice`` from
        :func:`load_prop99_covariates` (matched on state name and year; with gaps:
        ``lnincome`` 1972–1997, ``beer`` 1984–1997, ``age15to24`` 1970–1990 only).

    Returns
    -------
    pandas.DataFrame
        1209 rows (39 states × 31 years), sorted by ``State`` and ``Year``:

        - ``State`` (str): state name, e.g. ``"California"``;
        - ``Year`` (int): 1970–2000;
        - ``PacksPerCapita`` (float): cigarette sales in packs per capita;
        - ``treated`` (int): 1 for California from 1989, else 0.

    Notes
    -----
    Source: PyPI synthdid-py 0.1.0 (``california_prop99.csv``, identical to R
    ``synthdid::california_prop99``), BSD-3-Clause; CausalPy's copy is Apache-2.0.

    Published results on these data: by 2000 sales were about 26 packs lower than in
    synthetic California (ADH 2010); Stata ``synth2`` weights Utah 0.334, Nevada 0.235,
    Montana 0.202, Colorado 0.161, Connecticut 0.068, post-1989 average gap −19.48 packs,
    placebo p = 0.026. Arkhangelsky et al. (2021), Table 1: SDID −15.6, SC −19.6, DiD −27.3
    (R ``synthdid``: −15.60383, −19.61966, −27.34911).

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for
    comparative case studies. *JASA*, 105(490), 493–505.

    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
    Synthetic difference-in-differences. *American Economic Review*, 111(12), 4088–4118.
    """
    frame = reference_panel(read_reference("prop99"), unit="State", time="Year", outcomes=["PacksPerCapita"],
                   covariates=["treated"])
    if not covariates:
        return frame
    keep = load_prop99_covariates()[
        ["state_name", "year", "cigsale", "lnincome", "beer", "age15to24", "retprice"]]
    merged = frame.merge(keep, left_on=["State", "Year"], right_on=["state_name", "year"],
                         how="left", validate="one_to_one")
    gap = np.abs(merged["cigsale"] - merged["PacksPerCapita"]).fillna(np.inf).max()
    if gap > 1e-6:
        raise DataError(f"prop99 and prop99_covariates disagree on cigarette sales by {gap}; "
                        "the bundled files are inconsistent (reinstall utvardering).")
    return merged.drop(columns=["state_name", "year", "cigsale"])


def load_prop99_covariates() -> pd.DataFrame:
    """ADH (2010) predictors for the Proposition 99 study, 39 states, 1970–2000.

    Returns
    -------
    pandas.DataFrame
        1209 rows, sorted by ``state`` and ``year``:

        - ``state`` (int): state code 1–39 in alphabetical order (California = 3);
        - ``year`` (int): 1970–2000;
        - ``cigsale`` (float): packs per capita (equals ``PacksPerCapita`` of
          :func:`load_prop99` within 5e-8);
        - ``lnincome`` (float): log per-capita personal income (1972–1997);
        - ``beer`` (float): beer consumption per capita (1984–1997);
        - ``age15to24`` (float): share of the population aged 15–24 (to 1990);
        - ``retprice`` (float): average retail price of cigarettes (cents per pack);
        - ``state_name`` (str).

    Notes
    -----
    Source: nilshg/SynthControl.jl ``data/smoking.csv``, MIT licence. Missing values are
    kept (they are gaps in the original data, not errors).

    With these predictors ADH's Table 2 weights are Colorado 0.164, Connecticut 0.069,
    Montana 0.199, Nevada 0.234, Utah 0.334; with the published weights the 1970–88 MSPE
    is 3.08 (RMSPE 1.75).

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2010). *JASA*, 105(490), 493–505.
    """
    return reference_panel(read_reference("prop99_covariates"), unit="state", time="year", outcomes=["cigsale"],
                  covariates=["lnincome", "beer", "age15to24", "retprice"])


def load_basque() -> pd.DataFrame:
    """Terrorism and GDP in the Basque Country: 17 Spanish regions and Spain, 1955–1997.

    Returns
    -------
    pandas.DataFrame
        774 rows (18 units × 43 years), sorted by ``regionno`` and ``year``:

        - ``regionno`` (int): 1 = Spain (national total), 2–18 regions; the Basque Country
          (treated from the 1970s) is 17;
        - ``regionname`` (str), ``year`` (int): 1955–1997;
        - ``gdpcap`` (float): real GDP per capita (thousands of 1986 USD);
        - ``sec.agriculture``, ``sec.energy``, ``sec.industry``, ``sec.construction``,
          ``sec.services.venta``, ``sec.services.nonventa`` (float): sector shares, odd years
          1961–1969 only;
        - ``school.illit``, ``school.prim``, ``school.med``, ``school.high``,
          ``school.post.high`` (float): schooling, 1964–1969 only;
        - ``popdens`` (float): population density, 1969 only; ``invest`` (float): investment
          share, 1964–1995.

        ``regionno`` and ``year`` are stored as ``1.0`` in the file and returned as integers;
        the predictors keep their gaps (missing values).

    Notes
    -----
    Source: sdfordham/pysyncon ``data/basque.csv`` (the data of R ``Synth::basque``), MIT
    licence. Abadie & Gardeazabal (2003) estimate that per-capita GDP in the Basque Country
    fell about 10 percentage points relative to its synthetic control after terrorism began;
    ``REFERENCES.md`` lists no numbers tested here.

    References
    ----------
    Abadie, A. & Gardeazabal, J. (2003). The economic costs of conflict: a case study of the
    Basque Country. *American Economic Review*, 93(1), 113–132.
    """
    frame = integer_columns(read_reference("basque"), ["regionno", "year"])
    return reference_panel(frame, unit="regionno", time="year", outcomes=["gdpcap"],
                  covariates=[c for c in frame.columns if c not in ("regionno", "regionname", "year")])


def load_germany() -> pd.DataFrame:
    """German reunification and GDP: West Germany and 16 OECD countries, 1960–2003.

    Returns
    -------
    pandas.DataFrame
        748 rows (17 countries × 44 years), sorted by ``code`` and ``year``:

        - ``code`` (int), ``country`` (str): country id and name (``"West Germany"`` is
          treated from 1990);
        - ``year`` (int): 1960–2003;
        - ``gdp`` (int): GDP per capita (PPP, 2002 USD);
        - ``infrate`` (float): inflation; ``trade`` (float): trade openness (to 1998);
          ``schooling`` (float): secondary schooling (to 2000); ``industry`` (float):
          industry share of value added;
        - ``invest60``, ``invest70``, ``invest80`` (float): investment-rate averages of the
          1960s/70s/80s, given in 1980 only.

    Notes
    -----
    Source: sdfordham/pysyncon ``data/germany.csv``, MIT licence. Abadie, Diamond &
    Hainmueller (2015) estimate that reunification lowered West German GDP per capita by
    about 1,600 USD a year on average over 1990–2003; ``REFERENCES.md`` lists no numbers
    tested here.

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic
    control method. *American Journal of Political Science*, 59(2), 495–510.
    """
    return reference_panel(read_reference("germany"), unit="code", time="year", outcomes=["gdp"],
                  covariates=["infrate", "trade", "schooling", "invest60", "invest70",
                              "invest80", "industry"])
