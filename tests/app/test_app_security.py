"""The explorer's guard: Host header (DNS rebinding), security headers, malformed paths."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import pytest

from mnistlab.app import create_app
from mnistlab.app.security import CSP, host_allowed

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def app(demo_run):
    return create_app(demo_run, warm=False, port=8765)


def _client(app, base: str):
    """A client without the lifespan (which would close the shared app's tables)."""
    from starlette.testclient import TestClient

    return TestClient(app, base_url=base, raise_server_exceptions=False)


def _raw(base: str, request: bytes) -> tuple[int, bytes]:
    """Send raw bytes to the live server; status and whole response."""
    url = urlparse(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def _get(base: str, path: str | bytes, host: str | None = None) -> tuple[int, bytes]:
    netloc = host if host is not None else urlparse(base).netloc
    target = path if isinstance(path, bytes) else path.encode()
    return _raw(
        base,
        b"GET " + target + f" HTTP/1.1\r\nHost: {netloc}\r\nConnection: close\r\n\r\n".encode(),
    )


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",
        "evil.com:8765",
        "127.0.0.1.evil.com:8765",
        "127.0.0.1:9999",
        "127.0.0.1",
        "localhost:1",
        "0.0.0.0:8765",
        "[::2]:8765",
        "",
    ],
)
def test_foreign_host_is_refused(app, host):
    c = _client(app, "http://127.0.0.1:8765")
    for path in ("/", "/api/meta", "/files/manifest.json", "/static/app.js"):
        r = c.get(path, headers={"host": host})
        assert r.status_code == 421, (host, path)
        assert "manifest" not in r.text and "seed" not in r.text
        for name, value in HEADERS.items():
            assert r.headers[name] == value


@pytest.mark.parametrize("base", ["http://127.0.0.1:8765", "http://localhost:8765"])
def test_loopback_hosts_are_served_with_the_headers(app, base):
    c = _client(app, base)
    for path, status in (
        ("/", 200),
        ("/static/app.js", 200),
        ("/api/meta", 200),
        ("/files/manifest.json", 200),
        ("/api/page?size=0", 400),
        ("/files/nope", 404),
        ("/nope", 404),
    ):
        r = c.get(path)
        assert r.status_code == status, path
        for name, value in HEADERS.items():
            assert r.headers[name] == value, (path, name)
    assert c.get("/", headers={"host": "[::1]:8765"}).status_code == 200


def test_port_defaults_to_the_connection(demo_run):
    c = _client(create_app(demo_run, warm=False), "http://127.0.0.1:4321")
    assert c.get("/api/meta").status_code == 200
    assert c.get("/api/meta", headers={"host": "127.0.0.1:8765"}).status_code == 421


def test_host_allowed():
    assert host_allowed("LOCALHOST:80", 80) and host_allowed("[::1]:8765", 8765)
    assert not host_allowed(None, 8765) and not host_allowed("localhost:8765", None)
    assert not host_allowed("localhost:8765 ", 8766)


def test_csp_allows_only_what_the_page_loads():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and "unsafe" not in CSP
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"


def test_live_server_refuses_rebinding(live_server):
    status, data = _get(live_server, "/files/manifest.json", host="evil.com")
    assert status == 421 and b'"seed"' not in data
    status, data = _get(live_server, "/files/manifest.json")
    assert status == 200 and b"content-security-policy: " in data.lower()
    # Two Host headers are not a loopback request either.
    netloc = urlparse(live_server).netloc
    status, _ = _raw(
        live_server,
        f"GET / HTTP/1.1\r\nHost: {netloc}\r\nHost: evil.com\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status in (400, 421)


@pytest.mark.parametrize(
    "path",
    [
        b"/static/%00",
        b"/static/app.js%00",
        b"/static/%00/app.js",
        b"/files/%00",
        b"/static/..%2f..%2fserver.py",
        b"/static/..%2Fserver.py",
        b"/static/%2e%2e%2fserver.py",
        b"/static/..%5cserver.py",
        b"/static/%ff",
        b"/static/%c3%28",
        b"/files/%ed%a0%80",
        b"/files/%ff%fe",
        b"/static/" + b"a" * 300,
        b"/static/" + b"a" * 5000,
        b"/files/" + b"b/" * 3000,
        b"/files/" + b"x" * 300 + b".png",
        b"/static/%0a",
        b"/static/%7f",
        b"/files/./manifest.json",
        b"/api/image/clean/%00.png",
        b"/api/image/%00/1.png",
        b"/api/sprite/%00.png",
    ],
)
def test_malformed_paths_are_404(live_server, path):
    status, data = _get(live_server, path)
    assert status == 404, path
    assert b"Traceback" not in data and b"content-security-policy" in data.lower()


def test_malformed_paths_through_the_app(app):
    c = _client(app, "http://127.0.0.1:8765")
    for path in ("/static/%00", "/files/%00", "/static/" + "a" * 4000, "/static/%ff"):
        r = c.get(path)
        assert r.status_code == 404, path
        assert r.headers["x-frame-options"] == "DENY"


def test_serve_passes_the_port(monkeypatch, demo_run):
    import uvicorn

    import mnistlab.app as appmod

    seen = {}

    def fake_run(self, sockets=None):
        seen.update(app=self.config.app)

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    appmod.serve(demo_run, port=8123, open_browser=False)
    from starlette.testclient import TestClient

    with TestClient(seen["app"], base_url="http://127.0.0.1:4000") as c:
        # The explicit port wins over the connection's: 127.0.0.1:4000 is not this server.
        assert c.get("/").status_code == 421
        assert c.get("/", headers={"host": "127.0.0.1:8123"}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/sample?variant=clean&sample_id=99999999999999999999999",
        "/api/sample?variant=clean&sample_id=-99999999999999999999",
        "/api/page?page=4611686018427387904",
        "/api/page?label=99999999999999999999",
        "/api/page?severity=" + "9" * 5000,
        "/api/image/clean/99999999999999999999999.png",
        "/api/page?sort=%00",
        "/api/page?score=entropy&min=nan",
        "/api/page?model=%ff",
    ],
)
def test_hostile_queries_are_400_or_404_never_500(app, url):
    r = _client(app, "http://127.0.0.1:8765").get(url)
    assert r.status_code in (400, 404), (url, r.status_code, r.text[:200])
    assert r.headers["x-content-type-options"] == "nosniff"


def test_dask_dashboard_binds_the_loopback_only():
    """The LocalCluster's HTTP server (dashboard, /metrics) listens on 127.0.0.1, not 0.0.0.0."""
    pytest.importorskip("distributed")
    from mnistlab.parallel import local_cluster

    cluster = local_cluster(1)
    try:
        sockets = cluster.scheduler.http_server._sockets.values()
        hosts = {s.getsockname()[0] for s in sockets}
        assert hosts == {"127.0.0.1"}
        assert cluster.dashboard_link.startswith("http://127.0.0.1:")
    finally:
        cluster.close()
