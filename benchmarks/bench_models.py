"""Benchmark of the models: accuracy on clean Fashion-MNIST test, training time, ONNX parity,
prediction images/s (batched vs a naive one-image-at-a-time loop).

Usage::

    python benchmarks/bench_models.py                 # everything (tens of minutes on 2 cores)
    python benchmarks/bench_models.py --quick         # 10k train / 2k test, 2 CNN epochs
    python benchmarks/bench_models.py --models logreg,knn --cnn-dir runs/x/models/cnn

Published references (Fashion-MNIST benchmark, scikit-learn, best config of each family):
logistic regression 84.2 %, random forest 87.3 %, k-NN 86.0 %, MLP 87.1 %.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PUBLISHED = {"logreg": 0.842, "rf": 0.873, "knn": 0.860, "mlp": 0.871}
TARGETS = {"cnn": 0.930, "tip-cnn": 0.900}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subsets, 2 CNN epochs")
    parser.add_argument("--models", default="cnn,tip-cnn,logreg,rf,knn,mlp", help="comma-separated")
    parser.add_argument("--cnn-dir", type=Path, help="reuse this saved CNN instead of training one")
    parser.add_argument("--epochs", type=int, help="CNN epochs (default: the recipe's)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)

    from mnistlab.data import load
    from mnistlab.models import OnnxModel, export_onnx, load_model, train

    train_ds = load("fashion-mnist", "train")
    test = load("fashion-mnist", "test")
    if args.quick:
        train_ds, test = train_ds[:10000], test[:2000]
    results: dict[str, dict] = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        if name == "cnn" and args.cnn_dir:
            model = load_model(args.cnn_dir)
        else:
            epochs = args.epochs if name in ("cnn", "tip-cnn") else None
            if args.quick and name in ("cnn", "tip-cnn"):
                epochs = epochs or 2
            model = train(
                train_ds.images,
                train_ds.labels,
                name,
                class_names=train_ds.class_names,
                epochs=epochs,
                progress=True,
            )
        acc = float(np.mean(model.predict(test.images) == test.labels))
        m = model.manifest
        entry = {
            "accuracy": acc,
            "training_seconds": m.get("training_seconds"),
            "cpu_seconds": m.get("cpu_seconds"),
            "threads": m.get("threads"),
            "epochs": m.get("epochs"),
        }
        ref = PUBLISHED.get(name)
        if ref is not None:
            entry["published"] = ref
            entry["within_1.5_points"] = bool(acc >= ref - 0.015)
        if name in TARGETS:
            entry["target"] = TARGETS[name]
            entry["meets_target"] = bool(acc >= TARGETS[name])
        results[name] = entry
        print(
            f"{name:8s} accuracy {100 * acc:6.2f} %  train {m.get('training_seconds')} s"
            + (f"  (published {100 * ref:.1f} %)" if ref else "")
            + (f"  (target {100 * TARGETS[name]:.1f} %)" if name in TARGETS else ""),
            flush=True,
        )
        if model.kind == "torch":
            results[name].update(_throughput(model, test.images))
            with tempfile.TemporaryDirectory() as tmp:
                onnx_model = OnnxModel(export_onnx(model, Path(tmp) / f"{name}.onnx"))
                start = time.perf_counter()
                theirs = onnx_model.predict_logits(test.images)
                onnx_s = time.perf_counter() - start
            ours = model.predict_logits(test.images)
            diff = float(np.abs(ours - theirs).max())
            same = float(np.mean(ours.argmax(1) == theirs.argmax(1)))
            results[name].update(
                onnx_max_logit_diff=diff,
                onnx_same_predictions=same,
                onnx_images_per_s=len(test) / onnx_s,
            )
            print(
                f"         ONNX: max |logit diff| {diff:.2e}, same predictions {100 * same:.2f} %, "
                f"{len(test) / onnx_s:.0f} images/s",
                flush=True,
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


def _throughput(model, images: np.ndarray) -> dict[str, float]:
    """Batched prediction vs the naive baseline: one image per forward pass."""
    model.predict_logits(images[:256])  # warm-up
    start = time.perf_counter()
    model.predict_logits(images)
    batched = len(images) / (time.perf_counter() - start)
    naive_n = 300
    start = time.perf_counter()
    for i in range(naive_n):
        model.predict_logits(images[i : i + 1])
    naive = naive_n / (time.perf_counter() - start)
    print(
        f"         predict: {batched:.0f} images/s batched, {naive:.0f} images/s one at a time "
        f"(x{batched / naive:.1f})",
        flush=True,
    )
    return {"predict_images_per_s": batched, "naive_images_per_s": naive, "ratio": batched / naive}


if __name__ == "__main__":
    sys.exit(main())
