"""``estimator-options``: the table of every registered estimator's arguments, built at docs time.

The table is read from the functions' signatures when the docs are built, so it cannot drift
from the code: one row per registered estimator, one column per idea of the shared vocabulary
(:mod:`utvardering.options`), showing the default (``—`` where the estimator has no such option),
and the estimator's own further options.
"""

from __future__ import annotations

import inspect

from docutils import nodes
from docutils.parsers.rst import Directive

#: Vocabulary columns: header -> argument names that fill it.
COLUMNS = {
    "inference": ("inference",),
    "vcov": ("vcov",),
    "n_draws": ("n_draws",),
    "level": ("level",),
    "random_state": ("random_state",),
    "rate / per": ("rate", "per"),
    "control_group": ("control_group",),
    "likelihood": ("likelihood",),
    "weights": ("weights",),
}
#: Study keywords (the design), not options of the method.
DESIGN = {"outcome", "unit", "time", "treated", "start", "starts", "cohort", "end", "donors",
          "exclude", "exposure", "covariates", "window", "min_pre_periods", "treatment",
          "group", "post", "respondent", "weight", "item", "study_kwargs", "study_args",
          "controls", "pre_period", "post_period"}


def _default(parameter: inspect.Parameter) -> str:
    if parameter.default is inspect.Parameter.empty:
        return "required"
    return repr(parameter.default)


def _cell(text: str) -> nodes.entry:
    entry = nodes.entry()
    entry += nodes.paragraph(text=text)
    return entry


def rows() -> list[list[str]]:
    """One row of strings per registered estimator (name, family, first argument, columns, other)."""
    import utvardering as utv
    from utvardering import get_estimator

    out = []
    for name in utv.list_estimators()["name"]:
        info = get_estimator(name)
        params = inspect.signature(inspect.unwrap(info.function)).parameters
        names = list(params)
        row = [name, info.family, names[0] if names else "—"]
        used = {names[0]} if names else set()
        for keys in COLUMNS.values():
            present = [k for k in keys if k in params]
            used.update(present)
            row.append(", ".join(f"{k}={_default(params[k])}" if len(keys) > 1 else
                                 _default(params[k]) for k in present) or "—")
        other = [k for k, p in params.items() if k not in used and k not in DESIGN
                 and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        row.append(", ".join(other) or "—")
        out.append(row)
    return out


class EstimatorOptions(Directive):
    """Render :func:`rows` as a table."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        header = ["estimator", "family", "first argument", *COLUMNS, "other options"]
        table = nodes.table(classes=["estimator-options"])
        group = nodes.tgroup(cols=len(header))
        table += group
        for _ in header:
            group += nodes.colspec(colwidth=1)
        head = nodes.thead()
        row = nodes.row()
        for text in header:
            row += _cell(text)
        head += row
        group += head
        body = nodes.tbody()
        for values in rows():
            row = nodes.row()
            for text in values:
                row += _cell(text)
            body += row
        group += body
        return [table]


def setup(app):
    app.add_directive("estimator-options", EstimatorOptions)
    return {"version": "1.0", "parallel_read_safe": True}
