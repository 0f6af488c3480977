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
    "GivenModel",
    "VariantLogits",
    "augmented_base",
    "check_given_models",
    "check_model_files",
    "check_study_models",
    "display_order",
    "for_variant",
    "import_given_models",
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


def _split_entry(entry: str) -> tuple[str | None, str]:
    """``"mine=path/x.onnx"`` -> ``("mine", "path/x.onnx")``; a plain entry has no name."""
    name, sep, rest = entry.partition("=")
    if sep and name and re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        return name, rest
    return None, entry


def with_model_names(options: StudyOptions, objects: dict[str, Any] | None = None) -> StudyOptions:
    """``options`` with ``models`` as names (model files named, ``<cnn>-aug`` added) and
    ``model_files`` mapping each file's name to its path; idempotent.

    An entry ``NAME=PATH`` names a model file; ``objects`` (name -> model object) come
    first, recorded in ``model_objects``.
    """
    files = dict(options.model_files)
    names: list[str] = []
    given = list(objects or {})
    for name in given:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise MnistlabError(
                f"models: {name!r} is no model name (letters, digits, '_', '.', '-')"
            )
    entries = [*given, *(m for m in options.models if m not in given)]
    for entry in entries:
        label, target = _split_entry(entry)
        if entry in given or entry in files or (label is None and not _is_file_entry(entry)):
            name = entry
        else:
            path = Path(target)
            if not path.exists():
                raise MnistlabError(f"--models {entry}: no such model file")
            name = label or _file_name(target)
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
    baseline = _baseline(options.baseline, names, files)
    return dataclasses.replace(
        options,
        baseline=baseline,
        models=tuple(names),
        model_files=tuple(sorted(files.items())),
        model_objects=tuple(dict.fromkeys([*options.model_objects, *given])),
    )


def _baseline(value: str | None, names: list[str], files: dict[str, str]) -> str | None:
    """The baseline's model name; ``names`` and ``files`` get it when it is not there."""
    from mnistlab.models.base import model_names

    if value is None or value in ("none", ""):
        return None
    if value == "auto":
        return "logreg" if "logreg" in names else None
    if value in names:
        return value
    label, target = _split_entry(value)
    if label is None and value in model_names():
        names.append(value)  # trained as the baseline: asked for by name
        return value
    path = Path(target)
    if not path.exists():
        raise MnistlabError(
            f"--baseline {value}: neither a model of the study, a registered model, nor a "
            "file (RUN/preds/<model>.parquet or RUN/models/<model>)"
        )
    name = label or _file_name(target)
    if name in names and files.get(name) != str(path):
        raise MnistlabError(f"--baseline {value}: a model named {name!r} is already in the study")
    files[name] = str(path)
    if name not in names:
        names.append(name)
    return name


def display_order(options: StudyOptions) -> list[str]:
    """The study's models as every table, section and view shows them: the user's own
    (objects, files) first, then the trained ones, the baseline last."""
    given = set(options.model_objects) | set(dict(options.model_files))
    first = [m for m in options.models if m in given]
    rest = [m for m in options.models if m not in given and m != options.baseline]
    last = [m for m in options.models if m == options.baseline and m not in given]
    return [*first, *rest, *last]


def trained_names(options: StudyOptions) -> list[str]:
    """The models the study trains (registered ones and the augmented one)."""
    given = set(dict(options.model_files)) | set(options.model_objects)
    return [m for m in options.models if m not in given]


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
    live = _LIVE.get((Path(run_dir).resolve(), name))
    if live is not None:
        return live
    folder = runlib.RunLayout(run_dir).model(name)
    if name not in files or (folder / "manifest.json").is_file():
        if name in options.model_objects and not (folder / "manifest.json").is_file():
            raise MnistlabError(
                f"model {name!r} of {run_dir} was a Python object that cannot be saved (a "
                f"callable): pass it again, run_study(..., models={{{name!r}: ...}})"
            )
        return load_model(folder)
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

    given = set(dict(options.model_files)) | set(options.model_objects)
    aug = augmented_base(options) + AUG_SUFFIX if options.augment else None
    registered = [m for m in options.models if m not in given and m != aug]
    if registered:
        check_models(registered)
    if options.augment:
        from mnistlab.models.base import get_spec

        if get_spec(augmented_base(options)).kind != "torch":
            raise MnistlabError("--augment trains a PyTorch model: add cnn or tip-cnn to --models")
        if not 0.0 <= float(options.augment_p) <= 1.0:
            raise MnistlabError(f"--augment-p must be in [0, 1], got {options.augment_p!r}")
    return tuple(options.models)


