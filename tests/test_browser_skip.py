"""Without Chromium the browser tests are skipped with their reason; everything else still runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _conftest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_mnistlab_conftest", REPO / "tests/conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_chromium_gives_a_reason(monkeypatch, tmp_path):
    conftest = _conftest()
    monkeypatch.setenv("MNISTLAB_CHROMIUM", str(tmp_path / "no-chromium"))
    assert conftest.chromium_path() is None
    reason = conftest.browser_skip_reason()
    assert reason is not None and str(tmp_path / "no-chromium") in reason
    assert "apt-get install chromium" in reason
    # A real executable is accepted.
    exe = tmp_path / "chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("MNISTLAB_CHROMIUM", str(exe))
    assert conftest.chromium_path() == exe


@pytest.mark.slow
def test_browser_tests_are_skipped_visibly_without_chromium(tmp_path):
    env = dict(os.environ, MNISTLAB_CHROMIUM=str(tmp_path / "no-chromium"))
    files = ["tests/app/test_app_browser.py", "tests/report/test_report_html.py"]
    args = ["-q", "-rs", "-p", "no:cacheprovider", "-p", "no:xdist", "-m", "browser", *files]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "passed" not in out.splitlines()[-1]
    assert "skipped" in out.splitlines()[-1]
    assert "no Chromium" in out and "SKIPPED" in out
