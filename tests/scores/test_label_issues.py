"""Confident learning on out-of-sample probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores.label_issues import find_label_issues


def test_find_label_issues_flags_flipped_labels() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    probs = np.full((120, 3), 0.05)
    probs[np.arange(120), labels] = 0.9
    probs += rng.uniform(0, 0.01, probs.shape)
    probs /= probs.sum(1, keepdims=True)
    given = labels.copy()
    flipped = np.array([3, 50, 100])
    given[flipped] = (labels[flipped] + 1) % 3
    table = find_label_issues(
        given, probs, sample_ids=np.arange(120) + 1000, class_names=["a", "b", "c"]
    )
    assert sorted(table["sample_id"]) == sorted(flipped + 1000)
    assert table["rank"].tolist() == [1, 2, 3]
    assert (table["suggested"].to_numpy() == labels[table["sample_id"] - 1000]).all()
    assert table["label_quality"].is_monotonic_increasing
    assert {"label_name", "suggested_name"} <= set(table.columns)
    full = find_label_issues(given, probs, all_rows=True)
    assert len(full) == 120 and full["is_issue"].iloc[:3].all()


def test_find_label_issues_errors_and_one_class() -> None:
    probs = np.array([[0.9, 0.1], [0.8, 0.2]])
    with pytest.raises(MnistlabError, match="labels"):
        find_label_issues(np.array([0]), probs)
    with pytest.raises(MnistlabError, match=r"\[0, 1\]"):
        find_label_issues(np.array([0, 2]), probs)
    with pytest.raises(MnistlabError, match="sample_ids"):
        find_label_issues(np.array([0, 1]), probs, sample_ids=[1])
    with pytest.raises(MnistlabError, match="class_names"):
        find_label_issues(np.array([0, 1]), probs, class_names=["a"])
    assert len(find_label_issues(np.array([0, 0]), probs)) == 0
