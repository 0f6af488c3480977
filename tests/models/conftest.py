"""Small trained models shared by the model tests (trained once per session, in seconds)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_cnn(fashion_train):
    from mnistlab.models import train

    ds = fashion_train[:512]
    return train(ds.images, ds.labels, "cnn", class_names=ds.class_names, epochs=1, progress=False)


@pytest.fixture(scope="session")
def tiny_logreg(fashion_train):
    from mnistlab.models import train

    ds = fashion_train[:600]
    return train(ds.images, ds.labels, "logreg", class_names=ds.class_names, progress=False)
