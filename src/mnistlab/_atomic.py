"""Atomic writes: readers never see a half-written file or folder.

A write goes to a temporary ``.NAME.*.part`` entry next to the target and is renamed onto it
only on success; on any failure or interrupt the temporary entry is removed. A failed write
(read-only target, full disk, a parent that is a file, missing permission) becomes one
:class:`~mnistlab.errors.MnistlabError` that names the path and the reason. A folder is
replaced only when it is empty or a mnistlab output (see :mod:`mnistlab._output`), and the
old folder is swapped out atomically and deleted, so no ``.old`` copy stays behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from mnistlab._output import check_replace, inside_run, write_marker
from mnistlab.errors import MnistlabError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp/mkdtemp create private (0600/0700) entries; outputs should get the permissions a
# plain open() or mkdir() would give them. Read once: os.umask can only be read by setting it.
_UMASK = _current_umask()


def _disk_full(path: Path) -> bool:
    try:
        stats = os.statvfs(path if path.is_dir() else path.parent)
    except OSError:
        return False
    return stats.f_bavail == 0


def write_error(exc: BaseException, target: Path, tmp: Path | None = None) -> MnistlabError | None:
    """The one-line error of a failed write of ``target``, or None to let ``exc`` through.

    OS errors (and errors of writers such as ``torch.save`` on a full disk) name the path and
    the reason; the temporary name, when the error quotes it, is replaced by ``target``.
    """
    if isinstance(exc, MnistlabError) or not isinstance(exc, Exception):
        return None
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        if exc.errno is None and _disk_full(target):  # numpy: "N requested and M written"
            reason = os.strerror(errno.ENOSPC)
        where = os.fspath(exc.filename) if exc.filename else None
        if where is None or (tmp is not None and where.startswith(os.fspath(tmp))):
            return MnistlabError(f"{target}: cannot write ({reason})")
        return MnistlabError(f"{where}: {reason}")
    if _disk_full(target):
        return MnistlabError(f"{target}: cannot write ({os.strerror(errno.ENOSPC)})")
    return None


@contextlib.contextmanager
def _write_errors(target: Path, tmp: Path | None = None) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        error = write_error(exc, target, tmp)
        if error is None:
            raise
        raise error from exc


def _make_parent(final: Path) -> None:
    with _write_errors(final):
        if final.parent.exists() and not final.parent.is_dir():
            raise MnistlabError(f"{final}: cannot write ({final.parent} is not a folder)")
        final.parent.mkdir(parents=True, exist_ok=True)


def _part_prefix(final: Path) -> str:
    # ``.NAME.PID-``: the writer's pid tells a later run whether the writer is still alive.
    return f".{final.name}.{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or cannot tell: keep it
        return True
    return True


def remove_stale_parts(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the ``.NAME.PID-*.part`` temporary entries of ``path`` whose writer is dead.

    A crashed or killed run (``kill -9``, power loss) cannot remove its temporary file or
    folder; the next write of the same target does. Entries of a live process are kept.

    Returns
    -------
    list of pathlib.Path
        The entries removed.
    """
    final = Path(path)
    removed = []
    with contextlib.suppress(OSError):
        for entry in final.parent.glob(f".{glob.escape(final.name)}.*-*.part"):
            pid = entry.name[len(final.name) + 2 :].split("-", 1)[0]
            if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


#: Temporary entries of this process not yet renamed into place or removed.
_LIVE: set[Path] = set()
#: Targets being written: registered before their temporary entry exists, so an interrupt
#: that lands while it is being created still finds it (by its ``.NAME.PID-`` prefix).
_TARGETS: set[Path] = set()


