"""FiftyOne export layout (fiftyone itself is not installed: the layout is checked by hand)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mnistlab.errors import MnistlabError
from mnistlab.report import export_run
from mnistlab.run import variant_images


def test_fiftyone_layout(tmp_path, demo_run):
    out = export_run(demo_run, tmp_path / "fo", variants=["clean", "fixture_noise-s3"])
    labels = json.loads((out / "labels.json").read_text())
    # FiftyOneImageClassificationDataset: {"classes": [...], "labels": {uuid: target index}}
    assert set(labels) == {"classes", "labels"}
    assert labels["classes"][9] == "Ankle boot"
    files = sorted(p.stem for p in (out / "data").glob("*.png"))
    assert len(files) == 600 and sorted(labels["labels"]) == files
    preds = pd.read_parquet(demo_run / "preds" / "cnn.parquet")
    truth = preds[preds.variant == "clean"].set_index("sample_id")["label"]
    assert all(labels["labels"][f"clean__{i}"] == truth[i] for i in (0, 17, 299))
    img = np.asarray(Image.open(out / "data" / "fixture_noise-s3__5.png"))
    np.testing.assert_array_equal(img, variant_images(demo_run, "fixture_noise-s3", [5])[0])
    samples = pd.read_csv(out / "samples.csv")
    assert len(samples) == 600
    for field in (
        "uuid",
        "filepath",
        "variant",
        "label",
        "pred",
        "correct",
        "confidence",
        "entropy",
        "gini",
        "margin",
        "area",
        "thickness",
    ):
        assert field in samples.columns
    assert (out / samples.filepath.iloc[0]).is_file()
    records = json.loads((out / "samples.json").read_text())
    assert records["model"] == "cnn" and len(records["samples"]) == 600
    assert records["samples"][0]["uuid"] == samples.uuid.iloc[0]


def test_export_all_variants_and_errors(tmp_path, demo_run):
    out = export_run(demo_run, tmp_path / "all", variants=None)
    assert len(list((out / "data").glob("*.png"))) == 1500
    with pytest.raises(MnistlabError, match="unknown export format 'coco'"):
        export_run(demo_run, tmp_path / "x", format="coco")
    with pytest.raises(MnistlabError, match="variant 'fog-s1' is not in"):
        export_run(demo_run, tmp_path / "x", variants=["fog-s1"])
    assert not (tmp_path / "x").exists()
