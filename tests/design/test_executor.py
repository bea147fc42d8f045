"""The executor: per-cell seeds, failures kept, the same numbers on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from utvardering.errors import DesignError
from utvardering.executor import CellFailure, cell_seed, root_seed, run_cells


def _draw(shared, cell, seed):
    if cell == "boom":
        raise ValueError("cell asked to fail")
    rng = np.random.default_rng(seed)
    return float(shared["scale"] * rng.normal()) + cell


def test_cell_seeds_are_the_spawned_children_of_the_root():
    root = root_seed(7)
    children = np.random.SeedSequence(7).spawn(5)
    for i, child in enumerate(children):
        assert cell_seed(root, i).generate_state(4).tolist() == child.generate_state(4).tolist()


def test_same_numbers_whatever_the_batching_and_start():
    cells = list(range(10))
    full, info = run_cells(_draw, cells, {"scale": 2.0}, random_state=3)
    assert info["backend"] == "serial" and info["failed"] == 0
    batched, _ = run_cells(_draw, cells, {"scale": 2.0}, random_state=3, batch_size=4)
    tail, _ = run_cells(_draw, cells[4:], {"scale": 2.0}, random_state=3, start=4)
    assert full == batched
    assert full[4:] == tail
    other, _ = run_cells(_draw, cells, {"scale": 2.0}, random_state=4)
    assert other != full


def test_failed_cells_are_recorded_in_place_and_do_not_stop_the_run():
    cells = [0, "boom", 2, "boom", 4]
    out, info = run_cells(_draw, cells, {"scale": 1.0}, random_state=1)
    assert info["failed"] == 2
    assert isinstance(out[1], CellFailure) and out[1].index == 1
    assert out[1].error == "ValueError: cell asked to fail"
    assert all(isinstance(out[i], float) for i in (0, 2, 4))


def test_joblib_gives_the_serial_numbers():
    cells = list(range(12))
    serial, _ = run_cells(_draw, cells, {"scale": 1.5}, random_state=11)
    parallel, info = run_cells(_draw, cells, {"scale": 1.5}, random_state=11, n_jobs=2)
    assert info["backend"] == "joblib" and info["workers"] == 2
    assert parallel == serial


def test_bad_backend_and_scheduler_are_refused_before_running():
    with pytest.raises(DesignError, match="backend='spark' is not an option"):
        run_cells(_draw, [1], {"scale": 1.0}, backend="spark")
    with pytest.raises(DesignError, match="use it with backend='dask'"):
        run_cells(_draw, [1], {"scale": 1.0}, backend="joblib", scheduler="tcp://x:8786")
    with pytest.raises(DesignError, match="random_state"):
        run_cells(_draw, [1], {"scale": 1.0}, random_state="seven")
