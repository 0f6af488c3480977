from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution
from mnistlab.morpho import (
    Fracture,
    Plain,
    Swelling,
    Thickening,
    Thinning,
    measure,
    morphology,
    perturb,
)
from mnistlab.morpho.perturb import _skeleton_pick
from mnistlab.random import uniform


@pytest.fixture(scope="module")
def digits(mnist_test) -> np.ndarray:
    return np.ascontiguousarray(mnist_test.images[:300])


@pytest.fixture(scope="module")
def base(digits: np.ndarray):
    return measure(digits, execution=Execution(workers=1))


def test_thinning_and_thickening_change_thickness(digits: np.ndarray, base) -> None:
    thin = measure(Thinning()(digits), execution=Execution(workers=1))["thickness"].to_numpy()
    thic = measure(Thickening()(digits), execution=Execution(workers=1))["thickness"].to_numpy()
    before = base["thickness"].to_numpy()
    assert np.mean(thin < before) >= 0.95
    assert np.mean(thic > before) >= 0.95


def test_thinning_equals_disk_erosion(digits: np.ndarray) -> None:
    from skimage.morphology import dilation, disk, erosion

    m = morphology(digits[:8])
    thick = m.thickness
    for k in range(8):
        r = int(0.7 * 4 * thick[k] / 2)
        ero = erosion(m.binary[k], disk(r))
        np.testing.assert_array_equal(Thinning().apply(m)[k] > 0, ero)
        r = int(1.0 * 4 * thick[k] / 2)
        dil = dilation(m.binary[k], disk(r))
        np.testing.assert_array_equal(Thickening().apply(m)[k] > 0, dil)


def test_swelling_is_local(digits: np.ndarray) -> None:
    m = morphology(digits[:50])
    out = Swelling().apply(m, seed=3)
    centres = _skeleton_pick(m.skeleton, uniform(3, np.arange(50), (), "morpho.swel", np.float64))
    big_r = 7 * np.sqrt(m.thickness) / 2 * 4
    rr, cc = np.mgrid[:112, :112]
    for k in range(50):
        changed = np.abs(out[k] - m.binary[k]) > 1e-9
        assert changed.any()
        dist = np.hypot(rr - centres[k, 0], cc - centres[k, 1])
        assert dist[changed].max() < big_r[k]
    one = Execution(workers=1)
    area = measure(Swelling()(digits[:50], seed=3), execution=one)["area"].to_numpy()
    assert np.mean(area > measure(digits[:50], execution=one)["area"].to_numpy()) >= 0.9


def test_fracture_breaks_strokes(digits: np.ndarray) -> None:
    out = Fracture()(digits[:100], seed=0)
    before = np.array([ndimage.label(x > 127, np.ones((3, 3)))[1] for x in digits[:100]])
    after = np.array([ndimage.label(x > 127, np.ones((3, 3)))[1] for x in out])
    assert np.mean(after > before) >= 0.8
    # Cuts only remove ink.
    assert (out.astype(int) <= Plain()(digits[:100]).astype(int) + 1).all()


def test_fracture_at_the_border_does_not_fail() -> None:
    img = np.zeros((2, 28, 28), np.uint8)
    img[0, 0:28, 0:3] = 255  # a stroke along the left edge
    img[1, 10:12, 10:12] = 255  # a dot: no place away from ends, any skeleton pixel will do
    out = Fracture(num_frac=5)(img)
    assert out.shape == img.shape


@pytest.mark.parametrize("kind", ["global", "local"])
def test_pert_labels_match_the_perturbation(digits: np.ndarray, kind: str) -> None:
    imgs = digits[:60]
    ids = np.arange(100, 160)
    out, pert = perturb(imgs, kind, seed=5, sample_ids=ids, execution=Execution(workers=1))
    singles = {0: Plain(), 1: Thinning(), 2: Thickening(), 3: Swelling(), 4: Fracture()}
    expected = {0, 1, 2} if kind == "global" else {0, 3, 4}
    assert set(np.unique(pert)) == expected
    for label in expected:
        sel = pert == label
        np.testing.assert_array_equal(
            out[sel], singles[label](imgs[sel], seed=5, sample_ids=ids[sel])
        )


def test_same_bytes_for_any_workers_and_chunks(digits: np.ndarray) -> None:
    imgs = digits[:80]
    a = perturb(imgs, "local", seed=7, execution=Execution(workers=1))
    b = perturb(imgs, "local", seed=7, execution=Execution(workers=2, chunk_size=30))
    c = perturb(imgs, "local", seed=7, execution=Execution("serial", chunk_size=11))
    for other in (b, c):
        np.testing.assert_array_equal(a[0], other[0])
        np.testing.assert_array_equal(a[1], other[1])
    d = perturb(imgs, "local", seed=8, execution=Execution(workers=1))
    assert not np.array_equal(a[0], d[0])


def test_blank_images_pass_through() -> None:
    imgs = np.zeros((3, 28, 28), np.uint8)
    for p in (Plain(), Thinning(), Thickening(), Swelling(), Fracture()):
        assert not p(imgs).any()
    out, pert = perturb(np.zeros((0, 28, 28), np.uint8), "thin")
    assert out.shape == (0, 28, 28) and pert.shape == (0,)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Thinning(amount=-1),
        lambda: Thickening(amount=float("nan")),
        lambda: Swelling(strength=0),
        lambda: Swelling(radius=-2),
        lambda: Fracture(thickness=0),
        lambda: Fracture(num_frac=0),
        lambda: Fracture(num_frac=1.5),
    ],
)
def test_bad_parameters(make) -> None:
    with pytest.raises(MnistlabError):
        make()


def test_bad_kind_and_seed() -> None:
    imgs = np.zeros((1, 28, 28), np.uint8)
    with pytest.raises(MnistlabError, match="kind"):
        perturb(imgs, "wobbly")
    with pytest.raises(MnistlabError, match="seed"):
        perturb(imgs, "thin", seed=-1)


def test_large_batches_are_processed_in_blocks_with_the_same_bytes(digits: np.ndarray) -> None:
    imgs = digits[:300]  # more than one block of 250
    whole = Swelling()(imgs, seed=2)
    halves = [Swelling()(imgs[a : a + 150], seed=2, sample_ids=range(a, a + 150)) for a in (0, 150)]
    np.testing.assert_array_equal(whole, np.concatenate(halves))
