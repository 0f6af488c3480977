"""``mnistlab corruptions`` and ``mnistlab corrupt`` through the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.corrupt import names


def test_corruptions_lists_every_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corruptions"]) == 0
    out = capsys.readouterr().out
    for name in names():
        assert f"\n{name} " in out
    assert "(no levels)" in out and "compat:" in out and "mnist-c,fmnist-c" in out


def test_corruptions_family_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corruptions", "--family", "overlay"]) == 0
    out = capsys.readouterr().out
    assert "fog" in out and "canny_edges" not in out
    assert main(["corruptions", "--family", "weather"]) == 2
    assert "unknown family 'weather'" in capsys.readouterr().err


def test_corruptions_grid(
    tmp_path: Path, fashion_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    png = tmp_path / "grid.png"
    assert main(["corruptions", "--family", "digital", "--grid", str(png), "--images", "2"]) == 0
    image = Image.open(png)
    assert image.size[0] > 500 and image.size[1] > 3 * 56
    assert len(np.unique(np.asarray(image.convert("L")))) > 20
    assert main(["corruptions", "--grid", str(png), "--images", "0"]) == 2


def test_corrupt_writes_and_loads(
    tmp_path: Path, fashion_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mnistlab.data import load_variant

    out = tmp_path / "mc"
    argv = [
        "corrupt",
        "fashion-mnist",
        "--out",
        str(out),
        "--corruptions",
        "fog,stripe",
        "--limit",
        "20",
        "--workers",
        "1",
        "--no-progress",
        "--severity",
        "2",
    ]
    assert main(argv) == 0
    assert "mnist-c:" in capsys.readouterr().out
    assert load_variant(out, "fog-s2", "test").images.shape == (20, 28, 28)
    fm = tmp_path / "fm"
    argv = [
        "corrupt",
        "fashion-mnist",
        "--layout",
        "fmnist-c",
        "--split",
        "all",
        "--limit",
        "30",
        "--out",
        str(fm),
        "--severity",
        "random",
        "--executor",
        "serial",
        "--no-progress",
    ]
    assert main(argv) == 0
    assert (fm / "fmnist-c-train-ubyte.gz").is_file() and (fm / "fmnist-c-test.npy").is_file()


# Bad arguments of `mnistlab corrupt` (exit 2, one line, nothing written) are checked with
# those of the other commands: tests/test_validate.py, test_commands_check_before_working.
