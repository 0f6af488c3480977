"""The explorer served live over the shared demo run (``demo_run`` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def live_server(demo_run) -> Iterator[str]:
    """The explorer served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from mnistlab.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(demo_run), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("explorer did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def table(demo_run) -> pd.DataFrame:
    """The demo run's predictions of ``cnn`` joined with its scores: what the explorer serves."""
    preds = pd.read_parquet(demo_run / "preds" / "cnn.parquet")
    scores = pd.read_parquet(demo_run / "scores" / "cnn.parquet")
    # The scores table may repeat prediction columns (label, pred, ...): keep the predictions'.
    keys = ["sample_id", "variant"]
    scores = scores[keys + [c for c in scores.columns if c not in preds.columns]]
    return preds.merge(scores, on=keys)
