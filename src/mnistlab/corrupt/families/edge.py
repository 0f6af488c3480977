"""Edge corruptions: the image replaced by its Canny edge map (MNIST-C ``canny_edges``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt.registry import Context, Corruption, register


def _ndi() -> Any:
    # scipy.ndimage costs ~0.5 s to import: only the corruptions that need it load it.
    import scipy.ndimage

    return scipy.ndimage


__all__ = ["canny"]


def _sobel(image: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    # scipy's sobel smooths along every other axis, the batch axis included; per image
    # it is a derivative along ``axis`` and a [1, 2, 1] smoothing along the other image axis.
    other = 2 if axis == 1 else 1
    out = _ndi().correlate1d(image, [-1, 0, 1], axis, mode="reflect")
    return _ndi().correlate1d(out, [1, 2, 1], other, mode="reflect")


# Per octant case of skimage/_canny_cy.pyx: the weight uses |j|/|i| (True) or |i|/|j|, then
# the two neighbours interpolated ahead of the pixel and the two behind it, as (row, col).
_CASES = (
    (True, (1, 0), (1, 1), (-1, 0), (-1, -1)),  # signs alike, |i| > |j|
    (False, (0, 1), (1, 1), (0, -1), (-1, -1)),  # signs alike, |i| <= |j|
    (False, (0, 1), (-1, 1), (0, -1), (1, -1)),  # signs opposite, |i| < |j|
    (True, (-1, 0), (-1, 1), (1, 0), (1, -1)),  # signs opposite, |i| >= |j|
)


def _nonmaximum_suppression(
    isobel: NDArray[np.float64], jsobel: NDArray[np.float64], mag: NDArray[np.float64], low: float
) -> NDArray[np.float64]:
    """scikit-image's bilinear non-maximum suppression for a batch, on interior pixels.

    Only pixels above ``low`` are examined (a small fraction of a digit or garment), each
    with the neighbours of its gradient octant gathered through flat offsets.
    """
    w = mag.shape[2]
    cand = mag >= (low if low > 0 else 1e-14)
    cand[:, 0, :] = cand[:, -1, :] = False
    cand[:, :, 0] = cand[:, :, -1] = False
    idx = np.flatnonzero(cand)
    flat = mag.reshape(-1)
    m = flat[idx]
    gi = isobel.reshape(-1)[idx]
    gj = jsobel.reshape(-1)[idx]
    ai, aj = np.abs(gi), np.abs(gj)
    same = (gi > 0) == (gj > 0)
    case = np.where(same, np.where(ai > aj, 0, 1), np.where(ai < aj, 2, 3))
    use_ji = np.array([c[0] for c in _CASES])[case]
    offsets = np.array([[dr * w + dc for dr, dc in c[1:]] for c in _CASES])[case]  # (K, 4)
    with np.errstate(divide="ignore", invalid="ignore"):
        wt = np.where(use_ji, aj / ai, ai / aj)
    nbr = flat[idx[:, None] + offsets]
    plus = (nbr[:, 1] * wt + nbr[:, 0] * (1.0 - wt)) <= m
    minus = (nbr[:, 3] * wt + nbr[:, 2] * (1.0 - wt)) <= m
    out = np.zeros(mag.size)
    out[idx] = np.where(plus & minus, m, 0.0)
    return out.reshape(mag.shape)


def canny(
    images: NDArray[np.floating],
    sigma: float = 1.0,
    low_threshold: float = 0.1,
    high_threshold: float = 0.2,
) -> NDArray[np.bool_]:
    """Canny edge maps of a batch, equal to ``skimage.feature.canny`` image by image.

    Parameters
    ----------
    images : numpy.ndarray, float, shape (N, H, W)
        Intensities in 0..1.
    sigma : float
        Gaussian smoothing before the Sobel gradients.
    low_threshold, high_threshold : float
        Hysteresis thresholds on the gradient magnitude.

    Returns
    -------
    numpy.ndarray, bool, shape (N, H, W)

    Examples
    --------
    >>> x = np.zeros((1, 28, 28)); x[0, 8:20, 8:20] = 1.0
    >>> edges = canny(x)
    >>> bool(edges[0, 7, 14]), bool(edges[0, 14, 14])  # the top edge, not the inside
    (True, False)
    """
    x = np.asarray(images, dtype=np.float64)
    # skimage smooths with zero padding and divides by the smoothed mask ("bleed-over").
    gauss = {"sigma": (0.0, sigma, sigma), "mode": "constant", "cval": 0.0, "truncate": 4.0}
    smoothed = _ndi().gaussian_filter(x, **gauss)
    bleed = (
        _ndi().gaussian_filter(np.ones(x.shape[1:])[None], **gauss)[0] + np.finfo(np.float64).eps
    )
    smoothed /= bleed
    jsobel = _sobel(smoothed, 2)
    isobel = _sobel(smoothed, 1)
    mag = np.sqrt(isobel * isobel + jsobel * jsobel)
    local = _nonmaximum_suppression(isobel, jsobel, mag, low_threshold)
    low_mask = local > 0
    # Hysteresis: keep 8-connected components (within each image) with a strong pixel.
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    labels, count = _ndi().label(low_mask, structure)
    if count == 0:
        return low_mask
    good = np.zeros(count + 1, dtype=bool)
    good[labels[low_mask & (local >= high_threshold)]] = True
    good[0] = False
    return good[labels]


def _canny_edges(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    # Back to the exact k/255 values the release divides by, in float64.
    exact = np.rint(x.astype(np.float64) * 255.0) / 255.0
    return canny(exact).astype(np.float32)


register(
    Corruption(
        "canny_edges",
        "edge",
        _canny_edges,
        (None,) * 5,
        description="Canny edge map (sigma 1, thresholds 0.1/0.2) as 0/255",
        releases=("mnist-c",),
        leveled=False,
    )
)
