"""``mnistlab.models.wrap``: any classifier (a torch module, a callable, a scikit-learn estimator,
an ONNX or logits file, a Model) goes straight into every API that takes a model."""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution
from mnistlab.models import LogitsFile, Model, OnnxModel, SklearnModel, load_model, wrap
from mnistlab.models.predict import predict_table, resolve_model
from mnistlab.models.wrap import CallableModel, ModuleModel, Preprocess

torch = pytest.importorskip("torch")
nn = torch.nn

MEAN, STD = 0.286, 0.353  # torchvision-style Normalize of Fashion-MNIST


class TinyNet(nn.Module):
    """A user's own network: linear on 0..1 pixels normalised outside it (the usual recipe)."""

    def __init__(self) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.5)  # eval mode must switch it off
        self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.flatten(x)))


def _normalised(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255))[:, None]
    return (x - MEAN) / STD


@pytest.fixture(scope="module")
def trained_net(fashion_train) -> TinyNet:
    """TinyNet trained for 80 full-batch Adam steps on 2,000 real Fashion-MNIST images."""
    torch.manual_seed(0)
    net = TinyNet()
    ds = fashion_train[:2000]
    x, y = _normalised(ds.images), torch.from_numpy(ds.labels)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(80):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return net.eval()


@pytest.fixture(scope="module")
def logreg(fashion_train):
    """A scikit-learn LogisticRegression fitted on 400 real images (pixels on 0..1)."""
    from sklearn.linear_model import LogisticRegression

    ds = fashion_train[:400]
    flat = ds.images.reshape(len(ds), -1) / 255.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the iteration cap is deliberate
        return LogisticRegression(max_iter=30).fit(flat, ds.labels)


@pytest.fixture(scope="module")
def test_ds(fashion_test):
    return fashion_test[:300]


def _export(net, path, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net,
            (torch.zeros(2, *shape),),
            str(path),
            input_names=["x"],
            dynamic_axes={"x": {0: "n"}},
            dynamo=False,
        )
    return path


# --------------------------------------------------------------------------- torch modules


def test_a_users_module_with_normalisation_in_wrap(trained_net, test_ds):
    model = wrap(trained_net, mean=MEAN, std=STD, name="mine")
    assert isinstance(model, ModuleModel) and model.name == "mine"
    logits = model.predict_logits(test_ds.images)
    with torch.no_grad():
        expected = trained_net(_normalised(test_ds.images)).numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-6, atol=1e-6)
    accuracy = float((logits.argmax(1) == test_ds.labels).mean())
    assert accuracy > 0.7, accuracy  # a real classifier, not noise
    # Without its normalisation the same network sees other inputs and does worse.
    plain = wrap(trained_net).predict_logits(test_ds.images)
    assert float((plain.argmax(1) == test_ds.labels).mean()) < accuracy
    table = predict_table(model, test_ds)
    assert set(table["model"]) == {"mine"} and len(table) == len(test_ds)
    np.testing.assert_array_equal(table["pred"], logits.argmax(1))


def test_eval_mode_no_grad_and_the_mode_is_restored(trained_net, fashion_small):
    class Spy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = trained_net
            self.calls: list[tuple[bool, bool, int]] = []

        def forward(self, x):
            self.calls.append((self.training, torch.is_grad_enabled(), len(x)))
            return self.net(x)

    spy = Spy().train()  # dropout on: predictions must still be deterministic
    model = wrap(spy)
    model.batch_size = 40
    first = model.predict_logits(fashion_small)
    np.testing.assert_array_equal(first, model.predict_logits(fashion_small))
    assert spy.calls[:3] == [(False, False, 40), (False, False, 40), (False, False, 20)]
    assert spy.training and trained_net.training  # the mode is given back
    spy.eval()


def test_predict_table_takes_a_bare_module(trained_net, test_ds):
    """The issue: ``predict_table(net, ds)`` raised a raw AttributeError."""
    table = predict_table(trained_net, test_ds)
    assert set(table["model"]) == {"TinyNet"}
    np.testing.assert_array_equal(table["pred"], wrap(trained_net).predict(test_ds.images))


