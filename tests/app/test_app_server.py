"""The explorer's HTTP API (Starlette TestClient) and its path safety (raw HTTP requests)."""

from __future__ import annotations

import io
import socket
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mnistlab.app import create_app
from mnistlab.app.server import LRU, sprite_sheet
from mnistlab.errors import MnistlabError
from mnistlab.workflows.variants import variant_images

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture(scope="module")
def client(demo_run):
    from starlette.testclient import TestClient

    # The explorer answers only requests addressed to the loopback (Host checked).
    with TestClient(create_app(demo_run), base_url="http://127.0.0.1:8765") as c:
        yield c


def test_meta_lists_the_run(client, fixture_corruptions):
    meta = client.get("/api/meta").json()
    assert meta["models"] == ["cnn"] and meta["total"] == 1500
    assert meta["classes"][0] == "T-shirt/top"
    assert set(meta["corruptions"]) == {"identity", *fixture_corruptions}
    assert meta["severities"] == [0, 1, 3]
    assert "entropy" in meta["sortable"] and "area" in meta["sortable"]
    assert meta["hardness"] == "entropy" and meta["embeddings"] == ["pca"]


def test_sort_by_entropy_puts_the_highest_first(client, table):
    page = client.get("/api/page", params={"sort": "entropy", "order": "desc"}).json()
    assert page["total"] == 1500 and len(page["items"]) == 100
    values = [it["value"] for it in page["items"]]
    assert values == sorted(values, reverse=True)
    top = table.loc[table["entropy"].idxmax()]
    assert (page["items"][0]["variant"], page["items"][0]["sample_id"]) == (
        top.variant,
        top.sample_id,
    )
    last = client.get("/api/page", params={"sort": "entropy", "order": "asc", "page": 14}).json()
    assert last["items"][-1]["value"] == pytest.approx(table["entropy"].max())


def test_filters_combine(client, table):
    q = {"label": 3, "correct": "0", "corruption": "fixture_noise", "severity": 3, "size": 500}
    page = client.get("/api/page", params=q).json()
    want = table[
        (table.label == 3) & (table.label != table.pred) & (table.variant == "fixture_noise-s3")
    ]
    assert page["total"] == len(want) > 0
    assert {(i["variant"], i["sample_id"]) for i in page["items"]} == set(
        zip(want.variant, want.sample_id, strict=True)
    )
    ranged = client.get(
        "/api/page", params={"score": "gini", "min": 0.2, "max": 0.4, "pred": 0}
    ).json()
    want = table[(table.gini >= 0.2) & (table.gini <= 0.4) & (table.pred == 0)]
    assert ranged["total"] == len(want)


def test_embedding_box_filters_the_gallery(client, demo_run):
    emb = client.get("/api/embedding", params={"kind": "pca"}).json()
    assert len(emb["x"]) == 300 and emb["hardness"] == "entropy"
    x0, x1, y0, y1 = 0.0, 50.0, -50.0, 0.0
    page = client.get(
        "/api/page", params={"emb": "pca", "x0": x1, "x1": x0, "y0": y0, "y1": y1, "size": 500}
    ).json()
    e = pd.read_parquet(demo_run / "embeddings" / "cnn.parquet")
    inside = e[e.pca_0.between(x0, x1) & e.pca_1.between(y0, y1)]
    assert page["total"] == len(inside) > 0
    assert {i["variant"] for i in page["items"]} == {"clean"}


