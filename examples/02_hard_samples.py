# %% [markdown]
# # Which samples are hard for a CNN, and why?
#
# The hard-samples walkthrough (FiftyOne's, on CIFAR-10) ranks test images by the entropy of
# the model's softmax and looks at the hardest and easiest ones. Here the same analysis runs
# on Fashion-MNIST and Fashion-MNIST-C, and goes further: how hardness relates to the
# corruption, its severity and the garments' morphometrics, and how well each score finds
# the misclassified samples (APFD, AUROC).
#
# Run as a script (`python examples/02_hard_samples.py [--quick]`) or as a notebook.

# %%
import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from mnistlab.corrupt.generate import generate
from mnistlab.data import load
from mnistlab.data.variants import iter_variants, load_variant
from mnistlab.execution import Execution
from mnistlab.models import train
from mnistlab.models.predict import predict_table
from mnistlab.morpho import measure
from mnistlab.scores import prioritization_table, score_table
from mnistlab.workflows.hardness import analyze_table

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="small subsets, one short epoch")
parser.add_argument("--out", type=Path, default=Path("examples/output/02_hard_samples"))
args, _ = parser.parse_known_args()
args.out.mkdir(parents=True, exist_ok=True)
n_train, n_test, epochs = (6000, 1000, 1) if args.quick else (60000, 10000, 3)

# %% [markdown]
# ## Train a CNN on the clean training split

# %%
train_split = load("fashion-mnist", split="train")
test_split = load("fashion-mnist", split="test")[:n_test]
model = train(
    train_split.images[:n_train],
    train_split.labels[:n_train],
    "tip-cnn",
    class_names=train_split.class_names,
    epochs=epochs,
    seed=0,
)

# %% [markdown]
# ## Predict the clean test images and their Fashion-MNIST-C version

# %%
fmnist_c = generate(
    "fashion-mnist", args.out / "fmnist-c", layout="fmnist-c", splits="test", limit=n_test
)
corrupted = load_variant(fmnist_c, next(iter_variants(fmnist_c)), "test")
preds = pd.concat(
    [
        predict_table(model, test_split, model_name="tip-cnn"),
        predict_table(model, fmnist_c, model_name="tip-cnn"),
    ],
    ignore_index=True,
)
print(preds.groupby("corruption")["pred"].size().rename("samples").to_string())
accuracy = (preds["pred"] == preds["label"]).groupby(preds["corruption"]).mean()
print("accuracy per corruption:\n" + accuracy.round(3).to_string())

# %% [markdown]
# ## Score every prediction and evaluate the rankings

# %%
scores = score_table(preds)
table = prioritization_table(scores)
table.to_csv(args.out / "prioritization.csv", index=False)
print(table.round(3).to_string(index=False))

# %% [markdown]
# ## What makes samples hard
# Histograms of entropy for correct and wrong predictions, hardness per class, the hardest
# misclassified and easiest correct images of each class, and the correlation of hardness
# with morphometrics and corruption severity.

# %%
images = {"clean": test_split.images, corrupted.name: corrupted.images}
position = {
    name: {int(s): k for k, s in enumerate(ds.sample_ids)}
    for name, ds in (("clean", test_split), (corrupted.name, corrupted))
}


def images_for(variant: str, sample_ids: np.ndarray) -> np.ndarray:
    rows = [position[variant][int(s)] for s in sample_ids]
    return images[variant][rows]


morpho = measure(test_split.images, execution=Execution(workers=2))
morpho.insert(0, "sample_id", test_split.sample_ids)
written = analyze_table(
    scores,
    args.out / "hardness",
    score="entropy",
    class_names=test_split.class_names,
    morpho=morpho.drop(columns=["index"]),
    images_for=images_for,
)
for name, path in sorted(written.items()):
    print(f"{name:30s} {path}")
