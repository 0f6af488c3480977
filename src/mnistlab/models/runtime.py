"""Where a PyTorch model's predictions run: onnxruntime (default) or PyTorch itself.

:class:`OrtRunner` exports the network to ONNX in memory (no file) the first time it
predicts and keeps the onnxruntime session until the weights change (a parameter or
buffer is modified in place, or replaced). On the CPU onnxruntime runs the default CNN at
1.7-2.9x PyTorch float32 (measured side by side by ``benchmarks/bench_models.py``); its
logits differ from PyTorch's by about 1e-7 (the same predicted class for every image of the
Fashion-MNIST test split and its 126 corrupted variants), and they are bit-identical
whatever the batch size and the number of threads, so the outputs do not depend on the
machine's load or cores. PyTorch in bfloat16 is faster than float32 too but changes 0.1-0.5 %
of the predicted classes: it is not used for predictions.

``TorchModel(runtime=...)``: ``"auto"`` (onnxruntime when it is installed, PyTorch
otherwise), ``"onnx"`` or ``"torch"``. Hooks on the network's modules (:func:`features`,
:func:`activations`, MC dropout) always run through PyTorch.

Examples
--------
>>> RUNTIMES
('auto', 'onnx', 'torch')
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    from mnistlab.models.cnn import TorchModel

__all__ = ["RUNTIMES", "OrtRunner", "check_runtime", "resolve_runtime"]

RUNTIMES = ("auto", "onnx", "torch")
#: Images per onnxruntime call: large enough to amortise the call, small enough for the cache.
ORT_BATCH = 1000


def check_runtime(runtime: str) -> str:
    """Return ``runtime`` if it is one of :data:`RUNTIMES`, else raise naming the choices."""
    if runtime not in RUNTIMES:
        raise MnistlabError(f"unknown runtime {runtime!r} (choose from: {', '.join(RUNTIMES)})")
    return runtime


def resolve_runtime(runtime: str) -> str:
    """``"onnx"`` or ``"torch"``: what ``runtime`` means on this installation.

    Examples
    --------
    >>> resolve_runtime("torch")
    'torch'
    """
    if check_runtime(runtime) != "auto":
        return runtime
    return "onnx" if importlib.util.find_spec("onnxruntime") is not None else "torch"


def _weights_key(net: Any) -> tuple[tuple[int, int], ...]:
    """Identity and in-place version of every parameter and buffer (changes when they do)."""
    tensors = [*net.parameters(), *net.buffers()]
    return tuple((t.data_ptr(), t._version) for t in tensors)


class OrtRunner:
    """An onnxruntime session of one PyTorch network, exported in memory and cached."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        self._key: tuple[tuple[int, int], ...] | None = None
        self._session: Any = None
        self._input = "images"
        #: How many times the network was exported (tests check the cache).
        self.exports = 0

    def session(self, model: TorchModel) -> Any:
        """The session of ``model``'s current weights (exported again when they changed)."""
        import onnxruntime as ort

        from mnistlab.models._threads import ort_session_options
        from mnistlab.models.onnx import onnx_bytes

        key = _weights_key(model.net)
        if self._session is None or key != self._key:
            self._session = ort.InferenceSession(
                onnx_bytes(model),
                ort_session_options(self.threads),
                providers=["CPUExecutionProvider"],
            )
            self._input = self._session.get_inputs()[0].name
            self._key = key
            self.exports += 1
        return self._session

    def logits(self, model: TorchModel, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Logits ``float32 (N, C)`` of validated ``uint8 (N, H, W)`` images."""
        session = self.session(model)
        out = np.empty((len(images), model.num_classes), np.float32)
        for start, batch in _batches(images, ORT_BATCH):
            x = np.multiply(batch, np.float32(1 / 255), dtype=np.float32)[:, None]
            out[start : start + len(batch)] = session.run(None, {self._input: x})[0]
        return out

    def __getstate__(self) -> dict[str, Any]:
        # Sessions do not pickle: a copy sent to a worker process exports again there.
        return {
            "threads": self.threads,
            "_key": None,
            "_session": None,
            "_input": "images",
            "exports": 0,
        }


def _batches(images: NDArray[np.uint8], size: int) -> Iterator[tuple[int, NDArray[np.uint8]]]:
    for start in range(0, len(images), size):
        yield start, images[start : start + size]
