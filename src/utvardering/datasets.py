"""Bundled datasets: ``utvardering.datasets.list()`` and ``utvardering.datasets.load_<name>()``.

A thin public namespace over :mod:`utvardering.data.datasets`. ``list`` is
:func:`~utvardering.data.datasets.list_datasets` under the short name the command line and
the docs use (``utvardering.datasets.list()``); inside this module it shadows the builtin
``list``, so import the functions you need rather than ``from utvardering.datasets import *``.

Examples
--------
>>> import utvardering.datasets as datasets
>>> prop99 = datasets.load_prop99()
>>> prop99.shape
(1209, 4)
"""

from __future__ import annotations

from .data.datasets import (
    list_datasets,
    load_area_crime,
    load_basque,
    load_card_krueger,
    load_castle,
    load_causalimpact_comparison,
    load_dataset,
    load_ehec,
    load_germany,
    load_mpdta,
    load_prop99,
    load_prop99_covariates,
    load_safety_survey,
    load_school_survey,
    load_schools,
    load_shootings,
)

# -- the public record: real published figures with their sources (issue 13) --
from .data.public_record import load_public_record, sources

#: ``utvardering.datasets.list()`` — every bundled dataset with its provenance
#: (:func:`~utvardering.data.datasets.list_datasets`).
list = list_datasets

load = load_dataset

__all__ = [
    "list",
    "list_datasets",
    "load",
    "load_area_crime",
    "load_basque",
    "load_card_krueger",
    "load_castle",
    "load_causalimpact_comparison",
    "load_dataset",
    "load_ehec",
    "load_germany",
    "load_mpdta",
    "load_prop99",
    "load_prop99_covariates",
    "load_public_record",
    "load_safety_survey",
    "load_school_survey",
    "load_schools",
    "load_shootings",
    "sources",
]
