"""Export a dataset as NPZ, a PNG folder, Hugging Face-style Parquet or IDX, and read it back.

Every export folder holds a ``mnistlab.json`` manifest (kind ``"export"``), so
``mnistlab.data.load(folder, split)`` reads any of the four formats back to the same arrays.

Layouts (for a split ``test``):

- ``npz``: ``test.npz`` with arrays ``images`` (uint8, N x H x W), ``labels`` (int64) and
  ``class_names`` (str).
- ``png``: ``test/<class>/00000.png``, one 8-bit grayscale PNG per image, the number being the
  row in the split: the layout ``torchvision.datasets.ImageFolder`` reads. Class folder names
  are the class names made safe for file systems (``"T-shirt/top"`` -> ``"T-shirt_top"``); the
  manifest's ``class_dirs`` maps each folder to its label. (ImageFolder numbers the folders in
  sorted order; remap through ``class_dirs`` if you need the original label numbers.)
- ``parquet``: ``test.parquet`` with an ``image`` struct column ``{bytes: PNG, path: null}`` and an
  int64 ``label`` column, and the ``huggingface`` schema metadata that makes
  ``datasets.load_dataset("parquet", data_files=...)`` decode ``image`` as an ``Image`` feature
  and ``label`` as a ``ClassLabel`` with the class names.
- ``idx``: the four conventional gzip files (``t10k-images-idx3-ubyte.gz``, ...).

When the exported samples are not rows ``0..N-1`` of their split, or carry metadata, a
``<split>_meta.parquet`` table keeps their ``sample_id`` and metadata columns.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_dir
from mnistlab.data.dataset import Dataset
from mnistlab.errors import MnistlabError

__all__ = [
    "FORMATS",
    "decode_png",
    "encode_png",
    "export",
    "read_dataset_file",
    "read_hf_parquet",
    "read_png_folder",
    "safe_class_dirs",
    "write_hf_parquet",
    "write_npz",
]

_Writer = Callable[[Dataset, Path, bool], dict[str, str]]
_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


# --------------------------------------------------------------------------- PNG codec


def _encoder() -> Callable[[NDArray[np.uint8]], bytes]:
    # OpenCV (the ``cv`` extra) encodes about twice as fast as Pillow; both are lossless.
    try:
        import cv2
    except ImportError:  # pragma: no cover - exercised only without the cv extra
        from PIL import Image

        def pil_encode(image: NDArray[np.uint8]) -> bytes:
            buf = io.BytesIO()
            Image.fromarray(image).save(buf, format="PNG")
            return buf.getvalue()

        return pil_encode

    def cv2_encode(image: NDArray[np.uint8]) -> bytes:
        ok, buf = cv2.imencode(".png", image)
        if not ok:  # pragma: no cover - cv2 fails only on invalid arrays, checked before
            raise MnistlabError("PNG encoding failed")
        return bytes(buf.tobytes())

    return cv2_encode


def _decoder() -> Callable[[bytes, str], NDArray[np.uint8]]:
    cv2: Any
    try:
        import cv2
    except ImportError:  # pragma: no cover - exercised only without the cv extra
        cv2 = None

    def decode(data: bytes, where: str) -> NDArray[np.uint8]:
        image = None
        if cv2 is not None:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if image is None:
            # Pillow reads a few PNG flavours (palette, 16-bit) that IMREAD_UNCHANGED keeps as-is.
            from PIL import Image, UnidentifiedImageError

            try:
                image = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
            except (UnidentifiedImageError, OSError) as exc:
                raise MnistlabError(f"{where}: not a readable PNG ({exc})") from None
        if image.ndim == 3:
            raise MnistlabError(f"{where}: colour PNG, expected 8-bit grayscale")
        if image.dtype != np.uint8:
            raise MnistlabError(f"{where}: {image.dtype} PNG, expected 8-bit grayscale")
        return np.asarray(image, dtype=np.uint8)

    return decode


def encode_png(images: NDArray[np.uint8]) -> list[bytes]:
    """Encode each image of a ``uint8 (N, H, W)`` batch as grayscale PNG bytes."""
    from mnistlab.data.dataset import check_images

    encode = _encoder()
    return [encode(np.ascontiguousarray(image)) for image in check_images(images)]


def decode_png(blobs: Sequence[bytes], where: str = "PNG") -> NDArray[np.uint8]:
    """Decode grayscale PNG bytes into a ``uint8 (N, H, W)`` batch (all the same size)."""
    decode = _decoder()
    images = [decode(blob, f"{where}[{i}]") for i, blob in enumerate(blobs)]
    return _stack(images, where)


def _stack(images: list[NDArray[np.uint8]], where: str) -> NDArray[np.uint8]:
    if not images:
        return np.zeros((0, 0, 0), np.uint8)
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise MnistlabError(f"{where}: images of different sizes {sorted(shapes)}")
    return np.stack(images)


def safe_class_dirs(class_names: Sequence[str]) -> list[str]:
    """Folder names for the classes: file-system safe, distinct, in label order.

    Examples
    --------
    >>> safe_class_dirs(["T-shirt/top", "Trouser", ".."])
    ['T-shirt_top', 'Trouser', 'class_2']
    """
    dirs: list[str] = []
    for i, name in enumerate(class_names):
        safe = _SAFE.sub("_", str(name)).strip(" ")
        if safe in ("", ".", "..") or set(safe) <= {"."}:
            safe = f"class_{i}"
        if safe in dirs:
            safe = f"{safe}_{i}"
        dirs.append(safe)
    return dirs


# --------------------------------------------------------------------------- writers


def write_npz(
    path: str | os.PathLike[str],
    images: NDArray[np.uint8],
    labels: NDArray[np.integer],
    class_names: Sequence[str] | None = None,
    *,
    compress: bool = True,
) -> Path:
    """Write ``images`` and ``labels`` (and ``class_names`` when given) to one ``.npz`` file.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "test.npz"
    >>> _ = write_npz(p, np.zeros((2, 3, 3), np.uint8), np.array([0, 1]), compress=False)
    >>> sorted(np.load(p).files)
    ['images', 'labels']
    """
    arrays: dict[str, Any] = {"images": images, "labels": labels}
    if class_names is not None:
        arrays["class_names"] = np.asarray(class_names, dtype=str)
    (np.savez_compressed if compress else np.savez)(path, **arrays)
    return Path(path)


def _one_file(suffix: str, write: Callable[..., Path]) -> _Writer:
    """The writer of a split as one file ``<split><suffix>``, by ``write(path, images, ...)``."""

    def writer(ds: Dataset, root: Path, progress: bool) -> dict[str, str]:
        name = f"{ds.split}{suffix}"
        write(root / name, ds.images, ds.labels, ds.class_names)
        return {"images": name, "labels": name}

    return writer


def _write_png(ds: Dataset, root: Path, progress: bool) -> dict[str, str]:
    from tqdm.auto import tqdm

    dirs = safe_class_dirs(ds.class_names)
    split_dir = root / ds.split
    for d in dirs:
        (split_dir / d).mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(len(ds) - 1)))
    encode = _encoder()
    # Plain strings and open(): tens of thousands of tiny files, so per-file overhead matters.
    prefixes = [os.path.join(split_dir, d, "") for d in dirs]
    labels = ds.labels.tolist()
    for i in tqdm(range(len(ds)), desc=f"png {ds.split}", disable=not progress, unit="img"):
        with open(f"{prefixes[labels[i]]}{i:0{width}d}.png", "wb") as fh:
            fh.write(encode(np.ascontiguousarray(ds.images[i])))
    return {"format": "png", "images": ds.split, "labels": ds.split}


def _hf_metadata(class_names: Sequence[str]) -> bytes:
    features = {
        "image": {"_type": "Image"},
        "label": {"names": list(class_names), "_type": "ClassLabel"},
    }
    return json.dumps({"info": {"features": features}}).encode("utf-8")


def write_hf_parquet(
    path: str | os.PathLike[str],
    images: NDArray[np.uint8],
    labels: NDArray[np.integer],
    class_names: Sequence[str],
) -> Path:
    """Write a Hugging Face-style image Parquet file (PNG bytes, int64 labels, class names).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "test.parquet"
    >>> _ = write_hf_parquet(p, np.zeros((2, 4, 4), np.uint8), np.array([1, 0]), ["a", "b"])
    >>> images, labels, names = read_hf_parquet(p)
    >>> images.shape, labels.tolist(), names
    ((2, 4, 4), [1, 0], ('a', 'b'))
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    blobs = encode_png(images)
    image = pa.StructArray.from_arrays(
        [pa.array(blobs, pa.binary()), pa.nulls(len(blobs), pa.string())],
        names=["bytes", "path"],
    )
    table = pa.table({"image": image, "label": pa.array(labels, pa.int64())})
    table = table.replace_schema_metadata({"huggingface": _hf_metadata(class_names)})
    pq.write_table(table, path)
    return Path(path)


