"""Prediction tables: one row per (variant, sample), the input of everything downstream.

Columns: ``sample_id, variant, corruption, severity, label, pred, logit_0..logit_{C-1},
prob_0..prob_{C-1}, model``. Variants are named as :func:`mnistlab.corrupt.variants.variant_name`
(``"clean"`` or ``"<corruption>-s<k>"``); a variant whose samples mix corruptions (the
Fashion-MNIST-C layout) keeps its own name and takes each row's corruption and severity from
the variant's metadata.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_path
from mnistlab.corrupt.variants import CLEAN, parse_variant, variant_name
from mnistlab.data.dataset import Dataset
from mnistlab.errors import MnistlabError
from mnistlab.models.base import Model, softmax

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.execution import Execution

__all__ = [
    "ModelLike",
    "VariantData",
    "as_model",
    "as_variants",
    "iter_predictions",
    "predict_table",
    "predict_variant",
    "predict_variant_arrow",
    "prediction_arrow",
    "resolve_model",
    "variant_logits",
    "write_predictions",
]

DataLike = Any  # Dataset | path | dataset name | Mapping[str, Dataset] | Iterable[VariantData]
#: A Model or anything :func:`mnistlab.models.wrap.wrap` turns into one.
ModelLike = Any
#: Images per chunk when the execution does not choose (``execution.chunk_size``).
_CHUNK_SIZE = 2000


@dataclass(frozen=True)
class VariantData:
    """One variant to predict on: its name, its images/labels and the per-row corruption."""

    name: str
    dataset: Dataset
    corruption: NDArray[Any]
    severity: NDArray[np.int64]


def _variant(
    dataset: Dataset, name: str, corruption: str | None, severity: int | None
) -> VariantData:
    n = len(dataset)
    meta = dataset.metadata
    if meta is not None and "corruption" in meta.columns and "severity" in meta.columns:
        corr = meta["corruption"].astype(str).to_numpy(object)
        sev = meta["severity"].fillna(0).to_numpy(np.int64)
    else:
        if corruption is None:
            try:
                corruption, severity = parse_variant(name)
            except MnistlabError:
                corruption, severity = name, 0
        corr = np.full(n, corruption, dtype=object)
        sev = np.full(n, int(severity or 0), dtype=np.int64)
    return VariantData(name, dataset, corr, sev)


def as_variants(data: DataLike, split: str = "test") -> Iterator[VariantData]:
    """Normalise what :func:`predict_table` accepts into :class:`VariantData` items.

    ``data`` may be a :class:`Dataset` (variant ``"clean"``, unless its metadata has
    ``corruption``/``severity`` columns), a folder written by ``mnistlab corrupt``/``perturb``
    (every variant of its manifest), a dataset name or IDX folder (its ``split``, clean), a
    mapping ``{variant name: Dataset}`` or an iterable of :class:`VariantData`.
    """
    if isinstance(data, Dataset):
        meta = data.metadata
        if meta is not None and {"corruption", "severity"} <= set(meta.columns):
            pairs = set(
                zip(
                    meta["corruption"].astype(str),
                    meta["severity"].fillna(0).astype(int),
                    strict=True,
                )
            )
            name = variant_name(*next(iter(pairs))) if len(pairs) == 1 else data.name
            yield _variant(data, name, None, None)
        else:
            yield _variant(data, CLEAN, "identity", 0)
        return
    if isinstance(data, Mapping):
        for name, ds in data.items():
            yield _variant(ds, str(name), None, None)
        return
    if isinstance(data, (str, os.PathLike)):
        from mnistlab.data.variants import is_variant_dir, iter_variants, load_variant

        if is_variant_dir(data):
            for v in iter_variants(data):
                if split not in v.splits:
                    continue
                ds = load_variant(data, v, split)
                corruption = v.corruption
                if corruption is None and v.info.get("kind") is not None:
                    corruption = str(v.info["kind"])
                name = v.name
                if v.corruption is not None and v.severity is not None:
                    name = variant_name(v.corruption, v.severity)
                yield _variant(ds, name, corruption, v.severity if corruption is not None else None)
            return
        from mnistlab.data import load

        yield _variant(load(data, split=split), CLEAN, "identity", 0)
        return
    if isinstance(data, Iterable):
        for item in data:
            if not isinstance(item, VariantData):
                raise MnistlabError(f"expected VariantData items, got {type(item).__name__}")
            yield item
        return
    raise MnistlabError(
        f"cannot predict on {type(data).__name__}: give a Dataset, a folder or a name"
    )


def as_model(model: ModelLike) -> Model:
    """``model`` itself when it is a :class:`Model`, else :func:`mnistlab.models.wrap.wrap` of it.

    Parameters
    ----------
    model : Model or model-like

    Returns
    -------
    Model

    Raises
    ------
    MnistlabError
        When ``model`` is nothing ``wrap`` accepts (the message lists what is).

    Examples
    --------
    >>> as_model(lambda images: np.zeros((len(images), 2))).kind
    'callable'
    """
    if isinstance(model, Model):
        return model
    from mnistlab.models.wrap import wrap

    return wrap(model)


def _predict_chunk(images: NDArray[np.uint8], model: Model) -> NDArray[np.float32]:
    return np.asarray(model.predict_logits(images), dtype=np.float32)


def _logits(
    model: Model, images: NDArray[np.uint8], execution: Execution | None
) -> NDArray[np.float32]:
    from mnistlab.models.cnn import TorchModel
    from mnistlab.models.logits import LogitsFile
    from mnistlab.models.wrap import CallableModel, ModuleModel

    # PyTorch already uses every core, and its thread pool does not survive a fork: torch
    # models always predict in this process; so do callables (a lambda does not pickle).
    in_process = isinstance(model, (LogitsFile, TorchModel, ModuleModel, CallableModel))
    size = (execution.chunk_size if execution is not None else None) or _CHUNK_SIZE
    if execution is None or execution.executor == "serial" or in_process or len(images) <= size:
        return _predict_chunk(images, model)
    import dataclasses

    from mnistlab.parallel import map_chunks

    # The chunks show no bar of their own (iter_predictions shows one per variant).
    job = dataclasses.replace(execution, chunk_size=size, progress=False)
    parts = map_chunks(_predict_chunk, len(images), job, arrays=(images,), args=(model,))
    return np.concatenate(parts, axis=0)


def variant_logits(
    model: ModelLike, variant: VariantData, *, execution: Execution | None = None
) -> NDArray[np.float32]:
    """Logits ``float32 (N, C)`` of one variant, checked against its classes.

    ``model``: anything :func:`as_model` takes. ``execution`` runs chunks of
    ``execution.chunk_size`` images (default 2,000) on :func:`mnistlab.parallel.map_chunks`;
    without it, or with ``Execution("serial")``, the model predicts in this process (see
    :func:`predict_table`).
    """
    from mnistlab.models.logits import LogitsFile

    model = as_model(model)
    ds = variant.dataset
    if not model.class_names:
        # An ONNX model with a dynamic output shape learns its classes from the data.
        model.class_names = ds.class_names
    if isinstance(model, LogitsFile):
        model.check_classes(ds.num_classes)
    elif model.num_classes != ds.num_classes:
        raise MnistlabError(
            f"model {model.name!r} has {model.num_classes} classes "
            f"but {ds.name!r} has {ds.num_classes}"
        )
    logits = _logits(model, ds.images, execution)
    if logits.shape != (len(ds), ds.num_classes):
        raise MnistlabError(
            f"model {model.name!r} returned logits of shape {logits.shape}, "
            f"expected {(len(ds), ds.num_classes)}"
        )
    return logits


def _string_column(values: NDArray[Any] | str, n: int) -> Any:
    """A string column built as a dictionary (categorical) array: no per-row Python strings."""
    import pyarrow as pa

    if isinstance(values, str):
        codes: NDArray[Any] = np.zeros(n, np.int32)
        levels = [values]
    else:
        uniques, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
        codes, levels = inverse.astype(np.int32).reshape(-1), [str(u) for u in uniques]
    dictionary = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(levels))
    return dictionary.cast(pa.large_string())


@functools.lru_cache(maxsize=16)
def _schema(num_classes: int) -> Any:
    """The Arrow schema (with its pandas metadata) of a prediction table of ``num_classes``."""
    import pandas as pd
    import pyarrow as pa

    columns: dict[str, Any] = {
        "sample_id": np.zeros(1, np.int64),
        "variant": ["v"],
        "corruption": ["c"],
        "severity": np.zeros(1, np.int64),
        "label": np.zeros(1, np.int64),
        "pred": np.zeros(1, np.int64),
    }
    for kind in ("logit", "prob"):
        for c in range(num_classes):
            columns[f"{kind}_{c}"] = np.zeros(1, np.float32)
    columns["model"] = ["m"]
    frame = pd.DataFrame(columns)
    for col in ("variant", "corruption", "model"):
        frame[col] = frame[col].astype(str)
    return pa.Table.from_pandas(frame, preserve_index=False).schema


def prediction_arrow(variant: VariantData, logits: NDArray[np.float32], model_name: str) -> Any:
    """The prediction table of one variant as a ``pyarrow.Table``, built from its arrays.

    The string columns (``variant``, ``corruption``, ``model``) are built as dictionary
    arrays; the schema, pandas metadata included, is the one of :func:`predict_variant`'s
    frame, so both write the same Parquet bytes.

    Examples
    --------
    >>> from mnistlab.data.dataset import Dataset
    >>> ds = Dataset(np.zeros((2, 28, 28), np.uint8), np.array([0, 1]), ("a", "b"))
    >>> v = VariantData("clean", ds, np.array(["identity"] * 2), np.zeros(2, np.int64))
    >>> t = prediction_arrow(v, np.array([[1, 0], [0, 2]], np.float32), "m")
    >>> t.column("pred").to_pylist(), t.num_columns
    ([0, 1], 11)
    """
    import pyarrow as pa

    ds = variant.dataset
    n = len(ds)
    logits = np.ascontiguousarray(logits, dtype=np.float32)
    probs = softmax(logits)
    schema = _schema(int(logits.shape[1]))
    arrays: list[Any] = [
        pa.array(np.asarray(ds.sample_ids, dtype=np.int64)),
        _string_column(variant.name, n),
        _string_column(variant.corruption, n),
        pa.array(np.asarray(variant.severity, dtype=np.int64)),
        pa.array(np.asarray(ds.labels, dtype=np.int64)),
        pa.array(logits.argmax(axis=1).astype(np.int64)),
    ]
    arrays += [pa.array(logits[:, c]) for c in range(logits.shape[1])]
    arrays += [pa.array(probs[:, c]) for c in range(probs.shape[1])]
    arrays.append(_string_column(model_name, n))
    return pa.Table.from_arrays(arrays, schema=schema)


def predict_variant_arrow(
    model: ModelLike,
    variant: VariantData,
    *,
    model_name: str | None = None,
    execution: Execution | None = None,
) -> Any:
    """:func:`predict_variant` as a ``pyarrow.Table`` (what the study streams to Parquet)."""
    model = as_model(model)
    logits = variant_logits(model, variant, execution=execution)
    return prediction_arrow(variant, logits, model_name or model.name)


def predict_variant(
    model: ModelLike,
    variant: VariantData,
    *,
    model_name: str | None = None,
    execution: Execution | None = None,
) -> pd.DataFrame:
    """The prediction table of one variant (see the module docstring for the columns).

    ``execution``: see :func:`predict_table`.
    """
    table = predict_variant_arrow(model, variant, model_name=model_name, execution=execution)
    return table.to_pandas()


def iter_predictions(
    model: ModelLike,
    data: DataLike,
    *,
    split: str = "test",
    model_name: str | None = None,
    execution: Execution | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the prediction table variant by variant (bounded memory).

    ``execution``: see :func:`predict_table`; ``execution.progress`` shows one bar over the
    variants.
    """
    from tqdm.auto import tqdm

    model = as_model(model)
    progress = execution is not None and execution.progress
    variants = as_variants(data, split)
    for v in tqdm(
        variants, desc=f"predict {model_name or model.name}", unit="variant", disable=not progress
    ):
        yield predict_variant(model, v, model_name=model_name, execution=execution)


