"""Folders of dataset variants written by ``mnistlab corrupt`` and ``mnistlab perturb``.

Every such folder holds ``mnistlab.json``, a manifest that lists its variants, so any
downstream step (``predict``, the explorer, the PyTorch loader) reads every layout the same
way, whatever files the layout itself prescribes (MNIST-C ``.npy`` folders, Fashion-MNIST-C
IDX files, Morpho-MNIST IDX files plus CSV).

Manifest (JSON)::

    {
      "format_version": 1,
      "kind": "corrupt" | "perturb" | "export",
      "layout": "mnist-c" | "fmnist-c" | "morpho" | ...,
      "dataset": "fashion-mnist",
      "class_names": [...],
      "seed": 0,
      "variants": [
        {"name": "motion_blur-s3", "corruption": "motion_blur", "severity": 3,
         "splits": {"test": {"images": "motion_blur/test_images.npy",
                             "labels": "motion_blur/test_labels.npy",
                             "metadata": "test_meta.parquet"}}}
      ]
    }

Paths are relative to the folder. ``images``/``labels`` may be ``.npy``, ``.npz`` (the array
named ``images``/``labels``, else the first), a Hugging Face-style ``.parquet`` (``image`` /
``label`` columns) or IDX (gzip or plain). A split entry with ``"format": "png"`` names a
folder of ``<class>/<index>.png`` files instead, labelled through the manifest's
``class_dirs`` (folder name -> label), as ``mnistlab export --format png`` writes.
``metadata`` (optional) is a Parquet or CSV table with one row per sample in file order; its
columns (``corruption``, ``severity``, ``pert``, ``sample_id``, ...)
become the Dataset's metadata, and a ``sample_id`` column becomes its sample ids. Extra keys
in a variant (``corruption``, ``severity``, ``kind``...) describe the whole variant.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab._atomic import write_text_atomic
from mnistlab.data.dataset import Dataset
from mnistlab.errors import MnistlabError

__all__ = [
    "MANIFEST_NAME",
    "Variant",
    "is_variant_dir",
    "iter_variants",
    "load_variant",
    "load_variant_dir",
    "read_array",
    "read_manifest",
    "write_manifest",
]

MANIFEST_NAME = "mnistlab.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Variant:
    """One variant listed in a manifest."""

    name: str
    splits: dict[str, dict[str, str]]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def corruption(self) -> str | None:
        """The corruption applied to every sample, if there is one."""
        value = self.info.get("corruption")
        return None if value is None else str(value)

    @property
    def severity(self) -> int | None:
        """The severity of every sample, if there is one."""
        value = self.info.get("severity")
        return None if value is None else int(value)


def is_variant_dir(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a folder with a ``mnistlab.json`` manifest."""
    return (Path(path) / MANIFEST_NAME).is_file()


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a folder's manifest."""
    file = Path(path) / MANIFEST_NAME
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MnistlabError(f"{path}: not a mnistlab output folder (no {MANIFEST_NAME})") from None
    except json.JSONDecodeError as exc:
        raise MnistlabError(f"{file}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise MnistlabError(f"{file}: not UTF-8 text, not a manifest") from None
    except OSError as exc:
        raise MnistlabError(f"{file}: cannot read ({exc.strerror or exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("variants"), list):
        raise MnistlabError(f"{file}: manifest has no 'variants' list")
    for i, entry in enumerate(manifest["variants"]):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("splits", {}), dict)
            or not all(isinstance(f, dict) for f in entry.get("splits", {}).values())
        ):
            raise MnistlabError(f"{file}: variants[{i}] is not {{'name': str, 'splits': {{...}}}}")
    return manifest


def write_manifest(
    path: str | os.PathLike[str],
    *,
    kind: str,
    layout: str,
    dataset: str,
    class_names: tuple[str, ...] | list[str],
    variants: list[dict[str, Any]],
    **extra: Any,
) -> Path:
    """Write ``mnistlab.json`` atomically into ``path`` (call it last, once the files exist)."""
    manifest = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "layout": layout,
        "dataset": dataset,
        "class_names": list(class_names),
        **extra,
        "variants": variants,
    }
    target = Path(path) / MANIFEST_NAME
    write_text_atomic(target, json.dumps(manifest, indent=1, default=_json_default) + "\n")
    return target


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_array(path: Path, key: str | None = None) -> np.ndarray:
    """Read an array file: ``.npy``, ``.npz``, Hugging Face-style ``.parquet`` or IDX.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    key : str, optional
        ``.npz``: the array named ``key`` when there is one (else the first array).
        ``.parquet``: ``"labels"`` reads the ``label`` column, anything else decodes the
        ``image`` column.
    """
    if not path.is_file():
        raise MnistlabError(f"{path}: no such file")
    suffix = path.name.lower()
    if suffix.endswith(".npy"):
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise MnistlabError(f"{path}: not a valid .npy file ({exc})") from None
    if suffix.endswith(".npz"):
        try:
            with np.load(path, allow_pickle=False) as z:
                if not z.files:
                    raise MnistlabError(f"{path}: empty .npz")
                return z[key if key in z.files else z.files[0]]
        except (OSError, ValueError, EOFError, KeyError) as exc:
            if isinstance(exc, MnistlabError):
                raise
            raise MnistlabError(f"{path}: not a readable .npz file ({exc})") from None
    if suffix.endswith(".parquet"):
        return _read_parquet_column(path, "label" if key == "labels" else "image")
    from mnistlab.data.idx import read_idx

    return read_idx(path)


