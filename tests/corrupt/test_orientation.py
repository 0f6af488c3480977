"""Orientation changes: exact invariants and the release's misleading names."""

from __future__ import annotations

import numpy as np

from mnistlab.corrupt import corrupt, get, names


def test_flips_twice_are_identity(fashion_small: np.ndarray) -> None:
    for name in ("flip_left_right", "flip_up_down"):
        once = corrupt(fashion_small, name)
        assert not np.array_equal(once, fashion_small)
        assert np.array_equal(corrupt(once, name), fashion_small)
    assert np.array_equal(corrupt(fashion_small, "flip_left_right"), fashion_small[:, :, ::-1])
    assert np.array_equal(corrupt(fashion_small, "flip_up_down"), fashion_small[:, ::-1])


def test_turns(fashion_small: np.ndarray) -> None:
    x = fashion_small
    for name in ("rotate_90_cw", "rotate_90_ccw"):
        y = x
        for _ in range(4):
            y = corrupt(y, name)
        assert np.array_equal(y, x)
    cw = corrupt(x, "rotate_90_cw")
    assert np.array_equal(corrupt(cw, "rotate_90_ccw"), x)
    # Clockwise: the top row becomes the right column.
    assert np.array_equal(cw[:, :, -1], x[:, 0, :])
    assert np.array_equal(corrupt(x, "rotate_90_ccw")[:, :, 0], x[:, 0, ::-1])
    # Two turns equal both flips.
    assert np.array_equal(corrupt(cw, "rotate_90_cw"), x[:, ::-1, ::-1])


def test_release_names_do_what_the_release_did(fashion_small: np.ndarray) -> None:
    x = fashion_small[:5]
    # additional_corruptions.py of Fashion-MNIST-C: turn_right = rot90(img, 3) registered as
    # "flip_left_right", turn_left = rot90(img) as "flip_top_bottom", fliplr as "flip_sides".
    assert np.array_equal(corrupt(x, "fmnist-c/flip_left_right"), np.rot90(x, 3, axes=(1, 2)))
    assert np.array_equal(corrupt(x, "flip_top_bottom"), np.rot90(x, 1, axes=(1, 2)))
    assert np.array_equal(corrupt(x, "flip_sides"), x[:, :, ::-1])
    assert np.array_equal(corrupt(x, "fmnist-c/flip_up_down"), x[:, ::-1])


def test_identity_and_unleveled(fashion_small: np.ndarray) -> None:
    assert np.array_equal(corrupt(fashion_small, "identity"), fashion_small)
    for name in names(family="orientation"):
        c = get(name)
        assert not c.leveled and c.benchmark_severity is None
        a = corrupt(fashion_small, name, severity=1)
        assert np.array_equal(a, corrupt(fashion_small, name, severity=5, compat="mnist-c"))
