"""Real SIGINT/SIGTERM sent to a real ``mnistlab`` process while it works.

Each test starts ``python -m mnistlab ...``, waits until the command is busy (its temporary
``.part`` output exists, or it printed progress), sends the signal and checks the exit code
(130 for SIGINT, 143 for SIGTERM), the one stderr line, and that nothing finished-looking
(nor any temporary file) is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mnistlab.cli import main

TIMEOUT = 120.0


class Command:
    """A running ``mnistlab`` subprocess whose stderr is collected as it comes."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mnistlab", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.err = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        while chunk := self.proc.stderr.read1(4096):  # type: ignore[attr-defined]
            self.err += chunk

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not ready():
            if self.proc.poll() is not None:
                pytest.fail(f"finished before {what}: rc {self.proc.returncode}, {self.stderr}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"never got to {what}: {self.stderr}")
            time.sleep(0.02)

    def signal(self, signum: int) -> tuple[int, str]:
        self.proc.send_signal(signum)
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"still running {TIMEOUT} s after the signal: {self.stderr}")
        self._reader.join(10)  # the reader alone drains stderr (to its end)
        return self.proc.returncode, self.stderr

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "replace")


def _parts(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".part")]


def _last_line(err: str) -> str:
    # Progress bars rewrite their line with "\r"; the verdict is the last line written.
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _check_interrupted(rc: int, err: str, signum: int) -> None:
    assert rc == 128 + signum, err
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    assert _last_line(err) == f"mnistlab: {word}", err
    assert "Traceback" not in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_corrupt_interrupted_leaves_nothing(tmp_path: Path, fashion_dir: Path, signum: int):
    out = tmp_path / "mc"
    cmd = Command(
        [
            "corrupt",
            "fashion-mnist",
            "--out",
            str(out),
            "--limit",
            "3000",
            "--executor",
            "serial",
            "--no-progress",
        ],
        tmp_path,
    )
    cmd.wait_until(lambda: bool(_parts(tmp_path)), "the temporary output folder")
    rc, err = cmd.signal(signum)
    _check_interrupted(rc, err, signum)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # the .part folder is gone too


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_measure_interrupted_leaves_nothing(tmp_path: Path, fashion_dir: Path, signum: int):
    out = tmp_path / "morpho.csv"
    cmd = Command(
        ["measure", "fashion-mnist", "--split", "train", "--out", str(out), "--workers", "1"],
        tmp_path,
    )
    cmd.wait_until(lambda: "measure:" in cmd.stderr, "the progress bar")
    rc, err = cmd.signal(signum)
    _check_interrupted(rc, err, signum)
    assert list(tmp_path.iterdir()) == []


def test_predict_interrupted_leaves_nothing(tmp_path: Path, fashion_dir: Path) -> None:
    model = tmp_path / "knn"
    args = ["train", "fashion-mnist", "--model", "knn", "--train-size", "3000"]
    assert main([*args, "--out", str(model), "--no-progress"]) == 0
    work = tmp_path / "work"
    work.mkdir()
    out = work / "preds.parquet"
    cmd = Command(
        ["predict", str(model), "fashion-mnist", "--out", str(out), "--no-progress"], work
    )
    cmd.wait_until(lambda: bool(_parts(work)), "the temporary predictions file")
    rc, err = cmd.signal(signal.SIGINT)
    _check_interrupted(rc, err, signal.SIGINT)
    assert list(work.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["knn", "work"]


def test_study_interrupted_is_not_finished(tmp_path: Path, fashion_dir: Path) -> None:
    run = tmp_path / "run"
    cmd = Command(
        [
            "study",
            "--out",
            str(run),
            "--quick",
            "--models",
            "logreg",
            "--baseline",
            "logreg",
            "--no-progress",
            "--executor",
            "serial",
        ],
        tmp_path,
    )
    cmd.wait_until(lambda: (run / "data" / "test_images.npy").is_file(), "the data step")
    rc, err = cmd.signal(signal.SIGINT)
    _check_interrupted(rc, err, signal.SIGINT)
    assert not (run / "report.html").exists()
    assert _parts(tmp_path) == []
    import json

    steps = json.loads((run / "manifest.json").read_text()).get("steps", {})
    assert not steps.get("report", {}).get("done")  # a later run resumes; nothing looks done


def test_export_interrupted_leaves_nothing(tmp_path: Path, fashion_dir: Path) -> None:
    out = tmp_path / "png"
    cmd = Command(
        [
            "export",
            "fashion-mnist",
            "--split",
            "all",
            "--format",
            "png",
            "--out",
            str(out),
            "--no-progress",
        ],
        tmp_path,
    )
    cmd.wait_until(lambda: bool(_parts(tmp_path)), "the temporary export folder")
    rc, err = cmd.signal(signal.SIGTERM)
    _check_interrupted(rc, err, signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []


def test_a_real_error_is_not_an_interrupt(tmp_path: Path, fashion_dir: Path) -> None:
    """An empty .npy logits file is bad input (exit 2), never 'aborted' with 130."""
    empty = tmp_path / "logits.npy"
    empty.write_bytes(b"")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mnistlab",
            "predict",
            str(empty),
            "fashion-mnist",
            "--out",
            str(tmp_path / "p.parquet"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 2, proc.stderr
    line = _last_line(proc.stderr)
    assert line.startswith("mnistlab: error:") and "interrupt" not in line
    assert "abort" not in proc.stderr.lower() and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logits.npy"]


def test_exit_codes_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """``main`` returns the command's own exit code (``--help`` 0, bad usage 2)."""
    assert main(["--help"]) == 0
    assert main(["corrupt", "--help"]) == 0
    assert "--data-dir" in capsys.readouterr().out
    assert main(["corrupt"]) == 2
    assert "Missing argument" in capsys.readouterr().err
