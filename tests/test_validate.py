"""The shared checks of names and numbers, and the commands that rely on them failing early."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnistlab._validate import (
    SEED_MAX,
    check_int,
    check_name,
    check_names,
    check_port,
    check_positive,
    check_scheduler,
    check_seed,
)
from mnistlab.cli import main
from mnistlab.errors import MnistlabError


@pytest.mark.parametrize("seed", [0, 1, SEED_MAX, np.int64(3), np.uint64(2**63 - 1)])
def test_good_seeds(seed) -> None:
    assert check_seed(seed) == int(seed) and type(check_seed(seed)) is int


@pytest.mark.parametrize("seed", [-1, 2**63, 2**64, True, False, 1.0, "1", None])
def test_bad_seeds(seed) -> None:
    with pytest.raises(MnistlabError, match=r"seed must be a non-negative integer, got"):
        check_seed(seed)


def test_every_library_seed_check_is_the_shared_one() -> None:
    """The seed checks that used to be duplicated (one accepted True) now agree."""
    from mnistlab.corrupt import corrupt
    from mnistlab.random import uniform

    images = np.zeros((2, 28, 28), np.uint8)
    for bad in (True, 2**64, -1):
        with pytest.raises(MnistlabError, match="seed must be a non-negative integer"):
            corrupt(images, "fog", severity=1, seed=bad)
        with pytest.raises(MnistlabError, match="seed must be a non-negative integer"):
            uniform(bad, np.arange(2))


def test_numbers() -> None:
    assert check_positive(None, "--workers") is None
    assert check_positive(3, "--workers") == 3
    for bad, message in (
        (0, "at least 1"),
        (-2, "at least 1"),
        (True, "an integer"),
        (1.5, "an integer"),
    ):
        with pytest.raises(MnistlabError, match=f"--workers must be {message}"):
            check_positive(bad, "--workers")
    with pytest.raises(MnistlabError, match="--size must be an integer"):
        check_positive(None, "--size", allow_none=False)
    assert check_port(1) == 1 and check_port(65535) == 65535
    for bad in (0, 65536, -1, 2**70):
        with pytest.raises(MnistlabError, match=r"--port must be an integer in 1..65535"):
            check_port(bad)
    with pytest.raises(MnistlabError, match="x must be at most 3, got 4"):
        check_int(4, "x", maximum=3)


def test_names_suggest_the_closest() -> None:
    known = ["gaussian_noise", "shot_noise", "fog"]
    assert check_name("fog", known, "corruption") == "fog"
    with pytest.raises(MnistlabError, match=r"unknown corruption 'gausian_noise' \(did you mean"):
        check_name("gausian_noise", known, "corruption")
    with pytest.raises(MnistlabError, match=r"unknown corruption 'zzz' \(known: gaussian_noise"):
        check_name("zzz", known, "corruption")
    with pytest.raises(MnistlabError, match="corruption 'fog' given twice"):
        check_names(["fog", "fog"], known, "corruption")


def test_scheduler_needs_dask() -> None:
    check_scheduler(None, "local")
    check_scheduler("tcp://10.0.0.1:8786", "dask")
    with pytest.raises(MnistlabError, match="needs --executor dask"):
        check_scheduler("tcp://10.0.0.1:8786", "local")
    with pytest.raises(MnistlabError, match="expected an address like"):
        check_scheduler("tcp://host:port", "dask")
    with pytest.raises(MnistlabError, match=r"port must be an integer in 1\.\.65535"):
        check_scheduler("tcp://host:99999", "dask")


# ------------------------------------------------------------------- through the command line


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope"], "unknown dataset 'nope'"),
        (["--dataset", "fashion-mnst"], "did you mean 'fashion-mnist'"),
        (["--corruptions", "nope"], "unknown corruption 'nope'"),
        (["--corruptions", "fog,fog"], "given twice"),
        (["--seed", str(2**64)], "seed must be a non-negative integer"),
        (["--models", "cnn", "--baseline", "vae"], "generative model"),
        (["--models", "cnn,nope"], "unknown model 'nope'"),
        (
            ["--baseline", "nope"],
            "--baseline nope: neither a model of the study, a registered model, nor a file",
        ),
        (["--steps", "nope"], "unknown study step 'nope'"),
        (["--executor", "threads"], "unknown executor 'threads'"),
        (["--compat", "bogus"], "bogus"),
    ],
)
def test_study_checks_everything_before_working(
    tmp_path: Path, fashion_dir: Path, capsys, args: list[str], message: str
) -> None:
    run = tmp_path / "run"
    assert main(["study", "--out", str(run), "--quick", "--no-progress", *args]) == 2
    assert message in _err(capsys)
    assert list(tmp_path.iterdir()) == []  # no run folder, no manifest, nothing trained


def test_study_baseline_only_needed_by_the_evaluation(tmp_path: Path, fashion_dir: Path):
    run = tmp_path / "run"
    argv = ["study", "--out", str(run), "--quick", "--models", "logreg", "--steps", "data"]
    assert main([*argv, "--baseline", "knn", "--no-progress"]) == 0
    assert json.loads((run / "manifest.json").read_text())["kind"] == "run"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["corrupt", "fashion-mnist", "--seed", str(2**64)], "seed must be a non-negative"),
        (["corrupt", "fashion-mnist", "--workers", "0"], "--workers must be at least 1"),
        (["corrupt", "fashion-mnist", "--limit", "0"], "--limit must be at least 1"),
        (["corrupt", "fashion-mnist", "--scheduler", "tcp://h:1"], "needs --executor dask"),
        (["corrupt", "nope"], "unknown dataset 'nope'"),
        (["corrupt", "fashion-mnist", "--corruptions", "fogg"], "unknown corruption 'fogg'"),
        (["corrupt", "fashion-mnist", "--severity", "0"], "severity must be 1..5"),
        (["corrupt", "fashion-mnist", "--layout", "cifar-c"], "unknown layout 'cifar-c'"),
        (["corrupt", "fashion-mnist", "--format", "png"], "unknown format 'png'"),
        (["corrupt", "fashion-mnist", "--split", "val"], "unknown split 'val'"),
        (["corrupt", "fashion-mnist", "--executor", "spark"], "unknown executor 'spark'"),
        (["perturb", "fashion-mnist", "--kind", "thinn"], "did you mean 'thin'"),
        (["perturb", "fashion-mnist", "--kind", "thin", "--seed", "-1"], "non-negative"),
        (["perturb", "fashion-mnist", "--kind", "thin", "--scheduler", "x:1"], "needs --executor"),
        (["measure", "fashion-mnist", "--workers", "0"], "--workers must be at least 1"),
        (["train", "fashion-mnist", "--seed", str(2**64)], "seed must be a non-negative"),
        (["train", "fashion-mnist", "--model", "cnnn"], "unknown model 'cnnn'"),
        (["predict", "m", "fashion-mnist", "--executor", "gpu"], "unknown executor 'gpu'"),
        (["label-issues", "fashion-mnist", "--seed", str(2**64)], "seed must be a non-negative"),
    ],
)
def test_commands_check_before_working(
    tmp_path: Path, fashion_dir: Path, capsys, argv: list[str], message: str
) -> None:
    out = tmp_path / ("o.csv" if argv[0] in ("measure", "label-issues") else "out")
    if argv[0] == "predict":
        out = tmp_path / "p.parquet"
    assert main([*argv, "--out", str(out)]) == 2
    assert message in _err(capsys)
    assert list(tmp_path.iterdir()) == []


def test_explore_port_is_checked(tmp_path: Path, demo_run: Path, capsys) -> None:
    assert main(["explore", str(demo_run), "--port", "70000", "--no-browser"]) == 2
    assert "--port must be an integer in 1..65535" in _err(capsys)


def test_unreachable_scheduler_fails_fast(tmp_path: Path, fashion_dir: Path, capsys) -> None:
    pytest.importorskip("distributed")
    from mnistlab.parallel import dask_backend

    # Fast by construction (no wall clock here: the suite runs on loaded machines): the
    # client gives up after CONNECT_TIMEOUT seconds, not dask's 30 s and retries.
    assert dask_backend.CONNECT_TIMEOUT <= 5
    argv = ["corrupt", "fashion-mnist", "--limit", "10", "--corruptions", "fog", "--no-progress"]
    argv += ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "c")]
    assert main(argv) == 2
    assert "cannot reach the Dask scheduler 'tcp://127.0.0.1:9'" in _err(capsys)
    assert list(tmp_path.iterdir()) == []
