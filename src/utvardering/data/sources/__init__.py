"""Readers for the real public data formats behind Malmö's evaluations.

Each reader turns one publisher's file shape into a tidy :class:`pandas.DataFrame` and raises
:class:`utvardering.DataError` with the row, column or value at fault when the file is not in
the expected shape. None of these readers touches the network; the two fetchers below are the
only code in the library that does (``utvardering fetch``), each with an on-disk cache and a
provenance record of every download.

- :func:`read_bra_export` — Brå reported crime (anmälda brott), monthly export;
- :func:`read_police_shootings` — Police shootings per region and month, with vintage;
- :func:`read_police_events` — Police events API JSON (``polisen.se/api/events``);
- :func:`read_jsonstat2` and :func:`pxweb_query` — SCB PxWeb JSON-stat2 responses and
  request building;
- :func:`read_survey_microdata` — safety-survey micro-data (CSV, SPSS, Stata);
- :func:`incidents_to_panel` — incident rows to a unit × period count panel;
- :func:`read_police_shootings_pdf` / :func:`fetch_police_shootings` — the Police's yearly PDF
  of shootings per police region and month (pdfplumber), checked against its "Totalt" row;
- :func:`read_kolada` / :func:`fetch_kolada` — Kolada's v2 JSON API (municipality × year
  indicators such as reported crimes per 100,000).

Small invented example files in each format ship with the package; :func:`example_path`
returns their location.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ._text import parse_month_label
from .bra import read_bra_export
from .incidents import incidents_to_panel
from .kolada import fetch_kolada, read_kolada
from .police import read_police_events, read_police_shootings
from .police_pdf import fetch_police_shootings, read_police_shootings_pdf
from .pxweb import PxWebRequest, pxweb_query, read_jsonstat2
from .survey_files import read_survey_microdata

__all__ = [
    "PxWebRequest",
    "example_path",
    "fetch_kolada",
    "fetch_police_shootings",
    "incidents_to_panel",
    "parse_month_label",
    "pxweb_query",
    "read_bra_export",
    "read_jsonstat2",
    "read_kolada",
    "read_police_events",
    "read_police_shootings",
    "read_police_shootings_pdf",
    "read_survey_microdata",
]


def _examples_dir() -> Path:
    return Path(str(resources.files("utvardering.data").joinpath("files", "examples")))


def example_path(name: str) -> Path:
    """Path of a small example file bundled with the package, in a public data format.

    Parameters
    ----------
    name : str
        File name, e.g. ``"bra_example.csv"``, ``"police_shootings_example.csv"``,
        ``"police_events_example.json"``, ``"pxweb_example.json"`` or
        ``"survey_example.csv"``. The numbers in them are invented.

    Returns
    -------
    pathlib.Path
        The file's path.

    Raises
    ------
    FileNotFoundError
        When there is no such example; the message lists the available ones.
    """
    folder = _examples_dir()
    path = folder / name
    if not path.is_file() or name.startswith(("_", ".")):
        available = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".md")
        raise FileNotFoundError(f"no example file {name!r}; available: {available}")
    return path
