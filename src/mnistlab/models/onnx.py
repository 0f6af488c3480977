"""ONNX: export a PyTorch model, and run any ONNX classifier with onnxruntime."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_path
from mnistlab.errors import MnistlabError
from mnistlab.models._common import check_choice
from mnistlab.models.base import Model

__all__ = ["LAYOUTS", "OnnxModel", "export_onnx", "onnx_bytes"]

#: How uint8 images ``(N, H, W)`` are arranged for the network's input.
LAYOUTS = ("NCHW", "NHWC", "NHW", "flat")
OUTPUTS = ("auto", "logits", "proba")


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
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated, but the dynamo one needs onnxscript.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net,
            (dummy,),
            buffer,  # type: ignore[arg-type]  # a file-like object works too
            input_names=["images"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    return buffer.getvalue()


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


class OnnxModel(Model):
    """An ONNX classifier run with onnxruntime (kind ``"onnx"``).

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file.
    layout : {"NCHW", "NHWC", "NHW", "flat"}
        How the network wants the images: ``(N, 1, H, W)``, ``(N, H, W, 1)``, ``(N, H, W)`` or
        ``(N, H*W)``.
    scale : float
        Pixels are fed as ``uint8 * scale`` in float32 (1/255: the 0..1 scale; 1: raw 0..255).
    output : {"auto", "logits", "proba"}
        What the first output holds. ``auto`` treats rows of non-negative numbers that sum to 1
        as probabilities (their log becomes the logits).
    class_names : sequence of str, optional
        Default ``"0".."C-1"``.
    """

    kind = "onnx"

    def __init__(
        self,
        path: str | os.PathLike[str],
        layout: str = "NCHW",
        scale: float = 1 / 255,
        output: str = "auto",
        class_names: tuple[str, ...] | list[str] | None = None,
        name: str | None = None,
    ):
        import onnxruntime as ort

        self.path = Path(path)
        check_choice(layout, LAYOUTS, "ONNX input layout")
        check_choice(output, OUTPUTS, "ONNX output kind")
        if not self.path.is_file():
            raise MnistlabError(f"{self.path}: no such ONNX file")
        try:
            from mnistlab.models._threads import ort_session_options

            options = ort_session_options()
            self.session = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise MnistlabError(
                f"{self.path}: not a valid ONNX model ({str(exc).splitlines()[0]})"
            ) from None
        self.layout = layout
        self.scale = float(scale)
        self.output = output
        self.input_name = self.session.get_inputs()[0].name
        out_shape = self.session.get_outputs()[0].shape
        n_classes = out_shape[-1] if out_shape and isinstance(out_shape[-1], int) else None
        if class_names is None:
            class_names = [str(i) for i in range(n_classes or 0)]
        super().__init__(
            name or self.path.stem,
            class_names,
            {"architecture": "onnx", "path": str(self.path), "layout": layout, "scale": self.scale},
        )
        self.batch_size = 1000

    def _input(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        x = np.asarray(images, dtype=np.float32) * np.float32(self.scale)
        n = len(x)
        shapes: dict[str, Any] = {
            "NCHW": x[:, None],
            "NHWC": x[..., None],
            "NHW": x,
            "flat": x.reshape(n, -1),
        }
        return np.ascontiguousarray(shapes[self.layout])

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        x = np.asarray(images)
        if x.ndim != 3:
            raise MnistlabError(f"images must have shape (N, H, W), got {x.shape}")
        parts = []
        for start in range(0, len(x), self.batch_size):
            try:
                out = self.session.run(
                    None, {self.input_name: self._input(x[start : start + self.batch_size])}
                )[0]
            except Exception as exc:
                raise MnistlabError(
                    f"{self.path}: onnxruntime failed on input of layout {self.layout} "
                    f"({str(exc).splitlines()[0]})"
                ) from None
            out = np.asarray(out)
            if out.ndim < 1 or len(out) != len(x[start : start + self.batch_size]):
                raise MnistlabError(
                    f"{self.path}: the model's first output has shape {out.shape}, expected one "
                    f"row of scores per image"
                )
            if out.dtype == np.bool_ or not np.issubdtype(out.dtype, np.number):
                raise MnistlabError(f"{self.path}: the model outputs {out.dtype}, not scores")
            parts.append(out.astype(np.float32).reshape(len(out), -1))
        if not parts:
            return np.zeros((0, self.num_classes), np.float32)
        scores = np.concatenate(parts, axis=0)
        if not self.class_names:
            self.class_names = tuple(str(i) for i in range(scores.shape[1]))
        if scores.shape[1] != self.num_classes:
            raise MnistlabError(
                f"{self.path}: the model outputs {scores.shape[1]} scores, "
                f"expected {self.num_classes} classes"
            )
        finite = np.isfinite(scores)
        if not finite.all():
            row = int(np.argwhere(~finite)[0, 0])
            raise MnistlabError(
                f"{self.path}: the model outputs NaN or infinite scores (first bad row {row})"
            )
        if self.output == "proba" or (self.output == "auto" and _looks_like_proba(scores)):
            return np.log(np.clip(scores, 1e-7, 1.0)).astype(np.float32)
        return scores


def _looks_like_proba(scores: NDArray[np.floating]) -> bool:
    return bool(
        scores.size and scores.min() >= 0 and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)
    )
