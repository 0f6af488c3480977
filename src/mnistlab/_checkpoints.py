"""Checkpoints of resumable chunked jobs: one pickle file per finished task.

See :mod:`mnistlab.parallel` ("Resumable jobs").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mnistlab._atomic import atomic_path

__all__ = ["TaskStore", "checkpoint_dir_for", "job_hash", "remove_checkpoints"]

_TASK_PREFIX = "task-"
_TASK_SUFFIX = ".pkl"


def checkpoint_dir_for(output: str | os.PathLike[str]) -> Path:
    """The conventional checkpoint folder of an output: ``.NAME.chunks`` beside it.

    Examples
    --------
    >>> checkpoint_dir_for("runs/a/preds.parquet").as_posix()
    'runs/a/.preds.parquet.chunks'
    """
    out = Path(output)
    return out.with_name(f".{out.name}.chunks")


def remove_checkpoints(checkpoint_dir: str | os.PathLike[str]) -> None:
    """Delete the task files of a checkpoint folder, and the folder when it is left empty.

    Only files this module wrote (``task-*.pkl``) are removed, so pointing it at a folder
    that holds anything else never deletes that.
    """
    root = Path(checkpoint_dir)
    if not root.is_dir():
        return
    for file in root.glob(f"{_TASK_PREFIX}*{_TASK_SUFFIX}"):
        file.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: leave the caller's files alone
        root.rmdir()


def job_hash(job_key: Any, fn: Callable[..., Any]) -> str:
    """Twelve hex digits naming a job: the function's qualified name and the caller's key.

    Examples
    --------
    >>> job_hash({"seed": 0}, len) == job_hash({"seed": 0}, len) != job_hash({"seed": 1}, len)
    True
    """
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    text = json.dumps([name, job_key], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _args_digest(args: tuple[Any, ...]) -> str:
    digest = hashlib.blake2b(digest_size=6)
    try:
        # Protocol 5 hands large buffers (array data) out of band: hash them without a copy.
        def take(buf: pickle.PickleBuffer) -> bool:
            digest.update(buf.raw())
            return False

        digest.update(pickle.dumps(args, protocol=5, buffer_callback=take))
    except (pickle.PicklingError, TypeError, AttributeError, BufferError):
        digest.update(repr(args).encode("utf-8"))
    return digest.hexdigest()


class TaskStore:
    """One pickle file per finished task of a job in ``root``.

    A task's file name holds its index, the job's :func:`job_hash` and a digest of the
    task's arguments, so another job, or the same job on other inputs, never reuses it.

    Examples
    --------
    >>> import tempfile
    >>> store = TaskStore(Path(tempfile.mkdtemp()), "job", [(1,), (2,)])
    >>> store.save(0, "done"); store.has(0), store.load(0), store.count()
    (True, (True, 'done'), 1)
    """

    def __init__(self, root: Path, job: str, tasks: Sequence[tuple[Any, ...]]) -> None:
        self.root = root
        self.names = [
            f"{_TASK_PREFIX}{i:05d}-{job}-{_args_digest(tuple(a))}{_TASK_SUFFIX}"
            for i, a in enumerate(tasks)
        ]
        root.mkdir(parents=True, exist_ok=True)

    def has(self, index: int) -> bool:
        return (self.root / self.names[index]).is_file()

    def load(self, index: int) -> tuple[bool, Any]:
        try:
            with open(self.root / self.names[index], "rb") as fh:
                return True, pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return False, None

    def save(self, index: int, result: Any) -> None:
        with atomic_path(self.root / self.names[index]) as tmp, open(tmp, "wb") as fh:
            pickle.dump(result, fh, protocol=5)

    def count(self) -> int:
        return sum(self.has(i) for i in range(len(self.names)))
