"""The downloader against a local HTTP server on 127.0.0.1 serving the real Fashion-MNIST files."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from mnistlab.data import DatasetInfo, cache_dir, fetch, get_info, load, locate, registry
from mnistlab.data.download import (
    download_dataset,
    download_file,
    mirror_list,
    verify_download,
)
from mnistlab.errors import MnistlabError


@dataclass
class Server:
    """What the test server serves and what it saw."""

    root: Path
    url: str = ""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    cut: set[str] = field(default_factory=set)  # files sent only halfway, then the socket closes
    ranges: bool = True  # honour Range requests

    def body(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.is_file() else None


def _handler(server: Server) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            range_header = self.headers.get("Range")
            server.requests.append((self.path, range_header))
            data = server.body(name)
            if data is None or self.path != f"/files/{name}":
                self.send_error(404)
                return
            start = 0
            if range_header and server.ranges:
                start = int(range_header.removeprefix("bytes=").rstrip("-"))
                if start >= len(data):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            payload = data[start:]
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if name in server.cut:
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)

    return Handler


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, fashion_dir: Path) -> Path:
    """Gzip copies of the real Fashion-MNIST files, made in a temporary folder."""
    root = tmp_path_factory.mktemp("served")
    for src in fashion_dir.glob("*-ubyte.gz"):
        shutil.copyfile(src, root / src.name)
    return root


@pytest.fixture
def server(served: Path, tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "www"
    shutil.copytree(served, root)
    state = Server(root)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/files"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def offline_debian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the Debian copy so fetch() has to download."""
    monkeypatch.setattr(registry, "DEBIAN_ROOT", tmp_path / "no-debian")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.slow
def test_good_download_verifies_lands_in_cache_then_cache_is_used(
    server: Server, offline_debian: None, monkeypatch: pytest.MonkeyPatch, fashion_test
) -> None:
    monkeypatch.setenv("MNISTLAB_MIRROR", server.url)
    loc = fetch("fashion-mnist", progress=False)
    assert loc.source == "download" and loc.folder == cache_dir() / "fashion-mnist"
    info = get_info("fashion-mnist")
    assert _files(loc.folder) == sorted(f"{s}.gz" for s in info.files)
    assert all(registry.verify_file(info, s, p) is True for s, p in loc.files.items())
    assert len(server.requests) == 4 and all(r is None for _, r in server.requests)
    assert not (cache_dir() / ".fashion-mnist.download").exists()
    # A second call (and load) finds the cache and sends no request.
    server.requests.clear()
    again = fetch("fashion-mnist", progress=False)
    assert again.source == "cache"
    ds = load("fashion-mnist", "test")
    assert np.array_equal(ds.images, fashion_test.images)
    assert server.requests == []


