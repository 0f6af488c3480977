"""PyTorch convolutional networks for 28x28 images: training on the CPU, features, MC dropout.

Two architectures are registered:

``cnn``
    The default: three 3x3 conv blocks (32-64-128 channels; each conv, max-pool, BatchNorm,
    ReLU), a 256-unit hidden layer and dropout 0.2 before the output; trained for 10 epochs
    (batch 256) with AdamW and a one-cycle learning rate (peak 4e-3), with light augmentation
    (random shifts of 1 px, horizontal flips for non-digit classes), in bfloat16 mixed
    precision where the CPU has it natively. Pooling before BatchNorm and ReLU runs those (and
    their backward passes, 60 % of a step's time) on a quarter of the pixels: 93.27 % on the
    Fashion-MNIST test set in about 1.5 minutes on 2 CPU cores (93.38 % with 11 epochs),
    where the former order (conv, BatchNorm, ReLU, pool; batch 128) took 4 minutes for
    93.25 %. Models saved with
    the former order record no ``block`` in their manifest and load with it, unchanged.
``tip-cnn``
    The small Keras network of Weiss & Tonella (2022), "Simple techniques work surprisingly
    well for neural network test prioritization and active learning": conv32 3x3, max-pool,
    conv64 3x3, max-pool, dropout 0.5, dense; Adam (lr 1e-3), batch 128, no augmentation.

The networks take float images ``(N, 1, H, W)`` scaled to 0..1 (the ONNX export has the
same input); normalisation is a fixed layer inside the network.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_dir
from mnistlab.errors import MnistlabError
from mnistlab.models._common import accuracy_on, check_choice, register_trainers, training_data
from mnistlab.models.base import (
    MANIFEST,
    Model,
    data_sha256,
    register_loader,
    split_manifest,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "ARCHITECTURES",
    "TorchModel",
    "activations",
    "features",
    "layer_names",
    "mc_dropout_logits",
    "train_torch",
]

WEIGHTS = "weights.pt"
# Fashion-MNIST training-set pixel mean and standard deviation (on the 0..1 scale).
PIXEL_MEAN = 0.2860
PIXEL_STD = 0.3530


def _set_threads(threads: int | None = None) -> int:
    from mnistlab.models._threads import set_torch_threads

    return set_torch_threads(threads)


def _normalize_layer() -> nn.Module:
    import torch
    from torch import nn

    class Normalize(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(PIXEL_MEAN))
            self.register_buffer("std", torch.tensor(PIXEL_STD))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mean: torch.Tensor = self.mean  # type: ignore[assignment]
            std: torch.Tensor = self.std  # type: ignore[assignment]
            return (x - mean) / std

    return Normalize()


#: Order of the layers in each conv block of the default CNN (what ``block`` records).
CNN_BLOCK = "conv-pool-bn-relu"
#: The order of models saved before ``block`` was recorded.
LEGACY_CNN_BLOCK = "conv-bn-relu-pool"


def build_cnn(num_classes: int, size: int = 28, block: str = CNN_BLOCK) -> nn.Module:
    """The default CNN (see the module docstring); ``block`` orders each conv block's layers.

    Examples
    --------
    >>> net = build_cnn(10)
    >>> [name for name, _ in net.named_children()][:5]
    ['normalize', 'conv1', 'pool1', 'bn1', 'relu1']
    """
    from torch import nn

    if block not in (CNN_BLOCK, LEGACY_CNN_BLOCK):
        raise MnistlabError(
            f"unknown CNN block order {block!r} (choose from: {CNN_BLOCK}, {LEGACY_CNN_BLOCK})"
        )
    layers: OrderedDict[str, nn.Module] = OrderedDict(normalize=_normalize_layer())
    channels = [1, 32, 64, 128]
    side = size
    for i in range(1, 4):
        parts = {
            "conv": nn.Conv2d(channels[i - 1], channels[i], 3, padding=1, bias=False),
            "pool": nn.MaxPool2d(2),
            "bn": nn.BatchNorm2d(channels[i]),
            "relu": nn.ReLU(inplace=True),
        }
        for kind in block.split("-"):
            layers[f"{kind}{i}"] = parts[kind]
        side //= 2
    layers["flatten"] = nn.Flatten()
    # Only one light dropout: with a budget of a few epochs the net underfits, not overfits.
    layers["fc1"] = nn.Linear(channels[-1] * side * side, 256)
    layers["relu_fc1"] = nn.ReLU(inplace=True)
    layers["dropout"] = nn.Dropout(0.2)
    layers["fc"] = nn.Linear(256, num_classes)
    return nn.Sequential(layers)


def build_tip_cnn(num_classes: int, size: int = 28) -> nn.Module:
    """The Keras CNN of Weiss & Tonella 2022 (valid convolutions, as in Keras)."""
    from torch import nn

    side = ((size - 2) // 2 - 2) // 2
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 32, 3),
            relu1=nn.ReLU(inplace=True),
            pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(32, 64, 3),
            relu2=nn.ReLU(inplace=True),
            pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            dropout=nn.Dropout(0.5),
            fc=nn.Linear(64 * side * side, num_classes),
        )
    )


@dataclass(frozen=True)
class Architecture:
    """A network and its training recipe."""

    name: str
    build: Callable[[int, int], nn.Module]
    epochs: int
    batch_size: int
    optimizer: str  # "adamw-onecycle" or "adam"
    lr: float
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    augment: bool = False
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


ARCHITECTURES: dict[str, Architecture] = {
    "cnn": Architecture(
        "cnn",
        build_cnn,
        epochs=10,
        batch_size=256,
        optimizer="adamw-onecycle",
        lr=4e-3,
        weight_decay=5e-4,
        label_smoothing=0.0,
        augment=True,
        description="3 conv blocks 32-64-128 (conv, pool, BatchNorm, ReLU), fc 256, dropout; "
        "AdamW one-cycle, shift/flip augmentation",
        extra={"block": CNN_BLOCK},
    ),
    "tip-cnn": Architecture(
        "tip-cnn",
        build_tip_cnn,
        epochs=12,
        batch_size=128,
        optimizer="adam",
        lr=1e-3,
        description="Weiss & Tonella 2022: conv32, pool, conv64, pool, dropout 0.5, dense; "
        "Adam, batch 128",
    ),
}


class TorchModel(Model):
    """A trained PyTorch network (kind ``"torch"``).

    Parameters
    ----------
    net : torch.nn.Module
        Takes ``float32 (N, 1, H, W)`` on the 0..1 scale, returns logits ``(N, C)``.
    architecture : str
        Key of :data:`ARCHITECTURES` (used to rebuild the network when loading).
    runtime : {"auto", "onnx", "torch"}
        Where :meth:`predict_logits` runs (:mod:`mnistlab.models.runtime`): ``"auto"`` uses
        onnxruntime when it is installed (the network exported in memory; 1.7-2.9x faster
        than PyTorch on the CPU, logits within ~1e-7, bit-identical for any thread count).
    """

    kind = "torch"

    def __init__(
        self,
        net: nn.Module,
        architecture: str,
        name: str,
        class_names: tuple[str, ...] | list[str],
        manifest: dict[str, Any],
        image_size: int = 28,
        runtime: str = "auto",
    ):
        from mnistlab.models.runtime import OrtRunner, check_runtime

        super().__init__(name, class_names, {"architecture": architecture, **manifest})
        self.net = net.eval()
        self.architecture = architecture
        self.image_size = image_size
        self.batch_size = 1000
        self.runtime = check_runtime(runtime)
        self._ort = OrtRunner()

    def _tensor(self, images: NDArray[np.uint8]) -> torch.Tensor:
        import torch

        x = np.asarray(images)
        if x.ndim != 3 or x.shape[1:] != (self.image_size, self.image_size):
            raise MnistlabError(
                f"model {self.name!r} expects images of shape (N, {self.image_size}, "
                f"{self.image_size}), got {x.shape}"
            )
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32) * np.float32(1 / 255))
        return t.unsqueeze(1).contiguous(memory_format=torch.channels_last)

    def _batches(self, images: NDArray[np.uint8]) -> Any:
        for start in range(0, len(images), self.batch_size):
            yield self._tensor(images[start : start + self.batch_size])

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        from mnistlab.models.runtime import check_runtime, resolve_runtime

        if resolve_runtime(check_runtime(self.runtime)) == "torch":
            return self.torch_logits(images)
        x = np.asarray(images)
        self._tensor(x[:0])  # validates the shape
        self.net.eval()
        return self._ort.logits(self, x)

    def torch_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Logits computed by PyTorch in float32 (forward hooks on the modules fire)."""
        import torch

        self.net.eval()
        out = [np.zeros((0, self.num_classes), np.float32)]
        with torch.inference_mode():
            for x in self._batches(images):
                out.append(self.net(x).float().numpy())
        return np.concatenate(out, axis=0)

    def save(self, path: str | os.PathLike[str]) -> Path:
        import torch

        with atomic_dir(path, "model") as tmp:
            torch.save(self.net.state_dict(), tmp / WEIGHTS)
            (tmp / MANIFEST).write_text(self._manifest_json(), encoding="utf-8")
        return Path(path)


