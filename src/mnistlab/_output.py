"""The output policy: mnistlab never deletes or replaces anything it did not write.

Every command that writes checks its target with :func:`prepare_out` before any work, and
:func:`mnistlab._atomic.atomic_dir` checks it again when a library function replaces a folder
(so notebook users are protected too). The rules:

* A folder target that exists must be empty or a mnistlab output *of the same kind*: its
  manifest says so (``mnistlab.json`` of dataset folders, ``manifest.json`` of models and
  runs, else the ``.mnistlab-output.json`` marker every other output folder carries).
  Anything else is refused. Replacing a previous output of the same kind needs
  ``overwrite=True`` (``--overwrite``); a run (``study``) or a benchmark cache is resumed
  instead.
* A file target that exists is replaced only with ``--overwrite`` (a file carries no
  manifest, so mnistlab cannot tell its own files from yours); a folder is never replaced by
  a file.
* The target may not be the current folder, nor equal to, inside or above an input.
* The nearest existing parent must be a writable folder.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "mine").mkdir(); _ = (root / "mine" / "notes.txt").write_text("keep")
>>> prepare_out(root / "mine", "corrupt")
Traceback (most recent call last):
...
mnistlab.errors.MnistlabError: --out .../mine: exists and is not a mnistlab output; ...
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mnistlab.errors import MnistlabError

__all__ = [
    "MARKER",
    "check_not_input",
    "check_parent",
    "check_replace",
    "inside_run",
    "output_kind",
    "prepare_out",
    "write_marker",
]

#: Marker of output folders that have no manifest of their own: ``{"kind": ...}``.
MARKER = ".mnistlab-output.json"
#: Kinds that a later command resumes rather than replaces.
RESUMABLE = frozenset({"run", "benchmark"})


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def output_kind(folder: str | os.PathLike[str]) -> str | None:
    """The kind of mnistlab output ``folder`` holds, or None when it is not one.

    Kinds: ``corrupt``, ``perturb``, ``export`` (dataset folders), ``model``, ``run``, and the
    marker's kind for the others (``export-run``, ``evaluate``, ``hardness``, ...).
    """
    root = Path(folder)
    for name, reader in ((MARKER, _marker_kind), ("mnistlab.json", _variants_kind)):
        data = _json(root / name)
        if data is not None and (kind := reader(data)):
            return kind
    data = _json(root / "manifest.json")
    if data is None:
        return None
    if data.get("kind") == "run" or "steps" in data or "options" in data:
        return "run"
    if "format_version" in data and "name" in data and "class_names" in data:
        return "model"
    return None


def _marker_kind(data: dict[str, Any]) -> str | None:
    kind = data.get("kind")
    return str(kind) if kind else None


def _variants_kind(data: dict[str, Any]) -> str | None:
    kind = data.get("kind")
    return str(kind) if kind and isinstance(data.get("variants"), list) else None


def write_marker(folder: str | os.PathLike[str], kind: str) -> None:
    """Record ``kind`` in ``folder`` unless its own manifest already says it."""
    root = Path(folder)
    found = output_kind(root)
    if found is None or (found != kind and kind != "output"):
        from mnistlab import __version__

        (root / MARKER).write_text(
            json.dumps({"kind": kind, "mnistlab": __version__}) + "\n", encoding="utf-8"
        )


def inside_run(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` lies inside a mnistlab run directory (a run owns its sub-folders)."""
    here = Path(path).absolute()
    return any(output_kind(parent) == "run" for parent in list(here.parents)[:3])


