"""The networks and training loops of :mod:`mnistlab.models.generative` (PyTorch, CPU).

``vae``
    Encoder: conv 1-32 and 32-64 (4x4, stride 2, ReLU), fc 256, fc to the mean and the log
    variance of ``q(z|x)``. Decoder: fc 256, fc to 64 x S/4 x S/4, transposed convs 64-32 and
    32-1 (4x4, stride 2); its output are the logits of a Bernoulli likelihood per pixel (the
    pixels on the 0..1 scale are the targets of a binary cross-entropy). Prior N(0, I).
``gan``
    A small DCGAN. Generator: fc to 64 x S/4 x S/4, BatchNorm, ReLU, transposed conv 64-32,
    BatchNorm, ReLU, transposed conv 32-1, tanh. Discriminator: conv 1-32, LeakyReLU 0.2, conv
    32-64, BatchNorm, LeakyReLU, fc 1. Non-saturating loss, one-sided label smoothing (0.9).

Both train with Adam in float32 (minibatches of 64 for the VAE, 128 for the GAN). Every random
draw comes from ``seed``: the weights (``torch.manual_seed``), the data order
(``numpy.random.default_rng((seed, epoch))``) and the training noise (a seeded
``torch.Generator``). The VAE decoder's output bias starts at the logit of the data's mean
pixel (:func:`start_at_mean`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._validate import check_int, check_seed
from mnistlab.errors import MnistlabError
from mnistlab.models._common import check_choice
from mnistlab.models.base import data_sha256

if TYPE_CHECKING:
    import torch
    from torch import nn

    from mnistlab.models.generative import GenerativeModel

#: Default latent size (the paper's VAE-64 and GAN-64).
LATENT_DIM = 64
#: Largest latent size accepted.
MAX_LATENT_DIM = 4096


@dataclass(frozen=True)
class Recipe:
    """The training recipe of one kind of generative model."""

    epochs: int
    batch_size: int
    lr: float
    betas: tuple[float, float]
    description: str


RECIPES: dict[str, Recipe] = {
    "vae": Recipe(
        epochs=5,
        batch_size=64,
        lr=1e-3,
        betas=(0.9, 0.999),
        description="conv VAE (conv 32-64, fc 256; mirrored decoder), Bernoulli likelihood, "
        "N(0, I) prior; Adam",
    ),
    "gan": Recipe(
        epochs=5,
        batch_size=128,
        lr=2e-4,
        betas=(0.5, 0.999),
        description="small DCGAN (generator fc-64-32-1 with BatchNorm, discriminator 32-64); "
        "non-saturating loss, Adam",
    ),
}


def build_vae(latent_dim: int, size: int = 28) -> nn.ModuleDict:
    """The VAE: ``encoder`` (images to ``2 * latent_dim``: mean, log variance) and
    ``decoder`` (codes to pixel logits ``(N, 1, size, size)``)."""
    from torch import nn

    side = size // 4
    encoder = nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 4, 2, 1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * side * side, 256),
        nn.ReLU(),
        nn.Linear(256, 2 * latent_dim),
    )
    decoder = nn.Sequential(
        nn.Linear(latent_dim, 256),
        nn.ReLU(),
        nn.Linear(256, 64 * side * side),
        nn.ReLU(),
        nn.Unflatten(1, (64, side, side)),
        nn.ConvTranspose2d(64, 32, 4, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1),
    )
    return nn.ModuleDict({"encoder": encoder, "decoder": decoder})


def build_gan(latent_dim: int, size: int = 28) -> nn.ModuleDict:
    """The GAN: ``generator`` (codes to images in ``[-1, 1]``) and ``discriminator``
    (images in ``[-1, 1]`` to one logit)."""
    from torch import nn

    side = size // 4
    generator = nn.Sequential(
        nn.Linear(latent_dim, 64 * side * side, bias=False),
        nn.BatchNorm1d(64 * side * side),
        nn.ReLU(),
        nn.Unflatten(1, (64, side, side)),
        nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1),
        nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, 2, 1, bias=False),
        nn.BatchNorm2d(64),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(64 * side * side, 1),
    )
    return nn.ModuleDict({"generator": generator, "discriminator": discriminator})


BUILDERS: dict[str, Callable[[int, int], nn.ModuleDict]] = {"vae": build_vae, "gan": build_gan}


def start_at_mean(net: nn.ModuleDict, images: NDArray[np.uint8]) -> None:
    """Set the VAE decoder's output bias to the logit of the mean pixel of ``images``.

    The decoder then starts near the data's mean intensity instead of grey (p = 0.5), which
    saves the first hundreds of steps of a short training run.
    """
    import torch

    p = float(np.clip(np.mean(images, dtype=np.float64) / 255.0, 1e-3, 1 - 1e-3))
    decoder: Any = net["decoder"]
    with torch.no_grad():
        decoder[-1].bias.fill_(float(np.log(p / (1.0 - p))))


def to_tensor(images: NDArray[np.uint8]) -> torch.Tensor:
    """uint8 ``(N, H, W)`` as float32 ``(N, 1, H, W)`` on the 0..1 scale."""
    import torch

    x = np.ascontiguousarray(images, dtype=np.float32) * np.float32(1 / 255)
    return torch.from_numpy(x).unsqueeze(1)


def to_uint8(pixels: torch.Tensor) -> NDArray[np.uint8]:
    """Float pixels ``(N, 1, H, W)`` on the 0..1 scale as rounded uint8 ``(N, H, W)``."""
    import torch

    out = (pixels.clamp(0.0, 1.0) * 255.0).round().to(dtype=torch.uint8)
    return np.ascontiguousarray(out[:, 0].numpy())


def vae_terms(
    net: nn.ModuleDict, x: torch.Tensor, noise: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstruction BCE and KL divergence per image, ``(N,)`` each, of a batch ``x``.

    ``noise=None`` decodes the posterior mean instead of a draw from ``q(z|x)``.
    """
    import torch
    from torch.nn import functional as F

    mu, logvar = net["encoder"](x).chunk(2, dim=1)
    z = mu
    if noise is not None:
        eps = torch.randn(mu.shape, generator=noise, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
    logits = net["decoder"](z)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1.0 + logvar - mu.square() - logvar.exp()).sum(1)
    return rec, kl


