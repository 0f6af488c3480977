"""Atomic writes: a failure leaves neither the output nor a temporary file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnistlab._atomic import atomic_dir, atomic_path, write_bytes_atomic, write_text_atomic
from mnistlab._output import MARKER
from mnistlab.errors import MnistlabError


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
    with atomic_dir(out, "demo") as tmp:
        (tmp / "one").write_text("1")
    assert [p.name for p in out.iterdir()] == [MARKER, "one"] or sorted(
        p.name for p in out.iterdir()
    ) == sorted([MARKER, "one"])
    with atomic_dir(out, "demo") as tmp:
        (tmp / "two").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "two"])
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no .old copy, no temporary


def test_atomic_dir_failure_leaves_old_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with (
        pytest.raises(MnistlabError, match=r"out: cannot write .disk full"),
        atomic_dir(out) as tmp,
    ):
        (tmp / "partial").write_text("x")
        raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "good").write_text("g")
    with pytest.raises(ValueError), atomic_dir(out) as tmp:
        (tmp / "bad").write_text("b")
        raise ValueError
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "good"])
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


def test_atomic_dir_never_replaces_a_user_folder(tmp_path: Path) -> None:
    """The library refuses a folder mnistlab did not write, before the body runs."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    ran = []
    with (
        pytest.raises(MnistlabError, match="mine: exists and is not a mnistlab output"),
        atomic_dir(out, "corrupt"),
    ):
        ran.append(1)
    assert not ran and (out / "thesis.tex").read_text() == "years of work"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(MnistlabError, match="not a folder"), atomic_dir(afile, "corrupt"):
        pass
    assert afile.read_text() == "x"


def test_atomic_dir_kinds_and_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out).mkdir()  # an empty folder holds nothing to lose: it is used
    with atomic_dir(out, "hardness") as tmp:
        (tmp / "a").write_text("1")
    with (
        pytest.raises(MnistlabError, match="holds a mnistlab hardness output, not a model"),
        atomic_dir(out, "model"),
    ):
        pass
    with (
        pytest.raises(MnistlabError, match="pass --overwrite"),
        atomic_dir(out, "hardness", overwrite=False),
    ):
        pass
    assert (out / "a").read_text() == "1"


def test_atomic_dir_inside_a_run_replaces_run_parts(tmp_path: Path) -> None:
    from mnistlab.run import update_manifest

    run = tmp_path / "run"
    update_manifest(run, dataset="x")
    part = run / "hardness" / "cnn"
    part.mkdir(parents=True)
    (part / "old.csv").write_text("old")  # written by an older mnistlab, without a marker
    with atomic_dir(part, "hardness") as tmp:
        (tmp / "new.csv").write_text("new")
    assert (part / "new.csv").is_file() and not (part / "old.csv").exists()


def test_write_errors_name_the_path(tmp_path: Path) -> None:
    parent = tmp_path / "file"
    parent.write_text("x")
    with pytest.raises(MnistlabError, match=r"file/out.bin: cannot write \(.*file is not a folder"):
        write_bytes_atomic(parent / "out.bin", b"x")
    with pytest.raises(MnistlabError, match="is not a folder"), atomic_dir(parent / "d"):
        pass
    target = tmp_path / "t.bin"
    with (
        pytest.raises(MnistlabError, match=r"t.bin: cannot write \(No space left on device\)"),
        atomic_path(target) as tmp,
    ):
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_live_parts_are_removed_after_an_interrupt(tmp_path: Path) -> None:
    """A signal between a with-statement's enter and its body skips the body's cleanup: the
    command line then removes the temporary entries the process still has."""
    from mnistlab._atomic import remove_live_parts

    file_cm, dir_cm = atomic_path(tmp_path / "f.bin"), atomic_dir(tmp_path / "d")
    tmp_file, tmp_dir = file_cm.__enter__(), dir_cm.__enter__()  # never exited
    (tmp_dir / "x").write_text("x")
    assert tmp_file.exists() and tmp_dir.exists()
    assert sorted(remove_live_parts()) == sorted([tmp_file, tmp_dir])
    assert list(tmp_path.iterdir()) == []
    with atomic_path(tmp_path / "ok.bin") as tmp:
        tmp.write_bytes(b"ok")
    assert remove_live_parts() == [] and (tmp_path / "ok.bin").read_bytes() == b"ok"


def test_a_part_being_created_is_found_by_its_target(tmp_path: Path) -> None:
    """An interrupt inside mkstemp (file created, name not returned yet) leaves no part."""
    import os

    from mnistlab import _atomic

    final = tmp_path / "out.csv"
    _atomic._TARGETS.add(final)  # what atomic_path registers before creating the entry
    orphan = tmp_path / f".out.csv.{os.getpid()}-abc.part"
    orphan.write_bytes(b"")
    other = tmp_path / ".out.csv.1-abc.part"  # another process's: not ours to remove
    other.write_bytes(b"")
    assert _atomic.remove_live_parts() == [orphan]
    assert [p.name for p in tmp_path.iterdir()] == [other.name]


def test_an_interrupt_inside_the_temporary_creation_leaves_no_part(tmp_path, monkeypatch):
    """The signal lands after mkstemp created the entry, before its name came back: the
    interrupt's cleanup (remove_live_parts) still finds it by its prefix."""
    import os
    import tempfile

    from mnistlab import _atomic

    real = tempfile.mkstemp

    def interrupted(*args, **kwargs):
        fd, _name = real(*args, **kwargs)
        os.close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(_atomic.tempfile, "mkstemp", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _atomic.write_text_atomic(tmp_path / "manifest.json", "{}")
    monkeypatch.undo()
    assert len([p for p in tmp_path.iterdir() if p.name.endswith(".part")]) == 1
    _atomic.remove_live_parts()
    assert list(tmp_path.iterdir()) == []
