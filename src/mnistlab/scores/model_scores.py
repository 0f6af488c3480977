"""Scores that need the model itself, not only its probabilities (via :mod:`mnistlab.models`).

* :func:`mc_dropout_variation_ratio`: T stochastic passes with dropout on, then
  :func:`~mnistlab.scores.uncertainty.variation_ratio`;
* :func:`ensemble_disagreement_of`: K saved models, then
  :func:`~mnistlab.scores.uncertainty.ensemble_disagreement`;
* :func:`surprise_scores`: activation traces of one layer (:func:`activation_traces`), then
  DSA / LSA / Mahalanobis (:mod:`mnistlab.scores.surprise`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.scores.surprise import SURPRISE
from mnistlab.scores.uncertainty import ensemble_disagreement, variation_ratio

__all__ = [
    "activation_traces",
    "ensemble_disagreement_of",
    "mc_dropout_variation_ratio",
    "surprise_scores",
]


def mc_dropout_variation_ratio(
    model: Any, images: NDArray[np.uint8], passes: int = 50, seed: int = 0
) -> NDArray[np.float64]:
    """Variation ratio over ``passes`` MC-dropout passes of a PyTorch model; ``[0, 1)``."""
    from mnistlab.models import mc_dropout_logits

    return variation_ratio(mc_dropout_logits(model, images, passes=passes, seed=seed))


def ensemble_disagreement_of(
    models: Sequence[Any | str | os.PathLike[str]], images: NDArray[np.uint8]
) -> NDArray[np.float64]:
    """Disagreement of K models (objects or saved model folders) on ``images``; ``[0, 1)``."""
    from mnistlab.models import load_model

    if len(models) < 2:
        raise MnistlabError(f"models: an ensemble needs at least 2 models, got {len(models)}")
    loaded = [load_model(m) if isinstance(m, (str, os.PathLike)) else m for m in models]
    return ensemble_disagreement(np.stack([m.predict_proba(images) for m in loaded]))


def activation_traces(
    model: Any, images: NDArray[np.uint8], layer: str | None = None
) -> NDArray[np.float32]:
    """Activation traces ``(N, D)`` of ``images`` at ``layer`` for surprise adequacy.

    ``layer`` None: the penultimate features (the input of the last linear layer). A
    convolutional layer's feature maps ``(N, C, H, W)`` are averaged over ``H, W``, so its
    trace has one value per channel, ``D = C`` (the convention of Kim, Feldt & Yoo 2019);
    a dense layer's trace is its output vector.

    Examples
    --------
    >>> activation_traces(cnn, images, "conv1").shape  # doctest: +SKIP
    (100, 32)
    """
    from mnistlab.models import activations, features

    if layer is None:
        return features(model, images)
    return activations(model, images, layer, spatial_mean=True)


def surprise_scores(
    model: Any,
    train_images: NDArray[np.uint8],
    train_labels: NDArray[np.int64],
    images: NDArray[np.uint8],
    layer: str | None = None,
    kinds: Sequence[str] = ("dsa", "lsa", "mahalanobis"),
) -> dict[str, NDArray[np.float64]]:
    """Surprise adequacy of ``images`` against ``train_images`` at ``layer``.

    The traces are those of :func:`activation_traces` (``layer`` None: the penultimate
    features; a convolutional layer: each channel averaged over space). The predicted class
    of each image (the model's argmax) picks the reference class.
    """
    for k in kinds:
        if k not in SURPRISE:
            raise MnistlabError(f"kinds: unknown surprise {k!r} (known: {', '.join(SURPRISE)})")

    train_ats = activation_traces(model, train_images, layer)
    ats = activation_traces(model, images, layer)
    pred = np.asarray(model.predict(images), dtype=np.int64)
    return {k: SURPRISE[k]().fit(train_ats, train_labels).score(ats, pred) for k in kinds}
