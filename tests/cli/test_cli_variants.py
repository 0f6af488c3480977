"""The variant-dataset commands through the command line: ``corruptions``, ``corrupt``,
``perturb`` and ``measure``."""

from __future__ import annotations

import functools
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mnistlab.cli import main
from mnistlab.corrupt import names
from mnistlab.data import read_idx, write_idx
from mnistlab.data.variants import iter_variants, load_variant


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


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory: pytest.TempPathFactory, mnist_test) -> Path:
    folder = tmp_path_factory.mktemp("mnist_small")
    for prefix, n in (("t10k", 40), ("train", 30)):
        # The first n test images hold no 8: swap the last one for the first 8 (index 61), so
        # the unnamed folder's label set is 0..9, as the dataset checks require.
        index = np.r_[np.arange(n - 1), 61]
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", mnist_test.images[index])
        write_idx(
            folder / f"{prefix}-labels-idx1-ubyte.gz", mnist_test.labels[index].astype(np.uint8)
        )
    return folder


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_measure_command(small_dir: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"m{suffix}"
    assert (
        main(["measure", str(small_dir), "--split", "test", "--workers", "1", "--out", str(out)])
        == 0
    )
    table = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(table) == 40
    assert {"index", "sample_id", "area", "length", "thickness", "slant", "width", "height"} <= set(
        table.columns
    )


def test_perturb_command_writes_released_layout(small_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "global"
    argv = [
        "perturb",
        str(small_dir),
        "--kind",
        "global",
        "--split",
        "all",
        "--seed",
        "3",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    for prefix, n in (("t10k", 40), ("train", 30)):
        images = read_idx(out / f"{prefix}-images-idx3-ubyte.gz")
        pert = read_idx(out / f"{prefix}-pert-idx1-ubyte.gz")
        assert images.shape == (n, 28, 28) and pert.shape == (n,)
        assert set(np.unique(pert)) <= {0, 1, 2}
        morpho = pd.read_csv(out / f"{prefix}-morpho.csv")
        assert list(morpho.columns) == [
            "index",
            "area",
            "length",
            "thickness",
            "slant",
            "width",
            "height",
        ]
    (variant,) = list(iter_variants(out))
    assert variant.name == "morpho-global"
    ds = load_variant(out, variant, "train")
    assert len(ds) == 30 and ds.metadata is not None
    np.testing.assert_array_equal(ds.metadata["pert"], read_idx(out / "train-pert-idx1-ubyte.gz"))


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["perturb", "{d}", "--kind", "wobbly", "--out", "{o}"], "wobbly"),
        (["perturb", "{d}", "--kind", "thin", "--split", "dev", "--out", "{o}"], "dev"),
        (["perturb", "{d}", "--kind", "thin", "--seed", "-2", "--out", "{o}"], "seed"),
        (["measure", "{d}", "--out", "{o}.txt"], ".txt"),
        (["measure", "{d}", "--split", "dev", "--out", "{o}.csv"], "dev"),
        (["measure", "{d}", "--executor", "threads", "--out", "{o}.csv"], "threads"),
        (["measure", "{d}", "--scheduler", "tcp://h:1", "--out", "{o}.csv"], "--executor dask"),
        (["perturb", "{d}", "--kind", "thin", "--chunk-size", "0", "--out", "{o}"], "chunk-size"),
    ],
)
def test_bad_input_exits_2(
    small_dir: Path, tmp_path: Path, capsys, argv: list[str], needle: str
) -> None:
    out = tmp_path / "x"
    args = [a.format(d=small_dir, o=out) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


# --------------------------------------------------------------------------- resume

# What the patched chunk functions do; forked worker processes inherit it.
_CONTROL: dict[str, Any] = {}


def _flaky(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` recording each call, failing on the chunk that starts with ``_CONTROL["fail"]``.

    It keeps ``fn``'s module and name: process workers find it by them, and a checkpoint's
    job hash (made from them) stays the same when the real function runs again.
    """

    @functools.wraps(fn)
    def wrapper(images: np.ndarray, *args: Any) -> Any:
        fail = _CONTROL.get("fail")
        if fail is not None and np.array_equal(images[0], fail):
            raise ValueError("simulated chunk failure")
        if len(images) > 1:  # not the one-image warm-up calls made before forking
            Path(_CONTROL["calls"], uuid.uuid4().hex).touch()
        return fn(images, *args)

    return wrapper


def _patch(monkeypatch: pytest.MonkeyPatch, module: str, name: str, calls: Path) -> None:
    # ``mnistlab.morpho.measure`` is also a function name: take the module from sys.modules.
    mod = sys.modules[module]
    monkeypatch.setattr(mod, name, _flaky(getattr(mod, name)))
    calls.mkdir()
    _CONTROL.clear()
    _CONTROL["calls"] = str(calls)


def _ncalls(calls: Path) -> int:
    n = len(list(calls.iterdir()))
    for p in calls.iterdir():
        p.unlink()
    return n


def _same_output(out: Path, ref: Path) -> None:
    """``out`` holds the same bytes as ``ref``: one file, or a folder of files."""
    if ref.is_file():
        assert out.read_bytes() == ref.read_bytes()
        return
    files = sorted(p.name for p in ref.iterdir())
    assert files == sorted(p.name for p in out.iterdir())
    for name in files:
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name


# Per command: its arguments, its output, the chunk function (module, name), the image the
# failing chunk starts with, what the failure says, and the chunks a serial run keeps.
RESUMABLE = {
    "measure": (
        ["measure", "{d}", "--chunk-size", "10"],
        "m.csv",
        ("mnistlab.morpho.measure", "_measure_chunk"),
        20,
        "chunk 2 of 4 (samples 20..29) failed: ValueError: simulated chunk failure",
        2,
    ),
    "perturb": (
        ["perturb", "{d}", "--kind", "local", "--seed", "4", "--chunk-size", "10"],
        "local",
        ("mnistlab.morpho.datasets", "_perturb_chunk"),
        30,
        "chunk 3 of 4 (samples 30..39) failed: ValueError: simulated chunk failure",
        3,
    ),
}


@pytest.mark.parametrize("executor", ["serial", "local"])
@pytest.mark.parametrize("command", list(RESUMABLE))
def test_failed_chunk_leaves_nothing_and_resumes(
    small_dir: Path,
    tmp_path: Path,
    mnist_test,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
    command: str,
    executor: str,
) -> None:
    from mnistlab.parallel import checkpoint_dir_for

    argv, name, (module, chunk_fn), fail_at, message, serial_kept = RESUMABLE[command]
    base = [a.format(d=small_dir) for a in argv]
    ref = tmp_path / f"ref-{name}"
    assert main([*base, "--executor", "serial", "--out", str(ref)]) == 0
    _patch(monkeypatch, module, chunk_fn, tmp_path / "calls")
    _CONTROL["fail"] = mnist_test.images[fail_at]
    out = tmp_path / name
    argv = [*base, "--executor", executor, "--workers", "2", "--checkpoint", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "run the same command again to resume" in err
    assert not out.exists()
    kept = len(list(checkpoint_dir_for(out).glob("task-*.pkl")))
    assert kept >= (serial_kept if executor == "serial" else 1)
    assert _ncalls(tmp_path / "calls") == kept  # every finished chunk was saved

    _CONTROL["fail"] = None
    assert main(argv) == 0
    assert _ncalls(tmp_path / "calls") == 4 - kept  # the saved chunks were not recomputed
    _same_output(out, ref)  # same bytes as one serial run
    assert not checkpoint_dir_for(out).exists()


def test_measure_all_splits_in_one_table(small_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.parquet"
    argv = ["measure", str(small_dir), "--split", "all", "--no-progress", "--out", str(out)]
    assert main(argv) == 0
    table = pd.read_parquet(out)
    assert table["split"].tolist() == ["train"] * 30 + ["test"] * 40
    assert table["index"].tolist() == [*range(30), *range(40)]
    test_only = tmp_path / "t.parquet"
    assert main(["measure", str(small_dir), "--no-progress", "--out", str(test_only)]) == 0
    columns = ["area", "length", "thickness", "slant", "width", "height"]
    pd.testing.assert_frame_equal(
        table[table["split"] == "test"][columns].reset_index(drop=True),
        pd.read_parquet(test_only)[columns],
    )


@pytest.mark.parametrize("shape", [(5, 784, 1), (0, 28, 28)])
@pytest.mark.parametrize("command", ["export", "corrupt", "measure", "perturb"])
def test_flattened_images_and_empty_splits_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: tuple[int, ...], command: str
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros(shape, np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros(shape[0], np.uint8))
    out = tmp_path / ("o.csv" if command == "measure" else "o")
    argv = {
        "export": ["export", str(folder), "--format", "npz"],
        "corrupt": ["corrupt", str(folder), "--corruptions", "fog"],
        "measure": ["measure", str(folder)],
        "perturb": ["perturb", str(folder), "--kind", "thin"],
    }[command]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    expected = "no images (an empty split)" if shape[0] == 0 else "784 x 1 pixels are not images"
    assert len(err) == 1 and expected in err[0], err
    assert not out.exists()


def test_a_scheduler_that_is_no_address_is_one_line(
    small_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys

    for address in ("not a url", "localhost:notaport", "tcp://:8786"):
        done = subprocess.run(
            [sys.executable, "-m", "mnistlab", "corrupt", str(small_dir), "--executor", "dask",
             "--scheduler", address, "--out", str(tmp_path / "o")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2
        assert done.stderr == (
            f"mnistlab: error: --scheduler {address!r}: expected an address like tcp://host:8786\n"
        )
