"""Real-data check of the hardness scores on Fashion-MNIST-C test with the default CNN.

1. Load (``--model-dir``) or train (``mnistlab.models.train``) the CNN on Fashion-MNIST train.
2. Generate Fashion-MNIST-C test with ``mnistlab.corrupt`` (every corruption of the fmnist-c
   release at its benchmark severity, seed 0).
3. Score every prediction and evaluate each probability score as a misclassification
   detector: APFD (target > 0.75) and AUROC (target > 0.80) on the pooled corrupted set;
   random stays near 0.5.
   This is the covariate-shift setting (the model never saw a corruption); a fault rate f
   caps APFD at 1 - f/2 for any score, which is printed next to the result.
4. ``--protocol``: the Fashion-MNIST-C protocol (:mod:`mnistlab.workflows.fmnist_c`): the same
   CNN recipe trained on the corrupted train split, ranking the corrupted test split (one
   corruption drawn per image, as in the release), next to the clean-trained model.
5. One-shot active learning (Weiss & Tonella) over ``--seeds`` seeds on a pool that mixes the
   corrupted variants (one per sample): DeepGini / entropy vs random, gain with a 95% CI.

    python benchmarks/bench_prioritization.py [--quick] [--model-dir models/cnn] [--protocol]
        [--out DIR]

Prints samples/s of the scoring against a naive per-sample loop, like every benchmark.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mnistlab.corrupt import corrupt, get, names
from mnistlab.data import load
from mnistlab.scores import active
from mnistlab.scores.table import prioritization_table, score_table
from mnistlab.scores.uncertainty import SCORES
from mnistlab.workflows.active import make_trainer


def _model(args: argparse.Namespace, train: Any) -> Any:
    from mnistlab.models import load_model
    from mnistlab.models import train as train_model

    if args.model_dir and Path(args.model_dir, "manifest.json").is_file():
        print(f"loading {args.model_dir}")
        return load_model(args.model_dir)
    t0 = time.perf_counter()
    x, y = train.images, train.labels
    if args.train_subset:
        x, y = x[: args.train_subset], y[: args.train_subset]
    model = train_model(
        x,
        y,
        model=args.model,
        epochs=args.epochs,
        seed=0,
        class_names=train.class_names,
        progress=True,
    )
    print(f"trained {args.model} on {len(y)} images in {time.perf_counter() - t0:.0f} s")
    if args.model_dir:
        model.save(args.model_dir)
    return model


def _preds(model: Any, variants: dict[str, np.ndarray], labels: np.ndarray) -> pd.DataFrame:
    parts = []
    for variant, images in variants.items():
        probs = np.asarray(model.predict_proba(images), dtype=np.float64)
        t = pd.DataFrame(
            {
                "sample_id": np.arange(len(labels)),
                "variant": variant,
                "label": labels,
                "pred": probs.argmax(1),
            }
        )
        t = pd.concat(
            [t, pd.DataFrame(probs, columns=[f"prob_{k}" for k in range(probs.shape[1])])], axis=1
        )
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def _protocol(args: argparse.Namespace, model: Any, train: Any, test: Any, n: int) -> None:
    import tempfile

    from mnistlab.execution import Execution
    from mnistlab.workflows.fmnist_c import FOLDER, fmnist_c_prioritization

    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-protocol-"))
    t0 = time.perf_counter()
    info = fmnist_c_prioritization(
        folder,
        dataset={"train": train, "test": test},
        clean_models={args.model: model},
        trainer=args.model,
        epochs=args.epochs,
        train_size=args.train_subset,
        test_size=n,
        execution=Execution(progress=True),
    )
    table = pd.read_csv(folder / FOLDER / "prioritization.csv")
    cols = ["trained_on", "model", "score", "n", "faults", "accuracy", "apfd", "auroc", "aupr"]
    print(
        f"\nFashion-MNIST-C protocol ({info['train_size']} corrupted train images, "
        f"{info['test_size']} corrupted test images) in {time.perf_counter() - t0:.0f} s:"
    )
    print(table[cols].to_string(index=False, float_format="%.4f"))
    ours = table[(table["trained_on"] == "fmnist-c train") & (table["score"] != "random")]
    ok = (ours["apfd"] > 0.75).all() and (ours["auroc"] > 0.80).all()
    print(
        f"trained on Fashion-MNIST-C train: APFD > 0.75 and AUROC > 0.80 for every "
        f"probability score: {'PASS' if ok else 'FAIL'} (tables in {folder / FOLDER})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 test images, 6 corruptions, 2 seeds, small training",
    )
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--model-dir", default=None, help="load the model here / save it here")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train-subset", type=int, default=None)
    parser.add_argument("--test-size", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--al-model", default="tip-cnn", help="trainer of the active learning")
    parser.add_argument("--al-epochs", type=int, default=3)
    parser.add_argument("--al-train-subset", type=int, default=10000)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--no-active", action="store_true")
    parser.add_argument(
        "--protocol", action="store_true", help="also train on Fashion-MNIST-C train (minutes)"
    )
    parser.add_argument("--out", default=None, help="folder for the CSV/Markdown tables")
    args = parser.parse_args()
    corruptions = names(release="fmnist-c")
    if args.quick:
        args.test_size = args.test_size or 2000
        args.seeds = min(args.seeds, 2)
        args.epochs = args.epochs or 2
        args.train_subset = args.train_subset or 20000
        args.al_train_subset = min(args.al_train_subset, 5000)
        args.budget = min(args.budget, 300)
        corruptions = corruptions[:: max(1, len(corruptions) // 6)][:6]

    train = load("fashion-mnist", split="train", download=False)
    test = load("fashion-mnist", split="test", download=False)
    n = args.test_size or len(test.labels)
    images, labels = test.images[:n], test.labels[:n]
    ids = np.arange(n)
    model = _model(args, train)

    t0 = time.perf_counter()
    variants = {"clean": images}
    for name in corruptions:
        sev = get(name).benchmark_severity or 3
        variants[f"{name}-s{sev}"] = corrupt(images, name, severity=sev, seed=0, sample_ids=ids)
    print(
        f"Fashion-MNIST-C: {len(corruptions)} corruptions x {n} images in "
        f"{time.perf_counter() - t0:.0f} s"
    )

    preds = _preds(model, variants, labels)
    t0 = time.perf_counter()
    scores = score_table(preds, list(SCORES))
    t_vec = time.perf_counter() - t0
    sub = preds.filter(like="prob_").to_numpy()[:5000]
    t0 = time.perf_counter()
    for row in sub.tolist():
        -sum(p * math.log(p) for p in row if p > 0)
        1 - sum(p * p for p in row)
        sorted(row, reverse=True)[:2]
    t_naive = (time.perf_counter() - t0) / len(sub)
    print(
        f"scoring: {len(preds) / t_vec:,.0f} samples/s (table, all scores); naive loop "
        f"{1 / t_naive:,.0f} samples/s; ratio {t_naive * len(preds) / t_vec:.0f}x"
    )

    prio = prioritization_table(scores, k=(100, 1000))
    corrupted = scores[scores["variant"] != "clean"]
    pooled = prioritization_table(corrupted.assign(variant="fashion-mnist-c"), k=(100, 1000))
    pooled = pooled[pooled["variant"] == "fashion-mnist-c"]
    cols = ["variant", "score", "n", "faults", "accuracy", "apfd", "auroc", "aupr", "found@1000"]
    pd.set_option("display.width", 200)
    print("\nclean test:")
    print(prio[prio["variant"] == "clean"][cols].to_string(index=False, float_format="%.4f"))
    print("\nFashion-MNIST-C test (all corrupted variants pooled):")
    print(pooled[cols].to_string(index=False, float_format="%.4f"))
    real = pooled[pooled["score"] != "random"]
    ok = (real["apfd"] > 0.75).all() and (real["auroc"] > 0.80).all()
    rate = float(real["faults"].iloc[0] / real["n"].iloc[0])
    print(
        f"clean-trained model under shift: APFD > 0.75 and AUROC > 0.80 for every probability "
        f"score: {'PASS' if ok else 'FAIL'} (best possible APFD 1 - f/2 = {1 - rate / 2:.3f})"
    )
    per_variant = prio[prio["score"].isin(["gini", "random"])].pivot(
        index="variant", columns="score", values="apfd"
    )
    print("\nAPFD per variant (gini vs random):")
    print(per_variant.to_string(float_format="%.3f"))

    if args.protocol:
        _protocol(args, model, train, test, n)

    summary = None
    if not args.no_active:
        rng = np.random.default_rng(0)
        names_c = [v for v in variants if v != "clean"]
        choice = rng.integers(0, len(names_c), size=n)
        pool = np.stack([variants[names_c[c]][i] for i, c in enumerate(choice)])
        t0 = time.perf_counter()
        one = active.one_shot(
            train.images,
            train.labels,
            pool,
            labels,
            methods=("gini", "entropy"),
            budget=min(args.budget, n // 2),
            seeds=tuple(range(args.seeds)),
            trainer=make_trainer(args.al_model, args.al_epochs),
            train_subset=args.al_train_subset,
        )
        summary = active.summarize(one)
        print(
            f"\nactive learning (one-shot, {args.seeds} seeds, {args.al_model}, "
            f"{args.al_epochs} epochs, train subset {args.al_train_subset}, budget "
            f"{min(args.budget, n // 2)}) in {time.perf_counter() - t0:.0f} s:"
        )
        print(summary.to_string(index=False, float_format="%.4f"))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        prio.to_csv(out / "prioritization.csv", index=False)
        pooled.to_csv(out / "prioritization_pooled.csv", index=False)
        if summary is not None:
            summary.to_csv(out / "active_learning.csv", index=False)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
