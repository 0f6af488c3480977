# %% [markdown]
# # Is my own PyTorch model robust?
#
# You trained a network of your own. This example passes it to mnistlab as it is (an
# ``nn.Module`` with its input normalisation), runs the study on it, reads which corruptions
# hurt it, and compares it with a version trained on corrupted images, with paired tests.
#
# Run as a script (`python examples/05_your_pytorch_model.py [--quick]`) or open it as a
# notebook (the `# %%` cells are understood by Jupytext, VS Code and PyCharm).

# %%
import argparse
import shutil
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from mnistlab.data import load
from mnistlab.torch import MnistDataset
from mnistlab.workflows.study import StudyOptions, run_study

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="5,000 training images, 1 epoch")
parser.add_argument("--out", type=Path, default=Path("examples/output/05_your_pytorch_model"))
args, _ = parser.parse_known_args()
args.out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Your network, trained your way
# A small CNN, trained with the usual ``Normalize(0.286, 0.353)`` of Fashion-MNIST. The second
# one sees noise and blur on half of its training images (``MnistDataset(corruptions=...)``
# draws them per sample, seeded).

# %%
MEAN, STD = 0.286, 0.353
n_train = 5000 if args.quick else 60000
epochs = 1 if args.quick else 3


def make_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )  # fmt: skip


def fit(net: nn.Module, data: MnistDataset) -> nn.Module:
    loader = torch.utils.data.DataLoader(data, batch_size=128, shuffle=True)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    for epoch in range(epochs):
        data.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(net((x - MEAN) / STD), y).backward()
            opt.step()
    return net.eval()


train = load("fashion-mnist", "train")[:n_train]
mine = fit(make_net(), MnistDataset(train))
augmented = fit(
    make_net(),
    MnistDataset(train, corruptions=("gaussian_noise", "motion_blur"), severity="random", p=0.5),
)

# %% [markdown]
# ## The study, on your models
# ``models={...}`` takes the networks as they are; ``preprocess`` says how their input is
# normalised (mnistlab feeds them ``(pixels / 255 - mean) / std``, NCHW). Both are saved into
# the run as ONNX with their preprocessing and sha256, so the run is self-contained. No
# baseline is asked for, so nothing else is trained.

# %%
seen = ("gaussian_noise", "motion_blur")
unseen = ("fog", "rotate", "contrast", "pixelate")
norm = (("mean", MEAN), ("std", STD))
options = StudyOptions(
    dataset="fashion-mnist",
    quick=args.quick,
    models=(),
    corruptions=(*seen, *unseen),
    test_size=1000 if args.quick else None,
    preprocess=(("mine", norm), ("mine_aug", norm)),
    progress=False,
)
run = args.out / "run"
shutil.rmtree(run, ignore_errors=True)
manifest = run_study(
    run,
    options,
    models={"mine": mine, "mine_aug": augmented},
    steps=["data", "train", "predict", "evaluate", "compare", "report"],
    log=lambda line: print("  " + line),
)

# %% [markdown]
# ## Which corruptions hurt my model?

# %%
acc = pd.read_csv(run / "eval" / "corruptions.csv")
table = acc.pivot(index="corruption", columns="model", values="accuracy").round(3)
print(table.sort_values("mine").to_string())
sanity = pd.read_csv(run / "eval" / "sanity.csv")
print(sanity[["model", "clean_accuracy", "suspect"]].to_string(index=False))

# %% [markdown]
# ## Is the augmented one more robust, and where is the difference significant?
# ``compare`` pairs the two models on the same test images (McNemar with Holm's correction,
# bootstrap intervals).

# %%
cells = pd.read_csv(run / "compare" / "cells.csv")
cells = cells[cells.corruption != "identity"]
print(
    cells[["variant", "delta", "delta_lo", "delta_hi", "p_holm", "significant"]]
    .round(4)
    .to_string(index=False)
)
board = pd.read_csv(run / "compare" / "leaderboard.csv").set_index("model")
for model in ("mine", "mine_aug"):
    print(f"{model}: clean {board.loc[model, 'clean_accuracy']:.3f}, "
          f"corrupted {board.loc[model, 'corrupted_accuracy']:.3f}")  # fmt: skip
print(f"the report: {run / 'report.html'}")
