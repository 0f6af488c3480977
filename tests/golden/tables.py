"""Pinned contents of the tables a ``study --quick`` writes (``test_study.py``).

The study runs on pinned models (``tests/golden/models``: the quick CNN's saved folder and
the logistic baseline's predictions table, both from a quick study), because training
differs from one CPU to another (bfloat16 where the CPU has it natively, the BLAS and oneDNN
kernels it picks): given the models, every table is the same on every machine.

``save(run, folder)`` stores every table of a run (Parquet where the run has one, else CSV)
under ``folder`` as Parquet, floats as float32; ``compare(run, folder)`` checks that a run's
tables hold the same contents: same tables, same columns, same rows in the same order, equal
keys/labels/integers/strings and floats equal to 1e-4. It compares contents, never file dates or
bytes. ``RENAMED`` maps names that changed on purpose (old -> new), so the pin survives them.

Regenerate (only when a change of output is intended, and say so in the commit)::

    mnistlab study --quick --no-progress --corruptions gaussian_noise,rotate,inverse \
        --models tests/golden/models/cnn,tests/golden/models/logreg.parquet --out RUN_DIR
    python -m tests.golden.tables RUN_DIR tests/golden/study_quick
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: Names changed on purpose since the pin was taken: old -> new (columns and values).
RENAMED: dict[str, str] = {"softmax": "max_softmax"}
#: Tables whose rows depend on the run's files, not on the science (none at present).
SKIP: frozenset[str] = frozenset()
#: Columns not compared: t-SNE amplifies the last-bit differences of the CPU's kernels (the
#: PCA columns of the same table are compared).
UNSTABLE: dict[str, tuple[str, ...]] = {"embeddings/cnn": ("tsne_0", "tsne_1")}
#: The models the pinned study runs on (see the module docstring).
MODELS = Path(__file__).parent / "models"


def tables(run: Path) -> dict[str, Path]:
    """Every table of a run, keyed by its path without suffix (``hardness/cnn/by_family``)."""
    found: dict[str, Path] = {}
    for path in sorted(run.rglob("*")):
        if path.suffix not in (".csv", ".parquet") or not path.is_file():
            continue
        key = path.relative_to(run).with_suffix("").as_posix()
        if key in SKIP or key.startswith("fmnist-c/data"):
            continue
        if key not in found or path.suffix == ".parquet":
            found[key] = path
    return found


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    frame = frame.rename(columns=RENAMED)
    for col in frame.columns:
        dtype = frame[col].dtype
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
            frame[col] = frame[col].astype(str).replace(RENAMED)
    return frame.reset_index(drop=True)


def save(run: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, path in tables(run).items():
        frame = _read(path)
        for col in frame.columns:
            if frame[col].dtype.kind == "f":
                frame[col] = frame[col].astype(np.float32)
        target = folder / (key.replace("/", "__") + ".parquet")
        frame.to_parquet(target, compression="zstd", index=False)


def compare(run: Path, folder: Path, atol: float = 1e-4) -> list[str]:
    """The differences between a run's tables and the pinned ones (empty when equal)."""
    problems: list[str] = []
    pinned = {p.stem.replace("__", "/"): p for p in folder.glob("*.parquet")}
    current = tables(run)
    for key in sorted(set(pinned) ^ set(current)):
        problems.append(f"{key}: {'missing' if key in pinned else 'not pinned'}")
    for key in sorted(set(pinned) & set(current)):
        want, got = _read(pinned[key]), _read(current[key])
        if list(want.columns) != list(got.columns):
            problems.append(f"{key}: columns {list(got.columns)} != {list(want.columns)}")
            continue
        if len(want) != len(got):
            problems.append(f"{key}: {len(got)} rows != {len(want)}")
            continue
        for col in [c for c in want.columns if c not in UNSTABLE.get(key, ())]:
            a, b = want[col], got[col]
            if a.dtype.kind == "f" or b.dtype.kind == "f":
                x, y = a.to_numpy(np.float64), b.to_numpy(np.float64)
                ok = np.isclose(x, y, rtol=1e-4, atol=atol, equal_nan=True)
                if not ok.all():
                    i = int(np.flatnonzero(~ok)[0])
                    problems.append(f"{key}.{col}: row {i} {y[i]!r} != {x[i]!r}")
            elif a.astype(str).tolist() != b.astype(str).tolist():
                i = int(np.flatnonzero(a.astype(str).to_numpy() != b.astype(str).to_numpy())[0])
                problems.append(f"{key}.{col}: row {i} {b.iloc[i]!r} != {a.iloc[i]!r}")
    return problems


if __name__ == "__main__":
    save(Path(sys.argv[1]), Path(sys.argv[2]))
