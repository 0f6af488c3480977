"""Generative models to study: a convolutional VAE and a small DCGAN, latent size a parameter.

Morpho-MNIST (Castro et al., 2019) asks whether a generative model has learned the factors of
variation of its data, with a VAE-64, a GAN-64 and a GAN-2 (the number is the latent size).
This module trains such models on any MNIST-like dataset on the CPU (networks and recipes in
:mod:`mnistlab.models._generative_train`) and gives them one interface,
:class:`GenerativeModel`:

- :meth:`~GenerativeModel.sample`: ``n`` images (uint8) and the codes they were decoded
  from (float32, drawn from the N(0, I) prior); the code of sample ``i`` depends only on
  ``(seed, i)``.
- :meth:`~GenerativeModel.decode`: images of given codes.
- :meth:`VAEModel.encode`: the posterior means of images (a GAN has no encoder).

A generative model is saved like every model (``manifest.json`` of kind ``"generative"`` and
``weights.pt``) and loaded back with :func:`mnistlab.models.load_model`. It is a
:class:`~mnistlab.models.base.Model` only to share the registry, the model folder and the
output policy: it has no classes, and its classifier methods raise
:class:`~mnistlab.errors.MnistlabError`.

The images are decoded means: the VAE's Bernoulli probabilities, the GAN's tanh output, both
mapped to 0..255 and rounded.

Examples
--------
>>> import numpy as np
>>> images = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
>>> vae = train_generative(images, model="vae", latent_dim=8, epochs=1, progress=False)
>>> samples, codes = vae.sample(5, seed=1)
>>> samples.shape, samples.dtype, codes.shape, codes.dtype
((5, 28, 28), dtype('uint8'), (5, 8), dtype('float32'))
>>> vae.encode(samples).shape
(5, 8)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_dir
from mnistlab._validate import check_int, check_seed
from mnistlab.errors import MnistlabError
from mnistlab.models._common import check_choice, register_trainers
from mnistlab.models._generative_train import (
    BUILDERS,
    LATENT_DIM,
    MAX_LATENT_DIM,
    RECIPES,
    train_generative,
)
from mnistlab.models.base import MANIFEST, Model, register_loader, split_manifest

if TYPE_CHECKING:
    import torch
    from torch import nn

    from mnistlab.data import Dataset

__all__ = [
    "GENERATIVE_MODELS",
    "LATENT_DIM",
    "MODEL_CLASSES",
    "SAMPLE_CLASS",
    "GANModel",
    "GenerativeModel",
    "VAEModel",
    "load_generative",
    "train_generative",
]

WEIGHTS = "weights.pt"
#: The one class of a dataset of samples: an unconditional model draws unlabelled images.
SAMPLE_CLASS = "unlabelled"
#: Stream of :mod:`mnistlab.random` for the prior codes of :meth:`GenerativeModel.sample`.
_CODE_STREAM = "mnistlab.models.generative/prior"
#: The trainable generative models and their one-line descriptions.
GENERATIVE_MODELS = {name: recipe.description for name, recipe in RECIPES.items()}


class GenerativeModel(Model):
    """A trained generative model: codes in, uint8 images out (kind ``"generative"``).

    Parameters
    ----------
    net : torch.nn.ModuleDict
        The networks (:data:`mnistlab.models._generative_train.BUILDERS`).
    architecture : {"vae", "gan"}
        What ``net`` is (used to rebuild it when loading).
    latent_dim : int
        Size of a code.
    name : str
        Name of the model (default of :func:`train_generative`: ``"vae-64"``, ``"gan-2"``).
    manifest : dict
        Recipe, seed, data sha256, training time and history.
    image_size : int
        Side of the square images.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.zeros((32, 28, 28), np.uint8)
    >>> gan = train_generative(images, model="gan", latent_dim=2, epochs=1, progress=False)
    >>> gan.name, gan.latent_dim, gan.kind
    ('gan-2', 2, 'generative')
    """

    kind = "generative"

    def __init__(
        self,
        net: nn.ModuleDict,
        architecture: str,
        latent_dim: int,
        name: str,
        manifest: dict[str, Any],
        image_size: int = 28,
    ):
        info = {"architecture": architecture, "latent_dim": int(latent_dim), **manifest}
        super().__init__(name, (), info)
        self.net = net.eval()
        self.architecture = architecture
        self.latent_dim = int(latent_dim)
        self.image_size = int(image_size)
        self.batch_size = 1000

    # ------------------------------------------------------------------ generation

    def prior_codes(self, n: int, seed: int = 0) -> NDArray[np.float32]:
        """Codes drawn from the N(0, I) prior, float32 ``(n, latent_dim)``.

        Row ``i`` depends only on ``(seed, i)``: the first rows of a larger draw are the
        rows of a smaller one.

        Examples
        --------
        >>> import numpy as np
        >>> gan = train_generative(np.zeros((8, 28, 28), np.uint8), model="gan",
        ...                        latent_dim=3, epochs=1, progress=False)
        >>> bool(np.array_equal(gan.prior_codes(5, seed=2)[:2], gan.prior_codes(2, seed=2)))
        True
        """
        from mnistlab.random import normal

        count = check_int(n, "n", minimum=0)
        seed = check_seed(seed)
        ids = np.arange(count, dtype=np.int64)
        return normal(seed, ids, (self.latent_dim,), _CODE_STREAM).astype(np.float32)

    def sample(self, n: int, seed: int = 0) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
        """``n`` images decoded from prior codes, and the codes.

        Parameters
        ----------
        n : int
            Number of samples (0 or more).
        seed : int
            Seed of the codes (:meth:`prior_codes`); the same seed gives the same bytes.

        Returns
        -------
        images : numpy.ndarray
            uint8 ``(n, image_size, image_size)``.
        codes : numpy.ndarray
            float32 ``(n, latent_dim)``.

        Raises
        ------
        MnistlabError
            ``n`` is not a non-negative integer or ``seed`` not a seed.

        Examples
        --------
        >>> import numpy as np
        >>> gan = train_generative(np.zeros((8, 28, 28), np.uint8), model="gan",
        ...                        latent_dim=4, epochs=1, progress=False)
        >>> images, codes = gan.sample(3, seed=0)
        >>> images.shape, codes.shape
        ((3, 28, 28), (3, 4))
        """
        codes = self.prior_codes(n, seed)
        return self.decode(codes), codes

    def decode(self, codes: Any) -> NDArray[np.uint8]:
        """The images of ``codes``, uint8 ``(N, image_size, image_size)``.

        Parameters
        ----------
        codes : array-like
            Finite numbers of shape ``(N, latent_dim)``.

        Returns
        -------
        numpy.ndarray
            uint8 images.

        Raises
        ------
        MnistlabError
            Codes of another shape, or not finite.

        Examples
        --------
        >>> import numpy as np
        >>> gan = train_generative(np.zeros((8, 28, 28), np.uint8), model="gan",
        ...                        latent_dim=2, epochs=1, progress=False)
        >>> gan.decode(np.zeros((4, 2))).shape
        (4, 28, 28)
        """
        import torch

        from mnistlab.models._generative_train import to_uint8

        z = self._codes(codes)
        out = [np.zeros((0, self.image_size, self.image_size), np.uint8)]
        self.net.eval()
        with torch.inference_mode():
            for start in range(0, len(z), self.batch_size):
                out.append(
                    to_uint8(self._pixels(torch.from_numpy(z[start : start + self.batch_size])))
                )
        return np.concatenate(out, axis=0)

    def encode(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The latent means of ``images`` (a VAE only; see :meth:`VAEModel.encode`).

        Raises
        ------
        MnistlabError
            This model has no encoder (a GAN).
        """
        raise MnistlabError(
            f"model {self.name!r} is a {self.architecture.upper()}: it has no encoder "
            "(only a VAE encodes images)"
        )

    def sample_dataset(
        self, n: int, seed: int = 0, split: str = "test"
    ) -> tuple[Dataset, NDArray[np.float32]]:
        """:meth:`sample` as a :class:`~mnistlab.data.Dataset`, and the codes.

        The samples have no labels: every label is 0, the one class
        :data:`SAMPLE_CLASS` (``"unlabelled"``). The dataset is named ``"<model>-samples"``.

        Examples
        --------
        >>> import numpy as np
        >>> gan = train_generative(np.zeros((8, 28, 28), np.uint8), model="gan",
        ...                        latent_dim=2, epochs=1, progress=False)
        >>> ds, codes = gan.sample_dataset(3)
        >>> ds.name, ds.class_names, ds.labels.tolist(), codes.shape
        ('gan-2-samples', ('unlabelled',), [0, 0, 0], (3, 2))
        """
        from mnistlab.data import Dataset
        from mnistlab.data.registry import SPLITS

        check_choice(split, SPLITS, "split")
        images, codes = self.sample(n, seed)
        labels = np.zeros(len(images), np.int64)
        ds = Dataset(images, labels, (SAMPLE_CLASS,), name=f"{self.name}-samples", split=split)
        return ds, codes

    # ------------------------------------------------------------------ not a classifier

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Raise: a generative model is not a classifier.

        Raises
        ------
        MnistlabError
            Always, naming the model.
        """
        raise MnistlabError(
            f"model {self.name!r} is a generative model ({self.architecture}), not a "
            "classifier: it has no logits to predict (sample it, or encode with a VAE)"
        )

    # ------------------------------------------------------------------ saving

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the model into the folder ``path`` (``manifest.json``, ``weights.pt``),
        atomically; a previous model folder there is replaced.

        Examples
        --------
        >>> import numpy as np, tempfile
        >>> from mnistlab.models import load_model
        >>> gan = train_generative(np.zeros((8, 28, 28), np.uint8), model="gan",
        ...                        latent_dim=2, epochs=1, progress=False)
        >>> folder = gan.save(Path(tempfile.mkdtemp()) / "gan")
        >>> back = load_model(folder)
        >>> bool(np.array_equal(back.sample(4)[0], gan.sample(4)[0]))
        True
        """
        import torch

        with atomic_dir(path, "model") as tmp:
            torch.save(self.net.state_dict(), tmp / WEIGHTS)
            (tmp / MANIFEST).write_text(self._manifest_json(), encoding="utf-8")
        return Path(path)

    # ------------------------------------------------------------------ internals

    def _pixels(self, z: torch.Tensor) -> torch.Tensor:
        """Pixels on the 0..1 scale ``(N, 1, S, S)`` of codes ``z``."""
        raise NotImplementedError

    def _codes(self, codes: Any) -> NDArray[np.float32]:
        try:
            z = np.asarray(codes, dtype=np.float32)
        except (TypeError, ValueError):
            raise MnistlabError(f"codes must be numbers, got {type(codes).__name__}") from None
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise MnistlabError(
                f"model {self.name!r} decodes codes of shape (N, {self.latent_dim}), got {z.shape}"
            )
        if not np.isfinite(z).all():
            raise MnistlabError("codes must be finite (no NaN or infinity)")
        return np.ascontiguousarray(z)

    def _images(self, images: Any) -> NDArray[np.uint8]:
        x = np.asarray(images)
        side = self.image_size
        if x.ndim != 3 or x.shape[1:] != (side, side) or x.dtype != np.uint8:
            raise MnistlabError(
                f"model {self.name!r} expects uint8 images of shape (N, {side}, {side}), "
                f"got {x.dtype} {x.shape}"
            )
        return x


