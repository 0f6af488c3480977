"""Models: a PyTorch CNN, the Weiss & Tonella CNN, scikit-learn baselines, ONNX and logits files.

Every model maps uint8 images ``(N, H, W)`` to float32 logits ``(N, C)``; prediction tables
(:func:`mnistlab.models.predict.predict_table`) are the input of every later stage.

Examples
--------
>>> from mnistlab import data, models
>>> train = data.load("fashion-mnist", "train")  # doctest: +SKIP
>>> test = data.load("fashion-mnist", "test")  # doctest: +SKIP
>>> cnn = models.train(train.images, train.labels, "cnn")  # doctest: +SKIP
>>> cnn.save("models/cnn")  # doctest: +SKIP
>>> models.load_model("models/cnn").predict_proba(test.images).shape  # doctest: +SKIP
(10000, 10)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.models.base import Model, ModelSpec, get_spec, load_model, model_names, softmax
from mnistlab.models.classic import CLASSIFIERS, SklearnModel
from mnistlab.models.cnn import (
    ARCHITECTURES,
    TorchModel,
    activations,
    features,
    layer_names,
    mc_dropout_logits,
)
from mnistlab.models.logits import LogitsFile
from mnistlab.models.onnx import OnnxModel, export_onnx
from mnistlab.models.wrap import wrap

__all__ = [
    "ARCHITECTURES",
    "CLASSIFIERS",
    "LogitsFile",
    "Model",
    "ModelSpec",
    "OnnxModel",
    "SklearnModel",
    "TorchModel",
    "activations",
    "export_onnx",
    "features",
    "get_spec",
    "layer_names",
    "load_model",
    "mc_dropout_logits",
    "model_names",
    "softmax",
    "train",
    "wrap",
]


def train(
    images: NDArray[np.uint8],
    labels: NDArray[np.int64],
    model: str = "cnn",
    *,
    class_names: tuple[str, ...] | list[str] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool = True,
    val: tuple[NDArray[np.uint8], NDArray[np.int64]] | None = None,
    **options: Any,
) -> Model:
    """Train a registered model (``"cnn"``, ``"tip-cnn"``, ``"logreg"``, ``"rf"``, ``"knn"``,
    ``"mlp"``, ``"svc"``, ``"gb"``; see :func:`model_names`).

    Parameters
    ----------
    images, labels : numpy.ndarray
        Training images ``uint8 (N, H, W)`` and labels ``int64 (N,)``.
    model : str
        Registered model name.
    class_names : sequence of str, optional
        Names of the classes (stored with the model).
    epochs : int, optional
        Training epochs (PyTorch) or iteration cap (iterative scikit-learn models).
    seed : int
        Seeds weights, data order, augmentation and randomised estimators.
    progress : bool
        Show a progress bar.
    val : (images, labels), optional
        Held-out data scored after training; stored as ``manifest["accuracy"]``.

    Returns
    -------
    Model
    """
    from mnistlab._validate import check_seed

    check_seed(seed)
    spec = get_spec(model)
    return spec.train(
        images,
        labels,
        class_names=class_names,
        epochs=epochs,
        seed=int(seed),
        progress=progress,
        val=val,
        **options,
    )
