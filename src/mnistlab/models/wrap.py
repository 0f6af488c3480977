"""Your model first: :func:`wrap` turns any classifier into a :class:`~mnistlab.models.Model`.

Accepted: a PyTorch ``nn.Module``, a fitted scikit-learn estimator (``predict_proba`` or
``decision_function``), a Python callable ``images -> scores (N, C)``, an ``.onnx`` file, a
logits file (``.npy``, ``.csv``, ``.parquet``), a saved model folder or an existing
:class:`~mnistlab.models.Model`. Every entry point that takes a model
(:func:`mnistlab.models.predict.predict_table`, :func:`~mnistlab.models.predict.resolve_model`)
passes what it is given through :func:`wrap`.

The images of the data are ``uint8 (N, H, W)``; :class:`Preprocess` says how a network wants
them: ``x = (images * scale - mean) / std`` in float32, arranged as ``layout`` (``"NCHW"``
``(N, 1, H, W)``, ``"NHWC"`` ``(N, H, W, 1)``, ``"NHW"`` or ``"flat"`` ``(N, H*W)``).

What a model outputs becomes logits in one place (:func:`logits_from_scores`): rows of
non-negative numbers summing to 1 are probabilities (``output="auto"``), and their log (floored
at :data:`PROB_FLOOR`) is the logits; ``output="proba"`` insists on probabilities and refuses
rows that are not, ``output="logits"`` takes the numbers as they are.

Examples
--------
>>> import numpy as np
>>> def brightness(images):  # class 1 ("light") when the mean pixel is above 127.5
...     m = images.mean(axis=(1, 2))
...     return np.stack([127.5 - m, m - 127.5], axis=1)
>>> model = wrap(brightness)
>>> model.predict(np.stack([np.zeros((28, 28), np.uint8), np.full((28, 28), 200, np.uint8)]))
array([0, 1])
"""

from __future__ import annotations

import copy
import math
import numbers
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.models.base import Model

__all__ = [
    "ACCEPTED",
    "LAYOUTS",
    "OUTPUTS",
    "PROBA_ATOL",
    "PROB_FLOOR",
    "CallableModel",
    "ModuleModel",
    "Preprocess",
    "check_layout",
    "check_scores",
    "layout_from_shape",
    "logits_from_scores",
    "looks_like_proba",
    "module_device_dtype",
    "wrap",
]

#: How the images ``(N, H, W)`` are arranged for a network's input.
LAYOUTS = ("NCHW", "NHWC", "NHW", "flat")
#: What a model's output holds: ``auto`` (probabilities when the rows look like them).
OUTPUTS = ("auto", "logits", "proba")
#: The floor of probabilities before their log (a probability of 0 has no logit).
PROB_FLOOR = 1e-7
#: How far from 1 a row of probabilities may sum (float32 and 6-digit CSVs stay well within).
PROBA_ATOL = 1e-3
#: What :func:`wrap` accepts, for its error message.
ACCEPTED = (
    "a mnistlab Model, a torch.nn.Module, a fitted scikit-learn estimator with predict_proba or "
    "decision_function, a callable images -> scores (N, C), an .onnx file, a logits file "
    "(.npy, .csv, .parquet) or a saved model folder"
)
#: Images per call of a wrapped network or callable.
BATCH_SIZE = 1000


# --------------------------------------------------------------------------- preprocessing


def check_layout(layout: Any, what: str = "input layout") -> str:
    """The canonical spelling of ``layout`` (any case: ``"nchw"`` is ``"NCHW"``).

    Examples
    --------
    >>> check_layout("nhwc"), check_layout("FLAT")
    ('NHWC', 'flat')
    >>> check_layout("HWC")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: unknown input layout 'HWC' (choose from: NCHW, NHWC, NHW, flat)
    """
    canonical = {name.lower(): name for name in LAYOUTS}
    if not isinstance(layout, str) or layout.lower() not in canonical:
        raise MnistlabError(f"unknown {what} {layout!r} (choose from: {', '.join(LAYOUTS)})")
    return canonical[layout.lower()]


