"""Scores that call the model: MC dropout, ensembles, surprise adequacy on a tiny CNN."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores import model_scores as ms


@pytest.fixture(scope="module")
def tiny_cnns(fashion_train):
    from mnistlab.models import train

    x, y = fashion_train.images[:300], fashion_train.labels[:300]
    return [train(x, y, "tip-cnn", epochs=1, seed=s, progress=False) for s in (0, 1)]


@pytest.mark.slow
def test_model_based_scores(tiny_cnns, fashion_train, fashion_small, tmp_path) -> None:
    images = fashion_small[:40]
    vr = ms.mc_dropout_variation_ratio(tiny_cnns[0], images, passes=8, seed=0)
    assert vr.shape == (40,) and vr.min() >= 0 and vr.max() < 1
    np.testing.assert_array_equal(vr, ms.mc_dropout_variation_ratio(tiny_cnns[0], images, 8, 0))
    tiny_cnns[1].save(tmp_path / "m1")
    dis = ms.ensemble_disagreement_of([tiny_cnns[0], tmp_path / "m1"], images)
    assert dis.shape == (40,) and set(np.unique(dis)) <= {0.0, 0.5, 1.0}
    train_x, train_y = fashion_train.images[:300], fashion_train.labels[:300]
    sa = ms.surprise_scores(tiny_cnns[0], train_x, train_y, images, layer="fc")
    assert set(sa) == {"dsa", "lsa", "mahalanobis"}
    assert all(v.shape == (40,) and np.isfinite(v).all() for v in sa.values())
    one = ms.surprise_scores(tiny_cnns[0], train_x, train_y, images, kinds=("lsa",))
    assert list(one) == ["lsa"] and np.isfinite(one["lsa"]).all()
    with pytest.raises(MnistlabError, match="at least 2"):
        ms.ensemble_disagreement_of(tiny_cnns[:1], images)
    with pytest.raises(MnistlabError, match="unknown surprise"):
        ms.surprise_scores(tiny_cnns[0], images, np.zeros(40, dtype=int), images, kinds=("x",))


@pytest.mark.slow
def test_conv_layer_traces_are_channel_means(tiny_cnns, fashion_small) -> None:
    import torch

    from mnistlab.models import activations, layer_names

    model, images = tiny_cnns[0], fashion_small[:12]
    convs = [n for n, m in model.net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and convs[0] in layer_names(model)
    channels = dict(model.net.named_modules())[convs[0]].out_channels
    traces = ms.activation_traces(model, images, convs[0])
    flat = activations(model, images, convs[0])  # (N, C*H*W), the raw maps
    assert traces.shape == (12, channels) and flat.shape[1] > channels
    np.testing.assert_allclose(traces, flat.reshape(12, channels, -1).mean(axis=2), rtol=1e-5)
    # The scores run on those C-dimensional traces.
    sa = ms.surprise_scores(model, fashion_small[12:80], np.arange(68) % 10, images, convs[0])
    assert all(v.shape == (12,) and np.isfinite(v).all() for v in sa.values())
