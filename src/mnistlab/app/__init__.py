"""The explorer: a local, read-only web app over a run directory.

Examples
--------
>>> from mnistlab.app import serve
>>> serve("runs/fashion-mnist", port=8765)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import threading
import webbrowser
from collections.abc import Iterator
from typing import Any

from mnistlab.app.server import Explorer, create_app, sprite_sheet
from mnistlab.errors import MnistlabError

__all__ = ["HOST", "Explorer", "create_app", "serve", "sprite_sheet"]

HOST = "127.0.0.1"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(
    run_dir: str | os.PathLike[str],
    port: int = 8765,
    open_browser: bool = True,
    log_level: str = "warning",
) -> None:
    """Serve the explorer for ``run_dir`` on ``http://127.0.0.1:<port>`` until interrupted.

    The server binds to the loopback interface only: the run is never exposed on the network.
    SIGINT and SIGTERM stop it gracefully and then raise
    :class:`~mnistlab.errors.Interrupted` (the command line exits 130 or 143).

    Parameters
    ----------
    run_dir : path-like
        A run directory written by :func:`mnistlab.workflows.study.run_study`.
    port : int
        Port on 127.0.0.1.
    open_browser : bool
        Open a browser tab once the server listens.
    log_level : str
        uvicorn's log level.

    Raises
    ------
    MnistlabError
        When the run is not readable or the port cannot be bound (in use, not allowed).

    Examples
    --------
    >>> from mnistlab.app import serve
    >>> serve("runs/fashion-mnist", port=8765)  # doctest: +SKIP
    """
    import uvicorn

    from mnistlab._validate import check_port
    from mnistlab.errors import Interrupted

    port = check_port(port, "port")
    app = create_app(run_dir, port=port)
    sock = _bind(port)
    url = f"http://{HOST}:{port}/"
    print(f"mnistlab explorer: {url} (Ctrl+C to stop)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    server = _server(uvicorn.Config(app, log_level=log_level))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if server.signals:  # a graceful stop on a signal is still an interrupt
        raise Interrupted(server.signals[0])


def _bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port``, or one line saying why there is none."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = "in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise MnistlabError(f"--port {port}: cannot listen on {HOST}:{port} ({reason})") from None
    sock.set_inheritable(True)
    return sock


def _server(config: Any) -> Any:
    """uvicorn's server, remembering the signals that stopped it instead of raising them
    again once its loop has ended (``serve`` turns the first into an interrupt)."""
    import uvicorn

    class Server(uvicorn.Server):
        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.signals: list[int] = []

        def handle_exit(self, sig: int, frame: Any) -> None:
            self.signals.append(int(sig))
            super().handle_exit(sig, frame)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {s: signal.signal(s, self.handle_exit) for s in _STOP_SIGNALS}
            try:
                yield
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)

    return Server(config)
