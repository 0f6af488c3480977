"""Test prioritisation under the Fashion-MNIST-C protocol: train on its train split, rank its test.

The Fashion-MNIST-C release (Weiss & Tonella 2022) has a train and a test split; every image
of both is corrupted by one of 15 corruptions drawn uniformly at random. That gives two
prioritisation settings, and :func:`fmnist_c_prioritization` measures both on the same
corrupted test split:

* ``trained_on="fmnist-c train"``: the CNN recipe trained on the corrupted *train* split (other
  images than the test split, the same corruption draw), the setting of a tester who ranks a
  test set drawn like the training data;
* ``trained_on="clean train"``: models trained on clean images (a study's ``models/``), the
  covariate-shift setting. Many of their errors there are confident (a shirt turned by 90
  degrees looks like a trouser to them), and with a fault rate ``f`` no ranking can exceed
  ``APFD = 1 - f/2``, whatever the score.

Writes, replacing the folder atomically::

    RUN/fmnist-c/
      data/                               the Fashion-MNIST-C layout of the run's dataset
      models/<trainer>/                   the model trained on its train split
      preds.parquet                       every model's predictions on the corrupted test split
      prioritization.{csv,md}             APFD / AUROC / AUPR / found@k of every score, per model
      prioritization_by_corruption.csv    the same per corruption
      accuracy_by_corruption.{csv,png}    accuracy of each model on each corruption
      faults_found.png                    share of misclassifications found vs share inspected

The curve of ``faults_found.png`` is :func:`mnistlab.scores.metrics.faults_found_curve`; the
figures are drawn by :mod:`mnistlab.figures.hardness`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistlab.data.tables import write_table_files
from mnistlab.errors import MnistlabError
from mnistlab.figures.hardness import plot_accuracy_by_corruption, plot_faults_found
from mnistlab.run import FMNIST_C_FIGURES, FMNIST_C_TABLE
from mnistlab.scores.table import prioritization_table, score_table
from mnistlab.scores.uncertainty import SCORES

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.data.dataset import Dataset
    from mnistlab.execution import Execution
    from mnistlab.models.base import Model

__all__ = ["FOLDER", "TRAINED_ON_CLEAN", "TRAINED_ON_CORRUPTED", "fmnist_c_prioritization"]

#: Sub-folder of a run directory written by :func:`fmnist_c_prioritization`.
FOLDER = "fmnist-c"
TRAINED_ON_CORRUPTED = "fmnist-c train"
TRAINED_ON_CLEAN = "clean train"


def _split(ds: Dataset, size: int | None) -> Dataset:
    return ds[:size] if size is not None and size < len(ds) else ds


def fmnist_c_prioritization(
    run_dir: str | os.PathLike[str],
    *,
    dataset: str | os.PathLike[str] | Mapping[str, Dataset] = "fashion-mnist",
    clean_models: Mapping[str, Model] | None = None,
    trainer: str = "cnn",
    epochs: int | None = None,
    seed: int = 0,
    train_size: int | None = None,
    test_size: int | None = None,
    compat: str | None = None,
    methods: Sequence[str] | None = None,
    k: Sequence[int] = (100, 1000),
    data_dir: str | os.PathLike[str] | None = None,
    execution: Execution | None = None,
    **train_options: Any,
) -> dict[str, Any]:
    """Generate the Fashion-MNIST-C layout, train on its train split, rank its test split.

    Parameters
    ----------
    run_dir : path-like
        Run directory; ``RUN/fmnist-c/`` is written (see the module docstring).
    dataset : str, path-like or mapping
        Dataset name or folder :func:`mnistlab.data.load` reads, or ``{"train": Dataset,
        "test": Dataset}``. The protocol applies to any 28x28 dataset, not only Fashion-MNIST.
    clean_models : mapping of str to Model, optional
        Models trained on clean images, ranked on the same corrupted test split for
        comparison (``trained_on="clean train"`` rows).
    trainer : str
        Registered model trained on the corrupted train split (default: the default CNN).
    epochs : int, optional
        Its epochs (default: the recipe's).
    seed : int
        Seed of the corruption draw and of training.
    train_size, test_size : int, optional
        Only the first N images of each split.
    compat : {None, "default", "mnist-c"}
        Corruption compat mode, as in :func:`mnistlab.corrupt.generate`.
    methods : sequence of str, optional
        Scores to evaluate (default: every probability score).
    k : sequence of int
        Budgets of ``found@k``.
    data_dir : path-like, optional
        Searched first for a registered dataset.
    execution : Execution, optional
        How the corruption runs (:class:`mnistlab.execution.Execution`; default: local
        processes on every core, no progress bar; the output does not depend on it);
        ``execution.progress`` also shows the training's progress.
    **train_options
        Passed to :func:`mnistlab.models.train` (``precision`` for PyTorch models).

    Returns
    -------
    dict
        ``accuracy``, ``apfd`` and ``auroc`` (``{"<trained_on>/<model>": {score: value}}``),
        the seconds of each phase and the paths written (relative to ``run_dir``).

    Examples
    --------
    >>> from mnistlab.execution import Execution
    >>> job = Execution(workers=2, progress=True)
    >>> info = fmnist_c_prioritization("runs/fashion", execution=job)  # doctest: +SKIP
    >>> info["apfd"]["fmnist-c train/cnn"]["gini"]  # doctest: +SKIP
    0.836
    """
    import pandas as pd

    from mnistlab._atomic import atomic_dir
    from mnistlab.corrupt.generate import generate
    from mnistlab.data import load
    from mnistlab.models import get_spec
    from mnistlab.models.predict import predict_table
    from mnistlab.workflows.train import fit_dataset

    run = Path(run_dir)
    progress = execution is not None and execution.progress
    for name, value in (("train_size", train_size), ("test_size", test_size)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise MnistlabError(f"{name} must be a positive integer, got {value!r}")
    get_spec(trainer)  # an unknown model fails before any work
    names = list(methods) if methods is not None else list(SCORES)
    timings: dict[str, float] = {}
    if isinstance(dataset, Mapping):
        splits = {s: dataset[s] for s in ("train", "test") if s in dataset}
        if len(splits) != 2:
            raise MnistlabError(f"dataset: give a 'train' and a 'test' split, got {list(dataset)}")
    else:
        splits = {s: load(dataset, split=s, data_dir=data_dir) for s in ("train", "test")}
    splits = {
        "train": _split(splits["train"], train_size),
        "test": _split(splits["test"], test_size),
    }
    with atomic_dir(run / FOLDER, "fmnist-c") as tmp:
        t0 = time.perf_counter()
        data = generate(
            splits,
            tmp / "data",
            layout="fmnist-c",
            splits="all",
            seed=seed,
            compat=compat,
            fmt="npy",
            execution=execution,
        )
        timings["corrupt"] = time.perf_counter() - t0
        corrupted_train = load(data, split="train")
        corrupted_test = load(data, split="test")

        t0 = time.perf_counter()
        fitted = fit_dataset(
            corrupted_train, trainer, corrupted_test, epochs=epochs, seed=seed,
            progress=progress, **train_options,
        )  # fmt: skip
        fitted.manifest["dataset"] = f"{FOLDER}/data (train split)"
        fitted.save(tmp / "models" / trainer)
        timings["train"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        ranked: list[tuple[str, str, Model]] = [(TRAINED_ON_CORRUPTED, trainer, fitted)]
        ranked += [(TRAINED_ON_CLEAN, n, m) for n, m in (clean_models or {}).items()]
        preds: list[pd.DataFrame] = []
        scored: list[tuple[str, pd.DataFrame]] = []
        pooled: list[pd.DataFrame] = []
        by_corruption: list[pd.DataFrame] = []
        for trained_on, name, model in ranked:
            table = predict_table(model, data, model_name=name)
            table.insert(0, "trained_on", trained_on)
            preds.append(table)
            scores = score_table(table, names)
            scored.append((f"{name} ({trained_on})", scores))
            for target, frame in (
                (pooled, scores),
                (by_corruption, scores.assign(variant=scores["corruption"].astype(str))),
            ):
                part = prioritization_table(frame, names, k=k, random_seed=seed, pooled=False)
                part.insert(0, "model", name)
                part.insert(0, "trained_on", trained_on)
                target.append(part)
        timings["predict_and_score"] = time.perf_counter() - t0
        all_preds = pd.concat(preds, ignore_index=True)
        all_preds.to_parquet(tmp / "preds.parquet", index=False)
        prio = pd.concat(pooled, ignore_index=True)
        write_table_files(prio, tmp / Path(FMNIST_C_TABLE).stem, ("csv", "md"))
        write_table_files(
            pd.concat(by_corruption, ignore_index=True), tmp / "prioritization_by_corruption"
        )
        accuracy = _accuracy_by_corruption(all_preds)
        write_table_files(accuracy, tmp / "accuracy_by_corruption")
        faults_png, accuracy_png = FMNIST_C_FIGURES
        plot_accuracy_by_corruption(accuracy, tmp / accuracy_png)
        plot_faults_found(scored, names, seed, tmp / faults_png)

    def by_model(column: str) -> dict[str, dict[str, float]]:
        return {
            f"{t}/{m}": {str(r.score): round(float(getattr(r, column)), 6) for r in g.itertuples()}
            for (t, m), g in prio.groupby(["trained_on", "model"], sort=False)
        }

    return {
        "accuracy": {
            f"{t}/{m}": round(float(g["accuracy"].iloc[0]), 6)
            for (t, m), g in prio.groupby(["trained_on", "model"], sort=False)
        },
        "apfd": by_model("apfd"),
        "auroc": by_model("auroc"),
        "train_size": len(splits["train"]),
        "test_size": len(splits["test"]),
        "seconds": {key: round(v, 2) for key, v in timings.items()},
        "paths": sorted(str(p.relative_to(run)) for p in (run / FOLDER).iterdir() if p.is_file()),
    }


def _accuracy_by_corruption(preds: pd.DataFrame) -> pd.DataFrame:
    correct = preds["pred"].to_numpy() == preds["label"].to_numpy()
    frame = preds[["trained_on", "model", "corruption"]].assign(
        corruption=preds["corruption"].astype(str), correct=correct
    )
    table = (
        frame.groupby(["trained_on", "model", "corruption"], sort=False)["correct"]
        .agg(n="size", accuracy="mean")
        .reset_index()
    )
    return table.sort_values(["trained_on", "model", "corruption"], kind="stable").reset_index(
        drop=True
    )
