"""Thread choice: the affinity mask, the cgroup quota, OMP_NUM_THREADS, side-by-side processes."""

from __future__ import annotations

import pytest

from mnistlab import threads
from mnistlab.errors import MnistlabError


def test_threads_follow_the_affinity_mask(machine, monkeypatch):
    assert threads.choose_threads() == 8
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert threads.choose_threads() == 1


@pytest.mark.parametrize(
    ("cpu_max", "expected"), [("max 100000", 8), ("200000 100000", 2), ("150000 100000", 2)]
)
def test_threads_honour_the_cgroup_v2_quota(machine, cpu_max, expected):
    (machine / "cpu.max").write_text(cpu_max + "\n")
    assert threads.choose_threads() == expected


def test_threads_honour_the_cgroup_v1_quota(machine):
    (machine / "cpu").mkdir()
    (machine / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    (machine / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert threads.cgroup_cpu_quota() == pytest.approx(3.0)
    assert threads.choose_threads() == 3
    (machine / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # unlimited
    assert threads.choose_threads() == 8


def test_workers_never_oversubscribe(machine, monkeypatch):
    # Side by side processes share the CPUs; a pool worker (OMP_NUM_THREADS=1) gets one.
    assert threads.choose_threads(parallel=3) == 2
    assert threads.choose_threads(parallel=20) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.choose_threads() == 1
    assert threads.choose_threads(4) == 4  # an explicit choice wins
    with pytest.raises(MnistlabError, match="threads"):
        threads.choose_threads(0)
    with pytest.raises(MnistlabError, match="parallel"):
        threads.choose_threads(parallel=0)
