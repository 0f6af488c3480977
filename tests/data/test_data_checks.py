"""Hostile datasets: stray labels, impossible IDX headers, symlink loops; library and CLI."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.data import load
from mnistlab.data._checks import checked_labels
from mnistlab.data.idx import read_idx, read_idx_header, write_idx
from mnistlab.errors import MnistlabError

N = 30


def idx_folder(root: Path, labels: np.ndarray, split: str = "test", gz: bool = True) -> Path:
    """A folder of conventionally named IDX files for one split."""
    prefix = "t10k" if split == "test" else "train"
    root.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    images = np.random.default_rng(0).integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    write_idx(root / f"{prefix}-images-idx3-ubyte{ext}", images)
    write_idx(root / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return root


def _labels(stray: int | None = None, at: int = 17, dtype: type = np.uint8) -> np.ndarray:
    labels = (np.arange(N) % 10).astype(dtype)
    if stray is not None:
        labels[at] = stray
    return labels


def _cli_one_line(argv: list[str], capsys, *fragments: str) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mnistlab: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.mark.parametrize("stray", [200, 11, 255])
def test_a_stray_label_in_an_unnamed_folder_is_refused(tmp_path, stray, capsys):
    folder = idx_folder(tmp_path / "ds", _labels(stray))
    with pytest.raises(MnistlabError, match=rf"labels-idx1-ubyte\.gz: label {stray} at index 17"):
        load(folder)
    _cli_one_line(
        ["export", str(folder), "--out", str(tmp_path / "out")],
        capsys,
        "t10k-labels-idx1-ubyte.gz",
        "index 17",
    )
    assert not (tmp_path / "out").exists()


def test_train_refuses_a_201_class_dataset(tmp_path, capsys):
    folder = idx_folder(tmp_path / "ds", _labels(200), split="train")
    _cli_one_line(
        ["train", str(folder), "--model", "logreg", "--out", str(tmp_path / "m")],
        capsys,
        "train-labels-idx1-ubyte.gz",
        "label 200 at index 17",
    )
    assert not (tmp_path / "m").exists()


def test_labels_must_be_contiguous(tmp_path):
    gap = np.array([0, 1, 3, 1, 0], np.uint8)
    folder = idx_folder(tmp_path / "gap", gap)
    with pytest.raises(MnistlabError, match=r"label 3 at index 2 is outside 0\.\.2"):
        load(folder)
    ok = idx_folder(tmp_path / "ok", np.array([2, 0, 1, 1], np.uint8))
    assert load(ok).class_names == ("0", "1", "2")


def test_negative_and_float_labels(tmp_path):
    folder = idx_folder(tmp_path / "neg", _labels(-1, at=4, dtype=np.int8))
    with pytest.raises(MnistlabError, match="label -1 at index 4"):
        load(folder)
    floats = idx_folder(tmp_path / "f", _labels().astype(np.float32))
    assert load(floats).labels.dtype == np.int64  # whole numbers are labels
    half = _labels().astype(np.float32)
    half[3] = 1.5
    folder = idx_folder(tmp_path / "h", half)
    with pytest.raises(MnistlabError, match=r"label 1\.5 at index 3 is not an integer"):
        load(folder)


def test_class_names_bound_the_labels(tmp_path):
    folder = idx_folder(tmp_path / "ds", _labels())
    with pytest.raises(MnistlabError, match=r"label 5 at index 5 is outside 0\.\.4"):
        load(folder, class_names=tuple("abcde"))
    assert load(folder, class_names=tuple("abcdefghij")).num_classes == 10


def test_checked_labels_direct():
    assert checked_labels(np.array([1, 0]), "x")[1] == 2
    assert checked_labels(np.array([], np.uint8), "x", 10)[1] == 10
    for bad, match in (
        (np.array([[0, 1]]), "one-dimensional"),
        (np.array([True, False]), "integers"),
        (np.array(["a", "b"]), "integers"),
        (np.array([0.0, np.nan]), "not an integer"),
        (np.array([0, 2**63], np.uint64), "too large"),
    ):
        with pytest.raises(MnistlabError, match=match):
            checked_labels(bad, "x")


def _header(code: int, dims: list[int], payload: bytes = b"") -> bytes:
    return bytes([0, 0, code, len(dims)]) + np.asarray(dims, ">u4").tobytes() + payload


@pytest.mark.parametrize(
    "raw, match",
    [
        (_header(0x08, [1] * 255, b"\x00"), "255 dimensions"),  # more than an array holds
        (_header(0x08, [1] * 40, b"\x00"), "40 dimensions"),
        (_header(0x08, [2**32 - 1] * 30), "need"),  # overflows int64
        (_header(0x08, [2**32 - 1] * 3, b"\x00" * 100), "need"),
        (_header(0x0E, [65536, 65536, 4096]), "need"),  # 2**47 doubles
        (_header(0x08, [10, 28, 28], b"\x00" * 50), "need 7840 payload bytes, the file has 50"),
        (_header(0x08, [255] * 10)[:20], "header declares 10 dimensions"),
    ],
)
def test_impossible_idx_headers(tmp_path, raw, match, capsys):
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte").write_bytes(raw)
    write_idx(folder / "t10k-labels-idx1-ubyte", _labels())
    with pytest.raises(MnistlabError, match=match):
        load(folder)
    (folder / "plain.idx").write_bytes(gzip.compress(raw))
    with pytest.raises(MnistlabError, match=r"plain\.idx"):
        read_idx(folder / "plain.idx")
    _cli_one_line(
        ["export", str(folder), "--out", str(tmp_path / "o")], capsys, "t10k-images-idx3-ubyte"
    )


def test_overflowing_header_is_an_error_not_a_wrap(tmp_path):
    # 2**32-1 squared... wraps to a small int64; the exact product is astronomically large.
    p = tmp_path / "x.idx"
    p.write_bytes(_header(0x08, [2**32 - 1] * 4, b"\x00"))
    with pytest.raises(MnistlabError, match="need"):
        read_idx(p)
    with pytest.raises(MnistlabError, match="need"):
        read_idx_header(p)


def test_symlink_loops(tmp_path, capsys):
    folder = idx_folder(tmp_path / "ds", _labels(), gz=False)
    labels = folder / "t10k-labels-idx1-ubyte"
    labels.unlink()
    labels.symlink_to(labels)
    with pytest.raises(MnistlabError, match="t10k-labels-idx1-ubyte"):
        read_idx(labels)
    with pytest.raises(MnistlabError):
        load(folder)
    _cli_one_line(["export", str(folder), "--out", str(tmp_path / "o")], capsys, str(folder))
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(MnistlabError):
        load(loop)
    _cli_one_line(["export", str(loop), "--out", str(tmp_path / "o2")], capsys, "loop")


def test_npz_and_parquet_files_check_their_labels(tmp_path):
    from mnistlab.data.dataset import Dataset
    from mnistlab.data.formats import export

    images = np.zeros((N, 28, 28), np.uint8)
    p = tmp_path / "bad.npz"
    np.savez(p, images=images, labels=_labels(200).astype(np.int64))
    with pytest.raises(MnistlabError, match=r"bad\.npz: label 200 at index 17"):
        load(p)
    np.savez(p, images=images, labels=_labels(), class_names=np.array(list("abc")))
    with pytest.raises(MnistlabError, match=r"outside 0\.\.2"):
        load(p)
    out = export(Dataset(images, _labels(), tuple("abcdefghij")), tmp_path / "pq", "parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(out / "test.parquet")
    labels = pa.array([None, *range(1, N)], pa.int64())
    pq.write_table(table.set_column(1, "label", labels), tmp_path / "nulls.parquet")
    with pytest.raises(MnistlabError, match=r"nulls\.parquet: label .* at index 0"):
        load(tmp_path / "nulls.parquet")


def test_variant_folder_labels_must_fit_the_manifest(tmp_path):
    from mnistlab.data.dataset import Dataset
    from mnistlab.data.formats import export

    ds = Dataset(np.zeros((N, 28, 28), np.uint8), _labels(), tuple("abcdefghij"))
    out = export(ds, tmp_path / "ex", "npz")
    manifest = json.loads((out / "mnistlab.json").read_text())
    manifest["class_names"] = list("abc")
    (out / "mnistlab.json").write_text(json.dumps(manifest))
    with pytest.raises(MnistlabError, match=r"test\.npz: label 3 at index 3 is outside 0..2"):
        load(out)
    manifest["class_names"] = "abc"
    (out / "mnistlab.json").write_text(json.dumps(manifest))
    with pytest.raises(MnistlabError, match="class_names"):
        load(out)
    manifest["variants"] = [42]
    (out / "mnistlab.json").write_text(json.dumps(manifest))
    with pytest.raises(MnistlabError, match=r"variants\[0\]"):
        load(out)
    (out / "mnistlab.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(MnistlabError, match=r"mnistlab\.json"):
        load(out)


def test_dataset_names_the_first_bad_index():
    from mnistlab.data.dataset import Dataset

    with pytest.raises(MnistlabError, match="first bad index 2: 7"):
        Dataset(np.zeros((3, 2, 2), np.uint8), np.array([0, 1, 7]), ("a", "b"))
