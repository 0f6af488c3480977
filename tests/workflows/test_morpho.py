"""mnistlab.workflows.morpho: one Dask session per job, checkpoints removed at the end."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mnistlab import parallel
from mnistlab.execution import Execution
from mnistlab.parallel import checkpoint_dir_for
from mnistlab.workflows.morpho import execution_session, measure_dataset


def test_dask_executor_runs_inside_one_session(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        parallel,
        "dask_session",
        lambda scheduler, workers: opened.append((scheduler, workers)) or contextlib.nullcontext(),
    )
    with execution_session(Execution("local", 2)):
        pass
    assert opened == []
    with execution_session(Execution("dask", 3, "tcp://10.0.0.5:8786")):
        pass
    assert opened == [("tcp://10.0.0.5:8786", 3)]


def test_measure_dataset_writes_the_table_keyed_by_sample_id(mnist_dir: Any, tmp_path: Any) -> None:
    out = tmp_path / "morpho.parquet"
    job = Execution("serial", checkpoint=True)
    table = measure_dataset(mnist_dir, out, "test", job)
    written = pd.read_parquet(out)
    assert list(written.columns[:2]) == ["index", "sample_id"]
    pd.testing.assert_frame_equal(written, table)
    assert np.array_equal(written["sample_id"], np.arange(len(written)))
    assert not checkpoint_dir_for(out).exists()
