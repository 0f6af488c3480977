"""Per-sample randomness: same values whatever the batching, independent streams, sane moments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnistlab import random as mrandom


@settings(max_examples=30, deadline=None)
@given(
    ids=st.lists(st.integers(0, 2**40), min_size=1, max_size=40),
    cut=st.integers(0, 40),
    seed=st.integers(0, 2**32),
)
def test_values_do_not_depend_on_batch_split(ids: list[int], cut: int, seed: int) -> None:
    whole = mrandom.uniform(seed, ids, (3, 2), stream="noise")
    parts = [
        mrandom.uniform(seed, ids[:cut], (3, 2), stream="noise"),
        mrandom.uniform(seed, ids[cut:], (3, 2), stream="noise"),
    ]
    assert np.array_equal(whole, np.concatenate(parts))
    # Order does not matter either: each row follows its own sample id.
    rev = mrandom.uniform(seed, ids[::-1], (3, 2), stream="noise")
    assert np.array_equal(rev, whole[::-1])


def test_chunking_beyond_the_internal_block() -> None:
    ids = np.arange(1000)
    whole = mrandom.normal(3, ids, (5,), stream=7)
    chunks = np.concatenate(
        [mrandom.normal(3, ids[s : s + 333], (5,), stream=7) for s in range(0, 1000, 333)]
    )
    assert np.array_equal(whole, chunks)


def test_streams_seeds_and_samples_are_distinct() -> None:
    ids = np.arange(64)
    a = mrandom.uniform(0, ids, (16,), stream="a")
    assert not np.array_equal(a, mrandom.uniform(0, ids, (16,), stream="b"))
    assert not np.array_equal(a, mrandom.uniform(1, ids, (16,), stream="a"))
    assert not np.array_equal(a, mrandom.uniform(0, ids, (16,), stream=1))
    assert len({row.tobytes() for row in a}) == 64
    # Within a sample, positions are not a copy of each other.
    assert np.unique(a).size == a.size
    corr = np.corrcoef(a.ravel(), mrandom.uniform(0, ids, (16,), stream="b").ravel())[0, 1]
    assert abs(corr) < 0.1


def test_uniform_moments_and_range() -> None:
    u = mrandom.uniform(42, np.arange(2000), (50,), dtype=np.float64)
    assert u.shape == (2000, 50) and u.dtype == np.float64
    assert u.min() >= 0.0 and u.max() < 1.0
    assert u.mean() == pytest.approx(0.5, abs=0.005)
    assert u.var() == pytest.approx(1 / 12, abs=0.002)
    hist = np.histogram(u, bins=10, range=(0, 1))[0] / u.size
    assert np.all(np.abs(hist - 0.1) < 0.005)
    assert mrandom.uniform(0, [1, 2]).shape == (2,)
    assert mrandom.uniform(0, [1]).dtype == np.float32


def test_normal_integers_bernoulli() -> None:
    ids = np.arange(5000)
    z = mrandom.normal(1, ids, (20,))
    assert z.mean() == pytest.approx(0.0, abs=0.01) and z.std() == pytest.approx(1.0, abs=0.01)
    assert np.isfinite(z).all()
    k = mrandom.integers(1, ids, -2, 3, (4,))
    assert k.dtype == np.int64 and set(np.unique(k).tolist()) == {-2, -1, 0, 1, 2}
    b = mrandom.bernoulli(1, ids, 0.3, (10,))
    assert b.dtype == np.bool_ and b.mean() == pytest.approx(0.3, abs=0.01)
    assert not mrandom.bernoulli(1, ids, 0.0).any() and mrandom.bernoulli(1, ids, 1.0).all()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -1"):
        mrandom.uniform(-1, [0])
    with pytest.raises(ValueError, match="high must be greater than low, got low=3, high=3"):
        mrandom.integers(0, [0], 3, 3)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1\.5"):
        mrandom.bernoulli(0, [0], 1.5)
    with pytest.raises(ValueError, match="stream must be a non-negative integer"):
        mrandom.stream_key(-4)
    with pytest.raises(ValueError, match="sample_ids must have shape \\(3,\\)"):
        mrandom.sample_ids_for(3, [0, 1])
    with pytest.raises(ValueError, match="non-negative integers"):
        mrandom.sample_ids_for(2, [0, -1])
    with pytest.raises(ValueError, match="non-negative integers"):
        mrandom.sample_ids_for(2, [0.5, 1.0])


def test_helpers() -> None:
    assert mrandom.sample_ids_for(3).tolist() == [0, 1, 2]
    assert mrandom.sample_ids_for(2, np.array([4, 9], np.int32)).dtype == np.int64
    assert mrandom.stream_key("blur") == mrandom.stream_key("blur") != mrandom.stream_key("noise")
    assert mrandom.stream_key(5) == 5
    g1 = mrandom.sample_generator(0, 17, "x").random(4)
    assert np.array_equal(g1, mrandom.sample_generator(0, 17, "x").random(4))
    assert not np.array_equal(g1, mrandom.sample_generator(0, 18, "x").random(4))
    assert not np.array_equal(g1, mrandom.sample_generator(0, 17, "y").random(4))


def test_values_are_stable_across_versions() -> None:
    # Golden values: changing them silently would change every corrupted dataset.
    got = mrandom.uniform(0, [0, 1], (3,))
    expected = np.array(GOLDEN, dtype=np.float32)
    assert np.array_equal(got, expected)


GOLDEN = [
    [0.4931521415710449, 0.8172276020050049, 0.4172160029411316],
    [0.5270234942436218, 0.2884214520454407, 0.10731947422027588],
]
