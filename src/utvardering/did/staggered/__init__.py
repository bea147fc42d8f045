"""Staggered adoption: Callaway–Sant'Anna, Sun–Abraham and the imputation estimator.

Where to look:

==========================  =================================================================
module                      responsibility
==========================  =================================================================
``callaway_santanna``       the public :func:`callaway_santanna` (options, Study → arrays → cells)
``att_gt``                  ATT(g,t) cells of a balanced panel and the 2×2 DR/IPW/OR estimator
``att_gt_rcs``              the same cells from repeated cross-sections
``influence``               per-block storage of the cells' influence functions, and standard
                            errors, covariances and the multiplier bootstrap built on them
``aggregate``               ``aggte``: simple, group, dynamic and calendar summaries, pre-test
``sun_abraham``             Sun–Abraham interaction-weighted event study
``imputation``              Borusyak–Jaravel–Spiess imputation estimator
``data``                    from a Study to the units × periods arrays all three use
``results``                 :class:`StaggeredEffect` and :class:`EventStudyEffect`
==========================  =================================================================
"""

from .callaway_santanna import callaway_santanna
from .imputation import imputation_did
from .results import EventStudyEffect, StaggeredEffect
from .sun_abraham import sun_abraham

__all__ = [
    "EventStudyEffect",
    "StaggeredEffect",
    "callaway_santanna",
    "imputation_did",
    "sun_abraham",
]
