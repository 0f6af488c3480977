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


def test_explore_command_serves_on_loopback(small_run, monkeypatch):
    import uvicorn

    calls = {}

    def fake_run(app, host, port, log_level):
        calls.update(app=app, host=host, port=port)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    assert main(["explore", str(small_run), "--port", "8799", "--no-browser"]) == 0
    assert calls["host"] == "127.0.0.1" and calls["port"] == 8799
    assert calls["app"].state.explorer.root == small_run.resolve()
    assert main(["explore", str(small_run), "--port", "70000", "--no-browser"]) == 2
    assert main(["explore", str(small_run.parent / "nope"), "--no-browser"]) == 2


def test_explore_opens_a_browser_tab(small_run, monkeypatch):
    import threading
    import webbrowser

    import uvicorn

    opened = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
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
