"""Scores over what a model computes besides its probabilities: activation traces.

:func:`surprise_scores` scores activation traces ``(N, D)`` of test inputs against those of
the training set with DSA / LSA / Mahalanobis (:mod:`mnistlab.scores.surprise`). The traces
(and the predicted classes) come from the model; they are extracted by
:func:`mnistlab.workflows.hardness.activation_traces`, and
:func:`mnistlab.workflows.hardness.model_surprise_scores` does both steps for a model. The
other model-based scores need no helper here: MC-dropout passes go to
:func:`~mnistlab.scores.uncertainty.variation_ratio`, the probabilities of K models to
:func:`~mnistlab.scores.uncertainty.ensemble_disagreement`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.errors import MnistlabError
from mnistlab.scores.surprise import SURPRISE

__all__ = ["surprise_scores"]


def surprise_scores(
    train_traces: ArrayLike,
    train_labels: ArrayLike,
    traces: ArrayLike,
    pred: ArrayLike,
    kinds: Sequence[str] = ("dsa", "lsa", "mahalanobis"),
) -> dict[str, NDArray[np.float64]]:
    """Surprise adequacy of ``traces`` against ``train_traces``, one array per kind.

    Parameters
    ----------
    train_traces : array (M, D)
        Activation traces of the training images.
    train_labels : int array (M,)
        Their labels.
    traces : array (N, D)
        Activation traces of the inputs to score.
    pred : int array (N,)
        The model's predicted class of each input; it picks the reference class.
    kinds : sequence of str
        Keys of :data:`~mnistlab.scores.surprise.SURPRISE`.

    Returns
    -------
    dict of kind -> float64 (N,)
        Higher = more surprising.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(40, 3))
    >>> labels = np.arange(40) % 2
    >>> out = surprise_scores(train, labels, [[0.0, 0.0, 0.0], [9.0, 9.0, 9.0]], [0, 1],
    ...                       kinds=("lsa",))
    >>> bool(out["lsa"][1] > out["lsa"][0])
    True
    """
    for k in kinds:
        if k not in SURPRISE:
            raise MnistlabError(f"kinds: unknown surprise {k!r} (known: {', '.join(SURPRISE)})")
    ref = np.asarray(train_traces)
    ats = np.asarray(traces)
    p = np.asarray(pred, dtype=np.int64)
    if p.shape != (ats.shape[0],):
        raise MnistlabError(f"pred: expected shape ({ats.shape[0]},), got {p.shape}")
    y = np.asarray(train_labels, dtype=np.int64)
    return {k: SURPRISE[k]().fit(ref, y).score(ats, p) for k in kinds}
