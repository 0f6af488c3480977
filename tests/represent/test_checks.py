"""The boundary checks of mnistlab.represent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.represent._checks import (
    as_matrix,
    check_fraction,
    column_names,
    legacy_random_state,
    same_columns,
)


def test_as_matrix_converts_and_keeps_values() -> None:
    out = as_matrix(np.array([[1, 2], [3, 4]], dtype=np.int32), "x")
    assert out.dtype == np.float64 and out.flags.c_contiguous
    assert out.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    assert as_matrix(frame, "t").tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert column_names(frame) == ["a", "b"]
    assert column_names(np.zeros((1, 1))) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.array([[0.0, np.inf]]), r"x contains NaN or infinite values \(first at row 0, col"),
        (np.zeros(3), r"x must be a 2-D array \(rows x columns\), got shape \(3,\)"),
        (np.zeros((2, 0)), "x has no columns"),
        (np.array([["a"]]), "x must hold real numbers"),
        (pd.DataFrame({"s": ["a"]}), "x: column 's' is not numeric"),
        ([[1.0], [1.0, 2.0]], "x must be a 2-D numeric array"),
    ],
)
def test_as_matrix_refuses(data: object, message: str) -> None:
    with pytest.raises(MnistlabError, match=message):
        as_matrix(data, "x")


def test_min_rows_and_columns() -> None:
    with pytest.raises(MnistlabError, match="codes needs at least 3 rows, got 2"):
        as_matrix(np.zeros((2, 1)), "codes", min_rows=3)
    with pytest.raises(MnistlabError, match="same number of columns, got 1 and 2"):
        same_columns(np.zeros((1, 1)), np.zeros((1, 2)))


def test_check_fraction() -> None:
    assert check_fraction(0.5, "level") == 0.5
    for bad in (0.0, 1.0, float("nan"), True, "0.5"):
        with pytest.raises(MnistlabError, match="level must be a number strictly between"):
            check_fraction(bad, "level")


def test_legacy_random_state_matches_numpy_and_takes_large_seeds() -> None:
    assert (legacy_random_state(7).permutation(9) == np.random.RandomState(7).permutation(9)).all()
    big = legacy_random_state(2**40 + 3).permutation(9)
    assert (big == legacy_random_state(2**40 + 3).permutation(9)).all()
    assert not (big == legacy_random_state(3).permutation(9)).all()
