"""What the model modules share: choice checks, training-data checks, trainer registration."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.models.base import Model, ModelSpec, default_class_names, register_model


def check_choice(value: Any, choices: Iterable[str], what: str, where: str = "") -> None:
    """Raise unless ``value`` is one of ``choices``.

    Parameters
    ----------
    value : object
        The value given.
    choices : iterable of str
        The values allowed, in the order the message lists them.
    what : str
        What the value is (``"architecture"``), for the message.
    where : str
        Put after the value in the message (``" for logits.npy"``).

    Raises
    ------
    MnistlabError
        ``unknown {what} {value!r}{where} (choose from: a, b)``.
    """
    options = list(choices)
    if value not in options:
        raise MnistlabError(f"unknown {what} {value!r}{where} (choose from: {', '.join(options)})")


def training_data(
    images: Any, labels: Any, class_names: Any, *, square: bool = False
) -> tuple[NDArray[np.uint8], NDArray[np.int64], tuple[str, ...]]:
    """The training images and ``int64`` labels as arrays, checked, and the class names.

    Parameters
    ----------
    images, labels : array-like
        ``uint8 (N, H, W)`` images (``square``: with ``H == W``) and one label per image.
    class_names : sequence of str or None
        None: ``"0".."K-1"`` from the labels.

    Returns
    -------
    images, labels : numpy.ndarray
    class_names : tuple of str

    Raises
    ------
    MnistlabError
        When the images are not ``uint8 (N, H, W)`` or the labels not of shape ``(N,)``.
    """
    x = np.asarray(images)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim != 3 or (square and x.shape[1] != x.shape[2]) or x.dtype != np.uint8:
        shape = "(N, S, S)" if square else "(N, H, W)"
        raise MnistlabError(f"training images must be uint8 {shape}, got {x.dtype} {x.shape}")
    if y.shape != (len(x),):
        raise MnistlabError(f"labels must have shape ({len(x)},), got {y.shape}")
    return x, y, default_class_names(y, class_names)


def accuracy_on(model: Model, data: tuple[Any, Any]) -> float:
    """The accuracy of ``model`` on held-out data.

    Parameters
    ----------
    model : Model
        A trained model.
    data : (images, labels)
        The held-out images and their labels.

    Returns
    -------
    float
        The fraction of images whose predicted class is their label.
    """
    return float(np.mean(model.predict(data[0]) == np.asarray(data[1])))


def register_trainers(
    kind: str, train: Callable[..., Model], descriptions: Mapping[str, str]
) -> None:
    """Register one trainable model per entry of ``descriptions``.

    Parameters
    ----------
    kind : str
        The kind of model (``"torch"``, ``"sklearn"``).
    train : callable
        ``train(images, labels, name, **options) -> Model``.
    descriptions : mapping
        Model name -> its one-line description, in registration order.
    """
    for name, description in descriptions.items():
        register_model(ModelSpec(name, kind, description, _trainer(train, name)))


def _trainer(train: Callable[..., Model], name: str) -> Callable[..., Model]:
    """``train`` with the model name ``name`` filled in (a :class:`ModelSpec`'s ``train``)."""

    def fit(images: Any, labels: Any, **kwargs: Any) -> Model:
        return train(images, labels, name, **kwargs)

    return fit
