"""Robustness evaluation of prediction tables: accuracy per corruption x severity, mCE, ECE.

Functions over tables only; :func:`mnistlab.workflows.evaluate.evaluate_predictions` writes
them (and their figures, :mod:`mnistlab.figures.evaluate`) into a folder.

Examples
--------
>>> import pandas as pd
>>> from mnistlab.evaluate import accuracy_table
>>> preds = pd.DataFrame({"model": "m", "corruption": ["identity", "identity"],
...                       "severity": 0, "label": [0, 1], "pred": [0, 0],
...                       "confidence": [0.9, 0.6], "correct": [True, False]})
>>> accuracy_table(preds)["accuracy"].tolist()
[0.5]
"""

from __future__ import annotations

from mnistlab.evaluate import robustness
from mnistlab.evaluate.robustness import *  # noqa: F403  (the names of robustness.__all__)

__all__ = ["DEFAULT_BASELINE", *robustness.__all__]

DEFAULT_BASELINE = "logreg"
