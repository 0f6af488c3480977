"""The corruption registry as text: what ``mnistlab corruptions`` prints.

Examples
--------
>>> describe_corruptions(["rotate"]).splitlines()[2].split()[:4]
['rotate', 'affine', 'mnist-c,fmnist-c', '2']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mnistlab.corrupt.registry import get

__all__ = ["describe_corruptions"]


def _param(value: Any) -> str:
    """A severity's parameter, short (floats with ``%g``, tuples in parentheses)."""
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return "(" + ",".join(_param(v) for v in value) + ")"
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_corruptions(names: Sequence[str]) -> str:
    """A table of ``names``: family, releases, benchmark severity, the five parameters, and
    under each its description, rounding mode, compat notes, aliases and ordering."""
    header = f"{'name':18s} {'family':12s} {'releases':17s} {'bench':5s}  severity 1..5"
    lines = [header, "-" * len(header)]
    pad = " " * 20
    for name in names:
        c = get(name)
        levels = " ".join(_param(p) for p in c.levels) if c.leveled else "(no levels)"
        releases = ",".join(c.releases) or "-"
        bench = str(c.benchmark_severity or "-")
        lines.append(f"{c.name:18s} {c.family:12s} {releases:17s} {bench:5s}  {levels}")
        notes = [
            ("what", c.description),
            ("default", "rounds to uint8; mnist-c: truncates like the releases"),
            ("compat", c.compat_note),
            ("aliases", ", ".join(c.aliases)),
            ("note", "" if c.monotonic else "severities are not ordered by strength"),
        ]
        lines += [f"{pad}{key + ':':8s} {text}" for key, text in notes if text]
    return "\n".join(lines)
