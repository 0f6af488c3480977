"""What makes samples hard: the hard-sample analyses of a predictions table or a run.

:func:`analyze_run` is what ``mnistlab study`` calls; it reads ``RUN/preds/<model>.parquet``
(and ``RUN/morpho.parquet`` when present) and writes, atomically::

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
grids unless ``images`` is given).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.scores.table import DEFAULT_METHODS, prioritization_table, score_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "analyze_run",
    "analyze_table",
    "corruption_tables",
    "family_of",
    "grid_samples",
    "morpho_correlations",
    "per_class_table",
    "plot_hardness_histogram",
    "plot_image_grid",
]

ImageFn = Callable[[str, NDArray[np.int64]], NDArray[np.uint8]]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    _plt().close(fig)


def _markdown(table: pd.DataFrame, digits: int = 4) -> str:
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table_files(table: pd.DataFrame, stem: Path, formats: Sequence[str] = ("csv",)) -> None:
    """Write ``table`` as ``stem.csv`` / ``stem.md`` / ``stem.parquet`` (into a staging folder)."""
    for fmt in formats:
        if fmt == "csv":
            table.to_csv(stem.with_suffix(".csv"), index=False)
        elif fmt == "md":
            stem.with_suffix(".md").write_text(_markdown(table), encoding="utf-8")
        elif fmt == "parquet":
            table.to_parquet(stem.with_suffix(".parquet"), index=False)
        else:
            raise MnistlabError(f"table format {fmt!r} (expected csv, md or parquet)")


def family_of(corruption: str) -> str:
    """The corruption family of a corruption name (``"clean"`` for the identity)."""
    if corruption == "identity":
        return "clean"
    try:
        from mnistlab.corrupt import get

        return str(get(corruption).family)
    except (MnistlabError, KeyError, ImportError):
        return "other"


def plot_hardness_histogram(scores: pd.DataFrame, score: str, path: Path) -> None:
    """Histograms of ``score`` for correct and incorrect predictions (clean and all variants)."""
    plt = _plt()
    panels = [("clean", scores[scores["variant"] == "clean"])]
    if scores["variant"].nunique() > 1:
        panels.append(("all variants", scores))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.4), squeeze=False)
    for ax, (title, g) in zip(axes[0], panels, strict=True):
        values = g[score].to_numpy(dtype=np.float64)
        ok = g["correct"].to_numpy(dtype=bool)
        if values.size:
            bins = np.histogram_bin_edges(values, bins=40)
            ax.hist(values[ok], bins=bins, alpha=0.6, density=True, label=f"correct ({ok.sum()})")
            ax.hist(
                values[~ok],
                bins=bins,
                alpha=0.6,
                density=True,
                label=f"incorrect ({(~ok).sum()})",
                color="C3",
            )
        ax.set_title(title)
        ax.set_xlabel(score)
        ax.set_ylabel("density")
        ax.legend()
    _save(fig, path)


def per_class_table(
    scores: pd.DataFrame, score: str, class_names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per class (of the true label): count, accuracy and mean / median ``score``."""
    g = scores.groupby("label")
    table = g.agg(
        n=("correct", "size"),
        accuracy=("correct", "mean"),
        mean_hardness=(score, "mean"),
        median_hardness=(score, "median"),
    ).reset_index()
    table = table.rename(columns={"label": "class"})
    if class_names is not None:
        names = list(class_names)
        table.insert(1, "name", [names[c] if c < len(names) else str(c) for c in table["class"]])
    table.insert(len(table.columns), "score", score)
    return table


def _plot_per_class(table: pd.DataFrame, score: str, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels = table["name"] if "name" in table else table["class"].astype(str)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["mean_hardness"], width=0.4, label=f"mean {score}", color="C3")
    ax.set_ylabel(f"mean {score}")
    ax2 = ax.twinx()
    ax2.bar(x + 0.2, table["accuracy"], width=0.4, label="accuracy", color="C0")
    ax2.set_ylabel("accuracy")
    ax2.set_ylim(0, 1)
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_title("hardness and accuracy per class (clean)")
    fig.legend(loc="upper right", fontsize=8)
    _save(fig, path)


def grid_samples(scores: pd.DataFrame, score: str, per_class: int = 8) -> pd.DataFrame:
    """Per class, the ``per_class`` hardest misclassified and easiest correct samples.

    Returns ``kind ("hardest_misclassified" | "easiest_correct"), label, pred, rank,
    sample_id, variant`` and the score.
    """
    import pandas as pd

    parts = []
    for _, g in scores.groupby("label"):
        wrong = g[~g["correct"]].sort_values(score, ascending=False, kind="stable").head(per_class)
        right = g[g["correct"]].sort_values(score, ascending=True, kind="stable").head(per_class)
        for kind, sel in (("hardest_misclassified", wrong), ("easiest_correct", right)):
            part = sel[["sample_id", "variant", "label", "pred", score]].copy()
            part.insert(0, "kind", kind)
            part.insert(1, "rank", np.arange(1, len(part) + 1))
            parts.append(part)
    if not parts:
        return pd.DataFrame(
            columns=["kind", "rank", "sample_id", "variant", "label", "pred", score]
        )
    return pd.concat(parts, ignore_index=True)