def _check_real(value: Any, what: str, *, positive: bool) -> float:
    """``value`` as a finite float (``positive``: above 0); bools and strings are refused."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    number = float(value) if ok else math.nan
    if not ok or not math.isfinite(number) or (positive and number <= 0):
        rule = "a finite number above 0" if positive else "a finite number"
        raise MnistlabError(f"{what} must be {rule}, got {value!r}")
    return number


@dataclass(frozen=True)
class Preprocess:
    """How uint8 images ``(N, H, W)`` become a network's float32 input.

    ``x = (images * scale - mean) / std``, arranged as ``layout``. The defaults (``scale``
    1/255, ``mean`` 0, ``std`` 1, ``"NCHW"``) give the 0..1 pixels the built-in CNNs take;
    torchvision-style Fashion-MNIST models trained behind ``Normalize(0.286, 0.353)`` want
    ``Preprocess(mean=0.286, std=0.353)``.

    Parameters
    ----------
    scale : float
        Finite and above 0 (1/255: the 0..1 scale; 1: raw 0..255).
    mean, std : float
        Subtracted from, then divided into, the scaled pixels (``std`` finite and above 0).
    layout : {"NCHW", "NHWC", "NHW", "flat"}
        Any case.

    Raises
    ------
    MnistlabError
        One line naming the bad parameter.

    Examples
    --------
    >>> p = Preprocess(mean=0.5, std=0.5, layout="flat")
    >>> p.apply(np.array([[[0, 255]]], np.uint8)).tolist()
    [[-1.0, 1.0]]
    >>> Preprocess(scale=float("inf"))
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: scale must be a finite number above 0, got inf
    """

    scale: float = 1 / 255
    mean: float = 0.0
    std: float = 1.0
    layout: str = "NCHW"

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _check_real(self.scale, "scale", positive=True))
        object.__setattr__(self, "mean", _check_real(self.mean, "mean", positive=False))
        object.__setattr__(self, "std", _check_real(self.std, "std", positive=True))
        object.__setattr__(self, "layout", check_layout(self.layout))

    def with_options(
        self,
        scale: float | None = None,
        mean: float | None = None,
        std: float | None = None,
        layout: str | None = None,
    ) -> Preprocess:
        """This preprocessing with the options that are not None replaced (and checked).

        Examples
        --------
        >>> Preprocess().with_options(std=2.0).std
        2.0
        """
        given: dict[str, Any] = {"scale": scale, "mean": mean, "std": std, "layout": layout}
        return replace(self, **{k: v for k, v in given.items() if v is not None})

    def apply(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The float32 network input of uint8 images ``(N, H, W)`` (a new, contiguous array).

        Examples
        --------
        >>> Preprocess().apply(np.full((2, 3, 3), 255, np.uint8)).shape
        (2, 1, 3, 3)
        """
        x = np.multiply(images, np.float32(self.scale), dtype=np.float32)
        if self.mean != 0.0:
            x -= np.float32(self.mean)
        if self.std != 1.0:
            x /= np.float32(self.std)
        n = len(x)
        if self.layout == "NCHW":
            x = x[:, None]
        elif self.layout == "NHWC":
            x = x[..., None]
        elif self.layout == "flat":
            x = x.reshape(n, -1)
        return np.ascontiguousarray(x)

    def input_shape(self, height: int, width: int) -> tuple[int, ...]:
        """The shape of one image's input (without the batch dimension).

        Examples
        --------
        >>> Preprocess(layout="NHWC").input_shape(28, 28)
        (28, 28, 1)
        """
        shapes = {
            "NCHW": (1, height, width),
            "NHWC": (height, width, 1),
            "NHW": (height, width),
            "flat": (height * width,),
        }
        return shapes[self.layout]

    def manifest(self) -> dict[str, Any]:
        """``{"scale", "mean", "std", "layout"}`` (what a saved model records).

        Examples
        --------
        >>> Preprocess().manifest()["layout"]
        'NCHW'
        """
        return {"scale": self.scale, "mean": self.mean, "std": self.std, "layout": self.layout}


