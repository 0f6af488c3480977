"""Download a registered dataset's four files from its mirrors, resumably, and verify them.

Each file ``<mirror>/<file>.gz`` is streamed into ``<file>.gz.part`` in a staging folder next
to the destination (``.<name>.download``), resumed with an HTTP ``Range`` request when a
partial file is there and the server honours ranges. A finished file is verified (sha256 of
the decompressed content, or md5 of the gzip when the registry has no sha256) before it is
renamed; the four verified files move into the destination only once all four are there, so
a failed download never leaves a file in the destination folder that a reader could take for
a dataset.

Mirrors are tried in order. ``MNISTLAB_MIRROR`` (one base URL, or several separated by
commas) replaces the registered list, e.g. for a local copy or a test server.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path

from mnistlab.data.idx import _GZIP_MAGIC
from mnistlab.data.registry import DatasetInfo
from mnistlab.errors import MnistlabError

__all__ = ["download_dataset", "download_file", "mirror_list", "verify_download"]

MIRROR_ENV = "MNISTLAB_MIRROR"
_BLOCK = 1 << 16
_USER_AGENT = "mnistlab (+https://github.com/)"


def mirror_list(info: DatasetInfo, mirrors: Sequence[str] | None = None) -> tuple[str, ...]:
    """Base URLs to try, in order: ``mirrors``, else ``$MNISTLAB_MIRROR``, else the registry's."""
    if mirrors is None:
        env = os.environ.get(MIRROR_ENV, "").strip()
        mirrors = [m for m in env.split(",") if m.strip()] if env else list(info.mirrors)
    cleaned = tuple(m.strip().rstrip("/") for m in mirrors if m.strip())
    if not cleaned:
        raise MnistlabError(f"{info.name}: no mirror to download from")
    return cleaned


