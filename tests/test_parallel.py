"""Executors, resumable chunked jobs, and a Dask LocalCluster giving the local bytes."""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnistlab import parallel
from mnistlab._atomic import atomic_path
from mnistlab.errors import MnistlabError
from mnistlab.parallel import (
    ChunkError,
    Execution,
    checkpoint_dir_for,
    chunk_bounds,
    iter_tasks,
    map_chunks,
    map_tasks,
    remove_checkpoints,
)

# Cheap ones (a first call of some corruptions builds kernels for seconds in every process).
PREFERRED = ("fog", "shot_noise", "spatter", "impulse_noise", "gaussian_noise")


def _corruptions() -> list[str]:
    from mnistlab.corrupt import names

    found = [n for n in PREFERRED if n in names()]
    assert found, f"none of {PREFERRED} is registered"
    return found[:2]


# Module-level task functions: process and Dask workers import (or receive) them.


def _square(x: int) -> int:
    return x * x


def _corrupt_chunk(images: np.ndarray, ids: np.ndarray, name: str, seed: int) -> np.ndarray:
    from mnistlab.corrupt import corrupt

    return corrupt(images, name, severity=3, seed=seed, sample_ids=ids)


def _counted(ids: np.ndarray, x: np.ndarray, counter: str) -> np.ndarray:
    """Record each call in ``counter``; fail as ``fail.txt`` beside it says ("20 exit")."""
    start = int(ids[0])
    control = Path(counter).with_name("fail.txt")
    if control.is_file():
        fail_at, mode = control.read_text().split()
        if start == int(fail_at):
            if mode == "exit":
                os._exit(1)
            raise ValueError(f"bad chunk at {start}")
    time.sleep(0.05)
    Path(counter, f"{start}-{uuid.uuid4().hex}").touch()
    return x.astype(np.int64) * 2


def _calls(counter: Path) -> dict[int, int]:
    out: dict[int, int] = {}
    for p in counter.iterdir():
        start = int(p.name.split("-")[0])
        out[start] = out.get(start, 0) + 1
    return out


def _job(out: Path, x: np.ndarray, counter: Path, fail_at: int, mode: str, **kw: Any) -> None:
    """How a command uses map_chunks: final output written only after every chunk."""
    control = counter.with_name("fail.txt")
    control.write_text(f"{fail_at} {mode}")
    ckpt = checkpoint_dir_for(out)
    parts = map_chunks(
        _counted,
        len(x),
        Execution(chunk_size=10, **kw),
        arrays=(np.arange(len(x)), x),
        args=(str(counter),),
        checkpoint_dir=ckpt,
        job_key={"job": "double", "n": len(x)},
    )
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.save(fh, np.concatenate(parts))
    remove_checkpoints(ckpt)


# --------------------------------------------------------------------------- basics


def test_chunk_bounds_cover_every_sample() -> None:
    assert chunk_bounds(0, 3) == []
    bounds = chunk_bounds(10, 3)
    assert bounds == [(0, 3), (3, 6), (6, 9), (9, 10)]
    with pytest.raises(MnistlabError, match="chunk_size"):
        chunk_bounds(10, 0)


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_map_tasks_keeps_task_order(executor: str) -> None:
    tasks = [(i,) for i in range(7)]
    assert map_tasks(_square, tasks, executor=executor, workers=2) == [i * i for i in range(7)]
    assert list(iter_tasks(_square, tasks, executor=executor, workers=2)) == [
        i * i for i in range(7)
    ]


def test_bad_parameters_name_the_value(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="'threads'"):
        map_tasks(_square, [(1,)], executor="threads")
    with pytest.raises(MnistlabError, match="workers must be at least 1, got 0"):
        map_tasks(_square, [(1,)], workers=0)
    with pytest.raises(MnistlabError, match="labels has 1 entries for 2 tasks"):
        map_tasks(_square, [(1,), (2,)], labels=["a"])
    with pytest.raises(MnistlabError, match=r"arrays\[0\] has 3 rows, expected n_items=4"):
        map_chunks(_counted, 4, arrays=(np.zeros(3),))
    with pytest.raises(MnistlabError, match="n_items must be"):
        map_chunks(_counted, -1)
    with pytest.raises(MnistlabError, match="chunk_size must be at least 1, got 0"):
        Execution(chunk_size=0)
    with pytest.raises(MnistlabError, match="'threads'"):
        Execution("threads")
    with (
        pytest.raises(MnistlabError, match="workers must be at least 1"),
        parallel.dask_session(workers=0),
    ):
        pass


