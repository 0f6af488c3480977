"""The output policy through the command line: ``--out`` never destroys what mnistlab did not
write, never touches its inputs, and a failed write is one line and exit 2."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import main

N = 40  # images per split of the tiny dataset


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, fashion_dir: Path) -> Path:
    """A folder of IDX files: the first 40 real Fashion-MNIST train and test images."""
    from mnistlab.data import load, write_idx

    folder = tmp_path_factory.mktemp("tiny") / "idx"
    folder.mkdir()
    for split, prefix in (("train", "train"), ("test", "t10k")):
        ds = load("fashion-mnist", split=split, download=False)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", np.ascontiguousarray(ds.images[:N]))
        labels = np.asarray(ds.labels[:N], dtype=np.uint8)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
    return folder


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, tiny: Path) -> dict[str, Path]:
    """One small output of each kind the other tests feed back in."""
    root = tmp_path_factory.mktemp("made")
    paths = {
        "model": root / "model",
        "preds": root / "preds.parquet",
        "corrupt": root / "corrupt",
        "export": root / "export",
    }
    assert main(["train", str(tiny), "--model", "logreg", "--out", str(paths["model"])]) == 0
    assert main(["predict", str(paths["model"]), str(tiny), "--out", str(paths["preds"])]) == 0
    corrupt = ["corrupt", str(tiny), "--corruptions", "fog", "--executor", "serial"]
    assert main([*corrupt, "--no-progress", "--out", str(paths["corrupt"])]) == 0
    assert main(["export", str(tiny), "--out", str(paths["export"])]) == 0
    return paths


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    text = capsys.readouterr().err.replace("\r", "\n")
    err = [line for line in text.splitlines() if line.strip() and "%|" not in line]
    assert len(err) == 1 and err[0].startswith("mnistlab: error: "), err
    return err[0]


# Commands that write a folder, as argv builders: (out, inputs) -> argv.
FOLDER_COMMANDS = {
    "corrupt": lambda o, m, t: ["corrupt", str(t), "--out", o, "--executor", "serial"],
    "perturb": lambda o, m, t: ["perturb", str(t), "--kind", "thin", "--out", o],
    "export": lambda o, m, t: ["export", str(t), "--out", o],
    "train": lambda o, m, t: ["train", str(t), "--model", "logreg", "--out", o],
    "evaluate": lambda o, m, t: ["evaluate", str(m["preds"]), "--out", o],
    "hardness": lambda o, m, t: ["hardness", str(m["preds"]), "--out", o],
    "score-folder": lambda o, m, t: ["score", str(m["preds"]), "--out", o],
    "active-learn": lambda o, m, t: ["active-learn", str(t), "--model", "pca-logreg", "--out", o],
    "benchmark": lambda o, m, t: ["benchmark", str(t), "--models", "logreg", "--out", o],
    "study": lambda o, m, t: ["study", "--dataset", str(t), "--out", o, "--quick"],
}
# Commands that write a file: (out, made, tiny) -> argv.
FILE_COMMANDS = {
    "measure": (".csv", lambda o, m, t: ["measure", str(t), "--out", o, "--executor", "serial"]),
    "predict": (".parquet", lambda o, m, t: ["predict", str(m["model"]), str(t), "--out", o]),
    "score": (".parquet", lambda o, m, t: ["score", str(m["preds"]), "--out", o]),
    "prioritize": (".csv", lambda o, m, t: ["prioritize", str(m["preds"]), "--out", o]),
    "label-issues": (".csv", lambda o, m, t: ["label-issues", str(m["preds"]), "--out", o]),
    "grid": (".png", lambda o, m, t: ["corruptions", "--family", "noise", "--grid", o]),
}


@pytest.mark.parametrize("command", sorted(FOLDER_COMMANDS))
def test_a_user_folder_survives(
    command: str, tmp_path: Path, tiny: Path, made: dict[str, Path], capsys
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    (mine / "sub").mkdir()
    (mine / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = _snapshot(mine)
    for extra in ([], ["--overwrite"]):  # --overwrite never replaces what mnistlab did not write
        assert main([*FOLDER_COMMANDS[command](str(mine), made, tiny), *extra]) == 2
        assert "is not a mnistlab output" in _error_line(capsys)
        assert _snapshot(mine) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary left


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
def test_a_user_file_survives(
    command: str, tmp_path: Path, tiny: Path, made: dict[str, Path], capsys
) -> None:
    suffix, argv = FILE_COMMANDS[command]
    target = tmp_path / f"mine{suffix}"
    target.write_bytes(b"my own file")
    assert main(argv(str(target), made, tiny)) == 2
    assert "exists; pass --overwrite to replace it" in _error_line(capsys)
    assert target.read_bytes() == b"my own file"
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    (folder / "keep").write_text("k")
    assert main([*argv(str(folder), made, tiny), "--overwrite"]) == 2
    assert "is a folder" in _error_line(capsys)
    assert (folder / "keep").read_text() == "k"


@pytest.mark.parametrize("command", ["measure", "score", "grid"])
def test_overwrite_replaces_a_file_without_old_copies(
    command: str, tmp_path: Path, tiny: Path, made: dict[str, Path]
) -> None:
    suffix, argv = FILE_COMMANDS[command]
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"old")
    assert main([*argv(str(target), made, tiny), "--overwrite"]) == 0
    assert target.read_bytes() != b"old" and target.stat().st_size > 100
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_overwrite_replaces_only_the_same_kind(
    tmp_path: Path, tiny: Path, made: dict[str, Path], capsys
) -> None:
    out = tmp_path / "c"
    argv = ["corrupt", str(tiny), "--corruptions", "fog", "--executor", "serial", "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    first = _snapshot(out)
    assert main([*argv, "--no-progress"]) == 2
    assert "holds a previous mnistlab corrupt output; pass --overwrite" in _error_line(capsys)
    assert main([*argv, "--no-progress", "--overwrite", "--seed", "5"]) == 0
    second = _snapshot(out)
    assert second.keys() == first.keys() and second != first  # replaced whole, new seed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # no .old copy, no .part
    # another kind is never replaced, --overwrite or not
    for other, kind in (("export", "export"), ("model", "model")):
        before = _snapshot(made[other])
        shutil.copytree(made[other], tmp_path / other)
        assert main([*argv[:-1], str(tmp_path / other), "--overwrite"]) == 2
        assert f"holds a mnistlab {kind} output, not a corrupt output" in _error_line(capsys)
        assert _snapshot(tmp_path / other) == before


@pytest.mark.parametrize(
    "where",
    ["input", "inside", "above", "cwd", "file-inside"],
)
def test_out_never_touches_an_input(
    where: str, tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    data = tmp_path / "data" / "idx"
    shutil.copytree(tiny, data)
    before = _snapshot(tmp_path)
    monkeypatch.chdir(data if where == "cwd" else tmp_path)
    out = {
        "input": str(data),
        "inside": str(data / "corrupted"),
        "above": str(tmp_path / "data"),
        "cwd": ".",
        "file-inside": str(data / "m.csv"),
    }[where]
    commands = [
        ["corrupt", str(data), "--executor", "serial", "--out", out],
        ["perturb", str(data), "--kind", "thin", "--out", out],
        ["export", str(data), "--out", out],
        ["train", str(data), "--model", "logreg", "--out", out],
        ["study", "--dataset", str(data), "--quick", "--out", out],
    ]
    if where == "file-inside":
        commands = [["measure", str(data), "--out", out, "--executor", "serial"]]
    for argv in commands:
        assert main([*argv, "--overwrite"]) == 2, argv
        line = _error_line(capsys)
        assert any(w in line for w in ("input", "current folder")), line
    assert _snapshot(tmp_path) == before


def test_out_next_to_a_preds_file_or_above_it(tmp_path: Path, made: dict[str, Path], capsys):
    preds = tmp_path / "p" / "preds.parquet"
    preds.parent.mkdir()
    shutil.copy(made["preds"], preds)
    assert main(["score", str(preds), "--out", str(preds), "--overwrite"]) == 2
    assert "is the input" in _error_line(capsys)
    assert main(["evaluate", str(preds), "--out", str(preds.parent)]) == 2
    assert "contains the input" in _error_line(capsys)
    assert preds.read_bytes() == made["preds"].read_bytes()


def test_study_resumes_a_run_and_refuses_other_folders(
    tmp_path: Path, tiny: Path, made: dict[str, Path], capsys
) -> None:
    run = tmp_path / "run"
    argv = ["study", "--dataset", str(tiny), "--out", str(run), "--steps", "data"]
    argv += ["--models", "logreg", "--no-progress"]
    assert main(argv) == 0
    assert main(argv) == 0
    assert "data: done already, reused" in capsys.readouterr().out
    assert main([*argv[:4], str(made["export"]), *argv[5:]]) == 2
    assert "holds a mnistlab export output, not a run output" in _error_line(capsys)


def test_library_refuses_a_user_folder(tmp_path: Path, tiny: Path) -> None:
    """The same policy holds for notebook users of the library functions."""
    from mnistlab.corrupt.generate import generate
    from mnistlab.data.formats import export
    from mnistlab.errors import MnistlabError
    from mnistlab.execution import Execution
    from mnistlab.morpho import write_dataset

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    calls = [
        lambda: generate(str(tiny), mine, corruptions=["fog"], execution=Execution("serial")),
        lambda: export(str(tiny), mine),
        lambda: write_dataset(str(tiny), mine, "thin", execution=Execution("serial")),
    ]
    for call in calls:
        with pytest.raises(MnistlabError, match=r"not a mnistlab output|not an earlier export"):
            call()
    assert _snapshot(mine) == {"notes.txt": b"keep"}


# ----------------------------------------------------------------------------- write errors


def test_parent_is_a_file(tmp_path: Path, tiny: Path, made: dict[str, Path], capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    targets = [
        ["corrupt", str(tiny), "--executor", "serial", "--out", str(afile / "c")],
        ["export", str(tiny), "--out", str(afile / "sub" / "e")],
        ["measure", str(tiny), "--out", str(afile / "m.csv")],
        ["predict", str(made["model"]), str(tiny), "--out", str(afile / "p.parquet")],
        ["score", str(made["preds"]), "--out", str(afile / "s.csv")],
    ]
    for argv in targets:
        assert main(argv) == 2, argv
        line = _error_line(capsys)
        assert str(afile) in line and "is not a folder" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@contextlib.contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (tests run as root in the CI image)")
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_full_disk(tmp_path: Path, fashion_dir: Path, capsys) -> None:
    from mnistlab.data import load, write_idx

    mid = tmp_path / "mid"  # 3,000 real test images: every output below exceeds 256 KiB
    ds = load("fashion-mnist", split="test", download=False)
    write_idx(mid / "t10k-images-idx3-ubyte", np.ascontiguousarray(ds.images[:3000]))
    write_idx(mid / "t10k-labels-idx1-ubyte", np.asarray(ds.labels[:3000], np.uint8))
    with _tmpfs(tmp_path / "small", "size=256k") as disk:
        commands = [
            [
                "corrupt",
                str(mid),
                "--corruptions",
                "fog,stripe",
                "--limit",
                "400",
                "--executor",
                "serial",
                "--no-progress",
                "--out",
                str(disk / "c"),
            ],
            ["export", str(mid), "--format", "idx", "--out", str(disk / "e")],
            ["measure", str(mid), "--executor", "serial", "--out", str(disk / "m.csv")],
        ]
        for argv in commands:
            assert main(argv) == 2, argv
            line = _error_line(capsys)
            assert str(disk) in line and "No space left on device" in line, line
            assert list(disk.iterdir()) == []  # temporary files removed, space given back


def test_read_only_target(tmp_path: Path, tiny: Path, made: dict[str, Path], capsys) -> None:
    with _tmpfs(tmp_path / "ro", "size=4m,ro") as disk:
        commands = [
            ["corrupt", str(tiny), "--executor", "serial", "--out", str(disk / "c")],
            ["export", str(tiny), "--out", str(disk / "e")],
            ["measure", str(tiny), "--out", str(disk / "m.csv")],
            ["predict", str(made["model"]), str(tiny), "--out", str(disk / "p.parquet")],
            ["train", str(tiny), "--model", "logreg", "--out", str(disk / "m")],
        ]
        for argv in commands:
            assert main(argv) == 2, argv
            line = _error_line(capsys)
            assert str(disk) in line and "read-only file system" in line, line


def test_missing_permission(tiny: Path, made: dict[str, Path], capsys) -> None:
    """As an unprivileged user (root ignores permissions), in a folder it may not write."""
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("switching to an unprivileged user needs root")
    root = Path(tempfile.mkdtemp(prefix="mnistlab-perm-"))
    try:
        os.chmod(root, 0o755)
        locked = root / "locked"
        locked.mkdir(mode=0o555)
        os.chmod(locked, 0o555)
        commands = [
            ["corrupt", str(tiny), "--executor", "serial", "--out", str(locked / "c")],
            ["export", str(tiny), "--out", str(locked / "e")],
            ["measure", str(tiny), "--out", str(locked / "m.csv")],
            ["score", str(made["preds"]), "--out", str(locked / "s.csv")],
        ]
        for argv in commands:
            os.seteuid(65534)
            try:
                code = main(argv)
            finally:
                os.seteuid(0)
            assert code == 2, argv
            line = _error_line(capsys)
            assert str(locked) in line and "permission denied" in line.lower(), line
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(root)
