"""Executors: run independent tasks serially, on local processes, or on a Dask cluster.

The parts: :mod:`~mnistlab.parallel.chunks` (:func:`map_chunks`, the chunked map every heavy
job calls), :mod:`~mnistlab.parallel.tasks` (:func:`map_tasks` / :func:`iter_tasks` over any
list of tasks), :mod:`~mnistlab.parallel.dask_backend` (:func:`dask_session`), the process
pools of :mod:`mnistlab.execution` and the checkpoints of :mod:`mnistlab._checkpoints`.

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
>>> from mnistlab.parallel import Execution, map_chunks
>>> def chunk_sum(x):
...     return int(x.sum())
>>> map_chunks(chunk_sum, 10, Execution("serial", chunk_size=4), arrays=(np.arange(10),))
[6, 22, 17]
"""

from mnistlab._checkpoints import checkpoint_dir_for, remove_checkpoints
from mnistlab.execution import (
    EXECUTORS,
    Execution,
    current_execution,
    default_workers,
    execution,
)
from mnistlab.parallel.chunks import DEFAULT_CHUNK, chunk_bounds, map_chunks
from mnistlab.parallel.dask_backend import dask_session, execution_session, local_cluster
from mnistlab.parallel.tasks import ChunkError, iter_tasks, map_tasks

__all__ = [
    "DEFAULT_CHUNK",
    "EXECUTORS",
    "ChunkError",
    "Execution",
    "checkpoint_dir_for",
    "chunk_bounds",
    "current_execution",
    "dask_session",
    "default_workers",
    "execution",
    "execution_session",
    "iter_tasks",
    "local_cluster",
    "map_chunks",
    "map_tasks",
    "remove_checkpoints",
]
