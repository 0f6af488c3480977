"""Tests of mnistlab.workflows.label_issues: issues of a dataset folder and their grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.workflows.label_issues import find_source_issues, write_issue_grid


def test_dataset_issues_come_with_images_and_a_grid(fashion_dir: Path, tmp_path: Path) -> None:
    table, images, ids = find_source_issues(
        str(fashion_dir), limit=300, folds=2, seed=0, all_rows=True
    )
    assert images is not None and ids is not None
    assert images.shape == (300, 28, 28) and len(ids) == 300
    assert len(table) == 300  # all_rows keeps every sample
    assert set(table["sample_id"]) <= set(ids.tolist())
    grid = write_issue_grid(table, images, ids, tmp_path / "grid.png")
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_grid_without_issues_says_so(tmp_path: Path) -> None:
    import pandas as pd

    table = pd.DataFrame({"sample_id": [0], "label": [1], "suggested": [1], "is_issue": [False]})
    path = write_issue_grid(
        table, np.zeros((1, 28, 28), np.uint8), np.array([0]), tmp_path / "g.png"
    )
    assert path.is_file() and path.stat().st_size > 0


def test_table_of_several_variants_without_clean_is_refused(tmp_path: Path) -> None:
    import pandas as pd

    preds = pd.DataFrame(
        {
            "variant": ["fog-s1", "snow-s1"],
            "sample_id": [0, 0],
            "label": [0, 0],
            "pred": [0, 1],
            "prob_0": [0.9, 0.2],
            "prob_1": [0.1, 0.8],
        }
    )
    path = tmp_path / "preds.csv"
    preds.to_csv(path, index=False)
    with pytest.raises(MnistlabError, match="no 'clean' variant"):
        find_source_issues(path)
