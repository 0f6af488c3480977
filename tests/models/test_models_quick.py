"""mnistlab.models.quick: the PCA + logistic regression model, fitted and cross-validated."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.models.quick import cross_val_probs, fit_quick


def test_cross_val_probs_on_real_images(fashion_test) -> None:
    x, y = fashion_test.images[:600], fashion_test.labels[:600]
    probs = cross_val_probs(x, y, folds=3, pca=20)
    assert probs.shape == (600, 10)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    assert (probs.argmax(1) == y).mean() > 0.65
    with pytest.raises(MnistlabError, match="folds"):
        cross_val_probs(x, y, folds=1)
    with pytest.raises(MnistlabError, match="at least 3 samples"):
        cross_val_probs(x[:12], y[:12], folds=3)
    with pytest.raises(MnistlabError, match="matching"):
        cross_val_probs(x[:5], y[:6])


def test_fit_quick_gives_every_class_a_column(fashion_test) -> None:
    x, y = fashion_test.images[:400], fashion_test.labels[:400]
    keep = y != 9  # the fit never sees class 9, but the labels say 10 classes
    model = fit_quick(x[keep], np.where(keep, y, 8)[keep], seed=0)
    probs = model.predict_proba(x[:50])
    assert probs.shape[0] == 50 and model.n_classes == 9
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    same = fit_quick(x[keep], y[keep], seed=0).predict_proba(x[:50])
    np.testing.assert_array_equal(same, fit_quick(x[keep], y[keep], seed=0).predict_proba(x[:50]))
