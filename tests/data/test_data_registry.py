"""The registry on the real files: Fashion-MNIST (Debian) and MNIST (shared copy)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnistlab.data import registry
from mnistlab.errors import MnistlabError

MNIST_NAMES = tuple(str(d) for d in range(10))


def test_registry_lists_known_datasets() -> None:
    assert {"fashion-mnist", "mnist", "kmnist"} <= set(registry.names())
    assert registry.names() == sorted(registry.names())
    info = registry.get_info("fashion-mnist")
    assert info.class_names[0] == "T-shirt/top" and len(info.class_names) == 10
    assert info.debian_package == "dataset-fashion-mnist"
    assert set(info.files) == set(info.sha256)
    with pytest.raises(MnistlabError, match="unknown dataset 'cifar' \\(known: fashion-mnist"):
        registry.get_info("cifar")


@pytest.mark.parametrize("split", ["train", "test"])
def test_real_fashion_mnist(fashion_dir: Path, split: str, request: pytest.FixtureRequest) -> None:
    ds = request.getfixturevalue(f"fashion_{split}")
    n = 60_000 if split == "train" else 10_000
    assert ds.images.shape == (n, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.shape == (n,) and ds.labels.dtype == np.int64
    assert ds.class_counts().tolist() == [n // 10] * 10
    assert ds.name == "fashion-mnist" and ds.split == split
    assert ds.class_names == registry.get_info("fashion-mnist").class_names


def test_real_fashion_mnist_sha256_verified(fashion_dir: Path) -> None:
    loc = registry.locate("fashion-mnist")
    assert loc is not None and loc.source == "debian" and loc.folder == fashion_dir
    info = registry.get_info("fashion-mnist")
    assert all(registry.verify_file(info, stem, p) is True for stem, p in loc.files.items())


@pytest.mark.slow
def test_real_mnist_from_shared_folder(mnist_dir: Path) -> None:
    info = registry.get_info("mnist")
    # As a registered name, found through data_dir (the shared folder's parent).
    loc = registry.locate("mnist", data_dir=mnist_dir.parent)
    assert loc is not None and loc.folder == mnist_dir and loc.source == "data_dir"
    for stem, path in loc.files.items():
        assert registry.verify_file(info, stem, path) is True, stem
    for split, n in (("train", 60_000), ("test", 10_000)):
        ds = registry.load("mnist", split, data_dir=mnist_dir.parent, download=False)
        assert ds.images.shape == (n, 28, 28)
        counts = ds.class_counts()
        assert counts.sum() == n and counts.min() > n // 12  # MNIST is nearly balanced
        assert ds.class_names == MNIST_NAMES
    train = registry.load("mnist", "train", data_dir=mnist_dir.parent, download=False)
    assert train.images.mean() == pytest.approx(33.318421, abs=1e-5)
    assert train.class_counts().tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]


def test_mnist_folder_as_dataset(mnist_dir: Path, mnist_test) -> None:
    assert mnist_test.images.shape == (10_000, 28, 28)
    assert mnist_test.class_counts().tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    plain = registry.load(mnist_dir, "test")
    assert plain.class_names == MNIST_NAMES and plain.name == "mnist"


def test_sources_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fashion_dir: Path
) -> None:
    env = tmp_path / "env"
    explicit = tmp_path / "explicit"
    for folder in (env / "fashion-mnist", explicit, registry.cache_dir() / "fashion-mnist"):
        folder.mkdir(parents=True)
        for f in fashion_dir.glob("*.gz"):
            (folder / f.name).symlink_to(f)
    monkeypatch.setenv("MNISTLAB_DATA", str(env))
    assert registry.locate("fashion-mnist", data_dir=explicit).source == "data_dir"  # type: ignore[union-attr]
    assert registry.locate("fashion-mnist").source == "MNISTLAB_DATA"  # type: ignore[union-attr]
    monkeypatch.delenv("MNISTLAB_DATA")
    assert registry.locate("fashion-mnist").source == "cache"  # type: ignore[union-attr]
    shutil.rmtree(registry.cache_dir() / "fashion-mnist")
    assert registry.locate("fashion-mnist").source == "debian"  # type: ignore[union-attr]


def test_not_found_offline_says_where_and_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(MnistlabError) as info:
        registry.fetch("kmnist", data_dir=tmp_path, download=False)
    text = str(info.value)
    assert str(tmp_path / "kmnist") in text and str(registry.cache_dir() / "kmnist") in text
    assert "/usr/share/datasets/kmnist" in text
    assert "mnistlab fetch kmnist" in text and "MNISTLAB_DATA" in text
    monkeypatch.setattr(registry, "DEBIAN_ROOT", tmp_path / "no-debian")
    with pytest.raises(MnistlabError, match="apt-get install dataset-fashion-mnist"):
        registry.load("fashion-mnist", download=False)


def test_folder_with_plain_and_dotted_names(tmp_path: Path, fashion_small: np.ndarray) -> None:
    labels = np.arange(100, dtype=np.uint8) % 3
    (tmp_path / "t10k-images.idx3-ubyte").write_bytes(
        gzip.decompress(gzip.compress(_encode(fashion_small)))
    )
    from mnistlab.data import write_idx

    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    ds = registry.load(tmp_path, "test", class_names=("a", "b", "c"))
    assert np.array_equal(ds.images, fashion_small) and ds.class_names == ("a", "b", "c")
    assert registry.load(tmp_path, "test").class_names == ("0", "1", "2")
    with pytest.raises(MnistlabError, match=r"no train-images-idx3-ubyte\[\.gz\]"):
        registry.load(tmp_path, "train")


def _encode(images: np.ndarray) -> bytes:
    from mnistlab.data.idx import encode_idx

    return encode_idx(images)


def test_load_rejects_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="unknown split 'val'"):
        registry.load("fashion-mnist", "val")
    with pytest.raises(MnistlabError, match="unknown dataset 'no/such/thing'"):
        registry.load("no/such/thing")
    from mnistlab.data import write_idx

    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 4), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(MnistlabError, match="expected uint8 images of shape \\(N, H, W\\)"):
        registry.load(tmp_path, "test")
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 4, 4), np.int16))
    with pytest.raises(MnistlabError, match="got int16"):
        registry.load(tmp_path, "test")
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 8, 8), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(MnistlabError, match="3 images but labels have shape \\(2,\\)"):
        registry.load(tmp_path, "test")


def test_verify_file_detects_mismatch_and_md5(tmp_path: Path, fashion_dir: Path) -> None:
    info = registry.get_info("fashion-mnist")
    stem = "t10k-labels-idx1-ubyte"
    bad = tmp_path / f"{stem}.gz"
    raw = bytearray(gzip.decompress((fashion_dir / f"{stem}.gz").read_bytes()))
    raw[-1] ^= 1
    bad.write_bytes(gzip.compress(bytes(raw)))
    assert registry.verify_file(info, stem, bad) is False
    (tmp_path / "broken").write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert registry.verify_file(info, stem, tmp_path / "broken") is False
    # No sha256 registered: the gzip's md5 is checked instead; a plain file cannot be.
    md5_only = registry.DatasetInfo("md5-only", ("a",), (), {}, md5_gz={f"{stem}.gz": "0" * 32})
    assert registry.verify_file(md5_only, stem, fashion_dir / f"{stem}.gz") is False
    (tmp_path / stem).write_bytes(raw)
    assert registry.verify_file(md5_only, stem, tmp_path / stem) is None
    assert registry.verify_file(registry.DatasetInfo("none", ("a",), (), {}), stem, bad) is None


def test_register_a_new_dataset(tmp_path: Path, fashion_dir: Path) -> None:
    info = registry.register(
        registry.DatasetInfo("test-copy", ("x",) * 10, (), {}, description="copy")
    )
    try:
        assert "test-copy" in registry.names()
        folder = tmp_path / "test-copy"
        shutil.copytree(fashion_dir, folder)
        ds = registry.load("test-copy", "test", data_dir=tmp_path, download=False)
        assert len(ds) == 10_000 and ds.name == "test-copy"
    finally:
        registry._REGISTRY.pop(info.name)
