"""The chunked map: one function over chunks of samples, run as a job's :class:`Execution` says.

Every heavy job (corrupt, perturb, measure, predict, the study's variants) calls
:func:`map_chunks`; no caller cuts its samples by hand.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar, overload

from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution
from mnistlab.parallel.tasks import iter_tasks

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["DEFAULT_CHUNK", "chunk_bounds", "map_chunks"]

T = TypeVar("T")

#: Samples per task when neither the caller nor the execution chooses.
DEFAULT_CHUNK = 250


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


class _Options(TypedDict, total=False):
    """The keyword arguments of :func:`map_chunks` but ``lazy`` (for its overloads)."""

    arrays: Sequence[Any]
    args: Sequence[Any]
    chunk_size: int | None
    checkpoint_dir: str | os.PathLike[str] | None
    job_key: Any
    desc: str
    label: str


class _Eager(_Options, total=False):
    lazy: Literal[False]


class _Lazy(_Options):
    lazy: Literal[True]


@overload
def map_chunks(
    fn: Callable[..., T], n_items: int, execution: Execution | None = ..., **kw: Unpack[_Eager]
) -> list[T]: ...


@overload
def map_chunks(
    fn: Callable[..., T], n_items: int, execution: Execution | None = ..., **kw: Unpack[_Lazy]
) -> Iterator[T]: ...


def map_chunks(
    fn: Callable[..., T],
    n_items: int,
    execution: Execution | None = None,
    *,
    arrays: Sequence[Any] = (),
    args: Sequence[Any] = (),
    chunk_size: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    job_key: Any = None,
    desc: str = "",
    label: str = "samples",
    lazy: bool = False,
) -> list[T] | Iterator[T]:
    """Run ``fn`` over chunks of ``n_items`` samples; one result per chunk, in order.

    The chunk of samples ``start..stop-1`` calls ``fn(*[a[start:stop] for a in arrays],
    *args)``: only the chunk's slices travel to the worker. Pass the sample ids as one of the
    ``arrays`` so a seeded function returns the same bytes whatever the chunking, the
    executor or the number of workers.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled for process and Dask workers).
    n_items : int
        Number of samples.
    execution : Execution, optional
        Executor, workers, scheduler, chunk size and progress bar of the job (default:
        :class:`~mnistlab.execution.Execution`'s defaults: local processes on every core).
    arrays : sequence of arrays
        Arrays of length ``n_items``, sliced per chunk.
    args : sequence
        Extra arguments passed whole to every chunk (keep them small).
    chunk_size : int, optional
        Samples per chunk; default ``execution.chunk_size``, else :data:`DEFAULT_CHUNK`.
    checkpoint_dir : path-like, optional
        Keep each finished chunk there, and load the finished ones on a re-run (see
        :func:`mnistlab.parallel.map_tasks`).
    job_key : any JSON-able value, optional
        Description of the job in the checkpoint file names.
    desc : str
        Label of the progress bar.
    label : str
        How error messages name a chunk's samples (``"test samples"`` -> ``"test samples
        0..249"``).
    lazy : bool
        Return an iterator over the results instead of a list. On a job's process pool
        (inside :func:`~mnistlab.execution.execution`) the chunks are submitted now, so the
        caller can do something else while the workers compute.

    Returns
    -------
    list or iterator
        ``fn``'s result for each chunk (``numpy.concatenate`` them for arrays).

    Raises
    ------
    ChunkError
        When a chunk raises or its worker dies; it names the chunk's samples.

    Examples
    --------
    >>> import numpy as np
    >>> def total(x):
    ...     return int(x.sum())
    >>> map_chunks(total, 5, Execution("serial"), arrays=(np.ones(5),), chunk_size=2)
    [2, 2, 1]
    """
    if isinstance(n_items, bool) or not isinstance(n_items, int) or n_items < 0:
        raise MnistlabError(f"n_items must be a non-negative number of samples, got {n_items}")
    for k, a in enumerate(arrays):
        if len(a) != n_items:
            raise MnistlabError(f"arrays[{k}] has {len(a)} rows, expected n_items={n_items}")
    job = Execution() if execution is None else execution
    size = chunk_size if chunk_size is not None else job.chunk_size or DEFAULT_CHUNK
    bounds = chunk_bounds(n_items, size)
    results = iter_tasks(
        fn,
        [(*(a[s:e] for a in arrays), *args) for s, e in bounds],
        executor=job.executor,
        workers=job.workers,
        scheduler=job.scheduler,
        progress=job.progress,
        desc=desc,
        checkpoint_dir=checkpoint_dir,
        job_key=job_key,
        labels=[f"{label} {s}..{e - 1}" for s, e in bounds],
    )
    return results if lazy else list(results)