def test_chunked_corruption_equals_one_call(fashion_small: np.ndarray) -> None:
    from mnistlab.corrupt import corrupt

    for name in _corruptions():
        whole = corrupt(fashion_small, name, severity=3, seed=7)
        parts = map_chunks(
            _corrupt_chunk,
            100,
            Execution(workers=2, chunk_size=30),
            arrays=(fashion_small, np.arange(100)),
            args=(name, 7),
        )
        assert np.array_equal(np.concatenate(parts), whole)


def test_checkpoint_dir_helpers(tmp_path: Path) -> None:
    assert checkpoint_dir_for(tmp_path / "x.parquet") == tmp_path / ".x.parquet.chunks"
    ckpt = tmp_path / "ck"
    map_tasks(_square, [(2,), (3,)], executor="serial", checkpoint_dir=ckpt, job_key="sq")
    assert len(list(ckpt.glob("task-*.pkl"))) == 2
    (ckpt / "notes.txt").write_text("mine")
    remove_checkpoints(ckpt)
    assert [p.name for p in ckpt.iterdir()] == ["notes.txt"]  # only our files go
    (ckpt / "notes.txt").unlink()
    remove_checkpoints(ckpt)
    assert not ckpt.exists()
    remove_checkpoints(ckpt)  # nothing there: no error


# --------------------------------------------------------------------------- resume (local)


@pytest.mark.parametrize("mode", ["raise", "exit"])
def test_failed_chunk_leaves_no_output_and_resumes(tmp_path: Path, mode: str) -> None:
    x = np.arange(60)
    out, counter = tmp_path / "out.npy", tmp_path / "calls"
    counter.mkdir()
    with pytest.raises(ChunkError) as info:
        _job(out, x, counter, 20, mode, workers=2)
    err = info.value
    assert err.index == 2 and err.label == "samples 20..29"
    assert "chunk 2 of 6 (samples 20..29) failed" in str(err)
    assert ("ValueError: bad chunk at 20" if mode == "raise" else "worker process died") in str(err)
    assert "run the same command again to resume" in str(err)
    assert not out.exists()
    first = _calls(counter)
    assert first and 20 not in first
    assert len(list(checkpoint_dir_for(out).glob("task-*.pkl"))) == len(first)

    _job(out, x, counter, -1, mode, workers=2)
    assert np.array_equal(np.load(out), x * 2)
    calls = _calls(counter)
    assert set(calls) == {0, 10, 20, 30, 40, 50}
    assert all(n == 1 for n in calls.values()), calls  # finished chunks were not recomputed
    assert not checkpoint_dir_for(out).exists()


def test_serial_failure_keeps_earlier_chunks(tmp_path: Path) -> None:
    x = np.arange(40)
    out, counter = tmp_path / "out.npy", tmp_path / "calls"
    counter.mkdir()
    with pytest.raises(ChunkError, match=r"chunk 3 of 4 \(samples 30\.\.39\)"):
        _job(out, x, counter, 30, "raise", executor="serial")
    assert set(_calls(counter)) == {0, 10, 20}
    _job(out, x, counter, -1, "raise", executor="serial")
    assert np.array_equal(np.load(out), x * 2)
    assert all(n == 1 for n in _calls(counter).values())


def test_other_job_key_or_input_does_not_reuse_chunks(tmp_path: Path) -> None:
    ckpt = tmp_path / "ck"
    assert map_tasks(_square, [(2,), (3,)], checkpoint_dir=ckpt, job_key="a") == [4, 9]
    assert map_tasks(_square, [(2,), (3,)], checkpoint_dir=ckpt, job_key="b") == [4, 9]
    assert map_tasks(_square, [(5,), (3,)], checkpoint_dir=ckpt, job_key="a") == [25, 9]
    assert len(list(ckpt.glob("task-00000-*"))) == 3
    assert len(list(ckpt.glob("task-00001-*"))) == 2  # same job, same input: reused


def test_unreadable_chunk_file_is_recomputed(tmp_path: Path) -> None:
    ckpt = tmp_path / "ck"
    map_tasks(_square, [(2,), (3,)], executor="serial", checkpoint_dir=ckpt, job_key=1)
    first = sorted(ckpt.glob("task-*.pkl"))[0]
    first.write_bytes(b"not a pickle")
    assert map_tasks(_square, [(2,), (3,)], executor="serial", checkpoint_dir=ckpt, job_key=1) == [
        4,
        9,
    ]
    assert first.read_bytes() != b"not a pickle"


def test_task_error_is_one_line_mnistlab_error(tmp_path: Path) -> None:
    counter = tmp_path / "calls"
    counter.with_name("fail.txt").write_text("0 raise")
    with pytest.raises(ChunkError) as info:
        map_tasks(_counted, [(np.arange(1), np.zeros(1), str(counter))], executor="serial")
    assert isinstance(info.value, MnistlabError)
    assert str(info.value) == "chunk 0 of 1 failed: ValueError: bad chunk at 0"
    assert isinstance(info.value.__cause__, ValueError)


