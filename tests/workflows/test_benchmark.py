from __future__ import annotations

import json

import pytest

from mnistlab.errors import MnistlabError
from mnistlab.workflows.benchmark import run_benchmark

GRID = {"logreg": [{"C": 0.1, "max_iter": 30}], "knn": [{"n_neighbors": 3}, {"n_neighbors": 7}]}


def test_benchmark_ranks_and_caches(tmp_path, fashion_dir):
    lines: list[str] = []
    table = run_benchmark(
        str(fashion_dir), tmp_path, grid=GRID, train_size=500, test_size=200, log=lines.append
    )
    assert len(table) == 3 and list(table["rank"]) == [1, 2, 3]
    assert table["accuracy"].is_monotonic_decreasing and (table["accuracy"] > 0.5).all()
    rows = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and rows[0]["train_size"] == 500 and "train_seconds" in rows[0]
    assert (tmp_path / "results.md").read_text().startswith("# Benchmark")
    assert (tmp_path / "results.png").stat().st_size > 1000
    lines.clear()
    again = run_benchmark(
        str(fashion_dir),
        tmp_path,
        grid=GRID,
        train_size=500,
        test_size=200,
        log=lines.append,
        models=["knn"],
    )
    assert len(again) == 2 and all("cached" in x for x in lines)
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 3


def test_benchmark_errors(tmp_path, fashion_dir):
    with pytest.raises(MnistlabError, match="unknown benchmark classifier"):
        run_benchmark(str(fashion_dir), tmp_path, models=["xgb"])
    (tmp_path / "results.jsonl").write_text("{oops\n")
    with pytest.raises(MnistlabError, match=r"results\.jsonl:1: not a JSON line"):
        run_benchmark(str(fashion_dir), tmp_path, grid=GRID)
