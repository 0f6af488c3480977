"""Every path and table name of a run directory: :class:`RunLayout`, :class:`CompareLayout`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MANIFEST", "CompareLayout", "RunLayout", "file_label"]

MANIFEST = "manifest.json"
REPORT = "report.html"
MORPHO = "morpho"
MODELS = "models"
PREDS = "preds"
SCORES = "scores"
EMBEDDINGS = "embeddings"
EVAL = "eval"
HARDNESS = "hardness"
COMPARE = "compare"
FMNIST_C = "fmnist-c"
ACTIVE_LEARNING = "active_learning"
LABEL_ISSUES = "label_issues"
#: Tables of ``eval/`` (``.csv`` and ``.md``), written by
#: :func:`mnistlab.workflows.evaluate.evaluate_predictions`.
EVAL_TABLES = ("accuracy", "corruptions", "mce", "per_class", "sanity")
#: Tables of a compare folder (``.csv`` and ``.parquet``; ``seen_unseen`` only with an augmented
#: model), written by :func:`mnistlab.workflows.compare.compare_runs`.
COMPARE_TABLES = ("leaderboard", "cells", "pairs", "seen_unseen")
COMPARE_HTML = "compare.html"
#: What :func:`mnistlab.workflows.fmnist_c.fmnist_c_prioritization` writes into ``fmnist-c/``
#: that the report shows.
FMNIST_C_TABLE = "prioritization.csv"
FMNIST_C_FIGURES = ("faults_found.png", "accuracy_by_corruption.png")
#: Tables (``.csv``) and figures of ``active_learning/<model>/``, written by
#: :func:`mnistlab.workflows.active.write_active_learning` (``iterative`` and
#: ``learning_curve`` only when the iterative protocol ran).
ACTIVE_LEARNING_TABLES = ("one_shot_summary", "one_shot", "iterative")
ACTIVE_LEARNING_FIGURES = ("one_shot.png", "learning_curve.png")


def file_label(label: str) -> str:
    """A model label as it stands in file names (runs of other characters than ASCII letters,
    digits, ``_``, ``.`` and ``-`` become one ``_``).

    Examples
    --------
    >>> file_label("runs a/cnn")
    'runs_a_cnn'
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)


@dataclass(frozen=True)
class CompareLayout:
    """Every file of a compare folder: ``mnistlab compare``'s ``OUT``, or a study's ``compare/``
    (:attr:`RunLayout.compare`).

    Examples
    --------
    >>> lay = CompareLayout("cmp")
    >>> lay.table("pairs").as_posix(), lay.delta_heatmap("a/cnn", "logreg").name
    ('cmp/pairs.csv', 'delta_a_cnn__logreg.png')
    """

    folder: Path

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "folder", Path(folder))

    def table(self, name: str, suffix: str = ".csv") -> Path:
        """``<name><suffix>`` for ``name`` in :data:`COMPARE_TABLES`."""
        return self.folder / f"{name}{suffix}"

    def delta_heatmap(self, a: str, b: str) -> Path:
        """``delta_<a>__<b>.png``: accuracy of model ``a`` minus model ``b`` per cell."""
        return self.folder / f"delta_{file_label(a)}__{file_label(b)}.png"

    @property
    def html(self) -> Path:
        """``compare.html``."""
        return self.folder / COMPARE_HTML


