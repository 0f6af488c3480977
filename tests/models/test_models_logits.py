from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.data import Dataset
from mnistlab.errors import MnistlabError
from mnistlab.models import LogitsFile, softmax
from mnistlab.models.predict import predict_table, resolve_model


def _logits(n=50, c=10, seed=0):
    return np.random.default_rng(seed).normal(size=(n, c)).astype(np.float32) * 3


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".parquet"])
def test_logits_file_round_trip(tmp_path, fashion_small, suffix):
    logits = _logits(len(fashion_small))
    path = tmp_path / f"theirs{suffix}"
    if suffix == ".npy":
        np.save(path, logits)
    else:
        table = pd.DataFrame({f"logit_{i}": logits[:, i] for i in range(10)})
        table.insert(0, "sample_id", np.arange(len(logits)))
        table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    model = resolve_model(path)
    assert isinstance(model, LogitsFile) and model.name == "theirs" and not model.is_proba
    np.testing.assert_allclose(model.predict_logits(fashion_small), logits, rtol=1e-6, atol=1e-6)
    ds = Dataset(fashion_small, np.zeros(len(fashion_small), np.int64), tuple("abcdefghij"))
    table = predict_table(model, ds)
    np.testing.assert_allclose(
        table[[f"logit_{i}" for i in range(10)]].to_numpy(), logits, atol=1e-6
    )
    np.testing.assert_array_equal(table["pred"], logits.argmax(1))
    assert set(table["variant"]) == {"clean"} and set(table["model"]) == {"theirs"}
    if suffix != ".npy":
        np.testing.assert_array_equal(model.sample_ids, np.arange(len(logits)))


def test_probabilities_become_log_probabilities(tmp_path):
    probs = softmax(_logits(20))
    np.save(tmp_path / "p.npy", probs)
    model = LogitsFile(tmp_path / "p.npy")
    assert model.is_proba
    np.testing.assert_allclose(
        model.predict_proba(np.zeros((20, 28, 28), np.uint8)), probs, atol=1e-5
    )
    pd.DataFrame({f"prob_{i}": probs[:, i] for i in range(10)}).to_parquet(tmp_path / "p.parquet")
    assert LogitsFile(tmp_path / "p.parquet").is_proba
    assert not LogitsFile(tmp_path / "p.npy", kind="logits").is_proba


def test_bad_logits_files_are_rejected_naming_the_file(tmp_path):
    bad = _logits(10)
    bad[3, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(MnistlabError, match=r"nan\.npy.*NaN.*row 3"):
        LogitsFile(tmp_path / "nan.npy")
    inf = _logits(10)
    inf[5, 0] = np.inf
    pd.DataFrame(inf).to_csv(tmp_path / "inf.csv", index=False)
    with pytest.raises(MnistlabError, match=r"inf\.csv.*row 5, infinite"):
        LogitsFile(tmp_path / "inf.csv")
    np.save(tmp_path / "flat.npy", np.zeros(10))
    with pytest.raises(MnistlabError, match=r"flat\.npy.*2-D.*\(10,\)"):
        LogitsFile(tmp_path / "flat.npy")
    np.save(tmp_path / "one.npy", np.zeros((10, 1)))
    with pytest.raises(MnistlabError, match="at least 2 class"):
        LogitsFile(tmp_path / "one.npy")
    pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}).to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(MnistlabError, match="non-numeric"):
        LogitsFile(tmp_path / "text.csv")
    with pytest.raises(MnistlabError, match="no such logits file"):
        LogitsFile(tmp_path / "missing.npy")
    (tmp_path / "x.txt").write_text("1")
    with pytest.raises(MnistlabError, match="unsupported"):
        LogitsFile(tmp_path / "x.txt")
    with pytest.raises(MnistlabError, match="unknown scores kind"):
        LogitsFile(tmp_path / "flat.npy", kind="odds")
    np.save(tmp_path / "neg.npy", -np.abs(_logits(5)))
    with pytest.raises(MnistlabError, match="non-negative"):
        LogitsFile(tmp_path / "neg.npy", kind="proba")


def test_logits_shape_must_match_the_data(tmp_path, fashion_small):
    np.save(tmp_path / "l.npy", _logits(30))
    model = LogitsFile(tmp_path / "l.npy")
    with pytest.raises(MnistlabError, match=r"l\.npy: holds 30 rows .* 100 samples"):
        model.predict_logits(fashion_small)
    np.save(tmp_path / "c.npy", _logits(100, 7))
    ds = Dataset(fashion_small, np.zeros(100, np.int64), tuple("abcdefghij"))
    with pytest.raises(MnistlabError, match=r"c\.npy: 7 columns .* 10 classes"):
        predict_table(LogitsFile(tmp_path / "c.npy"), ds)
    with pytest.raises(MnistlabError, match="3 class names"):
        LogitsFile(tmp_path / "c.npy", class_names=["a", "b", "c"])


def test_resolve_model_errors(tmp_path):
    with pytest.raises(MnistlabError, match="no such model"):
        resolve_model(tmp_path / "nothing")
    (tmp_path / "weird.bin").write_bytes(b"0")
    with pytest.raises(MnistlabError, match="not a model"):
        resolve_model(tmp_path / "weird.bin")
    with pytest.raises(MnistlabError, match="not a saved mnistlab model"):
        resolve_model(tmp_path)
