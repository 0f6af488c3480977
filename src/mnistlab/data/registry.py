"""Known datasets: where their files are, how to verify them, how to load them.

Sources are tried in this order: an explicit ``data_dir``, ``$MNISTLAB_DATA``, the user
cache (``$XDG_CACHE_HOME/mnistlab`` or ``~/.cache/mnistlab``), ``/usr/share/datasets/<name>/``
(Debian's ``dataset-fashion-mnist`` package), and finally a download from the official
mirrors, verified by sha256 of the decompressed content.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnistlab.data._checks import checked_images, checked_labels
from mnistlab.data.dataset import Dataset
from mnistlab.data.idx import _GZIP_MAGIC, read_idx
from mnistlab.errors import MnistlabError

__all__ = [
    "SPLITS",
    "DatasetInfo",
    "Location",
    "cache_dir",
    "fetch",
    "get_info",
    "load",
    "locate",
    "names",
    "register",
    "search_dirs",
    "split_files",
    "verify_file",
]

SPLITS = ("train", "test")
_PREFIX = {"train": "train", "test": "t10k"}
DEBIAN_ROOT = Path("/usr/share/datasets")


def split_files(split: str) -> tuple[str, str]:
    """Conventional (uncompressed) file names of a split's images and labels."""
    if split not in _PREFIX:
        raise MnistlabError(f"unknown split {split!r} (choose from: {', '.join(SPLITS)})")
    prefix = _PREFIX[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"fashion-mnist"``.
    class_names : tuple of str
        Name of each label.
    mirrors : tuple of str
        Base URLs; ``<mirror>/<file>.gz`` is tried in order.
    sha256 : dict
        Uncompressed file name -> sha256 of the decompressed bytes.
    description : str
        One line for ``mnistlab datasets``.
    debian_package : str or None
        Debian package that installs the files under ``/usr/share/datasets/<name>/``.
    md5_gz : dict
        Optional: ``<file>.gz`` -> md5 of the published gzip, used when no sha256 is known.
    """

    name: str
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...]
    sha256: dict[str, str]
    description: str = ""
    debian_package: str | None = None
    md5_gz: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> tuple[str, ...]:
        """The four uncompressed file names."""
        return tuple(f for s in SPLITS for f in split_files(s))


def _per_file(*digests: str, suffix: str = "") -> dict[str, str]:
    """:attr:`DatasetInfo.files` plus ``suffix`` (train, test; images, labels) to ``digests``."""
    files = [f"{f}{suffix}" for s in SPLITS for f in split_files(s)]
    return dict(zip(files, digests, strict=True))


_REGISTRY: dict[str, DatasetInfo] = {}


def register(info: DatasetInfo) -> DatasetInfo:
    """Add a dataset to the registry (a new name, or replace one)."""
    _REGISTRY[info.name] = info
    return info


register(
    DatasetInfo(
        name="fashion-mnist",
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
            "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion",
        ),
        sha256=_per_file(
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
        description="Zalando's article images, 10 clothing classes (Xiao et al. 2017)",
        debian_package="dataset-fashion-mnist",
        md5_gz=_per_file(
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79",
            "bb300cfdad3c16e7a12a480ee83cd310",
            suffix=".gz",
        ),
    )
)
register(
    DatasetInfo(
        name="mnist",
        class_names=tuple(str(d) for d in range(10)),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist",
            "https://storage.googleapis.com/cvdf-datasets/mnist",
        ),
        sha256=_per_file(
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
        description="Handwritten digits 0-9 (LeCun, Cortes, Burges)",
        md5_gz=_per_file(
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3",
            "ec29112dd5afa0611ce80d1b7f02629c",
            suffix=".gz",
        ),
    )
)
register(
    DatasetInfo(
        name="kmnist",
        class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
        mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist",),
        sha256={},
        description="Kuzushiji-MNIST, cursive Japanese hiragana (Clanuwat et al. 2018)",
        md5_gz=_per_file(
            "bdb82020997e1d708af4cf47b453dcf7",
            "e144d726b3acfaa3e44228e80efcd344",
            "5c965bf0a639b31b8f53240b1b52f4d7",
            "7320c461ea6c1c855c0b718fb2a4b134",
            suffix=".gz",
        ),
    )
)


def names() -> list[str]:
    """Names of the registered datasets, sorted."""
    return sorted(_REGISTRY)


def get_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``; an unknown name lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise MnistlabError(
            f"unknown dataset {name!r} (known: {', '.join(names())}; or give a folder of IDX files)"
        ) from None


def cache_dir() -> Path:
    """The user cache: ``$XDG_CACHE_HOME/mnistlab`` or ``~/.cache/mnistlab``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mnistlab"


def search_dirs(
    name: str, data_dir: str | os.PathLike[str] | None = None
) -> list[tuple[str, Path]]:
    """The folders searched for ``name``'s files, in order, each with its source label."""
    dirs: list[tuple[str, Path]] = []
    if data_dir is not None:
        d = Path(data_dir)
        dirs += [("data_dir", d / name), ("data_dir", d)]
    env = os.environ.get("MNISTLAB_DATA")
    if env:
        dirs += [("MNISTLAB_DATA", Path(env) / name), ("MNISTLAB_DATA", Path(env))]
    dirs.append(("cache", cache_dir() / name))
    dirs.append(("debian", DEBIAN_ROOT / name))
    return dirs


def _find_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    # Some releases use a dot ("t10k-images.idx3-ubyte"); accept that spelling too.
    for candidate in (
        folder / stem.replace("-idx", ".idx"),
        folder / (stem.replace("-idx", ".idx") + ".gz"),
    ):
        if candidate.is_file():
            return candidate
    return None


def folder_files(folder: Path, splits: tuple[str, ...] = SPLITS) -> dict[str, Path] | None:
    """Map conventional file names to the files in ``folder``; None if any is missing."""
    found: dict[str, Path] = {}
    for split in splits:
        for stem in split_files(split):
            path = _find_file(folder, stem)
            if path is None:
                return None
            found[stem] = path
    return found


@dataclass(frozen=True)
class Location:
    """Where a dataset's files were found."""

    name: str
    folder: Path
    source: str
    files: dict[str, Path]


def locate(
    name: str, data_dir: str | os.PathLike[str] | None = None, splits: tuple[str, ...] = SPLITS
) -> Location | None:
    """Find ``name``'s files without downloading; None when no source has them."""
    get_info(name)
    for source, folder in search_dirs(name, data_dir):
        files = folder_files(folder, splits)
        if files is not None:
            return Location(name, folder, source, files)
    return None


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's decompressed content (gzip detected from its first bytes)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    opener = gzip.open if magic == _GZIP_MAGIC else open
    h = hashlib.sha256()
    with opener(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(info: DatasetInfo, stem: str, path: Path) -> bool | None:
    """Check a found file against the registry; None when no hash applies.

    The sha256 of the decompressed content is checked when one is registered for ``stem``;
    otherwise a gzip file is checked against the md5 of the published ``<stem>.gz``.
    """
    expected = info.sha256.get(stem)
    try:
        if expected is not None:
            return file_sha256(path) == expected
        expected_md5 = info.md5_gz.get(f"{stem}.gz")
        if expected_md5 is None:
            return None
        with open(path, "rb") as fh:
            if fh.read(2) != _GZIP_MAGIC:
                return None
            fh.seek(0)
            return hashlib.md5(fh.read()).hexdigest() == expected_md5
    except (OSError, EOFError, zlib.error):
        return False


def _not_found_message(name: str, data_dir: str | os.PathLike[str] | None) -> str:
    info = get_info(name)
    looked = ", ".join(str(p) for _, p in search_dirs(name, data_dir))
    how = f"run `mnistlab fetch {name}` with network access"
    if info.debian_package:
        how += f", or `apt-get install {info.debian_package}`"
    how += ", or set MNISTLAB_DATA to a folder holding the IDX files"
    return f"{name}: files not found (looked in {looked}); {how}"


def fetch(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = True,
) -> Location:
    """Locate ``name``'s files, or download and verify them into the user cache.

    Raises
    ------
    MnistlabError
        When nothing is found and the download is off or fails; the message says where it
        looked and how to get the files.
    """
    found = locate(name, data_dir)
    if found is not None:
        return found
    if not download:
        raise MnistlabError(_not_found_message(name, data_dir))
    from mnistlab.data.download import download_dataset

    try:
        folder = download_dataset(get_info(name), cache_dir() / name, progress=progress)
    except MnistlabError as exc:
        raise MnistlabError(
            f"{_not_found_message(name, data_dir)}; download failed: {exc}"
        ) from None
    files = folder_files(folder)
    assert files is not None
    return Location(name, folder, "download", files)


def _is_dataset_folder(path: Path) -> bool:
    return path.is_dir() and any(folder_files(path, (s,)) is not None for s in SPLITS)


def load(
    name: str | os.PathLike[str],
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    class_names: tuple[str, ...] | None = None,
) -> Dataset:
    """Load one split of a registered dataset or of a folder of IDX files.

    Parameters
    ----------
    name : str or path-like
        A registered name (``"fashion-mnist"``, ``"mnist"``, ``"kmnist"``), a folder of
        conventionally named IDX files (``train-images-idx3-ubyte[.gz]``, ...), or a folder
        written by ``mnistlab corrupt``/``perturb``/``export``.
    split : {"train", "test"}
        Which split.
    data_dir : path-like, optional
        Searched first.
    download : bool
        Download from the official mirrors when no local copy is found.
    class_names : tuple of str, optional
        For a folder of IDX files: the class names (default ``"0"``, ``"1"``, ...).

    Returns
    -------
    Dataset

    Examples
    --------
    >>> ds = load("fashion-mnist", split="test")  # doctest: +SKIP
    >>> ds.images.shape, ds.class_names[0]  # doctest: +SKIP
    ((10000, 28, 28), 'T-shirt/top')
    """
    images_stem, labels_stem = split_files(split)
    key = os.fspath(name)
    if key in _REGISTRY:
        info = _REGISTRY[key]
        loc = fetch(key, data_dir, download=download)
        images = read_idx(loc.files[images_stem])
        labels = read_idx(loc.files[labels_stem])
        checked_labels(labels, loc.files[labels_stem], len(info.class_names))
        return _make(images, labels, info.class_names, key, split, loc.files[images_stem])
    path = Path(key)
    if path.is_dir():
        from mnistlab.data.variants import is_variant_dir, load_variant_dir

        if is_variant_dir(path):
            return load_variant_dir(path, split)
        files = folder_files(path, (split,))
        if files is None:
            raise MnistlabError(
                f"{path}: no {images_stem}[.gz] and {labels_stem}[.gz] in this folder"
            )
        images = read_idx(files[images_stem])
        labels = read_idx(files[labels_stem])
        _, n_classes = checked_labels(
            labels, files[labels_stem], len(class_names) if class_names else None
        )
        names_ = class_names or tuple(str(i) for i in range(n_classes))
        return _make(images, labels, names_, path.name, split, files[images_stem])
    if path.exists():
        from mnistlab.data.formats import read_dataset_file

        return read_dataset_file(path, split=split)
    raise MnistlabError(
        f"unknown dataset {key!r} (known: {', '.join(names())}; or give a folder of IDX files)"
    )


def _make(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: tuple[str, ...],
    name: str,
    split: str,
    where: Path,
) -> Dataset:
    checked_images(images, where)
    if labels.shape != (images.shape[0],):
        raise MnistlabError(
            f"{where}: {images.shape[0]} images but labels have shape {labels.shape}"
        )
    values, _ = checked_labels(labels, where, len(class_names))
    return Dataset(images, values, class_names, name=name, split=split)