def plot_image_grid(
    images: NDArray[np.uint8],
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    n_rows: int,
    n_cols: int,
    path: Path,
    row_names: Sequence[str],
    captions: Sequence[str] | None = None,
    title: str = "",
) -> None:
    """Images placed at ``(rows[i], cols[i])`` of an ``n_rows x n_cols`` grid; PNG.

    The grid is one mosaic array drawn by a single ``imshow`` (one axes per image is ~50x
    slower to render), with captions under the cells and row names on the left.
    """
    plt = _plt()
    h, w = (images.shape[1], images.shape[2]) if len(images) else (28, 28)
    pad_x, pad_y = 4, 16 if captions is not None else 4
    mosaic = np.full((n_rows * (h + pad_y), n_cols * (w + pad_x)), 255, dtype=np.uint8)
    for img, r, c in zip(images, rows, cols, strict=True):
        y0, x0 = int(r) * (h + pad_y), int(c) * (w + pad_x)
        # inverted (dark ink on white) so the grid reads like a page
        mosaic[y0 : y0 + h, x0 : x0 + w] = 255 - img
    fig_w = max(4.0, 0.55 * n_cols * (w + pad_x) / 28 + 1.4)
    fig_h = max(1.5, 0.55 * n_rows * (h + pad_y) / 28 + 0.5)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([(h + pad_y) * r + h / 2 for r in range(n_rows)], list(row_names), fontsize=7)
    for side in ax.spines.values():
        side.set_visible(False)
    if captions is not None:
        for cap, r, c in zip(captions, rows, cols, strict=True):
            ax.text(
                int(c) * (w + pad_x) + w / 2,
                int(r) * (h + pad_y) + h + 1,
                cap,
                ha="center",
                va="top",
                fontsize=4.5,
            )
    if title:
        ax.set_title(title, fontsize=9)
    _save(fig, path)


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


