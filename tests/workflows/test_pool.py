"""Tests of mnistlab.workflows.pool: the active-learning pool of a dataset folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnistlab.workflows.pool import variant_pool


def test_pool_of_a_dataset_is_its_split(fashion_dir: Path, fashion_test) -> None:
    images, labels = variant_pool(str(fashion_dir), "test", seed=3)
    np.testing.assert_array_equal(images, fashion_test.images)
    np.testing.assert_array_equal(labels, fashion_test.labels)
