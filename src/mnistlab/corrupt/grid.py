"""A labelled picture of every corruption at every severity, on a few real images.

One row per corruption; the columns are the clean images then severities 1..5, each cell
showing the same few images side by side. The release's benchmark severity is framed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt.registry import corrupt, get, names
from mnistlab.data.dataset import check_images
from mnistlab.errors import MnistlabError

__all__ = ["corruption_grid", "save_grid"]

_BG = (255, 255, 255)
_FRAME = (214, 39, 40)
_TEXT = (20, 20, 20)


def _cell(images: NDArray[np.uint8], scale: int, gap: int) -> NDArray[np.uint8]:
    # Images side by side, upscaled by pixel repetition, shown dark-on-light like paper.
    n, h, w = images.shape
    big = np.repeat(np.repeat(255 - images, scale, axis=1), scale, axis=2)
    cell = np.full((h * scale, n * w * scale + (n - 1) * gap), 255, dtype=np.uint8)
    for i in range(n):
        x0 = i * (w * scale + gap)
        cell[:, x0 : x0 + w * scale] = big[i]
    return cell


def corruption_grid(
    images: Any,
    corruptions: Sequence[str] | None = None,
    seed: int = 0,
    compat: str | None = None,
    scale: int = 2,
) -> Any:
    """Draw every corruption at every severity on ``images``; returns a PIL image.

    Parameters
    ----------
    images : numpy.ndarray, uint8, shape (k, H, W)
        A few images (3 is a good number).
    corruptions : sequence of str, optional
        Default: every registered corruption.
    seed : int
        Seed of the random corruptions.
    compat : {None, "default", "mnist-c"}
        Compatibility mode.
    scale : int
        Pixel upscaling factor.

    Returns
    -------
    PIL.Image.Image
        RGB picture.

    Examples
    --------
    >>> x = np.zeros((2, 28, 28), np.uint8)
    >>> corruption_grid(x, ["inverse", "stripe"]).size[1] > 56
    True
    """
    from PIL import Image, ImageDraw, ImageFont

    x = check_images(images)
    if not 1 <= x.shape[0] <= 16:
        raise MnistlabError(f"images: give 1 to 16 images for the grid, got {x.shape[0]}")
    chosen = list(corruptions) if corruptions is not None else names()
    font = ImageFont.load_default()
    gap, pad, label_w, head_h = 2, 8, 150, 22
    clean = _cell(x, scale, gap)
    ch, cw = clean.shape
    cols = 6
    width = label_w + cols * (cw + pad) + pad
    height = head_h + len(chosen) * (ch + pad) + pad
    canvas = Image.new("RGB", (width, height), _BG)
    draw = ImageDraw.Draw(canvas)
    for c, title in enumerate(["clean", *[f"severity {k}" for k in range(1, 6)]]):
        draw.text((label_w + c * (cw + pad) + 2, 4), title, fill=_TEXT, font=font)
    for r, name in enumerate(chosen):
        spec = get(name)
        top = head_h + r * (ch + pad)
        draw.text((4, top + 2), spec.name, fill=_TEXT, font=font)
        bench = f", bench {spec.benchmark_severity}" if spec.benchmark_severity else ""
        draw.text((4, top + 16), f"{spec.family}{bench}", fill=(110, 110, 110), font=font)
        cells = [clean] + [
            _cell(corrupt(x, spec.name, severity=k, seed=seed, compat=compat), scale, gap)
            for k in range(1, 6)
        ]
        for c, cell in enumerate(cells):
            left = label_w + c * (cw + pad)
            canvas.paste(Image.fromarray(cell).convert("RGB"), (left, top))
            if c == spec.benchmark_severity:
                draw.rectangle(
                    (left - 2, top - 2, left + cw + 1, top + ch + 1), outline=_FRAME, width=2
                )
    return canvas


def save_grid(path: str | os.PathLike[str], images: Any, **kwargs: Any) -> Path:
    """Draw :func:`corruption_grid` and write it as PNG, atomically."""
    from mnistlab._atomic import atomic_path

    picture = corruption_grid(images, **kwargs)
    target = Path(path)
    with atomic_path(target, suffix=".png") as tmp:
        picture.save(tmp, format="PNG")
    return target
