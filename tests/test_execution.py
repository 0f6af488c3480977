"""One worker pool per job; workers that use one thread and die with their parent; stale
temporary folders of a crashed run removed by the next one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mnistlab._atomic import atomic_dir, remove_stale_parts
from mnistlab.execution import current_execution, execution
from mnistlab.parallel import ChunkError, iter_tasks, map_tasks

# Module-level task functions: the workers import them.


def _pid(x: int) -> tuple[int, int]:
    return x, os.getpid()


def _threads(_: int) -> tuple[str | None, list[int]]:
    from threadpoolctl import threadpool_info

    return os.environ.get("OMP_NUM_THREADS"), [p["num_threads"] for p in threadpool_info()]


def _fail_on(x: int, bad: int, mode: str) -> int:
    if x == bad:
        if mode == "exit":
            os._exit(3)
        raise ValueError(f"bad {x}")
    return x + 1


def test_one_pool_serves_every_call_of_a_job() -> None:
    with execution(workers=2) as job:
        assert current_execution() is job
        first = map_tasks(_pid, [(i,) for i in range(6)])
        second = map_tasks(_pid, [(i,) for i in range(3)])
        # An inner block (generate() called by the study) shares the outer block's pool.
        with execution(workers=2) as inner:
            third = list(iter_tasks(_pid, [(i,) for i in range(4)]))
        assert inner.pools_started == job.pools_started == 1
        pids = {p for _, p in first} | {p for _, p in second} | {p for _, p in third}
    assert [x for x, _ in first] == list(range(6))
    assert [x for x, _ in third] == list(range(4))
    assert os.getpid() not in pids
    assert len(pids) <= 2  # the same two processes ran all 13 tasks
    assert current_execution() is None
    for pid in pids:  # the block's end stopped them
        assert not _running(pid)


def test_without_a_job_each_call_has_its_own_pool() -> None:
    a = {p for _, p in map_tasks(_pid, [(1,), (2,)], workers=2)}
    b = {p for _, p in map_tasks(_pid, [(1,), (2,)], workers=2)}
    assert not a & b


def test_workers_use_one_thread_each() -> None:
    with execution(workers=2):
        for env, counts in map_tasks(_threads, [(0,), (1,)]):
            assert env == "1"
            assert counts and all(n == 1 for n in counts)


def test_a_failed_step_leaves_the_job_usable() -> None:
    with execution(workers=2) as job:
        with pytest.raises(ChunkError, match=r"chunk 2 of 4 failed: ValueError: bad 2"):
            map_tasks(_fail_on, [(i, 2, "raise") for i in range(4)])
        assert map_tasks(_fail_on, [(i, -1, "raise") for i in range(3)]) == [1, 2, 3]
        assert job.pools_started == 1
        with pytest.raises(ChunkError, match="its worker process died"):
            map_tasks(_fail_on, [(i, 1, "exit") for i in range(4)])
        # The broken pool is replaced by a fresh one for the next step.
        assert map_tasks(_fail_on, [(i, -1, "exit") for i in range(3)]) == [1, 2, 3]
        assert job.pools_started == 2


def test_execution_checks_its_arguments() -> None:
    from mnistlab.errors import MnistlabError

    with pytest.raises(MnistlabError, match="unknown executor"), execution("threads"):
        pass
    with pytest.raises(MnistlabError, match="workers must be at least 1"), execution(workers=0):
        pass


# --------------------------------------------------------------------------- orphans


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out |= {int(c) for c in (task / "children").read_text().split()}
    return out


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's PID 1 may never reap what it adopts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_kill_9_of_mnistlab_leaves_no_worker(mnist_dir: Path, tmp_path: Path) -> None:
    argv = ["measure", str(mnist_dir), "--split", "train", "--workers", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mnistlab", *argv, "--out", str(tmp_path / "m.csv")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            # The pool's processes (the resource tracker, if any, is a child too).
            workers = {c for c in _children(proc.pid) if _running(c)}
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert proc.poll() is None and len(workers) >= 2, "the workers never started"
        time.sleep(0.5)  # the workers are computing
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_running(c) for c in workers):
            time.sleep(0.05)
        alive = [c for c in workers if _running(c)]
        assert not alive, f"workers {alive} outlived their parent"
        assert not (tmp_path / "m.csv").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in workers:
            if _running(c):
                os.kill(c, signal.SIGKILL)


# --------------------------------------------------------------------------- stale parts

_CRASH = """
import os, sys
from mnistlab._atomic import atomic_dir
with atomic_dir(sys.argv[1]) as tmp:
    (tmp / "half.bin").write_bytes(bytes(1_000_000))
    os.kill(os.getpid(), 9)
