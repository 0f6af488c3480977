"""The models of a study: registered names, model files, and the corruption-augmented model.

``study --models`` takes registered names (``cnn``, ``tip-cnn``, ``logreg``, ...), which the
study trains, and model files, which it only predicts with:

* an ``.onnx`` file or a saved model folder: predicted on every variant like a trained model;
* a logits file that covers every variant of the study: a table (``.parquet``/``.csv``)
  with ``variant`` and ``sample_id`` columns and ``logit_*`` or ``prob_*`` columns (what
  ``mnistlab predict MODEL CORRUPT_DIR`` writes), or an ``.npy`` array ``(V, N, C)`` in the
  study's variant order (:func:`mnistlab.workflows.study.study_variants`).

A model file is named after its file (``path/to/resnet.onnx`` -> ``resnet``). With
``study --augment FAMILIES`` the study also trains ``<cnn>-aug``: the first PyTorch model of
the list (``cnn`` by default) with those corruptions on the fly
(:class:`mnistlab.models.augment.CorruptionAugment`).

Examples
--------
>>> from mnistlab.workflows.study import StudyOptions
>>> opts = with_model_names(StudyOptions(models=("cnn", "logreg"), augment=("noise",)))
>>> opts.models
('cnn', 'logreg', 'cnn-aug')
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.models.base import Model

if TYPE_CHECKING:
    from mnistlab.workflows.study import StudyOptions

__all__ = [
    "VariantLogits",
    "augmented_base",
    "check_model_files",
    "check_study_models",
    "for_variant",
    "load_study_model",
    "train_recipe",
    "trained_names",
    "with_model_names",
]

AUG_SUFFIX = "-aug"
FILE_SUFFIXES = (".onnx", ".npy", ".csv", ".parquet")


def _is_file_entry(entry: str) -> bool:
    from mnistlab.models.base import model_names

    if entry in model_names():
        return False
    return "/" in entry or Path(entry).suffix.lower() in FILE_SUFFIXES or Path(entry).exists()


def _file_name(entry: str) -> str:
    path = Path(entry)
    stem = path.name if path.is_dir() else path.stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem) or "model"


def augmented_base(options: StudyOptions) -> str:
    """The registered PyTorch model the augmented model copies (``cnn`` by default)."""
    from mnistlab.models.base import get_spec, model_names

    for name in options.models:
        if name in model_names() and get_spec(name).kind == "torch":
            return name
    return "cnn"


def with_model_names(options: StudyOptions) -> StudyOptions:
    """``options`` with ``models`` as names (model files named, ``<cnn>-aug`` added) and
    ``model_files`` mapping each file's name to its path; idempotent."""
    files = dict(options.model_files)
    names: list[str] = []
    for entry in options.models:
        if entry in files or not _is_file_entry(entry):
            name = entry
        else:
            path = Path(entry)
            if not path.exists():
                raise MnistlabError(f"--models {entry}: no such model file")
            name = _file_name(entry)
            if name in files and files[name] != str(path):
                raise MnistlabError(f"--models: two model files are both named {name!r}")
            files[name] = str(path)
        if name in names:
            raise MnistlabError(f"--models: {name!r} is given twice")
        names.append(name)
    if options.augment:
        from mnistlab.models.augment import CorruptionAugment

        CorruptionAugment.from_spec(options.augment, p=options.augment_p)  # validates
        aug = augmented_base(options) + AUG_SUFFIX
        if aug not in names:
            names.append(aug)
    return dataclasses.replace(
        options, models=tuple(names), model_files=tuple(sorted(files.items()))
    )


def trained_names(options: StudyOptions) -> list[str]:
    """The models the study trains (registered ones and the augmented one)."""
    files = dict(options.model_files)
    return [m for m in options.models if m not in files]


def train_recipe(name: str, options: StudyOptions) -> tuple[str, dict[str, Any]]:
    """``(registered model, extra training options)`` of a trained model of the study."""
    if options.augment and name == augmented_base(options) + AUG_SUFFIX:
        from mnistlab.models.augment import CorruptionAugment

        aug = CorruptionAugment.from_spec(
            options.augment, p=options.augment_p, compat=options.compat
        )
        return augmented_base(options), {"corruption_augment": aug, "name": name}
    return name, {}


class VariantLogits:
    """Scores of a model trained elsewhere, for every variant of a study (module docstring)."""

    kind = "logits"

    def __init__(self, path: str | Path, variants: list[str], n: int) -> None:
        import pandas as pd

        self.path = Path(path)
        self.variants = variants
        self.n = n
        if self.path.suffix.lower() == ".npy":
            arr = np.load(self.path, allow_pickle=False)
            if arr.ndim != 3 or arr.shape[0] != len(variants) or arr.shape[1] < n:
                raise MnistlabError(
                    f"{self.path}: a study needs scores for every variant: an array of shape "
                    f"({len(variants)} variants, >= {n} samples, C), got {arr.shape} "
                    "(or a table with variant and sample_id columns)"
                )
            self._arrays = {v: np.asarray(arr[i, :n], np.float64) for i, v in enumerate(variants)}
            self.proba = False
            return
        try:
            table = (
                pd.read_csv(self.path) if self.path.suffix == ".csv" else pd.read_parquet(self.path)
            )
        except Exception as exc:
            raise MnistlabError(f"{self.path}: cannot read ({str(exc).splitlines()[0]})") from None
        from mnistlab.scores.table import class_columns

        cols = class_columns(table, "logit_") or class_columns(table, "prob_")
        if not {"variant", "sample_id"} <= set(table.columns) or not cols:
            raise MnistlabError(
                f"{self.path}: a study needs a table with variant, sample_id and logit_* or "
                "prob_* columns (as 'mnistlab predict' writes)"
            )
        self.proba = cols[0].startswith("prob_")
        self._arrays = {}
        for v in variants:
            part = table[(table["variant"] == v) & (table["sample_id"] < n)]
            part = part.sort_values("sample_id")
            if len(part) != n or not (part["sample_id"].to_numpy() == np.arange(n)).all():
                raise MnistlabError(
                    f"{self.path}: variant {v!r} needs the sample ids 0..{n - 1} "
                    f"({len(part)} rows found)"
                )
            self._arrays[v] = part[cols].to_numpy(np.float64)

    def for_variant(self, variant: str, name: str, class_names: tuple[str, ...]) -> Model:
        """A model that returns this file's logits of ``variant``."""
        scores = self._arrays[variant]
        logits = np.log(np.clip(scores, 1e-7, 1.0)) if self.proba else scores
        return _Fixed(name, class_names, logits.astype(np.float32), self.path)