@dataclass(frozen=True)
class RunLayout:
    """Every path of a run directory, by name.

    Parameters
    ----------
    run : path-like
        The run directory (it need not exist yet).

    Examples
    --------
    >>> lay = RunLayout("runs/a")
    >>> lay.preds("cnn").as_posix(), lay.prioritization("cnn").as_posix()
    ('runs/a/preds/cnn.parquet', 'runs/a/hardness/cnn/prioritization.csv')
    >>> lay.eval_heatmap("cnn").name, lay.table("scores/cnn").name
    ('heatmap_cnn.png', 'cnn.parquet')
    >>> lay.relative(lay.compare_delta("cnn", "logreg"))
    'compare/delta_cnn__logreg.png'
    """

    run: Path

    def __init__(self, run: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "run", Path(run))

    # -- top level -------------------------------------------------------------------
    @property
    def manifest(self) -> Path:
        """``manifest.json``."""
        return self.run / MANIFEST

    @property
    def data(self) -> Path:
        """``data/``: the clean test split."""
        return self.run / "data"

    @property
    def test_images(self) -> Path:
        """``data/test_images.npy``."""
        return self.data / "test_images.npy"

    @property
    def test_labels(self) -> Path:
        """``data/test_labels.npy``."""
        return self.data / "test_labels.npy"

    @property
    def morpho(self) -> Path:
        """``morpho.parquet``."""
        return self.table(MORPHO)

    @property
    def report(self) -> Path:
        """``report.html``."""
        return self.run / REPORT

    def table(self, name: str) -> Path:
        """``<name>.parquet`` (``name`` may contain a folder, e.g. ``"preds/cnn"``)."""
        return self.run / f"{name}.parquet"

    def relative(self, path: Path) -> str:
        """``path`` inside the run as the report names it (``eval/mce.csv``)."""
        return path.relative_to(self.run).as_posix()

    # -- per model -------------------------------------------------------------------
    @property
    def preds_folder(self) -> Path:
        """``preds/``: one predictions table per model."""
        return self.run / PREDS

    def model(self, model: str) -> Path:
        """``models/<model>/``: the saved model."""
        return self.run / MODELS / model

    def preds(self, model: str) -> Path:
        """``preds/<model>.parquet``."""
        return self.table(f"{PREDS}/{model}")

    def scores(self, model: str) -> Path:
        """``scores/<model>.parquet``."""
        return self.table(f"{SCORES}/{model}")

    def embeddings(self, model: str) -> Path:
        """``embeddings/<model>.parquet``."""
        return self.table(f"{EMBEDDINGS}/{model}")

    def label_issues(self, model: str) -> Path:
        """``label_issues/<model>.csv``."""
        return self.run / LABEL_ISSUES / f"{model}.csv"

    def hardness(self, model: str) -> Path:
        """``hardness/<model>/``: prioritisation table, grids and plots of the model."""
        return self.run / HARDNESS / model

    def prioritization(self, model: str) -> Path:
        """``hardness/<model>/prioritization.csv`` (APFD, AUROC ... per variant and score)."""
        return self.hardness(model) / "prioritization.csv"

    def models_with_preds(self) -> list[str]:
        """Models with a ``preds/<model>.parquet`` table, in the order the study recorded
        (``manifest.json`` ``models``: the user's models first, the baseline last), then
        any others by name (``cnn`` first)."""
        import json

        folder = self.preds_folder
        found = sorted(p.stem for p in folder.glob("*.parquet")) if folder.is_dir() else []
        order: list[str] = []
        try:
            recorded = json.loads(self.manifest.read_text(encoding="utf-8")).get("models")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if isinstance(recorded, list):
            order = [m for m in recorded if isinstance(m, str) and m in found]
        rest = sorted((m for m in found if m not in order), key=lambda m: (m != "cnn", m))
        return [*order, *rest]

    # -- folders of the analyses -----------------------------------------------------
    @property
    def eval(self) -> Path:
        """``eval/``: robustness tables (CSV, Markdown) and plots."""
        return self.run / EVAL

    def eval_table(self, name: str) -> Path:
        """``eval/<name>.csv`` for ``name`` in :data:`EVAL_TABLES`."""
        return self.eval / f"{name}.csv"

    def eval_heatmap(self, model: str) -> Path:
        """``eval/heatmap_<model>.png``."""
        return self.eval / f"heatmap_{model}.png"

    def eval_reliability(self, model: str) -> Path:
        """``eval/reliability_<model>.png``."""
        return self.eval / f"reliability_{model}.png"

    @property
    def compare(self) -> Path:
        """``compare/``: the leaderboard of the run's models (see :class:`CompareLayout`)."""
        return self.run / COMPARE

    def compare_table(self, name: str) -> Path:
        """``compare/<name>.csv`` for ``name`` in :data:`COMPARE_TABLES`."""
        return CompareLayout(self.compare).table(name)

    def compare_delta(self, a: str, b: str) -> Path:
        """``compare/delta_<a>__<b>.png``: the delta heatmap of models ``a`` and ``b``."""
        return CompareLayout(self.compare).delta_heatmap(a, b)

    @property
    def fmnist_c(self) -> Path:
        """``fmnist-c/``: the Fashion-MNIST-C protocol."""
        return self.run / FMNIST_C

    @property
    def fmnist_c_table(self) -> Path:
        """``fmnist-c/prioritization.csv``: misclassification detection by score."""
        return self.fmnist_c / FMNIST_C_TABLE

    @property
    def fmnist_c_figures(self) -> tuple[Path, ...]:
        """The figures of ``fmnist-c/`` the report shows (:data:`FMNIST_C_FIGURES`)."""
        return tuple(self.fmnist_c / name for name in FMNIST_C_FIGURES)

    @property
    def active_learning(self) -> Path:
        """``active_learning/``."""
        return self.run / ACTIVE_LEARNING

    def active_learning_of(self, model: str) -> Path:
        """``active_learning/<model>/``: one model's active-learning study."""
        return self.active_learning / model

    @property
    def figure_folders(self) -> tuple[Path, ...]:
        """Folders whose PNG figures the report attaches in its figures section (those of
        ``active_learning/`` stand in its own section)."""
        return (self.eval, self.run / HARDNESS)
