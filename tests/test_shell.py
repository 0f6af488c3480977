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
