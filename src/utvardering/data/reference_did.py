"""Loaders for the bundled difference-in-differences reference datasets.

mpdta (Callaway & Sant'Anna), castle-doctrine laws (Cheng & Hoekstra), Medicaid expansion
(the HonestDiD example) and Card & Krueger's New Jersey minimum wage. Each loader keeps the
source's column names, validates the panel and returns a copy sorted by unit and time;
provenance and hashes are in :data:`~utvardering.data.reference.REFERENCE_DATASETS`.
"""

from __future__ import annotations

import pandas as pd

from .reference import read_reference, reference_panel

__all__ = ["load_card_krueger", "load_castle", "load_ehec", "load_mpdta"]


def load_mpdta() -> pd.DataFrame:
    """County teen employment and staggered minimum-wage increases, 2003–2007.

    Returns
    -------
    pandas.DataFrame
        2500 rows (500 counties × 5 years), sorted by ``countyreal`` and ``year``:

        - ``year`` (int): 2003–2007;
        - ``countyreal`` (int): county identifier (the unit);
        - ``lpop`` (float): log county population (time-invariant);
        - ``lemp`` (float): log teen employment (the outcome);
        - ``first.treat`` (int): year of the county's first minimum-wage rise (2004, 2006,
          2007), 0 for never treated — the cohort column (``Study(..., cohort="first.treat")``);
        - ``treat`` (int): 1 if the county is ever treated.

    Notes
    -----
    Source: d2cml-ai/csdid ``data/mpdta.csv``, a copy of R ``did::mpdta``; MIT (csdid), the
    R package is GPL-2.

    Reproduces R ``did`` 2.5.0 ``att_gt(yname="lemp", tname="year", idname="countyreal",
    gname="first.treat", control_group="nevertreated", est_method="dr")``: e.g. ATT(2004,
    2004) = −0.0105032462 (SE 0.0232510364); ``aggte`` simple −0.0399512752 (0.0120340128),
    dynamic −0.0772398215 (0.0199649891).

    References
    ----------
    Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics*, 225(2), 200–230.
    """
    return reference_panel(read_reference("mpdta"), unit="countyreal", time="year", outcomes=["lemp"],
                  covariates=["lpop", "first.treat", "treat"])


def load_castle() -> pd.DataFrame:
    """Castle-doctrine (stand-your-ground) laws and crime, 50 US states, 2000–2010.

    Returns
    -------
    pandas.DataFrame
        550 rows (50 states × 11 years) and 139 columns, sorted by ``sid`` and ``year``.
        The main ones:

        - ``year`` (int), ``sid`` (int): year and state identifier (the unit);
        - ``homicide``, ``robbery``, ``assault``, ``burglary``, ``larceny``, ``motor``,
          ``murder`` (float): crimes per 100,000 population;
        - ``l_homicide``, ``l_larceny``, ``l_motor`` (float): their logs;
        - ``post`` (int): 1 once the state's law is in force (21 states adopt one, first
          treated years 2006–2010, staggered);
        - ``popwt`` (float): state population (regression weight);
        - ``jhcitizen_c``, ``jhpolice_c`` (int): justifiable homicides by citizens / police;
        - ``robbery_gun_r`` (float, 6 missing), ``unemployrt``, ``poverty``, demographic
          shares ``blackm_15_24`` ..., ``l_police``, ``l_income``, ``l_prisoner``,
          ``l_lagprisoner``, ``l_exp_subsidy``, ``l_exp_pubwelfare``;
        - ``lead1`` … ``lead9``, ``lag0`` … ``lag5``: event-time dummies. They do **not**
          follow ``post``: in 19 of the 21 adopting states ``lag0`` is 1 one year before the
          first ``post == 1`` year, in 2 states two years before (the dummies date adoption by
          the law's passage, ``post`` by the first full year in force). The file has no
          ``effyear`` column: a pyfixest/Mixtape-style event study that derives the adoption
          year from ``lag0`` and a design built from ``post`` (as in the docs) therefore use
          different start years — derive one of them explicitly, e.g.
          ``data.loc[data["post"] == 1].groupby("sid")["year"].min()``;
        - ``r20001`` … ``r20104``: region-by-year dummies; ``trend_1`` … ``trend_51``:
          state trends.

    Notes
    -----
    Source: PyPI causaldata 0.1.5 ``castle/castle.dta`` converted to CSV, MIT licence; FBI
    Uniform Crime Reports data.

    Cheng & Hoekstra (2013) find about an 8% increase in homicides. Cross-checks (pyfixest
    0.60.0, state and year FE, SEs clustered by state): ``l_homicide ~ post`` unweighted
    0.069398 (0.05586); population-weighted 0.075533 (0.033194); weighted with region-by-year
    FE 0.085710 (0.026171); Poisson on ``round(homicide * popwt / 1e5)`` 0.079416 (0.031303).

    References
    ----------
    Cheng, C. & Hoekstra, M. (2013). Does strengthening self-defense law deter crime or
    escalate violence? *Journal of Human Resources*, 48(3), 821–854.
    """
    return reference_panel(read_reference("castle"), unit="sid", time="year", outcomes=["l_homicide", "homicide"],
                  covariates=["post", "popwt"])