# --------------------------------------------------------------------------- Dask


@pytest.fixture(scope="session")
def cluster() -> Any:
    """One LocalCluster with 2 workers, started once (the dask tests share an xdist group).

    A task fails after its second dead worker (dask's default: 3): the tasks queued on a dying
    worker are retried once, the one that kills every worker it runs on is not.
    """
    pytest.importorskip("distributed")
    import cloudpickle
    import dask
    import distributed

    # Dask workers unpickle the task functions: send this test module's by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    from mnistlab.parallel.dask_backend import cluster_config, worker_env

    # mnistlab's cluster settings (no worker environment leaking into this process).
    with dask.config.set({**cluster_config(), "distributed.scheduler.allowed-failures": 1}):
        lc = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            env=worker_env(),
            dashboard_address="127.0.0.1:0",
        )
    yield lc
    lc.close()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.mark.slow
@pytest.mark.xdist_group("dask-cluster")  # one LocalCluster, on one xdist worker
def test_dask_generate_is_byte_identical_to_local(
    cluster: Any, fashion_test: Any, tmp_path: Path
) -> None:
    generate = pytest.importorskip("mnistlab.corrupt.generate").generate
    data = {"test": fashion_test[:60]}
    kw: dict[str, Any] = {"layout": "fmnist-c", "corruptions": _corruptions(), "seed": 4}
    local = generate(data, tmp_path / "local", execution=Execution(workers=2, chunk_size=25), **kw)
    dask = generate(
        data,
        tmp_path / "dask",
        execution=Execution("dask", scheduler=cluster.scheduler_address, chunk_size=20),
        **kw,
    )
    files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(dask) for p in dask.rglob("*") if p.is_file())
    assert len(files) >= 3
    for f in files:
        assert (local / f).read_bytes() == (dask / f).read_bytes(), f


@pytest.mark.slow
@pytest.mark.xdist_group("dask-cluster")  # one LocalCluster, on one xdist worker
def test_dask_measure_and_perturb_are_byte_identical_to_local(
    cluster: Any, mnist_test: Any
) -> None:
    morpho = pytest.importorskip("mnistlab.morpho")
    images = np.ascontiguousarray(mnist_test.images[:24])
    local_job = Execution(workers=2, chunk_size=8)
    local = morpho.measure(images, execution=local_job)
    local_pert = morpho.perturb(images, "global", seed=2, execution=local_job)
    # An execution without a scheduler: a dask_session routes the tasks to the cluster.
    dask_job = Execution("dask", chunk_size=12)
    with parallel.dask_session(scheduler=cluster.scheduler_address):
        dask = morpho.measure(images, execution=dask_job)
        dask_pert = morpho.perturb(images, "global", seed=2, execution=dask_job)
    assert len(local) == 24
    assert local.to_numpy().tobytes() == dask.to_numpy().tobytes()
    assert local_pert[0].tobytes() == dask_pert[0].tobytes()
    assert np.array_equal(local_pert[1], dask_pert[1]) and len(set(local_pert[1])) > 1


@pytest.mark.slow
@pytest.mark.xdist_group("dask-cluster")  # one LocalCluster, on one xdist worker
@pytest.mark.parametrize("mode", ["raise", "exit"])
def test_dask_failed_chunk_resumes(cluster: Any, tmp_path: Path, mode: str) -> None:
    x = np.arange(50)
    out, counter = tmp_path / "out.npy", tmp_path / "calls"
    counter.mkdir()
    kw = {"executor": "dask", "scheduler": cluster.scheduler_address}
    with pytest.raises(ChunkError) as info:
        _job(out, x, counter, 30, mode, **kw)
    assert info.value.index == 3 and info.value.label == "samples 30..39"
    assert ("bad chunk at 30" if mode == "raise" else "Dask worker died") in str(info.value)
    assert not out.exists()
    time.sleep(0.5)  # a cancelled task already running on a worker still ends (50 ms)
    first = _calls(counter)
    assert 30 not in first
    ckpt = checkpoint_dir_for(out)
    saved = {int(p.name[5:10]) * 10 for p in ckpt.glob("task-*.pkl")}
    # A worker's death can lose results held in its memory; dask recomputes them, so a chunk
    # may run twice in the failed run. Every chunk that reached the driver was saved.
    assert saved and saved <= set(first)
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts a killed worker
    _job(out, x, counter, -1, mode, **kw)
    assert np.array_equal(np.load(out), x * 2)
    calls = _calls(counter)
    rerun = {s for s in calls if calls[s] > first.get(s, 0)}
    assert rerun == {0, 10, 20, 30, 40} - saved  # the saved chunks were not recomputed
    assert all(calls[s] == first.get(s, 0) + 1 for s in rerun)


