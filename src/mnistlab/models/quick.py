"""The quick model: PCA (whitened) then multinomial logistic regression on pixels in [0, 1].

Seconds on 10,000 images, and good enough where only a ranking of the probabilities is
needed: the out-of-sample probabilities of confident learning (:func:`cross_val_probs`,
for :func:`mnistlab.scores.label_issues.find_label_issues`) and the ``pca-logreg`` trainer
of active learning (:func:`fit_quick`). BLAS runs one thread: on a small shared machine
threaded BLAS makes these small fits about 50 times slower.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
>>> y = np.arange(60) % 3
>>> fit_quick(x, y, seed=0).predict_proba(x[:2]).shape
(2, 3)
>>> cross_val_probs(x, y, folds=3).shape
(60, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.errors import MnistlabError

__all__ = ["QuickModel", "cross_val_probs", "fit_quick"]


def _flat(images: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Images as rows of pixels scaled to [0, 1]."""
    return images.reshape(images.shape[0], -1).astype(np.float32) / 255.0


def _pipeline(n_samples: int, n_pixels: int, seed: int, pca: int | None, max_iter: int) -> Any:
    """PCA (when ``pca`` is below the pixel count) then logistic regression."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    steps: list[Any] = []
    if pca is not None and pca < n_pixels:
        steps.append(PCA(n_components=min(pca, n_samples - 1), whiten=True, random_state=seed))
    return make_pipeline(*steps, LogisticRegression(max_iter=max_iter))


class QuickModel:
    """A fitted quick model: ``predict_proba(images)`` over every class ``0..n_classes-1``."""

    def __init__(self, pipeline: Any, n_classes: int) -> None:
        self.pipeline = pipeline
        self.n_classes = n_classes

    def predict_proba(self, images: NDArray[np.uint8]) -> NDArray[np.float64]:
        """Class probabilities ``(N, n_classes)`` (0 for a class the fit never saw)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            p = self.pipeline.predict_proba(_flat(images))
        out = np.zeros((images.shape[0], self.n_classes))
        out[:, self.pipeline.classes_] = p
        return out


def fit_quick(
    images: NDArray[np.uint8],
    labels: NDArray[np.int64],
    seed: int = 0,
    pca: int | None = 50,
    max_iter: int = 200,
) -> QuickModel:
    """Fit the quick model on ``images`` and ``labels`` (the ``pca-logreg`` trainer)."""
    from threadpoolctl import threadpool_limits

    flat = _flat(images)
    pipe = _pipeline(flat.shape[0], flat.shape[1], seed, pca, max_iter)
    with threadpool_limits(1):
        pipe.fit(flat, labels)
    return QuickModel(pipe, int(np.max(labels)) + 1)


def cross_val_probs(
    images: NDArray[np.uint8],
    labels: ArrayLike,
    folds: int = 5,
    seed: int = 0,
    pca: int | None = 50,
    max_iter: int = 200,
) -> NDArray[np.float64]:
    """Cross-validated class probabilities ``(N, C)``: each fold predicted by a quick model
    fitted on the other folds (stratified, shuffled with ``seed``)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    x = np.asarray(images)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim < 2 or x.shape[0] != y.shape[0]:
        raise MnistlabError(
            f"images: expected (N, H, W) matching {y.shape[0]} labels, got {x.shape}"
        )
    if folds < 2:
        raise MnistlabError(f"folds: must be >= 2, got {folds}")
    counts = np.bincount(y)
    if counts[counts > 0].min() < folds:
        raise MnistlabError(f"folds: {folds} folds need at least {folds} samples of every class")
    flat = _flat(x)
    smallest_fit = flat.shape[0] - -(-flat.shape[0] // folds)  # PCA fits on the other folds
    model = _pipeline(smallest_fit, flat.shape[1], seed, pca, max_iter)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with threadpool_limits(1):
        probs = cross_val_predict(model, flat, y, cv=cv, method="predict_proba")
    # a class missing from some training fold would leave fewer columns; pad to all classes
    out = np.zeros((x.shape[0], int(y.max()) + 1), dtype=np.float64)
    out[:, : probs.shape[1]] = probs
    return out
