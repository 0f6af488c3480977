"""A small but complete run directory built without training: for tests, demos and benchmarks.

The "model" is a nearest-centroid classifier fitted on the given images (distances to the
class means as logits), optionally with a logistic-regression baseline, so predictions are
computed from real images in seconds. Everything after the predictions is written by the
study's own steps (:mod:`mnistlab.workflows.study`): ``eval/``, ``morpho.parquet``,
``scores/<model>`` and ``hardness/<model>/``, ``compare/`` (with a baseline) and, when asked,
``report.html``; so the run has the real layout (:class:`mnistlab.run.RunLayout`). Only
``models/<model>/`` holds a manifest rather than a trained network.
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
from mnistlab.run import (
    CLEAN,
    RunLayout,
    mark_step,
    parse_variant,
    update_manifest,
    write_table,
)
from mnistlab.scores.uncertainty import softmax
from mnistlab.workflows.variants import variant_images

__all__ = ["make_demo_run"]


def _centroid_logits(
    x: NDArray[np.float64], centroids: NDArray[np.float64], temperature: float
) -> NDArray[np.float64]:
    """Negative squared distances to the class means (pixels on the 0..1 scale)."""
    d = (x * x).sum(1)[:, None] - 2.0 * x @ centroids.T + (centroids * centroids).sum(1)[None, :]
    return np.asarray(-d / temperature)


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
    temperature: float = 4.0,
    baseline: str | None = None,
    report: bool = False,
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
        :func:`mnistlab.workflows.variants.variant_images` (registered corruptions only).
    seed : int
        The run's seed (corruptions, t-SNE, bootstrap).
    dataset, model : str
        Names recorded in the manifest and used for the tables.
    embeddings : sequence of str
        Embedding methods to write (empty: no ``embeddings/`` table).
    tsne_max : int
        Rows that go into t-SNE.
    temperature : float
        Softmax temperature of the centroid logits.
    baseline : str, optional
        Also write the predictions of a second model of this name (logistic regression on
        the pixels), the baseline of the mCE in ``eval/mce.csv``; two models also get the
        study's ``compare/`` step.
    report : bool
        Also write ``report.html`` (the study's last step).

    Returns
    -------
    pathlib.Path
        The run directory.
    """
    import pandas as pd

    from mnistlab.workflows import study
    from mnistlab.workflows.compare import step_compare
    from mnistlab.workflows.embed import embed_features
    from mnistlab.workflows.report_steps import step_report

    run = Path(out)
    layout = RunLayout(run)
    x = np.ascontiguousarray(images, dtype=np.uint8)
    y = np.asarray(labels, dtype=np.int64)
    if x.ndim != 3 or len(x) != len(y) or len(x) < 10:
        raise MnistlabError(
            f"images {x.shape} and labels {y.shape} must match, with at least 10 rows"
        )
    n_classes = len(class_names)
    names = [model] if baseline is None else [model, baseline]
    if len(set(names)) != len(names):
        raise MnistlabError(f"baseline: must differ from the model name {model!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = {"mnistlab": version("mnistlab")}
    except PackageNotFoundError:  # a source tree that was never installed
        own = {}
    versions = {
        **own,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    run.mkdir(parents=True, exist_ok=True)
    for path, arr in ((layout.test_images, x), (layout.test_labels, y)):
        with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, arr)
    update_manifest(
        run,
        dataset={"name": dataset, "split": "test", "n": len(x)},
        class_names=list(class_names),
        seed=seed,
        compat=None,
        models=names,
        variants=list(variants),
        created=time.strftime("%Y-%m-%dT%H:%M:%S"),
        versions=versions,
        demo=True,
    )
    # The options a study of these models would have: the steps below read them.
    options = study.StudyOptions(
        dataset=dataset,
        seed=seed,
        quick=True,
        models=tuple(names),
        baseline=baseline or "",
        workers=1,
        progress=False,
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
        write_text_atomic(
            layout.model(name) / "manifest.json",
            json.dumps({"model": name, "kind": "demo (no trained network)"}) + "\n",
        )
    # The study's own steps from here on, in the study's order.
    steps = [
        ("evaluate", study.step_evaluate),
        ("morpho", study.step_morpho),
        ("hardness", study.step_hardness),
    ]
    if baseline is not None:
        steps.append(("compare", step_compare))
    for step, fn in steps:
        start = time.perf_counter()
        info = fn(run, options)
        mark_step(run, step, time.perf_counter() - start, info=info)
    if embeddings:
        coords = embed_features(flat, methods=embeddings, seed=seed, tsne_max=tsne_max)
        emb = {"sample_id": ids, "variant": CLEAN}
        for method, xy in coords.items():
            emb.update({f"{method}_0": xy[:, 0], f"{method}_1": xy[:, 1]})
        write_table(run, f"embeddings/{model}", pd.DataFrame(emb))
    if report:
        start = time.perf_counter()
        info = step_report(run, options)
        mark_step(run, "report", time.perf_counter() - start, info=info)
    return run


def _fit_baseline(flat: NDArray[np.float64], y: NDArray[np.int64], seed: int) -> Any:
    """Multinomial logistic regression on the pixels (the demo's mCE baseline)."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return LogisticRegression(C=1e-3, max_iter=200, random_state=seed).fit(flat, y)
