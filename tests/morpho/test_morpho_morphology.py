from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.morphology import medial_axis as sk_medial_axis
from skimage.transform import pyramid_expand, pyramid_reduce

from mnistlab.errors import MnistlabError
from mnistlab.morpho import downscale, medial_axis, morphology, upscale
from mnistlab.morpho.morphology import squared_distance


@pytest.fixture(scope="module")
def digits(mnist_test) -> np.ndarray:
    return np.ascontiguousarray(mnist_test.images[:40])


def test_upscale_and_downscale_match_skimage(digits: np.ndarray) -> None:
    up = upscale(digits[:10])
    ref = np.stack([pyramid_expand(x, 4, order=3) for x in digits[:10]])
    np.testing.assert_allclose(up, ref, atol=1e-12)
    down = downscale(up)
    ref_down = np.stack([pyramid_reduce(u, 4, order=3) for u in up])
    np.testing.assert_array_equal(down, np.rint(np.clip(ref_down, 0, 1) * 255).astype(np.uint8))


def test_downscale_of_perturbed_strokes_matches_skimage(digits: np.ndarray) -> None:
    # Thin strokes (smoothed maximum below 1) and raised backgrounds (smoothed minimum above
    # 0) are where the resize's clip to the smoothed range changes bytes.
    from mnistlab.morpho import Thinning

    m = morphology(digits[:30])
    thin = Thinning(amount=1.5).apply(m)
    raised = 0.2 + 0.5 * m.binary[:10]
    for hires in (thin, raised, m.binary.astype(float)):
        ref = np.stack([pyramid_reduce(u, 4, order=3) for u in hires])
        expected = np.rint(np.clip(ref, 0, 1) * 255).astype(np.uint8)
        np.testing.assert_array_equal(downscale(hires), expected)


def test_rectangular_images_and_scale_2() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (3, 12, 20), dtype=np.uint8)
    ref = np.stack([pyramid_expand(i, 2, order=3) for i in x])
    np.testing.assert_allclose(upscale(x, 2), ref, atol=1e-12)


def test_medial_axis_identical_to_skimage(digits: np.ndarray) -> None:
    m = morphology(digits)
    skel, dist = medial_axis(m.binary)
    for k in range(len(digits)):
        ref_skel, ref_dist = sk_medial_axis(m.binary[k], return_distance=True, rng=42)
        np.testing.assert_array_equal(skel[k], ref_skel)
        np.testing.assert_allclose(dist[k], ref_dist)
    np.testing.assert_array_equal(skel, m.skeleton)


def test_squared_distance_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    mask = rng.random((4, 30, 23)) < 0.93
    d2 = squared_distance(mask)
    for k in range(4):
        ref = ndimage.distance_transform_edt(mask[k]) ** 2
        np.testing.assert_allclose(d2[k], ref, atol=1e-9)
    assert squared_distance(np.ones((1, 3, 3), bool)).min() >= 2**40


def test_blank_images_have_empty_morphology() -> None:
    imgs = np.zeros((2, 28, 28), np.uint8)
    imgs[1] = 7
    m = morphology(imgs)
    assert m.blank.all() and not m.binary.any() and not m.skeleton.any()
    assert np.isnan(m.thickness).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"scale": 0}, "scale"), ({"scale": 1.5}, "scale"), ({"threshold": 1.0}, "threshold")],
)
def test_bad_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(MnistlabError, match=match):
        morphology(np.zeros((1, 28, 28), np.uint8), **kwargs)


def test_bad_shapes() -> None:
    with pytest.raises(MnistlabError, match="shape"):
        morphology(np.zeros((28, 28), np.uint8))
    with pytest.raises(MnistlabError, match="multiple"):
        downscale(np.zeros((1, 30, 30)), 4)
    with pytest.raises(MnistlabError, match="shape"):
        squared_distance(np.zeros((3, 3), bool))
    with pytest.raises(MnistlabError, match="shape"):
        medial_axis(np.zeros((3, 3), bool))


def test_medial_axis_of_shapes_touching_every_border() -> None:
    # Foreground along every border (no margin around the foreground's box), and a shape
    # with no background at all (it must not blow up the counting sort).
    frame = np.ones((1, 20, 16), bool)
    frame[0, 4:-4, 4:-4] = False
    skel, _ = medial_axis(frame)
    np.testing.assert_array_equal(skel[0], sk_medial_axis(frame[0], rng=42))
    skel, _ = medial_axis(np.ones((1, 9, 7), bool))
    assert skel.shape == (1, 9, 7) and skel.any()
