"""Exports (NPZ, PNG folder, HF-style Parquet, IDX) read back to the same arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.data import Dataset, load, load_variant, read_idx
from mnistlab.data.formats import (
    FORMATS,
    decode_png,
    encode_png,
    export,
    read_dataset_file,
    read_hf_parquet,
    read_png_folder,
    safe_class_dirs,
)
from mnistlab.data.variants import read_array, read_manifest
from mnistlab.errors import MnistlabError


@pytest.fixture(scope="module")
def small(fashion_test) -> Dataset:
    """300 real test images, every class present."""
    return fashion_test[:300]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_format(small: Dataset, tmp_path: Path, fmt: str) -> None:
    out = export(small, tmp_path / fmt, format=fmt)
    manifest = read_manifest(out)
    assert manifest["kind"] == "export" and manifest["layout"] == fmt
    assert manifest["class_names"] == list(small.class_names)
    back = load(out, "test")
    assert np.array_equal(back.images, small.images)
    assert np.array_equal(back.labels, small.labels)
    assert back.class_names == small.class_names
    assert back.name == "fashion-mnist" and back.split == "test"
    assert np.array_equal(np.asarray(back.sample_ids), np.arange(300))
    assert not (out / "test_meta.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == [fmt]  # no temporary folder left


@pytest.mark.slow
def test_full_real_splits_round_trip(fashion_train, fashion_test, tmp_path: Path) -> None:
    # Every format is covered on 300 images above; the whole dataset once, in IDX.
    out = export("fashion-mnist", tmp_path / "idx", format="idx", download=False)
    for ds in (fashion_train, fashion_test):
        back = load(out, ds.split)
        assert np.array_equal(back.images, ds.images) and np.array_equal(back.labels, ds.labels)


def test_png_layout_is_imagefolder(small: Dataset, tmp_path: Path) -> None:
    out = export(small, tmp_path / "png", format="png")
    class_dirs = read_manifest(out)["class_dirs"]
    assert class_dirs["T-shirt_top"] == 0 and class_dirs["Ankle boot"] == 9
    assert sorted(p.name for p in (out / "test").iterdir()) == sorted(class_dirs)
    counts = {d: len(list((out / "test" / d).glob("*.png"))) for d in class_dirs}
    assert [counts[d] for d in class_dirs] == small.class_counts().tolist()
    first = out / "test" / safe_class_dirs(small.class_names)[small.labels[0]] / "00000.png"
    assert first.is_file()
    from PIL import Image

    with Image.open(first) as im:
        assert im.mode == "L" and im.size == (28, 28)
        assert np.array_equal(np.asarray(im), small.images[0])


def test_hf_parquet_schema(small: Dataset, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = export(small, tmp_path / "pq", format="parquet")
    schema = pq.read_schema(out / "test.parquet")
    assert schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    assert schema.field("label").type == pa.int64()
    features = json.loads(schema.metadata[b"huggingface"])["info"]["features"]
    assert features == {
        "image": {"_type": "Image"},
        "label": {"names": list(small.class_names), "_type": "ClassLabel"},
    }
    table = pq.read_table(out / "test.parquet")
    assert table.column("image")[0]["path"].as_py() is None
    images, _labels, names = read_hf_parquet(out / "test.parquet")
    assert np.array_equal(images, small.images) and names == small.class_names
    # A single file loads through load() too.
    ds = load(out / "test.parquet", "test")
    assert np.array_equal(ds.labels, small.labels) and ds.class_names == small.class_names
    assert np.array_equal(read_array(out / "test.parquet", "labels"), small.labels)


def test_idx_export_is_a_conventional_folder(small: Dataset, tmp_path: Path) -> None:
    out = export(small, tmp_path / "idx", format="idx")
    labels = read_idx(out / "t10k-labels-idx1-ubyte.gz")
    assert labels.dtype == np.uint8 and np.array_equal(labels, small.labels)
    (out / "mnistlab.json").unlink()  # without the manifest, it is still a plain IDX folder
    assert np.array_equal(load(out, "test").images, small.images)


def test_npz_file_loads_directly(small: Dataset, tmp_path: Path) -> None:
    out = export(small, tmp_path / "npz", format="npz")
    with np.load(out / "test.npz") as z:
        assert sorted(z.files) == ["class_names", "images", "labels"]
    ds = read_dataset_file(out / "test.npz", "test")
    assert ds.class_names == small.class_names and np.array_equal(ds.images, small.images)
    np.savez(tmp_path / "bare.npz", images=small.images, labels=small.labels)
    assert load(tmp_path / "bare.npz").class_names == tuple(str(i) for i in range(10))


def test_subset_keeps_sample_ids_and_metadata(small: Dataset, tmp_path: Path) -> None:
    subset = small[[5, 7, 250]]
    meta = pd.DataFrame({"corruption": ["a", "b", "c"], "severity": [1, 2, 3]})
    with_meta = Dataset(
        subset.images, subset.labels, subset.class_names, "x", "test", subset.sample_ids, meta
    )
    for fmt in FORMATS:
        back = load(export(with_meta, tmp_path / fmt, format=fmt), "test")
        assert np.asarray(back.sample_ids).tolist() == [5, 7, 250]
        assert back.metadata is not None
        assert back.metadata["corruption"].tolist() == ["a", "b", "c"]
        assert back[2]["severity"] == 3


def test_export_replaces_an_earlier_export_only(small: Dataset, tmp_path: Path) -> None:
    out = export(small, tmp_path / "e", format="npz")
    export(small[:10], out, format="idx")
    assert len(load(out, "test")) == 10 and not (out / "test.npz").exists()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    with pytest.raises(MnistlabError, match="is not an earlier export"):
        export(small, precious, format="npz")
    assert [p.name for p in precious.iterdir()] == ["keep.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(MnistlabError, match="not a folder"):
        export(small, tmp_path / "file")


def test_failed_export_leaves_no_output(small: Dataset, tmp_path: Path, monkeypatch) -> None:
    from mnistlab.data import formats

    def boom(ds: Dataset, root: Path, progress: bool) -> dict[str, str]:
        (root / "half-written").write_bytes(b"x")
        raise OSError("disk full")

    monkeypatch.setitem(formats._WRITERS, "npz", boom)
    with pytest.raises((OSError, MnistlabError), match="disk full"):
        export(small, tmp_path / "out", format="npz")
    assert list(tmp_path.iterdir()) == []


def test_export_argument_errors(small: Dataset, tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="unknown export format 'jpg'"):
        export(small, tmp_path / "a", format="jpg")
    with pytest.raises(MnistlabError, match="holds only its 'test' split"):
        export(small, tmp_path / "a", splits=["train"])
    with pytest.raises(MnistlabError, match="unknown split 'val'"):
        export("fashion-mnist", tmp_path / "a", splits=["val"])
    with pytest.raises(MnistlabError, match="splits is empty"):
        export("fashion-mnist", tmp_path / "a", splits=[])
    assert list(tmp_path.iterdir()) == []


def test_safe_class_dirs() -> None:
    assert safe_class_dirs(["T-shirt/top", "a:b", "a_b", "..", "", "ok name"]) == [
        "T-shirt_top",
        "a_b",
        "a_b_2",
        "class_3",
        "class_4",
        "ok name",
    ]


def test_png_codec_round_trip_and_errors(small: Dataset) -> None:
    blobs = encode_png(small.images[:20])
    assert all(b.startswith(b"\x89PNG") for b in blobs)
    assert np.array_equal(decode_png(blobs), small.images[:20])
    assert decode_png([]).shape == (0, 0, 0)
    with pytest.raises(MnistlabError, match=r"x\[0\]: not a readable PNG"):
        decode_png([b"not a png"], "x")
    rgb = encode_png(np.zeros((1, 4, 4), np.uint8))  # valid; make a colour one with Pillow
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    with pytest.raises(MnistlabError, match="colour PNG"):
        decode_png([buf.getvalue()])
    with pytest.raises(MnistlabError, match="images of different sizes"):
        decode_png([rgb[0], encode_png(np.zeros((1, 5, 5), np.uint8))[0]])


def test_read_errors(small: Dataset, tmp_path: Path) -> None:
    out = export(small[:20], tmp_path / "png", format="png")
    class_dirs = read_manifest(out)["class_dirs"]
    stray = out / "test" / "Bag" / "note.png"
    stray.write_bytes(b"")
    with pytest.raises(MnistlabError, match="PNG name is not a sample number"):
        read_png_folder(out / "test", class_dirs)
    stray.unlink()
    (out / "test" / "Extra").mkdir()
    with pytest.raises(MnistlabError, match="class folder not listed"):
        read_png_folder(out / "test", class_dirs)
    (out / "test" / "Extra").rmdir()
    next(iter((out / "test").rglob("00003.png"))).unlink()
    with pytest.raises(MnistlabError, match="without gaps"):
        load(out, "test")
    with pytest.raises(MnistlabError, match="no such folder"):
        read_png_folder(out / "train", class_dirs)
    with pytest.raises(MnistlabError, match="has no 'train' split"):
        load_variant(out, "fashion-mnist", "train")

    np.savez(tmp_path / "nolabels.npz", images=small.images)
    with pytest.raises(MnistlabError, match="no labels array"):
        read_dataset_file(tmp_path / "nolabels.npz")
    np.savez(tmp_path / "mismatch.npz", images=small.images, labels=small.labels[:3])
    with pytest.raises(MnistlabError, match="300 images but labels have shape"):
        read_dataset_file(tmp_path / "mismatch.npz")
    np.savez(tmp_path / "float.npz", images=small.images.astype(float), labels=small.labels)
    with pytest.raises(MnistlabError, match=r"float\.npz: images must have dtype uint8"):
        read_dataset_file(tmp_path / "float.npz")
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(MnistlabError, match=r"not a readable \.npz"):
        read_dataset_file(tmp_path / "bad.npz")
    (tmp_path / "bad.parquet").write_bytes(b"nope")
    with pytest.raises(MnistlabError, match="not a readable Parquet"):
        read_dataset_file(tmp_path / "bad.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "other.parquet")
    with pytest.raises(MnistlabError, match="no 'image' column"):
        read_dataset_file(tmp_path / "other.parquet")
    pd.DataFrame({"image": [1], "label": [0]}).to_parquet(tmp_path / "flat.parquet")
    with pytest.raises(MnistlabError, match="expected struct<bytes, path>"):
        read_dataset_file(tmp_path / "flat.parquet")
    with pytest.raises(MnistlabError, match="expected struct<bytes, path>"):
        read_array(tmp_path / "flat.parquet", "images")
    with pytest.raises(MnistlabError, match="cannot read column 'label'"):
        read_array(tmp_path / "other.parquet", "labels")
    (tmp_path / "x.csv").write_text("a\n")
    with pytest.raises(MnistlabError, match=r"unsupported file type \.csv"):
        load(tmp_path / "x.csv")
