"""Morpho-MNIST perturbations: small callable objects whose parameters are their fields.

Each perturbation works on the upsampled binary image of :mod:`mnistlab.morpho.morphology`
and the result is brought back to the original size with a cubic pyramid reduction:

>>> import numpy as np
>>> img = np.zeros((2, 28, 28), np.uint8); img[:, 6:22, 12:16] = 255
>>> Thickening()(img).sum() > Thinning()(img).sum()
np.True_

Randomness (the swelling centre, the fracture places) is drawn per sample from
``(seed, sample_id)``, so a sample's result does not depend on batching or workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab import random as mrandom
from mnistlab.errors import MnistlabError
from mnistlab.morpho.morphology import Morphology, _near_stroke, downscale, morphology

__all__ = [
    "PERTURBATIONS",
    "Fracture",
    "Perturbation",
    "Plain",
    "Swelling",
    "Thickening",
    "Thinning",
]


_BLOCK = 250  # images per block in ``Perturbation.__call__``


def _radii(morph: Morphology, amount: float) -> NDArray[np.int64]:
    # The release's rule: disk radius int(amount * scale * thickness / 2), 0 for blank images.
    thick = np.nan_to_num(morph.thickness, nan=0.0)
    return np.floor(amount * morph.scale * thick / 2.0).astype(np.int64)


def _check_positive(name: str, value: float, strict: bool = True) -> None:
    if not np.isfinite(value) or value < 0 or (strict and value == 0):
        raise MnistlabError(
            f"{name} must be {'positive' if strict else 'non-negative'}, got {value!r}"
        )


@dataclass(frozen=True)
class Perturbation:
    """Base class: ``apply`` maps a morphology to upsampled images in [0, 1]."""

    label: ClassVar[int] = 0
    name: ClassVar[str] = "plain"

    def apply(
        self, morph: Morphology, seed: int = 0, sample_ids: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Perturbed upsampled images, float in [0, 1], shape of ``morph.binary``."""
        return morph.binary.astype(np.float64)

    def __call__(
        self,
        images: NDArray[np.uint8],
        seed: int = 0,
        sample_ids: ArrayLike | None = None,
        scale: int = 4,
        threshold: float = 0.5,
    ) -> NDArray[np.uint8]:
        """Perturb a batch of ``uint8`` images ``(N, H, W)``; returns ``uint8`` of that shape."""
        from mnistlab.data.dataset import check_images

        x = check_images(images)
        ids = mrandom.sample_ids_for(len(x), sample_ids)
        if len(x) <= _BLOCK:
            morph = morphology(x, scale, threshold)
            return downscale(self.apply(morph, seed, ids), morph.scale)
        # Blocks keep the upsampled maps (~0.5 MB per image) in cache and memory bounded;
        # each sample's randomness comes from its id, so the bytes do not change.
        return np.concatenate(
            [
                self(x[a : a + _BLOCK], seed, ids[a : a + _BLOCK], scale, threshold)
                for a in range(0, len(x), _BLOCK)
            ]
        )


@dataclass(frozen=True)
class Plain(Perturbation):
    """No perturbation: the binarised image, resampled (the release's ``plain`` set)."""