def _is_empty_dir(path: Path) -> bool:
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def check_replace(
    out: str | os.PathLike[str], kind: str | None, *, overwrite: bool, what: str = "--out"
) -> None:
    """Refuse a folder target that is not an empty folder or a mnistlab output of ``kind``.

    ``kind=None`` accepts a mnistlab output of any kind. A previous output of ``kind`` is
    accepted only with ``overwrite`` (or when ``kind`` is resumable).
    """
    target = Path(out)
    if not target.exists() and not target.is_symlink():
        return
    label = f"{what} {target}" if what else str(target)
    if target.is_symlink() or not target.is_dir():
        raise MnistlabError(f"{label}: exists and is not a folder; choose another {what}")
    if _is_empty_dir(target):
        return
    found = output_kind(target)
    if found is None:
        raise MnistlabError(
            f"{label}: exists and is not a mnistlab output; mnistlab never replaces what it "
            f"did not write: choose another {what or 'folder'}"
        )
    if kind is not None and found != kind and "output" not in (kind, found):
        raise MnistlabError(
            f"{label}: holds a mnistlab {found} output, not a {kind} output; "
            f"choose another {what or 'folder'}"
        )
    if not overwrite and (kind is None or kind not in RESUMABLE):
        raise MnistlabError(
            f"{label}: holds a previous mnistlab {found} output; pass --overwrite to replace it"
        )


def _may_write(path: Path) -> bool:
    # The effective ids decide what the process may do (seteuid, setuid programs).
    flags = os.W_OK | (os.X_OK if path.is_dir() else 0)
    if os.access in os.supports_effective_ids:
        return os.access(path, flags, effective_ids=True)
    return os.access(path, flags)


def check_parent(out: str | os.PathLike[str], what: str = "--out") -> None:
    """The nearest existing parent of ``out`` must be a folder mnistlab may write in."""
    target = Path(out).absolute()
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        if parent.is_symlink():  # a dangling link
            break
        parent = parent.parent
    label = f"{what} {out}" if what else str(out)
    if not parent.is_dir():
        raise MnistlabError(f"{label}: {parent} is not a folder")
    if not _may_write(parent):
        reason = "permission denied"
        try:
            if os.statvfs(parent).f_flag & os.ST_RDONLY:
                reason = "read-only file system"
        except OSError:
            pass
        raise MnistlabError(f"{label}: cannot write in {parent} ({reason})")
    if target.exists() and not _may_write(target):
        raise MnistlabError(f"{label}: cannot replace it (permission denied)")


def _resolved(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


def check_not_input(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str] | None],
    what: str = "--out",
) -> None:
    """Refuse ``out`` when it is the current folder or equal to, inside or above an input.

    Inputs that are not paths on disk (dataset names) are skipped.
    """
    target = _resolved(out)
    if target == _resolved(os.getcwd()):
        raise MnistlabError(f"{what} {out}: is the current folder; give a new folder name")
    if target == Path(target.anchor):
        raise MnistlabError(f"{what} {out}: is the root folder; give a new folder name")
    for item in inputs:
        if item is None or not os.path.lexists(os.fspath(item)):
            continue
        source = _resolved(item)
        if target == source:
            raise MnistlabError(f"{what} {out}: is the input {item}; choose another {what}")
        if source in target.parents:
            raise MnistlabError(f"{what} {out}: is inside the input {item}; choose another {what}")
        if target in source.parents:
            raise MnistlabError(f"{what} {out}: contains the input {item}; choose another {what}")


def prepare_out(
    out: str | os.PathLike[str],
    kind: str,
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    overwrite: bool = False,
    file: bool = False,
    what: str = "--out",
) -> Path:
    """Check an output target against the policy, before any work; return it as a Path.

    Parameters
    ----------
    out : path-like
        The target folder (or file with ``file=True``).
    kind : str
        What the command writes (``"corrupt"``, ``"model"``, ``"run"``, ...).
    inputs : iterable of path-like
        The command's inputs (dataset folders, runs, model folders, tables).
    overwrite : bool
        Replace a previous output of the same kind (or an existing file).
    file : bool
        ``out`` is a file.
    what : str
        How the target is named in messages.
    """
    target = Path(out)
    check_not_input(target, list(inputs), what)
    if file:
        if target.is_dir():
            raise MnistlabError(f"{what} {target}: is a folder; give a file name")
        if (target.exists() or target.is_symlink()) and not overwrite:
            raise MnistlabError(f"{what} {target}: exists; pass --overwrite to replace it")
    else:
        check_replace(target, kind, overwrite=overwrite, what=what)
    check_parent(target, what)
    return target
