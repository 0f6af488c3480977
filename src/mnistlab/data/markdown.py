"""Tables as Markdown: the one pipe-table writer of every ``.md`` table mnistlab writes.

Examples
--------
>>> import pandas as pd
>>> print(markdown_table(pd.DataFrame({"model": ["cnn"], "accuracy": [0.93251]})), end="")
| model | accuracy |
|---|---|
| cnn | 0.9325 |
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["markdown_table", "write_markdown_table"]


def markdown_table(table: pd.DataFrame, digits: int = 4) -> str:
    """``table`` as a Markdown pipe table; floats with ``digits`` decimals, NaN as empty.

    No ``tabulate`` dependency; the index is not written.
    """
    import numpy as np

    def fmt(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else f"{v:.{digits}f}"
        return str(v)

    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_markdown_table(
    table: pd.DataFrame, path: str | os.PathLike[str], title: str | None = None, digits: int = 4
) -> None:
    """Write :func:`markdown_table` (under ``# title`` when given) to ``path``, atomically."""
    from mnistlab._atomic import write_text_atomic

    head = f"# {title}\n\n" if title else ""
    write_text_atomic(path, head + markdown_table(table, digits))
