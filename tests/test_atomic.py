"""Atomic writes: a failure leaves neither the output nor a temporary file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnistlab._atomic import atomic_dir, atomic_path, write_bytes_atomic, write_text_atomic


def test_atomic_path_success_and_suffix(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.bin"
    with atomic_path(target, suffix=".npy") as tmp:
        assert tmp.parent == target.parent and tmp.name.endswith(".npy.part")
        assert not target.exists()
        tmp.write_bytes(b"data")
    assert target.read_bytes() == b"data"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


def test_atomic_path_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text_atomic(target, "old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("new")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_write_helpers(tmp_path: Path) -> None:
    write_bytes_atomic(tmp_path / "a", b"\x00\x01")
    write_text_atomic(tmp_path / "b", "é")
    assert (tmp_path / "a").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b").read_bytes() == "é".encode()


def test_atomic_dir_replaces_whole_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "one").write_text("1")
    assert [p.name for p in out.iterdir()] == ["one"]
    (tmp_path / ".out.old").mkdir()  # a stale leftover of an interrupted replace
    with atomic_dir(out) as tmp:
        (tmp / "two").write_text("2")
    assert [p.name for p in out.iterdir()] == ["two"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_failure_leaves_old_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(OSError, match="full"), atomic_dir(out) as tmp:
        (tmp / "partial").write_text("x")
        raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "good").write_text("g")
    with pytest.raises(ValueError), atomic_dir(out) as tmp:
        (tmp / "bad").write_text("b")
        raise ValueError
    assert [p.name for p in out.iterdir()] == ["good"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_outputs_get_the_permissions_of_a_plain_write(tmp_path: Path) -> None:
    import os

    from mnistlab import _atomic

    plain_file, plain_dir = tmp_path / "plain.bin", tmp_path / "plain"
    plain_file.write_bytes(b"x")
    plain_dir.mkdir()
    write_bytes_atomic(tmp_path / "atomic.bin", b"x")
    with atomic_dir(tmp_path / "atomic") as tmp:
        (tmp / "f").write_bytes(b"x")
    mode = lambda p: os.stat(p).st_mode & 0o777  # noqa: E731
    assert mode(tmp_path / "atomic.bin") == mode(plain_file) == 0o666 & ~_atomic._UMASK
    assert mode(tmp_path / "atomic") == mode(plain_dir)
