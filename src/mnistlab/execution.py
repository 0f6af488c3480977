"""One worker pool per job: processes started once, reused by every chunked step of the job.

A command that runs many chunked steps (the MNIST-C layout: one per corruption; the study:
one per corruption, then morphometry and hardness) wraps its job in :func:`execution`. Inside
the block every :func:`mnistlab.parallel.map_tasks` / :func:`~mnistlab.parallel.iter_tasks`
call with the ``local`` executor submits to the same process pool, created on first use and
closed when the block ends: the workers' caches (compiled kernels, resize matrices, imported
modules, scratch buffers) stay warm from one step to the next. Inside the block
``iter_tasks`` submits its tasks when called, so a caller that starts the next step before
writing the previous step's output overlaps its writes with the workers' compute. Without a
block, each call gets a pool of its own, as before.

The workers
-----------
- run one thread each (BLAS, OpenMP, torch): ``workers`` processes use ``workers`` cores,
  never more;
- die with the process that started them: on Linux the kernel kills them the moment it dies
  (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), elsewhere a watchdog thread notices within
  a fraction of a second; a ``kill -9`` of ``mnistlab`` leaves no worker running;
- ignore Ctrl-C: the main process handles the interrupt and stops them.

Examples
--------
>>> from mnistlab.parallel import map_tasks
>>> with execution(workers=2) as job:
...     a = map_tasks(pow, [(2, 3), (3, 2)])
...     b = map_tasks(pow, [(2, 4), (5, 2)])
>>> a, b, job.pools_started
([8, 9], [16, 25], 1)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistlab._validate import check_name, check_positive, check_scheduler
from mnistlab.errors import MnistlabError

__all__ = [
    "EXECUTORS",
    "Execution",
    "TaskFailed",
    "check_workers",
    "current_execution",
    "default_workers",
    "describe_error",
    "execution",
    "run_local",
]

EXECUTORS = ("serial", "local", "dask")
#: Thread counts of the libraries a worker may load later (read when they initialise).
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
)
_PR_SET_PDEATHSIG = 1
_WATCHDOG_SECONDS = 0.2


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: int | None) -> None:
    """Refuse a worker count that is not a positive integer (``None``: all cores)."""
    check_positive(workers, "workers")


class TaskFailed(Exception):
    """Raised by an executor backend once it has handed back every finished result.

    :func:`mnistlab.parallel.iter_tasks` turns it into a
    :class:`~mnistlab.parallel.ChunkError` naming the task.

    Attributes
    ----------
    index : int
        Position of the failed task.
    reason : str
        One line saying why (see :func:`describe_error`).
    cause : BaseException or None
        The task's exception.
    """

    def __init__(self, index: int, reason: str, cause: BaseException | None) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason
        self.cause = cause


def describe_error(exc: BaseException) -> str:
    """One line naming an exception: its message's first line, with its type unless it is
    a :class:`~mnistlab.errors.MnistlabError`.

    Examples
    --------
    >>> describe_error(ValueError("bad value\\nmore"))
    'ValueError: bad value'
    >>> describe_error(MnistlabError("seed must be an integer"))
    'seed must be an integer'
    """
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, MnistlabError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# --------------------------------------------------------------------------- worker side

_CURRENT_MARKER: str | None = None


def _on_sigterm(signum: int, frame: Any) -> None:
    # The pool terminates healthy workers when one dies; they clear their marker first, so
    # the markers left behind name the task whose worker died by itself.
    if _CURRENT_MARKER is not None:
        with contextlib.suppress(OSError):
            os.unlink(_CURRENT_MARKER)
    os._exit(128 + signum)


def _watchdog(parent: int) -> None:
    while True:
        time.sleep(_WATCHDOG_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def _die_with_parent(parent: int, use_prctl: bool) -> None:
    """End this process when ``parent`` dies (SIGKILL from the kernel, or a watchdog)."""
    armed = False
    if use_prctl and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if os.getppid() != parent:  # it died before the kernel was told
        os._exit(1)
    if not armed:
        threading.Thread(target=_watchdog, args=(parent,), daemon=True).start()


def _one_thread() -> None:
    """One compute thread per worker: ``n`` workers use ``n`` cores, never more."""
    for name in THREAD_ENV:
        os.environ[name] = "1"
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # libraries already loaded (the forked parent's BLAS, OpenMP)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    # OpenCV is left alone: ``cv2.setNumThreads`` in a forked child deadlocks when the
    # parent had already used OpenCV's thread pool (its mutex is copied locked). The
    # environment variables above cover every worker started with spawn.


def _init_worker(parent: int, use_prctl: bool) -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    _die_with_parent(parent, use_prctl)
    _one_thread()


def _call_marked(fn: Callable[..., Any], args: tuple[Any, ...], marker: str) -> Any:
    global _CURRENT_MARKER
    Path(marker).touch()
    _CURRENT_MARKER = marker
    try:
        return fn(*args)
    finally:
        _CURRENT_MARKER = None
        with contextlib.suppress(OSError):
            os.unlink(marker)


# --------------------------------------------------------------------------- parent side


class _Pools:
    """The process pools of one job (one per worker count), shared by nested blocks."""

    def __init__(self) -> None:
        self.pools: dict[int, ProcessPoolExecutor] = {}
        self.started = 0
        self.markers: Path | None = None
        self.runs = 0
        self.lock = threading.Lock()

    def get(self, n: int) -> ProcessPoolExecutor:
        import multiprocessing as mp

        with self.lock:
            pool = self.pools.get(n)
            if pool is None:
                ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
                # The kernel's parent-death signal follows the thread that forks the workers
                # (fork starts them all on the first submit, from this thread): only the
                # main thread lives as long as the process.
                main = threading.current_thread() is threading.main_thread()
                pool = ProcessPoolExecutor(
                    max_workers=n,
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(os.getpid(), main),
                )
                self.pools[n] = pool
                self.started += 1
            return pool

    def run_dir(self) -> Path:
        with self.lock:
            if self.markers is None:
                self.markers = Path(tempfile.mkdtemp(prefix="mnistlab-tasks-"))
            self.runs += 1
            folder = self.markers / str(self.runs)
        folder.mkdir()
        return folder

    def discard(self, pool: ProcessPoolExecutor) -> None:
        with self.lock:
            for n, p in list(self.pools.items()):
                if p is pool:
                    del self.pools[n]
        pool.shutdown(wait=True, cancel_futures=True)

    def close(self, kill: bool = False) -> None:
        with self.lock:
            pools = list(self.pools.values())
            self.pools.clear()
            markers, self.markers = self.markers, None
        for pool in pools:
            if kill:
                _kill(pool)
            else:
                pool.shutdown(wait=True, cancel_futures=True)
        if markers is not None:
            shutil.rmtree(markers, ignore_errors=True)


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool`` at once (interrupted or failed): kill its workers, wait for nothing.

    A worker killed while it sends a large result leaves half a message in the result pipe,
    and the pool's manager thread would wait for the rest for ever (a ``shutdown(wait=True)``
    with it): this process's end of the pipe is closed, so that wait ends with the pool
    broken, and the shutdown does not wait.
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.kill()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(timeout=1.0)
    queue = getattr(pool, "_result_queue", None)
    with contextlib.suppress(Exception):
        queue._writer.close()  # type: ignore[union-attr]
    pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class Execution:
    """How a job runs its chunked steps, and the worker pool it keeps until it ends.

    Every heavy function (:func:`mnistlab.morpho.measure`, :func:`~mnistlab.morpho.perturb`,
    :func:`mnistlab.corrupt.generate.generate`,
    :func:`mnistlab.models.predict.predict_table`...) takes its science parameters and this
    one value, ``execution=``; none of their results depends on it.

    Attributes
    ----------
    executor : {"serial", "local", "dask"}
        The job's executor (``local``: the pool below; ``dask``: see
        :func:`mnistlab.parallel.dask_session`).
    workers : int or None
        Worker processes (default: all cores).
    scheduler : str or None
        Dask scheduler address.
    chunk_size : int or None
        Samples per task, when the job chooses it.
    checkpoint : bool
        Whether the job keeps finished chunks for a resume.
    progress : bool
        Show progress bars.

    Examples
    --------
    >>> import numpy as np
    >>> from mnistlab.morpho import measure
    >>> images = np.zeros((3, 28, 28), np.uint8); images[:, 4:24, 13:16] = 255
    >>> job = Execution("serial", chunk_size=2)
    >>> measure(images, execution=job)["height"].round(1).tolist()
    [20.0, 20.0, 20.0]
    >>> Execution(workers=0)
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: workers must be at least 1, got 0
    >>> Execution("local", scheduler="tcp://10.0.0.1:8786")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --scheduler tcp://10.0.0.1:8786: needs --executor dask
    """

    executor: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    chunk_size: int | None = None
    checkpoint: bool = False
    progress: bool = False
    _pools: _Pools = field(default_factory=_Pools, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_name(self.executor, EXECUTORS, "executor")
        check_scheduler(self.scheduler, self.executor)
        check_workers(self.workers)
        check_positive(self.chunk_size, "chunk_size")

    @property
    def n_workers(self) -> int:
        """Worker processes: ``workers``, or all cores."""
        return self.workers or default_workers()

    @property
    def pools_started(self) -> int:
        """Process pools started so far in this job (1 when every step shared one)."""
        return self._pools.started

    def pool(self, n_workers: int | None = None) -> ProcessPoolExecutor:
        """The job's pool of ``n_workers`` processes (default :attr:`n_workers`), started
        on first use and reused until the job ends."""
        return self._pools.get(n_workers or self.n_workers)

    def close(self, kill: bool = False) -> None:
        """Stop the workers (``kill``: at once, without waiting for running tasks)."""
        self._pools.close(kill)


_STACK: list[Execution] = []


def current_execution() -> Execution | None:
    """The innermost :func:`execution` block's job, or None outside any."""
    return _STACK[-1] if _STACK else None


