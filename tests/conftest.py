"""Shared fixtures: the real datasets (Debian's Fashion-MNIST, the shared MNIST copy), a demo
run directory and headless Chromium for the report and explorer tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnistlab.corrupt import registry

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MNISTLAB_SHARED_DATA", REPO.parent / "shared" / "data"))
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_DIR = SHARED_DATA / "mnist"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> Path | None:
    """Chromium for the browser tests: ``$MNISTLAB_CHROMIUM`` if set, else ``chromium`` on PATH.

    ``make test`` installs Debian's ``chromium`` (``/usr/bin/chromium``) when it runs as root
    with apt (``scripts/ensure-browser.sh``); elsewhere the browser tests are skipped.
    """
    wanted = os.environ.get("MNISTLAB_CHROMIUM")
    if wanted:
        path = Path(wanted)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None


def browser_skip_reason() -> str | None:
    """Why the tests marked ``browser`` cannot run here, or None when they can."""
    path = chromium_path()
    if path is None:
        where = os.environ.get("MNISTLAB_CHROMIUM") or "chromium on PATH"
        return (
            f"no Chromium ({where} not found): browser tests skipped; "
            "as root, `apt-get install chromium` (make test does it) or set MNISTLAB_CHROMIUM"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]'): browser tests skipped"
    return None


def pytest_report_header(config: pytest.Config) -> str:
    reason = browser_skip_reason()
    return f"browser tests: {reason}" if reason else f"browser tests: {chromium_path()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the ``slow`` tests first; skip the ``browser`` tests, with the reason, without Chromium.

    Slow tests first: with ``-n 2`` the long ones then overlap instead of ending the run alone.
    """
    items[:] = sorted(items, key=lambda item: "slow" not in item.keywords)
    reason = browser_skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the user's cache or MNISTLAB_DATA from a test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("MNISTLAB_DATA", raising=False)


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fake machine for :mod:`mnistlab.threads`: 8 CPUs in the affinity mask, a cgroup folder
    (``tmp_path``, returned: write ``cpu.max`` there), no OMP_NUM_THREADS."""
    from mnistlab import threads

    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(threads, "CGROUP_ROOT", tmp_path)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    if not FASHION_DIR.is_dir():
        pytest.fail(
            f"{FASHION_DIR} missing: apt-get install dataset-fashion-mnist (make test does)"
        )
    return FASHION_DIR


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not MNIST_DIR.is_dir():
        pytest.skip(f"{MNIST_DIR} missing (the shared MNIST copy lives beside the checkout)")
    return MNIST_DIR


@pytest.fixture(scope="session")
def fashion_test(fashion_dir: Path):
    from mnistlab.data import load

    return load("fashion-mnist", split="test", download=False)


@pytest.fixture(scope="session")
def fashion_train(fashion_dir: Path):
    from mnistlab.data import load

    return load("fashion-mnist", split="train", download=False)


@pytest.fixture(scope="session")
def fashion_small(fashion_test) -> np.ndarray:
    """The first 100 real Fashion-MNIST test images."""
    return np.ascontiguousarray(fashion_test.images[:100])


@pytest.fixture(scope="session")
def active_data(fashion_train, fashion_test) -> tuple[np.ndarray, ...]:
    """Active learning's ``(train images, train labels, pool images, pool labels)``: 1000 real
    training images, a pool of 400 real test images."""
    return (
        fashion_train.images[:1000],
        fashion_train.labels[:1000],
        fashion_test.images[:400],
        fashion_test.labels[:400],
    )


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path):
    from mnistlab.data import load

    return load(mnist_dir, split="test", class_names=tuple(str(i) for i in range(10)))


def _noise(x, level, ctx):
    return x + level * (ctx.uniform(x.shape[1:]) - 0.5)


def _shift(x, level, ctx):
    return np.roll(x, int(level), axis=2)


FIXTURE_CORRUPTIONS = (
    registry.Corruption("fixture_noise", "noise", _noise, (0.2, 0.4, 0.6, 0.8, 1.0)),
    registry.Corruption("fixture_shift", "affine", _shift, (1, 2, 3, 4, 5)),
)


@pytest.fixture(scope="session")
def fixture_corruptions() -> Iterator[list[str]]:
    """Two small corruptions registered for the session (the real ones are another module's)."""
    with pytest.MonkeyPatch.context() as mp:
        for c in FIXTURE_CORRUPTIONS:
            mp.setitem(registry._REGISTRY, c.name, c)
        yield [c.name for c in FIXTURE_CORRUPTIONS]


@pytest.fixture(scope="session")
def fashion_demo_run(fashion_test) -> Callable[..., Path]:
    """``fashion_demo_run(out, n, **options)``: a demo run in ``out`` over the first ``n`` real
    test images (:func:`mnistlab.workflows.demo.make_demo_run` and its options)."""
    from mnistlab.workflows.demo import make_demo_run

    def make(out: Path, n: int, **options: Any) -> Path:
        images, labels = fashion_test.images[:n], fashion_test.labels[:n]
        return make_demo_run(out, images, labels, fashion_test.class_names, **options)

    return make


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, fashion_demo_run, fixture_corruptions) -> Path:
    """A realistic run: 300 real test images, clean + 2 corruptions x 2 severities, all tables."""
    variants = ["clean"] + [f"{c}-s{s}" for c in fixture_corruptions for s in (1, 3)]
    out = tmp_path_factory.mktemp("run") / "demo"
    return fashion_demo_run(out, 300, variants=variants, seed=3, embeddings=("pca",))


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, per module: two live sync Playwright instances in one process clash."""
    from playwright.sync_api import sync_playwright

    reason = browser_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path()), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def record_numbers():
    """``record(name, payload)``: keep a test's measured numbers for the docs.

    With ``MNISTLAB_RECORD=DIR`` set (``make faithfulness`` sets ``docs/_data/faithfulness``),
    each call writes ``DIR/<name>.json`` atomically; the docs' faithfulness page renders them.
    Without it, nothing is written.
    """
    import datetime
    import json

    from mnistlab._atomic import atomic_path

    folder = os.environ.get("MNISTLAB_RECORD")

    def record(name: str, payload: dict) -> Path | None:
        if not folder:
            return None
        target = Path(folder) / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "name": name,
            "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
            "recorded": datetime.date.today().isoformat(),
            **payload,
        }
        with atomic_path(target, suffix=".json") as tmp:
            Path(tmp).write_text(json.dumps(entry, indent=1, sort_keys=True) + "\n")
        return target

    return record
