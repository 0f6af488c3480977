"""The explorer: a local, read-only web app over a run directory.

Examples
--------
>>> from mnistlab.app import serve
>>> serve("runs/fashion-mnist", port=8765)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import webbrowser

from mnistlab.app.server import Explorer, create_app, sprite_sheet
from mnistlab.errors import MnistlabError

__all__ = ["HOST", "Explorer", "create_app", "serve", "sprite_sheet"]

HOST = "127.0.0.1"


def serve(
    run_dir: str | os.PathLike[str],
    port: int = 8765,
    open_browser: bool = True,
    log_level: str = "warning",
) -> None:
    """Serve the explorer for ``run_dir`` on ``http://127.0.0.1:<port>`` until interrupted.

    The server binds to the loopback interface only: the run is never exposed on the network.
    """
    import uvicorn

    if not 1 <= int(port) <= 65535:
        raise MnistlabError(f"port must be in 1..65535, got {port}")
    app = create_app(run_dir, port=int(port))
    url = f"http://{HOST}:{port}/"
    print(f"mnistlab explorer: {url} (Ctrl+C to stop)")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=HOST, port=int(port), log_level=log_level)