def layout_from_shape(shape: Any) -> str:
    """The layout an ONNX input of ``shape`` (ints, or names for dynamic dimensions) asks for.

    4 dimensions: ``NHWC`` when only the last one is 1, else ``NCHW``; 3: ``NHW``; 2: ``flat``;
    anything else ``NCHW`` (onnxruntime then says what it wanted).

    Examples
    --------
    >>> layout_from_shape(["batch", 1, 28, 28]), layout_from_shape([None, 28, 28, 1])
    ('NCHW', 'NHWC')
    >>> layout_from_shape(["N", 784])
    'flat'
    """
    dims = list(shape) if isinstance(shape, (list, tuple)) else []
    if len(dims) == 4 and dims[3] == 1 and dims[1] != 1:
        return "NHWC"
    return {3: "NHW", 2: "flat"}.get(len(dims), "NCHW")


# --------------------------------------------------------------------------- scores


def looks_like_proba(scores: NDArray[np.floating]) -> bool:
    """True when every row holds non-negative numbers summing to 1 (within :data:`PROBA_ATOL`).

    Examples
    --------
    >>> looks_like_proba(np.array([[0.2, 0.8], [1.0, 0.0]])), looks_like_proba(np.eye(2) * 3)
    (True, False)
    """
    return bool(
        scores.size
        and scores.min() >= 0
        and np.allclose(scores.sum(axis=1), 1.0, rtol=0.0, atol=PROBA_ATOL)
    )


def check_proba(scores: NDArray[np.floating], where: str) -> None:
    """Raise unless every row of ``scores`` is a probability vector.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(N, C)``, finite.
    where : str
        Starts the message (``"preds.csv"``, ``"model 'net'"``).

    Raises
    ------
    MnistlabError
        Naming the first row with a value outside ``[0, 1]``, or the first row whose sum is
        further than :data:`PROBA_ATOL` from 1, and that sum.

    Examples
    --------
    >>> check_proba(np.array([[0.5, 0.5]]), "p.npy")
    >>> check_proba(np.array([[0.5, 0.5], [2.5, 2.5]]), "p.npy")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: p.npy: probabilities must lie in [0, 1] (first bad row 1)
    >>> check_proba(np.array([[0.5, 0.5], [0.9, 0.9]]), "p.npy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: p.npy: ... sum to 1 per row (first bad row 1 sums to 1.8)
    """
    outside = (scores < 0) | (scores > 1)
    if outside.any():
        row = int(np.argwhere(outside)[0, 0])
        raise MnistlabError(f"{where}: probabilities must lie in [0, 1] (first bad row {row})")
    sums = np.asarray(scores, dtype=np.float64).sum(axis=1)
    off = np.abs(sums - 1.0) > PROBA_ATOL
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise MnistlabError(
            f"{where}: probabilities must sum to 1 per row "
            f"(first bad row {row} sums to {sums[row]:.6g})"
        )


