"""Batched building blocks shared by the corruption families.

Everything here works on a whole batch ``(N, H, W)`` at once. The affine warps exploit that
the releases' affine corruptions use one of very few matrices (a fixed angle with a random
sign): each distinct matrix becomes a table of four bilinear taps per output pixel, applied
to all the images that share it in one gather (see :mod:`mnistlab.corrupt._warp`).

Nothing heavy is imported at module level: scipy is only needed by the reference paths
(:func:`affine_operator`, unusual blur border modes) and numba only for batches large
enough to pay for its import (:func:`want_compiled`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "NUMBA_MIN_BATCH",
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
    "poisson_tables",
    "want_compiled",
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


def _warp_taps(
    key: tuple[float, ...], h: int, w: int
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.bool_]]:
    """The bilinear taps of the warp by the flat 2x3 matrix ``key``, and the mask of those used."""
    m = np.asarray(key, dtype=np.float64).reshape(2, 3)
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    src_c = m[0, 0] * cols + m[0, 1] * rows + m[0, 2]
    src_r = m[1, 0] * cols + m[1, 1] * rows + m[1, 2]
    idx, wt, inside = _bilinear_taps(src_r.ravel(), src_c.ravel(), (h, w))
    return idx, wt, inside & (wt != 0)


def _matrix_key(
    matrix: NDArray[np.float64], shape: tuple[int, int]
) -> tuple[tuple[float, ...], int, int]:
    """The cache key of a warp: the 2x3 matrix as a tuple of floats, then the image shape."""
    m = np.asarray(matrix, dtype=np.float64)[:2, :3]
    return tuple(m.ravel().tolist()), int(shape[0]), int(shape[1])


@lru_cache(maxsize=256)
def _affine_operator_cached(key: tuple[float, ...], h: int, w: int) -> Any:
    import scipy.sparse as sp

    idx, wt, keep = _warp_taps(key, h, w)
    out = np.broadcast_to(np.arange(h * w)[:, None], idx.shape)
    # Transposed operator, so that ``flat_images @ op`` is the warp.
    op = sp.csr_matrix((wt[keep], (idx[keep], out[keep])), shape=(h * w, h * w))
    op.sum_duplicates()
    return op


def affine_operator(matrix: NDArray[np.float64], shape: tuple[int, int]) -> Any:
    """The bilinear inverse-map warp by ``matrix`` as a scipy sparse ``(H*W, H*W)`` operator.

    Output pixel ``(r, c)`` samples the input at ``matrix @ (c, r, 1)`` with bilinear
    interpolation; taps outside the image read 0 (scikit-image's ``warp(..., order=1,
    mode="constant")``). ``flat @ op`` warps a batch of flattened images. This is the
    reference of :func:`warp_affine_grouped` (which gathers the same taps in the same order,
    so the results are equal to the bit); production code does not use it.
    """
    return _affine_operator_cached(*_matrix_key(matrix, shape))


def affine_taps(
    matrix: NDArray[np.float64], shape: tuple[int, int]
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The four bilinear taps of every output pixel of the warp by ``matrix``.

    Returns ``(idx, wt)``, both ``(H*W, 4)``: flat source indices and weights, in increasing
    source index (the order in which :func:`affine_operator`'s sparse product adds them).
    Taps outside the image, or of weight 0, point at index ``H*W`` (a zero pixel appended to
    each image) with weight 0: adding ``0 * 0`` changes no sum, so the gather equals the
    sparse product to the bit.
    """
    return _affine_taps_cached(*_matrix_key(matrix, shape))


