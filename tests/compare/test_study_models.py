"""The models of a study: names of model files, the augmented model, logits of every variant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.workflows.study import StudyOptions
from mnistlab.workflows.study_models import (
    VariantLogits,
    check_study_models,
    train_recipe,
    trained_names,
    with_model_names,
)


def test_model_files_are_named_and_not_trained(tmp_path: Path) -> None:
    onnx = tmp_path / "resnet.onnx"
    onnx.write_bytes(b"x")
    opts = with_model_names(
        StudyOptions(models=("cnn", "logreg", str(onnx)), augment=("noise", "blur"))
    )
    assert opts.models == ("cnn", "logreg", "resnet", "cnn-aug")
    assert dict(opts.model_files) == {"resnet": str(onnx)}
    assert with_model_names(opts) == opts  # idempotent
    assert trained_names(opts) == ["cnn", "logreg", "cnn-aug"]
    assert check_study_models(opts) == opts.models
    base, recipe = train_recipe("cnn-aug", opts)
    assert base == "cnn" and recipe["name"] == "cnn-aug"
    assert recipe["corruption_augment"].families == ("noise", "blur")
    assert train_recipe("logreg", opts) == ("logreg", {})


def test_bad_study_models(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="no such model file"):
        with_model_names(StudyOptions(models=("cnn", str(tmp_path / "missing.onnx"))))
    with pytest.raises(MnistlabError, match="given twice"):
        with_model_names(StudyOptions(models=("cnn", "cnn")))
    with pytest.raises(MnistlabError, match=r"probability in \[0, 1\], got 1.5"):
        with_model_names(StudyOptions(augment=("noise",), augment_p=1.5))
    with pytest.raises(MnistlabError, match="unknown corruption or family 'nope'"):
        with_model_names(StudyOptions(augment=("noise", "nope")))
    # without a PyTorch model in the list the augmented model is the default CNN
    assert with_model_names(StudyOptions(models=("logreg",), augment=("noise",))).models == (
        "logreg",
        "cnn-aug",
    )
    with pytest.raises(MnistlabError, match="unknown model 'nosuch'"):
        check_study_models(with_model_names(StudyOptions(models=("nosuch", "logreg"))))


def test_variant_logits_from_a_table_and_an_array(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    variants, n = ["clean", "fog-s1"], 6
    logits = rng.normal(size=(2, 8, 3))  # more samples than the study uses
    rows = [
        pd.DataFrame(
            {"sample_id": np.arange(8)[::-1], "variant": v}
            | {f"logit_{c}": logits[k, ::-1, c] for c in range(3)}
        )
        for k, v in enumerate(variants)
    ]
    pd.concat(rows).to_parquet(tmp_path / "ext.parquet")
    np.save(tmp_path / "ext.npy", logits)
    for path in (tmp_path / "ext.parquet", tmp_path / "ext.npy"):
        model = VariantLogits(path, variants, n).for_variant("fog-s1", "ext", ("a", "b", "c"))
        np.testing.assert_allclose(
            model.predict_logits(np.zeros((n, 28, 28), np.uint8)), logits[1, :n], rtol=1e-6
        )
    np.save(tmp_path / "clean_only.npy", logits[0])
    with pytest.raises(MnistlabError, match="needs scores for every variant"):
        VariantLogits(tmp_path / "clean_only.npy", variants, n)
    with pytest.raises(MnistlabError, match=r"sample ids 0\.\.9"):
        VariantLogits(tmp_path / "ext.parquet", variants, 10)
