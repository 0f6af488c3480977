"""Batched building blocks shared by the corruption families.

Everything here works on a whole batch ``(N, H, W)`` at once. The affine warps exploit that
the releases' affine corruptions use one of very few matrices (a fixed angle with a random
sign): each distinct matrix becomes a sparse linear operator on the flattened image, applied
to all the images that share it in one sparse-dense product.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import scipy.ndimage as ndi
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import gammaln

__all__ = [
    "USE_NUMBA",
    "affine_operator",
    "apply_linear",
    "bilinear_sample",
    "centred_affine",
    "compiled_swap_chain",
    "compiled_tap_filter",
    "gaussian_blur",
    "linear_operator",
    "poisson_inverse_cdf",
    "warp_affine_grouped",
]

Array = NDArray[np.floating]


def centred_affine(linear: NDArray[np.float64], centre: tuple[float, float]) -> NDArray[np.float64]:
    """A 2x3 affine map with linear part ``linear`` that keeps ``centre`` (x, y) fixed.

    Coordinates are ``(x, y) = (column, row)``, as in scikit-image's transforms.
    """
    a = np.asarray(linear, dtype=np.float64)
    cx, cy = centre
    if cx == cy:
        # The releases' arithmetic, c * (1 - a_1 - a_2), kept for bit-faithful coordinates.
        tx = cx * (1 - a[0, 0] - a[0, 1])
        ty = cy * (1 - a[1, 0] - a[1, 1])
    else:
        tx = cx - (a[0, 0] * cx + a[0, 1] * cy)
        ty = cy - (a[1, 0] * cx + a[1, 1] * cy)
    return np.array([[a[0, 0], a[0, 1], tx], [a[1, 0], a[1, 1], ty]])


_DENSE_CACHE: dict[tuple[object, ...], NDArray[np.float32]] = {}


def linear_operator(
    key: tuple[object, ...],
    shape: tuple[int, int],
    fn: Callable[[NDArray[np.float64]], NDArray[np.floating]],
) -> NDArray[np.float32]:
    """The matrix of a linear, image-independent filter ``fn``: ``flat @ op == fn(x)``.

    Built once per ``(key, shape)`` by passing the ``H*W`` unit impulses through ``fn``
    (a batch function ``(n, H, W) -> (n, H, W)``); afterwards a batch costs one matrix
    product, which beats FFTs and ndimage calls on 28x28 images by a wide margin.
    """
    full = (*key, *shape)
    op = _DENSE_CACHE.get(full)
    if op is None:
        h, w = shape
        impulses = np.eye(h * w).reshape(h * w, h, w)
        op = np.ascontiguousarray(np.asarray(fn(impulses)).reshape(h * w, h * w), dtype=np.float32)
        if len(_DENSE_CACHE) >= 32:
            _DENSE_CACHE.pop(next(iter(_DENSE_CACHE)))
        _DENSE_CACHE[full] = op
    return op


_BLOCK = 256  # rows per matrix product, always this many (zero-padded)


def apply_linear(x: Array, op: NDArray[np.float32]) -> NDArray[np.float32]:
    """Apply a :func:`linear_operator` matrix to a batch ``(N, H, W)``.

    The product always runs on blocks of exactly ``_BLOCK`` rows: BLAS may pick different
    kernels (and so round differently) for different shapes, and an image's bytes must not
    depend on how many images share its call.
    """
    n = x.shape[0]
    flat = np.asarray(x, dtype=np.float32).reshape(n, -1)
    out = np.empty_like(flat)
    block = np.zeros((_BLOCK, flat.shape[1]), dtype=np.float32)
    for s in range(0, n, _BLOCK):
        m = min(_BLOCK, n - s)
        block[:m] = flat[s : s + m]
        block[m:] = 0
        out[s : s + m] = (block @ op)[:m]
    return out.reshape(x.shape)


def _bilinear_taps(
    src_r: NDArray[np.float64], src_c: NDArray[np.float64], shape: tuple[int, int]
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.bool_]]:
    """Flat source indices, weights and in-bounds masks of the 4 bilinear taps, shape (..., 4)."""
    h, w = shape
    r0 = np.floor(src_r)
    c0 = np.floor(src_c)
    dr = src_r - r0
    dc = src_c - c0
    rr = np.stack([r0, r0, r0 + 1, r0 + 1], axis=-1)
    cc = np.stack([c0, c0 + 1, c0, c0 + 1], axis=-1)
    wt = np.stack([(1 - dr) * (1 - dc), (1 - dr) * dc, dr * (1 - dc), dr * dc], axis=-1)
    inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    idx = np.where(inside, rr * w + cc, 0).astype(np.intp)
    return idx, wt, inside


@lru_cache(maxsize=256)
def _affine_operator_cached(key: tuple[float, ...], h: int, w: int) -> sp.csr_matrix:
    m = np.asarray(key, dtype=np.float64).reshape(2, 3)
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    src_c = m[0, 0] * cols + m[0, 1] * rows + m[0, 2]
    src_r = m[1, 0] * cols + m[1, 1] * rows + m[1, 2]
    idx, wt, inside = _bilinear_taps(src_r.ravel(), src_c.ravel(), (h, w))
    keep = inside & (wt != 0)
    out = np.broadcast_to(np.arange(h * w)[:, None], idx.shape)
    # Transposed operator, so that ``flat_images @ op`` is the warp.
    op = sp.csr_matrix((wt[keep], (idx[keep], out[keep])), shape=(h * w, h * w))
    op.sum_duplicates()
    return op


def affine_operator(matrix: NDArray[np.float64], shape: tuple[int, int]) -> sp.csr_matrix:
    """The bilinear inverse-map warp by ``matrix`` as a sparse ``(H*W, H*W)`` operator.

    Output pixel ``(r, c)`` samples the input at ``matrix @ (c, r, 1)`` with bilinear
    interpolation; taps outside the image read 0 (scikit-image's ``warp(..., order=1,
    mode="constant")``). ``flat @ op`` warps a batch of flattened images.
    """
    m = np.asarray(matrix, dtype=np.float64)[:2, :3]
    return _affine_operator_cached(tuple(m.ravel().tolist()), int(shape[0]), int(shape[1]))


def warp_affine_grouped(
    x: Array, matrices: NDArray[np.float64], group: NDArray[np.integer]
) -> NDArray[np.float64]:
    """Warp image ``k`` of ``x`` by ``matrices[group[k]]`` (inverse maps, bilinear, zero fill).

    Parameters
    ----------
    x : ndarray, shape (N, H, W)
    matrices : ndarray, shape (G, 2, 3) or (G, 3, 3)
        Inverse maps in ``(x, y) = (column, row)`` coordinates.
    group : ndarray of int, shape (N,)
        Which matrix each image uses.

    Returns
    -------
    ndarray, float64, shape (N, H, W)
    """
    n, h, w = x.shape
    flat = x.reshape(n, h * w).astype(np.float64, copy=False)
    out = np.empty((n, h * w), dtype=np.float64)
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        op = affine_operator(matrices[g], (h, w))
        out[rows] = flat[rows] @ op
    return out.reshape(n, h, w)


def bilinear_sample(x: Array, src_r: Array, src_c: Array) -> NDArray[np.float64]:
    """Sample each image at its own coordinates, bilinear, zero outside.

    Parameters
    ----------
    x : ndarray, shape (N, H, W)
    src_r, src_c : ndarray, shape (N, H, W)
        Row and column coordinates into image ``k`` for each output pixel of image ``k``.
    """
    n, h, w = x.shape
    # A zero band 2 pixels wide: clipping a far-out corner into it reads 0 for both taps.
    padded = np.zeros((n, h + 4, w + 4), dtype=np.float64)
    padded[:, 2:-2, 2:-2] = x
    flat = padded.reshape(n, -1)
    sr = np.asarray(src_r, np.float64)
    sc = np.asarray(src_c, np.float64)
    r0 = np.floor(sr)
    c0 = np.floor(sc)
    dr = (sr - r0).reshape(n, -1)
    dc = (sc - c0).reshape(n, -1)
    base = (
        (np.clip(r0, -2, h).astype(np.intp) + 2) * (w + 4) + np.clip(c0, -2, w).astype(np.intp) + 2
    )
    base = base.reshape(n, -1)
    v00 = np.take_along_axis(flat, base, axis=1)
    v01 = np.take_along_axis(flat, base + 1, axis=1)
    v10 = np.take_along_axis(flat, base + (w + 4), axis=1)
    v11 = np.take_along_axis(flat, base + (w + 5), axis=1)
    top = (1 - dc) * v00 + dc * v01
    bottom = (1 - dc) * v10 + dc * v11
    return ((1 - dr) * top + dr * bottom).reshape(n, h, w)


@lru_cache(maxsize=64)
def _gaussian_matrix(length: int, sigma: float, mode: str, truncate: float) -> NDArray[np.float64]:
    # ndimage's own 1-D Gaussian filter applied to the identity: column j is the response to
    # an impulse at j, so ``B @ v`` filters ``v`` with the same weights and border handling.
    return ndi.gaussian_filter1d(np.eye(length), sigma, axis=0, mode=mode, truncate=truncate)


def gaussian_blur(
    x: Array,
    sigma: float,
    axes: tuple[int, ...] = (1, 2),
    mode: str = "nearest",
    truncate: float = 4.0,
) -> Array:
    """Separable Gaussian blur of a batch ``(N, H, W)`` along ``axes`` (1: rows, 2: columns).

    Same weights and borders as ``scipy.ndimage.gaussian_filter1d`` (scikit-image's
    ``gaussian`` defaults: ``mode="nearest"``, ``truncate=4``), applied as small dense
    matrix products, which beat ndimage's line-by-line filtering on 28-pixel lines.
    """
    out = np.asarray(x)
    dtype = out.dtype if out.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    for ax in axes:
        if ax not in (1, 2):
            raise ValueError(f"axes must be 1 and/or 2, got {ax!r}")
        mat = _gaussian_matrix(out.shape[ax], float(sigma), mode, float(truncate)).astype(dtype)
        # Stacked products: the same small product per image, whatever the batch size.
        out = np.matmul(mat, out) if ax == 1 else np.matmul(out, mat.T)
    return out


_BINS = 1024  # guide-table bins per grey level (a power of two: u * bins is exact)


@lru_cache(maxsize=16)
def _poisson_tables(
    lams: tuple[float, ...],
) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.bool_]]:
    lam = np.asarray(lams, dtype=np.float64)[:, None]
    kmax = int(np.ceil(lam.max() + 12 * np.sqrt(lam.max()) + 20))
    k = np.arange(kmax + 1, dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        logpmf = np.where(
            lam > 0, k * np.log(lam) - lam - gammaln(k + 1), np.where(k == 0, 0.0, -np.inf)
        )
    cdf = np.cumsum(np.exp(logpmf), axis=1)
    cdf[:, -1] = np.inf  # the far tail (probability < 1e-30) ends at kmax
    lo = np.arange(_BINS, dtype=np.float64) / _BINS
    # guide: the count for the smallest u of a bin; a bin is ambiguous when a CDF step
    # falls inside it (then the count depends on where u lies in the bin).
    guide = np.stack([np.searchsorted(row, lo, side="right") for row in cdf]).astype(np.int32)
    upper = np.stack([np.searchsorted(row, lo + 1.0 / _BINS, side="left") for row in cdf])
    return cdf, guide, upper != guide


def poisson_inverse_cdf(
    lams: tuple[float, ...], level: NDArray[np.integer], u: NDArray[np.floating]
) -> NDArray[np.int32]:
    """Poisson counts by inversion: the smallest ``k`` with ``CDF(k; lams[level]) > u``.

    The rates take few distinct values (a uint8 image has 256 grey levels), so the CDFs are
    tabulated once and inverted with a guide table: one lookup per pixel, plus an exact
    search for the few pixels (about 1%) whose uniform falls in a bin holding a CDF step.
    """
    cdf, guide, ambiguous = _poisson_tables(tuple(float(v) for v in lams))
    lv = np.asarray(level, dtype=np.int32).ravel()
    uf = np.asarray(u).ravel()
    cell = lv * np.int32(_BINS) + np.minimum((uf * _BINS).astype(np.int32), _BINS - 1)
    k = guide.ravel().take(cell)
    todo = np.flatnonzero(ambiguous.ravel().take(cell))
    u_todo = uf[todo].astype(np.float64)
    while todo.size:
        step = u_todo >= cdf[lv[todo], k[todo]]
        todo, u_todo = todo[step], u_todo[step]
        k[todo] += 1
    return k.reshape(np.shape(level))


USE_NUMBA = True  # set False to force the pure-numpy paths (tests compare both)


@lru_cache(maxsize=1)
def _numba_swap_chain() -> Callable[..., None] | None:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is the optional "fast" extra
        return None

    # The compiled bodies are invisible to coverage; tests compare them with the numpy paths.
    @numba.njit(cache=True, nogil=True)
    def kernel(img, pos, partner):  # pragma: no cover
        for k in range(img.shape[0]):
            for j in range(pos.shape[0]):
                p = pos[j]
                q = partner[k, j]
                tmp = img[k, p]
                img[k, p] = img[k, q]
                img[k, q] = tmp

    return kernel


def compiled_swap_chain() -> Callable[..., None] | None:
    """numba's compiled swap loop (see ``blur.swap_chain``), or None without numba."""
    return _numba_swap_chain() if USE_NUMBA else None


