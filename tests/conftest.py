"""Shared test helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import budget


def pytest_report_header(config) -> str:
    """Say in the header whether the slow tests run with small or full draws."""
    if budget.FAST:
        return "UTV_TEST_FAST=1: slow tests with small draws and wide bounds (CI)"
    return "slow tests (if selected) at full draws"


@pytest.fixture(scope="session", name="budget")
def budget_fixture():
    """The UTV_TEST_FAST switch (tests/budget.py): ``.FAST``, ``.draws(full=, fast=)``, ``.choose(full=, fast=)``."""
    return budget


def make_panel(n_units: int = 6, start: str = "2017-01", end: str = "2020-12", seed: int = 0) -> pd.DataFrame:
    """A small clean monthly count panel with string periods (as read from CSV)."""
    rng = np.random.default_rng(seed)
    times = pd.period_range(start, end, freq="M")
    units = [f"area{i}" for i in range(n_units)]
    rows = [(u, str(t), int(rng.poisson(5)), 10_000 + 100 * i) for i, u in enumerate(units) for t in times]
    return pd.DataFrame(rows, columns=["unit", "time", "crimes", "population"])


@pytest.fixture
def panel() -> pd.DataFrame:
    """Clean monthly panel: 6 areas × 48 months of counts with population."""
    return make_panel()