def vae_scores(
    net: nn.ModuleDict, images: NDArray[np.uint8], seed: int, batch_size: int = 1000
) -> dict[str, float]:
    """Mean negative ELBO (one seeded draw per image) and mean-code reconstruction BCE, in
    nats per image, of held-out ``images``."""
    import torch

    noise = torch.Generator().manual_seed(int(seed) ^ 0x5EED)
    neg_elbo = bce = 0.0
    net.eval()
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            x = to_tensor(images[start : start + batch_size])
            rec, kl = vae_terms(net, x, noise)
            neg_elbo += float((rec + kl).sum())
            bce += float(vae_terms(net, x, None)[0].sum())
    n = max(len(images), 1)
    return {"neg_elbo": neg_elbo / n, "reconstruction_bce": bce / n}


def fit(
    model: str,
    net: nn.ModuleDict,
    images: NDArray[np.uint8],
    *,
    epochs: int,
    seed: int,
    batch_size: int,
    lr: float,
    latent_dim: int,
    progress: bool,
    desc: str,
) -> list[dict[str, float]]:
    """Train ``net`` (built by :data:`BUILDERS` ``[model]``) in place; the per-epoch history."""
    import torch
    from tqdm.auto import tqdm

    recipe = RECIPES[model]
    noise = torch.Generator().manual_seed(int(seed))
    step = _vae_step if model == "vae" else _gan_step
    if model == "vae":
        opts: Any = torch.optim.Adam(net.parameters(), lr=lr, betas=recipe.betas)
    else:
        opts = (
            torch.optim.Adam(net["generator"].parameters(), lr=lr, betas=recipe.betas),
            torch.optim.Adam(net["discriminator"].parameters(), lr=lr, betas=recipe.betas),
            latent_dim,
        )
    steps = -(-len(images) // batch_size)
    history: list[dict[str, float]] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    bar = tqdm(total=epochs * steps, desc=desc, disable=not progress)
    try:
        for epoch in range(epochs):
            order = np.random.default_rng((seed, epoch)).permutation(len(images))
            net.train()
            sums: dict[str, float] = {}
            for b in range(steps):
                idx = order[b * batch_size : (b + 1) * batch_size]
                losses = step(net, opts, to_tensor(images[idx]), noise)
                for key, value in losses.items():
                    sums[key] = sums.get(key, 0.0) + value * len(idx)
                bar.update(1)
                shown = {k: f"{v:.3g}" for k, v in losses.items()}
                bar.set_postfix({"epoch": epoch + 1, **shown}, refresh=False)
            record: dict[str, float] = {"epoch": epoch + 1}
            record.update({k: v / len(images) for k, v in sums.items()})
            record["seconds"] = time.perf_counter() - start
            record["cpu_seconds"] = time.process_time() - cpu_start
            history.append(record)
    finally:
        bar.close()
    net.eval()
    return history


def _vae_step(
    net: nn.ModuleDict, opt: Any, x: torch.Tensor, noise: torch.Generator
) -> dict[str, float]:
    rec, kl = vae_terms(net, x, noise)
    loss = (rec + kl).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"neg_elbo": float(loss.detach()), "kl": float(kl.detach().mean())}


