"""Run independent tasks in order: :func:`map_tasks` and :func:`iter_tasks`.

The three backends (``serial`` in this process, ``local`` on the job's process pool of
:mod:`mnistlab.execution`, ``dask`` in :mod:`mnistlab.parallel.dask_backend`) yield results
in completion order; this module hands them back in task order, saves each finished task in
the checkpoint folder (:mod:`mnistlab._checkpoints`) and turns a failure into a
:class:`ChunkError` naming the task.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from mnistlab._checkpoints import TaskStore, job_hash
from mnistlab._validate import check_name
from mnistlab.errors import MnistlabError
from mnistlab.execution import (
    EXECUTORS,
    Items,
    Results,
    TaskFailed,
    check_workers,
    default_workers,
    describe_error,
    run_local,
)
from mnistlab.parallel.dask_backend import run_dask

__all__ = ["ChunkError", "iter_tasks", "map_tasks"]

T = TypeVar("T")


class ChunkError(MnistlabError):
    """A task of a chunked job failed (it raised, or its worker died).

    Attributes
    ----------
    index : int
        Position of the failed task in the job.
    label : str
        The caller's description of the task (``"samples 300..399"``), or ``""``.
    """

    def __init__(self, message: str, index: int, label: str = "") -> None:
        super().__init__(message)
        self.index = index
        self.label = label


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="chunk", disable=not enabled, leave=False)


# --------------------------------------------------------------------------- front end


def map_tasks(fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]], **options: Any) -> list[T]:
    """Run ``fn(*args)`` for every ``args`` in ``tasks``; the results in task order.

    ``options`` are those of :func:`iter_tasks`.

    Examples
    --------
    >>> map_tasks(pow, [(2, 3), (3, 2)], executor="serial")
    [8, 9]
    """
    return list(iter_tasks(fn, tasks, **options))


def iter_tasks(
    fn: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    *,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    desc: str = "",
    checkpoint_dir: str | os.PathLike[str] | None = None,
    job_key: Any = None,
    labels: Sequence[str] | None = None,
) -> Iterator[T]:
    """Run ``fn(*args)`` for every ``args`` in ``tasks``, yielding the results in task order.

    Inside an :func:`~mnistlab.execution.execution` block the ``local`` tasks are submitted
    to the job's pool when this is called, before the first result is asked for: a caller
    can start the next step, then write the previous one's output while the workers compute.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled for process and Dask workers).
    tasks : sequence of tuples
        Positional arguments of each call.
    executor : {"serial", "local", "dask"}
        ``local`` is a process pool (``serial`` when ``workers == 1``).
    workers : int, optional
        Processes (local) or LocalCluster workers (dask). Default: all cores.
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``). Without it, the client of an enclosing
        :func:`~mnistlab.parallel.dask_session` is used, else a LocalCluster is started for
        this call.
    progress : bool
        Show a progress bar.
    desc : str
        Label of the progress bar.
    checkpoint_dir : path-like, optional
        Save each task's result there as it finishes and load finished tasks on a re-run.
    job_key : any JSON-able value, optional
        Description of the job (dataset, split, corruption, seed...); part of every task's
        file name in ``checkpoint_dir``, so another job never reuses these results.
    labels : sequence of str, optional
        One description per task (``"samples 0..999"``), used in error messages.

    Raises
    ------
    ChunkError
        When a task raises or its worker dies; it names the task. Finished tasks stay in
        ``checkpoint_dir``.

    Examples
    --------
    >>> list(iter_tasks(pow, [(2, 3), (3, 2)], executor="serial"))
    [8, 9]
    """
    check_name(executor, EXECUTORS, "executor")
    check_workers(workers)
    if labels is not None and len(labels) != len(tasks):
        raise MnistlabError(f"labels has {len(labels)} entries for {len(tasks)} tasks")
    n_workers = workers or default_workers()
    store = (
        None
        if checkpoint_dir is None
        else TaskStore(Path(checkpoint_dir), job_hash(job_key, fn), tasks)
    )
    finished: dict[int, Any] = {}
    pending: list[int] = []
    for i in range(len(tasks)):
        # A resumed task is only read when its turn comes, so memory stays one chunk deep.
        if store is not None and store.has(i):
            finished[i] = _FROM_STORE
        else:
            pending.append(i)
    bar = _progress(len(tasks), desc, progress)
    bar.update(len(tasks) - len(pending))
    items = [(i, tuple(tasks[i])) for i in pending]
    if executor == "local" and (n_workers == 1 or len(items) <= 1):
        executor = "serial"
    backend = _BACKENDS[executor](fn, items, n_workers, scheduler)
    return _in_order(fn, tasks, labels, store, finished, backend, bar)


def _in_order(
    fn: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    labels: Sequence[str] | None,
    store: TaskStore | None,
    finished: dict[int, Any],
    backend: Results,
    bar: Any,
) -> Iterator[T]:
    try:
        for index in range(len(tasks)):
            while index not in finished:
                try:
                    i, result = next(backend)
                except TaskFailed as failure:
                    raise _chunk_error(failure, len(tasks), labels, store) from failure.cause
                if store is not None:
                    store.save(i, result)
                finished[i] = result
                bar.update(1)
            value = finished.pop(index)
            if value is _FROM_STORE:
                assert store is not None
                ok, value = store.load(index)
                if not ok:  # unreadable file: recompute just this task, in process
                    value = _run_serial_one(fn, index, tuple(tasks[index]), len(tasks), labels)
                    store.save(index, value)
            yield value
    finally:
        backend.close()
        bar.close()


_FROM_STORE = object()


def _describe(index: int, total: int, labels: Sequence[str] | None) -> str:
    label = labels[index] if labels is not None else ""
    return f"chunk {index} of {total}" + (f" ({label})" if label else "")


def _chunk_error(
    failure: TaskFailed, total: int, labels: Sequence[str] | None, store: TaskStore | None
) -> ChunkError:
    msg = f"{_describe(failure.index, total, labels)} failed: {failure.reason}"
    if store is not None:
        msg += (
            f"; {store.count()} of {total} finished chunks kept in {store.root}, "
            "run the same command again to resume"
        )
    label = labels[failure.index] if labels is not None else ""
    return ChunkError(msg, failure.index, label)


def _run_serial_one(
    fn: Callable[..., T],
    index: int,
    args: tuple[Any, ...],
    total: int,
    labels: Sequence[str] | None,
) -> T:
    try:
        return fn(*args)
    except Exception as exc:
        failure = TaskFailed(index, describe_error(exc), exc)
        raise _chunk_error(failure, total, labels, None) from exc


# --------------------------------------------------------------------------- backends
# A backend yields ``(index, result)`` in completion order. On failure it first yields the
# results that finished meanwhile (so they are saved for the resume), then raises TaskFailed.

Backend = Callable[[Callable[..., Any], Items, int, "str | None"], Results]


def _run_serial(
    fn: Callable[..., Any],
    items: Items,
    n_workers: int,
    scheduler: str | None,
) -> Results:
    for i, args in items:
        try:
            result = fn(*args)
        except Exception as exc:
            raise TaskFailed(i, describe_error(exc), exc) from exc
        yield i, result


_BACKENDS: dict[str, Backend] = {"serial": _run_serial, "local": run_local, "dask": run_dask}
