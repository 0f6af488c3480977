"""ONNX: export a PyTorch model, run any ONNX classifier with onnxruntime, save and load it.

A saved ONNX model is a folder::

    MODEL_DIR/
      manifest.json   {"kind": "onnx", "file": "model.onnx", "sha256", "preprocess": {"scale",
                       "mean", "std", "layout"}, "output", "class_names", ...}
      model.onnx

:func:`mnistlab.models.load_model` checks the file against its sha256 and gives an
:class:`OnnxModel` with the recorded preprocessing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_dir, atomic_path
from mnistlab.errors import MnistlabError
from mnistlab.models._common import check_choice
from mnistlab.models.base import FORMAT_VERSION, MANIFEST, Model, register_loader, split_manifest
from mnistlab.models.wrap import (
    LAYOUTS,
    OUTPUTS,
    Preprocess,
    check_layout,
    check_scores,
    layout_from_shape,
    logits_from_scores,
    module_device_dtype,
)

__all__ = [
    "LAYOUTS",
    "ONNX_FILE",
    "OnnxModel",
    "export_onnx",
    "module_onnx_bytes",
    "onnx_bytes",
    "save_onnx_folder",
    "torch_onnx_bytes",
]

#: The ONNX file inside a saved model folder.
ONNX_FILE = "model.onnx"
# Float input types other than float32 that the images are cast to.
_INPUT_DTYPES = {"tensor(double)": np.float64, "tensor(float16)": np.float16}


def _export(net: Any, example: Any, opset: int, dynamo: bool) -> bytes:
    import torch

    buffer = io.BytesIO()
    names: dict[str, Any] = {
        "input_names": ["images"],
        "output_names": ["logits"],
        "opset_version": opset,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation of TorchScript, the exporter's notes
        if dynamo:
            batch = torch.export.Dim("batch")
            # The torch.export-based exporter prints its progress (and a conversion note).
            with contextlib.redirect_stdout(io.StringIO()):
                torch.onnx.export(
                    net,
                    (example,),
                    buffer,  # type: ignore[arg-type]  # a file-like object works too
                    dynamic_shapes=({0: batch},),
                    dynamo=True,
                    verbose=False,
                    **names,
                )
        else:
            torch.onnx.export(
                net,
                (example,),
                buffer,  # type: ignore[arg-type]
                dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
                dynamo=False,
                **names,
            )
    return buffer.getvalue()


def torch_onnx_bytes(net: Any, example: Any, opset: int = 17) -> tuple[bytes, str]:
    """The ONNX graph of ``net`` (input ``images`` like ``example``, batch dynamic).

    The TorchScript exporter (``dynamo=False``, no onnxscript needed) is tried first; when it
    fails, the ``torch.export``-based one (``dynamo=True``, which needs ``onnxscript``).

    Returns
    -------
    bytes, str
        The graph and the exporter that wrote it (``"torchscript"`` or ``"dynamo"``).

    Raises
    ------
    MnistlabError
        When neither exporter can export the network.

    Examples
    --------
    >>> import torch
    >>> data, exporter = torch_onnx_bytes(torch.nn.Linear(4, 2), torch.zeros(2, 4))
    >>> exporter, len(data) > 0
    ('torchscript', True)
    """
    import importlib.util

    try:
        return _export(net, example, opset, dynamo=False), "torchscript"
    except Exception as exc:  # the exporters raise many kinds of errors
        first = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if importlib.util.find_spec("onnxscript") is None:
        raise MnistlabError(
            f"cannot export the network to ONNX with the TorchScript exporter ({first}); "
            "pip install onnxscript for the torch.export-based one"
        )
    try:
        return _export(net, example, opset, dynamo=True), "dynamo"
    except Exception as exc:
        again = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise MnistlabError(
            f"cannot export the network to ONNX (TorchScript: {first}; torch.export: {again})"
        ) from None


def onnx_bytes(model: Model, opset: int = 17) -> bytes:
    """The ONNX graph of a PyTorch model as bytes (what :func:`export_onnx` writes).

    Input ``images`` float32 NCHW on 0..1 with a dynamic batch dimension, output ``logits``.
    """
    import torch

    from mnistlab.models.cnn import TorchModel

    if not isinstance(model, TorchModel):
        raise MnistlabError(
            f"model {model.name!r} is of kind {model.kind!r}; only PyTorch models export to ONNX"
        )
    net = model.net.eval()
    # The exporter traces a contiguous NCHW graph; the memory format is not part of ONNX.
    dummy = torch.zeros(2, 1, model.image_size, model.image_size)
    return torch_onnx_bytes(net, dummy, opset)[0]


def module_onnx_bytes(
    net: Any,
    preprocess: Preprocess,
    image_shape: tuple[int, int],
    *,
    where: str,
    check: tuple[NDArray[np.uint8], NDArray[np.float32]] | None = None,
    opset: int = 17,
) -> tuple[bytes, str]:
    """The ONNX graph of a ``torch.nn.Module`` that takes ``preprocess``'s input.

    Parameters
    ----------
    net : torch.nn.Module
    preprocess : Preprocess
        Its layout fixes the input's shape.
    image_shape : (int, int)
        ``(H, W)`` of the images.
    where : str
        Starts the error messages.
    check : (images, scores), optional
        uint8 images and PyTorch's scores of them: onnxruntime must give the same scores
        (within 1e-4 absolute plus 1e-4 relative).

    Returns
    -------
    bytes, str
        The graph and the exporter (:func:`torch_onnx_bytes`).

    Raises
    ------
    MnistlabError
        When the network does not export, or its export computes other scores.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(784, 2)
    >>> images = np.zeros((3, 28, 28), np.uint8)
    >>> scores = net(torch.zeros(3, 784)).detach().numpy()
    >>> data, _ = module_onnx_bytes(
    ...     net, Preprocess(layout="flat"), (28, 28), where="net", check=(images, scores)
    ... )
    >>> len(data) > 0
    True
    """
    import torch

    device, dtype = module_device_dtype(net)
    example = torch.zeros((2, *preprocess.input_shape(*image_shape)), device=device, dtype=dtype)
    was_training = bool(net.training)
    net.eval()
    try:
        data, exporter = torch_onnx_bytes(net, example, opset)
    finally:
        net.train(was_training)
    if check is not None:
        images, expected = check
        session = _session(data, where)
        x = preprocess.apply(images)
        got = check_scores(session.run(None, {session.get_inputs()[0].name: x})[0], len(x), where)
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-4, atol=1e-4):
            diff = np.abs(got - expected).max() if got.shape == expected.shape else got.shape
            raise MnistlabError(
                f"{where}: the ONNX export ({exporter}) computes other scores than PyTorch "
                f"(max difference {diff}): does forward() depend on the data?"
            )
    return data, exporter


def export_onnx(model: Model, path: str | os.PathLike[str], opset: int = 17) -> Path:
    """Export a PyTorch model to ONNX (input ``images`` float32 NCHW on 0..1, output ``logits``).

    The batch dimension is dynamic. The file is written atomically.

    Examples
    --------
    >>> export_onnx(model, "cnn.onnx")  # doctest: +SKIP
    >>> OnnxModel("cnn.onnx").predict_logits(images)  # doctest: +SKIP
    """
    data = onnx_bytes(model, opset)
    with atomic_path(path, suffix=".onnx") as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)


def _session(source: bytes | Path, where: str) -> Any:
    import onnxruntime as ort

    from mnistlab.models._threads import ort_session_options

    try:
        return ort.InferenceSession(
            source if isinstance(source, bytes) else str(source),
            ort_session_options(),
            providers=["CPUExecutionProvider"],
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise MnistlabError(
            f"{where}: not a valid ONNX model ({str(exc).splitlines()[0]})"
        ) from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class OnnxModel(Model):
    """An ONNX classifier run with onnxruntime (kind ``"onnx"``).

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file.
    layout : {"NCHW", "NHWC", "NHW", "flat"}, optional
        How the network wants the images: ``(N, 1, H, W)``, ``(N, H, W, 1)``, ``(N, H, W)`` or
        ``(N, H*W)`` (any case). Default: read from the file's input shape
        (:func:`~mnistlab.models.wrap.layout_from_shape`).
    scale : float
        Pixels are fed as ``(uint8 * scale - mean) / std`` in float32 (1/255: the 0..1 scale;
        1: raw 0..255); finite and above 0.
    output : {"auto", "logits", "proba"}
        What the first output holds. ``auto`` treats rows of non-negative numbers that sum to 1
        as probabilities (their log becomes the logits); ``proba`` refuses rows that do not.
    class_names : sequence of str, optional
        Default ``"0".."C-1"``.
    name : str, optional
        Default: the file's stem.
    mean, std : float
        See ``scale`` (``std`` finite and above 0); torchvision-style Fashion-MNIST models
        want 0.286 and 0.353.

    Raises
    ------
    MnistlabError
        A missing or invalid file, or a bad option (naming it).
    """

    kind = "onnx"

    def __init__(
        self,
        path: str | os.PathLike[str],
        layout: str | None = None,
        scale: float = 1 / 255,
        output: str = "auto",
        class_names: tuple[str, ...] | list[str] | None = None,
        name: str | None = None,
        *,
        mean: float = 0.0,
        std: float = 1.0,
    ):
        self.path = Path(path)
        if layout is not None:
            layout = check_layout(layout, "ONNX input layout")
        check_choice(output, OUTPUTS, "ONNX output kind")
        preprocess = Preprocess(scale, mean, std, layout or "NCHW")
        if not self.path.is_file():
            raise MnistlabError(f"{self.path}: no such ONNX file")
        self.session = _session(self.path, str(self.path))
        first = self.session.get_inputs()[0]
        self.input_name = first.name
        self._dtype = _INPUT_DTYPES.get(first.type, np.float32)
        if layout is None:
            preprocess = Preprocess(scale, mean, std, layout_from_shape(first.shape))
        self.preprocess = preprocess
        self.layout = preprocess.layout
        self.scale = preprocess.scale
        self.output = output
        out_shape = self.session.get_outputs()[0].shape
        n_classes = out_shape[-1] if out_shape and isinstance(out_shape[-1], int) else None
        if class_names is None:
            class_names = [str(i) for i in range(n_classes or 0)]
        super().__init__(
            name or self.path.stem,
            class_names,
            {
                "architecture": "onnx",
                "path": str(self.path),
                "sha256": _sha256(self.path),
                **preprocess.manifest(),
                "output": output,
            },
        )
        self.batch_size = 1000

    def _input(self, images: NDArray[np.uint8]) -> NDArray[Any]:
        x = self.preprocess.apply(images)
        return x if self._dtype is np.float32 else x.astype(self._dtype)

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        x = np.asarray(images)
        if x.ndim != 3:
            raise MnistlabError(f"images must have shape (N, H, W), got {x.shape}")
        where = str(self.path)
        parts = []
        for start in range(0, len(x), self.batch_size):
            batch = x[start : start + self.batch_size]
            try:
                out = self.session.run(None, {self.input_name: self._input(batch)})[0]
            except Exception as exc:
                raise MnistlabError(
                    f"{where}: onnxruntime failed on input of layout {self.layout} "
                    f"({str(exc).splitlines()[0]})"
                ) from None
            parts.append(check_scores(out, len(batch), where))
        if not parts:
            return np.zeros((0, self.num_classes), np.float32)
        scores = np.concatenate(parts, axis=0)
        if not self.class_names:
            self.class_names = tuple(str(i) for i in range(scores.shape[1]))
        if scores.shape[1] != self.num_classes:
            raise MnistlabError(
                f"{where}: the model outputs {scores.shape[1]} scores, "
                f"expected {self.num_classes} classes"
            )
        return logits_from_scores(scores, self.output, where)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save into the folder ``path``: a copy of the file, its sha256 and the preprocessing.

        :func:`mnistlab.models.load_model` reads it back.
        """
        extra = {k: v for k, v in self.manifest.items() if k not in _OWN_KEYS}
        extra["source_path"] = str(self.path)
        return save_onnx_folder(
            path,
            self.path.read_bytes(),
            self.name,
            self.class_names,
            self.preprocess,
            self.output,
            extra,
        )


