"""Fixtures of the scores tests: a small predictions table (``make_preds``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_preds(labels: np.ndarray, variants: dict[str, float], seed: int = 0) -> pd.DataFrame:
    """A predictions table: logits = 3 * one-hot(label) + noise (more noise = more errors)."""
    rng = np.random.default_rng(seed)
    n, c = labels.size, 10
    parts = []
    for variant, noise in variants.items():
        logits = 3.0 * np.eye(c)[labels] + rng.normal(scale=noise, size=(n, c))
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        corruption, _, sev = variant.rpartition("-s")
        table = pd.DataFrame(
            {
                "sample_id": np.arange(n),
                "variant": variant,
                "corruption": corruption or "identity",
                "severity": int(sev) if corruption else 0,
                "label": labels,
                "pred": probs.argmax(axis=1),
                "model": "cnn",
            }
        )
        for k in range(c):
            table[f"logit_{k}"] = logits[:, k].astype(np.float32)
        for k in range(c):
            table[f"prob_{k}"] = probs[:, k].astype(np.float32)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


VARIANTS = {"clean": 1.0, "gaussian_noise-s2": 1.4, "gaussian_noise-s4": 1.8}


@pytest.fixture
def preds_table(fashion_test) -> pd.DataFrame:
    return make_preds(np.asarray(fashion_test.labels[:200]), VARIANTS)