def _load_torch(folder: Path, manifest: dict[str, Any]) -> TorchModel:
    import torch

    name, class_names, rest = split_manifest(manifest)
    arch = rest.pop("architecture", None)
    if arch not in ARCHITECTURES:
        raise MnistlabError(f"{folder / MANIFEST}: unknown architecture {arch!r}")
    size = int(rest.get("image_size", 28))
    spec = ARCHITECTURES[arch]
    if "block" in spec.extra:  # saved before the order was recorded: the former order
        net = spec.build(len(class_names), size, rest.get("block", LEGACY_CNN_BLOCK))  # type: ignore[call-arg]
    else:
        net = spec.build(len(class_names), size)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise MnistlabError(f"{weights}: missing weights file")
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return TorchModel(net, arch, name, class_names, rest, image_size=size)


register_loader("torch", _load_torch)


def _augment(
    batch: NDArray[np.uint8], rng: np.random.Generator, flip: bool, shift: int = 2
) -> NDArray[np.uint8]:
    """Random shifts of up to ``shift`` px (zero padding) and horizontal flips, batch-wise."""
    n, h, w = batch.shape
    padded = np.pad(batch, ((0, 0), (shift, shift), (shift, shift)))
    oy = np.asarray(rng.integers(0, 2 * shift + 1, size=n))
    ox = np.asarray(rng.integers(0, 2 * shift + 1, size=n))
    rows = oy[:, None] + np.arange(h)
    cols = ox[:, None] + np.arange(w)
    if flip:
        flipped = rng.random(n) < 0.5
        cols[flipped] = cols[flipped, ::-1]
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


