"""How many compute threads a job uses: the CPUs this process may use, never more.

One place decides the intra-op threads of PyTorch and onnxruntime (training, prediction,
features: :mod:`mnistlab.models` applies it) and of the other threaded kernels (the kNN of
:func:`mnistlab.scores.uniqueness`):

- the CPUs of the process's affinity mask (``os.sched_getaffinity``: ``taskset``, cpusets,
  ``docker --cpuset-cpus``), capped by the cgroup CPU quota (``/sys/fs/cgroup/cpu.max``,
  cgroup v2, or ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, cgroup v1: ``docker --cpus``,
  Kubernetes limits), rounded up;
- capped by ``OMP_NUM_THREADS`` when it is set: a worker process of
  :mod:`mnistlab.execution` sets it to 1, so ``n`` workers use ``n`` threads in all;
- divided among ``parallel`` processes when the caller runs that many side by side.

Waiting threads sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``, set by
``import mnistlab`` unless already set, and onnxruntime sessions without spinning): on a
machine shared with other busy processes a spinning OpenMP thread burns the core its
descheduled partner needs, and 2-thread training at load 8 ran 7-9x slower than with
passive waits (97 vs 905 images/s in the same minute). The thread count never depends on
the machine's load, so the same machine and quota always give the same arithmetic.

Examples
--------
>>> n = choose_threads()
>>> 1 <= n <= (os.cpu_count() or 1)
True
>>> choose_threads(3)
3
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from mnistlab.errors import MnistlabError

__all__ = [
    "affinity_cpus",
    "available_cpus",
    "cgroup_cpu_quota",
    "choose_threads",
]

CGROUP_ROOT = Path("/sys/fs/cgroup")


def affinity_cpus() -> int:
    """Number of CPUs in this process's affinity mask (``os.cpu_count()`` off Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_cpu_quota(root: Path | None = None) -> float | None:
    """The cgroup CPU quota in CPUs (``2.5`` for ``250000 100000``), or ``None`` if unlimited.

    Reads ``cpu.max`` (cgroup v2) or ``cpu/cpu.cfs_quota_us`` and ``cpu/cpu.cfs_period_us``
    (cgroup v1) under ``root`` (default ``/sys/fs/cgroup``).

    Examples
    --------
    >>> q = cgroup_cpu_quota()
    >>> q is None or q > 0
    True
    """
    base = CGROUP_ROOT if root is None else Path(root)
    v2 = _read(base / "cpu.max")
    if v2 is not None:
        parts = v2.split()
        if len(parts) == 2 and parts[0] != "max":
            try:
                quota, period = float(parts[0]), float(parts[1])
            except ValueError:
                return None
            return quota / period if quota > 0 and period > 0 else None
        return None
    for folder in (base / "cpu", base / "cpu,cpuacct", base):
        quota_s = _read(folder / "cpu.cfs_quota_us")
        period_s = _read(folder / "cpu.cfs_period_us")
        if quota_s is None or period_s is None:
            continue
        try:
            quota, period = float(quota_s), float(period_s)
        except ValueError:
            return None
        return quota / period if quota > 0 and period > 0 else None
    return None


def available_cpus() -> int:
    """CPUs this process may use: its affinity mask capped by the cgroup quota (rounded up).

    Examples
    --------
    >>> available_cpus() <= affinity_cpus()
    True
    """
    cpus = affinity_cpus()
    quota = cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota - 1e-9)))
    return max(1, cpus)


def _env_threads() -> int | None:
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n >= 1 else None


def choose_threads(requested: int | None = None, *, parallel: int = 1) -> int:
    """Intra-op threads for one model: ``requested``, else the CPUs this process may use.

    Parameters
    ----------
    requested : int, optional
        An explicit choice (``--threads``): used as given.
    parallel : int
        How many processes of this kind run side by side; each gets its share (at least 1).

    Examples
    --------
    >>> choose_threads(parallel=10_000)
    1
    """
    if requested is not None:
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            raise MnistlabError(f"threads must be a positive integer, got {requested!r}")
        return requested
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise MnistlabError(f"parallel must be a positive integer, got {parallel!r}")
    cpus = available_cpus()
    env = _env_threads()
    if env is not None:
        cpus = min(cpus, env)
    return max(1, cpus // parallel)