def predict_table(
    model: ModelLike,
    data: DataLike,
    *,
    split: str = "test",
    model_name: str | None = None,
    execution: Execution | None = None,
) -> pd.DataFrame:
    """Predict every variant of ``data`` with ``model``; one row per (variant, sample).

    Parameters
    ----------
    model : Model or model-like
        Any :class:`~mnistlab.models.base.Model` (saved, ONNX, or a :class:`LogitsFile`), or
        what :func:`mnistlab.models.wrap.wrap` takes: a ``torch.nn.Module``, a fitted
        scikit-learn estimator, a callable ``images -> scores``, an ``.onnx`` or logits file,
        a saved model folder (wrapped with its defaults; call ``wrap`` for other options).
    data : Dataset, path, name or mapping
        See :func:`as_variants`.
    split : str
        Split read from folders and dataset names.
    model_name : str, optional
        Value of the ``model`` column (default ``model.name``).
    execution : Execution, optional
        How the images are predicted (:class:`mnistlab.execution.Execution`): chunks of
        ``execution.chunk_size`` images (default 2,000) run on
        :func:`mnistlab.parallel.map_chunks` with its executor and workers;
        ``execution.progress`` shows a bar over the variants. Default: serial, in this
        process, no bar. PyTorch models and logits files always predict in this process
        (PyTorch on every core). The table does not depend on it.

    Examples
    --------
    >>> from mnistlab.execution import Execution
    >>> class Brightness(Model):  # "light" when the mean pixel is above 127.5
    ...     def predict_logits(self, images):
    ...         return np.stack([127.5 - images.mean((1, 2)), images.mean((1, 2)) - 127.5], 1)
    >>> images = np.stack([np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)])
    >>> ds = Dataset(images, np.array([0, 1]), ("dark", "light"))
    >>> model = Brightness("bright", ds.class_names, {})
    >>> table = predict_table(model, ds, execution=Execution("serial", chunk_size=1))
    >>> table[["variant", "label", "pred"]].values.tolist()
    [['clean', 0, 0], ['clean', 1, 1]]
    >>> dark = lambda images: np.tile([1.0, 0.0], (len(images), 1))  # a callable: always "dark"
    >>> predict_table(dark, ds)[["model", "pred"]].values.tolist()
    [['callable', 0], ['callable', 0]]
    >>> table = predict_table(model, load("fashion-mnist"))  # doctest: +SKIP
    >>> table.groupby("variant").apply(lambda t: (t.pred == t.label).mean())  # doctest: +SKIP
    """
    import pandas as pd

    model = as_model(model)
    parts = list(
        iter_predictions(
            model,
            data,
            split=split,
            model_name=model_name,
            execution=execution,
        )
    )
    if not parts:
        raise MnistlabError(f"no variant with a {split!r} split to predict on")
    return pd.concat(parts, ignore_index=True)


