"""A run is trusted by its files: what each step wrote, and whether the run still holds together.

A study records, with every step it finishes, the files the step wrote (their size and
sha256, :func:`step_outputs`). On a resume a step counts as done only while every one of those
files is still there with the same bytes (:func:`changed_outputs`); otherwise it runs again.
Readers of a finished run (``report``, ``export-run``, ``compare``, ``explore``) call
:func:`check_run` first: the recorded files, the clean split against the manifest (sizes and
hashes) and every predictions table against the clean split (rows per variant, labels), so a
run edited by hand or half-copied is refused with one line instead of being shown.

Examples
--------
>>> import tempfile, pathlib
>>> run = pathlib.Path(tempfile.mkdtemp())
>>> before = snapshot(run)
>>> _ = (run / "table.csv").write_text("a,b\\n1,2\\n")
>>> outputs = step_outputs(run, before)
>>> sorted(outputs), outputs["table.csv"]["bytes"]
(['table.csv'], 8)
>>> changed_outputs(run, outputs)
[]
>>> _ = (run / "table.csv").write_text("a,b\\n1,3\\n")
>>> changed_outputs(run, outputs)
[('table.csv', 'its bytes changed')]
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.errors import MnistlabError
from mnistlab.run.layout import MANIFEST, RunLayout
from mnistlab.run.manifest import read_manifest

__all__ = ["changed_outputs", "check_run", "file_record", "snapshot", "step_outputs"]

#: Record of one file: ``{"bytes": size, "sha256": hex digest}``.
FileRecord = dict[str, Any]
_CHUNK = 1 << 22


def file_record(path: str | os.PathLike[str]) -> FileRecord:
    """The size and sha256 of a file.

    Parameters
    ----------
    path : path-like
        A file.

    Returns
    -------
    dict
        ``{"bytes": int, "sha256": str}``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_record(p)["sha256"][:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
            size += len(block)
    return {"bytes": size, "sha256": digest.hexdigest()}


def _files(run: Path) -> dict[str, os.stat_result]:
    out: dict[str, os.stat_result] = {}
    if not run.is_dir():
        return out
    for folder, dirs, names in os.walk(run):
        dirs[:] = [d for d in dirs if not d.endswith(".part")]
        for name in names:
            if name.endswith(".part") or (folder == str(run) and name == MANIFEST):
                continue
            path = Path(folder) / name
            try:
                st = path.stat()
            except OSError:
                continue
            out[path.relative_to(run).as_posix()] = st
    return out


def snapshot(run: str | os.PathLike[str]) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file of the run but its manifest.

    Parameters
    ----------
    run : path-like
        The run directory.

    Returns
    -------
    dict
        What :func:`step_outputs` compares against once the step ran.

    Examples
    --------
    >>> snapshot("no/such/run")
    {}
    """
    return {rel: (st.st_size, st.st_mtime_ns) for rel, st in _files(Path(run)).items()}


def step_outputs(
    run: str | os.PathLike[str], before: dict[str, tuple[int, int]]
) -> dict[str, FileRecord]:
    """The files a step wrote: new or changed since ``before`` (:func:`snapshot`), recorded.

    Parameters
    ----------
    run : path-like
        The run directory.
    before : dict
        The snapshot taken before the step ran.

    Returns
    -------
    dict
        ``{relative path: file record}`` (:func:`file_record`).

    Examples
    --------
    >>> step_outputs("no/such/run", {})
    {}
    """
    root = Path(run)
    now = _files(root)
    return {
        rel: file_record(root / rel)
        for rel, st in sorted(now.items())
        if before.get(rel) != (st.st_size, st.st_mtime_ns)
    }


def changed_outputs(
    run: str | os.PathLike[str], outputs: dict[str, FileRecord]
) -> list[tuple[str, str]]:
    """The recorded files that are gone or whose bytes differ now, each with the reason.

    Parameters
    ----------
    run : path-like
        The run directory.
    outputs : dict
        What :func:`step_outputs` recorded.

    Returns
    -------
    list of (str, str)
        ``("preds/cnn.parquet", "missing")``, ...; empty when every file is as recorded.

    Examples
    --------
    >>> changed_outputs("no/such/run", {"a.csv": {"bytes": 1, "sha256": "0"}})
    [('a.csv', 'missing')]
    """
    root = Path(run)
    changed = []
    for rel, record in sorted(outputs.items()):
        path = root / rel
        if not path.is_file():
            changed.append((rel, "missing"))
            continue
        if path.stat().st_size != record.get("bytes") or file_record(path) != record:
            changed.append((rel, "its bytes changed"))
    return changed


def check_run(run: str | os.PathLike[str], files: bool = True) -> dict[str, Any]:
    """Refuse a run that does not hold together; return its manifest.

    Checked, in order: the manifest is a run's; every finished step's recorded files are
    there with the same bytes; the clean images and labels match the manifest (count, sha256)
    and each other; every predictions table has the manifest's variants, the clean split's
    row count in each, and the clean split's labels.

    Parameters
    ----------
    run : path-like
        A run directory written by :func:`mnistlab.workflows.study.run_study`.
    files : bool
        Also check the files every finished step recorded (``False``: only the clean split
        and the predictions against the manifest, as a resume does before it decides).

    Returns
    -------
    dict
        The run's manifest.

    Raises
    ------
    MnistlabError
        One line naming the run, the file and what is wrong.

    Examples
    --------
    >>> check_run("no/such/run")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: no/such/run: not a mnistlab run (no manifest.json)
    """
    root = Path(run)
    layout = RunLayout(root)
    if not layout.manifest.is_file():
        raise MnistlabError(f"{root}: not a mnistlab run (no {MANIFEST})")
    manifest = read_manifest(root)
    if manifest.get("kind", "run") != "run":
        raise MnistlabError(f"{layout.manifest}: not a run's manifest (kind {manifest['kind']!r})")
    for step, info in sorted((manifest.get("steps") or {}).items() if files else ()):
        outputs = info.get("outputs") if isinstance(info, dict) else None
        changed = changed_outputs(root, outputs) if isinstance(outputs, dict) else []
        if changed:
            rel, reason = changed[0]
            raise MnistlabError(
                f"{root / rel}: {reason} since the study's {step} step wrote it; run "
                f"'mnistlab study --out {root}' with the same options to redo what it affects"
            )
    n, labels = _check_clean_split(root, manifest)
    # A run a study wrote records its inputs: its predictions must match its clean split.
    if labels is not None and (manifest.get("inputs") or {}).get("test_labels_sha256"):
        for model in layout.models_with_preds():
            _check_predictions(layout.preds(model), manifest, n, labels)
    return manifest


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _load(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise MnistlabError(f"{path}: not a readable .npy file ({exc})") from None


def _check_clean_split(root: Path, manifest: dict[str, Any]) -> tuple[int, np.ndarray | None]:
    layout = RunLayout(root)
    inputs = manifest.get("inputs") or {}
    if not layout.test_images.is_file() or not layout.test_labels.is_file():
        if inputs:
            missing = layout.test_images if not layout.test_images.is_file() else layout.test_labels
            raise MnistlabError(f"{missing}: missing (the run's clean test split)")
        return 0, None
    images, labels = _load(layout.test_images), _load(layout.test_labels)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise MnistlabError(
            f"{layout.data}: {images.shape} images for {labels.shape} labels "
            "(expected N x H x W images and N labels)"
        )
    n = len(images)
    options = manifest.get("options") or {}
    data_info = (manifest.get("steps") or {}).get("data", {}).get("info") or {}
    for where, value in (
        ("inputs.test_size", inputs.get("test_size")),
        ("steps.data.info.test_size", data_info.get("test_size")),
    ):
        if value is not None and value != n:
            raise MnistlabError(
                f"{layout.manifest}: {where} is {value} but {layout.test_images} has {n} images"
            )
    wanted = options.get("test_size")
    if wanted is not None and (not isinstance(wanted, int) or wanted < n):
        raise MnistlabError(
            f"{layout.manifest}: options.test_size is {wanted!r} but "
            f"{layout.test_images} has {n} images"
        )
    for key, array, path in (
        ("test_images_sha256", images, layout.test_images),
        ("test_labels_sha256", labels, layout.test_labels),
    ):
        if inputs.get(key) is not None and _digest(array) != inputs[key]:
            raise MnistlabError(
                f"{path}: its content differs from the manifest's {key} (changed since the study)"
            )
    return n, np.asarray(labels)


def _check_predictions(path: Path, manifest: dict[str, Any], n: int, labels: np.ndarray) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    import pyarrow.types as pt

    # What a predictions table must hold to match the run; its own validity (columns, types,
    # probabilities) is the table reader's to check, with its own messages.
    try:
        table = pq.read_table(path, columns=["variant", "sample_id", "label"])
    except Exception:
        return
    if not all(pt.is_integer(table.schema.field(c).type) for c in ("sample_id", "label")):
        return
    if table.column("variant").null_count or table.column("sample_id").null_count:
        return
    counts = {
        str(row["values"]): int(row["counts"])
        for row in pc.value_counts(table.column("variant")).to_pylist()
    }
    variants = manifest.get("variants")
    if isinstance(variants, list) and variants and sorted(counts) != sorted(map(str, variants)):
        missing = sorted(set(map(str, variants)) - set(counts))
        extra = sorted(set(counts) - set(map(str, variants)))
        what = f"lacks {', '.join(missing[:3])}" if missing else f"has {', '.join(extra[:3])}"
        raise MnistlabError(f"{path}: {what} (the manifest's variants differ)")
    if len(set(counts.values())) > 1:
        variant, count = min(counts.items(), key=lambda kv: kv[1])
        raise MnistlabError(
            f"{path}: variant {variant} has {count} rows, others {max(counts.values())}"
        )
    ids = table.column("sample_id").to_numpy()
    if len(ids) and (ids.min() < 0 or ids.max() >= n):
        return  # out of range: the table reader names it
    got = table.column("label").to_numpy()
    bad = np.flatnonzero(got != labels[ids])
    if bad.size:
        i = int(bad[0])
        raise MnistlabError(
            f"{path}: {bad.size} rows have another label than data/test_labels.npy "
            f"(first: sample {int(ids[i])}, {int(got[i])} vs {int(labels[ids[i]])})"
        )
