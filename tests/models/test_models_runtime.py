"""Thread choice (affinity, cgroup quota, OMP_NUM_THREADS) and the onnxruntime prediction path."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.models import _threads
from mnistlab.models.runtime import OrtRunner, resolve_runtime


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A fake machine: 8 CPUs in the affinity mask, a cgroup folder, no OMP_NUM_THREADS."""
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(_threads, "CGROUP_ROOT", tmp_path)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    return tmp_path


def test_threads_follow_the_affinity_mask(machine, monkeypatch):
    assert _threads.choose_threads() == 8
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert _threads.choose_threads() == 1


@pytest.mark.parametrize(
    ("cpu_max", "expected"), [("max 100000", 8), ("200000 100000", 2), ("150000 100000", 2)]
)
def test_threads_honour_the_cgroup_v2_quota(machine, cpu_max, expected):
    (machine / "cpu.max").write_text(cpu_max + "\n")
    assert _threads.choose_threads() == expected


def test_threads_honour_the_cgroup_v1_quota(machine):
    (machine / "cpu").mkdir()
    (machine / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    (machine / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert _threads.cgroup_cpu_quota() == pytest.approx(3.0)
    assert _threads.choose_threads() == 3
    (machine / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # unlimited
    assert _threads.choose_threads() == 8


def test_workers_never_oversubscribe(machine, monkeypatch):
    # Side by side processes share the CPUs; a pool worker (OMP_NUM_THREADS=1) gets one.
    assert _threads.choose_threads(parallel=3) == 2
    assert _threads.choose_threads(parallel=20) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _threads.choose_threads() == 1
    assert _threads.choose_threads(4) == 4  # an explicit choice wins
    with pytest.raises(MnistlabError, match="threads"):
        _threads.choose_threads(0)
    with pytest.raises(MnistlabError, match="parallel"):
        _threads.choose_threads(parallel=0)


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
