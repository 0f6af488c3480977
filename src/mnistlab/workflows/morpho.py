"""Morpho-MNIST on a dataset: its morphometrics table, and a perturbed dataset folder.

Both run on one :class:`~mnistlab.execution.Execution` (one Dask client for every step with
``executor="dask"``); with ``execution.checkpoint`` each finished chunk is kept beside the
output (:func:`mnistlab.parallel.checkpoint_dir_for`) so that a failed or interrupted run
resumes, and removed once the output is in place.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mnistlab._checkpoints import checkpoint_dir_for, remove_checkpoints
from mnistlab.execution import Execution
from mnistlab.parallel import execution_session

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SPLITS", "measure_dataset", "perturb_dataset"]

#: The ``--split`` choices of a perturbed dataset.
SPLITS = {"test": ("test",), "train": ("train",), "all": ("train", "test")}


def measure_dataset(
    name: str | os.PathLike[str],
    out: str | os.PathLike[str],
    split: str = "test",
    execution: Execution | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Measure every image of ``name``'s ``split`` into the table ``out`` (.csv or .parquet).

    Columns: ``index, sample_id`` and the morphometrics of :func:`mnistlab.morpho.measure`;
    with ``split="all"`` the train then the test split, measured in one job, with a ``split``
    column after ``index`` (``index`` counts within each split, as in Morpho-MNIST's tables).

    Examples
    --------
    >>> measure_dataset("mnist", "morpho.csv", execution=Execution(workers=2))  # doctest: +SKIP
    """
    import numpy as np
    import pandas as pd

    from mnistlab._validate import check_name
    from mnistlab.data import load
    from mnistlab.data.tables import write_table
    from mnistlab.morpho import measure

    splits = SPLITS[check_name(split, tuple(SPLITS), "split")]
    job = execution or Execution()
    parts = [load(name, split=s, data_dir=data_dir) for s in splits]
    images = parts[0].images if len(parts) == 1 else np.concatenate([p.images for p in parts])
    ckpt = checkpoint_dir_for(out) if job.checkpoint else None
    with execution_session(job):
        table = measure(images, checkpoint_dir=ckpt, execution=job)
    table.insert(1, "sample_id", np.concatenate([p.sample_ids for p in parts]))
    if len(parts) > 1:
        table["index"] = np.concatenate([np.arange(len(p)) for p in parts])
        names = pd.Series(np.repeat(splits, [len(p) for p in parts]), dtype="category")
        table.insert(1, "split", names)
    write_table(table, out)
    if ckpt is not None:
        remove_checkpoints(ckpt)
    return table


def perturb_dataset(
    name: str | os.PathLike[str],
    out: str | os.PathLike[str],
    kind: str,
    splits: Sequence[str] = ("test",),
    seed: int = 0,
    execution: Execution | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """:func:`mnistlab.morpho.write_dataset` on one execution, with its checkpoints."""
    from mnistlab.morpho import write_dataset

    job = execution or Execution()
    ckpt = checkpoint_dir_for(out) if job.checkpoint else None
    with execution_session(job):
        folder = write_dataset(
            name, out, kind, tuple(splits), seed=seed, data_dir=data_dir, checkpoint_dir=ckpt,
            execution=job,
        )  # fmt: skip
    if ckpt is not None:
        remove_checkpoints(ckpt)
    return folder