class _Fixed(Model):
    kind = "logits"

    def __init__(self, name: str, classes: tuple[str, ...], logits: NDArray[Any], path: Path):
        super().__init__(name, classes, {"architecture": "logits file", "path": str(path)})
        self.logits = logits

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        if len(images) != len(self.logits):
            raise MnistlabError(f"{self.name}: {len(self.logits)} rows for {len(images)} images")
        return np.asarray(self.logits, dtype=np.float32)


def load_study_model(run_dir: Path, name: str, options: StudyOptions) -> Any:
    """What ``step_predict`` predicts with for model ``name``: a Model or a VariantLogits."""
    from mnistlab import run as runlib
    from mnistlab.models import load_model
    from mnistlab.models.logits import is_logits_file
    from mnistlab.models.predict import resolve_model

    files = dict(options.model_files)
    if name not in files:
        return load_model(run_dir / "models" / name)
    path = Path(files[name])
    if path.is_file() and is_logits_file(path):
        from mnistlab.workflows.study import study_variants

        variants = [runlib.variant_name(c, s) for c, s in study_variants(options)]
        return VariantLogits(path, variants, len(runlib.clean_labels(run_dir)))
    return resolve_model(path)


def for_variant(model: Any, variant: str, name: str, class_names: tuple[str, ...]) -> Model:
    """The Model that predicts ``variant`` (a VariantLogits gives that variant's scores)."""
    if isinstance(model, VariantLogits):
        return model.for_variant(variant, name, class_names)
    return model


def check_study_models(options: StudyOptions) -> tuple[str, ...]:
    """Every model name of ``options`` (after :func:`with_model_names`): the registered ones
    checked against the registry, the model files and the augmented model taken as named."""
    from mnistlab.workflows.checks import check_models

    files = dict(options.model_files)
    aug = augmented_base(options) + AUG_SUFFIX if options.augment else None
    registered = [m for m in options.models if m not in files and m != aug]
    if registered:
        check_models(registered)
    if options.augment:
        from mnistlab.models.base import get_spec

        if get_spec(augmented_base(options)).kind != "torch":
            raise MnistlabError("--augment trains a PyTorch model: add cnn or tip-cnn to --models")
        if not 0.0 <= float(options.augment_p) <= 1.0:
            raise MnistlabError(f"--augment-p must be in [0, 1], got {options.augment_p!r}")
    return tuple(options.models)


def check_model_files(options: StudyOptions) -> None:
    """Open every model file of the study and refuse one it cannot use, before any work.

    An ONNX file or model folder must load and map two blank images to two rows of one
    score per class of the dataset; a logits file must cover every variant of the study
    with the test split's samples and classes.

    Parameters
    ----------
    options : StudyOptions
        After :func:`with_model_names` (``model_files`` filled).

    Raises
    ------
    MnistlabError
        Naming the file and what is wrong with it.

    Examples
    --------
    >>> from mnistlab.workflows.study import StudyOptions
    >>> check_model_files(StudyOptions(models=("logreg",)))  # no file: nothing to open
    """
    if not options.model_files:
        return
    from mnistlab import run as runlib
    from mnistlab.data import load
    from mnistlab.models.logits import is_logits_file
    from mnistlab.models.predict import resolve_model
    from mnistlab.workflows.study import study_variants

    test = load(options.dataset, split="test", data_dir=options.data_dir)
    n = min(len(test), options.test_size or len(test))
    n_classes = len(test.class_names)
    variants = [runlib.variant_name(c, s) for c, s in study_variants(options)]
    for name, path in options.model_files:
        file = Path(path)
        if file.is_file() and is_logits_file(file):
            scores = VariantLogits(file, variants, n)
            width = next(iter(scores._arrays.values())).shape[1]
        else:
            model = resolve_model(file)
            blank = np.zeros((2, *test.images.shape[1:]), np.uint8)
            out = np.asarray(model.predict_logits(blank))
            if out.ndim != 2 or out.shape[0] != 2:
                raise MnistlabError(
                    f"{file}: maps 2 images to an output of shape {out.shape}, "
                    "expected (2, classes)"
                )
            width = out.shape[1]
        if width != n_classes:
            raise MnistlabError(
                f"{file}: {width} classes, but {options.dataset} has {n_classes} (model {name!r})"
            )
