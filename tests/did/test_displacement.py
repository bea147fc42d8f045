"""Weighted displacement quotient (Bowers & Johnson 2003)."""

from __future__ import annotations

import pandas as pd
import pytest

from utvardering import DesignError
from utvardering.did.displacement import weighted_displacement_quotient


def _panel(a0, a1, b0, b1, c0, c1):
    rows = [("A", 0, a0), ("A", 1, a1), ("B", 0, b0), ("B", 1, b1), ("C", 0, c0), ("C", 1, c1)]
    return pd.DataFrame(rows, columns=["unit", "time", "crimes"])


def test_hand_computed_quotient():
    # success = 60/100 - 100/100 = -0.4; buffer = 45/100 - 50/100 = -0.05; WDQ = 0.125
    out = weighted_displacement_quotient(_panel(100, 60, 50, 45, 100, 100), outcome="crimes", target="A",
                                         buffer=["B"], control=["C"], start=1)
    assert out["success_measure"] == pytest.approx(-0.4)
    assert out["buffer_measure"] == pytest.approx(-0.05)
    assert out["wdq"] == pytest.approx(0.125)
    assert out["interpretation"].startswith("diffusion of benefits")


def test_displacement_and_uninterpretable():
    out = weighted_displacement_quotient(_panel(100, 60, 50, 100, 100, 100), outcome="crimes", target="A",
                                         buffer=["B"], control=["C"], start=1)
    assert out["wdq"] == pytest.approx(-1.25) and out["interpretation"].startswith("displacement larger")
    out = weighted_displacement_quotient(_panel(100, 120, 50, 50, 100, 100), outcome="crimes", target="A",
                                         buffer=["B"], control=["C"], start=1)
    assert "not interpretable" in out["interpretation"]


def test_errors():
    with pytest.raises(DesignError, match=r"units \['B'\] are in more than one"):
        weighted_displacement_quotient(_panel(1, 1, 1, 1, 1, 1), outcome="crimes", target="A", buffer=["B"],
                                       control=["B", "C"], start=1)
    with pytest.raises(DesignError, match=r"unit\(s\) \['D'\] are not in column 'unit'"):
        weighted_displacement_quotient(_panel(1, 1, 1, 1, 1, 1), outcome="crimes", target="A", buffer=["D"],
                                       control=["C"], start=1)