def _write_idx(ds: Dataset, root: Path, progress: bool) -> dict[str, str]:
    from mnistlab.data.idx import write_idx
    from mnistlab.data.registry import split_files

    images_stem, labels_stem = split_files(ds.split)
    # The conventional label files are unsigned bytes; wider labels keep int32.
    labels_dtype = np.uint8 if ds.num_classes <= 256 else np.int32
    write_idx(root / f"{images_stem}.gz", ds.images)
    write_idx(root / f"{labels_stem}.gz", ds.labels.astype(labels_dtype))
    return {"images": f"{images_stem}.gz", "labels": f"{labels_stem}.gz"}


_WRITERS: dict[str, _Writer] = {
    "npz": _one_file(".npz", write_npz),
    "png": _write_png,
    "parquet": _one_file(".parquet", write_hf_parquet),
    "idx": _write_idx,
}
FORMATS: tuple[str, ...] = tuple(_WRITERS)


def _needs_meta(ds: Dataset) -> bool:
    assert ds.sample_ids is not None
    return ds.metadata is not None or not np.array_equal(
        ds.sample_ids, np.arange(len(ds), dtype=np.int64)
    )


def _write_meta(ds: Dataset, root: Path) -> str:
    import pandas as pd

    table = pd.DataFrame({"sample_id": ds.sample_ids})
    if ds.metadata is not None:
        extra = ds.metadata.drop(columns=["sample_id"], errors="ignore").reset_index(drop=True)
        table = pd.concat([table, extra], axis=1)
    name = f"{ds.split}_meta.parquet"
    table.to_parquet(root / name, index=False)
    return name


