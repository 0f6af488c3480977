"""Predictions of models trained elsewhere: logits or probabilities read from a file."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.models._common import check_choice
from mnistlab.models.base import Model
from mnistlab.models.wrap import logits_from_scores, looks_like_proba

__all__ = ["LOGITS_SUFFIXES", "LogitsFile", "is_logits_file"]

LOGITS_SUFFIXES = (".npy", ".csv", ".parquet")
KINDS = ("auto", "logits", "proba")
# Columns of a table that are not scores.
_ID_COLUMNS = {"sample_id", "label", "pred", "variant", "corruption", "severity", "model"}


def is_logits_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` names a file with a logits suffix (``.npy``, ``.csv``, ``.parquet``)."""
    return Path(path).suffix.lower() in LOGITS_SUFFIXES


class LogitsFile(Model):
    """Logits or probabilities ``(N, C)`` from a file, one row per sample in data order.

    Parameters
    ----------
    path : path-like
        ``.npy`` (a 2-D array), ``.csv`` or ``.parquet`` (columns ``logit_0..`` or ``prob_0..``
        as written by ``mnistlab predict``, else every numeric column except ``sample_id``,
        ``label``, ...). A ``sample_id`` column, when present, is kept in :attr:`sample_ids`.
    kind : {"auto", "logits", "proba"}
        ``auto``: ``prob_*`` columns, or rows of non-negative numbers summing to 1, are
        probabilities; anything else is logits. Probabilities become logits by their log
        (floored at 1e-7); they must lie in [0, 1] and each row must sum to 1 within 1e-3.
    class_names : sequence of str, optional
        Default ``"0".."C-1"``.

    Raises
    ------
    MnistlabError
        When the file is missing, not 2-D, has fewer than 2 columns, holds NaN or infinite
        values, or probabilities outside [0, 1] or rows of them that do not sum to 1 (naming
        the file and the first bad row).

    Examples
    --------
    >>> np.save("logits.npy", logits)  # doctest: +SKIP
    >>> LogitsFile("logits.npy").predict_logits(test.images).shape  # doctest: +SKIP
    (10000, 10)
    """

    kind = "logits"

    def __init__(
        self,
        path: str | os.PathLike[str],
        kind: str = "auto",
        class_names: tuple[str, ...] | list[str] | None = None,
        name: str | None = None,
    ):
        self.path = Path(path)
        check_choice(kind, KINDS, "scores kind", where=f" for {self.path}")
        if not self.path.is_file():
            raise MnistlabError(f"{self.path}: no such logits file")
        suffix = self.path.suffix.lower()
        if suffix not in LOGITS_SUFFIXES:
            raise MnistlabError(
                f"{self.path}: unsupported logits file type {suffix!r} "
                f"(use {', '.join(LOGITS_SUFFIXES)})"
            )
        self.sample_ids: NDArray[np.int64] | None = None
        scores, is_proba = self._read(suffix)
        scores = self._validate(scores)
        if kind == "proba" or (kind == "auto" and (is_proba or looks_like_proba(scores))):
            # Refuses values outside [0, 1] and rows that do not sum to 1 (naming the first).
            self.is_proba = True
            self.logits = logits_from_scores(scores, "proba", str(self.path))
        else:
            self.is_proba = False
            self.logits = scores.astype(np.float32)
        n_classes = self.logits.shape[1]
        if class_names is not None and len(class_names) != n_classes:
            raise MnistlabError(
                f"{self.path}: {n_classes} columns of scores for {len(class_names)} class names"
            )
        super().__init__(
            name or self.path.stem,
            class_names if class_names is not None else [str(i) for i in range(n_classes)],
            {
                "architecture": "logits file",
                "path": str(self.path),
                "scores": "proba" if self.is_proba else "logits",
            },
        )

    def _read(self, suffix: str) -> tuple[NDArray[np.float64], bool]:
        if suffix == ".npy":
            try:
                if self.path.stat().st_size == 0:
                    raise MnistlabError(f"{self.path}: empty file, not a .npy array")
                arr = np.load(self.path, allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                if isinstance(exc, MnistlabError):
                    raise
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise MnistlabError(f"{self.path}: not a valid .npy file ({first})") from None
            if not isinstance(arr, np.ndarray):
                raise MnistlabError(f"{self.path}: not a single .npy array")
            if arr.dtype == np.bool_ or not (
                np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
            ):
                raise MnistlabError(f"{self.path}: expected real numbers, got dtype {arr.dtype}")
            return np.asarray(arr, dtype=np.float64), False
        from mnistlab.scores.checks import check_int_column, read_table_file

        table = read_table_file(self.path, "logits table")
        if table.columns.duplicated().any():
            dup = table.columns[table.columns.duplicated()][0]
            raise MnistlabError(f"{self.path}: column {str(dup)!r} appears more than once")
        if not len(table):
            raise MnistlabError(f"{self.path}: empty table (no rows)")
        if "sample_id" in table.columns:
            self.sample_ids = check_int_column(table, "sample_id", str(self.path))
            dup_ids = _first_repeat(self.sample_ids)
            if dup_ids is not None:
                raise MnistlabError(
                    f"{self.path}: column 'sample_id': value {int(self.sample_ids[dup_ids])} "
                    f"appears twice (first bad row {dup_ids})"
                )
        for prefix, is_proba in (("logit_", False), ("prob_", True)):
            cols = _numbered(table.columns, prefix)
            if cols:
                return _numbers(table, cols, self.path), is_proba
        cols = [c for c in table.columns if str(c) not in _ID_COLUMNS]
        if not cols:
            raise MnistlabError(f"{self.path}: no score columns (logit_0.., prob_0.. or numbers)")
        return _numbers(table, cols, self.path), False

    def _validate(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        if scores.ndim != 2:
            raise MnistlabError(
                f"{self.path}: expected a 2-D array (N samples, C classes), "
                f"got shape {scores.shape}"
            )
        if scores.shape[0] == 0:
            raise MnistlabError(f"{self.path}: no rows of scores (shape {scores.shape})")
        if scores.shape[1] < 2:
            raise MnistlabError(
                f"{self.path}: expected at least 2 class columns, got shape {scores.shape}"
            )
        # float32 is what the logits are kept in: 1e300 is finite here but not there.
        with np.errstate(over="ignore"):
            finite = np.isfinite(scores) & np.isfinite(scores.astype(np.float32))
        if not finite.all():
            row = int(np.argwhere(~finite)[0, 0])
            what = "NaN" if np.isnan(scores[row]).any() else "infinite or beyond float32"
            raise MnistlabError(
                f"{self.path}: {int((~finite).any(axis=1).sum())} rows hold NaN or infinite values "
                f"(first: row {row}, {what})"
            )
        return scores

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The stored logits; ``images`` only fixes how many rows are expected."""
        n = len(images)
        if n != len(self.logits):
            raise MnistlabError(
                f"{self.path}: holds {len(self.logits)} rows of scores but the data has {n} samples"
            )
        return self.logits

    def check_classes(self, n_classes: int) -> None:
        """Raise when the file's columns do not match the data's number of classes."""
        if self.logits.shape[1] != n_classes:
            raise MnistlabError(
                f"{self.path}: {self.logits.shape[1]} columns of scores "
                f"but the data has {n_classes} classes"
            )


def _numbered(columns: Iterable[object], prefix: str) -> list[str]:
    cols = [
        str(c) for c in columns if str(c).startswith(prefix) and str(c)[len(prefix) :].isdigit()
    ]
    return sorted(cols, key=lambda c: int(c[len(prefix) :]))


def _numbers(table: Any, cols: list[Any], path: Path) -> NDArray[np.float64]:
    """The columns as a float array; booleans, strings and missing values are refused."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [
        str(c)
        for c in cols
        if is_bool_dtype(table[c].dtype) or not is_numeric_dtype(table[c].dtype)
    ]
    if bad:
        raise MnistlabError(f"{path}: non-numeric score columns: {', '.join(bad[:5])}")
    return np.asarray(table[cols].to_numpy(dtype=np.float64, na_value=np.nan))


def _first_repeat(values: NDArray[np.int64]) -> int | None:
    """Position of the first value seen before, or None."""
    _, first = np.unique(values, return_index=True)
    if len(first) == len(values):
        return None
    seen = np.zeros(len(values), bool)
    seen[first] = True
    return int(np.flatnonzero(~seen)[0])
