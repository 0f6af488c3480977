"""The per-image corruption table of the fmnist-c layout, written with pyarrow alone.

pandas costs about 0.4 s to import, more than corrupting a 10k split; the table is five
plain columns, so pyarrow writes it directly. ``pandas.read_parquet`` reads it back as before
(``corruption`` is a categorical: a dictionary column with int8 codes). The columns are built
from raw buffers: ``pyarrow.array`` on a numpy array or a list imports pandas to check its type.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["write_corruption_table"]


def _column(values: NDArray[np.generic]) -> object:
    import pyarrow as pa

    x = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(x.dtype), len(x), [None, pa.py_buffer(x)])


def _strings(values: Sequence[str]) -> object:
    import pyarrow as pa

    data = [v.encode("utf-8") for v in values]
    offsets = np.cumsum([0, *map(len, data)]).astype(np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def write_corruption_table(
    path: str | os.PathLike[str],
    sample_ids: NDArray[np.integer] | None,
    labels: NDArray[np.integer],
    choice: NDArray[np.integer],
    pool: Sequence[str],
    severity: NDArray[np.integer],
    seed: int,
) -> None:
    """Write ``sample_id, label, corruption, severity, seed`` (one row per image) to Parquet.

    ``choice`` indexes ``pool`` (the corruption of each row); ``sample_ids`` None means
    ``0 .. N-1``.

    Examples
    --------
    >>> import tempfile, pathlib, pyarrow.parquet as pq
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> write_corruption_table(p, np.arange(2), np.array([3, 1]), np.array([1, 0]),
    ...                        ["fog", "shear"], np.array([2, 5]), 0)
    >>> pq.read_table(p).column("corruption").to_pylist()
    ['shear', 'fog']
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(choice)
    if sample_ids is None:
        sample_ids = np.arange(n, dtype=np.int64)
    codes = _column(np.asarray(choice, dtype=np.int8))
    columns = {
        "sample_id": _column(np.asarray(sample_ids)),
        "label": _column(np.asarray(labels)),
        "corruption": pa.DictionaryArray.from_arrays(codes, _strings(list(pool))),
        "severity": _column(np.asarray(severity, dtype=np.int8)),
        "seed": _column(np.full(n, seed, dtype=np.int64)),
    }
    table = pa.Table.from_arrays(list(columns.values()), names=list(columns))
    pq.write_table(table, path)