def _gan_step(
    net: nn.ModuleDict, opts: Any, x: torch.Tensor, noise: torch.Generator
) -> dict[str, float]:
    import torch
    from torch.nn import functional as F

    gen, disc = net["generator"], net["discriminator"]
    opt_g, opt_d, latent_dim = opts
    real = x * 2.0 - 1.0
    z = torch.randn((len(x), latent_dim), generator=noise)
    fake = gen(z)
    d_real, d_fake = disc(real), disc(fake.detach())
    loss_d = F.binary_cross_entropy_with_logits(
        d_real, torch.full_like(d_real, 0.9)
    ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    d_gen = disc(fake)
    loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {
        "d_loss": float(loss_d.detach()),
        "g_loss": float(loss_g.detach()),
        "d_real": float(torch.sigmoid(d_real.detach()).mean()),
        "d_fake": float(torch.sigmoid(d_fake.detach()).mean()),
    }


def _training_images(images: Any) -> NDArray[np.uint8]:
    x = np.asarray(images)
    if x.ndim != 3 or x.dtype != np.uint8 or x.shape[1] != x.shape[2] or x.shape[1] % 4:
        raise MnistlabError(
            "training images must be uint8 (N, S, S) with S a multiple of 4, got "
            f"{x.dtype} {x.shape}"
        )
    if len(x) == 0:
        raise MnistlabError("training images are empty")
    return x


def train_generative(
    images: NDArray[np.uint8],
    labels: Any = None,
    model: str = "vae",
    *,
    latent_dim: int = LATENT_DIM,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool = True,
    val: tuple[Any, Any] | None = None,
    class_names: Any = None,
    name: str | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    threads: int | None = None,
) -> GenerativeModel:
    """Train a VAE or a GAN on the CPU (``mnistlab.models.train(..., "vae")`` calls it).

    Parameters
    ----------
    images : numpy.ndarray
        Training images, uint8 ``(N, S, S)`` with ``S`` a multiple of 4 (28 for MNIST).
    labels : array-like, optional
        Ignored: the models are unconditional (accepted so that every model trains alike).
    model : {"vae", "gan"}
        What to train (:data:`GENERATIVE_MODELS`).
    latent_dim : int
        Size of a code (the paper's VAE-64, GAN-64, GAN-2: 64, 64, 2).
    epochs : int, optional
        Default 5 (the recipe's; about a minute per epoch of 60,000 images on 2 cores).
    seed : int
        Seeds the weights, the data order and the training noise: same seed, same weights.
    progress : bool
        Show a progress bar with the running losses.
    val : (images, labels), optional
        Held-out images (labels ignored). A VAE records their negative ELBO and mean-code
        reconstruction BCE (nats per image) as ``val_neg_elbo`` and
        ``val_reconstruction_bce``; a GAN has no held-out score and ignores them.
    class_names : optional
        Ignored (a generative model has no classes).
    name : str, optional
        Name of the model; default ``"<model>-<latent_dim>"`` (``"vae-64"``).
    batch_size, lr : optional
        Override the recipe (VAE: batches of 64, Adam 1e-3; GAN: 128, Adam 2e-4).
    threads : int, optional
        PyTorch CPU threads (default: :func:`mnistlab.threads.choose_threads`).

    Returns
    -------
    GenerativeModel
        A :class:`VAEModel` or a :class:`GANModel`; its manifest records the recipe, the
        per-epoch ``history``, ``training_seconds`` and a one-line ``summary``.

    Raises
    ------
    MnistlabError
        An unknown model, bad images or a bad parameter.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.zeros((16, 28, 28), np.uint8)
    >>> vae = train_generative(images, model="vae", latent_dim=2, epochs=1, progress=False)
    >>> vae.manifest["epochs"], vae.manifest["train_size"], type(vae).__name__
    (1, 16, 'VAEModel')
    """
    import torch

    from mnistlab.models._threads import set_torch_threads
    from mnistlab.models.generative import MODEL_CLASSES

    check_choice(model, RECIPES, "generative model")
    recipe = RECIPES[model]
    x = _training_images(images)
    latent = check_int(latent_dim, "latent_dim", minimum=1, maximum=MAX_LATENT_DIM)
    n_epochs = recipe.epochs if epochs is None else check_int(epochs, "epochs", minimum=1)
    seed = check_seed(seed)
    bs = recipe.batch_size if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    rate = recipe.lr if lr is None else lr
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < np.inf:
        raise MnistlabError(f"lr must be a positive number, got {lr!r}")
    rate = float(rate)
    val_images = None if val is None else np.asarray(val[0])
    if val_images is not None and (
        val_images.ndim != 3 or val_images.shape[1:] != x.shape[1:] or val_images.dtype != np.uint8
    ):
        raise MnistlabError(f"val images must be uint8 (N, {x.shape[1]}, {x.shape[2]}), got "
                            f"{val_images.dtype} {val_images.shape}")  # fmt: skip
    label = name or f"{model}-{latent}"
    size = int(x.shape[1])

    set_torch_threads(threads)
    torch.manual_seed(seed)
    net = BUILDERS[model](latent, size)
    if model == "vae":
        start_at_mean(net, x)
    start, cpu_start = time.perf_counter(), time.process_time()
    history = fit(model, net, x, epochs=n_epochs, seed=seed, batch_size=bs, lr=rate,
                  latent_dim=latent, progress=progress, desc=f"train {label}")  # fmt: skip
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    last = history[-1]
    scores: dict[str, Any] = {}
    if model == "vae":
        summary = f"train -ELBO {last['neg_elbo']:.1f} nats/image"
        if val_images is not None and len(val_images):
            held = vae_scores(net, val_images, seed)
            scores = {"val_neg_elbo": held["neg_elbo"],
                      "val_reconstruction_bce": held["reconstruction_bce"]}  # fmt: skip
            summary = f"held-out -ELBO {held['neg_elbo']:.1f} nats/image"
    else:
        summary = f"final D loss {last['d_loss']:.3f}, G loss {last['g_loss']:.3f}"
    manifest = {
        "model": model,
        "description": recipe.description,
        "parameters": int(sum(p.numel() for p in net.parameters())),
        "image_size": size,
        "seed": seed,
        "epochs": n_epochs,
        "batch_size": bs,
        "optimizer": "adam",
        "lr": rate,
        "betas": list(recipe.betas),
        "precision": "fp32",
        "data_sha256": data_sha256(x),
        "train_size": len(x),
        "accuracy": None,
        **scores,
        "summary": summary,
        "training_seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "threads": torch.get_num_threads(),
        "history": history,
        "torch_version": torch.__version__,
    }
    return MODEL_CLASSES[model](net, model, latent, label, manifest, image_size=size)