@pytest.mark.slow
@pytest.mark.xdist_group("dask-cluster")  # one LocalCluster, on one xdist worker
def test_dask_session_and_own_cluster(cluster: Any) -> None:
    with parallel.dask_session(scheduler=cluster.scheduler_address) as client:
        a = map_tasks(_square, [(2,), (3,)], executor="dask")
        b = map_tasks(_square, [(4,)], executor="dask")
        assert client.status == "running"
    assert client.status == "closed"
    assert a == [4, 9] and b == [16]
    # Without a session or scheduler, the call starts (and stops) its own LocalCluster.
    assert map_tasks(_square, [(3,), (5,)], executor="dask", workers=1) == [9, 25]


@pytest.mark.slow
@pytest.mark.xdist_group("dask-cluster")  # one LocalCluster, on one xdist worker
def test_dask_scheduler_errors(cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import dask

    import mnistlab

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(
            MnistlabError, match=r"cannot reach the Dask scheduler 'tcp://127\.0\.0\.1:9'"
        ),
    ):
        map_tasks(_square, [(1,)], executor="dask", scheduler="tcp://127.0.0.1:9")
    monkeypatch.setattr(mnistlab, "__version__", "0.0.0-test")
    with pytest.raises(MnistlabError, match=r"runs mnistlab .* this client 0\.0\.0-test"):
        map_tasks(_square, [(1,)], executor="dask", scheduler=cluster.scheduler_address)


def _call(fn: Any) -> Any:
    return fn()


def _bad_input(x: int) -> int:
    if x == 1:
        raise MnistlabError(f"image {x} is empty")
    return x


def test_unpicklable_args_still_checkpoint_and_errors_keep_their_line(tmp_path: Path) -> None:
    ckpt = tmp_path / "ck"
    # A lambda cannot be pickled: its digest falls back to repr (serial executor only).
    assert map_tasks(_call, [(lambda: 7,)], executor="serial", checkpoint_dir=ckpt) == [7]
    assert len(list(ckpt.glob("task-*.pkl"))) == 1
    with pytest.raises(ChunkError, match=r"^chunk 1 of 2 \(b\) failed: image 1 is empty$"):
        map_tasks(_bad_input, [(0,), (1,)], executor="serial", labels=["a", "b"])


def test_map_chunks_lazy_gives_the_same_results_in_order() -> None:
    x = np.arange(23)
    job = Execution(workers=2, chunk_size=5)
    lazy = map_chunks(_double, len(x), job, arrays=(x,), lazy=True)
    assert not isinstance(lazy, list)
    assert [len(p) for p in lazy] == [5, 5, 5, 5, 3]
    parts = map_chunks(_double, len(x), job, arrays=(x,))
    assert np.array_equal(np.concatenate(parts), x * 2)
    assert map_chunks(_double, 0, job, arrays=(x[:0],)) == []


def test_map_chunks_names_the_chunk_with_the_label() -> None:
    with pytest.raises(ChunkError, match=r"chunk 1 of 2 \(test samples 2\.\.3\) failed"):
        map_chunks(
            _fail_second,
            4,
            Execution("serial"),
            arrays=(np.arange(4),),
            chunk_size=2,
            label="test samples",
        )


def _double(x: np.ndarray) -> np.ndarray:
    return x * 2


def _fail_second(ids: np.ndarray) -> int:
    if ids[0] == 2:
        raise ValueError("second chunk")
    return int(ids[0])


@pytest.mark.slow
def test_a_local_dask_cluster_leaves_this_process_environment_alone() -> None:
    """distributed sets its workers' OMP_NUM_THREADS=1 in the parent's os.environ; left
    there, training after a dask job would run on one thread and give other numbers."""
    pytest.importorskip("distributed")
    from mnistlab.parallel import local_cluster

    before = dict(os.environ)
    cluster = local_cluster(1)
    try:
        assert dict(os.environ) == before
        from distributed import Client

        with Client(cluster) as client:  # the workers still get one thread each
            env = client.submit(lambda: os.environ.get("OMP_NUM_THREADS")).result()
        assert env == "1"
    finally:
        cluster.close()


def test_dask_executor_runs_inside_one_session(monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib

    from mnistlab.execution import Execution
    from mnistlab.parallel import dask_backend, execution_session

    opened: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        dask_backend,
        "dask_session",
        lambda scheduler, workers: opened.append((scheduler, workers)) or contextlib.nullcontext(),
    )
    with execution_session(Execution("local", 2)):
        pass
    assert opened == []
    with execution_session(Execution("dask", 3, "tcp://10.0.0.5:8786")):
        pass
    assert opened == [("tcp://10.0.0.5:8786", 3)]
