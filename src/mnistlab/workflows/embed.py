"""2-D embeddings of a model's features: PCA on every sample, t-SNE on a subsample.

t-SNE costs O(n log n) per iteration and runs for minutes on tens of thousands of points on a
small machine, so it is fitted on at most ``tsne_max`` samples (drawn per class, seeded);
the other rows get ``NaN`` t-SNE coordinates and are shown only in the PCA view.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.errors import MnistlabError
from mnistlab.run import CLEAN, RunLayout, clean_images, mark_step, write_table
from mnistlab.workflows.variants import variant_images

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METHODS", "embed_features", "embed_run"]

METHODS = ("pca", "tsne")


def _pca(x: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    centred = x - x.mean(axis=0)
    # Economy SVD of the centred data: the first k right singular vectors span the top components.
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = centred @ vt[:k].T
    # Fix each axis's sign (largest loading positive) so reruns give the same picture.
    signs = np.sign(vt[:k][np.arange(min(k, vt.shape[0])), np.abs(vt[:k]).argmax(axis=1)])
    signs[signs == 0] = 1
    return np.asarray(out * signs, dtype=np.float64)


def _subsample(n: int, n_max: int, seed: int) -> NDArray[np.int64]:
    if n <= n_max:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:n_max])


def embed_features(
    features: ArrayLike,
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    tsne_max: int = 3000,
    perplexity: float = 30.0,
    n_jobs: int = 1,
) -> dict[str, NDArray[np.float64]]:
    """2-D coordinates of ``features`` for each method.

    Parameters
    ----------
    features : array-like, shape (N, D)
        One feature vector per sample (e.g. the CNN's penultimate layer).
    methods : sequence of {"pca", "tsne"}
        Which embeddings to compute.
    seed : int
        Seed of t-SNE and of its subsample.
    tsne_max : int
        At most this many rows go into t-SNE; the others get NaN.
    perplexity : float
        t-SNE perplexity (lowered automatically for tiny inputs).
    n_jobs : int
        t-SNE threads. One by default: on a small shared machine more threads were measured
        7x slower (they spin waiting for each other).

    Returns
    -------
    dict
        ``{method: float64 array (N, 2)}``.

    Examples
    --------
    >>> import numpy as np
    >>> out = embed_features(np.random.default_rng(0).normal(size=(50, 8)), methods=["pca"])
    >>> out["pca"].shape
    (50, 2)
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 3:
        raise MnistlabError(
            f"features must be a 2-D array with at least 3 rows, got shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise MnistlabError("features contain NaN or infinite values")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise MnistlabError(
            f"unknown embedding method {unknown[0]!r} (choose from: {', '.join(METHODS)})"
        )
    if tsne_max < 3:
        raise MnistlabError(f"tsne_max must be at least 3, got {tsne_max}")
    n = x.shape[0]
    out: dict[str, NDArray[np.float64]] = {}
    reduced = _pca(x, min(50, x.shape[1], n))
    if "pca" in methods:
        pca2 = np.zeros((n, 2))
        pca2[:, : min(2, reduced.shape[1])] = reduced[:, :2]
        out["pca"] = pca2
    if "tsne" in methods:
        from openTSNE import TSNE

        rows = _subsample(n, tsne_max, seed)
        sub = reduced[rows]
        perp = float(min(perplexity, max(2.0, (len(rows) - 1) / 3.0)))
        emb = TSNE(
            n_components=2,
            perplexity=perp,
            random_state=seed,
            n_jobs=n_jobs,
            negative_gradient_method="bh",
            verbose=False,
        ).fit(np.ascontiguousarray(sub, dtype=np.float64))
        tsne = np.full((n, 2), np.nan)
        tsne[rows] = np.asarray(emb, dtype=np.float64)
        out["tsne"] = tsne
    return out


def embed_run(
    run_dir: str | os.PathLike[str],
    model: str = "cnn",
    variants: Sequence[str] = (CLEAN,),
    n_corrupted: int = 1000,
    methods: Sequence[str] = METHODS,
    tsne_max: int = 3000,
    seed: int = 0,
    model_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Embed the features of ``model`` over the run's test images; write ``embeddings/<model>``.

    Features come from ``mnistlab.models.features(load_model(model_dir), images)`` (by
    default ``model_dir`` is ``RUN/models/<model>``)
    on every clean test image and on the first ``n_corrupted`` images of each other variant
    named in ``variants``. All rows share one PCA and one t-SNE, so corrupted samples land
    where the model sees them relative to the clean ones.

    Parameters
    ----------
    run_dir : path-like
        The run directory (``data/`` and ``models/<model>`` must exist).
    model : str
        Model name under ``RUN/models``.
    variants : sequence of str
        Variant names to embed (``"clean"`` embeds the whole clean split).
    n_corrupted : int
        Samples per corrupted variant.
    methods, tsne_max, seed
        See :func:`embed_features`.
    model_dir : path-like, optional
        The saved model's folder, when it is not ``RUN/models/<model>`` (a model folder
        given to ``study --models``).

    Returns
    -------
    pathlib.Path
        ``RUN/embeddings/<model>.parquet``: ``sample_id, variant, pca_0, pca_1, tsne_0, tsne_1``.
    """

    from mnistlab.models import features, load_model

    start = time.perf_counter()
    run = Path(run_dir)
    model_dir = Path(model_dir) if model_dir is not None else RunLayout(run).model(model)
    if not model_dir.exists():
        raise MnistlabError(f"{model_dir}: no such model in this run")
    net = load_model(model_dir)
    images = clean_images(run)
    n = images.shape[0]
    feats, ids, names = [], [], []
    for variant in variants:
        vids = np.arange(n) if variant == CLEAN else np.arange(min(n_corrupted, n))
        imgs = np.asarray(images[vids]) if variant == CLEAN else variant_images(run, variant, vids)
        feats.append(np.asarray(features(net, imgs), dtype=np.float64).reshape(len(vids), -1))
        ids.append(vids)
        names.extend([variant] * len(vids))
    coords = embed_features(np.concatenate(feats), methods=methods, seed=seed, tsne_max=tsne_max)
    table = _table(np.concatenate(ids), names, coords)
    path = write_table(run, f"embeddings/{model}", table)
    mark_step(run, f"embed/{model}", time.perf_counter() - start, rows=len(table))
    return path


def _table(
    ids: NDArray[np.int64], variants: list[str], coords: dict[str, NDArray[np.float64]]
) -> pd.DataFrame:
    import pandas as pd

    data: dict[str, object] = {"sample_id": ids.astype(np.int64), "variant": variants}
    for method, xy in coords.items():
        data[f"{method}_0"] = xy[:, 0]
        data[f"{method}_1"] = xy[:, 1]
    return pd.DataFrame(data)
