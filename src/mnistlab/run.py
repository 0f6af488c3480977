"""The run directory: where ``mnistlab study`` leaves its tables, plots and report.

Layout (every file written atomically; a step is "done" only once its outputs exist)::

    RUN/
      manifest.json              dataset, seed, compat, versions, input hashes, variants, steps
      data/test_images.npy       the clean test split the run used (uint8 N x 28 x 28)
      data/test_labels.npy       its labels (int64)
      models/<model>/            saved models (see mnistlab.models)
      preds/<model>.parquet      predictions table, one row per (variant, sample_id)
      scores/<model>.parquet     hardness scores, keyed by (variant, sample_id)
      eval/                      robustness tables (CSV, Markdown) and plots (PNG)
      hardness/                  hard-sample analyses (tables, PNG grids and plots)
      morpho.parquet             morphometrics of the clean test images (sample_id + columns)
      embeddings/<model>.parquet 2-D embeddings of the model's features
      active_learning/           active-learning tables and plots (optional)
      report.html                the self-contained report

Variants are named ``"clean"`` (corruption ``"identity"``, severity 0) or
``"<corruption>-s<severity>"``; their images are not stored: :func:`variant_images`
regenerates them exactly from the clean images, the run's seed and the sample ids.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_path, write_text_atomic
from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CLEAN",
    "clean_images",
    "clean_labels",
    "mark_step",
    "parse_variant",
    "read_manifest",
    "read_table",
    "step_done",
    "update_manifest",
    "variant_images",
    "variant_name",
    "write_table",
]

CLEAN = "clean"
MANIFEST = "manifest.json"


def variant_name(corruption: str, severity: int) -> str:
    """``"clean"`` for the identity, else ``"<corruption>-s<severity>"``."""
    if corruption == "identity" or severity == 0:
        return CLEAN
    return f"{corruption}-s{int(severity)}"


def parse_variant(name: str) -> tuple[str, int]:
    """Inverse of :func:`variant_name`.

    ``"fog-s3"`` -> ``("fog", 3)``; ``"clean"`` -> ``("identity", 0)``.
    """
    if name == CLEAN:
        return "identity", 0
    corruption, sep, sev = name.rpartition("-s")
    if not sep or not sev.isdigit():
        raise MnistlabError(
            f"not a variant name: {name!r} (expected 'clean' or '<corruption>-s<1..5>')"
        )
    return corruption, int(sev)


def read_manifest(run: str | os.PathLike[str]) -> dict[str, Any]:
    """The run's manifest (an empty dict for a new run)."""
    path = Path(run) / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MnistlabError(f"{path}: invalid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise MnistlabError(f"{path}: manifest is not a JSON object")
    return data


def update_manifest(run: str | os.PathLike[str], **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into the manifest (top-level keys replaced) and write it atomically.

    The manifest records ``"kind": "run"``: the output policy (:mod:`mnistlab._output`) knows
    the folder as a run by it.
    """
    manifest = read_manifest(run)
    manifest.update(fields)
    manifest.setdefault("kind", "run")
    Path(run).mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        Path(run) / MANIFEST, json.dumps(manifest, indent=1, default=_jsonable) + "\n"
    )
    return manifest


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def mark_step(run: str | os.PathLike[str], step: str, seconds: float, **info: Any) -> None:
    """Record that ``step`` finished (its outputs are written) and how long it took."""
    steps = dict(read_manifest(run).get("steps", {}))
    steps[step] = {
        "done": True,
        "seconds": round(float(seconds), 3),
        "finished": time.time(),
        **info,
    }
    update_manifest(run, steps=steps)


def step_done(run: str | os.PathLike[str], step: str) -> bool:
    """True when ``step`` was recorded as finished in this run."""
    return bool(read_manifest(run).get("steps", {}).get(step, {}).get("done"))


def write_table(run: str | os.PathLike[str], name: str, table: pd.DataFrame) -> Path:
    """Write ``table`` as ``RUN/<name>.parquet`` (``name`` may contain a folder), atomically."""
    path = Path(run) / f"{name}.parquet"
    with atomic_path(path, suffix=".parquet") as tmp:
        table.to_parquet(tmp, index=False)
    return path


def read_table(run: str | os.PathLike[str], name: str) -> pd.DataFrame:
    """Read ``RUN/<name>.parquet``; a missing table is a clear error."""
    import pandas as pd

    path = Path(run) / f"{name}.parquet"
    if not path.is_file():
        raise MnistlabError(f"{path}: no such table in this run")
    return pd.read_parquet(path)


def clean_images(run: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """The run's clean test images (memory-mapped, read-only)."""
    path = Path(run) / "data" / "test_images.npy"
    if not path.is_file():
        raise MnistlabError(f"{path}: missing (is {run} a mnistlab run directory?)")
    return np.load(path, mmap_mode="r")


def clean_labels(run: str | os.PathLike[str]) -> NDArray[np.int64]:
    """The run's clean test labels."""
    path = Path(run) / "data" / "test_labels.npy"
    if not path.is_file():
        raise MnistlabError(f"{path}: missing (is {run} a mnistlab run directory?)")
    return np.load(path)


def variant_images(
    run: str | os.PathLike[str], variant: str, sample_ids: NDArray[np.integer] | list[int]
) -> NDArray[np.uint8]:
    """Images of ``variant`` for ``sample_ids``, regenerated exactly as the run made them.

    Corruptions draw their randomness from ``(seed, sample_id)``, so corrupting only the
    requested samples gives the same bytes as the full run did.
    """
    ids = np.asarray(sample_ids, dtype=np.int64)
    images = np.asarray(clean_images(run)[ids])
    corruption, severity = parse_variant(variant)
    if corruption == "identity":
        return images
    from mnistlab.corrupt import corrupt

    manifest = read_manifest(run)
    return corrupt(
        images,
        corruption,
        severity=severity,
        seed=int(manifest.get("seed", 0)),
        sample_ids=ids,
        compat=manifest.get("compat"),
    )
