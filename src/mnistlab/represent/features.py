"""Distances between two sets of features: Fréchet distance, KID, PRDC, class coverage.

``a``/``real`` and ``b``/``fake`` are ``(N, D)`` feature arrays (embeddings of real and
generated images, or morphometrics); the definitions are those of ``../shared/REPRESENT.md``:

- :func:`frechet_distance`: ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with
  sample means and covariances (``ddof=1``) and the real part of
  :func:`scipy.linalg.sqrtm`, as FID computes it;
- :func:`kid`: the unbiased squared MMD with the cubic kernel ``(x.y / D + 1)^3`` on random
  subsets (Binkowski et al., ICLR 2018), its mean and standard deviation over subsets
  (subsets drawn as torch-fidelity draws them: ``RandomState(seed).choice(n, size,
  replace=False)``, first from ``a`` then from ``b``);
- :func:`prdc`: precision, recall, density and coverage (Naeem et al., ICML 2020) with
  Euclidean ``k``-nearest-neighbour balls;
- :func:`class_coverage`: how evenly samples spread over the classes a classifier predicts
  for them (mode coverage).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(500, 3)), rng.normal(size=(500, 3))
>>> frechet_distance(a, b) < 0.1, frechet_distance(a, b + 1.0) > 2.5
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab._validate import check_int, check_seed
from mnistlab.errors import MnistlabError
from mnistlab.represent import _kernels
from mnistlab.represent._checks import as_matrix, legacy_random_state, same_columns

__all__ = [
    "PRDC",
    "ClassCoverage",
    "KIDResult",
    "class_coverage",
    "frechet_distance",
    "kid",
    "prdc",
]

_DIST_BYTES = 32 * 2**20  # one block of distances
_TIE_RTOL = 1e-9  # squared distances this close to a threshold are recomputed exactly


def _two(a: Any, b: Any, names: tuple[str, str], min_rows: int) -> tuple[NDArray[Any], ...]:
    x = as_matrix(a, names[0], min_rows=min_rows)
    y = as_matrix(b, names[1], min_rows=min_rows)
    same_columns(x, y, f"{names[0]} and {names[1]}")
    return x, y


# ---------------------------------------------------------------- Fréchet distance


def frechet_distance(a: ArrayLike, b: ArrayLike) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (FID's formula).

    Parameters
    ----------
    a, b : array_like, shape (N, D) and (M, D)
        Features, at least 2 rows each.

    Returns
    -------
    float
        ``|mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr(sqrtm(S_a S_b))``. When the matrix square
        root is not finite (singular covariances), ``1e-6`` is added to both diagonals, as
        pytorch-fid does.

    Raises
    ------
    MnistlabError
        On arrays that are not 2-D and finite, with different column counts or fewer than 2
        rows.

    Examples
    --------
    >>> a = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    >>> round(frechet_distance(a, a + 1.0), 6)  # only the means differ: |(1, 1)|^2
    2.0
    >>> round(frechet_distance(a, 2.0 * a), 6)  # |mu|^2 + tr(S) (1 + 4 - 2 * 2)
    4.666667
    """
    import warnings

    from scipy.linalg import LinAlgWarning, sqrtm

    x, y = _two(a, b, ("a", "b"), 2)
    mu = x.mean(axis=0) - y.mean(axis=0)
    sa = np.atleast_2d(np.cov(x, rowvar=False))
    sb = np.atleast_2d(np.cov(y, rowvar=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinAlgWarning)  # singular products: checked below
        root = sqrtm(sa @ sb)
        if not np.isfinite(root).all():
            offset = np.eye(sa.shape[0]) * 1e-6
            root = sqrtm((sa + offset) @ (sb + offset))
    root = np.real(root)
    return float(mu @ mu + np.trace(sa) + np.trace(sb) - 2.0 * np.trace(root))


# ---------------------------------------------------------------- KID


@dataclass(frozen=True, eq=False)
class KIDResult:
    """Kernel inception distance over random subsets.

    Attributes
    ----------
    mean : float
        The mean of ``values``: KID.
    std : float
        Their standard deviation (``ddof=0``, as torch-fidelity reports it).
    values : numpy.ndarray, shape (subsets,)
        The unbiased squared MMD of every subset.
    subset_size : int
        Rows drawn from each set per subset.
    """

    mean: float
    std: float
    values: NDArray[np.float64]
    subset_size: int

    def __float__(self) -> float:
        return self.mean


def _poly_mmd2_unbiased(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    s = _kernels.kernel_sums(x, y, "polynomial")
    m = s.m_x
    return float((s.within_x + s.within_y) / (m * (m - 1.0)) - 2.0 * s.cross / (m * float(m)))


def kid(
    a: ArrayLike, b: ArrayLike, subsets: int = 100, subset_size: int = 1000, *, seed: int = 0
) -> KIDResult:
    """KID: the unbiased squared MMD with the cubic polynomial kernel, averaged over subsets.

    Parameters
    ----------
    a, b : array_like, shape (N, D) and (M, D)
        Features (e.g. of real and generated images).
    subsets : int
        Random subsets.
    subset_size : int
        Rows per subset from each set, at most ``min(N, M)`` (taken when smaller).
    seed : int
        Seeds the subsets (``numpy.random.RandomState(seed)``).

    Returns
    -------
    KIDResult
        ``mean``, ``std``, the ``values`` of every subset and the ``subset_size`` used.

    Raises
    ------
    MnistlabError
        On bad arrays, fewer than 2 rows, different column counts or bad counts.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    >>> same = kid(a, b, subsets=10, subset_size=100)
    >>> shifted = kid(a, b + 1.0, subsets=10, subset_size=100)
    >>> abs(same.mean) < 0.05 < shifted.mean, same.values.shape
    (True, (10,))
    """
    x, y = _two(a, b, ("a", "b"), 2)
    subsets = check_int(subsets, "subsets", minimum=1)
    subset_size = check_int(subset_size, "subset_size", minimum=2)
    seed = check_seed(seed)
    m = min(subset_size, x.shape[0], y.shape[0])
    rng = legacy_random_state(seed)
    values = np.empty(subsets)
    for i in range(subsets):
        xs = x[rng.choice(x.shape[0], m, replace=False)]
        ys = y[rng.choice(y.shape[0], m, replace=False)]
        values[i] = _poly_mmd2_unbiased(xs, ys)
    return KIDResult(
        mean=float(values.mean()), std=float(values.std()), values=values, subset_size=m
    )


# ---------------------------------------------------------------- PRDC


@dataclass(frozen=True)
class PRDC:
    """Precision, recall, density and coverage (Naeem et al., ICML 2020).

    Attributes
    ----------
    precision : float
        Share of fake samples inside some real ball.
    recall : float
        Share of real samples inside some fake ball.
    density : float
        Mean over fake samples of the number of real balls that contain it, divided by ``k``.
    coverage : float
        Share of real samples whose nearest fake sample lies inside their own ball.
    k : int
        Neighbours that set the radii.
    """

    precision: float
    recall: float
    density: float
    coverage: float
    k: int


def _sq_norms(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.einsum("ij,ij->i", a, a)


def _exact_pairs(
    a: NDArray[np.float64], ia: NDArray[np.intp], b: NDArray[np.float64], ib: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Euclidean distances of the row pairs ``(a[ia[p]], b[ib[p]])`` from their differences,
    each summed in one fixed order (so the same pair always gives the same bits), a bounded
    number of pairs at a time."""
    out = np.empty(ia.shape[0])
    step = max(1, _DIST_BYTES // (8 * a.shape[1]))
    for p0 in range(0, ia.shape[0], step):
        diff = a[ia[p0 : p0 + step]] - b[ib[p0 : p0 + step]]
        out[p0 : p0 + step] = np.sqrt((diff * diff).sum(axis=1))
    return out


class _Blocks:
    """Squared distances between the rows of ``a`` and ``b`` a block of rows of ``a`` at a
    time, from one matrix product; ``tol`` bounds their rounding error."""

    def __init__(self, a: NDArray[np.float64], b: NDArray[np.float64]) -> None:
        self.a, self.b = a, b
        self.na, self.nb = _sq_norms(a), _sq_norms(b)
        self.rows = max(1, _DIST_BYTES // (8 * b.shape[0]))

    def __iter__(self) -> Any:
        for i0 in range(0, self.a.shape[0], self.rows):
            i1 = min(i0 + self.rows, self.a.shape[0])
            d2 = self.a[i0:i1] @ self.b.T
            d2 *= -2.0
            d2 += self.na[i0:i1, None]
            d2 += self.nb[None, :]
            np.maximum(d2, 0.0, out=d2)
            tol = _TIE_RTOL * (self.na[i0:i1, None] + self.nb[None, :]) + 1e-300
            yield i0, i1, d2, tol


def _radii(a: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Distance of every row of ``a`` to its ``k``-th nearest other row (exact)."""
    out = np.empty(a.shape[0])
    for i0, i1, d2, tol in _Blocks(a, a):
        kth = np.partition(d2, k, axis=1)[:, k]  # index 0 is the row itself (or a twin)
        rows, cols = np.nonzero(d2 <= kth[:, None] + tol)
        exact = _exact_pairs(a, i0 + rows, a, cols)
        order = np.lexsort((exact, rows))
        starts = np.searchsorted(rows[order], np.arange(i1 - i0))
        out[i0:i1] = exact[order][starts + k]
    return out


def _inside(
    d2: NDArray[np.float64],
    tol: NDArray[np.float64],
    radius: NDArray[np.float64],
    a_rows: NDArray[np.float64],
    b_all: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """``d(a_i, b_j) < radius_ij`` (``radius`` broadcasts to ``d2``); pairs within rounding
    of the threshold are decided on exact distances."""
    r2 = radius * radius
    inside = d2 < r2 - tol
    unsure = np.abs(d2 - r2) <= tol
    if unsure.any():
        rows, cols = np.nonzero(unsure)
        rad = np.broadcast_to(radius, d2.shape)[rows, cols]
        inside[rows, cols] = _exact_pairs(a_rows, rows, b_all, cols) < rad
    return inside


def _nearest(
    d2: NDArray[np.float64],
    tol: NDArray[np.float64],
    a_rows: NDArray[np.float64],
    b_all: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Exact distance of every row of the block to its nearest row of ``b``."""
    low = d2.min(axis=1)
    rows, cols = np.nonzero(d2 <= low[:, None] + tol)
    exact = _exact_pairs(a_rows, rows, b_all, cols)
    out = np.full(d2.shape[0], np.inf)
    np.minimum.at(out, rows, exact)
    return out


def prdc(real: ArrayLike, fake: ArrayLike, k: int = 5) -> PRDC:
    """Precision, recall, density and coverage of ``fake`` samples against ``real`` ones.

    The radius ``r_i`` of a real sample is the Euclidean distance to its ``k``-th nearest
    other real sample (likewise for fake samples); precision is the share of fake samples
    with ``d(fake, real_i) < r_i`` for some ``i``, recall the share of real samples inside
    some fake ball, density the mean number of real balls holding a fake sample divided by
    ``k``, coverage the share of real samples whose nearest fake sample is inside their own
    ball. Distances come in blocks of one matrix product each (never all pairs at once);
    pairs within rounding of a radius are decided on exactly computed distances, so a radius
    and the same pair met again agree to the bit (``prdc(x, x)`` has density exactly 1
    when no distances tie).

    Parameters
    ----------
    real, fake : array_like, shape (N, D) and (M, D)
        Features, more than ``k`` rows each.
    k : int
        Nearest neighbours that set the radii.

    Returns
    -------
    PRDC
        ``precision``, ``recall``, ``density``, ``coverage`` and ``k``.

    Raises
    ------
    MnistlabError
        On bad arrays, different column counts, ``k < 1`` or at most ``k`` rows.

    Examples
    --------
    >>> real = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> fake = np.array([[0.5], [1.5], [20.0], [21.0]])
    >>> prdc(real, fake, k=1)
    PRDC(precision=0.5, recall=0.75, density=1.0, coverage=0.75, k=1)
    """
    k = check_int(k, "k", minimum=1)
    x, y = _two(real, fake, ("real", "fake"), 1)
    for what, arr in (("real", x), ("fake", y)):
        if arr.shape[0] <= k:
            raise MnistlabError(f"{what} needs more than k={k} rows, got {arr.shape[0]}")
    centre = x.mean(axis=0)
    x, y = x - centre, y - centre  # the same shift for both: no distance changes
    r_real, r_fake = _radii(x, k), _radii(y, k)
    balls = np.zeros(y.shape[0], dtype=np.int64)  # real balls holding each fake sample
    recalled = np.zeros(x.shape[0], dtype=bool)
    covered = np.zeros(x.shape[0], dtype=bool)
    for i0, i1, d2, tol in _Blocks(x, y):
        rows = x[i0:i1]
        balls += _inside(d2, tol, r_real[i0:i1, None], rows, y).sum(axis=0)
        recalled[i0:i1] = _inside(d2, tol, r_fake[None, :], rows, y).any(axis=1)
        covered[i0:i1] = _nearest(d2, tol, rows, y) < r_real[i0:i1]
    return PRDC(
        precision=float(np.mean(balls > 0)),
        recall=float(np.mean(recalled)),
        density=float(balls.sum() / (k * y.shape[0])),
        coverage=float(np.mean(covered)),
        k=k,
    )


# ---------------------------------------------------------------- class coverage


@dataclass(frozen=True, eq=False)
class ClassCoverage:
    """How the samples spread over the predicted classes.

    Attributes
    ----------
    counts : numpy.ndarray of int64, shape (n_classes,)
        Samples predicted as each class.
    fractions : numpy.ndarray of float64, shape (n_classes,)
        ``counts / N``.
    entropy : float
        Entropy of ``fractions`` in nats (``0 log 0 = 0``).
    normalized_entropy : float
        ``entropy / log(n_classes)``: 1 for a uniform spread, 0 for a single class.
    classes_covered : int
        Classes predicted at least once.
    coverage : float
        ``classes_covered / n_classes``.
    """

    counts: NDArray[np.int64]
    fractions: NDArray[np.float64]
    entropy: float
    normalized_entropy: float
    classes_covered: int
    coverage: float


def class_coverage(predicted_labels: ArrayLike, n_classes: int) -> ClassCoverage:
    """Mode coverage of generated samples from the classes a classifier predicts for them.

    Parameters
    ----------
    predicted_labels : array_like of int, shape (N,)
        Predicted class of every sample, in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes, at least 2.

    Returns
    -------
    ClassCoverage
        The histogram, fractions, entropy (raw and divided by ``log(n_classes)``) and the
        number and share of classes covered.

    Raises
    ------
    MnistlabError
        On labels that are not a non-empty 1-D integer array within range, or
        ``n_classes < 2``.

    Examples
    --------
    >>> cov = class_coverage([0, 0, 1, 1], n_classes=4)
    >>> cov.counts.tolist(), round(cov.normalized_entropy, 6), cov.coverage
    ([2, 2, 0, 0], 0.5, 0.5)
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    labels = np.asarray(predicted_labels)
    if labels.ndim != 1 or labels.size == 0:
        raise MnistlabError(
            f"predicted_labels must be a non-empty 1-D array, got shape {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        raise MnistlabError(f"predicted_labels must be integers, got dtype {labels.dtype}")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_classes:
        bad = low if low < 0 else high
        raise MnistlabError(f"predicted_labels: label {bad} is outside 0..{n_classes - 1}")
    counts = np.bincount(labels.astype(np.int64), minlength=n_classes).astype(np.int64)
    fractions = counts / labels.size
    nz = fractions[fractions > 0]
    entropy = float(-(nz * np.log(nz)).sum())
    covered = int(np.count_nonzero(counts))
    return ClassCoverage(
        counts=counts,
        fractions=fractions,
        entropy=entropy,
        normalized_entropy=entropy / float(np.log(n_classes)),
        classes_covered=covered,
        coverage=covered / n_classes,
    )
