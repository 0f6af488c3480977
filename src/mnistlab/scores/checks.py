"""The one validator of predictions tables, and a reader that never lets a parser error escape.

Every command that reads a predictions table (``score``, ``prioritize``, ``hardness``,
``evaluate``, ``report``, ``explore``, ``export-run``) goes through :func:`validate_predictions`,
so a table is either accepted everywhere or refused everywhere with the same one-line
:class:`~mnistlab.errors.MnistlabError` that names the file, the column and the first bad row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PROB_TOLERANCE",
    "check_int_column",
    "class_count",
    "read_table_file",
    "validate_predictions",
]

#: How far a row of probabilities may sum from 1 (float32 softmax outputs are within 1e-6).
PROB_TOLERANCE = 1e-3
_INT64_MAX = np.iinfo(np.int64).max
_NUMBERED = re.compile(r"^(prob|logit)_(\d+)$")


def _first(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def _fail(where: str, column: str, problem: str, row: int | None = None) -> MnistlabError:
    at = "" if row is None else f" (first bad row {row})"
    return MnistlabError(f"{where}: column {column!r}: {problem}{at}")


def _show(value: Any) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_table_file(
    path: str | os.PathLike[str],
    what: str = "table",
    keep: Callable[[str], bool] | None = None,
) -> pd.DataFrame:
    """Read a ``.csv`` or Parquet file (any other suffix) into a DataFrame, or raise one line.

    Parameters
    ----------
    path : path-like
        The file. A folder, a missing file, an empty or garbage file, a CSV that does not parse
        and a Parquet file that is really something else are all a :class:`MnistlabError`.
    what : str
        What the file should be, for the messages (``"predictions table"``).
    keep : callable, optional
        Read only the columns whose name it accepts.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_csv(p, index=False)
    >>> read_table_file(p, keep=lambda c: c == "a").columns.tolist()
    ['a']
    >>> read_table_file(p.parent / "nope.csv")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: .../nope.csv: no such table
    """
    import pandas as pd

    p = Path(path)
    try:
        if p.is_dir():
            raise MnistlabError(f"{p}: is a folder, not a {what} (.parquet or .csv)")
        if not p.is_file():
            raise MnistlabError(f"{p}: no such {what}")
        if p.stat().st_size == 0:
            raise MnistlabError(f"{p}: empty file, not a {what}")
    except OSError as exc:
        raise MnistlabError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if p.suffix.lower() == ".csv":
        try:
            return pd.read_csv(p, usecols=keep, low_memory=False)
        except pd.errors.EmptyDataError:
            raise MnistlabError(f"{p}: empty CSV, not a {what}") from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise MnistlabError(f"{p}: not a readable CSV {what} ({first})") from None
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(p).names
        columns = [c for c in names if keep(c)] if keep is not None else None
        return pd.read_parquet(p, columns=columns)
    except Exception as exc:  # pyarrow raises many types (ArrowInvalid, OSError, TypeError...)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MnistlabError(
            f"{p}: not a readable Parquet {what} ({first}); use .parquet or .csv"
        ) from None


def check_int_column(
    table: pd.DataFrame,
    column: str,
    where: str,
    low: int = 0,
    high: int | None = None,
) -> NDArray[np.int64]:
    """The integer values of ``table[column]``, all in ``low..high-1``, or raise naming the row.

    Integer columns are taken as they are; float columns only when every value is a whole
    number (CSV files turn integer columns with a gap into floats); booleans, strings and
    missing values are refused.

    Examples
    --------
    >>> import pandas as pd
    >>> check_int_column(pd.DataFrame({"label": [0, 2.0]}), "label", "t", 0, 3).tolist()
    [0, 2]
    >>> check_int_column(pd.DataFrame({"label": [0, 1.5]}), "label", "t")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: t: column 'label': must hold integers, got 1.5 (first bad row 1)
    """
    from pandas.api.types import is_bool_dtype, is_float_dtype, is_integer_dtype

    series = table[column]
    if isinstance(series, type(table)):
        raise _fail(where, column, "appears more than once")
    dtype = series.dtype
    if is_bool_dtype(dtype) or not (is_integer_dtype(dtype) or is_float_dtype(dtype)):
        bad = _bad_non_numeric(series)
        raise _fail(where, column, f"must hold integers, got {dtype} values like {bad[1]}", bad[0])
    missing = series.isna().to_numpy()
    if missing.any():
        raise _fail(where, column, "missing value", _first(missing))
    if is_integer_dtype(dtype):
        raw = series.to_numpy()
        if raw.dtype == np.uint64 and raw.size and raw.max() > _INT64_MAX:
            raise _fail(where, column, "value too large", _first(raw > _INT64_MAX))
        values = raw.astype(np.int64)
    else:
        floats = series.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(floats) | (floats != np.round(floats)) | (np.abs(floats) >= 2.0**63)
        if bad.any():
            i = _first(bad)
            raise _fail(where, column, f"must hold integers, got {_show(floats[i])}", i)
        values = floats.astype(np.int64)
    out_of_range = values < low
    if high is not None:
        out_of_range |= values >= high
    if out_of_range.any():
        i = _first(out_of_range)
        span = f"{low}..{high - 1}" if high is not None else f">= {low}"
        raise _fail(where, column, f"value {int(values[i])} is outside {span}", i)
    return values


def _bad_non_numeric(series: pd.Series) -> tuple[int, str]:
    """Row and value of the first cell that is not a plain number."""
    import pandas as pd

    values = series.to_numpy(dtype=object)
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or pd.isna(v) or not isinstance(v, (int, float)):
            return i, _show(v)
    return 0, _show(values[0]) if len(values) else "nothing"


def class_count(table: pd.DataFrame, where: str) -> int:
    """Number of classes of a predictions table: its ``prob_0..`` (else ``logit_0..``) columns.

    The columns of each prefix must be numbered ``0..C-1`` without gaps, with ``C >= 2``,
    and both prefixes, when present, must agree on ``C``.
    """
    found: dict[str, list[int]] = {"prob": [], "logit": []}
    for c in table.columns:
        m = _NUMBERED.match(str(c))
        if m:
            found[m.group(1)].append(int(m.group(2)))
    counts = {}
    for prefix, numbers in found.items():
        if not numbers:
            continue
        numbers.sort()
        if numbers != list(range(len(numbers))):
            gap = next(i for i, n in enumerate(numbers) if n != i)
            raise MnistlabError(
                f"{where}: {prefix}_* columns must be numbered 0..{len(numbers) - 1}; "
                f"{prefix}_{gap} is missing or repeated"
            )
        if len(numbers) < 2:
            raise MnistlabError(f"{where}: {prefix}_* columns: need at least 2 classes, got 1")
        counts[prefix] = len(numbers)
    if not counts:
        raise MnistlabError(f"{where}: no prob_0.. or logit_0.. columns")
    if len(set(counts.values())) > 1:
        raise MnistlabError(
            f"{where}: {counts['prob']} prob_* columns but {counts['logit']} logit_* columns"
        )
    return next(iter(counts.values()))


def _float_block(table: pd.DataFrame, cols: list[str], where: str) -> NDArray[np.float64]:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    for c in cols:
        series = table[c]
        if is_bool_dtype(series.dtype) or not is_numeric_dtype(series.dtype):
            bad = _bad_non_numeric(series)
            raise _fail(where, c, f"must hold numbers, got {series.dtype} like {bad[1]}", bad[0])
    block = table[cols].to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(block)
    if not finite.all():
        row, col = (int(v) for v in np.argwhere(~finite)[0])
        kind = "NaN or missing" if np.isnan(block[row, col]) else "infinite"
        raise _fail(where, cols[col], f"{kind} value", row)
    return block


def _check_probs(probs: NDArray[np.float64], cols: list[str], where: str) -> None:
    outside = (probs < 0) | (probs > 1)
    if outside.any():
        row, col = (int(v) for v in np.argwhere(outside)[0])
        raise _fail(where, cols[col], f"probability {probs[row, col]:.6g} is outside [0, 1]", row)
    sums = probs.sum(axis=1)
    off = np.abs(sums - 1.0) > PROB_TOLERANCE
    if off.any():
        row = _first(off)
        raise MnistlabError(
            f"{where}: columns prob_0..prob_{len(cols) - 1}: probabilities sum to "
            f"{sums[row]:.6g}, not 1 (first bad row {row})"
        )


def _check_text(table: pd.DataFrame, column: str, where: str) -> None:
    missing = table[column].isna().to_numpy()
    if missing.any():
        raise _fail(where, column, "missing value", _first(missing))


def validate_predictions(
    table: pd.DataFrame,
    where: str = "predictions table",
    *,
    required: Sequence[str] = ("sample_id", "label"),
    n_classes: int | None = None,
) -> pd.DataFrame:
    """Check a predictions table and return it with ``variant`` (default ``"clean"``) and
    integer ``sample_id``, ``label``, ``pred`` and ``severity``.

    Checks: the table has rows and the ``required`` columns; ``prob_0..prob_{C-1}`` (or
    ``logit_0..``) are numbered without gaps; probabilities are finite numbers in [0, 1] whose
    rows sum to 1 (within :data:`PROB_TOLERANCE`), logits are finite; ``label`` and ``pred`` are
    integers in ``0..C-1`` (``C`` must equal ``n_classes`` when given); ``sample_id`` and
    ``severity`` are integers >= 0; ``variant``, ``corruption`` and ``model`` have no missing
    values; no ``(sample_id, variant)`` key (with ``model``, when there is such a column)
    appears twice.

    Raises
    ------
    MnistlabError
        One line naming ``where``, the column and the first bad row.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"sample_id": [0, 1], "label": [0, 1],
    ...                   "prob_0": [0.9, 0.4], "prob_1": [0.1, 0.6]})
    >>> validate_predictions(t)["variant"].tolist()
    ['clean', 'clean']
    >>> validate_predictions(t.assign(label=[0, 2]), "p.csv")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: p.csv: column 'label': value 2 is outside 0..1 (first bad row 1)
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise MnistlabError(f"{where}: expected a table (DataFrame), got {type(table).__name__}")
    if table.columns.duplicated().any():
        dup = str(table.columns[table.columns.duplicated()][0])
        raise _fail(where, dup, "appears more than once")
    if not len(table):
        raise MnistlabError(f"{where}: empty table (no rows)")
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise MnistlabError(f"{where}: missing column {missing[0]!r}")
    if "sample_id" not in table.columns:
        raise MnistlabError(f"{where}: missing column 'sample_id'")
    if "label" not in table.columns:
        raise MnistlabError(f"{where}: missing column 'label'")
    n = class_count(table, where)
    if n_classes is not None and n != n_classes:
        raise MnistlabError(f"{where}: {n} classes, expected {n_classes} like the other tables")
    probs = [f"prob_{i}" for i in range(n)] if "prob_0" in table.columns else []
    logits = [f"logit_{i}" for i in range(n)] if "logit_0" in table.columns else []
    if probs:
        _check_probs(_float_block(table, probs, where), probs, where)
    if logits:
        _float_block(table, logits, where)
    fixed: dict[str, Any] = {
        "sample_id": check_int_column(table, "sample_id", where),
        "label": check_int_column(table, "label", where, 0, n),
    }
    if "pred" in table.columns:
        fixed["pred"] = check_int_column(table, "pred", where, 0, n)
    if "severity" in table.columns:
        fixed["severity"] = check_int_column(table, "severity", where)
    for column in ("variant", "corruption", "model"):
        if column in table.columns:
            _check_text(table, column, where)
            fixed[column] = table[column].astype(str)
    if "variant" not in table.columns:
        fixed["variant"] = "clean"
    out = table.assign(**fixed)
    key = ["sample_id", "variant", *(["model"] if "model" in out.columns else [])]
    repeated = out.duplicated(subset=key).to_numpy()
    if repeated.any():
        i = _first(repeated)
        row = out.iloc[i]
        raise MnistlabError(
            f"{where}: duplicated key (sample_id {int(row['sample_id'])}, variant "
            f"{row['variant']!r}): each sample appears once per variant (first bad row {i})"
        )
    return out