@lru_cache(maxsize=1)
def _numba_tap_filter() -> Callable[..., None] | None:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is the optional "fast" extra
        return None

    @numba.njit(cache=True, nogil=True)
    def kernel(x, dy, dx, weights, out):  # pragma: no cover
        n, h, w = x.shape
        pad = 0
        for k in range(n):
            for t in range(weights.shape[0]):
                pad = max(pad, abs(dy[k, t]), abs(dx[k, t]))
        # Each image is edge-padded once into a buffer, so the tap loops need no clamping.
        buf = np.empty((h + 2 * pad, w + 2 * pad), dtype=np.float32)
        for k in range(n):
            for r in range(h + 2 * pad):
                rs = min(max(r - pad, 0), h - 1)
                for c in range(w + 2 * pad):
                    buf[r, c] = x[k, rs, min(max(c - pad, 0), w - 1)]
            out[k] = 0.0
            for t in range(weights.shape[0]):
                wt = weights[t]
                r0 = pad + dy[k, t]
                c0 = pad + dx[k, t]
                for r in range(h):
                    for c in range(w):
                        out[k, r, c] += wt * buf[r0 + r, c0 + c]

    return kernel


def compiled_tap_filter() -> Callable[..., None] | None:
    """numba's per-image tap filter (see ``blur.motion_blur_at``), or None without numba."""
    return _numba_tap_filter() if USE_NUMBA else None
