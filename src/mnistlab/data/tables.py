"""Tables written by suffix: ``.csv``, ``.parquet`` or ``.md``, atomically.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.md"
>>> [p.name for p in write_table(pd.DataFrame({"a": [0.5]}), path)]
['t.md']
>>> path.read_text()
'| a |\\n|---|\\n| 0.5000 |\\n'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistlab.data.markdown import markdown_table
from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TABLE_SUFFIXES",
    "check_table_suffix",
    "format_table",
    "write_table",
    "write_table_files",
]


def _write_markdown(table: pd.DataFrame, path: Path) -> None:
    """The one Markdown pipe table (:func:`mnistlab.data.markdown.markdown_table`)."""
    path.write_text(markdown_table(table), encoding="utf-8")


#: Suffix -> how a table is written to an (already temporary) path.
_WRITERS: dict[str, Callable[[Any, Path], None]] = {
    ".csv": lambda table, path: table.to_csv(path, index=False),
    ".parquet": lambda table, path: table.to_parquet(path, index=False),
    ".md": lambda table, path: _write_markdown(table, path),
}
TABLE_SUFFIXES = tuple(_WRITERS)


def check_table_suffix(path: str | os.PathLike[str], what: str = "--out") -> str:
    """The suffix of ``path`` ('' for a folder) if a table can be written there.

    >>> check_table_suffix("scores.xlsx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --out: scores.xlsx: unknown format '.xlsx' (use .csv, ...)
    """
    suffix = Path(path).suffix.lower()
    if suffix and suffix not in _WRITERS:
        known = ", ".join(TABLE_SUFFIXES[:-1]) + f" or {TABLE_SUFFIXES[-1]}"
        raise MnistlabError(f"{what}: {path}: unknown format {suffix!r} (use {known})")
    return suffix


def write_table(
    table: pd.DataFrame, path: str | os.PathLike[str], kind: str = "table"
) -> list[Path]:
    """Write ``table`` to ``path`` by its suffix, through a temporary file renamed into place.

    A path without a suffix is a folder (an output of ``kind``) of ``table.csv`` and
    ``table.md``. Returns the files written.
    """
    from mnistlab._atomic import atomic_dir, atomic_path

    path = Path(path)
    suffix = check_table_suffix(path)
    if not suffix:
        with atomic_dir(path, kind) as tmp:
            write_table_files(table, tmp / "table", ("csv", "md"))
        return [path / "table.csv", path / "table.md"]
    with atomic_path(path, suffix=suffix) as tmp:
        _WRITERS[suffix](table, Path(tmp))
    return [path]


def write_table_files(table: pd.DataFrame, stem: Path, formats: Sequence[str] = ("csv",)) -> None:
    """Write ``table`` as ``stem.csv`` / ``stem.md`` / ``stem.parquet`` (into a staging folder).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> stem = pathlib.Path(tempfile.mkdtemp()) / "t"
    >>> write_table_files(pd.DataFrame({"a": [0.5]}), stem, ("csv", "md"))
    >>> sorted(p.name for p in stem.parent.iterdir())
    ['t.csv', 't.md']
    """
    for fmt in formats:
        writer = _WRITERS.get(f".{fmt}")
        if writer is None:
            raise MnistlabError(f"table format {fmt!r} (expected csv, md or parquet)")
        writer(table, stem.with_suffix(f".{fmt}"))


def format_table(table: pd.DataFrame, digits: int = 4) -> str:
    """``table`` as plain text, every row and column, floats with ``digits`` decimals.

    Examples
    --------
    >>> import pandas as pd
    >>> print(format_table(pd.DataFrame({"score": ["gini"], "apfd": [0.83333]})))
    score   apfd
     gini 0.8333
    """
    import pandas as pd

    with pd.option_context(
        "display.max_rows", None, "display.max_columns", None, "display.width", 200
    ):
        return table.to_string(index=False, float_format=lambda v: f"{v:.{digits}f}")