def export(
    dataset: Dataset | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    format: str = "npz",
    splits: Sequence[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = False,
) -> Path:
    """Write a dataset in one of :data:`FORMATS`, with a manifest, atomically.

    Parameters
    ----------
    dataset : Dataset, str or path-like
        A Dataset (its one split is written), or a registered name or folder (``splits`` are
        loaded and written).
    out_dir : path-like
        The export folder. It appears complete or not at all; an earlier export there is
        replaced, any other non-empty folder is refused.
    format : {"npz", "png", "parquet", "idx"}
        Output format (see the module docstring for each layout).
    splits : sequence of str, optional
        Splits to export for a name or folder (default ``("train", "test")``).
    data_dir : path-like, optional
        Searched first when ``dataset`` is a name.
    download : bool
        Allow downloading a registered dataset that is not found locally.
    progress : bool
        Show a progress bar while writing PNG files.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Examples
    --------
    >>> export("fashion-mnist", "out/png", format="png", splits=["test"])  # doctest: +SKIP
    PosixPath('out/png')
    >>> load("out/png", "test").images.shape  # doctest: +SKIP
    (10000, 28, 28)
    """
    if format not in _WRITERS:
        raise MnistlabError(f"unknown export format {format!r} (choose from: {', '.join(FORMATS)})")
    out = Path(out_dir)
    _check_out_dir(out)
    datasets = _datasets_to_export(dataset, splits, data_dir, download)
    first = datasets[0]
    for ds in datasets[1:]:
        if ds.class_names != first.class_names:
            raise MnistlabError(f"{ds.name}: splits disagree on class names")
    writer = _WRITERS[format]
    extra: dict[str, Any] = {}
    if format == "png":
        extra["class_dirs"] = {d: i for i, d in enumerate(safe_class_dirs(first.class_names))}
    with atomic_dir(out, "export") as tmp:
        split_files: dict[str, dict[str, str]] = {}
        for ds in datasets:
            files = writer(ds, tmp, progress)
            if _needs_meta(ds):
                files["metadata"] = _write_meta(ds, tmp)
            split_files[ds.split] = files
        from mnistlab.data.variants import write_manifest

        write_manifest(
            tmp,
            kind="export",
            layout=format,
            dataset=first.name,
            class_names=first.class_names,
            variants=[{"name": first.name, "format": format, "splits": split_files}],
            **extra,
        )
    return out


def _check_out_dir(out: Path) -> None:
    from mnistlab.data.variants import MANIFEST_NAME

    if out.exists() and not out.is_dir():
        raise MnistlabError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        manifest = out / MANIFEST_NAME
        kind = None
        if manifest.is_file():
            try:
                kind = json.loads(manifest.read_text(encoding="utf-8")).get("kind")
            except (json.JSONDecodeError, AttributeError):
                kind = None
        if kind != "export":
            raise MnistlabError(
                f"{out}: folder exists and is not an earlier export; choose another --out"
            )


def _datasets_to_export(
    dataset: Dataset | str | os.PathLike[str],
    splits: Sequence[str] | None,
    data_dir: str | os.PathLike[str] | None,
    download: bool,
) -> list[Dataset]:
    if isinstance(dataset, Dataset):
        if splits is not None and list(splits) != [dataset.split]:
            raise MnistlabError(
                f"splits={list(splits)!r}: a Dataset holds only its {dataset.split!r} split"
            )
        return [dataset]
    from mnistlab.data.registry import SPLITS, load

    wanted = list(SPLITS if splits is None else splits)
    if not wanted:
        raise MnistlabError("splits is empty: name at least one of train, test")
    for split in wanted:
        if split not in SPLITS:
            raise MnistlabError(f"unknown split {split!r} (choose from: {', '.join(SPLITS)})")
    return [
        load(dataset, split, data_dir=data_dir, download=download)
        for split in dict.fromkeys(wanted)
    ]


# --------------------------------------------------------------------------- readers


def read_png_folder(
    folder: str | os.PathLike[str], class_dirs: dict[str, int]
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Read ``folder/<class>/<index>.png`` back into images and labels, ordered by index.

    Parameters
    ----------
    folder : path-like
        One split's folder of an export (e.g. ``out/test``).
    class_dirs : dict
        Class folder name -> label.
    """
    root = Path(folder)
    if not root.is_dir():
        raise MnistlabError(f"{root}: no such folder")
    entries: list[tuple[int, int, Path]] = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        if sub.name not in class_dirs:
            raise MnistlabError(f"{sub}: class folder not listed in the manifest")
        for file in sub.glob("*.png"):
            try:
                index = int(file.stem)
            except ValueError:
                raise MnistlabError(f"{file}: PNG name is not a sample number") from None
            entries.append((index, class_dirs[sub.name], file))
    entries.sort(key=lambda e: e[0])
    indices = [e[0] for e in entries]
    if indices != list(range(len(entries))):
        raise MnistlabError(f"{root}: PNG numbers are not 0..{len(entries) - 1} without gaps")
    decode = _decoder()
    images = _stack([decode(path.read_bytes(), str(path)) for _, _, path in entries], str(root))
    labels = np.fromiter((e[1] for e in entries), dtype=np.int64, count=len(entries))
    return images, labels


def read_hf_parquet(
    path: str | os.PathLike[str],
) -> tuple[NDArray[np.uint8], NDArray[np.int64], tuple[str, ...] | None]:
    """Read a Hugging Face-style image Parquet file: images, labels, class names (or None)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = Path(path)
    try:
        table = pq.read_table(p)
    except (OSError, pa.ArrowInvalid) as exc:
        raise MnistlabError(f"{p}: not a readable Parquet file ({exc})") from None
    for column in ("image", "label"):
        if column not in table.column_names:
            raise MnistlabError(f"{p}: no {column!r} column (has: {', '.join(table.column_names)})")
    image = table.column("image").combine_chunks()
    if not pa.types.is_struct(image.type) or image.type.get_field_index("bytes") < 0:
        raise MnistlabError(f"{p}: 'image' column is {image.type}, expected struct<bytes, path>")
    images = decode_png(image.field("bytes").to_pylist(), str(p))
    labels = np.asarray(table.column("label").to_numpy())
    names: tuple[str, ...] | None = None
    meta = (table.schema.metadata or {}).get(b"huggingface")
    if meta:
        try:
            label = json.loads(meta)["info"]["features"]["label"]
            names = tuple(str(n) for n in label["names"])
        except (KeyError, TypeError, json.JSONDecodeError):
            names = None
    return images, labels, names


def read_dataset_file(path: str | os.PathLike[str], split: str = "test") -> Dataset:
    """Load a single ``.npz`` or Hugging Face-style ``.parquet`` file as a Dataset.

    An ``.npz`` needs ``images`` and ``labels`` arrays (``class_names`` optional). ``split`` only
    names the split; a single file holds one.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    names: tuple[str, ...] | None
    if suffix == ".npz":
        try:
            with np.load(p, allow_pickle=False) as z:
                missing = [k for k in ("images", "labels") if k not in z.files]
                if missing:
                    raise MnistlabError(
                        f"{p}: no {' and '.join(missing)} array (has: {', '.join(z.files)})"
                    )
                images, labels = z["images"], z["labels"]
                names = (
                    tuple(str(c) for c in z["class_names"]) if "class_names" in z.files else None
                )
        except (OSError, ValueError) as exc:
            if isinstance(exc, MnistlabError):
                raise
            raise MnistlabError(f"{p}: not a readable .npz file ({exc})") from None
    elif suffix == ".parquet":
        images, labels, names = read_hf_parquet(p)
    else:
        raise MnistlabError(
            f"{p}: unsupported file type {suffix or '(none)'} (use .npz or .parquet)"
        )
    if labels.shape != (images.shape[0],):
        raise MnistlabError(f"{p}: {images.shape[0]} images but labels have shape {labels.shape}")
    from mnistlab.data._checks import checked_labels

    labels, n_classes = checked_labels(labels, p, len(names) if names is not None else None)
    if names is None:
        names = tuple(str(i) for i in range(n_classes))
    try:
        return Dataset(images, labels, names, name=p.stem, split=split)
    except MnistlabError as exc:
        raise MnistlabError(f"{p}: {exc}") from None
