"""mnistlab.shell: signals raise Interrupted; every error becomes an exit code and one line."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from mnistlab.errors import Interrupted, MnistlabError
from mnistlab.shell import exit_status, handle_signals, report_exit


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (MnistlabError("--seed: bad\n value"), 2, "error: --seed: bad value"),
        (ValueError("x  y"), 2, "error: x y"),
        (OverflowError("too big"), 2, "error: too big"),
        (
            OSError(28, "No space left on device", "/out/t.csv"),
            2,
            "error: /out/t.csv: No space left on device",
        ),
        (PermissionError(13, "Permission denied"), 2, "error: Permission denied"),
        (EOFError("idx"), 2, "error: unexpected end of file (idx)"),
        (Interrupted(signal.SIGINT), 130, "interrupted"),
        (Interrupted(signal.SIGTERM), 143, "terminated"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_exit_status_of_each_kind(exc: BaseException, code: int, message: str) -> None:
    assert exit_status(exc) == (code, message)


def test_an_unexpected_error_is_raised_again() -> None:
    assert exit_status(RuntimeError("bug")) is None
    with pytest.raises(RuntimeError, match="bug"):
        report_exit(RuntimeError("bug"))


def test_report_exit_prints_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_exit(MnistlabError("a\nb"), prog="tool") == 2
    assert capsys.readouterr().err == "tool: error: a b\n"
    assert report_exit(Interrupted(signal.SIGTERM)) == 143
    assert capsys.readouterr().err == "\nmnistlab: terminated\n"  # after a cut progress bar


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_raise_where_the_work_is_and_handlers_come_back(signum: int) -> None:
    before = signal.getsignal(signum)
    with pytest.raises(Interrupted) as info, handle_signals():
        os.kill(os.getpid(), signum)
        for _ in range(10_000_000):  # the handler runs between bytecodes
            pass
    assert info.value.signum == signum and info.value.exit_code == 128 + signum
    assert signal.getsignal(signum) is before


def test_outside_the_main_thread_nothing_changes() -> None:
    seen: list[object] = []

    def work() -> None:
        with handle_signals():
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [before]


_FORKED_POOL = """
import multiprocessing as mp, time
from mnistlab.shell import handle_signals

def work(x):
    time.sleep(0.05)
    return x

with handle_signals(5.0):
    with mp.get_context("fork").Pool(2) as pool:
        assert pool.map(work, range(4)) == [0, 1, 2, 3]
        pool.map_async(work, range(40))
        time.sleep(0.1)
    # leaving the block terminates the workers (SIGTERM) while they work
print("done")
"""


def test_forked_workers_do_not_run_the_parents_handlers() -> None:
    """A library's forked pool (cleanlab, scikit-learn) terminated with SIGTERM prints no
    ``Interrupted`` traceback per worker."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _FORKED_POOL], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr
    assert "Traceback" not in done.stderr and "Interrupted" not in done.stderr, done.stderr


def test_a_second_signal_ends_the_process_at_once(tmp_path) -> None:
    """Cleanup that hangs after a first Ctrl-C: a second one, or the deadline, ends it."""
    import subprocess
    import sys

    code = (
        "import os, signal, time\n"
        "from mnistlab.shell import handle_signals\n"
        "with handle_signals({deadline}):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        time.sleep(5)\n"
        "    finally:\n"
        "        {second}\n"
        "        time.sleep(60)  # a cleanup that never ends\n"
    )
    second = "os.kill(os.getpid(), signal.SIGINT)"
    for deadline, extra in (("None", second), ("0.5", "pass")):
        done = subprocess.run(
            [sys.executable, "-c", code.format(deadline=deadline, second=extra)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 130, done.stderr
        assert done.stderr.strip() == "mnistlab: interrupted", done.stderr
