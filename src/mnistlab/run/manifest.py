"""The run manifest (what a study recorded) and the run's own files: read and write."""

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
from mnistlab.run.layout import MANIFEST, RunLayout

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "clean_images",
    "clean_labels",
    "corruption_params",
    "mark_step",
    "read_manifest",
    "read_table",
    "step_done",
    "update_manifest",
    "write_table",
]


def corruption_params(run: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"seed", "compat"}`` of the run's corruptions, from its manifest.

    Examples
    --------
    >>> corruption_params("no/such/run")
    {'seed': 0, 'compat': None}
    """
    manifest = read_manifest(run)
    return {"seed": int(manifest.get("seed", 0)), "compat": manifest.get("compat")}


def read_manifest(run: str | os.PathLike[str]) -> dict[str, Any]:
    """The run's manifest (an empty dict for a new run)."""
    path = RunLayout(run).manifest
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


def mark_step(
    run: str | os.PathLike[str],
    step: str,
    seconds: float,
    outputs: dict[str, Any] | None = None,
    **info: Any,
) -> None:
    """Record that ``step`` finished (its outputs are written) and how long it took.

    ``info`` is stored with the step. ``outputs`` (``{path: {"bytes", "sha256"}}``, see
    :func:`mnistlab.run.integrity.step_outputs`) are the files :func:`step_done` checks; a
    file belongs to the last step that wrote it (it leaves the records of earlier steps).
    """
    steps = dict(read_manifest(run).get("steps", {}))
    record: dict[str, Any] = {
        "done": True,
        "seconds": round(float(seconds), 3),
        "finished": time.time(),
        **info,
    }
    if outputs is not None:
        for name, other in list(steps.items()):
            if name != step and isinstance(other, dict) and isinstance(other.get("outputs"), dict):
                kept = {k: v for k, v in other["outputs"].items() if k not in outputs}
                steps[name] = {**other, "outputs": kept}
        record["outputs"] = dict(sorted(outputs.items()))
    steps[step] = record
    update_manifest(run, steps=steps)


def step_done(run: str | os.PathLike[str], step: str) -> bool:
    """True when ``step`` was recorded as finished in this run and every file it recorded
    (:func:`mark_step` ``outputs``) is still there with the same bytes."""
    from mnistlab.run.integrity import changed_outputs

    record = read_manifest(run).get("steps", {}).get(step, {})
    if not record.get("done"):
        return False
    outputs = record.get("outputs")
    return not (isinstance(outputs, dict) and changed_outputs(run, outputs))


def write_table(run: str | os.PathLike[str], name: str, table: pd.DataFrame) -> Path:
    """Write ``table`` as ``RUN/<name>.parquet`` (``name`` may contain a folder), atomically."""
    path = RunLayout(run).table(name)
    with atomic_path(path, suffix=".parquet") as tmp:
        table.to_parquet(tmp, index=False)
    return path


def read_table(run: str | os.PathLike[str], name: str) -> pd.DataFrame:
    """Read ``RUN/<name>.parquet``; a missing table is a clear error."""
    import pandas as pd

    path = RunLayout(run).table(name)
    if not path.is_file():
        raise MnistlabError(f"{path}: no such table in this run")
    return pd.read_parquet(path)


def clean_images(run: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """The run's clean test images (memory-mapped, read-only)."""
    path = RunLayout(run).test_images
    if not path.is_file():
        raise MnistlabError(f"{path}: missing (is {run} a mnistlab run directory?)")
    return np.load(path, mmap_mode="r")


def clean_labels(run: str | os.PathLike[str]) -> NDArray[np.int64]:
    """The run's clean test labels."""
    path = RunLayout(run).test_labels
    if not path.is_file():
        raise MnistlabError(f"{path}: missing (is {run} a mnistlab run directory?)")
    return np.load(path)
