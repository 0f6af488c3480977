"""The data commands: datasets, fetch, export; exit codes and one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.data import load, registry, write_idx


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mnistlab: error: ") and "Traceback" not in err
    return lines[0]


def test_datasets_lists_found_and_missing(
    capsys: pytest.CaptureFixture[str], fashion_dir: Path
) -> None:
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) >= {"fashion-mnist", "mnist", "kmnist"}
    assert (
        "found in debian" in lines["fashion-mnist"] and str(fashion_dir) in lines["fashion-mnist"]
    )
    assert "sha256 verified" in lines["fashion-mnist"]
    assert "not found" in lines["kmnist"] and "mnistlab fetch kmnist" in lines["kmnist"]
    assert main(["datasets", "--no-verify"]) == 0
    assert "not checked" in capsys.readouterr().out


def test_datasets_with_data_dir(capsys: pytest.CaptureFixture[str], mnist_dir: Path) -> None:
    assert main(["datasets", "--data-dir", str(mnist_dir.parent)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("mnist "))
    assert "found in data_dir" in line and "sha256 verified" in line


def test_datasets_reports_a_mismatch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fashion_dir: Path
) -> None:
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for f in fashion_dir.glob("*.gz"):
        (folder / f.name).symlink_to(f)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00\x00\x00\x01\x05")
    assert main(["datasets", "--data-dir", str(tmp_path)]) == 0
    assert "MISMATCH: t10k-labels-idx1-ubyte" in capsys.readouterr().out
    assert main(["fetch", "fashion-mnist", "--data-dir", str(tmp_path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "fail verification" in line and "t10k-labels-idx1-ubyte" in line


def test_fetch_found_and_not_found(
    capsys: pytest.CaptureFixture[str], fashion_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    assert main(["fetch", "fashion-mnist"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"fashion-mnist: {fashion_dir} (debian, sha256 verified)"
    )
    assert main(["fetch", "kmnist", "--no-download"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "kmnist: files not found (looked in" in line
    assert main(["fetch", "cifar"]) == 2
    assert "unknown dataset 'cifar'" in _one_error_line(capsys.readouterr().err)
    monkeypatch.setenv("MNISTLAB_MIRROR", "http://127.0.0.1:9")
    assert main(["fetch", "kmnist", "--no-progress"]) == 2
    assert "download failed" in _one_error_line(capsys.readouterr().err)


@pytest.fixture(scope="module")
def idx_folder(tmp_path_factory: pytest.TempPathFactory, mnist_test) -> Path:
    """A folder of conventionally named IDX files: 200 real MNIST digits per split."""
    folder = tmp_path_factory.mktemp("idx-folder")
    for split, rows in (("train", slice(0, 200)), ("test", slice(200, 400))):
        images, labels = registry.split_files(split)
        write_idx(folder / f"{images}.gz", mnist_test.images[rows])
        write_idx(folder / labels, mnist_test.labels[rows].astype(np.uint8))
    return folder


@pytest.mark.parametrize("fmt", ["npz", "idx", "parquet", "png"])
def test_export_formats(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str, idx_folder: Path
) -> None:
    out = tmp_path / fmt
    code = main(
        [
            "export",
            str(idx_folder),
            "--split",
            "test",
            "--format",
            fmt,
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == f"{idx_folder}: test written as {fmt} to {out}"
    back = load(out, "test")
    assert np.array_equal(back.images, load(idx_folder, "test").images)
    assert not (out / "train").exists() and not (out / "train.npz").exists()


def test_export_all_splits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, idx_folder: Path
) -> None:
    out = tmp_path / "all"
    args = ["export", str(idx_folder), "--split", "all", "--format", "png", "--out", str(out)]
    assert main(args) == 0
    assert "train, test written as png" in capsys.readouterr().out
    for split in ("train", "test"):
        assert np.array_equal(load(out, split).labels, load(idx_folder, split).labels)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "fashion-mnist", "--format", "jpg", "--out", "{out}"], "'jpg' is not one of"),
        (["export", "fashion-mnist", "--split", "val", "--out", "{out}"], "'val' is not one of"),
        (["export", "fashion-mnist"], "Missing option '--out'"),
        (["export", "no-such-set", "--out", "{out}"], "unknown dataset 'no-such-set'"),
        (["export", "{tmp}/empty", "--out", "{out}"], "no t10k-images-idx3-ubyte[.gz]"),
        (["export", "{tmp}", "--out", "{out}"], "is inside the input"),
        (["export", "kmnist", "--no-download", "--out", "{out}"], "kmnist: files not found"),
        (["nope"], "No such command 'nope'"),
        (["fetch"], "Missing argument 'name'"),
        (["datasets", "--bogus"], "No such option: --bogus"),
    ],
)
def test_bad_usage_exits_2_with_one_line_and_no_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    out = tmp_path / "out"
    (tmp_path / "empty").mkdir()
    args = [a.format(out=out, tmp=tmp_path) for a in argv]
    assert main(args) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert message in line
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]  # no temporary leftovers either


def test_export_refuses_a_foreign_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("keep")
    assert main(["export", "fashion-mnist", "--out", str(tmp_path)]) == 2
    assert "is not a mnistlab output" in _one_error_line(capsys.readouterr().err)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_no_command_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "export" in capsys.readouterr().out
    assert main(["--help"]) == 0


def test_file_errors_are_one_line(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/root/secret")

    monkeypatch.setattr(registry, "locate", denied)
    assert main(["datasets"]) == 2
    assert (
        _one_error_line(capsys.readouterr().err)
        == "mnistlab: error: /root/secret: Permission denied"
    )