def morpho_correlations(
    scores: pd.DataFrame, morpho: pd.DataFrame, score: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spearman correlation of ``score`` (and of being wrong) with every morphometric.

    Returns the correlation table (``metric, n, spearman_hardness, p_value,
    spearman_error``; clean variant) and the joined table used for binned plots.
    """
    import pandas as pd
    from scipy.stats import spearmanr

    if "sample_id" not in morpho.columns:
        raise MnistlabError("morpho table: missing column 'sample_id'")
    metrics = [
        c
        for c in morpho.columns
        if c != "sample_id"
        and pd.api.types.is_numeric_dtype(morpho[c])
        and not pd.api.types.is_bool_dtype(morpho[c])
    ]
    clean = scores[scores["variant"] == "clean"]
    joined = clean[["sample_id", score, "correct"]].merge(
        morpho[["sample_id", *metrics]], on="sample_id", how="inner"
    )
    rows = []
    for m in metrics:
        x = joined[m].to_numpy(dtype=np.float64)
        ok = np.isfinite(x)
        if ok.sum() < 3 or np.ptp(x[ok]) == 0:
            continue
        rho, p = spearmanr(x[ok], joined[score].to_numpy()[ok])
        rho_err = spearmanr(x[ok], (~joined["correct"].to_numpy(dtype=bool))[ok]).statistic
        rows.append(
            {
                "metric": m,
                "n": int(ok.sum()),
                "spearman_hardness": float(rho),
                "p_value": float(p),
                "spearman_error": float(rho_err),
            }
        )
    table = pd.DataFrame(
        rows, columns=["metric", "n", "spearman_hardness", "p_value", "spearman_error"]
    )
    if len(table):
        table = table.reindex(table["spearman_hardness"].abs().sort_values(ascending=False).index)
    return table.reset_index(drop=True), joined


def _plot_morpho_binned(
    joined: pd.DataFrame, metrics: Sequence[str], score: str, path: Path, bins: int = 10
) -> None:
    import pandas as pd

    plt = _plt()
    n = len(metrics)
    cols = min(3, n)
    nrows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3 * nrows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for ax, m in zip(axes.ravel(), metrics, strict=False):
        q = pd.qcut(joined[m], q=bins, duplicates="drop")
        g = joined.groupby(q, observed=True)
        centers = g[m].median().to_numpy()
        ax.plot(centers, g[score].mean().to_numpy(), marker="o", color="C3", label=f"mean {score}")
        ax.set_xlabel(m)
        ax.set_ylabel(f"mean {score}")
        ax2 = ax.twinx()
        ax2.plot(
            centers, 1 - g["correct"].mean().to_numpy(), marker="s", color="C0", label="error rate"
        )
        ax2.set_ylabel("error rate")
    fig.suptitle(f"{score} and error rate by morphometric decile (clean)", fontsize=10)
    _save(fig, path)


def corruption_tables(scores: pd.DataFrame, score: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy and mean ``score`` per (corruption, severity) and per (family, severity)."""
    from mnistlab.run import parse_variant

    if {"corruption", "severity"} <= set(scores.columns):
        # Per-row columns also cover mixed variants such as "fmnist-c", whose samples each
        # carry their own corruption and severity.
        frame = scores[["correct", score]].assign(
            corruption=scores["corruption"].astype(str).replace("clean", "identity"),
            severity=scores["severity"].fillna(0).astype(int),
        )
    else:
        variants = scores["variant"].astype(str)
        parsed = {v: parse_variant(v) for v in variants.unique()}
        frame = scores[["correct", score]].assign(
            corruption=variants.map(lambda v: parsed[v][0]),
            severity=variants.map(lambda v: parsed[v][1]),
        )
    families = {c: family_of(c) for c in frame["corruption"].unique()}
    frame["family"] = frame["corruption"].map(families)
    agg = {
        "n": ("correct", "size"),
        "accuracy": ("correct", "mean"),
        "mean_hardness": (score, "mean"),
        "median_hardness": (score, "median"),
    }
    by_c = frame.groupby(["family", "corruption", "severity"]).agg(**agg).reset_index()
    by_f = frame.groupby(["family", "severity"]).agg(**agg).reset_index()
    return by_c, by_f


def _plot_severity(by_family: pd.DataFrame, score: str, path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    clean = by_family[by_family["family"] == "clean"]
    for i, (family, g) in enumerate(by_family[by_family["family"] != "clean"].groupby("family")):
        g = g.sort_values("severity")
        if len(clean):
            g = _prepend(clean, g)
        axes[0].plot(g["severity"], g["mean_hardness"], marker="o", label=family, color=f"C{i}")
        axes[1].plot(g["severity"], g["accuracy"], marker="o", label=family, color=f"C{i}")
    axes[0].set_ylabel(f"mean {score}")
    axes[1].set_ylabel("accuracy")
    for ax in axes:
        ax.set_xlabel("severity (0 = clean)")
    axes[1].legend(fontsize=7)
    fig.suptitle("hardness and accuracy against corruption family and severity", fontsize=10)
    _save(fig, path)


def _prepend(clean: pd.DataFrame, g: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    return pd.concat([clean, g], ignore_index=True)


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
        _plot_per_class(pc, score, tmp / "per_class.png")
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
                _plot_morpho_binned(
                    joined, corr["metric"].head(6).tolist(), score, tmp / "morpho_binned.png"
                )
        if scores["variant"].nunique() > 1 or "clean" not in set(scores["variant"]):
            by_c, by_f = corruption_tables(scores, score)
            write_table_files(by_c, tmp / "by_corruption")
            write_table_files(by_f, tmp / "by_family")
            _plot_severity(by_f, score, tmp / "hardness_vs_severity.png")
            written["by_corruption"] = "by_corruption.csv"
    return {k_: final / v for k_, v in written.items()}


def _pool_from_run(
    run: Path, scores: pd.DataFrame, seed: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """One image per clean sample, each from a variant of the run drawn at random (seeded)."""
    from mnistlab.run import clean_labels, variant_images

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

    run = Path(run_dir)
    if not run.is_dir():
        raise MnistlabError(f"{run}: no such run directory")
    t0 = time.perf_counter()
    from mnistlab.scores.checks import read_table_file
    from mnistlab.scores.table import read_preds

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
        return runlib.variant_images(run, variant, ids)

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
        t0 = time.perf_counter()
        paths.update(
            _run_active_learning(
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


def _run_active_learning(
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
    from mnistlab._atomic import atomic_dir
    from mnistlab.data import load
    from mnistlab.scores import active

    dataset = manifest.get("dataset")
    if not dataset:
        raise MnistlabError(f"{run}: the manifest names no dataset to train on")
    train = load(str(dataset), split="train", download=False)
    pool_x, pool_y = _pool_from_run(run, scores, int(manifest.get("seed", 0)))
    budget = min(budget, pool_y.size // 2)
    one = active.one_shot(
        train.images,
        train.labels,
        pool_x,
        pool_y,
        methods=("gini", "entropy"),
        budget=budget,
        seeds=seeds,
        trainer=trainer,
        epochs=epochs,
        train_subset=train_subset,
        progress=progress,
    )
    summary = active.summarize(one)
    per_round = max(1, budget // max(rounds, 1))
    it = active.iterative(
        train.images,
        train.labels,
        pool_x,
        pool_y,
        methods=("gini",),
        budget_per_round=per_round,
        rounds=rounds,
        seeds=seeds[:1],
        trainer=trainer,
        epochs=epochs,
        train_subset=train_subset,
        progress=progress,
    )
    final = run / "active_learning" / model
    with atomic_dir(final, "active-learn") as tmp:
        write_table_files(one, tmp / "one_shot")
        write_table_files(summary, tmp / "one_shot_summary", ("csv", "md"))
        write_table_files(it, tmp / "iterative")
        active.plot_one_shot(summary, tmp / "one_shot.png")
        active.plot_learning_curve(it, tmp / "learning_curve.png")
    return {
        "active_learning": final / "one_shot_summary.csv",
        "learning_curve": final / "learning_curve.png",
    }
