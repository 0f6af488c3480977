"""Small trained models shared by the model tests (trained once per session, in seconds)."""

from __future__ import annotations

import pytest
from tests.models._helpers import train_on


@pytest.fixture(scope="session")
def tiny_cnn(fashion_train):
    return train_on(fashion_train[:512], "cnn", epochs=1)


@pytest.fixture(scope="session")
def tiny_logreg(fashion_train):
    return train_on(fashion_train[:600], "logreg")