@lru_cache(maxsize=256)
def _affine_taps_cached(
    key: tuple[float, ...], h: int, w: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    idx, wt, keep = _warp_taps(key, h, w)
    idx = np.where(keep, idx, h * w).astype(np.intp)
    wt = np.where(keep, wt, 0.0)
    idx.setflags(write=False)
    wt.setflags(write=False)
    return idx, wt


def warp_affine_grouped(
    x: Array,
    matrices: NDArray[np.float64],
    group: NDArray[np.integer],
    to_bytes: bool | None = None,
) -> NDArray[Any]:
    """Warp image ``k`` of ``x`` by ``matrices[group[k]]`` (inverse maps, bilinear, zero fill).

    Parameters
    ----------
    x : ndarray, shape (N, H, W)
        Floats, or ``uint8`` grey levels (then read as ``level / 255``, as ``x / 255.0``).
    matrices : ndarray, shape (G, 2, 3) or (G, 3, 3)
        Inverse maps in ``(x, y) = (column, row)`` coordinates.
    group : ndarray of int, shape (N,)
        Which matrix each image uses.

    to_bytes : bool, optional
        Return bytes, rounded (False) or truncated (True) as ``registry.to_uint8(...,
        exact=True)`` would convert the float64 result.

    Returns
    -------
    ndarray, float64 (or uint8 with ``to_bytes``), shape (N, H, W)
        Equal to the bit to the sparse product ``flat @ affine_operator(m)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(2 * 16, dtype=np.float64).reshape(2, 4, 4)
    >>> shift = np.array([[[1.0, 0, 1], [0, 1, 0]]])  # sample one column to the right
    >>> warp_affine_grouped(x, shift, np.zeros(2, int))[0, 0].tolist()
    [1.0, 2.0, 3.0, 0.0]
    """
    from mnistlab.corrupt._warp import gather_taps

    n, h, w = x.shape
    out = np.empty((n, h * w), dtype=np.float64 if to_bytes is None else np.uint8)
    compiled = want_compiled(n)  # for the whole batch: its groups share the import
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        idx, wt = affine_taps(matrices[g], (h, w))
        part = x[rows] if rows.size < n else x
        out[rows] = gather_taps(part, idx, wt, to_bytes, compiled)
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


# ndimage's border modes as numpy.pad modes ("reflect" repeats the edge pixel).
_PAD_MODES: dict[str, Any] = {
    "nearest": "edge",
    "reflect": "symmetric",
    "mirror": "reflect",
    "wrap": "wrap",
}


@lru_cache(maxsize=64)
def _gaussian_matrix(length: int, sigma: float, mode: str, truncate: float) -> NDArray[np.float64]:
    """``scipy.ndimage.gaussian_filter1d`` of the identity along axis 0, to the bit.

    Column j is the response to an impulse at j, so ``B @ v`` filters ``v`` with the same
    weights and border handling. Built with ndimage's own arithmetic (its kernel, then its
    symmetric correlation: centre tap first, then the outermost pair inwards) without
    importing scipy, which costs more than all the corruptions of a 10k split.
    """
    if mode not in _PAD_MODES:
        import scipy.ndimage as ndi

        return ndi.gaussian_filter1d(np.eye(length), sigma, axis=0, mode=mode, truncate=truncate)
    sd = float(sigma)
    radius = int(truncate * sd + 0.5)
    t = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sd * sd) * t**2)
    fw = (phi / phi.sum())[::-1]
    ext = np.pad(np.eye(length), ((radius, radius), (0, 0)), mode=_PAD_MODES[mode])
    out = ext[radius : radius + length] * fw[radius]
    for j in range(-radius, 0):
        pair = ext[radius + j : radius + j + length] + ext[radius - j : radius - j + length]
        out += pair * fw[radius + j]
    return out


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
def poisson_tables(
    lams: tuple[float, ...],
) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.bool_]]:
    """The CDFs ``(len(lams), kmax + 1)``, guide table and ambiguous-bin flags of
    :func:`poisson_inverse_cdf` (cached)."""
    lam = np.asarray(lams, dtype=np.float64)[:, None]
    kmax = int(np.ceil(lam.max() + 12 * np.sqrt(lam.max()) + 20))
    k = np.arange(kmax + 1, dtype=np.float64)[None, :]
    # log(k!) from the standard library (scipy.special.gammaln agrees to the last bit or
    # two, which moves no count: a test compares the tables' outputs).
    log_fact = np.array([math.lgamma(v + 1.0) for v in range(kmax + 1)])[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        logpmf = np.where(lam > 0, k * np.log(lam) - lam - log_fact, np.where(k == 0, 0.0, -np.inf))
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
    cdf, guide, ambiguous = poisson_tables(tuple(float(v) for v in lams))
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
# Importing numba (and loading its cached machine code) costs about 0.4 s: smaller batches
# run the numpy paths (same bytes) unless numba is already loaded in this process.
NUMBA_MIN_BATCH = 2048


def want_compiled(n: int | None = None) -> bool:
    """Whether a batch of ``n`` images should use the numba kernels (None: any size)."""
    if not USE_NUMBA:
        return False
    return n is None or n >= NUMBA_MIN_BATCH or "numba" in sys.modules


def _numba_kernel(fn: Callable[..., None]) -> Callable[[], Callable[..., None] | None]:
    """``fn`` compiled by numba on first call of the returned getter (None without numba)."""

    @lru_cache(maxsize=1)
    def compiled() -> Callable[..., None] | None:
        try:
            import numba
        except ImportError:  # pragma: no cover - numba is the optional "fast" extra
            return None
        return numba.njit(cache=True, nogil=True)(fn)

    return compiled


# The compiled bodies are invisible to coverage; tests compare them with the numpy paths.
def _swap_chain_kernel(img, pos, partner):  # pragma: no cover
    """Swap ``img[k, pos[j]]`` with ``img[k, partner[k, j]]``, in order of ``j``, in place."""
    for k in range(img.shape[0]):
        for j in range(pos.shape[0]):
            p = pos[j]
            q = partner[k, j]
            tmp = img[k, p]
            img[k, p] = img[k, q]
            img[k, q] = tmp


_numba_swap_chain = _numba_kernel(_swap_chain_kernel)


def compiled_swap_chain(n: int | None = None) -> Callable[..., None] | None:
    """numba's compiled swap loop (see ``blur.swap_chain``), or None without numba (or for a
    batch of ``n`` images too small to pay for importing it, see :func:`want_compiled`)."""
    return _numba_swap_chain() if want_compiled(n) else None


def _tap_filter_kernel(x, dy, dx, weights, out):  # pragma: no cover
    """``out[k] = sum_t weights[t] * x[k]`` shifted by ``(dy[k, t], dx[k, t])``, edges clamped."""
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


_numba_tap_filter = _numba_kernel(_tap_filter_kernel)


def compiled_tap_filter(n: int | None = None) -> Callable[..., None] | None:
    """numba's per-image tap filter (see ``blur.motion_blur_at``), or None without numba (or
    for a batch of ``n`` images too small to pay for importing it)."""
    return _numba_tap_filter() if want_compiled(n) else None
