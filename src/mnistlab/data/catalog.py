"""What the dataset registry finds on this machine, and whether its files verify.

Examples
--------
>>> print(catalog_lines(verify=False)[0])  # doctest: +SKIP
fashion-mnist   found in debian        /usr/share/datasets/fashion-mnist  (not checked)
"""

from __future__ import annotations

import os
from pathlib import Path

from mnistlab.data import registry
from mnistlab.errors import MnistlabError

__all__ = ["catalog_lines", "dataset_folder", "fetch_verified", "verification"]


def verification(loc: registry.Location) -> str:
    """``sha256 verified``, ``md5 verified``, ``no hash registered`` or ``MISMATCH: stems``."""
    info = registry.get_info(loc.name)
    results = {stem: registry.verify_file(info, stem, p) for stem, p in loc.files.items()}
    bad = [stem for stem, ok in results.items() if ok is False]
    if bad:
        return f"MISMATCH: {', '.join(bad)}"
    if all(ok is True for ok in results.values()):
        return "sha256 verified" if info.sha256 else "md5 verified"
    return "no hash registered"


def catalog_lines(data_dir: str | os.PathLike[str] | None = None, verify: bool = True) -> list[str]:
    """One line per registered dataset: where it was found (and whether it verifies), or
    how to get it."""
    lines = []
    for name in registry.names():
        info = registry.get_info(name)
        loc = registry.locate(name, data_dir)
        if loc is None:
            how = f"mnistlab fetch {name}"
            if info.debian_package:
                how = f"apt-get install {info.debian_package}, or {how}"
            lines.append(f"{name:15s} not found      {info.description} (get it: {how})")
            continue
        status = verification(loc) if verify else "not checked"
        lines.append(f"{name:15s} found in {loc.source:13s} {loc.folder}  ({status})")
    return lines


def fetch_verified(
    name: str, data_dir: str | os.PathLike[str] | None = None, **fetch: bool
) -> tuple[registry.Location, str]:
    """:func:`mnistlab.data.registry.fetch` ``name`` and verify it: its location and status.

    Files that fail verification are an error that names them.
    """
    loc = registry.fetch(name, data_dir, **fetch)
    status = verification(loc)
    if status.startswith("MISMATCH"):
        raise MnistlabError(f"{name}: files in {loc.folder} fail verification ({status})")
    return loc, status


def dataset_folder(
    name: str | os.PathLike[str] | None, data_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The folder a dataset argument reads: the path itself, a registered name's folder, or
    None (no argument, or a name not found: :func:`mnistlab.data.load` reports it).

    Commands use it to keep an output away from their inputs.

    >>> dataset_folder("no-such-dataset") is None
    True
    """
    if name is None or os.path.lexists(os.fspath(name)):
        return None if name is None else Path(name)
    try:
        found = registry.locate(str(name), data_dir)
    except MnistlabError:  # an unknown name is reported where the dataset is loaded
        return None
    return None if found is None else Path(found.folder)
