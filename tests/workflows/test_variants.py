"""A run's variant images, regenerated from the clean split, the seed and the sample ids."""

from __future__ import annotations

import numpy as np

from mnistlab import run
from mnistlab.workflows.variants import variant_images


def test_variant_images_regenerate_the_corruption(tmp_path, fashion_small):
    from mnistlab.corrupt import corrupt

    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "test_images.npy", fashion_small)
    np.save(tmp_path / "data" / "test_labels.npy", np.zeros(100, np.int64))
    run.update_manifest(tmp_path, seed=5)
    ids = np.array([7, 3, 50])
    np.testing.assert_array_equal(variant_images(tmp_path, "clean", ids), fashion_small[ids])
    full = corrupt(fashion_small, "gaussian_noise", severity=2, seed=5)
    np.testing.assert_array_equal(variant_images(tmp_path, "gaussian_noise-s2", ids), full[ids])
    assert run.clean_labels(tmp_path).shape == (100,)
