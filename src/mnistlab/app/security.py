"""The explorer's outer guard: Host check, malformed paths, security headers on every response.

A page on another site can make the browser resolve its own name to 127.0.0.1 (DNS rebinding)
and then read the explorer as if it were that site; the browser still sends the attacker's
name in ``Host``. So every request whose ``Host`` is not ``127.0.0.1``, ``localhost`` or
``[::1]`` with the server's port is refused (421 Misdirected Request) before any route runs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["CSP", "LOOPBACK_NAMES", "MAX_PATH", "SECURITY_HEADERS", "Guard", "host_allowed"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: What ``static/index.html`` needs: its own script and stylesheet, its own JSON and images
#: (sprites, samples), and the ``data:`` favicon. No inline script or style, no other origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
#: Longest request path served (bytes, percent-encoded); longer ones are 404.
MAX_PATH = 2048
_MAX_SEGMENT = 255
_ENCODED_BAD = re.compile(rb"%(?:2f|5c|00)", re.IGNORECASE)
_BAD_CHARS = re.compile("[\x00-\x1f\x7f\\\\\ufffd]")


def host_allowed(host: str | None, port: int | None) -> bool:
    """True when a ``Host`` header names this machine's loopback at ``port``.

    Examples
    --------
    >>> host_allowed("127.0.0.1:8765", 8765), host_allowed("localhost:8765", 8765)
    (True, True)
    >>> host_allowed("evil.com:8765", 8765), host_allowed("127.0.0.1:80", 8765)
    (False, False)
    >>> host_allowed("localhost", 80)
    True
    """
    if not host or port is None:
        return False
    host = host.strip().lower()
    allowed = {f"{name}:{port}" for name in LOOPBACK_NAMES}
    if port == 80:
        allowed |= set(LOOPBACK_NAMES)
    return host in allowed


def path_malformed(scope: Scope) -> bool:
    """True for a path no route should see: NUL and control characters, invalid UTF-8,
    backslashes, encoded slashes, ``.``/``..`` segments, or too long."""
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    path = scope.get("path", "")
    if len(raw) > MAX_PATH or _ENCODED_BAD.search(raw) or _BAD_CHARS.search(path):
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from undecodable bytes
        return True
    segments = path.split("/")
    return any(s in (".", "..") or len(s.encode("utf-8")) > _MAX_SEGMENT for s in segments)


class Guard:
    """ASGI wrapper: refuses foreign ``Host`` headers and malformed paths, adds the headers.

    Parameters
    ----------
    app : ASGI app
        The explorer.
    port : int, optional
        The server's port; default: the port of the connection (``scope["server"]``).
    """

    def __init__(self, app: ASGIApp, port: int | None = None) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in SECURITY_HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + list(SECURITY_HEADERS)
            await send(message)

        hosts = [v for k, v in scope.get("headers", []) if k.lower() == b"host"]
        server = scope.get("server") or (None, None)
        port = self.port if self.port is not None else server[1]
        host = hosts[0].decode("latin-1") if len(hosts) == 1 else None
        if not host_allowed(host, port):
            await _plain(send_secured, 421, "misdirected request: unknown Host header")
            return
        if path_malformed(scope):
            await _plain(send_secured, 404, "not found")
            return
        await self.app(scope, receive, send_secured)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
