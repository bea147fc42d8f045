r"""Displacement and diffusion of benefits around a treated place.

Place-based policing may push crime into neighbouring blocks (displacement) or reduce it there
too (diffusion of benefits). The **weighted displacement quotient** of Bowers & Johnson (2003)
compares the change in a buffer (ring of neighbours) with the change in the target area, each
relative to a control area:

.. math::

    \mathrm{WDQ} = \frac{B_1/C_1 - B_0/C_0}{A_1/C_1 - A_0/C_0},

with :math:`A`, :math:`B`, :math:`C` the crime counts in the target, buffer and control areas
before (0) and after (1) the start. The denominator is the *success measure* (negative when
the target improved relative to the control); the numerator the *buffer displacement measure*.
WDQ > 0: diffusion of benefits (the buffer improved too); WDQ < 0: displacement; WDQ < −1:
more crime displaced than prevented. The quotient is only interpretable when the success
measure is negative.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..errors import DesignError

__all__ = ["weighted_displacement_quotient"]


def weighted_displacement_quotient(
    data: pd.DataFrame,
    *,
    outcome: str,
    target: str | Iterable[str],
    buffer: Iterable[str],
    control: Iterable[str],
    start,
    end=None,
    unit: str = "unit",
    time: str = "time",
) -> dict[str, float]:
    """Weighted displacement quotient (Bowers & Johnson 2003) for a target, buffer and control.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel of counts. Not modified.
    outcome : str
        Count column.
    target, buffer, control : str or iterable of str
        Units of the treated area, the surrounding ring and the comparison areas.
    start : period-like
        First treated period; earlier periods are "before".
    end : period-like, optional
        Last treated period; later periods are ignored.
    unit, time : str
        Column names.

    Returns
    -------
    dict
        ``A0, A1, B0, B1, C0, C1`` (counts), ``success_measure`` :math:`A_1/C_1 - A_0/C_0`,
        ``buffer_measure`` :math:`B_1/C_1 - B_0/C_0`, ``wdq`` and ``interpretation``.
    """
    groups = {"A": [target] if isinstance(target, str) else list(target), "B": list(buffer),
              "C": list(control)}
    overlap = set(groups["A"]) & set(groups["B"]) | set(groups["A"]) & set(groups["C"]) | (
        set(groups["B"]) & set(groups["C"]))
    if overlap:
        raise DesignError(f"units {sorted(overlap)} are in more than one of target, buffer and control.")
    times = data[time]
    after = times >= start
    keep = pd.Series(True, index=data.index) if end is None else times <= end
    out: dict[str, float] = {}
    for key, units in groups.items():
        if not units:
            raise DesignError(f"the {({'A': 'target', 'B': 'buffer', 'C': 'control'})[key]} area has no units.")
        missing = sorted(set(units) - set(data[unit]))
        if missing:
            raise DesignError(f"unit(s) {missing} are not in column {unit!r}.")
        rows = data[unit].isin(units) & keep
        out[f"{key}0"] = float(data.loc[rows & ~after, outcome].sum())
        out[f"{key}1"] = float(data.loc[rows & after, outcome].sum())
    if min(out["C0"], out["C1"]) <= 0:
        raise DesignError("the control area has no events before or after the start; WDQ is undefined.")
    success = out["A1"] / out["C1"] - out["A0"] / out["C0"]
    buffer_change = out["B1"] / out["C1"] - out["B0"] / out["C0"]
    out.update(success_measure=success, buffer_measure=buffer_change,
               wdq=buffer_change / success if success != 0 else float("nan"))
    if success >= 0:
        text = "the target did not improve relative to the control: WDQ is not interpretable"
    elif out["wdq"] > 0:
        text = "diffusion of benefits (the buffer improved too)"
    elif out["wdq"] < -1:
        text = "displacement larger than the reduction in the target"
    elif out["wdq"] < 0:
        text = "some displacement, smaller than the reduction in the target"
    else:
        text = "no change in the buffer"
    out["interpretation"] = text
    return out
