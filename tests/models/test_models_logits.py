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
    with pytest.raises(MnistlabError, match=r"must lie in \[0, 1\]"):
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


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nothing", None, "no such model"),
        ("weird.bin", b"0", "not a model"),
        (".", None, "not a saved mnistlab model"),  # a folder without a manifest
    ],
)
def test_resolve_model_errors(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(MnistlabError, match=message):
        resolve_model(tmp_path / name)


def _idx_dataset(root, n=20):
    """A folder of IDX files with ``n`` test images and labels 0..9."""
    from mnistlab.data.idx import write_idx

    root.mkdir()
    write_idx(root / "t10k-images-idx3-ubyte.gz", np.zeros((n, 28, 28), np.uint8))
    write_idx(root / "t10k-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    return root


def _write_bad(path, case):
    """Write the malformed logits file ``case`` at ``path``; returns what its error says."""
    if case == "empty_npy":
        path.write_bytes(b"")
        return "empty"
    if case == "text_as_npy":
        path.write_text("1,2,3\n")
        return "not a valid .npy"
    if case == "truncated_npy":
        np.save(path, _logits(20))
        path.write_bytes(path.read_bytes()[:200])
        return "not a valid .npy"
    if case == "pickled_npy":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        return "not a valid .npy"
    arrays = {
        "1d": (np.zeros(20), "2-D"),
        "3d": (np.zeros((20, 10, 1)), "2-D"),
        "0_rows": (np.zeros((0, 10)), "no rows"),
        "one_column": (np.zeros((20, 1)), "at least 2"),
        "nan": (np.where(np.arange(200).reshape(20, 10) == 37, np.nan, 0.0), "row 3"),
        "inf": (np.where(np.arange(200).reshape(20, 10) == 55, np.inf, 0.0), "row 5"),
        "beyond_float32": (np.where(np.arange(200).reshape(20, 10) == 1, 1e300, 0.0), "row 0"),
        "bool": (np.ones((20, 10), bool), "dtype bool"),
        "complex": (np.ones((20, 10), complex), "dtype complex"),
        "strings": (np.full((20, 10), "x"), "dtype <U1"),
        "scalar": (np.float64(3.0), "2-D"),
    }
    if case in arrays:
        array, says = arrays[case]
        np.save(path, array)
        return says
    raise AssertionError(case)


NPY_CASES = [
    "empty_npy",
    "text_as_npy",
    "truncated_npy",
    "pickled_npy",
    "1d",
    "3d",
    "0_rows",
    "one_column",
    "nan",
    "inf",
    "beyond_float32",
    "bool",
    "complex",
    "strings",
    "scalar",
]


@pytest.mark.parametrize("case", NPY_CASES)
def test_malformed_npy_logits_are_one_clear_error(tmp_path, case, capsys):
    from mnistlab.cli import main

    path = tmp_path / "theirs.npy"
    says = _write_bad(path, case)
    with pytest.raises(MnistlabError, match=r"theirs\.npy") as info:
        LogitsFile(path)
    assert says in str(info.value)
    data = _idx_dataset(tmp_path / "ds")
    capsys.readouterr()
    assert main(["predict", str(path), str(data), "--out", str(tmp_path / "p.parquet")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "theirs.npy" in err[0] and says in err[0], err
    assert not (tmp_path / "p.parquet").exists()


@pytest.mark.parametrize(
    "content, says",
    [
        (b"", "empty"),
        (b"\xff\xfe\x00\x01" * 40, "not a readable"),
        (b"logit_0,logit_1\n", "no rows"),
        (b"logit_0,logit_1\n1,x\n", "non-numeric"),
        (b"logit_0,logit_1\n1,\n", "row 0"),
        (b"logit_0,logit_1\nTrue,False\n", "non-numeric"),
        (b"sample_id,logit_0,logit_1\n1.5,1,2\n", "sample_id"),
        (b"sample_id,logit_0,logit_1\n1,1,2\n1,2,3\n", "appears twice"),
        (b"sample_id,label\n1,2\n", "no score columns"),
        (b"prob_0,prob_1\n0.5,1.5\n", "[0, 1]"),
    ],
)
def test_malformed_logits_tables(tmp_path, content, says):
    path = tmp_path / "theirs.csv"
    path.write_bytes(content)
    with pytest.raises(MnistlabError, match=r"theirs\.csv") as info:
        LogitsFile(path)
    assert says in str(info.value)
    for garbage in (tmp_path / "g.parquet", tmp_path / "d.parquet"):
        if garbage.name == "d.parquet":
            garbage.mkdir()
        else:
            garbage.write_bytes(content or b"x")
        with pytest.raises(MnistlabError, match=garbage.name.replace(".", r"\.")):
            LogitsFile(garbage)


def test_wrong_rows_for_the_dataset_through_the_cli(tmp_path, capsys):
    from mnistlab.cli import main

    np.save(tmp_path / "l.npy", _logits(7))
    data = _idx_dataset(tmp_path / "ds")
    assert (
        main(["predict", str(tmp_path / "l.npy"), str(data), "--out", str(tmp_path / "p.parquet")])
        == 2
    )
    assert "holds 7 rows" in capsys.readouterr().err


def _onnx_model(path, kind):
    """A tiny ONNX graph: images (N,1,28,28) -> (N,10) scores, NaN ones, or a scalar."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.zeros((784, 10), np.float32)
    if kind == "nan":
        w[:] = np.nan
    nodes = [
        helper.make_node("Flatten", ["images"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["scores"]),
    ]
    out_shape: list = ["N", 10]
    if kind == "scalar":
        nodes.append(helper.make_node("ReduceSum", ["scores"], ["out"], keepdims=0))
        out_shape = []
    else:
        nodes.append(helper.make_node("Identity", ["scores"], ["out"]))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.mark.parametrize("kind, says", [("nan", "NaN or infinite"), ("scalar", "shape ()")])
def test_malformed_onnx_outputs(tmp_path, kind, says, capsys):
    from mnistlab.cli import main
    from mnistlab.models import OnnxModel

    path = _onnx_model(tmp_path / "m.onnx", kind)
    images = np.zeros((5, 28, 28), np.uint8)
    with pytest.raises(MnistlabError, match=r"m\.onnx") as info:
        OnnxModel(path).predict_logits(images)
    assert says in str(info.value)
    data = _idx_dataset(tmp_path / "ds")
    assert main(["predict", str(path), str(data), "--out", str(tmp_path / "p.parquet")]) == 2
    assert says in capsys.readouterr().err


def test_good_onnx_model_still_predicts(tmp_path):
    from mnistlab.models import OnnxModel

    out = OnnxModel(_onnx_model(tmp_path / "m.onnx", "ok")).predict_logits(
        np.zeros((3, 28, 28), np.uint8)
    )
    assert out.shape == (3, 10) and np.isfinite(out).all()


def test_probabilities_that_do_not_sum_to_one_are_refused(tmp_path):
    fives = np.full((6, 10), 0.5)
    fives[:2] = 0.1
    np.save(tmp_path / "p.npy", fives)
    with pytest.raises(MnistlabError, match=r"p\.npy: .*sum to 1 .*first bad row 2 sums to 5"):
        LogitsFile(tmp_path / "p.npy", kind="proba")
    assert not LogitsFile(tmp_path / "p.npy").is_proba  # auto: these are logits
    pd.DataFrame({f"prob_{i}": fives[:, i] for i in range(10)}).to_csv(
        tmp_path / "p.csv", index=False
    )
    with pytest.raises(MnistlabError, match=r"p\.csv: .*first bad row 2 sums to 5"):
        LogitsFile(tmp_path / "p.csv")
    np.save(tmp_path / "ok.npy", softmax(np.arange(20, dtype=np.float32).reshape(2, 10)))
    assert LogitsFile(tmp_path / "ok.npy", kind="proba").is_proba


@pytest.mark.parametrize("scale", ["inf", "0", "-1", "nan"])
def test_predict_refuses_a_scale_that_is_not_finite_and_positive(tmp_path, scale, capsys):
    from mnistlab.cli import main

    path = _onnx_model(tmp_path / "m.onnx", "ok")
    data = _idx_dataset(tmp_path / "ds")
    argv = ["predict", str(path), str(data), "--out", str(tmp_path / "p.parquet")]
    assert main([*argv, "--scale", scale]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scale must be a finite number above 0" in err[0], err
    assert not (tmp_path / "p.parquet").exists()


def test_predict_refuses_probabilities_that_do_not_sum_to_one(tmp_path, capsys):
    from mnistlab.cli import main

    np.save(tmp_path / "p.npy", np.full((20, 10), 0.5))
    data = _idx_dataset(tmp_path / "ds")
    argv = ["predict", str(tmp_path / "p.npy"), str(data), "--out", str(tmp_path / "p.parquet")]
    assert main([*argv, "--scores", "proba"]) == 2
    assert "first bad row 0 sums to 5" in capsys.readouterr().err
