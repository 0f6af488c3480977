"""PyTorch and onnxruntime get the chosen threads; the onnxruntime prediction path."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.models import _threads
from mnistlab.models.runtime import OrtRunner, resolve_runtime


def test_torch_and_onnxruntime_get_the_chosen_threads(machine, monkeypatch):
    import torch

    pytest.importorskip("onnxruntime")

    before = torch.get_num_threads()
    (machine / "cpu.max").write_text("100000 100000\n")
    try:
        assert _threads.set_torch_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    options = _threads.ort_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_onnxruntime_agrees_with_torch_float32(tiny_cnn, fashion_test):
    pytest.importorskip("onnxruntime")
    images = fashion_test.images[:1500]
    assert resolve_runtime("auto") == "onnx" and tiny_cnn.runtime == "auto"
    ref = tiny_cnn.torch_logits(images)
    fast = tiny_cnn.predict_logits(images)
    assert fast.dtype == np.float32 and fast.shape == ref.shape
    assert np.abs(fast - ref).max() < 1e-4
    np.testing.assert_array_equal(fast.argmax(1), ref.argmax(1))
    # Deterministic whatever the thread count and the batch boundaries.
    one = OrtRunner(threads=1)
    np.testing.assert_array_equal(one.logits(tiny_cnn, images), fast)
    np.testing.assert_array_equal(tiny_cnn.predict_logits(images[700:1300]), fast[700:1300])


def test_onnx_session_follows_the_weights(tiny_cnn, fashion_test):
    pytest.importorskip("onnxruntime")
    import copy

    import torch

    model = copy.deepcopy(tiny_cnn)
    images = fashion_test.images[:64]
    first = model.predict_logits(images)
    model.predict_logits(images)
    assert model._ort.exports == 1  # cached
    with torch.no_grad():
        model.net.fc.bias.add_(1.0)  # in place: the next prediction exports again
    second = model.predict_logits(images)
    assert model._ort.exports == 2
    np.testing.assert_allclose(second, first + 1.0, atol=1e-4)
    np.testing.assert_allclose(second, model.torch_logits(images), atol=1e-4)


def test_torch_runtime_and_bad_runtime(tiny_cnn, fashion_test):
    import copy

    model = copy.deepcopy(tiny_cnn)
    model.runtime = "torch"
    images = fashion_test.images[:50]
    np.testing.assert_array_equal(model.predict_logits(images), model.torch_logits(images))
    model.runtime = "tpu"
    with pytest.raises(MnistlabError, match="unknown runtime 'tpu'"):
        model.predict_logits(images)
    model.runtime = "auto"
    with pytest.raises(MnistlabError, match="expects images of shape"):
        model.predict_logits(np.zeros((2, 10, 10), np.uint8))


def test_bf16_inference_is_not_exact(tiny_cnn, fashion_test):
    """Why predictions do not use bfloat16: its logits are ~1e-2 off float32's, ONNX's ~1e-6."""
    import torch

    images = fashion_test.images[:500]
    ref = tiny_cnn.torch_logits(images)
    x = tiny_cnn._tensor(images)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        bf16 = tiny_cnn.net(x).float().numpy()
    assert np.abs(bf16 - ref).max() > 10 * np.abs(tiny_cnn.predict_logits(images) - ref).max()
    assert np.mean(bf16.argmax(1) == ref.argmax(1)) > 0.95