@dataclass(frozen=True)
class _Disk(Perturbation):
    """Base of the disk morphology: radius ``int(amount * scale * thickness / 2)`` per image."""

    amount: float = 1.0  # Thickening's default (Thinning's is 0.7)

    def __post_init__(self) -> None:
        _check_positive(f"{type(self).__name__} amount", self.amount, strict=False)

    def apply(
        self, morph: Morphology, seed: int = 0, sample_ids: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        return self._disk(morph, _radii(morph, self.amount)).astype(np.float64)

    def _disk(self, morph: Morphology, radius: NDArray[np.int64]) -> NDArray[np.bool_]:
        """The stroke mask after the disk operation of ``radius`` (one per image)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Thinning(_Disk):
    """Erode the stroke with a disk of radius ``int(amount * scale * thickness / 2)``.

    The erosion thresholds the Euclidean distance transform (a pixel stays when the
    background is farther than the radius), which gives the disk erosion's mask.
    """

    amount: float = 0.7
    label: ClassVar[int] = 1
    name: ClassVar[str] = "thin"

    def _disk(self, morph: Morphology, radius: NDArray[np.int64]) -> NDArray[np.bool_]:
        """The eroded mask."""
        # The morphology's distance map is the square root of the exact integer squared
        # distance, so ``distance > r`` is ``d2 > r * r``: no second transform.
        return morph.distance > radius[:, None, None]


@dataclass(frozen=True)
class Thickening(_Disk):
    """Dilate the stroke with a disk of radius ``int(amount * scale * thickness / 2)``."""

    label: ClassVar[int] = 2
    name: ClassVar[str] = "thic"

    def _disk(self, morph: Morphology, radius: NDArray[np.int64]) -> NDArray[np.bool_]:
        """The dilated mask (blank images stay blank)."""
        grown = _near_stroke(morph.binary, radius)
        grown[morph.blank] = False
        return grown


def _skeleton_pick(skeleton: NDArray[np.bool_], u: NDArray) -> NDArray[np.int64]:
    """Row, column of the ``floor(u * count)``-th skeleton pixel (raster order); -1 if none."""
    sk = np.ascontiguousarray(skeleton, dtype=np.bool_)
    counts = sk.reshape(len(sk), -1).sum(axis=1)
    rank = np.minimum(np.floor(u * counts).astype(np.int64), np.maximum(counts - 1, 0))
    return _pick_batch(sk, rank)


@numba.njit(cache=True, nogil=True)
def _pick_batch(
    skeleton: NDArray[np.bool_], rank: NDArray[np.int64]
) -> NDArray[np.int64]:  # pragma: no cover - compiled
    n, h, w = skeleton.shape
    out = np.full((n, 2), -1, np.int64)
    for k in range(n):
        seen = 0
        for p in range(h * w):
            r = p // w
            c = p - r * w
            if skeleton[k, r, c]:
                if seen == rank[k]:
                    out[k, 0] = r
                    out[k, 1] = c
                    break
                seen += 1
    return out


@numba.njit(cache=True, nogil=True)
def _swell_batch(
    binary: NDArray[np.bool_],
    centres: NDArray[np.int64],
    radius: NDArray[np.float64],
    strength: float,
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    n, h, w = binary.shape
    out = binary.astype(np.float64)
    for k in range(n):
        cr = centres[k, 0]
        cc = centres[k, 1]
        big_r = radius[k]
        if cr < 0 or not big_r > 0:
            continue
        r0 = max(0, int(np.floor(cr - big_r)))
        r1 = min(h - 1, int(np.ceil(cr + big_r)))
        c0 = max(0, int(np.floor(cc - big_r)))
        c1 = min(w - 1, int(np.ceil(cc + big_r)))
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                dr = r - cr
                dc = c - cc
                dist = np.sqrt(dr * dr + dc * dc)
                if dist >= big_r:
                    continue
                # Inverse map: sample closer to the centre, so the inside is magnified.
                f = (dist / big_r) ** (strength - 1.0)
                sr = cr + dr * f
                sc = cc + dc * f
                i0 = int(np.floor(sr))
                j0 = int(np.floor(sc))
                a = sr - i0
                b = sc - j0
                val = 0.0
                for di in range(2):
                    for dj in range(2):
                        ii = i0 + di
                        jj = j0 + dj
                        if 0 <= ii < h and 0 <= jj < w and binary[k, ii, jj]:
                            val += (a if di else 1.0 - a) * (b if dj else 1.0 - b)
                out[k, r, c] = val
    return out


@dataclass(frozen=True)
class Swelling(Perturbation):
    """A local bulge at a random skeleton point.

    Inside ``R = radius * sqrt(thickness) / 2 * scale`` of the centre, each point ``p`` takes
    the value at ``c + (p - c) * (|p - c| / R) ** (strength - 1)`` (bilinear).
    """

    strength: float = 3.0
    radius: float = 7.0
    label: ClassVar[int] = 3
    name: ClassVar[str] = "swel"

    def __post_init__(self) -> None:
        _check_positive("Swelling strength", self.strength)
        _check_positive("Swelling radius", self.radius)

    def apply(
        self, morph: Morphology, seed: int = 0, sample_ids: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        ids = mrandom.sample_ids_for(len(morph), sample_ids)
        u = mrandom.uniform(seed, ids, (), stream="morpho.swel", dtype=np.float64)
        centres = _skeleton_pick(morph.skeleton, u)
        thick = np.nan_to_num(morph.thickness, nan=0.0)
        big_r = self.radius * np.sqrt(thick) / 2.0 * morph.scale
        return _swell_batch(morph.binary, centres, big_r, float(self.strength))


@numba.njit(cache=True, nogil=True)
def _fracture_batch(
    binary: NDArray[np.bool_],
    skeleton: NDArray[np.bool_],
    distance: NDArray[np.float64],
    u: NDArray[np.float64],
    scale: int,
    brush: int,
    prune: int,
    window: int,
    extension: float,
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    n, h, w = binary.shape
    out = binary.astype(np.float64)
    num_frac = u.shape[1]
    for k in range(n):
        n_skel = 0
        for r in range(h):
            for c in range(w):
                if skeleton[k, r, c]:
                    n_skel += 1
        if n_skel == 0:
            continue
        sk = np.empty((n_skel, 2), np.int64)
        special = np.empty((n_skel, 2), np.int64)  # stroke ends (1 neighbour) and forks (3+)
        n_special = 0
        i = 0
        for r in range(h):
            for c in range(w):
                if not skeleton[k, r, c]:
                    continue
                sk[i, 0] = r
                sk[i, 1] = c
                i += 1
                nb = 0
                for dr in range(-1, 2):
                    for dc in range(-1, 2):
                        rr = r + dr
                        cc = c + dc
                        if (dr or dc) and 0 <= rr < h and 0 <= cc < w and skeleton[k, rr, cc]:
                            nb += 1
                if nb == 1 or nb >= 3:
                    special[n_special, 0] = r
                    special[n_special, 1] = c
                    n_special += 1
        cand = np.empty(n_skel, np.int64)
        n_cand = 0
        for i in range(n_skel):
            ok = True
            for j in range(n_special):
                if max(abs(sk[i, 0] - special[j, 0]), abs(sk[i, 1] - special[j, 1])) < prune:
                    ok = False
                    break
            if ok:
                cand[n_cand] = i
                n_cand += 1
        if n_cand == 0:  # a short or busy skeleton: any skeleton pixel will do
            for i in range(n_skel):
                cand[i] = i
            n_cand = n_skel
        for f in range(min(num_frac, n_cand)):
            # Partial Fisher-Yates: distinct centres.
            pick = f + min(int(u[k, f] * (n_cand - f)), n_cand - f - 1)
            tmp = cand[f]
            cand[f] = cand[pick]
            cand[pick] = tmp
            cr = sk[cand[f], 0]
            cc = sk[cand[f], 1]
            # Local skeleton direction: principal axis of the nearby skeleton pixels.
            srr = 0.0
            scc = 0.0
            src = 0.0
            cnt = 0
            for i in range(n_skel):
                dr = sk[i, 0] - cr
                dc = sk[i, 1] - cc
                if abs(dr) <= window and abs(dc) <= window:
                    srr += dr * dr
                    scc += dc * dc
                    src += dr * dc
                    cnt += 1
            theta = 0.5 * np.arctan2(2.0 * src, srr - scc)
            half = distance[k, cr, cc] + extension * scale
            nr = -np.sin(theta) * half  # normal to the direction (cos, sin)
            nc = np.cos(theta) * half
            r0 = int(np.round(cr + nr))
            c0 = int(np.round(cc + nc))
            r1 = int(np.round(cr - nr))
            c1 = int(np.round(cc - nc))
            # Bresenham line, stamping a round brush; pixels off the image are skipped.
            dr = abs(r1 - r0)
            dc = abs(c1 - c0)
            sr = 1 if r1 >= r0 else -1
            sc = 1 if c1 >= c0 else -1
            err = dc - dr
            r = r0
            c = c0
            while True:
                for br in range(-brush, brush + 1):
                    for bc in range(-brush, brush + 1):
                        if br * br + bc * bc <= brush * brush:
                            rr = r + br
                            cc2 = c + bc
                            if 0 <= rr < h and 0 <= cc2 < w:
                                out[k, rr, cc2] = 0.0
                if r == r1 and c == c1:
                    break
                e2 = 2 * err
                if e2 > -dr:
                    err -= dr
                    c += sc
                if e2 < dc:
                    err += dc
                    r += sr
    return out


@dataclass(frozen=True)
class Fracture(Perturbation):
    """Cut the stroke ``num_frac`` times, across the local skeleton direction.

    Centres are skeleton pixels at least ``prune`` (original) pixels from stroke ends and
    forks; each cut reaches ``distance + 0.5 * scale`` on both sides, drawn with a round
    brush of radius ``ceil((thickness * scale - 1) / 2)``. Cuts may leave the image.
    """

    thickness: float = 1.5
    prune: float = 2.0
    num_frac: int = 3
    label: ClassVar[int] = 4
    name: ClassVar[str] = "frac"

    _ANGLE_WINDOW: ClassVar[float] = 2.0  # original pixels around a centre for its direction
    _EXTENSION: ClassVar[float] = 0.5  # original pixels a cut reaches beyond the stroke

    def __post_init__(self) -> None:
        _check_positive("Fracture thickness", self.thickness)
        _check_positive("Fracture prune", self.prune, strict=False)
        if isinstance(self.num_frac, bool) or not isinstance(self.num_frac, (int, np.integer)):
            raise MnistlabError(f"Fracture num_frac must be an integer, got {self.num_frac!r}")
        if self.num_frac < 1:
            raise MnistlabError(f"Fracture num_frac must be at least 1, got {self.num_frac!r}")

    def apply(
        self, morph: Morphology, seed: int = 0, sample_ids: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        ids = mrandom.sample_ids_for(len(morph), sample_ids)
        u = mrandom.uniform(
            seed, ids, (int(self.num_frac),), stream="morpho.frac", dtype=np.float64
        )
        scale = morph.scale
        brush = int(np.ceil((self.thickness * scale - 1) / 2))
        return _fracture_batch(
            np.ascontiguousarray(morph.binary),
            np.ascontiguousarray(morph.skeleton),
            np.ascontiguousarray(morph.distance),
            np.ascontiguousarray(u.reshape(len(morph), -1)),
            scale,
            max(brush, 0),
            round(self.prune * scale),
            round(self._ANGLE_WINDOW * scale),
            self._EXTENSION,
        )


PERTURBATIONS: dict[str, type[Perturbation]] = {
    cls.name: cls for cls in (Plain, Thinning, Thickening, Swelling, Fracture)
}
