"""Fail when a module imports a private name (leading underscore) of another package.

``from mnistlab.evaluate.plots import _save`` in ``mnistlab.workflows`` is such an import: the
name is the implementation detail of another package. Imports inside one package (``scores``
importing ``scores._x``) and of the core helper modules (``mnistlab._atomic``,
``mnistlab._output``, ``mnistlab._validate``, ``mnistlab._checkpoints``: private to the
distribution, shared by all its packages) are allowed. Run by ``make lint``.

    python scripts/check_private_imports.py [src/mnistlab]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = {"_atomic", "_output", "_validate", "_checkpoints"}


def package_of(module: list[str]) -> str:
    return module[1] if len(module) > 1 else ""


def violations(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        here = package_of(parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            target = node.module.split(".")
            if target[0] != "mnistlab" or package_of(target) in ("", here):
                continue
            private_module = [p for p in target[1:] if p.startswith("_") and p not in CORE]
            private_names = [a.name for a in node.names if a.name.startswith("_")]
            if private_module or private_names:
                what = ", ".join(private_module + private_names)
                found.append(f"{path}:{node.lineno}: imports {what} from {node.module}")
    return found


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("src/mnistlab")
    found = violations(root)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