def write_predictions(path: str | os.PathLike[str], tables: Iterable[Any]) -> tuple[Path, int]:
    """Stream tables (same columns) into one Parquet file, atomically; returns (path, rows).

    ``tables`` yields pandas frames (:func:`iter_predictions`) or ``pyarrow`` tables
    (:func:`predict_variant_arrow`).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0
    writer: Any = None
    with atomic_path(path, suffix=".parquet") as tmp:
        try:
            for table in tables:
                batch = (
                    table
                    if isinstance(table, pa.Table)
                    else pa.Table.from_pandas(table, preserve_index=False)
                )
                if writer is None:
                    writer = pq.ParquetWriter(str(tmp), batch.schema)
                writer.write_table(batch.cast(writer.schema))
                rows += len(table)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise MnistlabError(f"{path}: nothing to write (no variant was predicted)")
    return Path(path), rows


def resolve_model(
    spec: ModelLike,
    *,
    layout: str | None = None,
    scale: float | None = None,
    mean: float | None = None,
    std: float | None = None,
    scores: str = "auto",
    name: str | None = None,
) -> Model:
    """A model from the command line or the library.

    Parameters
    ----------
    spec : path or model-like
        A saved model folder, an ``.onnx`` file, a logits file (``.npy``, ``.csv``,
        ``.parquet``), or any object :func:`mnistlab.models.wrap.wrap` takes.
    layout, scale, mean, std
        The input of an ``.onnx`` file, network or callable (see
        :class:`mnistlab.models.wrap.Preprocess`; None: the default, for ONNX the layout
        of the file's input shape and ``"auto"`` too). Ignored for model folders and logits
        files, whose input is fixed.
    scores : {"auto", "logits", "proba"}
        What a logits file or the ONNX model's output holds.
    name : str, optional
        The model's name (default: the file stem, or the saved name).

    Returns
    -------
    Model

    Raises
    ------
    MnistlabError
        A missing path, a file that is no model, bad options (naming them).

    Examples
    --------
    >>> resolve_model(lambda images: np.zeros((len(images), 3)), name="zero").kind
    'callable'
    >>> resolve_model("nothing.onnx")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: nothing.onnx: no such ONNX file
    """
    from mnistlab.models.logits import is_logits_file
    from mnistlab.models.wrap import wrap

    pre: dict[str, Any] = {"scale": scale, "mean": mean, "std": std, "layout": layout}
    if isinstance(spec, Model):
        return wrap(spec, name=name)
    if not isinstance(spec, (str, os.PathLike)):
        return wrap(spec, name=name, output=scores, **pre)
    path = Path(spec)
    if path.is_dir():
        return wrap(path, name=name)
    if is_logits_file(path):
        return wrap(path, name=name, output=scores)
    if path.suffix.lower() == ".onnx":
        return wrap(path, name=name, output=scores, **pre)
    if not path.exists():
        raise MnistlabError(f"{path}: no such model (a saved model folder, .onnx or logits file)")
    raise MnistlabError(
        f"{path}: not a model (expected a saved model folder, .onnx, .npy, .csv or .parquet)"
    )
