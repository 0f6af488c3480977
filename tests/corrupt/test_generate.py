"""Dataset generators: MNIST-C and Fashion-MNIST-C layouts, determinism, formats, atomicity."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mnistlab.corrupt import corrupt, layouts
from mnistlab.corrupt import generate as gen
from mnistlab.data import iter_variants, load, load_variant, read_idx
from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution


@pytest.fixture(scope="module")
def small(fashion_test):
    """200 real test images and 100 real train images as {split: Dataset}."""
    from mnistlab.data import load as _load

    return {
        "test": fashion_test[:200],
        "train": _load("fashion-mnist", "train", download=False)[:100],
    }


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_fmnist_c_identical_across_workers_and_chunks(small, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(layouts, "GZIP_BLOCK", 16)  # several blocks per chunk, chunks of 48
    a = gen.generate(
        small, tmp_path / "a", layout="fmnist-c", splits="all", execution=Execution("serial", 1)
    )
    b = gen.generate(
        small,
        tmp_path / "b",
        layout="fmnist-c",
        splits="all",
        execution=Execution(workers=2, chunk_size=37),
    )
    c = gen.generate(small, tmp_path / "c", layout="fmnist-c", splits="all", fmt="idx")
    fa, fb = _files(a), _files(b)
    for name, data in _files(c).items():
        if name.endswith(".gz"):
            assert data == fa[name], name
    assert fa.keys() == fb.keys()
    for name in fa:
        if not name.endswith(".parquet"):
            assert fa[name] == fb[name], name
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "fmnist-c-test-corruptions.parquet"),
        pd.read_parquet(b / "fmnist-c-test-corruptions.parquet"),
    )


def test_mnist_c_identical_across_workers(small, tmp_path: Path) -> None:
    kw = {
        "layout": "mnist-c",
        "splits": "test",
        "corruptions": ["fog", "glass_blur", "zigzag"],
        "seed": 3,
    }
    a = gen.generate(small, tmp_path / "a", execution=Execution(workers=1), **kw)
    b = gen.generate(small, tmp_path / "b", execution=Execution(workers=2, chunk_size=45), **kw)
    assert _files(a) == _files(b)


def test_fmnist_c_files_read_back(small, tmp_path: Path) -> None:
    out = gen.generate(small, tmp_path / "f", layout="fmnist-c", splits="all", seed=5, limit=150)
    for split, n in (("train", 100), ("test", 150)):
        gz = out / f"fmnist-c-{split}-ubyte.gz"
        assert gz.read_bytes()[:2] == b"\x1f\x8b"  # really gzip (the release's were not)
        images = np.frombuffer(gzip.decompress(gz.read_bytes())[16:], np.uint8).reshape(-1, 28, 28)
        np.testing.assert_array_equal(images, np.load(out / f"fmnist-c-{split}.npy"))
        labels = read_idx(out / f"fmnist-c-{split}-labels-ubyte.gz")
        np.testing.assert_array_equal(labels, small[split].labels[:n])
        np.testing.assert_array_equal(np.load(out / f"fmnist-c-{split}-labels.npy"), labels)
        table = pd.read_parquet(out / f"fmnist-c-{split}-corruptions.parquet")
        assert list(table.columns) == ["sample_id", "label", "corruption", "severity", "seed"]
        assert len(table) == n and (table["seed"] == 5).all()
        ds = load_variant(out, "fmnist-c", split)
        np.testing.assert_array_equal(ds.images, images)
        assert ds.metadata is not None and set(ds.metadata["corruption"]) <= set(
            gen.fmnist_c_names()
        )
    ds = load(out, "test")  # a one-variant folder loads like a dataset
    assert len(ds) == 150


def test_fmnist_c_table_matches_images(small, tmp_path: Path) -> None:
    clean = small["test"].images
    out = gen.generate(small, tmp_path / "f", layout="fmnist-c", severity="random", seed=2)
    stored = np.load(out / "fmnist-c-test.npy")
    table = pd.read_parquet(out / "fmnist-c-test-corruptions.parquet")
    assert set(table["severity"]) == {1, 2, 3, 4, 5}
    for row in table.itertuples():
        i = int(row.sample_id)
        again = corrupt(
            clean[i : i + 1],
            str(row.corruption),
            severity=int(row.severity),
            seed=int(row.seed),
            sample_ids=[i],
        )
        np.testing.assert_array_equal(again[0], stored[i], err_msg=f"{row}")


def test_fmnist_c_fixed_and_benchmark_severity(small, tmp_path: Path) -> None:
    out = gen.generate(small, tmp_path / "f", layout="fmnist-c", severity=3, limit=60)
    assert set(pd.read_parquet(out / "fmnist-c-test-corruptions.parquet")["severity"]) == {3}
    assert next(iter_variants(out)).severity == 3
    out = gen.generate(small, tmp_path / "g", layout="fmnist-c", limit=60)
    table = pd.read_parquet(out / "fmnist-c-test-corruptions.parquet")
    expected = {name: gen.get(name).benchmark_severity or 1 for name in gen.fmnist_c_names()}
    assert all(
        expected[str(c)] == s for c, s in zip(table["corruption"], table["severity"], strict=True)
    )


@pytest.mark.slow
def test_fmnist_c_full_test_split_uniform(fashion_test, tmp_path: Path) -> None:
    out = gen.generate(
        "fashion-mnist", tmp_path / "full", layout="fmnist-c", execution=Execution(workers=2)
    )
    table = pd.read_parquet(out / "fmnist-c-test-corruptions.parquet")
    assert len(table) == 10_000
    counts = table["corruption"].value_counts().reindex(gen.fmnist_c_names()).to_numpy()
    assert len(counts) == 15 and counts.min() > 0
    assert stats.chisquare(counts).pvalue > 0.001
    stored = read_idx(out / "fmnist-c-test-ubyte.gz")
    np.testing.assert_array_equal(stored, np.load(out / "fmnist-c-test.npy"))
    for i in range(0, 10_000, 997):
        row = table.iloc[i]
        again = corrupt(
            fashion_test.images[i : i + 1],
            str(row.corruption),
            severity=int(row.severity),
            sample_ids=[i],
        )
        np.testing.assert_array_equal(again[0], stored[i])


def test_mnist_c_layout_severity_all(small, tmp_path: Path) -> None:
    out = gen.generate(
        small,
        tmp_path / "m",
        splits="all",
        corruptions=["identity", "fog", "stripe"],
        severity="all",
        limit=30,
    )
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == ["fog-s1", "fog-s2", "fog-s3", "fog-s4", "fog-s5", "identity", "stripe"]
    for split in ("train", "test"):
        assert (out / "fog-s3" / f"{split}_images.npy").is_file()
        assert (out / "fog-s3" / f"{split}_labels.npy").is_file()
    variants = {v.name: v for v in iter_variants(out)}
    assert set(variants) == {"clean", "fog-s1", "fog-s2", "fog-s3", "fog-s4", "fog-s5", "stripe-s1"}
    clean = load_variant(out, "clean", "test")
    np.testing.assert_array_equal(clean.images, small["test"].images[:30])
    fog = load_variant(out, "fog-s4", "train")
    np.testing.assert_array_equal(
        fog.images, corrupt(small["train"].images[:30], "fog", severity=4)
    )
    np.testing.assert_array_equal(fog.labels, small["train"].labels[:30])


def test_mnist_c_default_set_benchmark(small, tmp_path: Path) -> None:
    out = gen.generate(small, tmp_path / "m", limit=20, execution=Execution(chunk_size=7))
    folders = {p.name for p in out.iterdir() if p.is_dir()}
    assert folders == set(gen.mnist_c_names()) and len(folders) == 16
    shot = load_variant(out, "shot_noise-s5", "test")
    assert set(np.unique(shot.images)) <= {0, 85, 170, 255}


@pytest.mark.parametrize("fmt", ["idx", "npz", "parquet"])
def test_mnist_c_formats_read_back(fmt: str, small, tmp_path: Path) -> None:
    out = gen.generate(
        small, tmp_path / fmt, corruptions=["spatter"], fmt=fmt, limit=25, splits="all"
    )
    for split in ("train", "test"):
        ds = load_variant(out, "spatter-s4", split)
        np.testing.assert_array_equal(ds.images, corrupt(small[split].images[:25], "spatter"))
        np.testing.assert_array_equal(ds.labels, small[split].labels[:25])
    if fmt == "idx":  # each folder is also a plain IDX dataset folder
        assert load(out / "spatter", "test").images.shape == (25, 28, 28)


@pytest.mark.parametrize("fmt", ["npz", "parquet", "idx", "npy"])
def test_fmnist_c_single_format(fmt: str, small, tmp_path: Path) -> None:
    out = gen.generate(small, tmp_path / fmt, layout="fmnist-c", fmt=fmt, limit=20)
    ds = load(out, "test")
    np.testing.assert_array_equal(ds.labels, small["test"].labels[:20])
    assert ds.metadata is not None and len(ds.metadata) == 20


def test_sample_ids_of_a_subset_kept(fashion_test, tmp_path: Path) -> None:
    subset = fashion_test[np.arange(500, 540)]
    out = gen.generate({"test": subset}, tmp_path / "s", corruptions=["fog"])
    ds = load_variant(out, "fog-s5", "test")
    np.testing.assert_array_equal(ds.sample_ids, np.arange(500, 540))
    # Sample 500's fog is the one it gets in the full split.
    np.testing.assert_array_equal(
        ds.images, corrupt(subset.images, "fog", sample_ids=np.arange(500, 540))
    )


def test_failure_leaves_no_output(small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise OSError("disk full")
        return real(*args, **kwargs)

    real = layouts._write_split
    monkeypatch.setattr(layouts, "_write_split", broken)
    with pytest.raises((OSError, MnistlabError), match="disk full"):
        gen.generate(
            small,
            tmp_path / "out",
            corruptions=["fog", "stripe"],
            limit=10,
            execution=Execution("serial"),
        )
    assert list(tmp_path.iterdir()) == []


def test_existing_output_replaced_whole(small, tmp_path: Path) -> None:
    out = tmp_path / "out"
    gen.generate(small, out, corruptions=["fog", "stripe"], limit=10)
    gen.generate(small, out, corruptions=["zigzag"], limit=10)
    assert sorted(p.name for p in out.iterdir()) == ["identity", "mnistlab.json", "zigzag"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layout": "imagenet-c"}, "unknown layout"),
        ({"severity": 0}, "severity must be 1..5"),
        ({"severity": "7"}, "severity must be 1..5"),
        ({"severity": "hard"}, "severity must be 1..5"),
        ({"severity": "random"}, "random"),
        ({"layout": "fmnist-c", "severity": "all"}, "all"),
        ({"corruptions": ["fogg"]}, "unknown corruption 'fogg'"),
        ({"corruptions": []}, "at least one"),
        ({"corruptions": ["fog", "fog"]}, "duplicate"),
        ({"fmt": "png"}, "unknown format"),
        ({"splits": "val"}, "unknown split"),
        ({"seed": -1}, "seed"),
        ({"limit": 0}, "limit"),
        ({"compat": "v2"}, "compat"),
    ],
)
def test_bad_options(kwargs: dict, match: str, small, tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match=match):
        gen.generate(small, tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_parse_helpers() -> None:
    assert gen.parse_splits("all") == ("train", "test")
    assert gen.parse_splits(["test", "train"]) == ("train", "test")
    assert gen.parse_severity(4) == 4 and gen.parse_severity("Random") == "random"
    assert gen.fmnist_c_names() == sorted(gen.names(release="fmnist-c"))
    assert len(gen.fmnist_c_names()) == 15
