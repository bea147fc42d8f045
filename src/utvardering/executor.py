"""One executor for many independent cells: serially, with joblib (loky) or on Dask.

Design diagnosis runs the same small job — build a study, fit an estimator — hundreds or
thousands of times, and a synthetic control's placebo-in-space test refits it once per donor.
Both go through this one module (it sits below the families, which may use it). :func:`run_cells` runs such *cells* through one of three backends:

``"serial"``
    In this process, one cell after another (the default).
``"joblib"``
    ``n_jobs`` worker processes on this machine (joblib's loky backend).
``"dask"``
    The workers of a ``distributed.Client``: the client given by ``scheduler=`` (an address
    such as ``"tcp://scheduler:8786"``), else the client already active in this session (for
    example one created on a dask-jobqueue cluster), else a ``LocalCluster`` with ``n_jobs``
    single-threaded worker processes started for the run and closed after it.

Three guarantees hold for every backend:

* **The same numbers.** Cell ``i`` draws its random numbers from its own seed,
  ``SeedSequence(entropy, spawn_key=(i,))`` of the run's root seed, never from a stream
  shared with other cells; workers limit BLAS/OpenMP threads to one. The same
  ``random_state`` therefore gives bit-identical results serially, with joblib and on Dask,
  whatever the number of workers.
* **Failures are kept.** A cell that raises is recorded as a :class:`CellFailure` with its
  error message in its place in the results; the other cells run on.
* **The shared data travel once per worker.** The object every cell needs (the panel, the
  design) is written once to a temporary file that joblib workers read once and keep
  (``"joblib"``), or broadcast to every worker with ``Client.scatter`` (``"dask"``); cells
  carry only their own small description. Results stream back as batches finish.
"""

from __future__ import annotations

import math
import os
import pickle
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .errors import DesignError
from .options import check_option
from .progress import enabled as progress_enabled
from .progress import format_seconds, is_terminal

__all__ = ["Backend", "CellFailure", "cell_seed", "root_seed", "run_cells"]

Backend = Literal["serial", "joblib", "dask"]

#: Objects shared by every cell, loaded once per worker process (key: token).
_WORKER_SHARED: dict[str, Any] = {}


@dataclass(frozen=True)
class CellFailure:
    """A cell that raised: its index and the error, as ``"ErrorType: message"``."""

    index: int
    error: str

    def __bool__(self) -> bool:  # a failure is never a result
        return False


def root_seed(random_state: int | np.random.Generator | np.random.SeedSequence | None
              ) -> np.random.SeedSequence:
    """The run's root :class:`numpy.random.SeedSequence`.

    Parameters
    ----------
    random_state : int, Generator, SeedSequence or None
        An integer seed; a Generator (one integer is drawn from it); a SeedSequence (used as
        is); ``None`` for fresh entropy (its value is kept on the result, so the run can be
        repeated).
    """
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise DesignError(f"random_state={random_state} must be a non-negative integer.")
        return np.random.SeedSequence(int(random_state))
    raise DesignError(f"random_state={random_state!r} must be an integer, a numpy Generator or None.")


def cell_seed(root: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """Seed of cell ``index``: the ``index``-th child of ``root`` (as ``root.spawn`` makes it)."""
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, int(index)))


# -- the worker side ----------------------------------------------------------------------------
def _load_shared(ref: tuple[str, str]) -> Any:
    """The shared object behind a file reference, unpickled once per process."""
    token, path = ref
    if token not in _WORKER_SHARED:
        with open(path, "rb") as handle:
            _WORKER_SHARED.clear()  # one run at a time per worker: keep memory flat
            _WORKER_SHARED[token] = pickle.load(handle)
    return _WORKER_SHARED[token]


def _limit_threads():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    return threadpool_limits(limits=1)


def _run_batch(task: Callable, shared: Any, batch: Sequence[tuple[int, Any]],
               entropy: int | Sequence[int], spawn_key: tuple, parallel: bool
               ) -> tuple[list[tuple[int, Any]], int, float]:
    """Run cells ``batch`` (``(index, cell)`` pairs); a raising cell becomes a CellFailure.

    Returns the results, this process's id and the CPU seconds the batch used (the work a
    worker did, whatever else the machine was running).
    """
    cpu0 = time.process_time()
    if isinstance(shared, tuple) and len(shared) == 2 and shared[0] == "__utv_shared_file__":
        shared = _load_shared(shared[1])
    root = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    # one BLAS/OpenMP/numba thread per cell on every backend, serial included: multithreaded
    # reductions would change the last bits of a result with the number of threads
    limiter = _limit_threads()
    numba_threads = _set_numba_threads(1)
    out = []
    try:
        for index, cell in batch:
            try:
                out.append((index, task(shared, cell, cell_seed(root, index))))
            except Exception as exc:  # recorded, never dropped, never stops the run
                message = str(exc).strip().splitlines()
                text = f"{type(exc).__name__}: {message[0] if message else ''}".rstrip(": ")
                if not message:
                    text += " (" + traceback.format_exc(limit=1).strip().splitlines()[-1] + ")"
                out.append((index, CellFailure(index, text)))
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
        if numba_threads is not None and not parallel:
            _set_numba_threads(numba_threads)
    return out, os.getpid(), time.process_time() - cpu0


