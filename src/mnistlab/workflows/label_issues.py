"""Likely label errors of a dataset or of a predictions table, and their image grid.

:func:`find_source_issues` scores a dataset by cross-validated PCA + logistic regression,
or uses the clean rows of a predictions table as they are (probabilities of a model
trained on another split are out-of-sample); :func:`write_issue_grid` draws the top issues.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["find_source_issues", "write_issue_grid"]


def find_source_issues(
    source: str | os.PathLike[str],
    *,
    split: str = "test",
    folds: int = 5,
    seed: int = 0,
    limit: int | None = None,
    all_rows: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    grid: bool = False,
) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None]:
    """Ranked label issues of ``source``, with the images and sample ids of a dataset.

    Parameters
    ----------
    source : str or path-like
        A predictions table file, or a dataset name / IDX folder.
    split, folds, seed, limit
        Dataset only: split scored, cross-validation folds, seed, first N images.
    all_rows : bool
        Keep every sample (issues first), not only the issues.
    data_dir : path-like, optional
        Folder searched first for the dataset.
    grid : bool
        The images are wanted for a grid (:func:`write_issue_grid`): a predictions table,
        which has none, is refused before any work.

    Returns
    -------
    table : pandas.DataFrame
        :func:`mnistlab.scores.label_issues.find_label_issues`'s table.
    images, ids : numpy.ndarray or None
        The dataset's images and sample ids (None for a predictions table).

    Examples
    --------
    >>> table, images, ids = find_source_issues("fashion-mnist", limit=500)  # doctest: +SKIP
    >>> bool(table["is_issue"].all())  # doctest: +SKIP
    True
    """
    from mnistlab.scores.label_issues import find_label_issues

    path = Path(source)
    if path.is_file():
        from mnistlab.scores.table import probs_of, read_preds

        if grid:
            raise MnistlabError("--grid: needs a dataset (a predictions table has no images)")
        preds = read_preds(str(path))
        clean = preds[preds["variant"] == "clean"] if "clean" in set(preds["variant"]) else preds
        if clean["variant"].nunique() > 1:
            raise MnistlabError(f"{path}: no 'clean' variant; give a table of one variant")
        table = find_label_issues(
            clean["label"].to_numpy(),
            probs_of(clean),
            clean["sample_id"].to_numpy(),
            all_rows=all_rows,
        )
        return table, None, None
    from mnistlab.data import load

    ds = load(str(source), split=split, data_dir=data_dir)
    if limit is not None:
        ds = ds[:limit]
    from mnistlab.models.quick import cross_val_probs

    probs = cross_val_probs(ds.images, ds.labels, folds=folds, seed=seed)
    ids = np.asarray(ds.sample_ids)
    table = find_label_issues(ds.labels, probs, ids, ds.class_names, all_rows=all_rows)
    return table, ds.images, ids


def write_issue_grid(table: pd.DataFrame, images: Any, ids: Any, path: Path) -> Path:
    """PNG grid of the first 40 issues of ``table`` (given -> suggested label), atomically.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`find_source_issues` (``is_issue``, ``sample_id``, ``label``, ``suggested``).
    images, ids : numpy.ndarray
        The images and their sample ids, in the same order.
    path : Path
        The ``.png`` to write; with no issue it says so.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> write_issue_grid(table, images, ids, Path("issues.png"))  # doctest: +SKIP
    PosixPath('issues.png')
    """
    from mnistlab._atomic import atomic_path
    from mnistlab.figures import pyplot
    from mnistlab.figures.hardness import plot_image_grid, save_tight

    shown = table[table["is_issue"]].head(40)
    n = len(shown)
    cols = 8
    with atomic_path(path, suffix=".png") as tmp:
        if not n:
            fig, ax = pyplot().subplots(figsize=(3, 1))
            ax.axis("off")
            ax.text(0.5, 0.5, "no label issue found", ha="center", va="center")
            save_tight(fig, tmp)
            return path
        position = {int(s): i for i, s in enumerate(ids)}
        rows = np.array([position[int(s)] for s in shown["sample_id"]], dtype=np.int64)
        label = shown.get("label_name", shown["label"]).astype(str).tolist()
        sugg = shown.get("suggested_name", shown["suggested"]).astype(str).tolist()
        captions = [
            f"#{s} {a[:8]}>{b[:8]}" for s, a, b in zip(shown["sample_id"], label, sugg, strict=True)
        ]
        n_rows = -(-n // cols)
        plot_image_grid(
            images[rows],
            np.arange(n) // cols,
            np.arange(n) % cols,
            n_rows,
            cols,
            tmp,
            [""] * n_rows,
            captions,
            title="likely label issues (given -> suggested)",
        )
    return path
