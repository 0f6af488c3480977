"""Looking inside a PyTorch model: layer outputs, penultimate features, MC-dropout passes.

These run the network through PyTorch (forward hooks on its modules), whatever the model's
prediction runtime (:mod:`mnistlab.models.runtime`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.models.base import Model
from mnistlab.models.cnn import TorchModel

if TYPE_CHECKING:
    import torch

__all__ = ["activations", "features", "layer_names", "mc_dropout_logits"]


def _require_torch(model: Model) -> TorchModel:
    if not isinstance(model, TorchModel):
        raise MnistlabError(
            f"model {model.name!r} is of kind {model.kind!r}; this needs a PyTorch model"
        )
    return model


def layer_names(model: Model) -> list[str]:
    """Names of the network's modules (for :func:`activations`), in forward order."""
    return [n for n, _ in _require_torch(model).net.named_modules() if n]


def activations(
    model: Model, images: NDArray[np.uint8], layer: str, spatial_mean: bool = False
) -> NDArray[np.float32]:
    """Outputs of module ``layer`` for ``images``, flattened to float32 ``(N, D)``.

    A convolutional layer's ``(N, C, H, W)`` maps become ``(N, C*H*W)``, or with
    ``spatial_mean`` their mean over ``H, W``, ``(N, C)`` (the activation traces of surprise
    adequacy, Kim et al. 2019).

    Examples
    --------
    >>> acts = activations(model, images, "relu2")  # doctest: +SKIP
    """

    tm = _require_torch(model)
    modules = dict(tm.net.named_modules())
    if layer not in modules or not layer:
        raise MnistlabError(
            f"model {tm.name!r} has no layer {layer!r} (has: {', '.join(layer_names(tm))})"
        )
    captured: list[np.ndarray] = []

    def hook(_m: Any, _inp: Any, out: torch.Tensor) -> None:
        t = out.detach().float()
        if spatial_mean and t.ndim > 2:
            t = t.flatten(2).mean(dim=2)
        captured.append(t.reshape(t.shape[0], -1).numpy().copy())

    handle = modules[layer].register_forward_hook(hook)
    try:
        tm.torch_logits(images)
    finally:
        handle.remove()
    if not captured:
        return np.zeros((0, 0), np.float32)
    return np.concatenate(captured, axis=0)


def features(model: Model, images: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Penultimate-layer features (the input of the last linear layer), float32 ``(N, D)``."""
    import torch

    tm = _require_torch(model)
    last = [m for m in tm.net.modules() if isinstance(m, torch.nn.Linear)][-1]
    captured: list[np.ndarray] = []

    def hook(_m: Any, inp: tuple[torch.Tensor, ...]) -> None:
        captured.append(inp[0].detach().float().numpy().copy())

    handle = last.register_forward_pre_hook(hook)
    try:
        tm.torch_logits(images)
    finally:
        handle.remove()
    if not captured:
        return np.zeros((0, last.in_features), np.float32)
    return np.concatenate(captured, axis=0)


def mc_dropout_logits(
    model: Model, images: NDArray[np.uint8], passes: int = 50, seed: int = 0
) -> NDArray[np.float32]:
    """Logits of ``passes`` stochastic forward passes with dropout on, float32 ``(T, N, C)``.

    BatchNorm stays in inference mode; only the dropout layers sample masks (Gal &
    Ghahramani 2016). Seeded, so repeated calls give the same array.
    """
    import torch

    tm = _require_torch(model)
    if passes < 1:
        raise MnistlabError(f"passes must be at least 1, got {passes!r}")
    drops = [m for m in tm.net.modules() if isinstance(m, torch.nn.Dropout)]
    if not drops:
        raise MnistlabError(f"model {tm.name!r} has no dropout layer; MC dropout needs one")
    out = np.empty((passes, len(images), tm.num_classes), np.float32)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for m in drops:
            m.train()
        for t in range(passes):
            with torch.inference_mode():
                for start in range(0, len(images), tm.batch_size):
                    x = tm._tensor(images[start : start + tm.batch_size])
                    out[t, start : start + len(x)] = tm.net(x).float().numpy()
    finally:
        tm.net.eval()
        torch.random.set_rng_state(generator_state)
    return out