#: Models of a running study that live only in memory (callables): (run, name) -> Model.
_LIVE: dict[tuple[Path, str], Model] = {}


@dataclasses.dataclass
class GivenModel:
    """A model the user brought: what predicts, and how it is known again on a resume."""

    name: str
    model: Any  # a Model, or a VariantLogits for a logits file
    source: str  # "object", or the file's path
    digest: str  # sha256 of the file, or of the object's logits on probe images
    kind: str

    def record(self) -> dict[str, str]:
        return {"source": self.source, "sha256": self.digest, "kind": self.kind}


def _preprocess(options: StudyOptions, name: str) -> dict[str, Any]:
    table = {n: dict(values) for n, values in options.preprocess}
    return table.get(name, table.get("*", {}))


def _file_digest(path: Path) -> str:
    import hashlib

    from mnistlab.run.integrity import file_record

    if path.is_dir():
        digest = hashlib.sha256()
        for part in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(part.relative_to(path).as_posix().encode())
            digest.update(file_record(part)["sha256"].encode())
        return digest.hexdigest()
    return str(file_record(path)["sha256"])


def _logits_digest(model: Model, probe: NDArray[np.uint8]) -> str:
    import hashlib

    logits = np.asarray(model.predict_logits(probe), np.float64)
    return hashlib.sha256(np.round(logits, 4).astype(np.float32).tobytes()).hexdigest()


def check_model_files(
    options: StudyOptions, objects: dict[str, Any] | None = None
) -> dict[str, GivenModel]:
    """Open every model file and object of the study and refuse one it cannot use, before
    any work; return them.

    An ONNX file, model folder or object must load (or wrap, with its preprocessing) and map
    the first test images to one score per class of the dataset; a logits file must cover
    every variant of the study with the test split's samples and classes.

    Parameters
    ----------
    options : StudyOptions
        After :func:`with_model_names` (``model_files`` filled).
    objects : dict, optional
        Name -> model object (:func:`mnistlab.models.wrap` takes it).

    Returns
    -------
    dict of str to GivenModel
        By name, each with the digest a resume checks it against.

    Raises
    ------
    MnistlabError
        Naming the file or model and what is wrong with it.

    Examples
    --------
    >>> from mnistlab.workflows.study import StudyOptions
    >>> check_model_files(StudyOptions(models=("logreg",)))  # no file: nothing to open
    {}
    """
    objects = dict(objects or {})
    if not options.model_files and not objects:
        return {}
    from mnistlab import run as runlib
    from mnistlab.data import load
    from mnistlab.models.logits import is_logits_file
    from mnistlab.models.wrap import wrap
    from mnistlab.workflows.study import study_variants

    test = load(options.dataset, split="test", data_dir=options.data_dir)
    n = min(len(test), options.test_size or len(test))
    n_classes = len(test.class_names)
    probe = np.ascontiguousarray(test.images[:16])
    variants = [runlib.variant_name(c, s) for c, s in study_variants(options)]
    given: dict[str, GivenModel] = {}
    sources: list[tuple[str, Any]] = [*objects.items(), *options.model_files]
    for name, source in sources:
        file = Path(source) if name not in objects else None
        where = str(file) if file is not None else f"model {name!r}"
        if file is not None and file.is_file() and is_logits_file(file):
            scores = VariantLogits(file, variants, n)
            width = next(iter(scores._arrays.values())).shape[1]
            given[name] = GivenModel(name, scores, str(file), _file_digest(file), "logits")
        else:
            target = file if file is not None else source
            saved = isinstance(target, (str, Path)) and Path(target).is_dir()
            # a saved model folder (one of an earlier run) carries its own input options
            model = wrap(target, name=name, **({} if saved else _preprocess(options, name)))
            out = np.asarray(model.predict_logits(probe))
            if out.ndim != 2 or out.shape[0] != len(probe):
                raise MnistlabError(
                    f"{where}: maps {len(probe)} images to an output of shape {out.shape}, "
                    "expected (images, classes)"
                )
            width = out.shape[1]
            digest = _file_digest(file) if file is not None else _logits_digest(model, probe)
            source = str(file) if file is not None else ("saved" if saved else "object")
            given[name] = GivenModel(name, model, source, digest, model.kind)
        if width != n_classes:
            raise MnistlabError(
                f"{where}: {width} classes, but {options.dataset} has {n_classes} (model {name!r})"
            )
    return given


