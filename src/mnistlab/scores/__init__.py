"""Hardness scores, test prioritisation, label issues, active learning, hard-sample tables.

Every score maps arrays to ``float64 (N,)`` where higher means more likely misclassified
(or, for uniqueness, more unusual). See the README (Hardness scores) for every score's range.
The run-level analyses (reading a run, writing ``hardness/<model>/``) are in
:mod:`mnistlab.workflows.hardness`.

Examples
--------
>>> import numpy as np
>>> from mnistlab.scores import SCORES, apfd
>>> probs = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
>>> s = SCORES["gini"](probs)
>>> apfd(s, [False, True, False])
0.8333333333333334
"""

from mnistlab.scores.metrics import (
    apfd,
    aupr,
    auroc,
    evaluate_ranking,
    faults_found_curve,
    faults_in_top_k,
)
from mnistlab.scores.surprise import DSA, LSA, SURPRISE, MahalanobisSA, dsa, lsa, mahalanobis
from mnistlab.scores.table import prioritization_table, score_table
from mnistlab.scores.uncertainty import (
    SCORES,
    ensemble_disagreement,
    entropy,
    gini,
    knn_distance,
    least_confidence,
    margin,
    max_softmax,
    mistakenness,
    score,
    score_all,
    softmax,
    uniqueness,
    variation_ratio,
)

#: FiftyOne Brain's name (``compute_hardness``) of the same score: :func:`entropy`.
hardness = entropy

__all__ = [
    "DSA",
    "LSA",
    "SCORES",
    "SURPRISE",
    "MahalanobisSA",
    "apfd",
    "aupr",
    "auroc",
    "dsa",
    "ensemble_disagreement",
    "entropy",
    "evaluate_ranking",
    "faults_found_curve",
    "faults_in_top_k",
    "gini",
    "hardness",
    "knn_distance",
    "least_confidence",
    "lsa",
    "mahalanobis",
    "margin",
    "max_softmax",
    "mistakenness",
    "prioritization_table",
    "score",
    "score_all",
    "score_table",
    "softmax",
    "uniqueness",
    "variation_ratio",
]
