"""The active-learning driver: trainers by name, the study of a run, its output folder.

The protocols are pure functions of :mod:`mnistlab.scores.active` with the trainer injected;
this module names the trainers (:func:`make_trainer`: scikit-learn's PCA + logistic
regression, or any model of :mod:`mnistlab.models`), runs them on a run's pool
(:func:`run_active_learning`, called by :func:`mnistlab.workflows.hardness.analyze_run`) and
writes the results with their figures (:func:`write_active_learning`)::

    OUT/
      one_shot.csv                 one row per (seed, method)
      one_shot_summary.{csv,md}    mean accuracy, 95% CI, paired gain over random
      one_shot.png                 the summary as bars
      iterative.csv                (when iterative results are given) per (seed, method, round)
      learning_curve.png           held-out accuracy against samples added
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.data.tables import write_table_files
from mnistlab.errors import MnistlabError
from mnistlab.figures.active import plot_learning_curve, plot_one_shot
from mnistlab.run import ACTIVE_LEARNING_FIGURES, ACTIVE_LEARNING_TABLES, RunLayout
from mnistlab.scores import active
from mnistlab.scores.active import Predictor, Trainer

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "active_learn",
    "make_trainer",
    "run_active_learning",
    "simulate_active_learning",
    "write_active_learning",
]


def make_trainer(model: str = "tip-cnn", epochs: int | None = None) -> Trainer:
    """A trainer by name: ``"pca-logreg"`` (fast, scikit-learn) or a :mod:`mnistlab.models` name.

    The trainer is ``fn(images, labels, seed) -> model`` (``model.predict_proba``), what
    :func:`mnistlab.scores.active.one_shot` and :func:`~mnistlab.scores.active.iterative`
    take; ``epochs`` applies to :mod:`mnistlab.models` trainers.

    Examples
    --------
    >>> from mnistlab.models.quick import fit_quick
    >>> make_trainer("pca-logreg") is fit_quick
    True
    >>> make_trainer("tip-cnn", epochs=1).__name__
    'train'
    """
    if model == "pca-logreg":
        from mnistlab.models.quick import fit_quick

        return fit_quick

    def train(images: NDArray[np.uint8], labels: NDArray[np.int64], seed: int) -> Predictor:
        from mnistlab.models import train as train_model

        return train_model(images, labels, model=model, epochs=epochs, seed=seed, progress=False)

    return train


def write_active_learning(
    out: str | os.PathLike[str],
    one_shot: pd.DataFrame,
    summary: pd.DataFrame,
    iterative: pd.DataFrame | None = None,
) -> Path:
    """Write the active-learning tables and figures into the new folder ``out`` (atomically).

    ``one_shot`` and ``summary`` come from :func:`mnistlab.scores.active.one_shot` and
    :func:`~mnistlab.scores.active.summarize`, ``iterative`` (optional) from
    :func:`~mnistlab.scores.active.iterative`; see the module docstring for the files.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> one = pd.DataFrame({"seed": [0, 1, 0, 1], "method": ["gini"] * 2 + ["random"] * 2,
    ...                     "acc_first_half": 0.5, "acc_second_half": [0.8, 0.9, 0.7, 0.8]})
    >>> out = write_active_learning(pathlib.Path(tempfile.mkdtemp()) / "al", one,
    ...                             active.summarize(one))
    >>> sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    ['one_shot.csv', 'one_shot.png', 'one_shot_summary.csv', 'one_shot_summary.md']
    """
    from mnistlab._atomic import atomic_dir

    final = Path(out)
    summary_name, one_shot_name, iterative_name = ACTIVE_LEARNING_TABLES
    one_shot_png, curve_png = ACTIVE_LEARNING_FIGURES
    with atomic_dir(final, "active-learn") as tmp:
        write_table_files(one_shot, tmp / one_shot_name)
        write_table_files(summary, tmp / summary_name, ("csv", "md"))
        plot_one_shot(summary, tmp / one_shot_png)
        if iterative is not None:
            write_table_files(iterative, tmp / iterative_name)
            plot_learning_curve(iterative, tmp / curve_png)
    return final


def run_active_learning(
    run: Path,
    scores: pd.DataFrame,
    manifest: dict[str, Any],
    model: str,
    trainer: str,
    epochs: int | None,
    budget: int,
    seeds: Sequence[int],
    train_subset: int | None,
    rounds: int,
    progress: bool,
) -> dict[str, Path]:
    """The active-learning study of one model of a run, written to ``RUN/active_learning/<model>/``.

    The pool is one image per clean test sample, each from a variant of the run drawn at
    random (:func:`mnistlab.workflows.hardness.pool_from_run`); the training set is the train
    split of the run's dataset. Runs the one-shot protocol (``gini``, ``entropy``) over
    ``seeds`` and the iterative one (``gini``, ``rounds`` rounds, the first seed), and writes
    ``one_shot.csv``, ``one_shot_summary.{csv,md}``, ``iterative.csv``, ``one_shot.png`` and
    ``learning_curve.png`` (see :func:`write_active_learning`).

    Examples
    --------
    >>> from mnistlab.run import read_manifest  # doctest: +SKIP
    >>> run_active_learning(run, scores, read_manifest(run), "cnn", "pca-logreg", None,
    ...                     100, (0, 1), 2000, 3, False)  # doctest: +SKIP
    {'active_learning': ..., 'learning_curve': ...}
    """
    from mnistlab.data import load
    from mnistlab.workflows.hardness import pool_from_run

    dataset = manifest.get("dataset")
    if not dataset:
        raise MnistlabError(f"{run}: the manifest names no dataset to train on")
    train = load(str(dataset), split="train", download=False)
    pool_x, pool_y = pool_from_run(run, scores, int(manifest.get("seed", 0)))
    budget = min(budget, pool_y.size // 2)
    final = RunLayout(run).active_learning_of(model)
    simulate_active_learning(
        final, (train.images, train.labels), (pool_x, pool_y),
        methods=("gini", "entropy"), budget=budget, seeds=seeds, trainer=make_trainer(trainer,
        epochs),
        train_subset=train_subset, rounds=rounds, round_budget=max(1, budget // max(rounds, 1)),
        iterative_methods=("gini",), progress=progress,
    )  # fmt: skip
    return {
        "active_learning": final / f"{ACTIVE_LEARNING_TABLES[0]}.csv",
        "learning_curve": final / ACTIVE_LEARNING_FIGURES[1],
    }


def simulate_active_learning(
    out: str | os.PathLike[str],
    train: tuple[NDArray[np.uint8], NDArray[np.int64]],
    pool: tuple[NDArray[np.uint8], NDArray[np.int64]],
    *,
    methods: Sequence[str],
    budget: int,
    seeds: Sequence[int],
    trainer: Trainer,
    train_subset: int | None = None,
    rounds: int = 0,
    round_budget: int = 200,
    iterative_methods: Sequence[str] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Run the one-shot protocol (and the iterative one when ``rounds``) and write ``out``.

    Parameters
    ----------
    out : path-like
        New folder of the tables and figures (:func:`write_active_learning`).
    train, pool : (images, labels)
        The initial training set and the pool the scores pick from.
    methods, budget, seeds, trainer, train_subset
        Of :func:`mnistlab.scores.active.one_shot`.
    rounds, round_budget : int
        Rounds of :func:`mnistlab.scores.active.iterative` (0: none) and picks per round.
    iterative_methods : sequence of str, optional
        Scores of the iterative protocol (default ``methods``); it runs with the first seed
        only when ``iterative_methods`` is given, with every seed otherwise.

    Returns
    -------
    pandas.DataFrame
        The one-shot summary (:func:`mnistlab.scores.active.summarize`).
    """
    common: dict[str, Any] = {
        "trainer": trainer,
        "train_subset": train_subset,
        "progress": progress,
    }
    one = active.one_shot(
        *train, *pool, methods=methods, budget=budget, seeds=seeds, **common
    )  # fmt: skip
    summary = active.summarize(one)
    it = None
    if rounds:
        it = active.iterative(
            *train, *pool, methods=iterative_methods or methods, budget_per_round=round_budget,
            rounds=rounds, seeds=seeds[:1] if iterative_methods else seeds, **common,
        )  # fmt: skip
    write_active_learning(out, one, summary, it)
    return summary


def active_learn(
    name: str,
    out: str | os.PathLike[str],
    *,
    pool: str | os.PathLike[str] | None = None,
    split: str = "test",
    model: str = "tip-cnn",
    epochs: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    **protocol: Any,
) -> pd.DataFrame:
    """``mnistlab active-learn``: train on dataset ``name``, pick from ``pool``, write ``out``.

    The pool is a dataset or a folder of variants (one variant drawn per sample,
    :func:`mnistlab.workflows.pool.variant_pool`), default ``name``'s ``split``; ``model``
    is trained by :func:`make_trainer`. ``protocol`` holds the keywords of
    :func:`simulate_active_learning` (``methods``, ``budget``, ``seeds``, ``rounds``, ...).
    Returns the one-shot summary.
    """
    from mnistlab.data import load
    from mnistlab.workflows.pool import variant_pool

    train = load(name, split="train", data_dir=data_dir)
    pool_xy = variant_pool(pool if pool is not None else name, split, 0)
    trainer = make_trainer(model, epochs)
    return simulate_active_learning(
        out, (train.images, train.labels), pool_xy, trainer=trainer, **protocol
    )