def test_corrupted_download_leaves_nothing_and_says_so(
    server: Server, offline_debian: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stem = "t10k-labels-idx1-ubyte"
    raw = bytearray(gzip.decompress((server.root / f"{stem}.gz").read_bytes()))
    raw[100] ^= 0xFF  # a valid gzip of wrong content
    (server.root / f"{stem}.gz").write_bytes(gzip.compress(bytes(raw)))
    monkeypatch.setenv("MNISTLAB_MIRROR", server.url)
    with pytest.raises(MnistlabError) as info:
        fetch("fashion-mnist", progress=False)
    text = str(info.value)
    assert f"{stem}.gz" in text and "sha256" in text and "discarded" in text
    assert "nothing installed" in text
    dest = cache_dir() / "fashion-mnist"
    assert _files(dest) == []
    assert locate("fashion-mnist") is None
    # The bad file is gone from staging too; only verified files wait there.
    staging = cache_dir() / ".fashion-mnist.download"
    assert not (staging / f"{stem}.gz.part").exists()
    assert not (staging / f"{stem}.gz").exists()


def test_cut_connection_leaves_nothing_then_resumes(
    server: Server, offline_debian: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = get_info("fashion-mnist")
    small = DatasetInfo(
        "fm-test", info.class_names, (server.url,), {s: info.sha256[s] for s in info.files}
    )
    stem = "t10k-images-idx3-ubyte"
    server.cut.add(f"{stem}.gz")
    dest = cache_dir() / "fm-test"
    with pytest.raises(MnistlabError) as exc:
        download_dataset(small, dest, progress=False)
    text = str(exc.value)
    assert f"{stem}.gz" in text and "connection cut after" in text and "nothing installed" in text
    assert "to resume" in text
    assert _files(dest) == []
    part = cache_dir() / ".fm-test.download" / f"{stem}.gz.part"
    size = (server.root / f"{stem}.gz").stat().st_size
    assert part.stat().st_size == size // 2
    # The next call asks only for the rest, verifies, and installs all four files.
    server.cut.clear()
    server.requests.clear()
    download_dataset(small, dest, progress=False)
    assert (f"/files/{stem}.gz", f"bytes={size // 2}-") in server.requests
    assert _files(dest) == sorted(f"{s}.gz" for s in info.files)
    # The train files, verified before the cut, were not asked for again.
    assert [path for path, _ in server.requests] == [
        f"/files/{stem}.gz",
        "/files/t10k-labels-idx1-ubyte.gz",
    ]
    assert not part.parent.exists()


def test_resume_when_server_ignores_ranges(server: Server, tmp_path: Path) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    data = (server.root / name).read_bytes()
    part = tmp_path / f"{name}.part"
    part.write_bytes(b"garbage that a restart must drop")
    server.ranges = False
    download_file(f"{server.url}/{name}", part, progress=False)
    assert part.read_bytes() == data
    server.ranges = True
    part.write_bytes(data[:1000])
    download_file(f"{server.url}/{name}", part, progress=False)
    assert part.read_bytes() == data
    assert server.requests[-1][1] == "bytes=1000-"
    # A complete part answered with 416 is left for verification to judge.
    download_file(f"{server.url}/{name}", part, progress=False)
    assert part.read_bytes() == data


def test_mirrors_in_order_and_errors(server: Server, tmp_path: Path) -> None:
    info = get_info("fashion-mnist")
    missing = f"{server.url}/missing"
    dest = tmp_path / "dest"
    download_dataset(info, dest, progress=False, mirrors=[missing, server.url])
    assert _files(dest) == sorted(f"{s}.gz" for s in info.files)
    assert server.requests[0][0].startswith("/files/missing/")
    with pytest.raises(MnistlabError, match="HTTP 404"):
        download_dataset(info, tmp_path / "other", progress=False, mirrors=[missing])
    with pytest.raises(MnistlabError, match="cannot connect"):
        download_dataset(info, tmp_path / "other", progress=False, mirrors=["http://127.0.0.1:9"])
    with pytest.raises(MnistlabError, match="timeout must be positive"):
        download_dataset(info, tmp_path / "other", timeout=0)
    assert not (tmp_path / "other").exists()


def test_mirror_list_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    info = get_info("mnist")
    assert mirror_list(info) == info.mirrors
    monkeypatch.setenv("MNISTLAB_MIRROR", "http://a/, http://b")
    assert mirror_list(info) == ("http://a", "http://b")
    assert mirror_list(info, ["http://c/"]) == ("http://c",)
    with pytest.raises(MnistlabError, match="mnist: no mirror"):
        mirror_list(info, [" "])


def test_verify_download_md5_and_unverified(served: Path, tmp_path: Path) -> None:
    stem = "t10k-labels-idx1-ubyte"
    path = served / f"{stem}.gz"
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    assert (
        verify_download(DatasetInfo("k", ("a",), (), {}, md5_gz={f"{stem}.gz": md5}), stem, path)
        == "md5"
    )
    wrong = DatasetInfo("k", ("a",), (), {}, md5_gz={f"{stem}.gz": "0" * 32})
    with pytest.raises(MnistlabError, match=f"{stem}.gz: md5 is {md5}, expected 0+"):
        verify_download(wrong, stem, path)
    assert verify_download(DatasetInfo("k", ("a",), (), {}), stem, path) == "unverified"
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"\x1f\x8b" + b"\x00" * 30)
    with pytest.raises(MnistlabError, match="not a valid gzip file"):
        verify_download(get_info("fashion-mnist"), stem, junk)


def test_fetch_download_failure_message(
    offline_debian: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MNISTLAB_MIRROR", "http://127.0.0.1:9")
    with pytest.raises(MnistlabError) as info:
        fetch("kmnist", progress=False)
    text = str(info.value)
    assert "files not found" in text and "download failed" in text and "cannot connect" in text