def test_sprite_holds_the_page_images(client, demo_run):
    page = client.get("/api/page", params={"sort": "margin", "size": 23}).json()
    r = client.get(page["sprite"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    sheet = np.asarray(Image.open(io.BytesIO(r.content)))
    assert sheet.shape == (3 * 28, 10 * 28)
    for it in page["items"][::5]:
        want = variant_images(demo_run, it["variant"], [it["sample_id"]])[0]
        got = sheet[it["sy"] : it["sy"] + 28, it["sx"] : it["sx"] + 28]
        np.testing.assert_array_equal(got, want)
    assert client.get(page["sprite"]).content == r.content  # served from the cache
    assert client.get("/api/sprite/0123456789abcdef0123.png").status_code == 404


def test_sample_detail(client, table):
    row = table[(table.variant == "fixture_shift-s3") & (table.sample_id == 7)].iloc[0]
    s = client.get("/api/sample", params={"variant": "fixture_shift-s3", "sample_id": 7}).json()
    assert s["label"] == row.label and s["pred"] == row.pred
    assert s["probs"] == pytest.approx([row[f"prob_{c}"] for c in range(10)])
    assert s["scores"]["entropy"] == pytest.approx(row.entropy)
    assert set(s["morpho"]) == {"area", "length", "thickness", "slant", "width", "height"}
    img = np.asarray(Image.open(io.BytesIO(client.get(s["image"]).content)))
    clean = np.asarray(Image.open(io.BytesIO(client.get(s["clean"]).content)))
    np.testing.assert_array_equal(np.roll(clean, 3, axis=1), img)
    assert (
        client.get("/api/sample", params={"variant": "clean", "sample_id": 99999}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/page?sort=entropy;DROP", 400),
        ("/api/page?order=sideways", 400),
        ("/api/page?size=0", 400),
        ("/api/page?label=three", 400),
        ("/api/page?correct=maybe", 400),
        ("/api/page?score=gini&min=nan", 400),
        ("/api/page?emb=umap&x0=0&x1=1&y0=0&y1=1", 400),
        ("/api/page?model=vit", 400),
        ("/api/embedding?kind=umap", 400),
        ("/api/image/clean/99999.png", 404),
        ("/api/image/nope-s1/1.png", 404),
        ("/api/image/clean/x.png", 400),
    ],
)
def test_bad_requests_name_the_problem(client, url, status):
    r = client.get(url)
    assert r.status_code == status
    if status == 400:
        assert r.json()["error"]


def test_read_only(client):
    assert client.post("/api/page").status_code == 405
    assert client.delete("/files/manifest.json").status_code == 405


def test_files_inside_the_run_are_served(client, demo_run):
    r = client.get("/files/manifest.json")
    assert r.status_code == 200 and r.json()["seed"] == 3
    assert client.get("/files/eval/accuracy.csv").status_code == 200
    assert client.get("/files/eval").status_code == 404
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/").status_code == 200


def _raw_get(base: str, path: str) -> int:
    """Send ``path`` byte for byte (no client normalises ``..``) and return the status."""
    url = urlparse(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "path",
    [
        "/files/../../../../etc/passwd",
        "/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/files/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/files/data/../../preds/../../etc/passwd",
        "/files//etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/files/..%5c..%5cetc%5cpasswd",
        "/files/manifest.json%00.png",
        "/static/../server.py",
        "/static/%2e%2e/server.py",
        "/static/%2e%2e%2f__init__.py",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/etc/passwd",
    ],
)
def test_paths_outside_the_run_are_404(live_server, path):
    assert _raw_get(live_server, path) == 404


def test_symlink_out_of_the_run_is_404(client, demo_run, tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    link = demo_run / "eval" / "link.txt"
    link.symlink_to(tmp_path / "secret.txt")
    try:
        assert client.get("/files/eval/link.txt").status_code == 404
    finally:
        link.unlink()


def test_lru_evicts_least_recent():
    cache = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_sprite_sheet_tiles_row_major():
    images = np.arange(12, dtype=np.uint8)[:, None, None] * np.ones((1, 4, 3), np.uint8)
    sheet = np.asarray(Image.open(io.BytesIO(sprite_sheet(images, columns=5))))
    assert sheet.shape == (12, 15)
    assert sheet[4, 3] == 6 and sheet[8, 3] == 11 and sheet[8, 14] == 0


def test_explorer_refuses_a_non_run(tmp_path):
    with pytest.raises(MnistlabError, match="no such run"):
        create_app(tmp_path / "missing")
    with pytest.raises(MnistlabError, match="no predictions"):
        create_app(tmp_path)


def test_warm_regenerates_every_variant(demo_run, monkeypatch):
    from mnistlab.app.server import Explorer

    ex = Explorer(demo_run)
    seen = []
    monkeypatch.setattr(ex, "images", lambda variant, ids: seen.append(variant))
    ex.warm().join(timeout=30)
    assert seen == ex.variants and len(seen) == 5
    ex.close()