def check_given_models(run_dir: Path, given: dict[str, GivenModel], force: bool) -> None:
    """Refuse to resume ``run_dir`` with a model that changed since the run used it.

    Raises
    ------
    MnistlabError
        Naming the model, where it came from and what changed (unless ``force``).
    """
    from mnistlab import run as runlib

    recorded = runlib.read_manifest(run_dir).get("inputs", {}).get("given_models") or {}
    for name, model in given.items():
        before = recorded.get(name)
        if model.source == "saved":  # the run's own copy of an object it was given
            continue
        if force or not isinstance(before, dict) or before.get("sha256") == model.digest:
            continue
        what = model.source if model.source != "object" else "the object passed now"
        raise MnistlabError(
            f"{run_dir}: model {name!r} changed since this run used it ({what}: "
            f"{'sha256' if model.source != 'object' else 'its predictions'} differ); use a "
            "new --out folder, or --force to redo the run with it"
        )


def import_given_models(
    run_dir: Path,
    options: StudyOptions,
    given: dict[str, GivenModel],
    log: Any = None,
) -> None:
    """Record the user's models in the run, and save into ``RUN/models/<name>/`` those that
    can be saved (an ONNX file as it is, a network as ONNX, an estimator), so that the run
    resumes and reports without them; a callable lives in memory for this process."""
    from mnistlab import run as runlib

    manifest = runlib.read_manifest(run_dir)
    inputs = dict(manifest.get("inputs", {}))
    records = dict(inputs.get("given_models") or {})
    for name, item in given.items():
        if item.source == "saved":
            continue  # saved by an earlier run: its record stays
        same = records.get(name) == item.record()
        records[name] = item.record()
        if isinstance(item.model, VariantLogits):
            continue
        folder = runlib.RunLayout(run_dir).model(name)
        if same and (folder / "manifest.json").is_file():
            continue  # saved by an earlier run of the study, from the same model
        try:
            item.model.save(folder)
        except MnistlabError as exc:
            _LIVE[(Path(run_dir).resolve(), name)] = item.model
            if log is not None:
                log(f"{name}: kept in memory, not saved into the run ({exc})")
    inputs["given_models"] = records
    runlib.update_manifest(run_dir, inputs=inputs)


def resumed_objects(run_dir: Path, objects: dict[str, Any]) -> dict[str, Any]:
    """The model objects of a study of ``run_dir``: those an earlier run of it was given, in
    its order (from ``RUN/models/<name>/`` where they were saved; a callable must be passed
    again), then ``objects`` (a name given now replaces the saved one)."""
    from mnistlab import run as runlib

    layout = runlib.RunLayout(run_dir)
    recorded = (runlib.read_manifest(run_dir).get("options") or {}).get("model_objects") or []
    out: dict[str, Any] = {}
    for name in recorded:
        if name in objects:
            out[name] = objects[name]
        elif (layout.model(name) / "manifest.json").is_file():
            out[name] = layout.model(name)
        else:
            raise MnistlabError(
                f"model {name!r} of {run_dir} was a Python object that cannot be saved (a "
                f"callable): pass it again, run_study(..., models={{{name!r}: ...}})"
            )
    out.update((k, v) for k, v in objects.items() if k not in out)
    return out


def forget_given_models(run_dir: Path) -> None:
    """Drop the in-memory models of ``run_dir`` once its study is over."""
    root = Path(run_dir).resolve()
    for key in [k for k in _LIVE if k[0] == root]:
        del _LIVE[key]