def _read_parquet_column(path: Path, column: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=[column])
    except (OSError, pa.ArrowInvalid, KeyError) as exc:
        raise MnistlabError(f"{path}: cannot read column {column!r} ({exc})") from None
    if column == "label":
        return np.asarray(table.column("label").to_numpy())
    from mnistlab.data.formats import decode_png

    images = table.column("image").combine_chunks()
    if not pa.types.is_struct(images.type) or images.type.get_field_index("bytes") < 0:
        raise MnistlabError(
            f"{path}: 'image' column is {images.type}, expected struct<bytes, path>"
        )
    return decode_png(images.field("bytes").to_pylist(), str(path))


def iter_variants(path: str | os.PathLike[str]) -> Iterator[Variant]:
    """The variants a folder's manifest lists, in order."""
    for entry in read_manifest(path)["variants"]:
        info = {k: v for k, v in entry.items() if k not in ("name", "splits")}
        yield Variant(name=str(entry["name"]), splits=dict(entry.get("splits", {})), info=info)


def load_variant(
    path: str | os.PathLike[str], variant: Variant | str, split: str = "test"
) -> Dataset:
    """Load one split of one variant of a folder written by ``corrupt`` or ``perturb``."""
    root = Path(path)
    manifest = read_manifest(root)
    if isinstance(variant, str):
        found = [v for v in iter_variants(root) if v.name == variant]
        if not found:
            known = ", ".join(v.name for v in iter_variants(root))
            raise MnistlabError(f"{root}: no variant {variant!r} (has: {known})")
        variant = found[0]
    files = variant.splits.get(split)
    if files is None:
        raise MnistlabError(
            f"{root}: variant {variant.name!r} has no {split!r} split "
            f"(has: {', '.join(variant.splits) or 'none'})"
        )
    for key in ("images", "labels", "metadata"):
        if key in files and not isinstance(files[key], str):
            raise MnistlabError(
                f"{root / MANIFEST_NAME}: {variant.name}/{split}: bad {key!r} entry"
            )
    if files.get("format") == "png":
        from mnistlab.data.formats import read_png_folder

        class_dirs = manifest.get("class_dirs")
        if not isinstance(class_dirs, dict):
            raise MnistlabError(f"{root / MANIFEST_NAME}: PNG export without 'class_dirs'")
        images, labels = read_png_folder(root / files["images"], class_dirs)
    else:
        images = np.asarray(read_array(root / files["images"], "images"))
        labels = np.asarray(read_array(root / files["labels"], "labels"))
    metadata = None
    sample_ids = None
    if files.get("metadata"):
        import pandas as pd

        meta_path = root / files["metadata"]
        if not meta_path.is_file():
            raise MnistlabError(f"{meta_path}: no such file")
        metadata = (
            pd.read_csv(meta_path) if meta_path.suffix == ".csv" else pd.read_parquet(meta_path)
        )
        if "sample_id" in metadata.columns:
            sample_ids = metadata["sample_id"].to_numpy(np.int64)
    from mnistlab.data._checks import checked_images, checked_labels

    checked_images(images, root / files["images"])
    if labels.shape != (images.shape[0],):
        raise MnistlabError(
            f"{root / files['labels']}: {labels.shape} labels for {images.shape[0]} images"
        )
    names = manifest.get("class_names")
    if names is not None and not (
        isinstance(names, list) and names and all(isinstance(n, str) for n in names)
    ):
        raise MnistlabError(f"{root / MANIFEST_NAME}: 'class_names' must be a list of strings")
    labels, n_classes = checked_labels(
        labels, root / files["labels"], len(names) if names else None
    )
    return Dataset(
        images,
        labels,
        tuple(names or [str(i) for i in range(n_classes)]),
        name=variant.name,
        split=split,
        sample_ids=sample_ids,
        metadata=metadata,
    )


def load_variant_dir(path: str | os.PathLike[str], split: str = "test") -> Dataset:
    """Load a folder that holds exactly one variant (else name the variant you want)."""
    variants = list(iter_variants(path))
    if len(variants) != 1:
        names = ", ".join(v.name for v in variants)
        raise MnistlabError(
            f"{path}: holds {len(variants)} variants ({names}); load one with load_variant()"
        )
    return load_variant(path, variants[0], split)