def test_layouts_feed_the_same_pixels(trained_net, fashion_small):
    flat_net = nn.Sequential(nn.Linear(784, 10))
    flat_net[0].load_state_dict(trained_net.fc.state_dict())
    nchw = wrap(trained_net, mean=MEAN, std=STD).predict_logits(fashion_small)
    flat = wrap(flat_net, mean=MEAN, std=STD, layout="flat").predict_logits(fashion_small)
    np.testing.assert_array_equal(nchw, flat)

    class Nhwc(nn.Module):
        def forward(self, x):
            assert x.shape[1:] == (28, 28, 1)
            return trained_net(x.permute(0, 3, 1, 2))

    nhwc = wrap(Nhwc(), mean=MEAN, std=STD, layout="nhwc").predict_logits(fashion_small)
    np.testing.assert_allclose(nhwc, nchw, atol=1e-6)


def test_saved_module_reloads_as_onnx_with_the_same_logits(tmp_path, trained_net, test_ds):
    model = wrap(trained_net, mean=MEAN, std=STD, name="mine")
    ours = model.predict_logits(test_ds.images)
    folder = model.save(tmp_path / "mine")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "onnx" and manifest["name"] == "mine"
    assert manifest["preprocess"] == {"scale": 1 / 255, "mean": MEAN, "std": STD, "layout": "NCHW"}
    file = folder / manifest["file"]
    assert manifest["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()
    assert manifest["exporter"] in ("torchscript", "dynamo") and manifest["module"].endswith(
        "TinyNet"
    )
    back = load_model(folder)
    assert isinstance(back, OnnxModel) and back.name == "mine" and back.num_classes == 10
    np.testing.assert_allclose(back.predict_logits(test_ds.images), ours, atol=1e-5)
    # A changed file is refused (its sha256 no longer matches).
    file.write_bytes(file.read_bytes() + b"\0")
    with pytest.raises(MnistlabError, match="sha256 differs"):
        load_model(folder)


def test_saved_probability_module_reloads(tmp_path, trained_net, fashion_small):
    net = nn.Sequential(trained_net, nn.Softmax(dim=1)).eval()
    model = wrap(net, mean=MEAN, std=STD)
    np.testing.assert_allclose(
        model.predict_proba(fashion_small),
        wrap(trained_net, mean=MEAN, std=STD).predict_proba(fashion_small),
        atol=1e-5,
    )
    back = load_model(model.save(tmp_path / "p"))
    np.testing.assert_allclose(
        back.predict_logits(fashion_small), model.predict_logits(fashion_small), atol=1e-5
    )
    # An OnnxModel saves too, and reloads with its preprocessing.
    again = load_model(back.save(tmp_path / "again"))
    assert again.preprocess == back.preprocess


def test_export_falls_back_to_torch_export(monkeypatch, tmp_path, trained_net, fashion_small):
    pytest.importorskip("onnxscript")
    from mnistlab.models import onnx as onnx_module

    real = onnx_module._export

    def no_torchscript(net, example, opset, dynamo):
        if not dynamo:
            raise RuntimeError("TorchScript exporter removed")
        return real(net, example, opset, dynamo)

    monkeypatch.setattr(onnx_module, "_export", no_torchscript)
    model = wrap(trained_net)
    folder = model.save(tmp_path / "d")
    assert json.loads((folder / "manifest.json").read_text())["exporter"] == "dynamo"
    np.testing.assert_allclose(
        load_model(folder).predict_logits(fashion_small),
        model.predict_logits(fashion_small),
        atol=1e-5,
    )


def test_module_outputs_are_checked(fashion_small):
    class Nan(nn.Module):
        def forward(self, x):
            out = torch.zeros(len(x), 3)
            out[4, 1] = float("nan")
            return out

    class One(nn.Module):
        def forward(self, x):
            return torch.zeros(len(x), 1)

    class Words(nn.Module):
        def forward(self, x):
            return "cat"

    class Pair(nn.Module):
        def forward(self, x):
            return torch.ones(len(x), 2), "extra"

    with pytest.raises(MnistlabError, match=r"'Nan'.*NaN or infinite.*row 4"):
        wrap(Nan()).predict_logits(fashion_small)
    with pytest.raises(MnistlabError, match=r"shape \(100, 1\), expected \(100, C\) with C >= 2"):
        wrap(One()).predict_logits(fashion_small)
    with pytest.raises(MnistlabError, match="returns str, not a tensor"):
        wrap(Words()).predict_logits(fashion_small)
    assert wrap(Pair()).predict_logits(fashion_small).shape == (100, 2)
    with pytest.raises(MnistlabError, match=r"\(N, H, W\)"):
        wrap(Pair()).predict_logits(fashion_small[0])


# --------------------------------------------------------------------------- callables


def test_a_lambda_and_what_it_is_given(test_ds):
    seen = {}

    def spy(images):
        seen["dtype"], seen["shape"], seen["writeable"] = (
            images.dtype,
            images.shape,
            images.flags.writeable,
        )
        return np.stack([images.mean((1, 2)), 255 - images.mean((1, 2))], axis=1)

    model = wrap(spy)
    assert isinstance(model, CallableModel) and model.name == "spy"
    model.predict_logits(test_ds.images[:5])
    assert seen == {"dtype": np.uint8, "shape": (5, 28, 28), "writeable": False}
    wrap(spy, scale=1.0, layout="NCHW").predict_logits(test_ds.images[:5])
    assert seen["dtype"] == np.float32 and seen["shape"] == (5, 1, 28, 28)

    probs = wrap(lambda x: np.full((len(x), 4), 0.25))
    assert probs.name == "callable"
    np.testing.assert_allclose(probs.predict_proba(test_ds.images[:3]), 0.25, atol=1e-6)
    with pytest.raises(MnistlabError, match=r"first bad row 0 sums to 2"):
        wrap(lambda x: np.full((len(x), 4), 0.5), output="proba").predict_logits(test_ds.images)
    with pytest.raises(MnistlabError, match=r"outputs <U1, not scores"):
        wrap(lambda x: np.array(["a"] * len(x))).predict_logits(test_ds.images[:2])
    with pytest.raises(MnistlabError, match=r"shape \(1, 2\), expected \(3, C\)"):
        wrap(lambda x: np.zeros((1, 2))).predict_logits(test_ds.images[:3])
    with pytest.raises(MnistlabError, match="cannot be saved"):
        wrap(spy).save("nowhere")


def test_callables_predict_in_process_under_a_pool(test_ds):
    """A lambda does not pickle: it predicts in this process whatever the executor."""
    model = wrap(lambda x: x[:, ::3, ::3].reshape(len(x), -1)[:, :10], name="pixels")
    serial = predict_table(model, test_ds)
    pooled = predict_table(model, test_ds, execution=Execution("local", workers=2, chunk_size=50))
    pd.testing.assert_frame_equal(serial, pooled)


# --------------------------------------------------------------------------- scikit-learn


def test_a_fitted_scikit_learn_estimator(tmp_path, logreg, test_ds):
    model = wrap(logreg)
    assert isinstance(model, SklearnModel) and model.name == "LogisticRegression"
    flat = test_ds.images.reshape(len(test_ds), -1).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(model.predict(test_ds.images), logreg.predict(flat))
    np.testing.assert_allclose(
        model.predict_proba(test_ds.images), logreg.predict_proba(flat), atol=1e-5
    )
    back = load_model(model.save(tmp_path / "lr"))
    np.testing.assert_array_equal(
        back.predict_logits(test_ds.images), model.predict_logits(test_ds.images)
    )
    table = predict_table(logreg, test_ds)  # the bare estimator goes straight in
    np.testing.assert_array_equal(table["pred"], logreg.predict(flat))


def test_estimator_preprocessing_is_applied_and_saved(tmp_path, fashion_train, test_ds):
    from sklearn.linear_model import LogisticRegression

    ds = fashion_train[:400]
    norm = (ds.images.reshape(len(ds), -1) / 255.0 - MEAN) / STD
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = LogisticRegression(max_iter=30).fit(norm, ds.labels)
    model = wrap(clf, mean=MEAN, std=STD)
    test = (test_ds.images.reshape(len(test_ds), -1) / 255.0 - MEAN) / STD
    np.testing.assert_allclose(
        model.predict_proba(test_ds.images), clf.predict_proba(test), atol=1e-4
    )
    back = load_model(model.save(tmp_path / "n"))
    np.testing.assert_array_equal(
        back.predict_logits(test_ds.images), model.predict_logits(test_ds.images)
    )


def test_estimators_that_cannot_be_wrapped(logreg):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(MnistlabError, match="LogisticRegression is not fitted"):
        wrap(LogisticRegression())
    with pytest.raises(MnistlabError, match="layout must be 'flat'"):
        wrap(logreg, layout="NCHW")
    words = LogisticRegression().fit(np.eye(4), ["a", "b", "a", "b"])
    with pytest.raises(MnistlabError, match="classes_ must be integer labels"):
        wrap(words)


# --------------------------------------------------------------------------- files, Models


def test_an_onnx_file_with_its_layout_read_from_the_input_shape(tmp_path, trained_net, test_ds):
    class Nhwc(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = trained_net

        def forward(self, x):
            return self.net(x.permute(0, 3, 1, 2))

    path = _export(Nhwc().eval(), tmp_path / "nhwc.onnx", (28, 28, 1))
    model = wrap(path, mean=MEAN, std=STD)
    assert isinstance(model, OnnxModel) and model.layout == "NHWC" and model.name == "nhwc"
    expected = wrap(trained_net, mean=MEAN, std=STD).predict_logits(test_ds.images)
    np.testing.assert_allclose(model.predict_logits(test_ds.images), expected, atol=1e-5)
    flat = _export(nn.Sequential(trained_net.fc).eval(), tmp_path / "flat.onnx", (784,))
    assert OnnxModel(flat).layout == "flat"
    table = predict_table(str(path), test_ds)  # defaults (no mean/std): still predicts
    assert len(table) == len(test_ds) and set(table["model"]) == {"nhwc"}
    resolved = resolve_model(path, mean=MEAN, std=STD, name="r")
    assert resolved.name == "r" and resolved.preprocess == Preprocess(
        mean=MEAN, std=STD, layout="NHWC"
    )


def test_a_logits_file_and_an_existing_model(tmp_path, test_ds, trained_net):
    logits = wrap(trained_net).predict_logits(test_ds.images)
    np.save(tmp_path / "theirs.npy", logits)
    model = wrap(tmp_path / "theirs.npy")
    assert isinstance(model, LogitsFile) and model.name == "theirs"
    np.testing.assert_array_equal(predict_table(tmp_path / "theirs.npy", test_ds)["pred"],
                                  logits.argmax(1))  # fmt: skip
    assert wrap(model) is model
    renamed = wrap(model, name="other")
    assert renamed.name == "other" and model.name == "theirs"
    with pytest.raises(MnistlabError, match="scale does not apply to an existing LogitsFile"):
        wrap(model, scale=1.0)
    with pytest.raises(MnistlabError, match="mean, std do not apply to the logits file"):
        wrap(tmp_path / "theirs.npy", mean=0.5, std=0.5)
    folder = wrap(trained_net, name="saved").save(tmp_path / "saved")
    assert wrap(folder).name == "saved" and wrap(str(folder), name="x").name == "x"


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("obj", [42, object(), [1, 2], int, None])
def test_anything_else_is_refused_listing_what_is_accepted(obj):
    with pytest.raises(
        MnistlabError, match=r"as a model: give a mnistlab Model, a torch\.nn\.Module"
    ):
        wrap(obj)
    with pytest.raises(MnistlabError, match="as a model"):
        predict_table(obj, "nowhere")


def test_paths_that_are_no_model(tmp_path):
    with pytest.raises(MnistlabError, match=r"no such model file or folder.*torch\.nn\.Module"):
        wrap(tmp_path / "missing.pt")
    (tmp_path / "w.pt").write_bytes(b"0")
    with pytest.raises(MnistlabError, match=r"not a model file .*an \.onnx file"):
        wrap(tmp_path / "w.pt")


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("scale", float("inf"), "scale must be a finite number above 0, got inf"),
        ("scale", 0, "scale must be a finite number above 0, got 0"),
        ("scale", -1, "scale must be a finite number above 0, got -1"),
        ("scale", float("nan"), "scale must be a finite number above 0, got nan"),
        ("scale", "1", "scale must be a finite number above 0, got '1'"),
        ("scale", True, "scale must be a finite number above 0, got True"),
        ("mean", float("nan"), "mean must be a finite number, got nan"),
        ("std", 0.0, "std must be a finite number above 0, got 0.0"),
        ("std", float("-inf"), "std must be a finite number above 0, got -inf"),
        ("layout", "HWC", "input layout 'HWC'"),
    ],
)
def test_bad_preprocessing_is_refused(tmp_path, trained_net, option, value, says):
    for obj in (trained_net, lambda x: x):
        with pytest.raises(MnistlabError) as info:
            wrap(obj, **{option: value})
        assert says in str(info.value)
    onnx = _export(trained_net, tmp_path / "m.onnx", (1, 28, 28))
    with pytest.raises(MnistlabError) as info:  # what `predict FILE.onnx --scale inf` calls
        resolve_model(onnx, **{option: value})
    assert says in str(info.value)


def test_other_options_are_checked(trained_net):
    with pytest.raises(MnistlabError, match="unknown output kind 'odds'"):
        wrap(trained_net, output="odds")
    with pytest.raises(MnistlabError, match="model name must be a non-empty"):
        wrap(trained_net, name="")
    assert isinstance(wrap(trained_net, name="n"), Model)
