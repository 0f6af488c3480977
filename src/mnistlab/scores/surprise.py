"""Surprise adequacy (Kim, Feldt & Yoo 2019) on activation traces of one layer.

An activation trace (AT) is the vector of a layer's activations for one input, ``(N, D)``.
Feature maps of a convolutional layer ``(N, C, H, W)`` are averaged over their spatial axes
(the convention of the original paper), so a conv layer's AT has ``D = C`` values, one per
channel: :func:`as_traces` does it for 4-D arrays here, and
:func:`mnistlab.scores.model_scores.activation_traces` when it reads a layer of a model.
Already flat ``(N, D)`` arrays are used as they are.

Three scores, each higher = more surprising (more likely misclassified), each ``float64 (N,)``:

``DSA`` (distance-based), range ``[0, inf)``
    ``|at(x) - at(x_a)| / |at(x_a) - at(x_b)|`` where ``x_a`` is the nearest training AT of
    the predicted class and ``x_b`` the training AT of another class nearest to ``x_a``.
``LSA`` (likelihood-based), range ``(-inf, inf)`` (a negative log density)
    ``-log KDE_c(at(x))``: a Gaussian kernel density estimate with Scott's bandwidth, fitted
    on the training ATs of the predicted class ``c``, restricted to that class's
    ``n_neurons`` highest-variance neurons. By default the kernel covariance gets a ridge of
    ``1e-5`` times its mean variance (grown tenfold until it factorises), so a constant neuron
    or a singular covariance never fails; with ``ridge=0`` the density is exactly
    :class:`scipy.stats.gaussian_kde`'s (tested to ``rtol=1e-8``), and a singular covariance
    is an error, as in scipy.
``Mahalanobis`` (per class), range ``[0, inf)``
    The Mahalanobis *distance*, not its square:
    ``sqrt((at(x) - mu_c)^T S_c^{-1} (at(x) - mu_c))`` with the predicted class's mean and
    covariance (the same relative ridge as LSA).

Each is an estimator (``fit(train_ats, train_labels)`` then ``score(ats, pred)``) with a
one-call function beside it (:func:`dsa`, :func:`lsa`, :func:`mahalanobis`).

Examples
--------
>>> import numpy as np
>>> train = np.array([[0.0], [1.0], [5.0]]); labels = np.array([0, 0, 1])
>>> dsa(train, labels, np.array([[0.2]]), np.array([0]))
array([0.04])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.data import check_labels
from mnistlab.errors import MnistlabError

__all__ = [
    "DSA",
    "LSA",
    "SURPRISE",
    "MahalanobisSA",
    "as_traces",
    "dsa",
    "lsa",
    "mahalanobis",
    "stable_cholesky",
]

_CHUNK = 2048


def as_traces(ats: ArrayLike, name: str = "ats") -> NDArray[np.float64]:
    """Activation traces as ``float64 (N, D)``; spatial axes of ``(N, C, H, W)`` are averaged."""
    a = np.asarray(ats, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    elif a.ndim > 2:
        a = a.reshape(a.shape[0], a.shape[1], -1).mean(axis=2)
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise MnistlabError(f"{name}: empty activation traces, shape {a.shape}")
    if not np.isfinite(a).all():
        raise MnistlabError(f"{name}: contains NaN or infinite values")
    return a


def stable_cholesky(cov: NDArray[np.float64], ridge: float = 1e-5) -> NDArray[np.float64]:
    """Lower Cholesky factor of ``cov + eps I``, with eps grown until it factorises.

    ``eps`` starts at ``ridge`` times the mean variance (or ``ridge`` itself when every
    variance is 0), so constant neurons and collinear neurons are handled.
    """
    d = cov.shape[0]
    scale = float(np.trace(cov)) / d if d else 0.0
    eps = ridge * (scale if scale > 0 else 1.0)
    for _ in range(12):
        try:
            return np.asarray(np.linalg.cholesky(cov + eps * np.eye(d)), dtype=np.float64)
        except np.linalg.LinAlgError:
            eps *= 10.0
    raise MnistlabError("activation covariance could not be stabilised (non-finite values?)")


def _check_classes(pred: NDArray[np.int64], classes: NDArray[np.int64]) -> None:
    missing = np.setdiff1d(np.unique(pred), classes)
    if missing.size:
        raise MnistlabError(
            f"pred: class {int(missing[0])} has no training activation traces "
            f"(fitted classes: {classes.tolist()})"
        )


@dataclass
class DSA:
    """Distance-based surprise adequacy; see the module docstring."""

    _train: NDArray[np.float64] | None = field(default=None, repr=False)
    _labels: NDArray[np.int64] | None = field(default=None, repr=False)
    classes_: NDArray[np.int64] | None = None

    def fit(self, train_ats: ArrayLike, train_labels: ArrayLike) -> DSA:
        self._train = as_traces(train_ats, "train_ats")
        self._labels = check_labels(train_labels, self._train.shape[0], "train_labels")
        self.classes_ = np.unique(self._labels)
        if self.classes_.size < 2:
            raise MnistlabError("train_labels: DSA needs training traces of at least 2 classes")
        return self

    def score(self, ats: ArrayLike, pred: ArrayLike) -> NDArray[np.float64]:
        from sklearn.neighbors import NearestNeighbors

        if self._train is None or self._labels is None or self.classes_ is None:
            raise MnistlabError("DSA: call fit() before score()")
        a = as_traces(ats)
        if a.shape[1] != self._train.shape[1]:
            raise MnistlabError(f"ats: {a.shape[1]} neurons, fitted on {self._train.shape[1]}")
        yhat = check_labels(pred, a.shape[0], "pred")
        _check_classes(yhat, self.classes_)
        out = np.empty(a.shape[0], dtype=np.float64)
        for c in np.unique(yhat):
            rows = np.flatnonzero(yhat == c)
            same = self._train[self._labels == c]
            other = self._train[self._labels != c]
            dist_a, idx_a = NearestNeighbors(n_neighbors=1).fit(same).kneighbors(a[rows])
            ref = same[idx_a[:, 0]]
            dist_b, _ = NearestNeighbors(n_neighbors=1).fit(other).kneighbors(ref)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = dist_a[:, 0] / dist_b[:, 0]
            # 0/0 (an exact duplicate across classes) is "no surprise"
            out[rows] = np.where(np.isnan(ratio), 0.0, ratio)
        return out


@dataclass
class _ClassGaussian:
    neurons: NDArray[np.int64]
    mean: NDArray[np.float64]
    chol: NDArray[np.float64]
    points: NDArray[np.float64]  # whitened training traces (KDE) or empty (Mahalanobis)
    log_norm: float


@dataclass
class LSA:
    """Likelihood-based surprise adequacy (per-class Gaussian KDE); see the module docstring.

    Parameters
    ----------
    n_neurons : int or None
        Keep each class's ``n_neurons`` highest-variance neurons (None: all that pass
        ``var_threshold``).
    var_threshold : float
        Neurons whose variance within the class is at most this are dropped (when at least one
        neuron passes; otherwise the highest-variance ones are kept and the ridge copes).
    ridge : float
        Relative ridge added to the kernel covariance (``ridge * mean variance``); 0 gives
        exactly :class:`scipy.stats.gaussian_kde`'s density.
    """

    n_neurons: int | None = 20
    var_threshold: float = 1e-5
    ridge: float = 1e-5
    models_: dict[int, _ClassGaussian] = field(default_factory=dict, repr=False)
    dim_: int = 0

    def fit(self, train_ats: ArrayLike, train_labels: ArrayLike) -> LSA:
        if self.n_neurons is not None and self.n_neurons < 1:
            raise MnistlabError(f"n_neurons: must be >= 1 or None, got {self.n_neurons}")
        x = as_traces(train_ats, "train_ats")
        y = check_labels(train_labels, x.shape[0], "train_labels")
        self.dim_ = x.shape[1]
        self.models_ = {}
        for c in np.unique(y):
            xc = x[y == c]
            neurons = _select_neurons(xc, self.n_neurons, self.var_threshold)
            pts = xc[:, neurons]
            n, d = pts.shape
            cov = np.cov(pts, rowvar=False).reshape(d, d) if n > 1 else np.zeros((d, d))
            factor = n ** (-1.0 / (d + 4))  # Scott's rule, as scipy.stats.gaussian_kde
            chol = stable_cholesky(cov * factor**2, self.ridge)
            white = _whiten(pts, chol)
            log_det = 2.0 * np.log(np.diag(chol)).sum()
            log_norm = -np.log(n) - 0.5 * (d * np.log(2 * np.pi) + log_det)
            self.models_[int(c)] = _ClassGaussian(neurons, pts.mean(axis=0), chol, white, log_norm)
        return self

    def score(self, ats: ArrayLike, pred: ArrayLike) -> NDArray[np.float64]:
        from scipy.special import logsumexp

        a, by_class = _by_predicted_class(self.models_, self.dim_, ats, pred, "LSA")
        out = np.empty(a.shape[0], dtype=np.float64)
        for m, rows in by_class:
            sq_pts = np.einsum("ij,ij->i", m.points, m.points)
            for start in range(0, rows.size, _CHUNK):
                r = rows[start : start + _CHUNK]
                z = _whiten(a[np.ix_(r, m.neurons)], m.chol)
                d2 = np.einsum("ij,ij->i", z, z)[:, None] + sq_pts[None, :] - 2.0 * z @ m.points.T
                np.maximum(d2, 0.0, out=d2)
                out[r] = -(logsumexp(-0.5 * d2, axis=1) + m.log_norm)
        return out


@dataclass
class MahalanobisSA:
    """Per-class Mahalanobis distance (not squared) to the predicted class's mean.

    ``ridge`` is relative, as in :class:`LSA`; see the module docstring.
    """

    ridge: float = 1e-5
    models_: dict[int, _ClassGaussian] = field(default_factory=dict, repr=False)
    dim_: int = 0

    def fit(self, train_ats: ArrayLike, train_labels: ArrayLike) -> MahalanobisSA:
        x = as_traces(train_ats, "train_ats")
        y = check_labels(train_labels, x.shape[0], "train_labels")
        self.dim_ = x.shape[1]
        all_neurons = np.arange(x.shape[1])
        self.models_ = {}
        for c in np.unique(y):
            xc = x[y == c]
            d = xc.shape[1]
            cov = np.cov(xc, rowvar=False).reshape(d, d) if xc.shape[0] > 1 else np.zeros((d, d))
            chol = stable_cholesky(cov, self.ridge)
            self.models_[int(c)] = _ClassGaussian(
                all_neurons, xc.mean(axis=0), chol, np.empty((0, d)), 0.0
            )
        return self

    def score(self, ats: ArrayLike, pred: ArrayLike) -> NDArray[np.float64]:
        a, by_class = _by_predicted_class(self.models_, self.dim_, ats, pred, "MahalanobisSA")
        out = np.empty(a.shape[0], dtype=np.float64)
        for m, rows in by_class:
            z = _whiten(a[rows] - m.mean, m.chol)
            out[rows] = np.sqrt(np.einsum("ij,ij->i", z, z))
        return out


def _by_predicted_class(
    models: dict[int, _ClassGaussian], dim: int, ats: ArrayLike, pred: ArrayLike, name: str
) -> tuple[NDArray[np.float64], list[tuple[_ClassGaussian, NDArray[np.intp]]]]:
    """The checked traces, and the fitted model and rows of each predicted class."""
    if not models:
        raise MnistlabError(f"{name}: call fit() before score()")
    a = as_traces(ats)
    if a.shape[1] != dim:
        raise MnistlabError(f"ats: {a.shape[1]} neurons, fitted on {dim}")
    yhat = check_labels(pred, a.shape[0], "pred")
    _check_classes(yhat, np.array(sorted(models), dtype=np.int64))
    return a, [(models[int(c)], np.flatnonzero(yhat == c)) for c in np.unique(yhat)]


def _select_neurons(
    x: NDArray[np.float64], n_neurons: int | None, var_threshold: float
) -> NDArray[np.int64]:
    var = x.var(axis=0)
    order = np.argsort(-var, kind="stable")
    passing = order[var[order] > var_threshold]
    # With no neuron above the threshold keep the top ones anyway: the ridge makes them usable.
    chosen = passing if passing.size else order
    if n_neurons is not None:
        chosen = chosen[:n_neurons]
    return np.sort(chosen).astype(np.int64)


def _whiten(x: NDArray[np.float64], chol: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.linalg import solve_triangular

    return np.asarray(solve_triangular(chol, x.T, lower=True).T)


def dsa(
    train_ats: ArrayLike, train_labels: ArrayLike, ats: ArrayLike, pred: ArrayLike
) -> NDArray[np.float64]:
    """Distance-based surprise adequacy of ``ats`` (predicted classes ``pred``); ``[0, inf)``."""
    return DSA().fit(train_ats, train_labels).score(ats, pred)


def lsa(
    train_ats: ArrayLike,
    train_labels: ArrayLike,
    ats: ArrayLike,
    pred: ArrayLike,
    n_neurons: int | None = 20,
    var_threshold: float = 1e-5,
    ridge: float = 1e-5,
) -> NDArray[np.float64]:
    """Likelihood-based surprise adequacy (``-log`` per-class KDE density); real-valued.

    ``ridge=0`` reproduces :class:`scipy.stats.gaussian_kde` exactly; the default ``1e-5``
    keeps singular covariances usable.

    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(200, 2)); labels = np.zeros(200, dtype=int)
    >>> s = lsa(train, labels, np.array([[0.0, 0.0], [4.0, 4.0]]), np.array([0, 0]))
    >>> bool(s[1] > s[0])
    True
    """
    est = LSA(n_neurons=n_neurons, var_threshold=var_threshold, ridge=ridge)
    return est.fit(train_ats, train_labels).score(ats, pred)


def mahalanobis(
    train_ats: ArrayLike,
    train_labels: ArrayLike,
    ats: ArrayLike,
    pred: ArrayLike,
    ridge: float = 1e-5,
) -> NDArray[np.float64]:
    """Per-class Mahalanobis distance (the square root of the quadratic form); ``[0, inf)``.

    >>> train = np.array([[0.0], [2.0], [10.0], [12.0]]); labels = np.array([0, 0, 1, 1])
    >>> mahalanobis(train, labels, np.array([[3.0]]), np.array([0]), ridge=0.0)
    array([1.41421356])
    """
    return MahalanobisSA(ridge=ridge).fit(train_ats, train_labels).score(ats, pred)


#: Surprise-adequacy estimators by name.
SURPRISE: dict[str, type[DSA] | type[LSA] | type[MahalanobisSA]] = {
    "dsa": DSA,
    "lsa": LSA,
    "mahalanobis": MahalanobisSA,
}