# Keys of an OnnxModel's manifest that it computes itself (not carried over when saved).
_OWN_KEYS = {"architecture", "path", "sha256", "scale", "mean", "std", "layout", "output", "file"}


def save_onnx_folder(
    path: str | os.PathLike[str],
    data: bytes,
    name: str,
    class_names: tuple[str, ...] | list[str],
    preprocess: Preprocess,
    output: str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a saved ONNX model folder (see the module docstring) atomically.

    Parameters
    ----------
    path : path-like
        The folder (replaced when it exists).
    data : bytes
        The ONNX graph.
    name, class_names
        Of the model.
    preprocess : Preprocess
    output : {"auto", "logits", "proba"}
    extra : dict, optional
        More manifest entries (provenance).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, torch
    >>> from mnistlab.models import load_model
    >>> data, _ = torch_onnx_bytes(torch.nn.Linear(784, 2), torch.zeros(2, 784))
    >>> pre = Preprocess(layout="flat")
    >>> folder = save_onnx_folder(tempfile.mkdtemp() + "/m", data, "lin", ["a", "b"], pre, "logits")
    >>> back = load_model(folder)
    >>> back.kind, back.layout, back.class_names
    ('onnx', 'flat', ('a', 'b'))
    """
    from mnistlab.models.base import _jsonable

    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "kind": "onnx",
        "class_names": list(class_names),
        **(extra or {}),
        "architecture": "onnx",
        "file": ONNX_FILE,
        "sha256": hashlib.sha256(data).hexdigest(),
        "preprocess": preprocess.manifest(),
        "output": output,
    }
    with atomic_dir(path, "model") as tmp:
        (tmp / ONNX_FILE).write_bytes(data)
        text = json.dumps(manifest, indent=1, default=_jsonable) + "\n"
        (tmp / MANIFEST).write_text(text, encoding="utf-8")
    return Path(path)


def _load_onnx(folder: Path, manifest: dict[str, Any]) -> OnnxModel:
    name, class_names, rest = split_manifest(manifest)
    file = folder / str(rest.get("file", ONNX_FILE))
    if not file.is_file():
        raise MnistlabError(f"{file}: missing ONNX file")
    expected = rest.get("sha256")
    if expected is not None and _sha256(file) != expected:
        raise MnistlabError(
            f"{file}: sha256 differs from {folder / MANIFEST} (the file was changed or replaced)"
        )
    pre = rest.get("preprocess")
    if not isinstance(pre, dict):
        raise MnistlabError(f"{folder / MANIFEST}: no 'preprocess' entry")
    model = OnnxModel(
        file,
        layout=pre.get("layout"),
        scale=pre.get("scale", 1 / 255),
        output=str(rest.get("output", "auto")),
        class_names=list(class_names) or None,
        name=name,
        mean=pre.get("mean", 0.0),
        std=pre.get("std", 1.0),
    )
    model.manifest.update({k: v for k, v in rest.items() if k not in _OWN_KEYS | {"preprocess"}})
    return model


register_loader("onnx", _load_onnx)
