"""The corruption registry: names, validation, compat mode, uint8 conversion, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.corrupt import Context, Corruption, corrupt, get, names, register
from mnistlab.corrupt.registry import severities_of, to_uint8
from mnistlab.errors import MnistlabError

# The corruptions implemented in noise, blur, affine, photometric and orientation, and whether
# they draw random numbers (their output then changes with the seed).
SEEDED = {
    "shot_noise": True,
    "impulse_noise": True,
    "gaussian_noise": True,
    "speckle_noise": True,
    "glass_blur": True,
    "motion_blur": True,
    "gaussian_blur": False,
    "defocus_blur": False,
    "zoom_blur": False,
    "shear": True,
    "scale": False,
    "rotate": True,
    "translate": True,
    "elastic_transform": True,
    "brightness": False,
    "contrast": False,
    "saturate": False,
    "inverse": False,
    "identity": False,
    "flip_left_right": False,
    "flip_up_down": False,
    "rotate_90_cw": False,
    "rotate_90_ccw": False,
}
CORE = tuple(SEEDED)
FMNIST_C = {
    "shot_noise": 5,
    "impulse_noise": 4,
    "glass_blur": 1,
    "motion_blur": 1,
    "shear": 2,
    "scale": 3,
    "rotate": 2,
    "brightness": 5,
    "contrast": 4,
    "saturate": 5,
    "inverse": None,
    "flip_left_right": None,
    "flip_up_down": None,
    "rotate_90_cw": None,
    "rotate_90_ccw": None,
}


def test_core_corruptions_registered_with_metadata() -> None:
    for name in CORE:
        c = get(name)
        assert c.name == name
        assert c.description, name
        assert c.compat_note or name == "identity", name
        assert len(c.levels) == 5
    assert set(names(family="noise")) >= {"shot_noise", "impulse_noise", "gaussian_noise"}
    assert "motion_blur" in names(family="blur")
    assert "rotate_90_cw" in names(family="orientation")


def test_fashion_mnist_c_release_has_its_15() -> None:
    assert set(names(release="fmnist-c")) == set(FMNIST_C)
    for name, sev in FMNIST_C.items():
        assert get(name).benchmark_severity == sev, name


def test_mnist_c_release_membership() -> None:
    mc = set(names(release="mnist-c"))
    assert {
        "identity",
        "shot_noise",
        "impulse_noise",
        "glass_blur",
        "motion_blur",
        "shear",
        "scale",
        "rotate",
        "brightness",
        "translate",
    } <= mc
    assert not {"contrast", "saturate", "inverse", "flip_up_down"} & mc


def test_release_aliases() -> None:
    # The release's misleading names: its "flip_left_right" is a clockwise turn.
    assert get("fmnist-c/flip_left_right").name == "rotate_90_cw"
    assert get("turn_right").name == "rotate_90_cw"
    assert get("flip_top_bottom").name == "rotate_90_ccw"
    assert get("fmnist-c/flip_top_bottom").name == "rotate_90_ccw"
    assert get("flip_sides").name == "flip_left_right"
    # The honest name is never shadowed by an alias.
    assert get("flip_left_right").name == "flip_left_right"


def test_register_rejects_clashes() -> None:
    fn = get("identity").fn
    with pytest.raises(ValueError, match="already registered"):
        register(Corruption("identity", "orientation", fn, (None,) * 5))
    with pytest.raises(ValueError, match="aliases"):
        register(Corruption("x_new", "orientation", fn, (None,) * 5, aliases=("rotate",)))
    with pytest.raises(ValueError, match="already registered"):
        register(Corruption("turn_left", "orientation", fn, (None,) * 5))
    with pytest.raises(ValueError, match="family"):
        Corruption("x_bad", "nope", fn, (None,) * 5)
    with pytest.raises(ValueError, match="5 severity"):
        Corruption("x_bad", "noise", fn, (1, 2))


def test_bad_inputs_name_the_culprit() -> None:
    x = np.zeros((2, 28, 28), np.uint8)
    with pytest.raises(MnistlabError, match=r"unknown corruption 'blurry'.*motion_blur"):
        corrupt(x, "blurry")
    for bad in (0, 6, 2.5, True):
        with pytest.raises(MnistlabError, match="severity must be one of 1, 2, 3, 4, 5"):
            corrupt(x, "rotate", severity=bad)
    with pytest.raises(MnistlabError, match="compat"):
        corrupt(x, "rotate", compat="imagecorruptions")
    with pytest.raises(MnistlabError, match="seed"):
        corrupt(x, "rotate", seed=-1)
    with pytest.raises(MnistlabError, match="dtype uint8"):
        corrupt(x.astype(np.float32), "rotate")
    with pytest.raises(MnistlabError, match="shape"):
        corrupt(x[0], "rotate")
    with pytest.raises(MnistlabError, match="family"):
        names(family="colour")
    with pytest.raises(MnistlabError, match="release"):
        names(release="cifar-c")
    with pytest.raises(MnistlabError, match="severity"):
        severities_of([1, 7])
    assert severities_of(None) == [1, 2, 3, 4, 5]
    assert severities_of([3, 1]) == [3, 1]


def test_empty_batch_and_default_severity() -> None:
    empty = np.zeros((0, 28, 28), np.uint8)
    assert corrupt(empty, "glass_blur").shape == (0, 28, 28)
    x = np.full((3, 28, 28), 100, np.uint8)
    # The default severity is the benchmark severity (brightness: 5, +0.5).
    assert np.array_equal(corrupt(x, "brightness"), corrupt(x, "brightness", severity=5))
    assert corrupt(x, "brightness")[0, 0, 0] == round(100 + 127.5)


def test_to_uint8_rounds_by_default_and_truncates_in_compat() -> None:
    y = np.array([[[0.5 / 255, 1.6 / 255, 254.5 / 255, 1.2, -0.3]]], np.float32)
    assert to_uint8(y).tolist() == [[[0, 2, 254, 255, 0]]]  # rint: ties to even
    assert to_uint8(y, truncate=True).tolist() == [[[0, 1, 254, 255, 0]]]
    # The releases' own truncation: float64 * 255 -> float32 -> uint8.
    z = np.array([[[1 - 1 / 255, 254.99999999 / 255, 0.6 / 255]]])
    assert to_uint8(z, truncate=True, exact=True).tolist() == [[[254, 255, 0]]]


def test_compat_truncates_rounds_otherwise() -> None:
    x = np.full((1, 28, 28), 3, np.uint8)
    # brightness severity 5 adds 127.5 grey levels: 130.5 rounds to 130 (even), truncates to 130;
    # contrast of a constant image is the identity either way.
    assert corrupt(x, "contrast", compat="mnist-c")[0, 0, 0] == 3
    x[0, 0, 0] = 4
    assert corrupt(x, "brightness", severity=5)[0, 0, 0] == 132  # 131.5 -> 132 (even)
    assert corrupt(x, "brightness", severity=5, compat="mnist-c")[0, 0, 0] == 131


def test_context_rows_keep_per_sample_draws() -> None:
    ctx = Context(seed=3, sample_ids=np.arange(10, 20), compat=False, name="t")
    whole = ctx.uniform((4,))
    assert np.array_equal(ctx.rows(4, 7).uniform((4,)), whole[4:7])
    assert ctx.uniform64((2,)).dtype == np.float64
    assert set(np.unique(ctx.sign()).tolist()) <= {-1.0, 1.0}
    ints = ctx.integers(0, 3, (50,))
    assert ints.min() >= 0 and ints.max() < 3
    assert ctx.normal((5,)).shape == (10, 5)
    g1 = ctx.generator(2).random()
    g2 = Context(3, np.array([12]), False, "t").generator(0).random()
    assert g1 == g2


@pytest.mark.parametrize("name", CORE)
def test_deterministic_and_chunk_invariant(fashion_small: np.ndarray, name: str) -> None:
    x = fashion_small[:40]
    sev = 3 if get(name).leveled else None
    whole = corrupt(x, name, severity=sev, seed=7)
    assert whole.dtype == np.uint8 and whole.shape == x.shape
    parts = np.concatenate(
        [
            corrupt(x[:13], name, severity=sev, seed=7, sample_ids=np.arange(13)),
            corrupt(x[13:], name, severity=sev, seed=7, sample_ids=np.arange(13, 40)),
        ]
    )
    assert parts.tobytes() == whole.tobytes()
    again = corrupt(x, name, severity=sev, seed=7)
    assert again.tobytes() == whole.tobytes()
    other = corrupt(x, name, severity=sev, seed=8)
    assert (other.tobytes() != whole.tobytes()) == SEEDED[name]


@pytest.mark.parametrize("name", CORE)
def test_shape_dtype_kept_every_severity(name: str) -> None:
    x = np.random.default_rng(1).integers(0, 256, (5, 20, 24), dtype=np.uint8)  # not square
    for sev in range(1, 6):
        for compat in (None, "mnist-c"):
            y = corrupt(x, name, severity=sev, compat=compat)
            # A quarter turn of a non-square image swaps its sides.
            turned = name in ("rotate_90_cw", "rotate_90_ccw")
            assert y.shape == ((5, 24, 20) if turned else x.shape) and y.dtype == np.uint8


def test_linear_operators_do_not_depend_on_batch_size(fashion_small: np.ndarray) -> None:
    from mnistlab.corrupt._kernels import apply_linear, gaussian_blur, linear_operator

    x = fashion_small.astype(np.float32) / 255
    op = linear_operator(("test-shift",), (28, 28), lambda e: np.roll(e, 1, axis=2) * 0.37)
    whole = apply_linear(x, op)
    assert np.array_equal(whole, np.roll(x, 1, axis=2) * np.float32(0.37))
    big = np.concatenate([x] * 3)
    assert np.array_equal(apply_linear(big, op)[200:300], whole)
    blurred = gaussian_blur(x, 1.3)
    for k in (0, 57, 99):
        assert np.array_equal(apply_linear(x[k : k + 1], op)[0], whole[k])
        assert np.array_equal(gaussian_blur(x[k : k + 1], 1.3)[0], blurred[k])


def test_kernel_helpers_validate_and_bound_their_cache() -> None:
    from mnistlab.corrupt import _kernels

    with pytest.raises(ValueError, match="axes"):
        _kernels.gaussian_blur(np.zeros((1, 4, 4)), 1.0, axes=(0,))
    for k in range(40):
        op = _kernels.linear_operator(("test-scale", k), (3, 3), lambda e, k=k: e * k)
        assert op[4, 4] == k
    assert len(_kernels._DENSE_CACHE) <= 32
