"""Datasets: IDX files, the registry of known datasets, variant folders and exports.

Examples
--------
>>> from mnistlab import data
>>> ds = data.load("fashion-mnist", split="test")  # doctest: +SKIP
>>> ds.images.shape, ds.labels[:3], ds.class_names[ds.labels[0]]  # doctest: +SKIP
((10000, 28, 28), array([9, 2, 1]), 'Ankle boot')
"""

from mnistlab.data.dataset import Dataset, check_images, check_labels
from mnistlab.data.idx import read_idx, write_idx
from mnistlab.data.registry import (
    DatasetInfo,
    Location,
    cache_dir,
    fetch,
    get_info,
    load,
    locate,
    names,
    register,
)
from mnistlab.data.variants import iter_variants, load_variant, write_manifest

__all__ = [
    "Dataset",
    "DatasetInfo",
    "Location",
    "cache_dir",
    "check_images",
    "check_labels",
    "fetch",
    "get_info",
    "iter_variants",
    "load",
    "load_variant",
    "locate",
    "names",
    "read_idx",
    "register",
    "write_idx",
    "write_manifest",
]
