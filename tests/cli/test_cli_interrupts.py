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
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mnistlab.cli import main

TIMEOUT = 120.0


class Command:
    """A running ``mnistlab`` subprocess whose stderr is collected as it comes."""

    def __init__(self, args: list[str], cwd: Path, code: str | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code] if code else [sys.executable, "-m", "mnistlab", *args],
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


# --------------------------------------------------------------------------- never hangs
#: An interrupted command must be gone within this many seconds: its cleanup has 5 (the
#: deadline of mnistlab.shell), the rest is slack for a loaded machine. A hang never ends.
PROMPT = 20.0


def _spin() -> None:
    while True:
        pass


@pytest.fixture
def busy() -> Iterator[None]:
    """Two processes that keep both cores busy (the load under which pools used to hang)."""
    import multiprocessing as mp

    procs = [mp.get_context("spawn").Process(target=_spin, daemon=True) for _ in range(2)]
    for p in procs:
        p.start()
    yield
    for p in procs:
        p.kill()
        p.join()


def _caught(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (Linux: /proc/PID/status)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except OSError:
        return False
    return False


def _ended_within(cmd: Command, seconds: float) -> tuple[int, str, float]:
    start = time.monotonic()
    try:
        cmd.proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        cmd.proc.kill()
        cmd.proc.wait()
        pytest.fail(f"still running {seconds} s after the signal (hung): {cmd.stderr[-2000:]}")
    cmd._reader.join(10)
    return cmd.proc.returncode, cmd.stderr, time.monotonic() - start


CORRUPT_BIG = [
    "corrupt", "fashion-mnist", "--split", "all", "--limit", "3000", "--layout", "mnist-c",
    "--severity", "all", "--corruptions", "fog,rotate,shear,scale", "--workers", "2",
    "--chunk-size", "1500", "--no-progress",
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("moment", "signals"),
    [
        ("start", [signal.SIGINT]),  # while the command imports its modules
        ("start", [signal.SIGTERM]),
        ("pool", [signal.SIGINT]),  # the workers are computing
        ("pool+0.4", [signal.SIGINT]),
        ("pool+1.2", [signal.SIGINT]),  # results of 1,500 images in flight
        ("pool+2.5", [signal.SIGINT]),
        ("pool+0.6", [signal.SIGINT, signal.SIGINT]),  # a double Ctrl-C
        ("pool+0.6", [signal.SIGTERM]),
    ],
)
def test_an_interrupt_never_hangs_beside_busy_processes(
    tmp_path: Path, fashion_dir: Path, busy: None, moment: str, signals: list[int]
) -> None:
    out = tmp_path / "mc"
    cmd = Command([*CORRUPT_BIG, "--out", str(out)], tmp_path)
    if moment == "start":  # the earliest moment mnistlab's own code runs: its handler is in
        cmd.wait_until(lambda: _caught(cmd.proc.pid, signal.SIGTERM), "its signal handler")
    else:
        cmd.wait_until(lambda: bool(_parts(tmp_path)), "the temporary output folder")
        if "+" in moment:
            time.sleep(float(moment.split("+")[1]))
    for i, signum in enumerate(signals):
        if i:
            time.sleep(0.05)
        cmd.proc.send_signal(signum)
    rc, err, _ = _ended_within(cmd, PROMPT)
    if rc == 0:  # finished before the signal landed: a complete output, nothing else
        assert out.is_dir() and _parts(tmp_path) == []
        return
    _check_interrupted(rc, err, signals[-1] if len(signals) == 1 else signals[0])
    assert not out.exists() and _parts(tmp_path) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_the_work_still_gives_the_line(tmp_path: Path, signum: int) -> None:
    """Once the command is done (the interpreter exits: here an exit handler that waits),
    a signal still ends it with its code and line."""
    code = (
        "import atexit, sys, time\n"
        "sys.argv = ['mnistlab', 'corruptions']\n"
        "from mnistlab.__main__ import entry\n"
        "def linger():\n"
        "    print('exiting', file=sys.stderr, flush=True)\n"
        "    time.sleep(30)\n"
        "atexit.register(linger)\n"
        "entry()\n"
    )
    cmd = Command([], tmp_path, code=code)
    cmd.wait_until(lambda: "exiting" in cmd.stderr, "the end of the work")
    cmd.proc.send_signal(signum)
    rc, err, _ = _ended_within(cmd, PROMPT)
    _check_interrupted(rc, err, signum)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_explorer_exits_130_or_143_with_its_line(tmp_path: Path, fashion_demo_run) -> None:
    import socket

    run = fashion_demo_run(tmp_path / "run", 60, embeddings=())
    for signum in (signal.SIGINT, signal.SIGTERM):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = Command(["explore", str(run), "--no-browser", "--port", str(port)], tmp_path)

        def listening(port: int = port) -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        cmd.wait_until(listening, "the server")
        cmd.proc.send_signal(signum)
        rc, err, _ = _ended_within(cmd, PROMPT)
        _check_interrupted(rc, err, signum)
