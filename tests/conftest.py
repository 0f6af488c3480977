"""Shared fixtures: the real datasets (Debian's Fashion-MNIST, the shared MNIST copy), a demo
run directory and headless Chromium for the report and explorer tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mnistlab.corrupt import registry

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MNISTLAB_SHARED_DATA", REPO.parent / "shared" / "data"))
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_DIR = SHARED_DATA / "mnist"


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the user's cache or MNISTLAB_DATA from a test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("MNISTLAB_DATA", raising=False)


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
def demo_run(tmp_path_factory, fashion_test, fixture_corruptions) -> Path:
    """A realistic run: 300 real test images, clean + 2 corruptions x 2 severities, all tables."""
    from mnistlab.report.demo import make_demo_run

    variants = ["clean"] + [f"{c}-s{s}" for c in fixture_corruptions for s in (1, 3)]
    out = tmp_path_factory.mktemp("run") / "demo"
    return make_demo_run(
        out,
        fashion_test.images[:300],
        fashion_test.labels[:300],
        fashion_test.class_names,
        variants=variants,
        seed=3,
        embeddings=("pca",),
    )


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, per module: two live sync Playwright instances in one process clash."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()
