"""Fixtures of the workflow tests: the scores tests' predictions table and a run around it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.scores.conftest import VARIANTS, make_preds


@pytest.fixture
def preds_table(fashion_test) -> pd.DataFrame:
    return make_preds(np.asarray(fashion_test.labels[:200]), VARIANTS)


@pytest.fixture
def run_dir(tmp_path: Path, fashion_test, preds_table: pd.DataFrame) -> Path:
    from mnistlab import run as runlib

    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    np.save(run / "data" / "test_images.npy", np.ascontiguousarray(fashion_test.images[:200]))
    np.save(run / "data" / "test_labels.npy", np.asarray(fashion_test.labels[:200]))
    runlib.update_manifest(
        run, dataset="fashion-mnist", seed=0, class_names=list(fashion_test.class_names)
    )
    runlib.write_table(run, "preds/cnn", preds_table)
    images = fashion_test.images[:200].astype(np.float64)
    morpho = pd.DataFrame(
        {
            "sample_id": np.arange(200),
            "area": (images > 128).sum(axis=(1, 2)),
            "mean_intensity": images.mean(axis=(1, 2)),
            "constant": np.ones(200),
        }
    )
    morpho.to_parquet(run / "morpho.parquet", index=False)
    return run
