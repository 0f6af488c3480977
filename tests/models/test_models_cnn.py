from __future__ import annotations

import json

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.models import (
    OnnxModel,
    activations,
    export_onnx,
    features,
    layer_names,
    load_model,
    mc_dropout_logits,
    train,
)


def test_cnn_trains_and_records_its_manifest(tiny_cnn, fashion_small):
    m = tiny_cnn.manifest
    assert tiny_cnn.kind == "torch" and tiny_cnn.name == "cnn"
    assert m["architecture"] == "cnn" and m["seed"] == 0 and m["train_size"] == 512
    assert len(m["data_sha256"]) == 64 and m["training_seconds"] > 0
    assert tiny_cnn.class_names[0] == "T-shirt/top"
    logits = tiny_cnn.predict_logits(fashion_small)
    assert logits.dtype == np.float32 and logits.shape == (100, 10)
    proba = tiny_cnn.predict_proba(fashion_small)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-5)
    np.testing.assert_array_equal(tiny_cnn.predict(fashion_small), logits.argmax(1))


def test_save_load_round_trip(tmp_path, tiny_cnn, fashion_small):
    tiny_cnn.save(tmp_path / "cnn")
    manifest = json.loads((tmp_path / "cnn" / "manifest.json").read_text())
    assert manifest["kind"] == "torch" and manifest["class_names"][9] == "Ankle boot"
    back = load_model(tmp_path / "cnn")
    np.testing.assert_array_equal(
        back.predict_logits(fashion_small), tiny_cnn.predict_logits(fashion_small)
    )
    assert back.manifest["data_sha256"] == tiny_cnn.manifest["data_sha256"]
    assert not list(tmp_path.glob(".*part"))  # no temporary left behind


def test_training_is_seeded(fashion_train, fashion_small):
    ds = fashion_train[:256]
    a, b, c = (
        train(ds.images, ds.labels, "tip-cnn", epochs=1, seed=s, progress=False) for s in (3, 3, 4)
    )
    np.testing.assert_array_equal(a.predict_logits(fashion_small), b.predict_logits(fashion_small))
    assert not np.array_equal(a.predict_logits(fashion_small), c.predict_logits(fashion_small))
    assert a.manifest["architecture"] == "tip-cnn" and a.class_names == tuple(
        str(i) for i in range(10)
    )


def test_features_activations_and_mc_dropout(tiny_cnn, fashion_small):
    names = layer_names(tiny_cnn)
    assert names[:2] == ["normalize", "conv1"] and "fc" in names
    feats = features(tiny_cnn, fashion_small)
    assert feats.shape == (100, 256) and feats.dtype == np.float32
    acts = activations(tiny_cnn, fashion_small[:10], "pool1")
    assert acts.shape == (10, 32 * 14 * 14)
    with pytest.raises(MnistlabError, match="no layer 'conv9'"):
        activations(tiny_cnn, fashion_small, "conv9")
    mc = mc_dropout_logits(tiny_cnn, fashion_small[:20], passes=4, seed=1)
    assert mc.shape == (4, 20, 10)
    assert not np.allclose(mc[0], mc[1])  # dropout is on
    np.testing.assert_array_equal(
        mc, mc_dropout_logits(tiny_cnn, fashion_small[:20], passes=4, seed=1)
    )
    # dropout is back off afterwards
    np.testing.assert_array_equal(
        tiny_cnn.predict_logits(fashion_small[:5]), tiny_cnn.predict_logits(fashion_small[:5])
    )
    with pytest.raises(MnistlabError, match="passes"):
        mc_dropout_logits(tiny_cnn, fashion_small, passes=0)


def test_torch_only_helpers_reject_other_models(tiny_logreg, fashion_small, tmp_path):
    with pytest.raises(MnistlabError, match="needs a PyTorch model"):
        features(tiny_logreg, fashion_small)
    with pytest.raises(MnistlabError, match="only PyTorch models"):
        export_onnx(tiny_logreg, tmp_path / "x.onnx")


def test_onnx_round_trip_matches_pytorch(tmp_path, tiny_cnn, fashion_test):
    images = fashion_test.images[:1000]
    path = export_onnx(tiny_cnn, tmp_path / "cnn.onnx")
    onnx_model = OnnxModel(path)
    assert onnx_model.name == "cnn" and onnx_model.num_classes == 10
    ours = tiny_cnn.predict_logits(images)
    theirs = onnx_model.predict_logits(images)
    assert np.abs(ours - theirs).max() < 1e-4
    np.testing.assert_array_equal(ours.argmax(1), theirs.argmax(1))