def check_scores(out: Any, n_rows: int, where: str) -> NDArray[np.float32]:
    """A model's raw output for ``n_rows`` images as float32 ``(n_rows, C)``, checked.

    Each image's scores may come in any shape (``(N, C)``, ``(N, C, 1, 1)``): they are
    flattened per row.

    Raises
    ------
    MnistlabError
        When the output is not numbers, has another number of rows, or fewer than 2 scores
        per row.

    Examples
    --------
    >>> check_scores([[1, 2], [3, 4]], 2, "net").dtype
    dtype('float32')
    >>> check_scores(np.zeros(3), 3, "net")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: net: the model outputs shape (3,), expected (3, C) with C >= 2...
    """
    try:
        arr = np.asarray(out)
    except Exception:  # an object numpy cannot read: say what it was
        arr = np.asarray(None)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        what = type(out).__name__ if arr.dtype == object else str(arr.dtype)
        raise MnistlabError(f"{where}: the model outputs {what}, not scores")
    if arr.ndim < 2 or len(arr) != n_rows or int(np.prod(arr.shape[1:])) < 2:
        raise MnistlabError(
            f"{where}: the model outputs shape {arr.shape}, expected ({n_rows}, C) with C >= 2 "
            "classes"
        )
    return np.asarray(arr, dtype=np.float32).reshape(n_rows, -1)


def logits_from_scores(
    scores: NDArray[np.floating], output: str = "auto", where: str = "model"
) -> NDArray[np.float32]:
    """Logits float32 ``(N, C)`` of checked scores: probabilities become their log.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(N, C)`` (see :func:`check_scores`).
    output : {"auto", "logits", "proba"}
        ``auto``: probabilities when :func:`looks_like_proba`; ``proba``: probabilities,
        refused when a row is not one (:func:`check_proba`).
    where : str
        Starts the error messages.

    Returns
    -------
    numpy.ndarray
        ``log(max(p, PROB_FLOOR))`` for probabilities, else the scores.

    Raises
    ------
    MnistlabError
        NaN or infinite scores (naming the first bad row); rows that are not probabilities
        with ``output="proba"``.

    Examples
    --------
    >>> logits_from_scores(np.array([[0.5, 0.5]]))
    array([[-0.6931472, -0.6931472]], dtype=float32)
    >>> logits_from_scores(np.array([[0.5, 0.5]]), "logits").tolist()
    [[0.5, 0.5]]
    """
    from mnistlab.models._common import check_choice

    check_choice(output, OUTPUTS, "output kind")
    finite = np.isfinite(scores)
    if not finite.all():
        row = int(np.argwhere(~finite)[0, 0])
        raise MnistlabError(
            f"{where}: the model outputs NaN or infinite scores (first bad row {row})"
        )
    if output == "proba" or (output == "auto" and looks_like_proba(scores)):
        check_proba(scores, where)
        return np.log(np.clip(scores, PROB_FLOOR, 1.0)).astype(np.float32)
    return np.asarray(scores, dtype=np.float32)


