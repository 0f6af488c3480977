"""Explorer and report benchmark.

1. A gallery page of 100 thumbnails over a 70,000-row run (10,000 Fashion-MNIST test images x
   7 variants), cold (never requested: DuckDB query + sprite sheet encode) and cached, against
   a naive explorer that encodes one PNG per thumbnail request.
2. The size of report.html for a full-size synthetic study (10,000 samples x 15 corruptions x
   5 severities = 760,000 prediction rows); the budget is 25 MB.

Runs the explorer with uvicorn on 127.0.0.1 and measures over HTTP with httpx.
``--quick`` uses 2,000 samples and 5 corruptions.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mnistlab.corrupt import names, registry

# Cheap stand-in corruptions, so the benchmark measures the explorer rather than a corruption.
BENCH = [f"bench_{i:02d}" for i in range(15)]


def _register() -> list[str]:
    def shift(x, level, ctx):
        return np.roll(x, int(level), axis=2)

    def noise(x, level, ctx):
        return x + level * (ctx.uniform(x.shape[1:]) - 0.5)

    for i, name in enumerate(BENCH):
        if name not in names():
            fn = shift if i % 2 else noise
            levels = (1, 2, 3, 4, 5) if i % 2 else (0.2, 0.4, 0.6, 0.8, 1.0)
            registry.register(
                registry.Corruption(name, "noise" if i % 2 == 0 else "affine", fn, levels)
            )
    return BENCH


def _serve(run: Path):
    import uvicorn

    from mnistlab.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(run), host="127.0.0.1", port=port, log_level="error")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _synthetic_run(
    out: Path, n: int, n_corruptions: int, severities: Sequence[int]
) -> tuple[Path, list[str], float]:
    """A demo run of the first ``n`` Fashion-MNIST test images, clean and ``n_corruptions``
    stand-in corruptions at ``severities``; returns it, its variants and the seconds it took."""
    from mnistlab.data import load
    from mnistlab.workflows.demo import make_demo_run

    ds = load("fashion-mnist", split="test", download=False)
    corruptions = _register()[:n_corruptions]
    variants = ["clean"] + [f"{c}-s{s}" for c in corruptions for s in severities]
    t0 = time.perf_counter()
    run = make_demo_run(
        out, ds.images[:n], ds.labels[:n], ds.class_names, variants=variants, embeddings=("pca",)
    )
    return run, variants, time.perf_counter() - t0


def bench_gallery(tmp: Path, n: int, repeats: int) -> None:
    import httpx

    run, variants, built = _synthetic_run(tmp / "gallery", n, 3, (1, 4))
    rows = n * len(variants)
    print(
        f"synthetic run: {rows:,} rows ({n:,} samples x {len(variants)} variants) "
        f"built in {built:.1f} s"
    )
    server, base = _serve(run)
    client = httpx.Client(base_url=base, timeout=60)
    client.get("/api/meta").raise_for_status()
    rng = np.random.default_rng(0)
    sorts = ["entropy", "gini", "margin", "least_confidence", "area", "thickness"]
    pages = [
        (
            {
                "sort": sorts[i % len(sorts)],
                "order": "desc" if i % 2 else "asc",
                "page": int(rng.integers(0, rows // 100)),
            }
        )
        for i in range(repeats)
    ]

    def fetch(params):
        start = time.perf_counter()
        page = client.get("/api/page", params=params).json()
        client.get(page["sprite"]).raise_for_status()
        return time.perf_counter() - start, page

    cold, cached, naive = [], [], []
    for params in pages:
        dt, page = fetch(params)
        cold.append(dt)
        dt, _ = fetch(params)
        cached.append(dt)
        start = time.perf_counter()
        client.get("/api/page", params=params).raise_for_status()
        for it in page["items"]:
            client.get(f"/api/image/{it['variant']}/{it['sample_id']}.png").raise_for_status()
        naive.append(time.perf_counter() - start)
    server.should_exit = True

    def show(name, times):
        ms = 1000 * statistics.median(times)
        print(
            f"  {name:<34} median {ms:7.1f} ms  max {1000 * max(times):7.1f} ms  "
            f"({100 / statistics.median(times):,.0f} thumbnails/s)"
        )

    print(f"gallery page of 100 thumbnails over {rows:,} rows ({repeats} pages; target < 200 ms):")
    show("cold (query + sprite encode)", cold)
    show("cached", cached)
    show("naive (one PNG per thumbnail)", naive)
    print(
        f"  ratio naive / sprite: cold {statistics.median(naive) / statistics.median(cold):.1f}x, "
        f"cached {statistics.median(naive) / statistics.median(cached):.1f}x"
    )


def bench_report(tmp: Path, n: int, n_corruptions: int) -> None:
    from mnistlab.report import write_report

    run, variants, built = _synthetic_run(tmp / "study", n, n_corruptions, range(1, 6))
    t0 = time.perf_counter()
    path = write_report(run)
    took = time.perf_counter() - t0
    mb = path.stat().st_size / 1e6
    print(
        f"report: {n:,} samples x {len(variants)} variants ({n * len(variants):,} rows; "
        f"run built in {built:.0f} s): {mb:.2f} MB in {took:.1f} s "
        f"(budget 25 MB: {'ok' if mb < 25 else 'OVER'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    n = 2000 if args.quick else 10000
    with tempfile.TemporaryDirectory() as tmp:
        bench_gallery(Path(tmp), n, 8 if args.quick else 20)
        bench_report(Path(tmp), n, 5 if args.quick else 15)
    print(f"load average {os.getloadavg()[0]:.1f} at the end (the machine may be shared)")


if __name__ == "__main__":
    main()
