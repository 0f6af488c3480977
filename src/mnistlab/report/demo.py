"""A small but complete run directory built without training: for tests, demos and benchmarks.

The "model" is a nearest-centroid classifier fitted on the given images (distances to the
class means as logits), optionally with a logistic-regression baseline, so predictions are
computed from real images in seconds. Everything after the predictions is written by the
study's own writers: ``eval/`` by :func:`mnistlab.evaluate.evaluate`, ``scores/<model>``
and ``hardness/<model>/`` by :func:`mnistlab.scores.analyze_run`.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import pandas as pd

from mnistlab._atomic import atomic_path, write_text_atomic
from mnistlab.errors import MnistlabError
from mnistlab.run import CLEAN, parse_variant, update_manifest, variant_images, write_table
from mnistlab.scores.uncertainty import entropy, softmax

__all__ = ["make_demo_run"]


def _centroid_logits(
    x: NDArray[np.float64], centroids: NDArray[np.float64], temperature: float
) -> NDArray[np.float64]:
    """Negative squared distances to the class means (pixels on the 0..1 scale)."""
    d = (x * x).sum(1)[:, None] - 2.0 * x @ centroids.T + (centroids * centroids).sum(1)[None, :]
    return np.asarray(-d / temperature)


def _morpho(images: NDArray[np.uint8]) -> dict[str, NDArray[np.float64]]:
    ink: NDArray[np.bool_] = np.asarray(images >= 128)
    area = ink.sum(axis=(1, 2)).astype(np.float64)
    rows: NDArray[np.bool_] = np.asarray(ink.any(axis=2))
    cols: NDArray[np.bool_] = np.asarray(ink.any(axis=1))
    h, w = images.shape[1:]
    top = np.where(rows.any(1), rows.argmax(1), 0)
    bottom = np.where(rows.any(1), h - rows[:, ::-1].argmax(1), 0)
    left = np.where(cols.any(1), cols.argmax(1), 0)
    right = np.where(cols.any(1), w - cols[:, ::-1].argmax(1), 0)
    height = (bottom - top).astype(np.float64)
    width = (right - left).astype(np.float64)
    yy, xx = np.mgrid[:h, :w]
    m = images.astype(np.float64)
    mass = np.maximum(m.sum(axis=(1, 2)), 1.0)
    cy = (m * yy).sum(axis=(1, 2)) / mass
    cx = (m * xx).sum(axis=(1, 2)) / mass
    mu11 = (m * (yy - cy[:, None, None]) * (xx - cx[:, None, None])).sum(axis=(1, 2)) / mass
    mu02 = (m * (yy - cy[:, None, None]) ** 2).sum(axis=(1, 2)) / mass
    # Edges of the ink mask approximate the stroke's perimeter; area / half-perimeter ~ thickness.
    edges = (ink[:, 1:, :] != ink[:, :-1, :]).sum(axis=(1, 2)) + (
        ink[:, :, 1:] != ink[:, :, :-1]
    ).sum(axis=(1, 2))
    half_perimeter = np.maximum(edges / 2.0, 1.0)
    return {
        "area": area,
        "length": half_perimeter,
        "thickness": area / half_perimeter,
        "slant": np.arctan2(-mu11, np.maximum(mu02, 1e-9)),
        "width": width,
        "height": height,
    }


def make_demo_run(
    out: str | os.PathLike[str],
    images: ArrayLike,
    labels: ArrayLike,
    class_names: Sequence[str],
    variants: Sequence[str] = (CLEAN,),
    seed: int = 0,
    dataset: str = "fashion-mnist",
    model: str = "cnn",
    embeddings: Sequence[str] = ("pca", "tsne"),
    tsne_max: int = 500,
    active_learning: bool = True,
    temperature: float = 4.0,
    baseline: str | None = None,
) -> Path:
    """Write a complete run directory for ``images`` (tables only; no trained network).

    Parameters
    ----------
    out : path-like
        The run directory to create (or complete).
    images, labels : arrays
        Clean test images (uint8 N x H x W) and their labels.
    class_names : sequence of str
        One name per class.
    variants : sequence of str
        ``"clean"`` and ``"<corruption>-s<k>"`` names; their images come from
        :func:`mnistlab.run.variant_images`, so the corruptions must be registered.
    seed : int
        The run's seed (corruptions, t-SNE, active learning).
    dataset, model : str
        Names recorded in the manifest and used for the tables.
    embeddings : sequence of str
        Embedding methods to write (empty: no ``embeddings/`` table).
    tsne_max : int
        Rows that go into t-SNE.
    active_learning : bool
        Also write ``active_learning/curves.csv``.
    temperature : float
        Softmax temperature of the centroid logits.
    baseline : str, optional
        Also write the predictions of a second model of this name (logistic regression on
        the pixels), the baseline of the mCE in ``eval/mce.csv``.

    Returns
    -------
    pathlib.Path
        The run directory.
    """
    import pandas as pd

    from mnistlab.evaluate import evaluate
    from mnistlab.report.embed import embed_features
    from mnistlab.scores import analyze_run

    run = Path(out)
    x = np.ascontiguousarray(images, dtype=np.uint8)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim != 3 or len(x) != len(y) or len(x) < 10:
        raise MnistlabError(
            f"images {x.shape} and labels {y.shape} must match, with at least 10 rows"
        )
    n_classes = len(class_names)
    run.mkdir(parents=True, exist_ok=True)
    for name, arr in (("test_images", x), ("test_labels", y)):
        with atomic_path(run / "data" / f"{name}.npy", suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, arr)
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = {"mnistlab": version("mnistlab")}
    except PackageNotFoundError:  # a source tree that was never installed
        own = {}
    names = [model] if baseline is None else [model, baseline]
    if len(set(names)) != len(names):
        raise MnistlabError(f"baseline: must differ from the model name {model!r}")
    update_manifest(
        run,
        dataset={"name": dataset, "split": "test", "n": len(x)},
        class_names=list(class_names),
        seed=seed,
        compat=None,
        models=names,
        variants=list(variants),
        created=time.strftime("%Y-%m-%dT%H:%M:%S"),
        versions={
            **own,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
        demo=True,
    )
    flat = x.reshape(len(x), -1).astype(np.float64) / 255.0
    centroids = np.stack(
        [
            flat[y == c].mean(0) if (y == c).any() else np.zeros(flat.shape[1])
            for c in range(n_classes)
        ]
    )
    ids = np.arange(len(x), dtype=np.int64)
    linear = _fit_baseline(flat, y, seed) if baseline is not None else None
    preds: dict[str, list[pd.DataFrame]] = {name: [] for name in names}
    for variant in variants:
        corruption, severity = parse_variant(variant)
        vimg = x if variant == CLEAN else variant_images(run, variant, ids)
        vflat = vimg.reshape(len(vimg), -1) / 255.0
        for name in names:
            if name == model:
                logits = _centroid_logits(vflat, centroids, temperature)
            else:
                assert linear is not None
                logits = np.full((len(vflat), n_classes), -1e3)  # classes never seen: unlikely
                logits[:, linear.classes_] = linear.decision_function(vflat)
            probs = softmax(logits)
            frame = {
                "sample_id": ids,
                "variant": variant,
                "corruption": corruption,
                "severity": severity,
                "label": y,
                "pred": probs.argmax(1),
            }
            frame.update({f"logit_{c}": logits[:, c] for c in range(n_classes)})
            frame.update({f"prob_{c}": probs[:, c] for c in range(n_classes)})
            frame["model"] = name
            preds[name].append(pd.DataFrame(frame))
    for name in names:
        write_table(run, f"preds/{name}", pd.concat(preds[name], ignore_index=True))
    write_table(run, "morpho", pd.DataFrame({"sample_id": ids, **_morpho(x)}))
    if embeddings:
        coords = embed_features(flat, methods=embeddings, seed=seed, tsne_max=tsne_max)
        emb = {"sample_id": ids, "variant": CLEAN}
        for method, xy in coords.items():
            emb.update({f"{method}_0": xy[:, 0], f"{method}_1": xy[:, 1]})
        write_table(run, f"embeddings/{model}", pd.DataFrame(emb))
    # The study's own writers from here on: eval/ tables and figures, scores and hardness/.
    evaluate([run / "preds" / f"{name}.parquet" for name in names], run / "eval", baseline=baseline)
    for name in names:
        analyze_run(run, model=name)
    if active_learning:
        _write_csv(
            run / "active_learning" / "curves.csv", _active_learning(flat, y, n_classes, seed)
        )
    (run / "models" / model).mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        run / "models" / model / "manifest.json",
        json.dumps({"model": model, "kind": "nearest-centroid demo"}) + "\n",
    )
    return run


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    with atomic_path(path, suffix=".csv") as tmp:
        table.to_csv(tmp, index=False)


def _active_learning(
    flat: NDArray[np.float64], y: NDArray[np.int64], n_classes: int, seed: int
) -> pd.DataFrame:
    """Nearest-centroid accuracy as the labelled set grows, random vs entropy sampling."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = len(y)
    step = max(n_classes, n // 20)
    rows = []
    for strategy in ("random", "entropy"):
        labelled = rng.choice(n, size=step, replace=False)
        for _ in range(5):
            mask = np.zeros(n, bool)
            mask[labelled] = True
            cents = np.stack(
                [
                    flat[labelled][y[labelled] == c].mean(0)
                    if (y[labelled] == c).any()
                    else np.zeros(flat.shape[1])
                    for c in range(n_classes)
                ]
            )
            logits = _centroid_logits(flat, cents, 4.0)
            probs = softmax(logits)
            rows.append(
                {
                    "strategy": strategy,
                    "labelled": int(mask.sum()),
                    "accuracy": float((probs.argmax(1) == y).mean()),
                }
            )
            pool = np.flatnonzero(~mask)
            if len(pool) == 0:
                break
            if strategy == "random":
                pick = rng.choice(pool, size=min(step, len(pool)), replace=False)
            else:
                ent = entropy(probs[pool])
                pick = pool[np.argsort(-ent)[:step]]
            labelled = np.concatenate([labelled, pick])
    return pd.DataFrame(rows)


def _fit_baseline(flat: NDArray[np.float64], y: NDArray[np.int64], seed: int) -> Any:
    """Multinomial logistic regression on the pixels (the demo's mCE baseline)."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return LogisticRegression(C=1e-3, max_iter=200, random_state=seed).fit(flat, y)
