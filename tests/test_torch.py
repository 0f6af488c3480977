"""mnistlab.torch.MnistDataset: every sample once per epoch, deterministic augmentation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from mnistlab.corrupt import corrupt, names  # noqa: E402
from mnistlab.data import Dataset, write_idx  # noqa: E402
from mnistlab.data.variants import write_manifest  # noqa: E402
from mnistlab.errors import MnistlabError  # noqa: E402
from mnistlab.torch import MnistDataset, _derive_seed  # noqa: E402

N = 120  # samples per variant


def _aug_names() -> list[str]:
    found = [n for n in ("fog", "shot_noise", "spatter", "impulse_noise") if n in names()]
    assert len(found) >= 2
    return found[:2]


@pytest.fixture(scope="module")
def fmnist_c(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dataset]:
    """A Fashion-MNIST-C-like folder: three variants of real test images, npy files."""
    from mnistlab.data import load

    clean = load("fashion-mnist", split="test", download=False)[:N]
    root = tmp_path_factory.mktemp("fmnist-c")
    entries = []
    for k, name in enumerate(["identity", *_aug_names()]):
        folder = root / name
        folder.mkdir()
        images = corrupt(clean.images, name, severity=k + 1, seed=0)
        np.save(folder / "test_images.npy", images)
        np.save(folder / "test_labels.npy", clean.labels)
        entries.append(
            {
                "name": f"{name}-s{k + 1}",
                "corruption": name,
                "severity": k + 1,
                "splits": {
                    "test": {
                        "images": f"{name}/test_images.npy",
                        "labels": f"{name}/test_labels.npy",
                    }
                },
            }
        )
    # A perturb-like variant with a per-sample metadata table (pert label, sample ids).
    pert_dir = root / "morpho"
    pert_dir.mkdir()
    write_idx(pert_dir / "t10k-images-idx3-ubyte", clean.images[::-1].copy())
    write_idx(pert_dir / "t10k-labels-idx1-ubyte", clean.labels[::-1].astype(np.uint8))
    pd.DataFrame({"sample_id": np.arange(N)[::-1], "pert": np.arange(N) % 3}).to_parquet(
        pert_dir / "meta.parquet"
    )
    entries.append(
        {
            "name": "morpho",
            "kind": "perturb",
            "splits": {
                "test": {
                    "images": "morpho/t10k-images-idx3-ubyte",
                    "labels": "morpho/t10k-labels-idx1-ubyte",
                    "metadata": "morpho/meta.parquet",
                }
            },
        }
    )
    write_manifest(
        root,
        kind="corrupt",
        layout="fmnist-c",
        dataset="fashion-mnist",
        class_names=clean.class_names,
        variants=entries,
        seed=0,
    )
    return root, clean


def test_dataloader_two_workers_yields_every_sample_once(fmnist_c: tuple[Path, Dataset]) -> None:
    root, clean = fmnist_c
    ds = MnistDataset(root, return_metadata=True)
    assert len(ds) == 4 * N
    assert ds.class_names == clean.class_names
    loader = DataLoader(ds, batch_size=50, shuffle=True, num_workers=2)
    seen: list[tuple[str, int]] = []
    for x, y, meta in loader:
        assert x.dtype == torch.float32 and x.shape[1:] == (1, 28, 28)
        assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
        ids = meta["sample_id"].numpy()
        assert np.array_equal(y.numpy(), clean.labels[ids])  # the right label per sample
        seen += list(zip(meta["variant"], ids.tolist(), strict=True))
    assert len(seen) == 4 * N and len(set(seen)) == 4 * N
    variants = {v for v, _ in seen}
    assert variants == {"identity-s1", *(f"{n}-s{k}" for k, n in enumerate(_aug_names(), 2))} | {
        "morpho"
    }


def test_items_match_the_stored_arrays(fmnist_c: tuple[Path, Dataset]) -> None:
    root, clean = fmnist_c
    name = _aug_names()[0]
    ds = MnistDataset(root, variants=[f"{name}-s2", "morpho"], return_metadata=True)
    assert len(ds) == 2 * N
    x, y, meta = ds[5]
    stored = np.load(root / name / "test_images.npy")[5]
    assert np.array_equal((x[0].numpy() * 255).round().astype(np.uint8), stored)
    assert y == clean.labels[5]
    assert meta == {
        "sample_id": 5,
        "variant": f"{name}-s2",
        "corruption": name,
        "severity": 2,
        "pert": 0,
    }
    x, y, meta = ds[N + 2]  # morpho: reversed order, sample ids from the table
    assert meta["sample_id"] == N - 3 and meta["pert"] == 2 and meta["corruption"] == ""
    assert meta["severity"] == 0 and y == clean.labels[N - 3]
    assert np.array_equal(ds.labels[:N], clean.labels)
    assert ds[-1][2]["sample_id"] == 0
    with pytest.raises(IndexError):
        ds[2 * N]


def test_sources_name_idx_folder_and_dataset(fashion_dir: Path, tmp_path: Path) -> None:
    by_name = MnistDataset("fashion-mnist", split="test", download=False)
    assert len(by_name) == 10000 and by_name[0][1] == 9
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([0, 1, 2], np.uint8))
    folder = MnistDataset(tmp_path, transform=lambda t: t * 2, target_transform=lambda y: y + 10)
    x, y = folder[torch.tensor(2)]
    assert y == 12 and float(x.sum()) == 0.0
    value = Dataset(np.full((2, 28, 28), 51, np.uint8), np.array([1, 0]), ("a", "b"), name="v")
    x, y, meta = MnistDataset(value, return_metadata=True)[0]
    assert torch.allclose(x, torch.full((1, 28, 28), 0.2)) and y == 1
    assert meta == {"sample_id": 0, "variant": "v", "corruption": "", "severity": 0}


def test_on_the_fly_corruption_is_deterministic_across_workers(
    fmnist_c: tuple[Path, Dataset],
) -> None:
    root, _ = fmnist_c
    kw: dict[str, Any] = {"variants": "identity-s1", "corruptions": _aug_names(), "p": 0.7}
    ds = MnistDataset(root, severity="random", seed=5, return_metadata=True, **kw)

    def epoch(num_workers: int, e: int) -> tuple[torch.Tensor, list[str], torch.Tensor]:
        ds.set_epoch(e)
        xs, applied, sev = [], [], []
        for x, _, meta in DataLoader(ds, batch_size=16, num_workers=num_workers):
            xs.append(x)
            applied += list(meta["aug_corruption"])
            sev.append(meta["aug_severity"])
        return torch.cat(xs), applied, torch.cat(sev)

    x0, a0, s0 = epoch(0, 1)
    x2, a2, s2 = epoch(2, 1)
    assert torch.equal(x0, x2) and a0 == a2 and torch.equal(s0, s2)
    assert ds.epoch == 1
    # Each item is exactly corrupt(image, name, severity, seed=f(seed, epoch), sample_ids=[i]).
    stored = np.load(root / "identity" / "test_images.npy")
    for i in (0, 7, 33):
        if a0[i]:
            want = corrupt(stored[i : i + 1], a0[i], int(s0[i]), _derive_seed(5, 1), [i])[0]
        else:
            want = stored[i]
        assert np.array_equal((x0[i, 0].numpy() * 255).round().astype(np.uint8), want)
    # Roughly p of the items are corrupted, with both names and several severities.
    share = sum(bool(a) for a in a0) / N
    assert 0.5 < share < 0.9 and set(a0) == {"", *_aug_names()}
    assert len(set(s0.tolist()) - {0}) >= 3
    # Another epoch draws other corruptions; the same epoch again gives the same tensors.
    x3, a3, _ = epoch(0, 2)
    assert a3 != a0 and not torch.equal(x3, x0)
    assert torch.equal(epoch(0, 1)[0], x0)


def test_fixed_severity_and_list(fmnist_c: tuple[Path, Dataset]) -> None:
    root, _ = fmnist_c
    name = _aug_names()[0]
    ds = MnistDataset(
        root, variants="identity-s1", corruptions=name, severity=[2, 4], p=1.0, return_metadata=True
    )
    sev = {ds[i][2]["aug_severity"] for i in range(40)}
    assert sev == {2, 4} and {ds[i][2]["aug_corruption"] for i in range(5)} == {name}
    clean = MnistDataset(root, variants="identity-s1", corruptions=name, p=0.0)
    assert torch.equal(clean[3][0], MnistDataset(root, variants="identity-s1")[3][0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"corruptions": "no_such"}, "unknown corruption 'no_such'"),
        ({"corruptions": []}, "corruptions is empty"),
        ({"corruptions": "fog", "severity": 6}, "severity must be 1..5"),
        ({"corruptions": "fog", "severity": "max"}, "got 'max'"),
        ({"corruptions": "fog", "severity": []}, "severity must be"),
        ({"p": 1.5}, r"p must be a probability in \[0, 1\], got 1.5"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
        ({"variants": "nope"}, "no variant 'nope'"),
    ],
)
def test_bad_parameters(fmnist_c: tuple[Path, Dataset], kwargs: dict[str, Any], match: str) -> None:
    root, _ = fmnist_c
    with pytest.raises(MnistlabError, match=match):
        MnistDataset(root, **kwargs)


def test_bad_sources_and_epochs(fmnist_c: tuple[Path, Dataset], tmp_path: Path) -> None:
    root, clean = fmnist_c
    with pytest.raises(MnistlabError, match="source must be"):
        MnistDataset(42)  # type: ignore[arg-type]
    with pytest.raises(MnistlabError, match="variants= only applies"):
        MnistDataset(clean, variants="x")
    with pytest.raises(MnistlabError, match="variants= only applies"):
        MnistDataset(tmp_path, variants="x")
    with pytest.raises(MnistlabError, match="no variant has a 'train' split"):
        MnistDataset(root, split="train")
    ds = MnistDataset(clean)
    with pytest.raises(MnistlabError, match="epoch must be a non-negative integer, got -1"):
        ds.set_epoch(-1)
    assert "120 samples" in repr(ds)


def test_getitems_equals_item_by_item(fmnist_c: tuple[Path, Dataset]) -> None:
    root, _ = fmnist_c
    ds = MnistDataset(
        root, variants="identity-s1", corruptions=_aug_names(), p=0.6, seed=3, return_metadata=True
    )
    ds.set_epoch(4)
    idx = [5, 0, 77, 5, 31, 119, 2]
    batched = ds.__getitems__(idx)
    assert len({m["aug_corruption"] for _, _, m in batched}) >= 2  # several groups corrupted
    for i, (x, y, meta) in zip(idx, batched, strict=True):
        x1, y1, meta1 = ds[i]
        assert torch.equal(x, x1) and y == y1 and meta == meta1


def _train_augmented(images: np.ndarray, labels: np.ndarray, workers: int) -> Any:
    from mnistlab.models.augment import CorruptionAugment
    from mnistlab.models.cnn import train_torch

    aug = CorruptionAugment.from_spec("noise,motion_blur", p=0.8, num_workers=workers)
    return train_torch(
        images,
        labels,
        "tip-cnn",
        epochs=2,
        seed=1,
        progress=False,
        threads=1,
        precision="fp32",
        corruption_augment=aug,
    )


def test_train_with_corruptions_is_deterministic_across_workers(
    fmnist_c: tuple[Path, Dataset], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mnistlab.models import augment
    from mnistlab.models.cnn import train_torch

    _, clean = fmnist_c
    # 360 images: three batches of 128 per epoch
    images = np.ascontiguousarray(
        np.concatenate([clean.images, clean.images[:, :, ::-1]] * 3)[:360]
    )
    labels = np.concatenate([clean.labels, clean.labels] * 3)[:360]
    m0 = _train_augmented(images, labels, 0)  # one chunk, loaded in this process
    monkeypatch.setattr(augment, "CHUNK_IMAGES", 128)  # three chunks over two workers
    m2 = _train_augmented(images, labels, 2)
    w0, w2 = m0.net.state_dict(), m2.net.state_dict()
    assert all(torch.equal(w0[k], w2[k]) for k in w0)
    recipe = m0.manifest["corruption_augment"]
    assert recipe["families"] == ["noise", "blur"] and recipe["p"] == 0.8
    assert "gaussian_noise" in recipe["corruptions"] and "motion_blur" in recipe["corruptions"]
    plain = train_torch(
        images, labels, "tip-cnn", epochs=2, seed=1, progress=False, threads=1, precision="fp32"
    )
    assert plain.manifest["corruption_augment"] is None
    wp = plain.net.state_dict()
    assert not all(torch.equal(w0[k], wp[k]) for k in w0)  # the corruptions changed training


def test_augment_spec_errors() -> None:
    from mnistlab.models.augment import CorruptionAugment, resolve_corruptions

    with pytest.raises(MnistlabError, match="unknown corruption or family 'nosuch'"):
        resolve_corruptions("noise,nosuch")
    with pytest.raises(MnistlabError, match=r"probability in \[0, 1\]"):
        CorruptionAugment.from_spec("noise", p=1.5)
    with pytest.raises(MnistlabError, match="give corruption names"):
        resolve_corruptions(" , ")
    aug = CorruptionAugment.from_spec("blur,gaussian_noise")
    assert aug.seen("zoom_blur") and aug.seen("shot_noise") and not aug.seen("fog")
