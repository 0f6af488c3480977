"""Orientation changes (Fashion-MNIST-C): flips and quarter turns, plus the identity.

The Fashion-MNIST-C release calls its two quarter turns ``flip_left_right`` (a clockwise
turn) and ``flip_top_bottom`` (a counter-clockwise turn), and its left-right mirror
``flip_sides``. Here the names say what happens; the release's names are aliases, prefixed
``fmnist-c/`` where the bare name would clash with an honest one.

Each has a uint8 fast path (:mod:`mnistlab.corrupt._fast`): a permutation of the bytes, equal
to the float path (tests compare them on every grey level).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt import _fast
from mnistlab.corrupt.registry import Context, register_family

_SAME = (None,) * 5


def _identity(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    return x


def flip_left_right(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    """Mirror each image left to right (``numpy.fliplr`` per image)."""
    return x[:, :, ::-1]


def flip_up_down(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    """Mirror each image top to bottom (``numpy.flipud`` per image)."""
    return x[:, ::-1, :]


def rotate_90_cw(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    """Turn each image 90 degrees clockwise (``numpy.rot90(img, 3)``); sides swap."""
    return np.rot90(x, k=-1, axes=(1, 2))


def rotate_90_ccw(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    """Turn each image 90 degrees counter-clockwise (``numpy.rot90(img)``); sides swap too."""
    return np.rot90(x, k=1, axes=(1, 2))


def _cw_u8(x: NDArray[np.uint8], param: Any, ctx: Context) -> NDArray[np.uint8]:
    return _fast.turn(x, clockwise=True)


def _ccw_u8(x: NDArray[np.uint8], param: Any, ctx: Context) -> NDArray[np.uint8]:
    return _fast.turn(x, clockwise=False)


_orientation = register_family("orientation", releases=("fmnist-c",), leveled=False)
_orientation(
    "identity",
    _identity,
    _SAME,
    description="no change (the clean images)",
    releases=("mnist-c",),
    uint8_fn=_fast.identity,
)
_orientation(
    "flip_left_right",
    flip_left_right,
    _SAME,
    description="mirror left to right",
    compat_note="the release calls this flip_sides (alias); its own 'flip_left_right' "
    "is a clockwise turn, see rotate_90_cw",
    aliases=("flip_sides", "fmnist-c/flip_sides"),
    uint8_fn=_fast.flip_lr,
)
_orientation(
    "flip_up_down",
    flip_up_down,
    _SAME,
    description="mirror top to bottom",
    compat_note="same name in the release",
    aliases=("fmnist-c/flip_up_down",),
    uint8_fn=_fast.flip_ud,
)
_orientation(
    "rotate_90_cw",
    rotate_90_cw,
    _SAME,
    description="turn 90 degrees clockwise",
    compat_note="the release misnames this 'flip_left_right' (alias fmnist-c/flip_left_right, "
    "also turn_right)",
    aliases=("fmnist-c/flip_left_right", "turn_right"),
    uint8_fn=_cw_u8,
)
_orientation(
    "rotate_90_ccw",
    rotate_90_ccw,
    _SAME,
    description="turn 90 degrees counter-clockwise",
    compat_note="the release misnames this 'flip_top_bottom' (aliases flip_top_bottom, "
    "fmnist-c/flip_top_bottom, turn_left)",
    aliases=("flip_top_bottom", "fmnist-c/flip_top_bottom", "turn_left"),
    uint8_fn=_ccw_u8,
)
