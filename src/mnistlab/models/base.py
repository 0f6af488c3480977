"""The Model interface shared by every kind of model, the model registry, save and load.

A saved model is a folder::

    MODEL_DIR/
      manifest.json   {"format_version", "name", "kind", "model", "class_names", "architecture",
                       "seed", "data_sha256", "accuracy", "training_seconds", ...}
      weights.pt      (kind "torch": the state dict)  or  model.joblib (kind "sklearn")
                      or  model.onnx (kind "onnx", with its sha256 and preprocessing)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError

__all__ = [
    "MANIFEST",
    "Model",
    "ModelSpec",
    "data_sha256",
    "get_spec",
    "load_model",
    "model_names",
    "register_model",
    "softmax",
]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def softmax(logits: NDArray[np.floating]) -> NDArray[np.float32]:
    """Row-wise softmax as float32 (:func:`mnistlab.scores.softmax`, the one definition,
    computed in float64)."""
    from mnistlab.scores.uncertainty import softmax as softmax64

    return softmax64(logits, axis=1).astype(np.float32)


def data_sha256(images: NDArray[Any], labels: NDArray[Any] | None = None) -> str:
    """sha256 of the training data (image bytes, then label bytes as int64)."""
    h = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    if labels is not None:
        h.update(np.ascontiguousarray(np.asarray(labels, dtype=np.int64)).tobytes())
    return h.hexdigest()


class Model:
    """A trained classifier: images in, logits out.

    Subclasses implement :meth:`predict_logits` (and :meth:`save` when they can be saved).

    Attributes
    ----------
    name : str
        Name of this model (``"cnn"``, a file stem, ...), used in prediction tables.
    kind : str
        ``"torch"``, ``"sklearn"``, ``"onnx"`` or ``"logits"``.
    class_names : tuple of str
        Name of each output class.
    manifest : dict
        Architecture, seed, data sha256, accuracy, training seconds (what is known).
    """

    kind: str = "base"

    def __init__(
        self, name: str, class_names: tuple[str, ...] | list[str], manifest: dict[str, Any]
    ):
        self.name = str(name)
        self.class_names = tuple(str(c) for c in class_names)
        self.manifest = dict(manifest)

    @property
    def num_classes(self) -> int:
        """Number of output classes."""
        return len(self.class_names)

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Logits, float32 of shape ``(N, C)``, for uint8 images ``(N, H, W)``."""
        raise NotImplementedError

    def predict_proba(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Class probabilities (softmax of the logits), float32 ``(N, C)``."""
        return softmax(self.predict_logits(images))

    def predict(self, images: NDArray[np.uint8]) -> NDArray[np.int64]:
        """Predicted class indices, int64 ``(N,)``."""
        return np.asarray(self.predict_logits(images).argmax(axis=1), dtype=np.int64)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the model into the folder ``path`` (atomically; an existing folder is replaced)."""
        raise MnistlabError(f"model {self.name!r} of kind {self.kind!r} cannot be saved")

    def _manifest_json(self) -> str:
        data = {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "kind": self.kind,
            "class_names": list(self.class_names),
            **self.manifest,
        }
        return json.dumps(data, indent=1, default=_jsonable) + "\n"

    def __repr__(self) -> str:
        acc = self.manifest.get("accuracy")
        extra = f", accuracy={acc:.4f}" if isinstance(acc, float) else ""
        return f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r}{extra})"


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, tuple)):
        return str(value) if isinstance(value, Path) else list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@dataclass(frozen=True)
class ModelSpec:
    """A trainable model: its name, kind, a one-line description and its training function.

    ``train(images, labels, class_names, epochs, seed, progress, val) -> Model``.
    """

    name: str
    kind: str
    description: str
    train: Callable[..., Model]


_SPECS: dict[str, ModelSpec] = {}
_LOADERS: dict[str, Callable[[Path, dict[str, Any]], Model]] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a trainable model to the registry."""
    if spec.name in _SPECS:
        raise ValueError(f"model {spec.name!r} is already registered")
    _SPECS[spec.name] = spec
    return spec


def register_loader(kind: str, loader: Callable[[Path, dict[str, Any]], Model]) -> None:
    """Register how a saved model of ``kind`` is loaded back: ``loader(folder, manifest)``."""
    _LOADERS[kind] = loader


def _load_all() -> None:
    # Importing the implementation modules registers their models and loaders.
    from mnistlab.models import classic, cnn, generative, onnx  # noqa: F401


def model_names(kind: str | None = None) -> list[str]:
    """Names of the trainable models (optionally only those of one kind)."""
    _load_all()
    return [s.name for s in _SPECS.values() if kind is None or s.kind == kind]


def get_spec(name: str) -> ModelSpec:
    """The registered model ``name``; an unknown name lists the valid ones."""
    _load_all()
    try:
        return _SPECS[name]
    except KeyError:
        raise MnistlabError(f"unknown model {name!r} (choose from: {', '.join(_SPECS)})") from None


def load_model(path: str | os.PathLike[str]) -> Model:
    """Load a model saved with :meth:`Model.save`.

    Examples
    --------
    >>> model = load_model("runs/demo/models/cnn")  # doctest: +SKIP
    >>> model.predict_logits(images).shape  # doctest: +SKIP
    (10000, 10)
    """
    _load_all()
    folder = Path(path)
    file = folder / MANIFEST
    if not file.is_file():
        raise MnistlabError(f"{folder}: not a saved mnistlab model (no {MANIFEST})")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MnistlabError(f"{file}: invalid JSON ({exc.msg})") from None
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind not in _LOADERS:
        raise MnistlabError(f"{file}: unknown model kind {kind!r} (known: {', '.join(_LOADERS)})")
    return _LOADERS[kind](folder, manifest)


def split_manifest(manifest: dict[str, Any]) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """(name, class_names, the rest) of a saved manifest."""
    rest = {
        k: v
        for k, v in manifest.items()
        if k not in ("format_version", "name", "kind", "class_names")
    }
    return str(manifest["name"]), tuple(manifest["class_names"]), rest


def default_class_names(labels: NDArray[np.integer], class_names: Any) -> tuple[str, ...]:
    """``class_names`` as a tuple, or ``"0".."K-1"`` from the labels."""
    if class_names is not None:
        return tuple(str(c) for c in class_names)
    return tuple(str(i) for i in range(int(np.max(labels)) + 1 if len(labels) else 0))
