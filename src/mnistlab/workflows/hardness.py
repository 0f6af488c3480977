"""What makes samples hard, for one model of a run: scores, tables, figures, image grids.

:func:`analyze_run` is what ``mnistlab study`` and ``mnistlab hardness RUN`` call; it reads
``RUN/preds/<model>.parquet`` (and ``RUN/morpho.parquet`` when present) and writes,
atomically::

    RUN/scores/<model>.parquet            every score, keyed by (sample_id, variant)
    RUN/hardness/<model>/
      prioritization.{csv,md,parquet}     APFD / AUROC / AUPR / found@k, every score x variant
      hist_correct_incorrect.png          hardness of correct vs incorrect predictions
      per_class.{csv,png}                 mean hardness per class next to its accuracy
      grid_hardest_misclassified.png      per class, the hardest misclassified clean images
      grid_easiest_correct.png            per class, the easiest correct clean images
      grid_samples.csv                    the sample ids shown in both grids
      morpho_spearman.csv, morpho_binned.png   hardness vs morphometrics (with morpho.parquet)
      by_corruption.csv, by_family.csv, hardness_vs_severity.png   hardness vs corruption
    RUN/active_learning/<model>/           (active_learning=True) one-shot and iterative results

The same analyses run on any predictions table with :func:`analyze_table` (no images: no
grids unless ``images`` is given). The tables come from :mod:`mnistlab.scores.analysis`, the
figures from :mod:`mnistlab.figures.hardness`.

The model-based scores live here too: they extract what :mod:`mnistlab.scores` scores
(activation traces, MC-dropout logits, ensemble probabilities) with :mod:`mnistlab.models`:
:func:`activation_traces`, :func:`model_surprise_scores`, :func:`mc_dropout_variation_ratio`,
:func:`ensemble_disagreement_of`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.data.tables import write_table_files
from mnistlab.errors import MnistlabError
from mnistlab.figures.hardness import (
    plot_hardness_histogram,
    plot_image_grid,
    plot_morpho_binned,
    plot_per_class,
    plot_severity,
)
from mnistlab.scores.analysis import (
    corruption_tables,
    grid_samples,
    morpho_correlations,
    per_class_table,
)
from mnistlab.scores.model_scores import surprise_scores
from mnistlab.scores.table import DEFAULT_METHODS, prioritization_table, score_table
from mnistlab.scores.uncertainty import ensemble_disagreement, variation_ratio

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ImageFn",
    "activation_traces",
    "analyze",
    "analyze_predictions",
    "analyze_run",
    "analyze_table",
    "check_score",
    "ensemble_disagreement_of",
    "family_of",
    "mc_dropout_variation_ratio",
    "model_surprise_scores",
    "pool_from_run",
]

ImageFn = Callable[[str, NDArray[np.int64]], NDArray[np.uint8]]


def family_of(corruption: str) -> str:
    """The corruption family of a corruption name (``"clean"`` for the identity).

    ``"other"`` for a name :mod:`mnistlab.corrupt` does not know.

    Examples
    --------
    >>> family_of("identity"), family_of("no_such_corruption")
    ('clean', 'other')
    """
    if corruption == "identity":
        return "clean"
    try:
        from mnistlab.corrupt import get

        return str(get(corruption).family)
    except (MnistlabError, KeyError, ImportError):
        return "other"


def _gather_images(samples: pd.DataFrame, images_for: ImageFn) -> NDArray[np.uint8]:
    """Images of every row of ``samples`` (rows in order), one regeneration call per variant."""
    blocks = {
        str(v): (g.index.to_numpy(), images_for(str(v), g["sample_id"].to_numpy(dtype=np.int64)))
        for v, g in samples.reset_index(drop=True).groupby("variant", sort=False)
    }
    shape = next(iter(blocks.values()))[1].shape[1:]
    images = np.zeros((len(samples), *shape), dtype=np.uint8)
    for index, block in blocks.values():
        images[index] = block
    return images


def _write_grids(
    samples: pd.DataFrame,
    score: str,
    images_for: ImageFn,
    class_names: Sequence[str],
    per_class: int,
    out: Path,
) -> None:
    samples = samples.reset_index(drop=True)
    images = _gather_images(samples, images_for)
    labels = np.unique(samples["label"])
    row_of = {int(c): i for i, c in enumerate(labels)}
    row_names = [class_names[c] if c < len(class_names) else str(c) for c in labels]
    for kind in ("hardest_misclassified", "easiest_correct"):
        g = samples[samples["kind"] == kind]
        preds = [class_names[p] if p < len(class_names) else str(p) for p in g["pred"]]
        captions = [
            f"#{s} {n[:10]} {v:.2f}"
            for s, n, v in zip(g["sample_id"], preds, g[score], strict=True)
        ]
        plot_image_grid(
            images[g.index.to_numpy()],
            np.array([row_of[int(c)] for c in g["label"]], dtype=np.int64),
            g["rank"].to_numpy(dtype=np.int64) - 1,
            len(labels),
            per_class,
            out / f"grid_{kind}.png",
            row_names,
            captions,
            title=f"{kind.replace('_', ' ')} ({score}; caption: id, prediction, score)",
        )


def analyze_table(
    scores: pd.DataFrame,
    out: str | os.PathLike[str],
    score: str = "entropy",
    class_names: Sequence[str] | None = None,
    morpho: pd.DataFrame | None = None,
    images_for: ImageFn | None = None,
    per_class: int = 8,
    k: Sequence[int] = (100, 1000),
) -> dict[str, Path]:
    """Every hard-sample analysis of a scores table, written into the new folder ``out``.

    The folder is built aside and renamed into place (an existing ``out`` is replaced whole).

    Parameters
    ----------
    scores : DataFrame
        From :func:`~mnistlab.scores.table.score_table`.
    out : path
        Output folder.
    score : str
        The hardness score of the histograms, per-class table, grids and correlations.
    class_names : sequence of str, optional
    morpho : DataFrame, optional
        Morphometrics (``sample_id`` + numeric columns) of the clean images.
    images_for : callable, optional
        ``(variant, sample_ids) -> uint8 images``; enables the image grids.
    per_class : int
        Images per class in each grid.
    k : sequence of int
        Budgets of the prioritisation table.

    Returns
    -------
    dict of name -> written path.
    """
    from mnistlab._atomic import atomic_dir
    from mnistlab.run import parse_variant

    if score not in scores.columns:
        raise MnistlabError(f"score: no column {score!r} in the scores table")
    if per_class < 1:
        raise MnistlabError(f"per_class: must be >= 1, got {per_class}")
    n_classes = int(max(scores["label"].max(), scores["pred"].max())) + 1 if len(scores) else 0
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    final = Path(out)
    written: dict[str, str] = {}
    with atomic_dir(final, "hardness") as tmp:
        prio = prioritization_table(scores, k=k)
        write_table_files(prio, tmp / "prioritization", ("csv", "md", "parquet"))
        written["prioritization"] = "prioritization.csv"
        plot_hardness_histogram(scores, score, tmp / "hist_correct_incorrect.png")
        written["histogram"] = "hist_correct_incorrect.png"
        clean = scores[scores["variant"] == "clean"]
        base = clean if len(clean) else scores
        pc = per_class_table(base, score, names)
        write_table_files(pc, tmp / "per_class")
        plot_per_class(pc, score, tmp / "per_class.png")
        written["per_class"] = "per_class.csv"
        samples = grid_samples(base, score, per_class)
        write_table_files(samples, tmp / "grid_samples")
        if images_for is not None and len(samples):
            _write_grids(samples, score, images_for, names, per_class, tmp)
            written["grids"] = "grid_hardest_misclassified.png"
        if morpho is not None:
            corr, joined = morpho_correlations(scores, morpho, score)
            write_table_files(corr, tmp / "morpho_spearman")
            written["morpho"] = "morpho_spearman.csv"
            if len(corr):
                plot_morpho_binned(
                    joined, corr["metric"].head(6).tolist(), score, tmp / "morpho_binned.png"
                )
        if scores["variant"].nunique() > 1 or "clean" not in set(scores["variant"]):
            by_c, by_f = corruption_tables(
                scores, score, family_of=family_of, parse_variant=parse_variant
            )
            write_table_files(by_c, tmp / "by_corruption")
            write_table_files(by_f, tmp / "by_family")
            plot_severity(by_f, score, tmp / "hardness_vs_severity.png")
            written["by_corruption"] = "by_corruption.csv"
    return {k_: final / v for k_, v in written.items()}


def check_score(score: str, what: str = "--score") -> str:
    """``score`` if :func:`~mnistlab.scores.table.score_table` computes it (else one line)."""
    from mnistlab.scores.table import RENAMED, TABLE_METHODS

    score = RENAMED.get(score, score)
    if score not in TABLE_METHODS:
        raise MnistlabError(f"{what}: unknown score {score!r} (known: {', '.join(TABLE_METHODS)})")
    return score


def analyze(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    model: str = "cnn",
    score: str = "entropy",
    morpho: str | os.PathLike[str] | None = None,
    per_class: int = 8,
    active_learning: bool = False,
) -> dict[str, Path]:
    """The hardness analysis of a run (``out=None``: :func:`analyze_run` of ``model``) or of
    a predictions table (into ``out``: :func:`analyze_predictions`, with ``morpho``).

    ``score`` is checked first (:func:`check_score`). Returns the paths written, by name.

    >>> analyze("runs/fashion-mnist", model="cnn")  # doctest: +SKIP
    {'scores': PosixPath('runs/fashion-mnist/scores/cnn.parquet'), ...}
    """
    score = check_score(score)
    if out is None and not Path(source).is_dir():
        raise MnistlabError("--out: required when the input is a predictions table")
    if out is None:
        return analyze_run(
            source, model, score=score, per_class=per_class, active_learning=active_learning
        )
    return analyze_predictions(source, out, score=score, morpho=morpho, per_class=per_class)


def analyze_predictions(
    preds: str | os.PathLike[str],
    out: str | os.PathLike[str],
    score: str = "entropy",
    morpho: str | os.PathLike[str] | None = None,
    per_class: int = 8,
) -> dict[str, Path]:
    """:func:`analyze_table` of a predictions file, scored here (and a morphometrics file).

    Examples
    --------
    >>> analyze_predictions("preds/cnn.parquet", "hard/", morpho="morpho.csv")  # doctest: +SKIP
    {'prioritization': PosixPath('hard/prioritization.csv'), ...}
    """
    from mnistlab.scores.checks import read_table_file
    from mnistlab.scores.table import read_preds, score_table

    score = check_score(score)
    methods = [score, "entropy", "gini", "margin", "max_softmax", "least_confidence"]
    table = score_table(read_preds(str(preds)), methods)
    morpho_table = (
        None if morpho is None else read_table_file(morpho, "--morpho morphometrics table")
    )
    return analyze_table(table, out, score=score, morpho=morpho_table, per_class=per_class)


def pool_from_run(
    run: Path, scores: pd.DataFrame, seed: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """One image per clean sample, each from a variant of the run drawn at random (seeded).

    The variants are those of ``scores`` other than ``clean`` (``clean`` alone when there is
    none); returns the images and the clean labels, the pool of the active-learning study.
    """
    from mnistlab.run import clean_labels
    from mnistlab.workflows.variants import variant_images

    labels = clean_labels(run)
    variants = sorted(str(v) for v in scores["variant"].unique() if v != "clean") or ["clean"]
    rng = np.random.default_rng(seed)
    choice = rng.integers(0, len(variants), size=labels.size)
    first = variant_images(run, variants[0], np.array([0]))
    images = np.zeros((labels.size, *first.shape[1:]), dtype=np.uint8)
    for i, v in enumerate(variants):
        ids = np.flatnonzero(choice == i)
        if ids.size:
            images[ids] = variant_images(run, v, ids)
    return images, labels


def analyze_run(
    run_dir: str | os.PathLike[str],
    model: str = "cnn",
    *,
    score: str = "entropy",
    methods: Sequence[str] | None = None,
    per_class: int = 8,
    k: Sequence[int] = (100, 1000),
    active_learning: bool = False,
    al_trainer: str = "tip-cnn",
    al_epochs: int | None = 2,
    al_budget: int = 1000,
    al_seeds: Sequence[int] = (0, 1, 2, 3, 4),
    al_train_subset: int | None = 10000,
    al_rounds: int = 3,
    progress: bool = False,
) -> dict[str, Path]:
    """Scores, prioritisation table and hard-sample analyses of one model of a run.

    Reads ``RUN/preds/<model>.parquet`` (+ ``RUN/morpho.parquet``); writes
    ``RUN/scores/<model>.parquet`` and ``RUN/hardness/<model>/`` (see the module docstring),
    and with ``active_learning`` ``RUN/active_learning/<model>/``, every output atomically.
    Records the steps ``scores:<model>``, ``hardness:<model>`` (and
    ``active_learning:<model>``) in the run manifest.

    Examples
    --------
    >>> paths = analyze_run("runs/fashion", model="cnn")  # doctest: +SKIP
    >>> paths["prioritization"]  # doctest: +SKIP
    PosixPath('runs/fashion/hardness/cnn/prioritization.csv')
    """
    from mnistlab import run as runlib
    from mnistlab.scores.checks import read_table_file
    from mnistlab.scores.table import read_preds

    run = Path(run_dir)
    if not run.is_dir():
        raise MnistlabError(f"{run}: no such run directory")
    t0 = time.perf_counter()

    preds_path = run / "preds" / f"{model}.parquet"
    if not preds_path.exists():
        raise MnistlabError(f"{preds_path}: no such table in this run")
    preds = read_preds(preds_path)
    names = list(methods) if methods is not None else [*DEFAULT_METHODS, "uniqueness"]
    if score not in names:
        names.append(score)
    scores = score_table(preds, names)
    paths = {"scores": runlib.write_table(run, f"scores/{model}", scores)}
    runlib.mark_step(run, f"scores:{model}", time.perf_counter() - t0, rows=len(scores))

    t0 = time.perf_counter()
    manifest = runlib.read_manifest(run)
    class_names = manifest.get("class_names")
    morpho_path = run / "morpho.parquet"
    morpho = read_table_file(morpho_path, "morphometrics table") if morpho_path.exists() else None
    has_images = (run / "data" / "test_images.npy").is_file()

    def images_for(variant: str, ids: NDArray[np.int64]) -> NDArray[np.uint8]:
        from mnistlab.workflows.variants import variant_images

        return variant_images(run, variant, ids)

    paths.update(
        analyze_table(
            scores,
            run / "hardness" / model,
            score=score,
            class_names=class_names,
            morpho=morpho,
            images_for=images_for if has_images else None,
            per_class=per_class,
            k=k,
        )
    )
    runlib.mark_step(run, f"hardness:{model}", time.perf_counter() - t0)

    if active_learning:
        from mnistlab.workflows.active import run_active_learning

        t0 = time.perf_counter()
        paths.update(
            run_active_learning(
                run,
                scores,
                manifest,
                model,
                al_trainer,
                al_epochs,
                al_budget,
                al_seeds,
                al_train_subset,
                al_rounds,
                progress,
            )
        )
        runlib.mark_step(run, f"active_learning:{model}", time.perf_counter() - t0)
    return paths


def mc_dropout_variation_ratio(
    model: Any, images: NDArray[np.uint8], passes: int = 50, seed: int = 0
) -> NDArray[np.float64]:
    """Variation ratio over ``passes`` MC-dropout passes of a PyTorch model; ``[0, 1)``.

    Examples
    --------
    >>> mc_dropout_variation_ratio(cnn, images, passes=8).shape  # doctest: +SKIP
    (100,)
    """
    from mnistlab.models import mc_dropout_logits

    return variation_ratio(mc_dropout_logits(model, images, passes=passes, seed=seed))


def ensemble_disagreement_of(
    models: Sequence[Any | str | os.PathLike[str]], images: NDArray[np.uint8]
) -> NDArray[np.float64]:
    """Disagreement of K models (objects or saved model folders) on ``images``; ``[0, 1)``.

    Examples
    --------
    >>> ensemble_disagreement_of([cnn, "runs/fashion/models/mlp"], images)  # doctest: +SKIP
    array([0. , 0.5, ...])
    """
    from mnistlab.models import load_model

    if len(models) < 2:
        raise MnistlabError(f"models: an ensemble needs at least 2 models, got {len(models)}")
    loaded = [load_model(m) if isinstance(m, (str, os.PathLike)) else m for m in models]
    return ensemble_disagreement(np.stack([m.predict_proba(images) for m in loaded]))


def activation_traces(
    model: Any, images: NDArray[np.uint8], layer: str | None = None
) -> NDArray[np.float32]:
    """Activation traces ``(N, D)`` of ``images`` at ``layer`` for surprise adequacy.

    ``layer`` None: the penultimate features (the input of the last linear layer). A
    convolutional layer's feature maps ``(N, C, H, W)`` are averaged over ``H, W``, so its
    trace has one value per channel, ``D = C`` (the convention of Kim, Feldt & Yoo 2019);
    a dense layer's trace is its output vector.

    Examples
    --------
    >>> activation_traces(cnn, images, "conv1").shape  # doctest: +SKIP
    (100, 32)
    """
    from mnistlab.models import activations, features

    if layer is None:
        return features(model, images)
    return activations(model, images, layer, spatial_mean=True)


def model_surprise_scores(
    model: Any,
    train_images: NDArray[np.uint8],
    train_labels: NDArray[np.int64],
    images: NDArray[np.uint8],
    layer: str | None = None,
    kinds: Sequence[str] = ("dsa", "lsa", "mahalanobis"),
) -> dict[str, NDArray[np.float64]]:
    """Surprise adequacy of ``images`` against ``train_images`` at ``layer`` of ``model``.

    Extracts the traces with :func:`activation_traces` (``layer`` None: the penultimate
    features; a convolutional layer: each channel averaged over space) and the model's
    predicted classes, then scores them with :func:`mnistlab.scores.model_scores.surprise_scores`.

    Examples
    --------
    >>> sa = model_surprise_scores(cnn, train.images, train.labels, images)  # doctest: +SKIP
    >>> sorted(sa)  # doctest: +SKIP
    ['dsa', 'lsa', 'mahalanobis']
    """
    from mnistlab.scores.surprise import SURPRISE

    for k in kinds:
        if k not in SURPRISE:
            raise MnistlabError(f"kinds: unknown surprise {k!r} (known: {', '.join(SURPRISE)})")
    train_ats = activation_traces(model, train_images, layer)
    ats = activation_traces(model, images, layer)
    pred = np.asarray(model.predict(images), dtype=np.int64)
    return surprise_scores(train_ats, train_labels, ats, pred, kinds)
