"""A small but complete run directory built without training: for tests, demos and benchmarks.

The "model" is a nearest-centroid classifier fitted on the given images (distances to the
class means as logits), so predictions, scores, morphometrics, embeddings, prioritisation
and active-learning tables are all computed from real images, in seconds.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import pandas as pd

from mnistlab._atomic import atomic_path, write_text_atomic
from mnistlab.errors import MnistlabError
from mnistlab.run import CLEAN, parse_variant, update_manifest, variant_images, write_table

__all__ = ["make_demo_run"]


def _softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _centroid_logits(
    x: NDArray[np.float64], centroids: NDArray[np.float64], temperature: float
) -> NDArray[np.float64]:
    """Negative squared distances to the class means (pixels on the 0..1 scale)."""
    d = (x * x).sum(1)[:, None] - 2.0 * x @ centroids.T + (centroids * centroids).sum(1)[None, :]
    return np.asarray(-d / temperature)


def _scores(
    probs: NDArray[np.float64], labels: NDArray[np.int64]
) -> dict[str, NDArray[np.float64]]:
    top2 = np.sort(probs, axis=1)[:, -2:]
    p = np.clip(probs, 1e-12, 1.0)
    return {
        "entropy": -(p * np.log(p)).sum(1),
        "gini": 1.0 - (probs**2).sum(1),
        "margin": 1.0 - (top2[:, 1] - top2[:, 0]),
        "least_confidence": 1.0 - top2[:, 1],
        "mistakenness": 1.0 - probs[np.arange(len(labels)), labels],
    }


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


def _apfd(order_hardness: NDArray[np.float64], wrong: NDArray[np.bool_]) -> float:
    n, m = len(wrong), int(wrong.sum())
    if m == 0:
        return float("nan")
    ranks = np.empty(n, np.int64)
    ranks[np.argsort(-order_hardness, kind="stable")] = np.arange(1, n + 1)
    return float(1.0 - ranks[wrong].sum() / (n * m) + 1.0 / (2 * n))


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

    Returns
    -------
    pathlib.Path
        The run directory.
    """
    import pandas as pd

    from mnistlab.report.embed import embed_features

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
    import mnistlab

    update_manifest(
        run,
        dataset={"name": dataset, "split": "test", "n": len(x)},
        class_names=list(class_names),
        seed=seed,
        compat=None,
        models=[model],
        variants=list(variants),
        created=time.strftime("%Y-%m-%dT%H:%M:%S"),
        versions={
            "mnistlab": getattr(mnistlab, "__version__", "?"),
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
    preds, scores = [], []
    for variant in variants:
        corruption, severity = parse_variant(variant)
        vimg = x if variant == CLEAN else variant_images(run, variant, ids)
        logits = _centroid_logits(vimg.reshape(len(vimg), -1) / 255.0, centroids, temperature)
        probs = _softmax(logits)
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
        frame["model"] = model
        preds.append(pd.DataFrame(frame))
        scores.append(pd.DataFrame({"sample_id": ids, "variant": variant, **_scores(probs, y)}))
    pred_table = pd.concat(preds, ignore_index=True)
    score_table = pd.concat(scores, ignore_index=True)
    write_table(run, f"preds/{model}", pred_table)
    write_table(run, f"scores/{model}", score_table)
    write_table(run, "morpho", pd.DataFrame({"sample_id": ids, **_morpho(x)}))
    if embeddings:
        coords = embed_features(flat, methods=embeddings, seed=seed, tsne_max=tsne_max)
        emb = {"sample_id": ids, "variant": CLEAN}
        for method, xy in coords.items():
            emb.update({f"{method}_0": xy[:, 0], f"{method}_1": xy[:, 1]})
        write_table(run, f"embeddings/{model}", pd.DataFrame(emb))
    wrong = (pred_table["label"] != pred_table["pred"]).to_numpy()
    prio = [
        {"score": name, "apfd": _apfd(score_table[name].to_numpy(), wrong)}
        for name in ("entropy", "gini", "margin", "least_confidence")
    ]
    rng = np.random.default_rng(seed)
    prio.append({"score": "random", "apfd": _apfd(rng.random(len(wrong)), wrong)})
    _write_csv(run / "hardness" / "prioritisation.csv", pd.DataFrame(prio))
    if active_learning:
        _write_csv(
            run / "active_learning" / "curves.csv", _active_learning(flat, y, n_classes, seed)
        )
    _write_eval(run, pred_table)
    (run / "models" / model).mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        run / "models" / model / "manifest.json",
        json.dumps({"model": model, "kind": "nearest-centroid demo"}) + "\n",
    )
    return run


def _write_eval(run: Path, preds: pd.DataFrame) -> None:
    """``eval/accuracy.csv`` and its heatmap, as a study's evaluation step leaves them."""
    from mnistlab._atomic import write_bytes_atomic
    from mnistlab.report.plots import heatmap_png

    frame = preds.assign(correct=preds["label"] == preds["pred"])
    acc = (
        frame.groupby(["corruption", "severity"])["correct"].mean().rename("accuracy").reset_index()
    )
    _write_csv(run / "eval" / "accuracy.csv", acc)
    pivot = acc.pivot(index="corruption", columns="severity", values="accuracy")
    write_bytes_atomic(run / "eval" / "accuracy_heatmap.png", heatmap_png(pivot, "accuracy (demo)"))


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
            probs = _softmax(logits)
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
                ent = _scores(probs[pool], y[pool])["entropy"]
                pick = pool[np.argsort(-ent)[:step]]
            labelled = np.concatenate([labelled, pick])
    return pd.DataFrame(rows)
