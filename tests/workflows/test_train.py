"""Tests of mnistlab.workflows.train: option checks and training on a dataset folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnistlab.errors import MnistlabError
from mnistlab.workflows.train import train_on_dataset, train_options


def test_train_options_per_model_kind() -> None:
    assert train_options("logreg") == {}
    assert train_options("cnn") == {"precision": "auto"}
    assert train_options("cnn", precision="fp32") == {"precision": "fp32"}
    augmented = train_options("cnn", augment="noise", augment_p=0.3)
    assert set(augmented) == {"precision", "corruption_augment"}


@pytest.mark.parametrize(
    ("model", "kwargs", "message"),
    [
        ("logreg", {"precision": "bf16"}, "--precision applies to PyTorch models only"),
        ("logreg", {"augment": "noise"}, "--augment applies to PyTorch models only"),
        ("cnn", {"augment_p": 0.2}, "--augment-p needs --augment"),
        ("nosuch", {}, "nosuch"),
    ],
)
def test_train_options_refuses(model: str, kwargs: dict, message: str) -> None:
    with pytest.raises(MnistlabError, match=message):
        train_options(model, **kwargs)


def test_train_on_dataset_records_dataset_and_accuracy(fashion_dir: Path) -> None:
    fitted = train_on_dataset(str(fashion_dir), "logreg", {}, train_size=300, epochs=5)
    assert fitted.manifest["dataset"] == str(fashion_dir)
    assert 0.3 < fitted.manifest["accuracy"] <= 1.0
    assert fitted.manifest["training_seconds"] >= 0