def _set_numba_threads(n: int) -> int | None:
    """Set numba's thread count for this thread; return the previous one (None without numba)."""
    try:
        import numba

        previous = numba.get_num_threads()
        numba.set_num_threads(n)
        return previous
    except Exception:  # numba absent or its threading layer unavailable
        return None


# -- progress -----------------------------------------------------------------------------------
class _Progress:
    """``label [#####-----] 120/500 cells · 41 s``, on a terminal only."""

    def __init__(self, label: str, total: int, draw: bool | None) -> None:
        self.label, self.total, self.done = label, total, 0
        self.draw = (progress_enabled() or is_terminal(sys.stderr)) if draw is None else bool(draw)
        self.began = time.perf_counter()

    def update(self, n: int) -> None:
        self.done += n
        if not self.draw:
            return
        filled = round(20 * self.done / max(self.total, 1))
        line = (f"\r{self.label} [{'#' * filled}{'-' * (20 - filled)}] {self.done}/{self.total} "
                f"cells · {format_seconds(time.perf_counter() - self.began)}")
        try:
            sys.stderr.write(line + ("\n" if self.done >= self.total else ""))
            sys.stderr.flush()
        except (OSError, ValueError):
            self.draw = False


# -- the driver side ----------------------------------------------------------------------------
def _batches(n: int, workers: int, batch_size: int | None) -> list[range]:
    if batch_size is None:
        # a few batches per worker: balanced load and streamed results, little overhead
        batch_size = max(1, min(64, math.ceil(n / max(1, 4 * workers))))
    return [range(i, min(n, i + batch_size)) for i in range(0, n, batch_size)]


def _workers(n_jobs: int | None) -> int:
    cpus = os.cpu_count() or 1
    if n_jobs is None:
        return cpus
    n = int(n_jobs)
    if n == 0:
        raise DesignError("n_jobs=0 is not a number of workers; give 1 or more, or -1 for all cores.")
    return max(1, cpus + 1 + n) if n < 0 else n


def resolve_backend(backend: str | None, n_jobs: int | None, scheduler: str | None) -> str:
    """The backend actually used: ``backend`` if given, else Dask with a scheduler address,
    joblib with ``n_jobs`` other than 1, serial otherwise.
    """
    if backend is None:
        if scheduler is not None:
            return "dask"
        return "joblib" if n_jobs not in (None, 1) else "serial"
    check_option("backend", backend, Backend)
    if scheduler is not None and backend != "dask":
        raise DesignError(f"scheduler={scheduler!r} is a Dask scheduler address; use it with "
                          f"backend='dask' (got backend={backend!r}).")
    return backend