PRECISIONS = ("auto", "bf16", "fp32")


def check_precision(precision: str) -> str:
    """Return ``precision`` if it is one of :data:`PRECISIONS`, else raise naming the choices."""
    check_choice(precision, PRECISIONS, "precision")
    return precision


def _use_bf16(precision: str) -> bool:
    import torch

    if check_precision(precision) == "auto":
        # Emulated bfloat16 is slower than float32: only where the CPU computes it natively.
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return precision == "bf16"


def _is_digits(class_names: tuple[str, ...]) -> bool:
    return all(c.strip().isdigit() for c in class_names)


def train_torch(
    images: NDArray[np.uint8],
    labels: NDArray[np.int64],
    architecture: str = "cnn",
    *,
    class_names: tuple[str, ...] | list[str] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool = True,
    val: tuple[NDArray[np.uint8], NDArray[np.int64]] | None = None,
    name: str | None = None,
    flip: bool | None = None,
    threads: int | None = None,
    precision: str = "auto",
    corruption_augment: Any = None,
) -> TorchModel:
    """Train a network of :data:`ARCHITECTURES` on the CPU.

    Parameters
    ----------
    images, labels : numpy.ndarray
        Training images ``uint8 (N, H, W)`` (square) and labels ``int64 (N,)``.
    architecture : str
        ``"cnn"`` or ``"tip-cnn"``.
    class_names : sequence of str, optional
        Default ``"0".."K-1"``.
    epochs : int, optional
        Default: the architecture's recipe.
    seed : int
        Seeds the weights, the dropout masks, the data order and the augmentation.
    progress : bool
        Show a progress bar with the running loss and accuracy.
    val : (images, labels), optional
        Evaluated after the final epoch; its accuracy is stored in the manifest as
        ``accuracy``.
    flip : bool, optional
        Random horizontal flips in the augmentation. Default: on unless the class names are
        digits (a flipped 2 is not a 2).
    threads : int, optional
        PyTorch CPU threads (default: :func:`mnistlab.threads.choose_threads`, the CPUs
        this process may use: affinity mask, cgroup quota, ``OMP_NUM_THREADS``).
    precision : {"auto", "bf16", "fp32"}
        Arithmetic of the training passes. ``"auto"`` trains in bfloat16 mixed precision
        where the CPU has native bfloat16 instructions (AVX512-BF16 or AMX: 1.6-1.7x
        faster per step on a 2-core EPYC, same accuracy) and in float32 elsewhere. The
        weights, and so predictions and the ONNX export, are always float32.
    corruption_augment : mnistlab.models.augment.CorruptionAugment, optional
        Also corrupt the training images on the fly (a robustness recipe; deterministic per
        seed, epoch and image, whatever its ``num_workers``); recorded in the manifest as
        ``corruption_augment``.
    """
    import torch
    from torch import nn
    from tqdm.auto import tqdm

    check_choice(architecture, ARCHITECTURES, "architecture")
    arch = ARCHITECTURES[architecture]
    x_all, y_all, names = training_data(images, labels, class_names, square=True)
    n_epochs = arch.epochs if epochs is None else int(epochs)
    if n_epochs < 1:
        raise MnistlabError(f"epochs must be at least 1, got {epochs!r}")
    do_flip = (not _is_digits(names)) if flip is None else bool(flip)
    size = int(x_all.shape[1])
    use_bf16 = _use_bf16(precision)

    _set_threads(threads)
    torch.manual_seed(seed)
    net = arch.build(len(names), size).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    steps_per_epoch = -(-len(x_all) // arch.batch_size)
    scheduler: Any = None
    if arch.optimizer == "adamw-onecycle":
        opt: torch.optim.Optimizer = torch.optim.AdamW(
            net.parameters(), lr=arch.lr, weight_decay=arch.weight_decay
        )
        total = n_epochs * steps_per_epoch
        # A one-cycle schedule needs a few steps to ramp up and down; tiny runs keep a flat lr.
        if total >= 8:
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=arch.lr, total_steps=total, pct_start=0.25
            )
    else:
        opt = torch.optim.Adam(net.parameters(), lr=arch.lr)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=arch.label_smoothing)
    model = TorchModel(net, architecture, name or architecture, names, {}, image_size=size)

    history: list[dict[str, float]] = []
    start = time.perf_counter()
    cpu_start = time.process_time()
    bar = tqdm(total=n_epochs * steps_per_epoch, desc=f"train {architecture}", disable=not progress)
    try:
        for epoch in range(n_epochs):
            rng = np.random.default_rng([seed, epoch])
            order = rng.permutation(len(x_all))
            batches: Any = None  # the corrupted images of each batch, when asked for
            bs = arch.batch_size
            if corruption_augment is not None:
                batches = iter(
                    corruption_augment.batches(
                        x_all, y_all, seed=seed, epoch=epoch, order=order, batch_size=bs
                    )
                )
            net.train()
            seen = correct = 0
            loss_sum = 0.0
            for b in range(steps_per_epoch):
                idx = order[b * arch.batch_size : (b + 1) * arch.batch_size]
                xb = x_all[idx] if batches is None else next(batches)
                if arch.augment:
                    xb = _augment(xb, rng, do_flip, shift=1)
                xt = model._tensor(xb)
                yt = torch.from_numpy(y_all[idx])
                opt.zero_grad(set_to_none=True)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                    out = net(xt)
                out = out.float()
                loss = loss_fn(out, yt)
                loss.backward()
                opt.step()
                if scheduler is not None:
                    scheduler.step()
                seen += len(idx)
                correct += int((out.argmax(1) == yt).sum())
                loss_sum += float(loss.detach()) * len(idx)
                bar.update(1)
                # No forced redraw: tqdm repaints at its own rate, not once per batch.
                bar.set_postfix(
                    epoch=epoch + 1,
                    loss=f"{loss_sum / seen:.3f}",
                    acc=f"{correct / seen:.3f}",
                    refresh=False,
                )
            record = {
                "epoch": epoch + 1,
                "loss": loss_sum / seen,
                "train_accuracy": correct / seen,
                "seconds": time.perf_counter() - start,
                "cpu_seconds": time.process_time() - cpu_start,
            }
            # Validating costs a full pass over the validation set (~7% of an epoch for the
            # Fashion-MNIST test split): only the final model's accuracy is recorded.
            if val is not None and epoch == n_epochs - 1:
                record["val_accuracy"] = accuracy_on(model, val)
                bar.set_postfix(
                    epoch=epoch + 1,
                    loss=f"{loss_sum / seen:.3f}",
                    val=f"{record['val_accuracy']:.4f}",
                )
            history.append(record)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    net.eval()
    model.manifest.update(
        {
            "model": architecture,
            "description": arch.description,
            **arch.extra,
            "parameters": int(sum(p.numel() for p in net.parameters())),
            "image_size": size,
            "seed": int(seed),
            "epochs": n_epochs,
            "batch_size": arch.batch_size,
            "optimizer": arch.optimizer,
            "lr": arch.lr,
            "precision": "bf16" if use_bf16 else "fp32",
            "augment": {"shift": 1, "flip": do_flip} if arch.augment else None,
            "corruption_augment": None
            if corruption_augment is None
            else corruption_augment.manifest(),
            "data_sha256": data_sha256(x_all, y_all),
            "train_size": len(x_all),
            "train_accuracy": history[-1]["train_accuracy"],
            "accuracy": history[-1].get("val_accuracy"),
            "training_seconds": round(seconds, 2),
            # CPU time over threads estimates the wall time on an otherwise idle machine.
            "cpu_seconds": round(cpu_seconds, 2),
            "threads": torch.get_num_threads(),
            "history": history,
            "torch_version": torch.__version__,
        }
    )
    return model


register_trainers("torch", train_torch, {a.name: a.description for a in ARCHITECTURES.values()})


# The introspection helpers live in mnistlab.models.introspect (they need TorchModel).
from mnistlab.models.introspect import (  # noqa: E402
    activations,
    features,
    layer_names,
    mc_dropout_logits,
)