def load_ehec() -> pd.DataFrame:
    """Medicaid expansion and health insurance, 46 US states, 2008–2019 (HonestDiD example).

    Returns
    -------
    pandas.DataFrame
        552 rows (46 states × 12 years), sorted by ``stfips`` and ``year``:

        - ``stfips`` (str): state name in lower case (despite the column name);
        - ``year`` (int): 2008–2019;
        - ``dins`` (float): share of adults with health insurance (the outcome);
        - ``yexp2`` (float): year of Medicaid expansion (2014, 2015, 2016, 2017, 2019),
          missing for the 16 states that never expanded;
        - ``W`` (int): state weight (not used by the reference results).

    Notes
    -----
    Source: Mixtape-Sessions/Advanced-DID ``Exercises/Data/ehec_data.csv`` (the panel the
    HonestDiD README uses); ACS-derived; the source states no licence.

    Reproduces the HonestDiD README: keep years before 2016, drop the 2015 expanders, D = 1
    for the 2014 expanders (22) versus 21 others; TWFE event study with 2013 as reference;
    robust 95% intervals for the 2014 effect, e.g. relative magnitudes M̄ = 1:
    [0.0170, 0.0720]; smoothness M = 0: [0.0259, 0.0607].

    References
    ----------
    Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. *Review of
    Economic Studies*, 90(5), 2555–2591.
    """
    return reference_panel(read_reference("ehec"), unit="stfips", time="year", outcomes=["dins"],
                  covariates=["yexp2", "W"])


def load_card_krueger() -> pd.DataFrame:
    """Minimum wage and fast-food employment: 410 stores in New Jersey and Pennsylvania.

    New Jersey raised its minimum wage from $4.25 to $5.05 on 1 April 1992; stores were
    surveyed in February–March 1992 and again in November–December 1992.

    Returns
    -------
    pandas.DataFrame
        820 rows (410 stores × 2 waves), 27 columns, sorted by ``id`` and ``d``:

        - ``id`` (int): store (the unit); ``d`` (int): wave, 0 before, 1 after (the time);
        - ``nj`` (int): 1 for New Jersey, 0 for Pennsylvania; ``d_nj`` = ``d`` × ``nj``;
        - ``bk``, ``kfc``, ``roys``, ``wendys`` (int): chain; ``co_owned`` (int);
          ``centralj``, ``southj``, ``pa1``, ``pa2`` (int): regions;
        - ``fte`` (float): full-time-equivalent employment (``ft`` + ``pt``/2 + ``mgrs``;
          missing for 26 store-waves), ``ft``, ``pt``, ``mgrs`` (float);
        - ``wage`` (float): starting wage; ``meal`` (float): price of a full meal;
          ``hrsopen``, ``bonus``, ``ncalls``, ``status``, ``type``, ``inctime``,
          ``firstinc``, ``nregs``: further survey answers (with missing values).

    Notes
    -----
    Source: UChicago-pol-methods/SOSC13200-W22 ``data/card-krueger.csv`` (from the
    Angrist–Pischke *Mostly Harmless Econometrics* data archive), GPL-3.0. The unit × wave
    structure is validated; ``fte`` is not, because it has genuine missing values.
    Card & Krueger (1994, Table 3) report a difference-in-differences of mean FTE of
    +2.76 (SE 1.36); the simple difference of wave means in this file is +2.75.
    ``REFERENCES.md`` lists no numbers tested here.

    References
    ----------
    Card, D. & Krueger, A. B. (1994). Minimum wages and employment: a case study of the
    fast-food industry in New Jersey and Pennsylvania. *American Economic Review*, 84(4),
    772–793.
    """
    frame = read_reference("card_krueger")
    return reference_panel(frame, unit="id", time="d",
                  covariates=[c for c in frame.columns if c not in ("id", "d")])
