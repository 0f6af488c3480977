"""Predictions of models trained elsewhere: logits or probabilities read from a file."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.models.base import Model

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
        probabilities; anything else is logits. Probabilities become logits by their log.
    class_names : sequence of str, optional
        Default ``"0".."C-1"``.

    Raises
    ------
    MnistlabError
        When the file is missing, not 2-D, has fewer than 2 columns, or holds NaN or infinite
        values (naming the file and the first bad row).

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
        if kind not in KINDS:
            raise MnistlabError(
                f"unknown scores kind {kind!r} for {self.path} (choose from: {', '.join(KINDS)})"
            )
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
        if kind == "proba" or (kind == "auto" and (is_proba or _rows_are_proba(scores))):
            if scores.min() < 0:
                raise MnistlabError(f"{self.path}: probabilities must be non-negative")
            self.is_proba = True
            self.logits = np.log(np.clip(scores, 1e-7, 1.0)).astype(np.float32)
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
        import pandas as pd

        if suffix == ".npy":
            try:
                arr = np.load(self.path, allow_pickle=False)
            except ValueError as exc:
                raise MnistlabError(f"{self.path}: not a valid .npy file ({exc})") from None
            if not np.issubdtype(arr.dtype, np.number):
                raise MnistlabError(f"{self.path}: expected numbers, got dtype {arr.dtype}")
            return np.asarray(arr, dtype=np.float64), False
        try:
            table = pd.read_csv(self.path) if suffix == ".csv" else pd.read_parquet(self.path)
        except Exception as exc:
            raise MnistlabError(
                f"{self.path}: cannot read the table ({str(exc).splitlines()[0]})"
            ) from None
        if "sample_id" in table.columns:
            self.sample_ids = table["sample_id"].to_numpy(np.int64)
        for prefix, is_proba in (("logit_", False), ("prob_", True)):
            cols = _numbered(table.columns, prefix)
            if cols:
                return table[cols].to_numpy(np.float64), is_proba
        cols = [c for c in table.columns if str(c) not in _ID_COLUMNS]
        bad = [str(c) for c in cols if not pd.api.types.is_numeric_dtype(table[c])]
        if bad:
            raise MnistlabError(f"{self.path}: non-numeric score columns: {', '.join(bad[:5])}")
        return table[cols].to_numpy(np.float64), False

    def _validate(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        if scores.ndim != 2:
            raise MnistlabError(
                f"{self.path}: expected a 2-D array (N samples, C classes), "
                f"got shape {scores.shape}"
            )
        if scores.shape[1] < 2:
            raise MnistlabError(
                f"{self.path}: expected at least 2 class columns, got shape {scores.shape}"
            )
        finite = np.isfinite(scores)
        if not finite.all():
            row = int(np.argwhere(~finite)[0, 0])
            what = "NaN" if np.isnan(scores[row]).any() else "infinite"
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


def _rows_are_proba(scores: NDArray[np.float64]) -> bool:
    return bool(
        scores.size and scores.min() >= 0 and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)
    )