def remove_live_parts() -> list[Path]:
    """Remove this process's temporary entries that are still there; return them.

    The command line calls it when a command ends by an interrupt: a signal that lands between
    a ``with atomic_...`` statement's enter and its body skips the body's cleanup, and this
    catches what it left.
    """
    removed = []
    for final in sorted(_TARGETS):
        with contextlib.suppress(OSError):
            _LIVE.update(final.parent.glob(glob.escape(_part_prefix(final)) + "*.part"))
    _TARGETS.clear()
    for entry in sorted(_LIVE):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    _LIVE.clear()
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success.

    Parameters
    ----------
    path : path-like
        The final file.
    suffix : str
        Suffix for the temporary name (some writers infer the format from it).

    Examples
    --------
    >>> with atomic_path("out.npy") as tmp:  # doctest: +SKIP
    ...     np.save(tmp, array)
    """
    final = Path(path)

    def make() -> Path:
        fd, name = tempfile.mkstemp(
            prefix=_part_prefix(final), suffix=suffix + ".part", dir=final.parent
        )
        os.close(fd)
        return Path(name)

    def drop(tmp: Path) -> None:
        with contextlib.suppress(OSError):
            tmp.unlink()

    with _staged(final, make, 0o666, drop) as tmp:
        yield tmp
        if final.is_dir() and not final.is_symlink():
            raise MnistlabError(f"{final}: is a folder, not replaced by a file")
        os.replace(tmp, final)


@contextlib.contextmanager
def _staged(
    final: Path, make: Callable[[], Path], mode: int, drop: Callable[[Path], None]
) -> Iterator[Path]:
    """The temporary sibling of ``final`` (``make``), removed (``drop``) unless the block
    ends well; errors of the block name ``final``."""
    _make_parent(final)
    with _write_errors(final):
        remove_stale_parts(final)
    tmp: Path | None = None
    _TARGETS.add(final)
    try:
        # Inside the try: an interrupt right after the temporary exists still removes it.
        with _write_errors(final):
            tmp = make()
            _LIVE.add(tmp)
        with _write_errors(final, tmp):
            os.chmod(tmp, mode & ~_UMASK)
            yield tmp
        _LIVE.discard(tmp)
    except BaseException:
        if tmp is None:
            # An interrupt inside make() may land after the entry exists and before its name
            # is known: the target stays registered, so remove_live_parts finds it by prefix.
            raise
        drop(tmp)
        _LIVE.discard(tmp)
        _TARGETS.discard(final)
        raise
    _TARGETS.discard(final)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where it is not supported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


def _replace_dir(tmp: Path, final: Path) -> None:
    if not final.exists():
        os.replace(tmp, final)
        return
    if _exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old folder
        return
    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
    os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:
        os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike[str], kind: str | None = None, *, overwrite: bool = True
) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; it replaces ``path`` only on success.

    Parameters
    ----------
    path : path-like
        The final folder.
    kind : str, optional
        What is written (``"corrupt"``, ``"model"``, ...): an existing ``path`` is replaced
        only when it is empty or a mnistlab output of this kind (of any kind when None), or a
        folder inside a mnistlab run. The folder gets a marker of its kind (``"output"`` when
        None) when its own manifest does not state a kind.
    overwrite : bool
        Replace a previous output of the same kind (False: refuse it too).

    Raises
    ------
    MnistlabError
        ``path`` is not mnistlab's to replace, or the write failed (the temporary folder is
        removed).

    Examples
    --------
    >>> with atomic_dir("out/model", "model") as tmp:  # doctest: +SKIP
    ...     (tmp / "weights.pt").write_bytes(data)
    """
    final = Path(path)
    if not inside_run(final):
        check_replace(final, kind, overwrite=overwrite, what="")

    def make() -> Path:
        return Path(tempfile.mkdtemp(prefix=_part_prefix(final), suffix=".part", dir=final.parent))

    def drop(tmp: Path) -> None:
        shutil.rmtree(tmp, ignore_errors=True)

    with _staged(final, make, 0o777, drop) as tmp:
        yield tmp
        write_marker(tmp, kind or "output")
        _replace_dir(tmp, final)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    write_bytes_atomic(path, text.encode("utf-8"))
