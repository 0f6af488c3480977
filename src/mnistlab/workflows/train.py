"""Training a registered model on a dataset's train split, scored on its test split.

:func:`train_options` checks the options that only some model kinds take (before any data
is read); :func:`train_on_dataset` loads the splits and trains.

Examples
--------
>>> train_options("logreg")
{}
>>> train_options("logreg", precision="bf16")
Traceback (most recent call last):
...
mnistlab.errors.MnistlabError: --precision applies to PyTorch models only, not 'logreg'
"""

from __future__ import annotations

import os
from typing import Any

from mnistlab.errors import MnistlabError

__all__ = ["fit_dataset", "train_on_dataset", "train_options"]


def train_options(
    model: str,
    *,
    precision: str = "auto",
    augment: str | None = None,
    augment_p: float = 0.5,
    augment_workers: int = 0,
    latent_dim: int | None = None,
) -> dict[str, Any]:
    """The keyword options of :func:`mnistlab.models.train` for ``model``, checked.

    Parameters
    ----------
    model : str
        A registered model name (unknown names raise).
    precision : str
        ``auto``, ``bf16`` or ``fp32``; anything but ``auto`` needs a PyTorch model.
    augment : str or None
        Corruption names or families trained on on the fly (PyTorch models only).
    augment_p, augment_workers : float, int
        Probability that a training image is corrupted, DataLoader workers; ``augment_p``
        other than 0.5 needs ``augment``.
    latent_dim : int, optional
        Size of a code of a generative model (``vae``, ``gan``; their default 64).

    Returns
    -------
    dict
        ``precision`` (PyTorch models) and ``corruption_augment`` (with ``augment``).

    Examples
    --------
    >>> train_options("cnn", precision="fp32")
    {'precision': 'fp32'}
    """
    from mnistlab.models import get_spec
    from mnistlab.models.cnn import check_precision

    spec = get_spec(model)
    check_precision(precision)
    if spec.kind != "torch" and precision != "auto":
        raise MnistlabError(f"--precision applies to PyTorch models only, not {model!r}")
    options: dict[str, Any] = {"precision": precision} if spec.kind == "torch" else {}
    if augment is not None:
        from mnistlab.models.augment import CorruptionAugment

        if spec.kind != "torch":
            raise MnistlabError(f"--augment applies to PyTorch models only, not {model!r}")
        options["corruption_augment"] = CorruptionAugment.from_spec(
            augment, p=augment_p, num_workers=augment_workers
        )
    elif augment_p != 0.5:
        raise MnistlabError("--augment-p needs --augment (the corruptions to train on)")
    if latent_dim is not None:
        if spec.kind != "generative":
            raise MnistlabError(f"--latent-dim applies to generative models only, not {model!r}")
        options["latent_dim"] = latent_dim
    return options


def train_on_dataset(
    name: str,
    model: str,
    options: dict[str, Any],
    *,
    epochs: int | None = None,
    seed: int = 0,
    train_size: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    out: str | os.PathLike[str] | None = None,
    onnx: str | os.PathLike[str] | None = None,
) -> Any:
    """Train ``model`` on the train split of dataset ``name``, validated on its test split.

    Parameters
    ----------
    name : str
        Dataset name or folder of IDX files.
    model : str
        Registered model name.
    options : dict
        From :func:`train_options`.
    epochs, seed, train_size, data_dir, progress
        Epochs (default per model), seed, first N train images only, folder searched first,
        progress bar.
    out, onnx : path-like, optional
        Save the fitted model to the folder ``out``; export it (a PyTorch model) to the
        ONNX file ``onnx``.

    Returns
    -------
    mnistlab.models.base.Model
        The fitted model; its manifest records ``dataset``, ``accuracy`` (test split) and
        ``training_seconds``.

    Examples
    --------
    >>> fitted = train_on_dataset("fashion-mnist", "logreg", {}, train_size=500)  # doctest: +SKIP
    >>> 0 <= fitted.manifest["accuracy"] <= 1  # doctest: +SKIP
    True
    """
    from mnistlab.data import load

    train_ds = load(name, split="train", data_dir=data_dir)
    if train_size:
        train_ds = train_ds[:train_size]
    test_ds = load(name, split="test", data_dir=data_dir)
    fitted = fit_dataset(
        train_ds, model, test_ds, epochs=epochs, seed=seed, progress=progress, **options
    )
    fitted.manifest["dataset"] = str(name)
    if out is not None:
        fitted.save(out)
    if onnx is not None:
        from mnistlab.models import export_onnx

        export_onnx(fitted, onnx)
    return fitted


def fit_dataset(train_ds: Any, model: str, val: Any = None, **options: Any) -> Any:
    """:func:`mnistlab.models.train` ``model`` on a :class:`~mnistlab.data.Dataset`
    (its images, labels and class names), validated on the dataset ``val`` when given.

    ``options`` are :func:`~mnistlab.models.train`'s keywords (``epochs``, ``seed``,
    ``progress``, a model's options). Returns the fitted model.

    Examples
    --------
    >>> from mnistlab.data import load  # doctest: +SKIP
    >>> fit_dataset(load("fashion-mnist")[:500], "logreg", progress=False)  # doctest: +SKIP
    """
    from mnistlab.models import train

    held_out = None if val is None else (val.images, val.labels)
    return train(
        train_ds.images, train_ds.labels, model, class_names=train_ds.class_names, val=held_out,
        **options,
    )  # fmt: skip