def _digest(path: Path, algorithm: str, decompress: bool) -> str:
    h = hashlib.new(algorithm)
    opener = gzip.open if decompress else open
    with opener(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_download(info: DatasetInfo, stem: str, path: Path) -> str:
    """Check a downloaded ``<stem>.gz``; return how it was checked, raise when it is wrong.

    The sha256 of the decompressed content is checked when the registry has one, else the md5
    of the gzip file itself; with neither, the file must at least parse as IDX.

    Raises
    ------
    MnistlabError
        Naming the file and the mismatch (or the decompression error).
    """
    with open(path, "rb") as fh:
        is_gz = fh.read(2) == _GZIP_MAGIC
    expected = info.sha256.get(stem)
    if expected is not None:
        try:
            got = _digest(path, "sha256", decompress=is_gz)
        except (OSError, EOFError, zlib.error) as exc:
            raise MnistlabError(f"{stem}.gz: not a valid gzip file ({exc})") from None
        if got != expected:
            raise MnistlabError(
                f"{stem}.gz: sha256 of the content is {got[:16]}..., expected {expected[:16]}..."
            )
        return "sha256"
    expected_md5 = info.md5_gz.get(f"{stem}.gz")
    if expected_md5 is not None:
        got = _digest(path, "md5", decompress=False)
        if got != expected_md5:
            raise MnistlabError(f"{stem}.gz: md5 is {got}, expected {expected_md5}")
        return "md5"
    from mnistlab.data.idx import read_idx_header

    read_idx_header(path)
    return "unverified"


def _open(url: str, start: int, timeout: float) -> http.client.HTTPResponse:
    headers = {"User-Agent": _USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers)
    return urllib.request.urlopen(request, timeout=timeout)


def download_file(url: str, part: Path, timeout: float = 30.0, progress: bool = True) -> Path:
    """Stream ``url`` into ``part``, resuming from its current size when the server allows.

    Returns ``part`` once the whole body has arrived. A cut connection raises
    :class:`MnistlabError` and keeps what arrived, so the next call resumes from there.
    """
    from tqdm.auto import tqdm

    start = part.stat().st_size if part.is_file() else 0
    try:
        response = _open(url, start, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:
            # The partial file already holds the whole body (or more): let verification decide.
            return part
        raise MnistlabError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MnistlabError(f"{url}: cannot connect ({reason})") from None
    with response:
        resumed = start > 0 and response.status == 206
        if start and not resumed:
            start = 0  # the server ignored the range: start over
        length = response.headers.get("Content-Length")
        total = start + int(length) if length is not None else None
        received = start
        with (
            open(part, "ab" if resumed else "wb") as out,
            tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=url.rsplit("/", 1)[-1],
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            try:
                while True:
                    block = response.read(_BLOCK)
                    if not block:
                        break
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException) as exc:
                raise MnistlabError(
                    f"{url}: connection cut after {received} bytes ({type(exc).__name__})"
                ) from None
    if total is not None and received < total:
        raise MnistlabError(f"{url}: connection cut after {received} of {total} bytes")
    return part


def download_dataset(
    info: DatasetInfo,
    dest_folder: str | os.PathLike[str],
    progress: bool = True,
    timeout: float = 30.0,
    mirrors: Sequence[str] | None = None,
) -> Path:
    """Download and verify ``info``'s four files into ``dest_folder``.

    Parameters
    ----------
    info : DatasetInfo
        The registry entry (file hashes, mirrors).
    dest_folder : path-like
        Where the verified ``<file>.gz`` files go (the user cache, normally).
    progress : bool
        Show a tqdm progress bar per file.
    timeout : float
        Seconds to wait for a server before trying the next mirror.
    mirrors : sequence of str, optional
        Base URLs to use instead of ``$MNISTLAB_MIRROR`` or the registered mirrors.

    Returns
    -------
    pathlib.Path
        ``dest_folder``, holding the four files.

    Raises
    ------
    MnistlabError
        When a file cannot be had from any mirror: which file and why for each mirror. Nothing
        is added to ``dest_folder`` then; partial downloads stay in the staging folder so the
        next call resumes them.

    Examples
    --------
    >>> from mnistlab.data import get_info
    >>> download_dataset(get_info("kmnist"), "/tmp/kmnist")  # doctest: +SKIP
    PosixPath('/tmp/kmnist')
    """
    if timeout <= 0:
        raise MnistlabError(f"timeout must be positive, got {timeout!r}")
    dest = Path(dest_folder)
    bases = mirror_list(info, mirrors)
    staging = dest.parent / f".{dest.name}.download"
    staging.mkdir(parents=True, exist_ok=True)
    ready: list[tuple[Path, Path]] = []
    for stem in info.files:
        final = dest / f"{stem}.gz"
        if final.is_file():
            continue
        verified = staging / f"{stem}.gz"
        if not verified.is_file():
            _download_one(info, stem, bases, staging, timeout, progress)
        ready.append((verified, final))
    dest.mkdir(parents=True, exist_ok=True)
    for verified, final in ready:
        os.replace(verified, final)
    with contextlib.suppress(OSError):
        staging.rmdir()
    return dest


def _download_one(
    info: DatasetInfo,
    stem: str,
    bases: tuple[str, ...],
    staging: Path,
    timeout: float,
    progress: bool,
) -> None:
    part = staging / f"{stem}.gz.part"
    errors: list[str] = []
    for base in bases:
        url = f"{base}/{stem}.gz"
        try:
            download_file(url, part, timeout=timeout, progress=progress)
        except MnistlabError as exc:
            errors.append(str(exc))
            continue
        try:
            verify_download(info, stem, part)
        except MnistlabError as exc:
            # A wrong file cannot be resumed into a right one: drop it.
            part.unlink(missing_ok=True)
            errors.append(f"{url}: {exc}, file discarded")
            continue
        os.replace(part, staging / f"{stem}.gz")
        return
    kept = f"; {part.stat().st_size} bytes kept in {part} to resume" if part.is_file() else ""
    raise MnistlabError(
        f"{stem}.gz: download failed, nothing installed ({'; '.join(errors)}){kept}"
    )


def clear_staging(dest_folder: str | os.PathLike[str]) -> None:
    """Remove the staging folder of ``dest_folder`` (partial and unmoved files)."""
    dest = Path(dest_folder)
    shutil.rmtree(dest.parent / f".{dest.name}.download", ignore_errors=True)