def run_cells(
    task: Callable[[Any, Any, np.random.SeedSequence], Any],
    cells: Sequence[Any],
    shared: Any,
    *,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    backend: Backend | None = None,
    n_jobs: int | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
    label: str = "cells",
    batch_size: int | None = None,
    start: int = 0,
) -> tuple[list[Any], dict]:
    """Run ``task(shared, cell, seed)`` for every cell; results in cell order.

    Parameters
    ----------
    task : callable
        A module-level function ``task(shared, cell, seed)``; ``seed`` is the cell's
        :class:`numpy.random.SeedSequence` (:func:`cell_seed`), its only source of randomness.
    cells : sequence
        Small picklable descriptions of the cells.
    shared : object
        What every cell needs (panel, design, options), sent once per worker.
    random_state : int, Generator, SeedSequence or None
        The root seed (:func:`root_seed`).
    backend : {"serial", "joblib", "dask"}, optional
        Default: ``"dask"`` when ``scheduler`` is given, ``"joblib"`` when ``n_jobs`` is not 1,
        else ``"serial"``.
    n_jobs : int, optional
        Worker processes for joblib, or for the ``LocalCluster`` Dask starts when no client is
        active (default: every core; ``-1`` every core, ``-2`` all but one).
    scheduler : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``).
    progress : bool, optional
        Draw a progress line on standard error; default only on a terminal (or inside
        :func:`utvardering.progress.enable`).
    label : str
        Shown in the progress line.
    batch_size : int, optional
        Cells per task sent to a worker (default: about four batches per worker, at most 64).
    start : int, default 0
        Index of ``cells[0]`` in the run's numbering (its seed is cell ``start``'s).

    Returns
    -------
    results : list
        ``task``'s return value per cell, or a :class:`CellFailure`.
    info : dict
        ``backend``, ``workers``, ``seconds`` (wall), ``failed``, the root seed's ``entropy``,
        and ``cpu_seconds`` (total and ``cpu_seconds_per_worker``): the CPU time the cells
        used, which on a busy machine says more about the work than the wall time.
    """
    backend = resolve_backend(backend, n_jobs, scheduler)
    root = root_seed(random_state)
    indexed = [(start + i, c) for i, c in enumerate(cells)]
    bar = _Progress(label, len(indexed), progress)
    began = time.perf_counter()
    results: dict[int, Any] = {}
    cpu_by_worker: dict[int, float] = {}
    if backend == "serial" or not indexed:
        workers = 1
        for batch in _batches(len(indexed), 1, batch_size or 1):
            out, pid, cpu = _run_batch(task, shared, [indexed[i] for i in batch],
                                       root.entropy, root.spawn_key, False)
            _collect(out, pid, cpu, results, cpu_by_worker)
            bar.update(len(batch))
    elif backend == "joblib":
        workers = _workers(n_jobs)
        _run_joblib(task, shared, indexed, root, workers, batch_size, results, cpu_by_worker, bar)
    else:
        workers = _run_dask(task, shared, indexed, root, n_jobs, scheduler, batch_size, results,
                            cpu_by_worker, bar)
    ordered = [results[start + i] for i in range(len(indexed))]
    info = {"backend": backend, "workers": workers, "seconds": time.perf_counter() - began,
            "failed": sum(isinstance(r, CellFailure) for r in ordered),
            "entropy": str(root.entropy),
            "cpu_seconds": float(sum(cpu_by_worker.values())),
            "cpu_seconds_per_worker": sorted(cpu_by_worker.values(), reverse=True)}
    return ordered, info


def _collect(out, pid: int, cpu: float, results: dict, cpu_by_worker: dict) -> None:
    for index, value in out:
        results[index] = value
    cpu_by_worker[pid] = cpu_by_worker.get(pid, 0.0) + cpu


def _run_joblib(task, shared, indexed, root, workers, batch_size, results, cpu_by_worker,
                bar) -> None:
    try:
        from joblib import Parallel, delayed
    except ImportError as exc:  # pragma: no cover - joblib is a dependency
        raise DesignError("backend='joblib' needs joblib: pip install joblib.") from exc
    token = uuid.uuid4().hex
    handle = tempfile.NamedTemporaryFile(prefix="utv-shared-", suffix=".pkl", delete=False)
    try:
        with handle:
            pickle.dump(shared, handle, protocol=pickle.HIGHEST_PROTOCOL)
        ref = ("__utv_shared_file__", (token, handle.name))
        batches = _batches(len(indexed), workers, batch_size)
        jobs = (delayed(_run_batch)(task, ref, [indexed[i] for i in b], root.entropy,
                                    root.spawn_key, True) for b in batches)
        parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
        for out, pid, cpu in parallel(jobs):
            _collect(out, pid, cpu, results, cpu_by_worker)
            bar.update(len(out))
    finally:
        os.unlink(handle.name)


def _run_dask(task, shared, indexed, root, n_jobs, scheduler, batch_size, results,
              cpu_by_worker, bar) -> int:
    try:
        from distributed import Client, LocalCluster, as_completed, get_client
    except ImportError as exc:
        raise DesignError("backend='dask' needs dask.distributed: pip install "
                          "'utvardering[distributed]' (or 'dask[distributed]').") from exc
    owned = []
    if scheduler is not None:
        client = Client(scheduler)
        owned.append(client)
    else:
        try:
            client = get_client()
        except ValueError:  # no client active: start a local cluster for this run
            cluster = LocalCluster(n_workers=_workers(n_jobs), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
            owned += [client, cluster]
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        future_shared = client.scatter(shared, broadcast=True, hash=False)
        batches = _batches(len(indexed), workers, batch_size)
        futures = [client.submit(_run_batch, task, future_shared, [indexed[i] for i in b],
                                 root.entropy, root.spawn_key, True, pure=False) for b in batches]
        for future in as_completed(futures):
            out, pid, cpu = future.result()
            future.release()
            _collect(out, pid, cpu, results, cpu_by_worker)
            bar.update(len(out))
        return workers
    finally:
        for thing in owned:
            thing.close()
