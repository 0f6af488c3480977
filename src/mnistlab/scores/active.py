"""Active learning with hardness scores: does retraining on the hardest samples help more
than retraining on random ones?

:func:`one_shot` follows Weiss & Tonella (2022, "Simple techniques work surprisingly well for
neural network test prioritization and active learning"): split a pool of (e.g. corrupted)
test images in two halves; train a model on the training set, score the first half, pick its
``budget`` hardest samples by each score (and ``budget`` at random), retrain from scratch on
train + picked, and measure accuracy on both halves. The second half is never picked from, so
its accuracy is the fair measure; the gain over random is paired per seed and reported with a
95% t-interval over seeds.

:func:`iterative` spends a budget per round instead: retrain, score what is left of the first
half, pick, repeat; it records the held-out accuracy after every round (a learning curve).

Training is the expensive part, and it is injected: a *trainer* is
``fn(images, labels, seed) -> model`` with ``model.predict_proba(images)``, so the protocol is
a function over arrays. :func:`mnistlab.workflows.active.make_trainer` gives one from a name
(``"pca-logreg"``, or any model of :mod:`mnistlab.models`); the driver that reads a run and
writes ``active_learning/<model>/`` is :mod:`mnistlab.workflows.active`, the figures are in
:mod:`mnistlab.figures.active`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.scores.uncertainty import SCORES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RANDOM",
    "Predictor",
    "Trainer",
    "iterative",
    "mean_ci",
    "one_shot",
    "summarize",
]

RANDOM = "random"


class Predictor(Protocol):
    """What a trainer returns: anything with ``predict_proba(images) -> (N, C)``."""

    def predict_proba(self, images: NDArray[np.uint8]) -> NDArray[np.floating]: ...


Trainer = Callable[[NDArray[np.uint8], NDArray[np.int64], int], Predictor]


def _subset(n: int, size: int | None, rng: np.random.Generator) -> NDArray[np.int64]:
    if size is None or size >= n:
        return np.arange(n)
    if size < 1:
        raise MnistlabError(f"train_subset: must be >= 1, got {size}")
    return np.sort(rng.choice(n, size=size, replace=False))


def _prepared(
    train_images: NDArray[np.uint8],
    train_labels: NDArray[np.int64],
    pool_images: NDArray[np.uint8],
    pool_labels: NDArray[np.int64],
    methods: Sequence[str],
    budget: int,
    seeds: Sequence[int],
) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.uint8], NDArray[np.int64], list[str]]:
    """The training set and the pool as arrays, and the methods with ``"random"``, checked."""
    tx, ty = np.asarray(train_images), np.asarray(train_labels, dtype=np.int64)
    px, py = np.asarray(pool_images), np.asarray(pool_labels, dtype=np.int64)
    names = [m for m in dict.fromkeys([*methods, RANDOM])]
    if tx.shape[0] != ty.shape[0]:
        raise MnistlabError("train: images and labels differ in length")
    if px.shape[0] != py.shape[0]:
        raise MnistlabError("pool: images and labels differ in length")
    for m in names:
        if m not in SCORES and m != RANDOM:
            raise MnistlabError(f"methods: unknown score {m!r} (known: {', '.join(SCORES)})")
    if budget < 1 or budget > px.shape[0] // 2:
        raise MnistlabError(
            f"budget: must lie in [1, {px.shape[0] // 2}] (half the pool), got {budget}"
        )
    if not seeds:
        raise MnistlabError("seeds: need at least one seed")
    return tx, ty, px, py, names


def _seed_split(
    seed: int, n_pool: int, n_train: int, train_subset: int | None
) -> tuple[np.random.Generator, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """A seed's generator, its two halves of the pool and its training subset."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_pool)
    first, second = perm[: n_pool // 2], perm[n_pool // 2 :]
    return rng, first, second, _subset(n_train, train_subset, rng)


def _pick(
    method: str,
    probs: NDArray[np.floating],
    budget: int,
    rng: np.random.Generator,
    exclude: NDArray[np.bool_] | None = None,
) -> NDArray[np.int64]:
    n = probs.shape[0]
    available = np.ones(n, dtype=bool) if exclude is None else ~exclude
    idx = np.flatnonzero(available)
    if method == RANDOM:
        return np.sort(rng.choice(idx, size=min(budget, idx.size), replace=False))
    s = SCORES[method](probs[idx])
    return idx[np.argsort(-s, kind="stable")[:budget]]


def _accuracy(model: Predictor, images: NDArray[np.uint8], labels: NDArray[np.int64]) -> float:
    return float((np.asarray(model.predict_proba(images)).argmax(axis=1) == labels).mean())


def _with_picked(
    tx: NDArray[np.uint8],
    ty: NDArray[np.int64],
    px: NDArray[np.uint8],
    py: NDArray[np.int64],
    picked: NDArray[np.intp],
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """The training set extended by the picked pool samples (labelled by the oracle)."""
    return np.concatenate([tx, px[picked]]), np.concatenate([ty, py[picked]])


def one_shot(
    train_images: NDArray[np.uint8],
    train_labels: NDArray[np.int64],
    pool_images: NDArray[np.uint8],
    pool_labels: NDArray[np.int64],
    methods: Sequence[str] = ("gini", "entropy", "margin", "max_softmax"),
    budget: int = 1000,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    trainer: Trainer,
    train_subset: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The one-shot protocol; one row per (seed, method) including ``"random"``.

    Parameters
    ----------
    train_images, train_labels : arrays
        The original training set (``train_subset`` samples of it per seed when given).
    pool_images, pool_labels : arrays
        The pool (e.g. Fashion-MNIST-C test) split into halves per seed.
    methods : sequence of str
        Probability scores of :data:`~mnistlab.scores.uncertainty.SCORES`; ``"random"`` is
        always added.
    budget : int
        Samples picked from the first half.
    seeds : sequence of int
        One repetition per seed (split, subset, training seed).
    trainer : callable
        ``fn(images, labels, seed) -> model`` with ``model.predict_proba``; see
        :func:`mnistlab.workflows.active.make_trainer` for trainers by name.

    Returns
    -------
    DataFrame with ``seed, method, budget, faults_picked, acc_first_half, acc_second_half``
    and the base model's ``base_acc_second_half``.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    train_fn = trainer
    tx, ty, px, py, names = _prepared(
        train_images, train_labels, pool_images, pool_labels, methods, budget, seeds
    )
    rows = []
    bar = tqdm(total=len(seeds) * (len(names) + 1), desc="active learning", disable=not progress)
    for seed in seeds:
        rng, first, second, sub = _seed_split(seed, px.shape[0], tx.shape[0], train_subset)
        base = train_fn(tx[sub], ty[sub], int(seed))
        bar.update()
        probs = np.asarray(base.predict_proba(px[first]), dtype=np.float64)
        base_acc = _accuracy(base, px[second], py[second])
        wrong = probs.argmax(axis=1) != py[first]
        for method in names:
            picked = first[_pick(method, probs, budget, rng)]
            model = train_fn(*_with_picked(tx[sub], ty[sub], px, py, picked), int(seed))
            bar.update()
            rows.append(
                {
                    "seed": int(seed),
                    "method": method,
                    "budget": budget,
                    "faults_picked": int(wrong[np.isin(first, picked)].sum()),
                    "acc_first_half": _accuracy(model, px[first], py[first]),
                    "acc_second_half": _accuracy(model, px[second], py[second]),
                    "base_acc_second_half": base_acc,
                }
            )
    bar.close()
    return pd.DataFrame(rows)


def mean_ci(values: NDArray[np.floating], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two ends of its t-interval (NaN ends with fewer than 2 values)."""
    from scipy.stats import t

    v = np.asarray(values, dtype=np.float64)
    mean = float(v.mean()) if v.size else float("nan")
    if v.size < 2:
        return mean, float("nan"), float("nan")
    half = float(t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return mean, mean - half, mean + half


def summarize(results: pd.DataFrame, column: str = "acc_second_half") -> pd.DataFrame:
    """Per method: mean accuracy and its 95% CI, and the paired gain over random with its CI."""
    import pandas as pd

    if RANDOM not in set(results["method"]):
        raise MnistlabError("results: no 'random' rows to compare with")
    rand = results[results["method"] == RANDOM].set_index("seed")[column]
    rows = []
    for method, g in results.groupby("method", sort=False):
        acc = g[column].to_numpy()
        gain = g.set_index("seed")[column] - rand.reindex(g["seed"]).to_numpy()
        m, lo, hi = mean_ci(acc)
        gm, glo, ghi = mean_ci(gain.to_numpy())
        rows.append(
            {
                "method": method,
                "seeds": int(g["seed"].nunique()),
                column: m,
                "ci_low": lo,
                "ci_high": hi,
                "gain_over_random": gm,
                "gain_ci_low": glo,
                "gain_ci_high": ghi,
                "acc_first_half": float(g["acc_first_half"].mean())
                if "acc_first_half" in g
                else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def iterative(
    train_images: NDArray[np.uint8],
    train_labels: NDArray[np.int64],
    pool_images: NDArray[np.uint8],
    pool_labels: NDArray[np.int64],
    methods: Sequence[str] = ("gini",),
    budget_per_round: int = 200,
    rounds: int = 5,
    seeds: Sequence[int] = (0,),
    *,
    trainer: Trainer,
    train_subset: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Iterative active learning: ``rounds`` rounds of ``budget_per_round`` picks each.

    Returns one row per ``(seed, method, round)`` with ``added`` (samples added so far) and
    ``acc_second_half``; round 0 is the model before any pick.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    if rounds < 1:
        raise MnistlabError(f"rounds: must be >= 1, got {rounds}")
    train_fn = trainer
    tx, ty, px, py, names = _prepared(
        train_images, train_labels, pool_images, pool_labels, methods, budget_per_round, seeds
    )
    if budget_per_round * rounds > px.shape[0] // 2:
        raise MnistlabError(
            f"rounds x budget_per_round = {budget_per_round * rounds} exceeds half the pool "
            f"({px.shape[0] // 2})"
        )
    rows = []
    bar = tqdm(
        total=len(seeds) * (1 + len(names) * rounds), desc="active learning", disable=not progress
    )
    for seed in seeds:
        rng, first, second, sub = _seed_split(seed, px.shape[0], tx.shape[0], train_subset)
        base = train_fn(tx[sub], ty[sub], int(seed))
        bar.update()
        base_acc = _accuracy(base, px[second], py[second])
        for method in names:
            rows.append(
                {
                    "seed": int(seed),
                    "method": method,
                    "round": 0,
                    "added": 0,
                    "acc_second_half": base_acc,
                }
            )
            taken = np.zeros(first.size, dtype=bool)
            model = base
            for r in range(1, rounds + 1):
                probs = np.asarray(model.predict_proba(px[first]), dtype=np.float64)
                taken[_pick(method, probs, budget_per_round, rng, exclude=taken)] = True
                picked = first[taken]
                model = train_fn(*_with_picked(tx[sub], ty[sub], px, py, picked), int(seed))
                bar.update()
                rows.append(
                    {
                        "seed": int(seed),
                        "method": method,
                        "round": r,
                        "added": int(taken.sum()),
                        "acc_second_half": _accuracy(model, px[second], py[second]),
                    }
                )
    bar.close()
    return pd.DataFrame(rows)
