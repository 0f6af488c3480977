"""Run every ``benchmarks/bench_*.py`` and keep what each printed, for the docs.

Usage: ``python scripts/bench.py [--quick] [--only corrupt,idx]`` (``make bench``,
``make bench BENCH_ARGS=--quick``). Each benchmark's output, wall time, the machine's core count
and load average and the versions go to ``benchmarks/results/<name>.json`` (written
atomically); the docs' benchmark page renders those files. Exits 1 when a benchmark fails
(its previous results file is kept).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_one(script: Path, quick: bool, out_dir: Path) -> bool:
    from mnistlab import __version__
    from mnistlab._atomic import atomic_path

    argv = [sys.executable, str(script), *(["--quick"] if quick else [])]
    print(f"== {script.relative_to(REPO)}", flush=True)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr[-4000:])
    if proc.returncode != 0:
        print(f"{script.name} failed (exit {proc.returncode})", file=sys.stderr)
        return False
    entry = {
        "benchmark": script.stem,
        "command": " ".join(["python", str(script.relative_to(REPO)), *argv[2:]]),
        "quick": quick,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_s": round(wall, 1),
        "cores": os.cpu_count(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "mnistlab": __version__,
        "stdout": proc.stdout,
    }
    target = out_dir / f"{script.stem}.json"
    with atomic_path(target, suffix=".json") as tmp:
        tmp.write_text(json.dumps(entry, indent=1) + "\n", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    parser.add_argument("--only", default="", help="comma-separated names, e.g. corrupt,idx")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    only = {n.strip().removeprefix("bench_") for n in args.only.split(",") if n.strip()}
    scripts = sorted((REPO / "benchmarks").glob("bench_*.py"))
    chosen = [s for s in scripts if not only or s.stem.removeprefix("bench_") in only]
    if not chosen:
        print(f"no benchmark matches --only {args.only!r}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    failed = [s.name for s in chosen if not run_one(s, args.quick, args.out)]
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
