"""Every import of the package is provided by what pyproject.toml declares.

Module-level imports need a core dependency (so ``pip install mnistlab`` can import every
module but the torch bridge); imports inside functions may need an extra, and then the
extra is declared. Catches a library used but never declared (numba was, once).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml itself")

SRC = Path(__file__).resolve().parents[1] / "src" / "mnistlab"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
#: Import name -> distribution name, where they differ.
DISTRIBUTION = {
    "PIL": "pillow",
    "skimage": "scikit-image",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python-headless",
    "distributed": "dask",  # dask[distributed]
    "starlette": "fastapi",  # the app extra's server, installed with FastAPI
}
#: Optional integrations imported inside ``try: ... except ImportError`` with a message.
GUARDED = {"fiftyone"}
#: The one module that is the torch extra itself (imported only by code that needs torch).
EXTRA_MODULES = {"torch.py": "torch"}


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]

    def names(specs: list[str]) -> set[str]:
        return {re.split(r"[\[<>=!~ ;]", s, maxsplit=1)[0].lower() for s in specs}

    extras = set().union(*(names(v) for v in project["optional-dependencies"].values()))
    return names(project["dependencies"]), extras


def _imports(path: Path) -> list[tuple[str, bool, bool]]:
    """``(top-level package, at module level, inside try/except ImportError)`` per import."""
    found: list[tuple[str, bool, bool]] = []

    def visit(node: ast.AST, module_level: bool, guarded: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only
            if isinstance(child, ast.Import):
                found.extend((a.name.split(".")[0], module_level, guarded) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and not child.level and child.module:
                found.append((child.module.split(".")[0], module_level, guarded))
            inner = module_level and not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
            )
            catches = isinstance(child, ast.Try) and any(
                h.type is not None and "ImportError" in ast.unparse(h.type) for h in child.handlers
            )
            visit(child, inner, guarded or catches)

    visit(ast.parse(path.read_text()), True, False)
    return found


def test_every_import_is_declared() -> None:
    core, extras = _declared()
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        for name, module_level, guarded in _imports(path):
            if name in sys.stdlib_module_names or name in ("mnistlab", "__future__"):
                continue
            dist = DISTRIBUTION.get(name, name).lower()
            where = path.relative_to(SRC)
            if EXTRA_MODULES.get(path.name) == name:
                assert dist in extras, f"{where}: {name} is no declared extra"
            elif name in GUARDED:
                if not guarded:
                    problems.append(f"{where}: optional {name} imported without a guard")
            elif module_level and dist not in core:
                problems.append(f"{where}: module-level import of {name}, not a core dependency")
            elif dist not in core | extras:
                problems.append(f"{where}: {name} is declared nowhere in pyproject.toml")
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_missing_declaration(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import numpy\nimport leftpad\n\ndef f():\n    import torch\n")
    assert _imports(module) == [
        ("numpy", True, False),
        ("leftpad", True, False),
        ("torch", False, False),
    ]
    core, extras = _declared()
    assert "numpy" in core and "leftpad" not in core | extras and "torch" in extras