def module_device_dtype(net: Any) -> tuple[Any, Any]:
    """Where and in what dtype a module's input goes.

    Parameters
    ----------
    net : torch.nn.Module

    Returns
    -------
    torch.device, torch.dtype
        Of its first floating parameter or buffer; the CPU and float32 when it has none.

    Examples
    --------
    >>> import torch
    >>> module_device_dtype(torch.nn.Linear(2, 2).double())
    (device(type='cpu'), torch.float64)
    """
    import torch

    for tensor in (*net.parameters(), *net.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.float32


def _check_images(images: Any, name: str) -> NDArray[np.uint8]:
    x = np.asarray(images)
    if x.ndim != 3:
        raise MnistlabError(f"model {name!r}: images must have shape (N, H, W), got {x.shape}")
    return x


# --------------------------------------------------------------------------- wrapped models


class ModuleModel(Model):
    """A PyTorch ``nn.Module`` as a model (kind ``"torch-module"``).

    Predicts in eval mode under ``torch.inference_mode``, in batches of 1,000 images, on the
    module's device and dtype, with the threads of :func:`mnistlab.threads.choose_threads`;
    the module's train/eval mode is restored afterwards. :meth:`save` exports it to ONNX
    with its preprocessing: :func:`mnistlab.models.load_model` reads the folder back as an
    :class:`~mnistlab.models.OnnxModel` with the same logits.

    Parameters
    ----------
    net : torch.nn.Module
        Takes the float input of ``preprocess``; returns scores ``(N, C)`` (or a tuple whose
        first item they are).
    name : str
    preprocess : Preprocess
    output : {"auto", "logits", "proba"}
    class_names : sequence of str, optional
        Default: ``"0".."C-1"`` (learned from the data or the first output).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 3))
    >>> model = ModuleModel(net, "linear", Preprocess(mean=0.286, std=0.353))
    >>> model.predict_logits(np.zeros((2, 28, 28), np.uint8)).shape, model.class_names
    ((2, 3), ('0', '1', '2'))
    """

    kind = "torch-module"

    def __init__(
        self,
        net: Any,
        name: str,
        preprocess: Preprocess,
        output: str = "auto",
        class_names: tuple[str, ...] | list[str] | None = None,
    ):
        super().__init__(
            name,
            class_names or (),
            {
                "architecture": f"{type(net).__module__}.{type(net).__qualname__}",
                "preprocess": preprocess.manifest(),
                "output": output,
            },
        )
        self.net = net
        self.preprocess = preprocess
        self.output = output
        self.batch_size = BATCH_SIZE
        #: ``(H, W)`` of the images last predicted (the shape :meth:`save` exports).
        self.image_shape: tuple[int, int] | None = None

    def _where(self) -> str:
        return f"model {self.name!r}"

    def _forward(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """The first output of the network on the input ``x``, as checked float32 scores."""
        import torch

        device, dtype = module_device_dtype(self.net)
        out = self.net(torch.from_numpy(x).to(device=device, dtype=dtype))
        if isinstance(out, (tuple, list)) and out:
            out = out[0]
        if not isinstance(out, torch.Tensor):
            raise MnistlabError(
                f"{self._where()}: the network returns {type(out).__name__}, not a tensor"
            )
        return check_scores(out.detach().float().cpu().numpy(), len(x), self._where())

    def raw_scores(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The network's outputs ``(N, C)`` as they are (before probabilities become logits)."""
        import torch

        from mnistlab.models._threads import set_torch_threads

        x = _check_images(images, self.name)
        self.image_shape = (int(x.shape[1]), int(x.shape[2]))
        set_torch_threads()
        was_training = bool(self.net.training)
        self.net.eval()
        parts = [np.zeros((0, self.num_classes), np.float32)] if len(x) == 0 else []
        try:
            with torch.inference_mode():
                for start in range(0, len(x), self.batch_size):
                    parts.append(
                        self._forward(self.preprocess.apply(x[start : start + self.batch_size]))
                    )
        finally:
            self.net.train(was_training)
        return np.concatenate(parts, axis=0)

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        scores = self.raw_scores(images)
        return _finish(self, scores, self.output, self._where())

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Export to ONNX into the folder ``path`` with the preprocessing and the file's sha256.

        The export is checked: onnxruntime's scores of eight fixed random images must match
        PyTorch's (within 1e-4), else nothing is written.

        Raises
        ------
        MnistlabError
            When the network cannot be exported or its export computes something else.
        """
        from mnistlab.models.onnx import module_onnx_bytes, save_onnx_folder

        height, width = self.image_shape or (28, 28)
        images = np.random.default_rng(0).integers(0, 256, (8, height, width), dtype=np.uint8)
        scores = self.raw_scores(images)
        if not self.class_names:
            self.class_names = tuple(str(i) for i in range(scores.shape[1]))
        data, exporter = module_onnx_bytes(
            self.net, self.preprocess, (height, width), where=self._where(), check=(images, scores)
        )
        import torch

        extra = {
            "source": "torch.nn.Module",
            "module": self.manifest["architecture"],
            "exporter": exporter,
            "image_shape": [height, width],
            "torch_version": torch.__version__,
        }
        return save_onnx_folder(
            path, data, self.name, self.class_names, self.preprocess, self.output, extra
        )


class CallableModel(Model):
    """A Python callable ``images -> scores (N, C)`` as a model (kind ``"callable"``).

    Called on batches of at most 1,000 images: the uint8 images ``(N, H, W)`` themselves
    (read-only) when ``preprocess`` is None, else the float32 input it makes. The scores may be
    logits or probabilities (a numpy array, a list, or anything ``numpy.asarray`` reads; a
    tensor is moved to the CPU first).

    Parameters
    ----------
    fn : callable
    name : str
    preprocess : Preprocess or None
    output : {"auto", "logits", "proba"}
    class_names : sequence of str, optional

    Examples
    --------
    >>> model = CallableModel(lambda x: x.reshape(len(x), -1)[:, :2], "first-pixels")
    >>> model.predict(np.array([[[0, 9]], [[9, 0]]], np.uint8)).tolist()
    [1, 0]
    """

    kind = "callable"

    def __init__(
        self,
        fn: Callable[[Any], Any],
        name: str,
        preprocess: Preprocess | None = None,
        output: str = "auto",
        class_names: tuple[str, ...] | list[str] | None = None,
    ):
        super().__init__(
            name,
            class_names or (),
            {
                "architecture": "callable",
                "preprocess": None if preprocess is None else preprocess.manifest(),
                "output": output,
            },
        )
        self.fn = fn
        self.preprocess = preprocess
        self.output = output
        self.batch_size = BATCH_SIZE

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        x = _check_images(images, self.name)
        where = f"model {self.name!r}"
        parts = [np.zeros((0, self.num_classes), np.float32)] if len(x) == 0 else []
        for start in range(0, len(x), self.batch_size):
            batch = x[start : start + self.batch_size]
            if self.preprocess is None:
                batch = batch.view()
                batch.flags.writeable = False  # the callable sees the data's own images
                given: Any = batch
            else:
                given = self.preprocess.apply(batch)
            out = self.fn(given)
            if hasattr(out, "detach") and hasattr(out, "cpu"):  # a torch tensor
                out = out.detach().cpu().numpy()
            parts.append(check_scores(out, len(batch), where))
        return _finish(self, np.concatenate(parts, axis=0), self.output, where)

    def save(self, path: str | os.PathLike[str]) -> Path:
        raise MnistlabError(
            f"model {self.name!r}: a wrapped callable cannot be saved "
            "(wrap a torch.nn.Module or an ONNX file instead, or save its logits)"
        )


def _finish(
    model: Model, scores: NDArray[np.float32], output: str, where: str
) -> NDArray[np.float32]:
    """Logits of checked scores; the class names come from the first output when unknown."""
    if not model.class_names:
        model.class_names = tuple(str(i) for i in range(scores.shape[1]))
    if scores.shape[1] != model.num_classes:
        raise MnistlabError(
            f"{where}: the model outputs {scores.shape[1]} scores, "
            f"expected {model.num_classes} classes"
        )
    return logits_from_scores(scores, output, where)


def _rescale_pixels(x: NDArray[np.floating], scale: float, mean: float, std: float) -> Any:
    """What a wrapped estimator sees: pixels of 0..1 (what SklearnModel gives) rescaled."""
    pixels = np.rint(np.asarray(x, dtype=np.float32) * np.float32(255))
    return Preprocess(scale, mean, std, "flat").apply(pixels.astype(np.uint8)[:, None, :])


def _sklearn_model(
    estimator: Any,
    name: str,
    preprocess: Preprocess,
    class_names: tuple[str, ...] | list[str] | None,
) -> Model:
    import sklearn
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from mnistlab.models.classic import SklearnModel

    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        raise MnistlabError(
            f"model {name!r}: the {type(estimator).__name__} is not fitted (call fit first)"
        ) from None
    classes = np.asarray(getattr(estimator, "classes_", np.zeros(0)))
    if not np.issubdtype(classes.dtype, np.integer) or classes.size < 2 or classes.min() < 0:
        raise MnistlabError(
            f"model {name!r}: the estimator's classes_ must be integer labels 0..C-1 "
            f"(at least 2), got {classes.tolist()[:10]}"
        )
    n_classes = int(classes.max()) + 1
    if class_names is not None and len(class_names) < n_classes:
        raise MnistlabError(
            f"model {name!r}: {len(class_names)} class names for labels up to {n_classes - 1}"
        )
    names = tuple(class_names) if class_names is not None else tuple(map(str, range(n_classes)))
    pipeline = estimator
    if preprocess != Preprocess(layout="flat"):
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer

        kw = {"scale": preprocess.scale, "mean": preprocess.mean, "std": preprocess.std}
        step = FunctionTransformer(_rescale_pixels, kw_args=kw)
        pipeline = Pipeline([("preprocess", step), ("clf", estimator)])
    n_features = int(getattr(estimator, "n_features_in_", 784))
    side = math.isqrt(n_features)
    shape = (side, side) if side * side == n_features else (28, 28)
    manifest = {
        "architecture": type(estimator).__name__,
        "model": "scikit-learn estimator",
        "preprocess": preprocess.manifest(),
        "image_shape": list(shape),
        "sklearn_version": sklearn.__version__,
    }
    return SklearnModel(pipeline, name, names, manifest, image_shape=shape)


def _is_module(obj: Any) -> bool:
    # No torch import for objects that cannot be modules: torch is loaded if one exists.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _is_estimator(obj: Any) -> bool:
    return hasattr(obj, "fit") and (
        hasattr(obj, "predict_proba") or hasattr(obj, "decision_function")
    )


def _check_model_name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise MnistlabError(f"model name must be a non-empty one-line string, got {name!r}")
    return name


def _default_name(obj: Any) -> str:
    """A function's name (``"callable"`` for a lambda), else the class name."""
    name = getattr(obj, "__name__", None)
    if isinstance(name, str) and name.isidentifier():
        return name
    return "callable" if name == "<lambda>" else type(obj).__name__


def wrap(
    obj: Any,
    *,
    name: str | None = None,
    scale: float | None = None,
    mean: float | None = None,
    std: float | None = None,
    layout: str | None = None,
    output: str = "auto",
    class_names: tuple[str, ...] | list[str] | None = None,
) -> Model:
    """A :class:`~mnistlab.models.Model` from any classifier.

    Parameters
    ----------
    obj : object
        - a :class:`~mnistlab.models.Model`: returned as is (a shallow copy when ``name`` is
          given);
        - a ``torch.nn.Module``: :class:`ModuleModel` (input NCHW on 0..1 unless the
          preprocessing says otherwise; saved as ONNX);
        - a fitted scikit-learn estimator with ``predict_proba`` or ``decision_function`` and
          integer ``classes_``: a :class:`~mnistlab.models.SklearnModel` fed the flattened
          pixels on 0..1 (``layout`` must be ``"flat"``; other ``scale``/``mean``/``std``
          add a rescaling step that is saved with it);
        - a callable ``images -> scores (N, C)``: :class:`CallableModel`, given the uint8
          images ``(N, H, W)`` unless a preprocessing option is given;
        - a path: an ``.onnx`` file (:class:`~mnistlab.models.OnnxModel`, its layout read from
          its input shape unless ``layout`` is given), a logits file ``.npy``/``.csv``/
          ``.parquet`` (:class:`~mnistlab.models.LogitsFile`) or a saved model folder
          (:func:`~mnistlab.models.load_model`).
    name : str, optional
        The model's name (the ``model`` column of prediction tables). Default: the file stem,
        the class or function name.
    scale, mean, std, layout
        The network's input (:class:`Preprocess`): ``(images * scale - mean) / std``
        arranged as ``layout``; None keeps the default of the kind. Only for networks,
        callables, estimators and ONNX files.
    output : {"auto", "logits", "proba"}
        What the model's scores are (:func:`logits_from_scores`); for a logits file, what it
        holds.
    class_names : sequence of str, optional
        Default ``"0".."C-1"``.

    Returns
    -------
    Model

    Raises
    ------
    MnistlabError
        For anything else (the message lists what is accepted), bad preprocessing (naming the
        parameter), an unfitted estimator, or options that do not apply to ``obj``.

    Examples
    --------
    >>> model = wrap(lambda x: np.stack([1 - x.mean((1, 2)), x.mean((1, 2))], 1), name="mean")
    >>> model.name, model.predict(np.ones((1, 28, 28), np.uint8)).tolist()
    ('mean', [1])
    >>> wrap(42)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: cannot use int as a model: give a mnistlab Model, ...
    """
    from mnistlab.models._common import check_choice

    _check_model_name(name)
    check_choice(output, OUTPUTS, "output kind")
    if isinstance(layout, str) and layout.lower() == "auto":
        layout = None  # the kind's default (for ONNX: read from the file)
    options = {"scale": scale, "mean": mean, "std": std, "layout": layout}
    given = [key for key, value in options.items() if value is not None]
    # Every given option is checked now, whatever obj is: one message naming the parameter.
    checked = Preprocess().with_options(scale, mean, std, layout)
    if isinstance(obj, Model):
        _refuse_options(given, f"an existing {type(obj).__name__}")
        if output != "auto" or class_names is not None:
            raise MnistlabError("output and class_names do not apply to an existing Model")
        if name is None:
            return obj
        renamed = copy.copy(obj)
        renamed.name = name
        return renamed
    if isinstance(obj, (str, os.PathLike)):
        return _from_path(Path(obj), name, checked, given, output, class_names)
    if _is_module(obj):
        return ModuleModel(obj, name or type(obj).__name__, checked, output, class_names)
    if _is_estimator(obj):
        if layout is not None and checked.layout != "flat":
            raise MnistlabError(
                f"layout must be 'flat' for a scikit-learn estimator, got {layout!r}"
            )
        if output != "auto":
            raise MnistlabError("output does not apply to a scikit-learn estimator")
        pre = replace(checked, layout="flat")
        return _sklearn_model(obj, name or type(obj).__name__, pre, class_names)
    if callable(obj) and not isinstance(obj, type):
        # Without preprocessing options a callable gets the uint8 images themselves.
        fed = checked if given else None
        return CallableModel(obj, name or _default_name(obj), fed, output, class_names)
    raise MnistlabError(f"cannot use {type(obj).__name__} as a model: give {ACCEPTED}")


def _refuse_options(given: list[str], what: str) -> None:
    if given:
        raise MnistlabError(
            f"{', '.join(given)} do{'es' if len(given) == 1 else ''} not apply to {what} "
            "(only to networks, callables, estimators and .onnx files)"
        )


def _from_path(
    path: Path,
    name: str | None,
    preprocess: Preprocess,
    given: list[str],
    output: str,
    class_names: tuple[str, ...] | list[str] | None,
) -> Model:
    from mnistlab.models.logits import LogitsFile, is_logits_file

    if path.suffix.lower() == ".onnx":
        from mnistlab.models.onnx import OnnxModel

        return OnnxModel(
            path,
            layout=preprocess.layout if "layout" in given else None,
            scale=preprocess.scale,
            output=output,
            class_names=class_names,
            name=name,
            mean=preprocess.mean,
            std=preprocess.std,
        )
    if is_logits_file(path):
        _refuse_options(given, f"the logits file {path}")
        return LogitsFile(path, kind=output, class_names=class_names, name=name)
    if path.is_dir():
        from mnistlab.models.base import load_model

        _refuse_options(given, f"the saved model {path}")
        return wrap(load_model(path), name=name)
    if not path.exists():
        raise MnistlabError(f"{path}: no such model file or folder (give {ACCEPTED})")
    raise MnistlabError(f"{path}: not a model file (give {ACCEPTED})")
