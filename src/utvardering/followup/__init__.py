"""Annual follow-up by area ("årlig uppföljning"): where safety and crime changed, and whether it is real.

The three programme evaluations answer "did X work?"; the follow-up answers the steering
group's yearly question: in which areas did the safety survey's indicators and the reported
crime change this year, and which of those changes are larger than sampling noise?

- :func:`survey_estimates` — weighted shares and means per area × year with design-based
  standard errors (linearisation, optional strata) and Kish design effects;
- :func:`count_estimates` — rates per 100,000 with exact (Garwood) Poisson intervals;
- :func:`fit_small_area` — the hierarchical small-area model (area and year effects,
  binomial on Kish effective sample sizes / Poisson), empirical Bayes or PyMC NUTS;
- :func:`detect_changes` — this year vs last year and vs the area's own baseline, with
  Benjamini–Hochberg false-discovery-rate control across all areas × indicators;
- :func:`detectable_change`, :func:`required_sample_size` — the smallest change each area's
  comparisons could flag (at the critical value the flags really used), and the sample an
  area needs to detect a given change;
- :func:`follow_up` — all of the above plus the programmes in force (description, not
  evaluation); :func:`write_report` — the yearly report (``utvardering followup``).
"""

from .changes import benjamini_hochberg, detect_changes
from .counts import count_estimates, garwood_interval
from .detectable import bh_threshold, detectable_by_size, detectable_change, required_sample_size
from .indicators import COUNT_INDICATORS, SURVEY_INDICATORS, Indicator, survey_estimates
from .programmes import programme_cooccurrence
from .realdata import city_change_example, load_city_survey
from .report import build_report, write_report
from .run import FollowUp, follow_up, truth_check
from .smallarea import fit_small_area, small_area_nuts

__all__ = [
    "COUNT_INDICATORS",
    "SURVEY_INDICATORS",
    "FollowUp",
    "Indicator",
    "benjamini_hochberg",
    "bh_threshold",
    "build_report",
    "city_change_example",
    "count_estimates",
    "detect_changes",
    "detectable_by_size",
    "detectable_change",
    "fit_small_area",
    "follow_up",
    "garwood_interval",
    "load_city_survey",
    "programme_cooccurrence",
    "required_sample_size",
    "small_area_nuts",
    "survey_estimates",
    "truth_check",
    "write_report",
]