class VAEModel(GenerativeModel):
    """A trained VAE (see :class:`GenerativeModel`): it also encodes and reconstructs."""

    def encode(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The means of ``q(z|x)`` of uint8 ``images (N, S, S)``, float32 ``(N, latent_dim)``.

        Raises
        ------
        MnistlabError
            Images of another shape or dtype.

        Examples
        --------
        >>> import numpy as np
        >>> vae = train_generative(np.zeros((8, 28, 28), np.uint8), latent_dim=3, epochs=1,
        ...                        progress=False)
        >>> vae.encode(np.zeros((2, 28, 28), np.uint8)).shape
        (2, 3)
        """
        import torch

        from mnistlab.models._generative_train import to_tensor

        x = self._images(images)
        out = [np.zeros((0, self.latent_dim), np.float32)]
        self.net.eval()
        with torch.inference_mode():
            for start in range(0, len(x), self.batch_size):
                stats = self.net["encoder"](to_tensor(x[start : start + self.batch_size]))
                out.append(stats[:, : self.latent_dim].float().numpy())
        return np.concatenate(out, axis=0)

    def reconstruct(self, images: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """``decode(encode(images))``: the reconstructions from the posterior means.

        Examples
        --------
        >>> import numpy as np
        >>> vae = train_generative(np.zeros((8, 28, 28), np.uint8), latent_dim=3, epochs=1,
        ...                        progress=False)
        >>> vae.reconstruct(np.zeros((2, 28, 28), np.uint8)).dtype
        dtype('uint8')
        """
        return self.decode(self.encode(images))

    def _pixels(self, z: torch.Tensor) -> torch.Tensor:
        return self.net["decoder"](z).sigmoid()


class GANModel(GenerativeModel):
    """A trained GAN (see :class:`GenerativeModel`): its generator decodes, it cannot encode."""

    def _pixels(self, z: torch.Tensor) -> torch.Tensor:
        return (self.net["generator"](z) + 1.0) * 0.5


#: The class of each architecture.
MODEL_CLASSES: dict[str, type[GenerativeModel]] = {"vae": VAEModel, "gan": GANModel}


def _load_generative(folder: Path, manifest: dict[str, Any]) -> GenerativeModel:
    import torch

    name, _, rest = split_manifest(manifest)
    arch = rest.pop("architecture", None)
    if arch not in MODEL_CLASSES:
        raise MnistlabError(f"{folder / MANIFEST}: unknown generative architecture {arch!r}")
    latent = rest.pop("latent_dim", None)
    size = rest.get("image_size", 28)
    if (
        not isinstance(latent, int)
        or not 1 <= latent <= MAX_LATENT_DIM
        or not isinstance(size, int)
    ):
        raise MnistlabError(f"{folder / MANIFEST}: invalid latent_dim {latent!r} or image size")
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise MnistlabError(f"{weights}: missing weights file")
    net = BUILDERS[arch](latent, size)
    try:
        net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    except (RuntimeError, OSError, EOFError, ValueError):
        raise MnistlabError(
            f"{weights}: not the weights of a {arch} of latent size {latent} and image size {size}"
        ) from None
    return MODEL_CLASSES[arch](net, arch, latent, name, rest, image_size=size)


register_loader("generative", _load_generative)


def load_generative(path: str | os.PathLike[str]) -> GenerativeModel:
    """Load a generative model folder (:func:`mnistlab.models.load_model`, checked).

    Parameters
    ----------
    path : path-like
        A folder saved by :meth:`GenerativeModel.save` (``mnistlab train --model vae``).

    Returns
    -------
    GenerativeModel

    Raises
    ------
    MnistlabError
        ``path`` is not a saved model, or holds a classifier.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> gan = train_generative(np.zeros((8, 28, 28), np.uint8), model="gan",
    ...                        latent_dim=2, epochs=1, progress=False)
    >>> load_generative(gan.save(Path(tempfile.mkdtemp()) / "gan")).name
    'gan-2'
    """
    from mnistlab.models.base import load_model

    model = load_model(path)
    if not isinstance(model, GenerativeModel):
        raise MnistlabError(
            f"{path}: a {model.kind} classifier, not a generative model "
            "(train one with --model vae or --model gan)"
        )
    return model


register_trainers("generative", train_generative, GENERATIVE_MODELS)
