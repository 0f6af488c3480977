"""mnistlab.workflows.morpho: the morphometrics table of a dataset, checkpoints removed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mnistlab.execution import Execution
from mnistlab.parallel import checkpoint_dir_for
from mnistlab.workflows.morpho import measure_dataset


def test_measure_dataset_writes_the_table_keyed_by_sample_id(mnist_dir: Any, tmp_path: Any) -> None:
    out = tmp_path / "morpho.parquet"
    job = Execution("serial", checkpoint=True)
    table = measure_dataset(mnist_dir, out, "test", job)
    written = pd.read_parquet(out)
    assert list(written.columns[:2]) == ["index", "sample_id"]
    pd.testing.assert_frame_equal(written, table)
    assert np.array_equal(written["sample_id"], np.arange(len(written)))
    assert not checkpoint_dir_for(out).exists()