@contextlib.contextmanager
def execution(
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    chunk_size: int | None = None,
    checkpoint: bool = False,
    progress: bool = False,
) -> Iterator[Execution]:
    """Run a job's chunked steps on one worker pool, stopped when the block ends.

    The block's pool serves every ``local`` :func:`~mnistlab.parallel.map_tasks` call made
    inside it (from any thread); a nested block shares its enclosing block's pool. When the
    block ends with an error or an interrupt, the workers are killed at once.

    Examples
    --------
    >>> with execution(workers=2) as job:  # doctest: +SKIP
    ...     for name in corruptions:
    ...         parts = map_tasks(corrupt_chunk, tasks(name))  # the same two processes
    """
    outer = current_execution()
    job = Execution(executor, workers, scheduler, chunk_size, checkpoint, progress)
    if outer is not None:
        job._pools = outer._pools
    _STACK.append(job)
    try:
        yield job
    except BaseException:
        if outer is None:
            job.close(kill=True)
        raise
    else:
        if outer is None:
            job.close()
    finally:
        _STACK.remove(job)


# --------------------------------------------------------------------------- local backend


#: The tasks of a backend: ``(index, args)`` each.
Items = list[tuple[int, tuple[Any, ...]]]
#: What a backend yields: ``(index, result)`` in completion order.
Results = Generator[tuple[int, Any], None, None]


