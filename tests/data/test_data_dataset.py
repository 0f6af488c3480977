"""Record access on Dataset, checked against the arrays; variant manifests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mnistlab.data import Dataset, check_images, check_labels, iter_variants, load_variant
from mnistlab.data.variants import load_variant_dir, read_array, read_manifest, write_manifest
from mnistlab.errors import MnistlabError


def test_record_access_matches_arrays(fashion_test: Dataset) -> None:
    ds = fashion_test
    assert len(ds) == 10_000 and ds.num_classes == 10
    rec = ds[123]
    assert isinstance(rec["image"], Image.Image) and rec["image"].mode == "L"
    assert np.array_equal(np.asarray(rec["image"]), ds.images[123])
    assert rec["label"] == int(ds.labels[123]) and isinstance(rec["label"], int)
    assert rec["class_name"] == ds.class_names[ds.labels[123]]
    assert rec["sample_id"] == 123
    last = ds[-1]
    assert last["sample_id"] == 9_999 and np.array_equal(np.asarray(last["image"]), ds.images[-1])
    for bad in (10_000, -10_001):
        with pytest.raises(IndexError, match="out of range for a dataset of 10000"):
            ds[bad]
    with pytest.raises(TypeError, match="not str"):
        ds["a"]


def test_slicing_returns_datasets(fashion_test: Dataset) -> None:
    ds = fashion_test
    part = ds[100:110]
    assert isinstance(part, Dataset) and len(part) == 10
    assert np.array_equal(part.images, ds.images[100:110])
    assert np.asarray(part.sample_ids).tolist() == list(range(100, 110))
    assert part[0]["sample_id"] == 100 and part.name == ds.name and part.split == ds.split
    mask = ds.labels == 3
    shirts = ds[mask]
    assert len(shirts) == 1000 and set(shirts.labels.tolist()) == {3}
    picked = ds[np.array([5, 1])]
    assert picked.sample_ids.tolist() == [5, 1]
    assert [r["sample_id"] for r in ds[:3]] == [0, 1, 2]  # iteration yields records


def test_metadata_fields_in_records(fashion_small: np.ndarray) -> None:
    meta = pd.DataFrame({"corruption": ["blur"] * 100, "severity": np.arange(100) % 5 + 1})
    ds = Dataset(fashion_small, np.zeros(100, np.int64), ("a",), "v", "test", metadata=meta)
    rec = ds[7]
    assert rec["corruption"] == "blur" and rec["severity"] == 3 and type(rec["severity"]) is int
    sub = ds[5:10]
    assert sub.metadata is not None and sub.metadata["severity"].tolist() == [1, 2, 3, 4, 5]
    assert sub[0]["sample_id"] == 5


def test_dataset_validation(fashion_small: np.ndarray) -> None:
    labels = np.zeros(100, np.int64)
    with pytest.raises(MnistlabError, match="images must have shape \\(N, H, W\\)"):
        Dataset(fashion_small[0], labels[:1], ("a",))
    with pytest.raises(MnistlabError, match="images must have dtype uint8, got float64"):
        Dataset(fashion_small.astype(float), labels, ("a",))
    with pytest.raises(MnistlabError, match="labels must have shape \\(100,\\)"):
        Dataset(fashion_small, labels[:5], ("a",))
    with pytest.raises(MnistlabError, match="labels must be integers"):
        check_labels(np.zeros(3), 3)
    with pytest.raises(MnistlabError, match=r"labels range 0\.\.1 does not fit 1 class names"):
        Dataset(fashion_small, np.arange(100) % 2, ("a",))
    with pytest.raises(MnistlabError, match="metadata has 2 rows for 100 images"):
        Dataset(fashion_small, labels, ("a",), metadata=pd.DataFrame({"x": [1, 2]}))
    assert check_images(fashion_small) is fashion_small


def test_manifest_variants(tmp_path: Path, fashion_small: np.ndarray) -> None:
    np.save(tmp_path / "imgs.npy", fashion_small)
    np.save(tmp_path / "labels.npy", np.arange(100) % 10)
    pd.DataFrame({"sample_id": np.arange(100) + 50, "severity": 2}).to_csv(
        tmp_path / "meta.csv", index=False
    )
    split = {"images": "imgs.npy", "labels": "labels.npy", "metadata": "meta.csv"}
    write_manifest(
        tmp_path,
        kind="corrupt",
        layout="mnist-c",
        dataset="fashion-mnist",
        class_names=[str(i) for i in range(10)],
        variants=[
            {
                "name": "blur-s2",
                "corruption": "blur",
                "severity": np.int64(2),
                "splits": {"test": split},
            },
            {"name": "plain", "splits": {"test": {"images": "imgs.npy", "labels": "labels.npy"}}},
        ],
    )
    variants = list(iter_variants(tmp_path))
    assert [v.name for v in variants] == ["blur-s2", "plain"]
    assert variants[0].corruption == "blur" and variants[0].severity == 2
    assert variants[1].corruption is None and variants[1].severity is None
    ds = load_variant(tmp_path, "blur-s2")
    assert np.asarray(ds.sample_ids)[0] == 50 and ds[0]["severity"] == 2
    with pytest.raises(MnistlabError, match="no variant 'nope' \\(has: blur-s2, plain\\)"):
        load_variant(tmp_path, "nope")
    with pytest.raises(MnistlabError, match="holds 2 variants"):
        load_variant_dir(tmp_path)
    (tmp_path / "meta.csv").unlink()
    with pytest.raises(MnistlabError, match=r"meta\.csv: no such file"):
        load_variant(tmp_path, "blur-s2")


def test_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="not a mnistlab output folder"):
        read_manifest(tmp_path)
    (tmp_path / "mnistlab.json").write_text("{bad")
    with pytest.raises(MnistlabError, match="invalid JSON"):
        read_manifest(tmp_path)
    (tmp_path / "mnistlab.json").write_text(json.dumps({"variants": 3}))
    with pytest.raises(MnistlabError, match="no 'variants' list"):
        read_manifest(tmp_path)


def test_read_array_kinds(tmp_path: Path) -> None:
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.savez(tmp_path / "two.npz", first=arr, labels=arr[0])
    assert np.array_equal(read_array(tmp_path / "two.npz", "labels"), arr[0])
    assert np.array_equal(read_array(tmp_path / "two.npz"), arr)
    np.savez(tmp_path / "empty.npz")
    with pytest.raises(MnistlabError, match=r"empty \.npz"):
        read_array(tmp_path / "empty.npz")
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(MnistlabError, match=r"not a valid \.npy"):
        read_array(tmp_path / "bad.npy")
    with pytest.raises(MnistlabError, match="no such file"):
        read_array(tmp_path / "missing.npy")