"""


def test_next_run_removes_a_crashed_runs_part_folder(tmp_path: Path) -> None:
    out = tmp_path / "OUT"
    crashed = subprocess.run([sys.executable, "-c", _CRASH, str(out)], check=False)
    assert crashed.returncode == -signal.SIGKILL
    parts = list(tmp_path.glob(".OUT.*.part"))
    assert len(parts) == 1 and (parts[0] / "half.bin").stat().st_size == 1_000_000
    # A live writer's temporary folder (this process's) is never touched.
    mine = tmp_path / f".OUT.{os.getpid()}-mine.part"
    mine.mkdir()
    with atomic_dir(out) as tmp:
        (tmp / "data.npy").write_bytes(np.arange(3).tobytes())
    assert (out / "data.npy").read_bytes() == np.arange(3).tobytes()
    assert sorted(p.name for p in tmp_path.glob(".OUT.*")) == [mine.name]
    assert remove_stale_parts(out) == []


def test_a_pool_started_from_a_thread_outlives_the_thread() -> None:
    # The kernel's parent-death signal follows the forking *thread*: a pool started by a
    # helper thread uses the watchdog instead, so its workers survive the thread's end.
    import threading

    with execution(workers=2) as job:
        got: list[list[tuple[int, int]]] = []
        t = threading.Thread(target=lambda: got.append(map_tasks(_pid, [(1,), (2,)])))
        t.start()
        t.join()
        time.sleep(0.5)
        assert all(_running(p) for _, p in got[0])
        again = map_tasks(_pid, [(3,), (4,)])
        assert job.pools_started == 1
    assert [x for x, _ in got[0]] == [1, 2] and [x for x, _ in again] == [3, 4]


HEAVY = (
    "mnistlab.morpho.measure:measure",
    "mnistlab.morpho.datasets:perturb",
    "mnistlab.morpho.datasets:write_dataset",
    "mnistlab.corrupt.generate:generate",
    "mnistlab.models.predict:variant_logits",
    "mnistlab.models.predict:predict_variant_arrow",
    "mnistlab.models.predict:predict_variant",
    "mnistlab.models.predict:iter_predictions",
    "mnistlab.models.predict:predict_table",
    "mnistlab.workflows.fmnist_c:fmnist_c_prioritization",
    "mnistlab.workflows.morpho:measure_dataset",
    "mnistlab.workflows.morpho:perturb_dataset",
)


@pytest.mark.parametrize("target", HEAVY)
def test_heavy_functions_take_one_execution(target: str) -> None:
    """Science parameters plus one ``execution``: no separate executor, workers... keywords."""
    import importlib
    import inspect

    module, name = target.split(":")
    params = inspect.signature(getattr(importlib.import_module(module), name)).parameters
    assert "execution" in params
    if module != "mnistlab.workflows.morpho":  # the commands pass it by position there
        assert params["execution"].kind is inspect.Parameter.KEYWORD_ONLY
    shortcuts = {"workers", "executor", "scheduler", "chunk_size", "checkpoint", "progress"}
    assert not shortcuts & set(params), sorted(shortcuts & set(params))
