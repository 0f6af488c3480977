"""Training in the model tests: on a :class:`~mnistlab.data.Dataset`, without progress bars."""

from __future__ import annotations

from typing import Any

from mnistlab.data import Dataset
from mnistlab.models import Model, train


def train_on(ds: Dataset, model: str, **options: Any) -> Model:
    """:func:`mnistlab.models.train` on ``ds``'s images, labels and class names."""
    return train(ds.images, ds.labels, model, class_names=ds.class_names, progress=False, **options)
