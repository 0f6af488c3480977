from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab import run
from mnistlab.errors import MnistlabError


def test_variant_names_round_trip():
    assert run.variant_name("identity", 0) == "clean" == run.variant_name("fog", 0)
    assert run.variant_name("motion_blur", 3) == "motion_blur-s3"
    assert run.parse_variant("motion_blur-s3") == ("motion_blur", 3)
    assert run.parse_variant("clean") == ("identity", 0)
    with pytest.raises(MnistlabError, match="not a variant name"):
        run.parse_variant("fog")


def test_manifest_steps_and_tables(tmp_path):
    assert run.read_manifest(tmp_path) == {}
    run.update_manifest(tmp_path, seed=np.int64(3), path=tmp_path)
    assert run.read_manifest(tmp_path)["seed"] == 3
    assert not run.step_done(tmp_path, "train")
    run.mark_step(tmp_path, "train", 1.23456, info={"a": 1})
    assert run.step_done(tmp_path, "train")
    assert run.read_manifest(tmp_path)["steps"]["train"]["seconds"] == 1.235
    table = pd.DataFrame({"sample_id": [0, 1], "x": [0.5, 1.5]})
    run.write_table(tmp_path, "scores/cnn", table)
    pd.testing.assert_frame_equal(run.read_table(tmp_path, "scores/cnn"), table)
    with pytest.raises(MnistlabError, match="no such table"):
        run.read_table(tmp_path, "nope")
    (tmp_path / "manifest.json").write_text("[1]")
    with pytest.raises(MnistlabError, match="not a JSON object"):
        run.read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(MnistlabError, match="invalid JSON"):
        run.read_manifest(tmp_path)


def test_variant_images_regenerate_the_corruption(tmp_path, fashion_small):
    from mnistlab.corrupt import corrupt

    with pytest.raises(MnistlabError, match="missing"):
        run.clean_images(tmp_path)
    with pytest.raises(MnistlabError, match="missing"):
        run.clean_labels(tmp_path)
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "test_images.npy", fashion_small)
    np.save(tmp_path / "data" / "test_labels.npy", np.zeros(100, np.int64))
    run.update_manifest(tmp_path, seed=5)
    ids = np.array([7, 3, 50])
    np.testing.assert_array_equal(run.variant_images(tmp_path, "clean", ids), fashion_small[ids])
    full = corrupt(fashion_small, "gaussian_noise", severity=2, seed=5)
    np.testing.assert_array_equal(run.variant_images(tmp_path, "gaussian_noise-s2", ids), full[ids])
    assert run.clean_labels(tmp_path).shape == (100,)