def run_local(
    fn: Callable[..., Any], items: Items, n_workers: int, scheduler: str | None = None
) -> Results:
    """Backend of the ``local`` executor: ``(index, result)`` in completion order.

    In an :func:`execution` block the tasks go to the job's pool, submitted now; otherwise
    a pool of ``min(n_workers, len(items))`` processes serves this call alone.
    ``scheduler`` is not used (every backend takes it).
    """
    job = current_execution()
    if job is None:
        return _private(fn, items, n_workers)
    return _drain(job._pools, *_submit(job._pools, fn, items, n_workers))


def _private(fn: Callable[..., Any], items: Items, n_workers: int) -> Results:
    pools = _Pools()
    killed = False
    try:
        yield from _drain(pools, *_submit(pools, fn, items, min(n_workers, len(items))))
    except BaseException as exc:
        killed = not isinstance(exc, TaskFailed)  # interrupted, or the consumer stopped
        pools.close(kill=killed)
        raise
    finally:
        if not killed:
            pools.close()


def _submit(
    pools: _Pools, fn: Callable[..., Any], items: Items, n_workers: int
) -> tuple[ProcessPoolExecutor, dict[Future[Any], int], Path]:
    folder = pools.run_dir()
    for attempt in (0, 1):
        pool = pools.get(n_workers)
        futures: dict[Future[Any], int] = {}
        try:
            for i, args in items:
                futures[pool.submit(_call_marked, fn, args, str(folder / f"{i}"))] = i
            return pool, futures, folder
        except BrokenProcessPool:  # a worker of an earlier step died: start a new pool
            for fut in futures:
                fut.cancel()
            pools.discard(pool)
            if attempt:
                raise
    raise AssertionError("unreachable")


def _drain(
    pools: _Pools, pool: ProcessPoolExecutor, futures: dict[Future[Any], int], folder: Path
) -> Results:
    remaining = set(futures)
    try:
        failed: Future[Any] | None = None
        while remaining and failed is None:
            done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=futures.__getitem__):
                if fut.exception() is None:
                    yield futures[fut], fut.result()
                elif failed is None:
                    failed = fut
        if failed is None:
            return
        # Let the tasks already running finish (their results are kept), drop the rest.
        for fut in remaining:
            fut.cancel()
        wait(remaining)
        for fut in sorted(remaining, key=futures.__getitem__):
            if not fut.cancelled() and fut.exception() is None:
                yield futures[fut], fut.result()
        exc = failed.exception()
        assert exc is not None
        if isinstance(exc, BrokenProcessPool):
            pools.discard(pool)
            left = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())
            index = left[0] if left else futures[failed]
            reason = "its worker process died (killed, crashed or out of memory)"
            raise TaskFailed(index, reason, exc)
        raise TaskFailed(futures[failed], describe_error(exc), exc)
    finally:
        for fut in futures:  # the consumer stopped early: drop what has not started
            fut.cancel()
        shutil.rmtree(folder, ignore_errors=True)
