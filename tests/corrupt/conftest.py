"""Corruption tests run the numba kernels whenever ``USE_NUMBA`` is on, whatever the batch size.

Production code skips numba for batches below ``NUMBA_MIN_BATCH`` (its import costs more
than such a batch); the tests that compare the two paths set the threshold themselves.
"""

from __future__ import annotations

import pytest

from mnistlab.corrupt import _kernels


@pytest.fixture(autouse=True)
def _numba_for_any_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_kernels, "NUMBA_MIN_BATCH", 0)
