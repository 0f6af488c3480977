"""mnistlab report / explore / export-run."""

from __future__ import annotations

import json

import pytest

from mnistlab.cli import main


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, fashion_demo_run):
    return fashion_demo_run(tmp_path_factory.mktemp("cli") / "run", 120, embeddings=())


@pytest.mark.slow
def test_report_command(small_run, tmp_path, capsys):
    assert main(["report", str(small_run), "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "Hardness" in html and "data:image/png;base64," in html
    assert "r.html" in capsys.readouterr().out


def test_report_command_bad_input(small_run, tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main(["report", str(small_run), "--hardness", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err


def test_export_run_command(small_run, tmp_path):
    out = tmp_path / "fo"
    assert main(["export-run", str(small_run), "--format", "fiftyone", "--out", str(out)]) == 0
    labels = json.loads((out / "labels.json").read_text())
    assert len(labels["labels"]) == 120 and len(list((out / "data").iterdir())) == 120
    assert main(["export-run", str(small_run), "--format", "coco", "--out", str(out)]) == 2
    assert main(["export-run", str(small_run), "--out", str(out), "--variants", "fog-s9"]) == 2
    assert (
        main(["export-run", str(small_run), "--out", str(tmp_path / "all"), "--variants", "all"])
        == 0
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_explore_command_serves_on_loopback(small_run, monkeypatch):
    import uvicorn

    calls = {}

    def fake_run(self, sockets=None):
        calls.update(app=self.config.app, address=sockets[0].getsockname())

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    port = _free_port()
    assert main(["explore", str(small_run), "--port", str(port), "--no-browser"]) == 0
    assert calls["address"] == ("127.0.0.1", port)
    assert calls["app"].state.explorer.root == small_run.resolve()
    assert main(["explore", str(small_run), "--port", "70000", "--no-browser"]) == 2
    assert main(["explore", str(small_run.parent / "nope"), "--no-browser"]) == 2


def test_explore_on_a_busy_port_is_one_line(small_run, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["explore", str(small_run), "--port", str(port), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err == f"mnistlab: error: --port {port}: cannot listen on 127.0.0.1:{port} (in use)\n"


def test_explore_opens_a_browser_tab(small_run, monkeypatch):
    import threading
    import webbrowser

    import uvicorn

    opened = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    monkeypatch.setattr(webbrowser, "open", opened.append)

    class Now(threading.Thread):
        def __init__(self, delay, fn, args):
            super().__init__()
            self.fn, self.args = fn, args

        def start(self):
            self.fn(*self.args)

    monkeypatch.setattr(threading, "Timer", Now)
    assert main(["explore", str(small_run), "--port", "8798"]) == 0
    assert opened == ["http://127.0.0.1:8798/"]


@pytest.mark.parametrize("command", ["report", "export-run"])
def test_report_and_export_run_write_one_line_on_a_full_disk(small_run, tmp_path, capfd, command):
    """``--no-progress`` is accepted; on a full disk (a tiny tmpfs, as root) one line, exit 2,
    nothing left behind."""
    import os
    import subprocess
    import sys

    if os.geteuid() != 0:
        pytest.skip("mounting a full file system needs root")
    disk = tmp_path / "full"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = disk / ("r.html" if command == "report" else "export")
        argv = [sys.executable, "-m", "mnistlab", command, str(small_run), "--out", str(out)]
        done = subprocess.run([*argv, "--no-progress"], capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "No space left on device" in done.stderr
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)