def test_onnx_options_are_validated(tmp_path, tiny_cnn, fashion_small):
    path = export_onnx(tiny_cnn, tmp_path / "cnn.onnx")
    with pytest.raises(MnistlabError, match="unknown ONNX input layout 'HWC'"):
        OnnxModel(path, layout="HWC")
    with pytest.raises(MnistlabError, match="unknown ONNX output kind"):
        OnnxModel(path, output="odds")
    with pytest.raises(MnistlabError, match="no such ONNX file"):
        OnnxModel(tmp_path / "none.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(MnistlabError, match="not a valid ONNX model"):
        OnnxModel(tmp_path / "bad.onnx")
    with pytest.raises(MnistlabError, match="layout NHWC"):
        OnnxModel(path, layout="NHWC").predict_logits(fashion_small)
    # scale 1 feeds raw 0..255 pixels: different logits, same shape
    raw = OnnxModel(path, scale=1.0).predict_logits(fashion_small[:4])
    assert raw.shape == (4, 10) and not np.allclose(raw, tiny_cnn.predict_logits(fashion_small[:4]))


def test_onnx_probability_outputs_become_log_probabilities(tmp_path, tiny_cnn, fashion_small):
    import torch

    net = torch.nn.Sequential(tiny_cnn.net, torch.nn.Softmax(dim=1)).eval()
    path = tmp_path / "proba.onnx"
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    torch.onnx.export(
        net,
        (torch.zeros(2, 1, 28, 28),),
        str(path),
        input_names=["x"],
        dynamic_axes={"x": {0: "n"}},
        dynamo=False,
    )
    model = OnnxModel(path)
    np.testing.assert_allclose(
        model.predict_proba(fashion_small), tiny_cnn.predict_proba(fashion_small), atol=1e-4
    )


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_precision_is_recorded_and_weights_stay_float32(fashion_train, precision):
    ds = fashion_train[:256]
    m = train(ds.images, ds.labels, "cnn", epochs=1, precision=precision, progress=False)
    assert m.manifest["precision"] == precision
    assert all(p.dtype.is_floating_point and p.element_size() == 4 for p in m.net.parameters())
    assert m.predict_logits(ds.images[:8]).dtype == np.float32


def test_bad_training_inputs(fashion_small):
    with pytest.raises(MnistlabError, match="unknown model 'resnet'"):
        train(fashion_small, np.zeros(100, np.int64), "resnet")
    with pytest.raises(MnistlabError, match="seed"):
        train(fashion_small, np.zeros(100, np.int64), "cnn", seed=-1)
    with pytest.raises(MnistlabError, match="epochs"):
        train(fashion_small, np.zeros(100, np.int64), "cnn", epochs=0)
    with pytest.raises(MnistlabError, match="labels"):
        train(fashion_small, np.zeros(3, np.int64), "cnn")
    with pytest.raises(MnistlabError, match="uint8"):
        train(fashion_small.astype(np.float32), np.zeros(100, np.int64), "tip-cnn")
    with pytest.raises(MnistlabError, match="threads"):
        train(fashion_small, np.zeros(100, np.int64), "cnn", threads=0)
    with pytest.raises(MnistlabError, match="unknown precision 'fp16'"):
        train(fashion_small, np.zeros(100, np.int64), "cnn", precision="fp16")


def test_predict_checks_image_shape(tiny_cnn):
    with pytest.raises(MnistlabError, match=r"expects images of shape \(N, 28, 28\)"):
        tiny_cnn.predict_logits(np.zeros((2, 32, 32), np.uint8))


def test_models_saved_with_the_former_block_order_load_unchanged(tmp_path, fashion_small):
    """The default CNN pools before BatchNorm now; a model saved before (no ``block`` in its
    manifest) is rebuilt with its own order, so its predictions do not change."""
    import torch

    from mnistlab.models.cnn import LEGACY_CNN_BLOCK, TorchModel, build_cnn

    torch.manual_seed(0)
    net = build_cnn(10, block=LEGACY_CNN_BLOCK)
    for module in net.modules():  # max-pool commutes with BatchNorm only for scales > 0
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                module.weight.uniform_(-1, 1)
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    net.eval()
    old = TorchModel(net, "cnn", "old", tuple(str(i) for i in range(10)), {})
    old.save(tmp_path / "old")
    manifest = json.loads((tmp_path / "old" / "manifest.json").read_text())
    assert "block" not in manifest
    back = load_model(tmp_path / "old")
    names = [n for n, _ in back.net.named_children()]
    assert names[:5] == ["normalize", "conv1", "bn1", "relu1", "pool1"]
    x = fashion_small[:64]
    np.testing.assert_array_equal(back.predict_logits(x), old.predict_logits(x))
    # the same weights in the new order give other outputs: the order is really used
    new = build_cnn(10)
    new.load_state_dict(net.state_dict())
    assert not np.allclose(
        TorchModel(new.eval(), "cnn", "new", old.class_names, {}).predict_logits(x),
        old.predict_logits(x),
    )
    with pytest.raises(MnistlabError, match="block order"):
        build_cnn(10, block="pool-conv")
