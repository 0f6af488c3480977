"""Executors: run independent tasks serially, on local processes, or on a Dask cluster.

Every heavy job (corrupt, perturb, measure, predict) is cut into chunks of samples; each
chunk is a task whose result depends only on its inputs and ``(seed, sample_id)``, so the
output is byte-identical whatever the executor or the number of workers.

One pool per job
----------------
Inside a :func:`~mnistlab.execution.execution` block (``corrupt`` and ``study`` open one),
every ``local`` call runs on the job's worker pool, started once and reused (see
:mod:`mnistlab.execution`: one thread per worker, workers that die with their parent).
Outside a block each call starts a pool of its own.

Resumable jobs
--------------
With ``checkpoint_dir``, each task's result is written there atomically (one pickle file per
task) as soon as it finishes. A re-run of the same job loads the finished tasks instead of
recomputing them. A task's file name holds its index, a hash of the caller's ``job_key``
(the job description: dataset, corruption, seed...), the function's name and a digest of the
task's arguments, so a different job never reuses a stale chunk. When a task raises or its
worker dies, the job raises :class:`ChunkError` (a :class:`~mnistlab.errors.MnistlabError`)
naming the chunk, and the finished chunk files stay for the resume. The caller writes its
final output atomically once every task succeeded, then calls :func:`remove_checkpoints`.

Examples
--------
>>> import numpy as np
>>> from mnistlab.parallel import run_chunked
>>> def chunk_sum(start, stop, x):
...     return int(x.sum())
>>> run_chunked(chunk_sum, 10, 4, arrays=(np.arange(10),), executor="serial")
[6, 22, 17]
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from mnistlab._checkpoints import (
    _job_hash,
    _Store,
    checkpoint_dir_for,
    remove_checkpoints,
)
from mnistlab.errors import MnistlabError
from mnistlab.execution import (
    EXECUTORS,
    Execution,
    _reason,
    _TaskFailed,
    check_workers,
    current_execution,
    default_workers,
    execution,
    run_local,
)

__all__ = [
    "EXECUTORS",
    "ChunkError",
    "Execution",
    "checkpoint_dir_for",
    "chunk_bounds",
    "current_execution",
    "dask_session",
    "default_workers",
    "execution",
    "iter_tasks",
    "map_tasks",
    "remove_checkpoints",
    "run_chunked",
]

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


def chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``0..n`` in chunks of ``chunk_size``.

    Examples
    --------
    >>> chunk_bounds(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    if chunk_size < 1:
        raise MnistlabError(f"chunk_size must be at least 1, got {chunk_size}")
    return [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="chunk", disable=not enabled, leave=False)


# --------------------------------------------------------------------------- front end


def map_tasks(
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
) -> list[T]:
    """Run ``fn(*args)`` for every ``args`` in ``tasks``; results in task order.

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
        :func:`dask_session` is used, else a LocalCluster is started for this call.
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
    >>> map_tasks(pow, [(2, 3), (3, 2)], executor="serial")
    [8, 9]
    """
    return list(
        iter_tasks(
            fn,
            tasks,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            desc=desc,
            checkpoint_dir=checkpoint_dir,
            job_key=job_key,
            labels=labels,
        )
    )


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
    """Like :func:`map_tasks`, yielding results in task order as they complete.

    Inside an :func:`~mnistlab.execution.execution` block the ``local`` tasks are submitted
    to the job's pool when this is called, before the first result is asked for: a caller
    can start the next step, then write the previous one's output while the workers compute.
    """
    if executor not in EXECUTORS:
        raise MnistlabError(f"unknown executor {executor!r} (choose from: {', '.join(EXECUTORS)})")
    check_workers(workers)
    if labels is not None and len(labels) != len(tasks):
        raise MnistlabError(f"labels has {len(labels)} entries for {len(tasks)} tasks")
    n_workers = workers or default_workers()
    store = (
        None
        if checkpoint_dir is None
        else _Store(Path(checkpoint_dir), _job_hash(job_key, fn), tasks)
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
    store: _Store | None,
    finished: dict[int, Any],
    backend: Generator[tuple[int, Any], None, None],
    bar: Any,
) -> Iterator[T]:
    try:
        for index in range(len(tasks)):
            while index not in finished:
                try:
                    i, result = next(backend)
                except _TaskFailed as failure:
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
    failure: _TaskFailed, total: int, labels: Sequence[str] | None, store: _Store | None
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
        failure = _TaskFailed(index, _reason(exc), exc)
        raise _chunk_error(failure, total, labels, None) from exc


def run_chunked(
    fn: Callable[..., T],
    n: int,
    chunk_size: int,
    *,
    arrays: Sequence[Any] = (),
    args: Sequence[Any] = (),
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    job_key: Any = None,
    progress: bool = False,
    desc: str = "",
) -> list[T]:
    """Run ``fn`` over chunks of ``n`` samples; one result per chunk, in order.

    Chunk ``k`` covering samples ``start..stop-1`` calls
    ``fn(start, stop, *[a[start:stop] for a in arrays], *args)``: only the chunk's slices
    travel to the worker. ``start`` gives the chunk's sample ids (``range(start, stop)``),
    so a seeded function returns the same bytes whatever the chunking.

    Parameters
    ----------
    fn : callable
        A module-level function.
    n : int
        Number of samples.
    chunk_size : int
        Samples per chunk.
    arrays : sequence of arrays
        Arrays of length ``n``, sliced per chunk.
    args : sequence
        Extra arguments passed whole to every chunk (keep them small).
    executor, workers, scheduler, checkpoint_dir, job_key, progress, desc
        As in :func:`map_tasks`.

    Returns
    -------
    list
        ``fn``'s result for each chunk (``numpy.concatenate`` them for arrays).

    Examples
    --------
    >>> import numpy as np
    >>> def total(start, stop, x):
    ...     return int(x.sum())
    >>> run_chunked(total, 5, 2, arrays=(np.ones(5),), executor="serial")
    [2, 2, 1]
    """
    if isinstance(n, bool) or n < 0:
        raise MnistlabError(f"n must be a non-negative number of samples, got {n}")
    for k, a in enumerate(arrays):
        if len(a) != n:
            raise MnistlabError(f"arrays[{k}] has {len(a)} rows, expected n={n}")
    bounds = chunk_bounds(n, chunk_size)
    tasks = [(s, e, *(a[s:e] for a in arrays), *args) for s, e in bounds]
    return map_tasks(
        fn,
        tasks,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        desc=desc,
        checkpoint_dir=checkpoint_dir,
        job_key=job_key,
        labels=[f"samples {s}..{e - 1}" for s, e in bounds],
    )


# --------------------------------------------------------------------------- backends
# A backend yields ``(index, result)`` in completion order. On failure it first yields the
# results that finished meanwhile (so they are saved for the resume), then raises _TaskFailed.

Backend = Callable[
    [Callable[..., Any], list[tuple[int, tuple[Any, ...]]], int, "str | None"],
    Generator[tuple[int, Any], None, None],
]


def _run_serial(
    fn: Callable[..., Any],
    items: list[tuple[int, tuple[Any, ...]]],
    n_workers: int,
    scheduler: str | None,
) -> Generator[tuple[int, Any], None, None]:
    for i, args in items:
        try:
            result = fn(*args)
        except Exception as exc:
            raise _TaskFailed(i, _reason(exc), exc) from exc
        yield i, result


def _run_local(
    fn: Callable[..., Any],
    items: list[tuple[int, tuple[Any, ...]]],
    n_workers: int,
    scheduler: str | None,
) -> Generator[tuple[int, Any], None, None]:
    # The job's pool inside an execution() block, else a pool for this call alone.
    return run_local(fn, items, n_workers)


# --------------------------------------------------------------------------- Dask

# Clients of the enclosing dask_session() blocks: (scheduler address or None, client).
_SESSION: list[tuple[str | None, Any]] = []


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise MnistlabError(
            "executor 'dask' needs the dask extra: pip install 'mnistlab[dask]'"
        ) from None
    return distributed


def _worker_version() -> str:
    import mnistlab

    return mnistlab.__version__


#: Seconds to wait for a Dask scheduler given by address.
CONNECT_TIMEOUT = 3


def _connect(scheduler: str) -> Any:
    """A client of an existing cluster whose workers run this mnistlab version."""
    import mnistlab

    distributed = _import_distributed()
    try:
        # An unreachable scheduler fails within CONNECT_TIMEOUT s, not dask's 30 s + retries.
        client = distributed.Client(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise MnistlabError(
            f"cannot reach the Dask scheduler {scheduler!r}: {_reason(exc)}"
        ) from None
    try:
        versions = client.run(_worker_version)
    except Exception as exc:
        client.close()
        raise MnistlabError(
            f"Dask workers of {scheduler} cannot run mnistlab ({_reason(exc)}): "
            "pip install 'mnistlab[dask]' on every worker"
        ) from None
    wrong = {addr: v for addr, v in versions.items() if v != mnistlab.__version__}
    if wrong:
        client.close()
        addr, v = next(iter(wrong.items()))
        raise MnistlabError(
            f"Dask worker {addr} runs mnistlab {v}, this client {mnistlab.__version__}: "
            "install the same version on every worker"
        )
    return client


def _local_cluster(n_workers: int) -> Any:
    import dask

    distributed = _import_distributed()
    # One task per worker thread at a time: no task waits on a worker that may die with
    # another task (it would be blamed too), and a failing job stops sooner.
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        return distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            # The scheduler serves HTTP even without a dashboard, on 8787 unless told
            # otherwise: a free port avoids clashing with another cluster on this machine,
            # on the loopback interface only (":0" would listen on every interface).
            dashboard_address="127.0.0.1:0",
        )


@contextlib.contextmanager
def dask_session(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """Keep one Dask client for every ``map_tasks(executor="dask")`` call inside the block.

    A LocalCluster takes seconds to start; a command that runs several jobs (one per
    corruption, say) starts it once this way.

    Inside the block, ``map_tasks(executor="dask")`` with no scheduler, or with this
    session's scheduler, uses the session's client (so library functions that take no
    ``scheduler`` argument run on the session's cluster too).

    Parameters
    ----------
    scheduler : str, optional
        Address of an existing scheduler; without it a LocalCluster is started.
    workers : int, optional
        LocalCluster workers (default: all cores).

    Examples
    --------
    >>> with dask_session(workers=2):  # doctest: +SKIP
    ...     a = map_tasks(f, tasks_a, executor="dask")
    ...     b = map_tasks(f, tasks_b, executor="dask")
    """
    if workers is not None and workers < 1:
        raise MnistlabError(f"workers must be at least 1, got {workers}")
    cluster = None
    if scheduler:
        client = _connect(scheduler)
    else:
        distributed = _import_distributed()
        cluster = _local_cluster(workers or default_workers())
        client = distributed.Client(cluster, set_as_default=False)
    entry = (scheduler or None, client)
    _SESSION.append(entry)
    try:
        yield client
    finally:
        _SESSION.remove(entry)
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_failure(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return "its Dask worker died while running it (KilledWorker: see the worker logs)"
    if name in ("CommClosedError", "CommError", "CancelledError", "TimeoutError", "OSError"):
        return f"the connection to the Dask cluster was lost ({name})"
    return _reason(exc)


def _run_dask(
    fn: Callable[..., Any],
    items: list[tuple[int, tuple[Any, ...]]],
    n_workers: int,
    scheduler: str | None,
) -> Generator[tuple[int, Any], None, None]:
    if not items:
        return
    distributed = _import_distributed()
    cluster = None
    own = False
    if _SESSION and scheduler in (None, _SESSION[-1][0]):
        client = _SESSION[-1][1]
    elif scheduler:
        client, own = _connect(scheduler), True
    else:
        cluster = _local_cluster(n_workers)
        client, own = distributed.Client(cluster, set_as_default=False), True
    futures: dict[Any, int] = {}
    try:
        futures = {client.submit(fn, *args, pure=False): i for i, args in items}
        seen: set[int] = set()
        failed = None
        failure_exc: BaseException | None = None
        for fut in distributed.as_completed(list(futures), loop=client.loop):
            i = futures[fut]
            if fut.status == "error":
                failed, failure_exc = fut, fut.exception()
                break
            try:
                # A result lost with its worker is recomputed by the scheduler; result() waits.
                result = fut.result()
            except Exception as exc:  # cancelled, or the cluster went away
                failed, failure_exc = fut, exc
                break
            seen.add(i)
            yield i, result
        if failed is None:
            return
        others = [f for f, i in futures.items() if i not in seen and f is not failed]
        with contextlib.suppress(Exception):  # best effort: the cluster may be gone
            # As with the process pool: tasks already running finish (kept for the resume),
            # tasks still waiting are dropped.
            running = {k for keys in client.processing().values() for k in keys}
            client.cancel([f for f in others if f.key not in running])
            distributed.wait([f for f in others if f.key in running])
        for fut, i in sorted(futures.items(), key=lambda kv: kv[1]):
            if i not in seen and fut is not failed and fut.status == "finished":
                with contextlib.suppress(Exception):
                    yield i, fut.result(timeout=5)
        reason = _dask_failure(failure_exc) if failure_exc else f"its Dask task is {failed.status}"
        raise _TaskFailed(futures[failed], reason, failure_exc)
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
        if own:
            client.close()
        if cluster is not None:
            cluster.close()


_BACKENDS: dict[str, Backend] = {"serial": _run_serial, "local": _run_local, "dask": _run_dask}
