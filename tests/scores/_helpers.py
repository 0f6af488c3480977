"""Active learning in seconds: a nearest-centroid trainer and the protocols run with it.

Shared by the protocol tests (``tests/scores/test_active.py``) and the driver's tests
(``tests/workflows/test_active.py``); ``data`` is the ``active_data`` fixture's tuple.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mnistlab.scores import active


class Centroids:
    """Softmax over minus the squared distance to each class's mean image."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        x = images.reshape(len(images), -1) / 255.0
        self.means = np.stack([x[labels == c].mean(0) for c in range(10)])

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        x = images.reshape(len(images), -1) / 255.0
        d = ((x[:, None, :] - self.means[None]) ** 2).sum(-1)
        z = np.exp(-(d - d.min(1, keepdims=True)))
        return z / z.sum(1, keepdims=True)


def centroid_trainer(images: np.ndarray, labels: np.ndarray, seed: int) -> Centroids:
    return Centroids(images, labels)


def one_shot(data: tuple[np.ndarray, ...], **kw: Any) -> pd.DataFrame:
    """:func:`active.one_shot` on ``data`` with the centroid trainer, without progress bars."""
    return active.one_shot(*data, **{"trainer": centroid_trainer, "progress": False, **kw})


def iterative(data: tuple[np.ndarray, ...], **kw: Any) -> pd.DataFrame:
    """:func:`active.iterative` on ``data`` with the centroid trainer, without progress bars."""
    return active.iterative(*data, **{"trainer": centroid_trainer, "progress": False, **kw})
