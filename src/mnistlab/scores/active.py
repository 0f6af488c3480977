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

Training is the expensive part. A *trainer* is ``fn(images, labels, seed) -> model`` with
``model.predict_proba(images)``; :func:`make_trainer` gives one from a name: ``"pca-logreg"``
(scikit-learn, seconds) or any model of :mod:`mnistlab.models` (``"tip-cnn"``, ``"cnn"``...)
with ``epochs``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.scores.uncertainty import SCORES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RANDOM",
    "Trainer",
    "iterative",
    "make_trainer",
    "mean_ci",
    "one_shot",
    "plot_learning_curve",
    "plot_one_shot",
    "summarize",
]

RANDOM = "random"


class _Predictor(Protocol):
    def predict_proba(self, images: NDArray[np.uint8]) -> NDArray[np.floating]: ...


Trainer = Callable[[NDArray[np.uint8], NDArray[np.int64], int], _Predictor]


class _PcaLogreg:
    def __init__(self, pipeline: Any, n_classes: int):
        self.pipeline = pipeline
        self.n_classes = n_classes

    def predict_proba(self, images: NDArray[np.uint8]) -> NDArray[np.float64]:
        from threadpoolctl import threadpool_limits

        flat = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
        with threadpool_limits(1):
            p = self.pipeline.predict_proba(flat)
        out = np.zeros((images.shape[0], self.n_classes))
        out[:, self.pipeline.classes_] = p
        return out


def _train_pca_logreg(
    images: NDArray[np.uint8], labels: NDArray[np.int64], seed: int
) -> _PcaLogreg:
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from threadpoolctl import threadpool_limits

    flat = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
    pipe = make_pipeline(
        PCA(n_components=min(50, flat.shape[0] - 1), whiten=True, random_state=seed),
        LogisticRegression(max_iter=200),
    )
    with threadpool_limits(1):
        pipe.fit(flat, labels)
    return _PcaLogreg(pipe, int(labels.max()) + 1)


def make_trainer(model: str = "tip-cnn", epochs: int | None = None) -> Trainer:
    """A trainer by name: ``"pca-logreg"`` (fast, scikit-learn) or a :mod:`mnistlab.models` name."""
    if model == "pca-logreg":
        return _train_pca_logreg

    def train(images: NDArray[np.uint8], labels: NDArray[np.int64], seed: int) -> _Predictor:
        from mnistlab.models import train as train_model

        return train_model(images, labels, model=model, epochs=epochs, seed=seed, progress=False)

    return train


def _check(
    train_images: NDArray[np.uint8],
    train_labels: NDArray[np.int64],
    pool_images: NDArray[np.uint8],
    pool_labels: NDArray[np.int64],
    methods: Sequence[str],
    budget: int,
    seeds: Sequence[int],
) -> None:
    if train_images.shape[0] != train_labels.shape[0]:
        raise MnistlabError("train: images and labels differ in length")
    if pool_images.shape[0] != pool_labels.shape[0]:
        raise MnistlabError("pool: images and labels differ in length")
    for m in methods:
        if m not in SCORES and m != RANDOM:
            raise MnistlabError(f"methods: unknown score {m!r} (known: {', '.join(SCORES)})")
    if budget < 1 or budget > pool_images.shape[0] // 2:
        raise MnistlabError(
            f"budget: must lie in [1, {pool_images.shape[0] // 2}] (half the pool), got {budget}"
        )
    if not seeds:
        raise MnistlabError("seeds: need at least one seed")


def _subset(n: int, size: int | None, rng: np.random.Generator) -> NDArray[np.int64]:
    if size is None or size >= n:
        return np.arange(n)
    if size < 1:
        raise MnistlabError(f"train_subset: must be >= 1, got {size}")
    return np.sort(rng.choice(n, size=size, replace=False))


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


def _accuracy(model: _Predictor, images: NDArray[np.uint8], labels: NDArray[np.int64]) -> float:
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
    methods: Sequence[str] = ("gini", "entropy", "margin", "softmax"),
    budget: int = 1000,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    trainer: Trainer | str = "tip-cnn",
    epochs: int | None = None,
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
    trainer : str or callable
        See :func:`make_trainer`.

    Returns
    -------
    DataFrame with ``seed, method, budget, faults_picked, acc_first_half, acc_second_half``
    and the base model's ``base_acc_second_half``.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    train_fn = make_trainer(trainer, epochs) if isinstance(trainer, str) else trainer
    tx, ty = np.asarray(train_images), np.asarray(train_labels, dtype=np.int64)
    px, py = np.asarray(pool_images), np.asarray(pool_labels, dtype=np.int64)
    names = [m for m in dict.fromkeys([*methods, RANDOM])]
    _check(tx, ty, px, py, names, budget, seeds)
    rows = []
    bar = tqdm(total=len(seeds) * (len(names) + 1), desc="active learning", disable=not progress)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(px.shape[0])
        first, second = perm[: px.shape[0] // 2], perm[px.shape[0] // 2 :]
        sub = _subset(tx.shape[0], train_subset, rng)
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
    trainer: Trainer | str = "tip-cnn",
    epochs: int | None = None,
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
    train_fn = make_trainer(trainer, epochs) if isinstance(trainer, str) else trainer
    tx, ty = np.asarray(train_images), np.asarray(train_labels, dtype=np.int64)
    px, py = np.asarray(pool_images), np.asarray(pool_labels, dtype=np.int64)
    names = [m for m in dict.fromkeys([*methods, RANDOM])]
    _check(tx, ty, px, py, names, budget_per_round, seeds)
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
        rng = np.random.default_rng(seed)
        perm = rng.permutation(px.shape[0])
        first, second = perm[: px.shape[0] // 2], perm[px.shape[0] // 2 :]
        sub = _subset(tx.shape[0], train_subset, rng)
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


def plot_one_shot(summary: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Bar chart of held-out accuracy per method with 95% CIs (PNG, written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mnistlab._atomic import atomic_path

    fig, ax = plt.subplots(figsize=(6, 3.5))
    y = summary["acc_second_half"].to_numpy()
    err = np.vstack([y - summary["ci_low"].to_numpy(), summary["ci_high"].to_numpy() - y])
    colors = ["0.6" if m == RANDOM else "C0" for m in summary["method"]]
    ax.bar(summary["method"], y, yerr=np.nan_to_num(err), color=colors, capsize=4)
    lo = float(np.nanmin(summary["ci_low"].fillna(summary["acc_second_half"])))
    ax.set_ylim(max(0.0, lo - 0.02), min(1.0, float(np.nanmax(y)) + 0.02))
    ax.set_ylabel("accuracy on the held-out half")
    ax.set_title("one-shot active learning (mean, 95% CI)")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def plot_learning_curve(results: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Held-out accuracy against samples added, one line per method, 95% CI bands (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mnistlab._atomic import atomic_path

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, (method, g) in enumerate(results.groupby("method", sort=False)):
        stats = [
            (added, *mean_ci(gg["acc_second_half"].to_numpy())) for added, gg in g.groupby("added")
        ]
        a = np.array(stats, dtype=np.float64)
        color = "0.5" if method == RANDOM else f"C{i}"
        ax.plot(a[:, 0], a[:, 1], marker="o", label=method, color=color)
        if np.isfinite(a[:, 2]).all():
            ax.fill_between(a[:, 0], a[:, 2], a[:, 3], alpha=0.2, color=color)
    ax.set_xlabel("samples added from the pool")
    ax.set_ylabel("accuracy on the held-out half")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
