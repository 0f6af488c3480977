"""The ``dask`` executor: a Dask client per call, or one per :func:`dask_session` block."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from mnistlab.errors import MnistlabError
from mnistlab.execution import (
    Execution,
    Items,
    Results,
    TaskFailed,
    default_workers,
    describe_error,
)

__all__ = ["CONNECT_TIMEOUT", "dask_session", "execution_session", "local_cluster", "run_dask"]


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
    # Made in two steps: a client whose __init__ failed must not try to close a connection
    # it never had when it is collected (dask prints a 10-line Client.__del__ traceback).
    client = distributed.Client.__new__(distributed.Client)
    try:
        # An unreachable scheduler fails within CONNECT_TIMEOUT s, not dask's 30 s + retries.
        client.__init__(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        client.close = lambda *args, **kwargs: None  # nothing to close
        raise MnistlabError(
            f"cannot reach the Dask scheduler {scheduler!r}: {describe_error(exc)}"
        ) from None
    try:
        versions = client.run(_worker_version)
    except Exception as exc:
        client.close()
        raise MnistlabError(
            f"Dask workers of {scheduler} cannot run mnistlab ({describe_error(exc)}): "
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


def local_cluster(n_workers: int) -> Any:
    """A ``distributed.LocalCluster`` of ``n_workers`` one-thread processes on the loopback.

    Examples
    --------
    >>> cluster = local_cluster(1)  # doctest: +SKIP
    >>> cluster.dashboard_link.startswith("http://127.0.0.1:")  # doctest: +SKIP
    True
    """
    import dask

    distributed = _import_distributed()
    before = dict(os.environ)
    try:
        with dask.config.set(cluster_config()):
            return distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                env=worker_env(),
                # The scheduler serves HTTP even without a dashboard, on 8787 unless told
                # otherwise: a free port avoids clashing with another cluster on this machine,
                # on the loopback interface only (":0" would listen on every interface).
                dashboard_address="127.0.0.1:0",
            )
    finally:  # what the nannies still set here (PYTHONHASHSEED) goes back as it was
        for key in set(os.environ) - set(before):
            del os.environ[key]
        os.environ.update(before)


def worker_env() -> dict[str, str]:
    """The environment of a local cluster's workers: one compute thread each."""
    from mnistlab.execution import THREAD_ENV

    return dict.fromkeys(THREAD_ENV, "1")


def cluster_config() -> dict[str, Any]:
    """Dask settings of mnistlab's local clusters.

    One task per worker thread at a time: no task waits on a worker that may die with another
    task (it would be blamed too), and a failing job stops sooner. No "pre-spawn" environment:
    distributed's nannies write it (``OMP_NUM_THREADS=1``, ...) into *this* process's
    ``os.environ`` at every worker (re)start and leave it there, so training and prediction
    later in this process would run on one thread and give other numbers; the workers get
    their one-thread environment through :func:`worker_env` instead.
    """
    return {
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.nanny.pre-spawn-environ": {},
    }


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
        cluster = local_cluster(workers or default_workers())
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
    return describe_error(exc)


def run_dask(
    fn: Callable[..., Any],
    items: Items,
    n_workers: int,
    scheduler: str | None,
) -> Results:
    """Backend of the ``dask`` executor: ``(index, result)`` in completion order.

    On failure it first yields the results that finished meanwhile, then raises
    :class:`~mnistlab.execution.TaskFailed`.
    """
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
        cluster = local_cluster(n_workers)
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
        raise TaskFailed(futures[failed], reason, failure_exc)
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
        if own:
            client.close()
        if cluster is not None:
            cluster.close()


def execution_session(job: Execution) -> contextlib.AbstractContextManager[Any]:
    """:func:`dask_session` of ``job``'s scheduler and workers for a Dask job (one client for
    every step of the job); a no-op context for the other executors."""
    if job.executor != "dask":
        return contextlib.nullcontext()
    return dask_session(job.scheduler, job.workers)
