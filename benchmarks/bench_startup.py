"""How long ``mnistlab --help`` takes, against a bare Python start in the same run.

Run: ``python benchmarks/bench_startup.py [--quick] [--repeat R]``

The speed target (``--help`` within 0.3 s more than ``python -c pass`` on an idle machine)
lives here, not in the test suite: the suite only checks, deterministically, that the command
modules import nothing heavy (``tests/cli/test_cli_startup.py``). Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def best_of(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs each")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    bare = best_of([sys.executable, "-c", "pass"], repeat)
    help_ = best_of([sys.executable, "-m", "mnistlab", "--help"], repeat)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, best of {repeat}")
    print(f"python -c pass      {bare * 1e3:7.1f} ms")
    print(f"mnistlab --help     {help_ * 1e3:7.1f} ms  ({help_ / bare:.1f}x a bare start)")
    verdict = "met" if help_ - bare < 0.3 else "MISSED"
    print(f"target: --help within 0.3 s of a bare start: {verdict} ({help_ - bare:.2f} s)")


if __name__ == "__main__":
    main()
