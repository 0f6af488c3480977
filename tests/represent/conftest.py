"""The real Morpho-MNIST morphometrics of the MNIST test set, for the representation tests."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(
    os.environ.get("MNISTLAB_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
MORPHO_CSV = SHARED_DATA / "morpho-mnist" / "original" / "t10k-morpho.csv"
METRICS = ["area", "length", "thickness", "slant", "width", "height"]


@pytest.fixture(scope="session")
def morpho_table() -> pd.DataFrame:
    """``t10k-morpho.csv``: 10,000 rows of index, area, length, thickness, slant, width,
    height (skipped where the shared data is missing)."""
    if not MORPHO_CSV.is_file():
        pytest.skip(f"no Morpho-MNIST morphometrics at {MORPHO_CSV}")
    return pd.read_csv(MORPHO_CSV)
