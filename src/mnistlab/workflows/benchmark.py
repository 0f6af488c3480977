"""A grid of scikit-learn classifier configs, in the spirit of the Fashion-MNIST benchmark.

Every config is trained on the train split and scored on the test split; each result is a
JSON line in ``results.jsonl`` (accuracy, training and prediction seconds). Configs already
in the file (same dataset, classifier, parameters, sizes and seed) are skipped, so an
interrupted benchmark resumes. ``results.md`` ranks the configs by accuracy and
``results.png`` plots accuracy against training time.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab._atomic import atomic_path, write_text_atomic
from mnistlab.errors import MnistlabError

__all__ = ["GRID", "config_key", "run_benchmark"]

#: classifier -> parameter sets tried (each merged over the defaults of ``classic.CLASSIFIERS``).
GRID: dict[str, list[dict[str, Any]]] = {
    "logreg": [{"C": 0.01}, {"C": 0.1}, {"C": 1.0}],
    "rf": [
        {"n_estimators": 100},
        {"n_estimators": 100, "criterion": "entropy"},
        {"n_estimators": 200},
    ],
    "knn": [{"n_neighbors": 5}, {"n_neighbors": 9}, {"n_neighbors": 5, "weights": "uniform"}],
    "mlp": [
        {"hidden_layer_sizes": [100]},
        {"hidden_layer_sizes": [256]},
        {"hidden_layer_sizes": [256, 128]},
    ],
    "svc": [
        {"n_components": 1000, "C": 0.1},
        {"n_components": 1500, "C": 0.1},
        {"n_components": 1500, "C": 1.0},
    ],
    "gb": [{"max_iter": 30}, {"max_iter": 60}],
}


def config_key(entry: dict[str, Any]) -> str:
    """The cache key of a config: dataset, classifier, params, sizes and seed."""
    fields = {
        k: entry.get(k)
        for k in ("dataset", "classifier", "params", "train_size", "test_size", "seed")
    }
    return json.dumps(fields, sort_keys=True)


def _read_results(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            raise MnistlabError(f"{path}:{lineno}: not a JSON line") from None
    return rows


def _params(params: dict[str, Any]) -> dict[str, Any]:
    # JSON has no tuples; scikit-learn wants a tuple of layer sizes.
    return {k: tuple(v) if k == "hidden_layer_sizes" else v for k, v in params.items()}


def run_benchmark(
    dataset: str,
    out: str | os.PathLike[str],
    *,
    models: Sequence[str] | None = None,
    grid: dict[str, list[dict[str, Any]]] | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
    overwrite: bool = False,
) -> Any:
    """Run the grid (cached in ``out/results.jsonl``); return the ranked results DataFrame.

    Parameters
    ----------
    dataset : str
        Dataset name or IDX folder.
    out : path-like
        Folder of ``results.jsonl``, ``results.md`` and ``results.png``.
    models : sequence of str, optional
        Classifiers of :data:`GRID` to run (default: all).
    grid : dict, optional
        Replaces :data:`GRID`.
    train_size, test_size : int, optional
        Use only the first rows of each split (quick runs).
    overwrite : bool
        Start a previous benchmark folder afresh instead of reusing it as the cache.
    """
    import shutil

    import pandas as pd
    from tqdm.auto import tqdm

    from mnistlab._output import output_kind, write_marker
    from mnistlab.data import load
    from mnistlab.models.classic import train_sklearn

    table = grid or GRID
    chosen = models or list(table)
    unknown = [m for m in chosen if m not in table]
    if unknown:
        raise MnistlabError(
            f"unknown benchmark classifier(s) {', '.join(unknown)} "
            f"(choose from: {', '.join(table)})"
        )
    folder = Path(out)
    if overwrite and output_kind(folder) == "benchmark":
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_marker(folder, "benchmark")
    results_path = folder / "results.jsonl"
    rows = _read_results(results_path)
    done = {config_key(r) for r in rows}
    train = load(dataset, "train", data_dir=data_dir)
    test = load(dataset, "test", data_dir=data_dir)
    if train_size:
        train = train[:train_size]
    if test_size:
        test = test[:test_size]
    configs: list[dict[str, Any]] = [
        {
            "dataset": dataset,
            "classifier": m,
            "params": p,
            "train_size": len(train),
            "test_size": len(test),
            "seed": seed,
        }
        for m in chosen
        for p in table[m]
    ]
    say = log or (lambda _line: None)
    for config in tqdm(configs, desc="benchmark", unit="config"):
        if config_key(config) in done:
            say(f"{config['classifier']} {config['params']}: cached")
            continue
        model = train_sklearn(
            train.images,
            train.labels,
            config["classifier"],
            class_names=train.class_names,
            seed=seed,
            progress=False,
            params=_params(config["params"]),
        )
        start = time.perf_counter()
        pred = model.predict(test.images)
        predict_seconds = time.perf_counter() - start
        entry = {
            **config,
            "accuracy": float(np.mean(pred == test.labels)),
            "train_seconds": model.manifest["training_seconds"],
            "predict_seconds": round(predict_seconds, 3),
            "finished": time.time(),
        }
        rows.append(entry)
        done.add(config_key(entry))
        # Rewrite the whole file atomically: a crash never leaves a torn line.
        write_text_atomic(results_path, "".join(json.dumps(r) + "\n" for r in rows))
        say(
            f"{entry['classifier']} {entry['params']}: {entry['accuracy']:.4f} "
            f"({entry['train_seconds']:.1f} s)"
        )
    frame = pd.DataFrame(rows)
    frame = frame[
        frame.apply(lambda r: config_key(r.to_dict()) in {config_key(c) for c in configs}, axis=1)
    ]
    frame = frame.sort_values("accuracy", ascending=False).reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["params"] = frame["params"].map(lambda p: json.dumps(p, sort_keys=True))
    cols = [
        "rank",
        "classifier",
        "params",
        "accuracy",
        "train_seconds",
        "predict_seconds",
        "train_size",
        "test_size",
    ]
    from mnistlab.data.markdown import markdown_table

    write_text_atomic(
        folder / "results.md",
        f"# Benchmark on {dataset} ({len(train)} train / {len(test)} test images)\n\n"
        + markdown_table(frame[cols]),
    )
    _plot(frame, folder / "results.png", dataset)
    return frame[cols]


def _plot(frame: Any, path: Path, dataset: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, group in frame.groupby("classifier"):
        ax.scatter(group["train_seconds"], 100 * group["accuracy"], label=str(name))
    ax.set_xscale("log")
    ax.set_xlabel("training time (s, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"scikit-learn classifiers on {dataset}", fontsize=10)
    ax.legend(fontsize=8)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
