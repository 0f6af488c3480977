"""Checks of the arrays handed to :mod:`mnistlab.represent`, done once at the boundary.

Every check raises :class:`mnistlab.errors.MnistlabError` with one line that names the
argument (``x``, ``codes``, ...) and what is wrong with it.

Examples
--------
>>> as_matrix([[1, 2], [3, 4]], "x").dtype
dtype('float64')
>>> as_matrix([1.0, 2.0], "x")
Traceback (most recent call last):
...
mnistlab.errors.MnistlabError: x must be a 2-D array (rows x columns), got shape (2,)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError

__all__ = [
    "as_matrix",
    "check_fraction",
    "column_names",
    "legacy_random_state",
    "same_columns",
]


def column_names(data: Any) -> list[str] | None:
    """The column names of a DataFrame (as strings), None for any other input."""
    columns = getattr(data, "columns", None)
    if columns is None or not hasattr(data, "to_numpy"):
        return None
    return [str(c) for c in columns]


def _raw(data: Any, what: str) -> NDArray[Any]:
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):
        kinds = [np.dtype(t).kind if isinstance(t, np.dtype) else "O" for t in data.dtypes]
        bad = [str(c) for c, k in zip(data.columns, kinds, strict=True) if k not in "biuf"]
        if bad:
            raise MnistlabError(f"{what}: column {bad[0]!r} is not numeric")
        return np.asarray(data.to_numpy())
    try:
        return np.asarray(data)
    except (TypeError, ValueError) as err:  # ragged nested lists
        raise MnistlabError(f"{what} must be a 2-D numeric array: {err}") from None


def as_matrix(
    data: Any,
    what: str,
    *,
    min_rows: int = 1,
    allow_integer: bool = True,
) -> NDArray[np.float64]:
    """``data`` (array-like or DataFrame) as a C-contiguous ``float64 (N, D)`` array.

    Refuses anything that is not 2-D, empty columns, non-numeric or complex values, fewer than
    ``min_rows`` rows and NaN or infinite values (naming the first bad cell).

    Examples
    --------
    >>> as_matrix([[0.0, float("nan")]], "y")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: y contains NaN or infinite values (first at row 0, column 1)
    """
    arr = _raw(data, what)
    if arr.ndim != 2:
        raise MnistlabError(f"{what} must be a 2-D array (rows x columns), got shape {arr.shape}")
    if arr.dtype.kind not in ("biuf" if allow_integer else "f"):
        raise MnistlabError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    if arr.shape[1] == 0:
        raise MnistlabError(f"{what} has no columns")
    if arr.shape[0] < min_rows:
        raise MnistlabError(f"{what} needs at least {min_rows} rows, got {arr.shape[0]}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    finite = np.isfinite(out)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise MnistlabError(
            f"{what} contains NaN or infinite values (first at row {row}, column {col})"
        )
    return out


def same_columns(x: NDArray[Any], y: NDArray[Any], what: str = "x and y") -> None:
    """Both arrays have the same number of columns."""
    if x.shape[1] != y.shape[1]:
        raise MnistlabError(
            f"{what} must have the same number of columns, got {x.shape[1]} and {y.shape[1]}"
        )


def check_fraction(value: Any, what: str) -> float:
    """A float strictly between 0 and 1 (a confidence level).

    Examples
    --------
    >>> check_fraction(0.95, "level")
    0.95
    >>> check_fraction(1, "level")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: level must be a number strictly between 0 and 1, got 1
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or not 0.0 < float(value) < 1.0:
        raise MnistlabError(f"{what} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def legacy_random_state(seed: int) -> np.random.RandomState:
    """``numpy.random.RandomState(seed)``: the generator of the Morpho-MNIST code's shuffles
    and of torch-fidelity's KID subsets, so that the same seed picks the same rows. Seeds
    above ``2**32 - 1`` (which RandomState refuses) seed it with their two 32-bit words.

    Examples
    --------
    >>> legacy_random_state(0).permutation(4).tolist()
    [2, 3, 1, 0]
    """
    if seed < 2**32:
        return np.random.RandomState(seed)
    return np.random.RandomState([seed & 0xFFFFFFFF, seed >> 32])
