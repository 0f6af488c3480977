"""Label issues by confident learning (cleanlab) on out-of-sample probabilities.

Confident learning needs probabilities from a model that did not train on the sample. For a
predictions table of a test split that holds already (the model trained on the train split);
for a dataset, :func:`mnistlab.models.quick.cross_val_probs` cross-validates a quick model
(PCA + logistic regression) so every sample is scored by a model that never saw it.

Examples
--------
>>> import numpy as np
>>> probs = np.array([[0.9, 0.1]] * 5 + [[0.1, 0.9]] * 5)
>>> labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])  # sample 4 looks like class 0
>>> find_label_issues(labels, probs)["sample_id"].tolist()
[4]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["find_label_issues"]


def find_label_issues(
    labels: ArrayLike,
    probs: ArrayLike,
    sample_ids: ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    all_rows: bool = False,
) -> pd.DataFrame:
    """Rank likely label errors with cleanlab's confident learning.

    Parameters
    ----------
    labels : int array (N,)
        Given labels.
    probs : array (N, C)
        Out-of-sample class probabilities.
    sample_ids : int array (N,), optional
        Default ``0..N-1``.
    class_names : sequence of str, optional
        Adds ``label_name`` and ``suggested_name`` columns.
    all_rows : bool
        Return every sample (issues first) instead of the issues only.

    Returns
    -------
    DataFrame with ``rank, sample_id, label, suggested, label_quality, is_issue`` (plus
    names), sorted by increasing label quality (cleanlab's self-confidence: the probability
    of the given label), worst first. ``label_quality`` lies in ``[0, 1]``.
    """
    import pandas as pd
    from cleanlab.filter import find_label_issues as cl_find
    from cleanlab.rank import get_label_quality_scores

    from mnistlab.scores.uncertainty import check_probs

    p = check_probs(probs)
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (p.shape[0],):
        raise MnistlabError(f"labels: expected shape ({p.shape[0]},), got {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= p.shape[1]):
        raise MnistlabError(f"labels: values must lie in [0, {p.shape[1] - 1}]")
    ids = np.arange(y.size) if sample_ids is None else np.asarray(sample_ids, dtype=np.int64)
    if ids.shape != y.shape:
        raise MnistlabError(f"sample_ids: expected shape {y.shape}, got {ids.shape}")
    # cleanlab wants every class present in the labels; restrict to the classes seen
    present = np.unique(y)
    remap = np.full(p.shape[1], -1, dtype=np.int64)
    remap[present] = np.arange(present.size)
    sub = p[:, present]
    sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
    if present.size < 2:
        is_issue = np.zeros(y.size, dtype=bool)
        quality = sub[:, 0]
    else:
        is_issue = np.asarray(cl_find(remap[y], sub), dtype=bool)
        quality = np.asarray(get_label_quality_scores(remap[y], sub), dtype=np.float64)
    table = pd.DataFrame(
        {
            "sample_id": ids,
            "label": y,
            "suggested": p.argmax(axis=1).astype(np.int64),
            "label_quality": quality,
            "is_issue": is_issue,
        }
    )
    if class_names is not None:
        names = np.asarray(list(class_names), dtype=object)
        if names.size < p.shape[1]:
            raise MnistlabError(f"class_names: {names.size} names for {p.shape[1]} classes")
        table.insert(2, "label_name", names[y])
        table["suggested_name"] = names[table["suggested"].to_numpy()]
    table = table.sort_values(
        ["is_issue", "label_quality", "sample_id"], ascending=[False, True, True], kind="stable"
    )
    if not all_rows:
        table = table[table["is_issue"]]
    table = table.reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
