# %% [markdown]
# # Reproduce Fashion-MNIST-C and look at it
#
# Fashion-MNIST-C (Weiss & Tonella, 2022) gives every Fashion-MNIST image one of 15
# corruptions at its benchmark severity. The release did not record which corruption each
# image got; mnistlab's generator does (a Parquet table), and it is seeded per sample.
#
# Run as a script (`python examples/01_fashion_mnist_c.py [--quick]`) or open it as a
# notebook (the `# %%` cells are understood by Jupytext, VS Code and PyCharm).

# %%
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mnistlab.corrupt import corrupt, names
from mnistlab.corrupt.generate import generate
from mnistlab.data import load, read_idx
from mnistlab.data.variants import iter_variants, load_variant
from mnistlab.execution import Execution

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="test split only, 2,000 images")
parser.add_argument("--out", type=Path, default=Path("examples/output/01_fashion_mnist_c"))
args, _ = parser.parse_known_args()
args.out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Generate the dataset
# `--quick` corrupts the first 2,000 test images; without it, both splits (70,000 images).

# %%
splits = ("test",) if args.quick else ("train", "test")
folder = generate(
    "fashion-mnist",
    args.out / "fmnist-c",
    layout="fmnist-c",
    splits=splits,
    seed=0,
    compat="mnist-c",
    limit=2000 if args.quick else None,
    execution=Execution(progress=True),
)
variant = next(iter_variants(folder))
ds = load_variant(folder, variant, "test")
print(f"{folder}: {len(ds)} test images, variant {variant.name!r}")
print(ds.metadata.head())

# %% [markdown]
# ## How often was each corruption drawn?

# %%
counts = ds.metadata["corruption"].value_counts().sort_index()
counts.to_csv(args.out / "corruption_counts.csv", header=["images"])
print(counts.to_string())

# %% [markdown]
# ## A grid: one row per corruption, clean image above its corrupted copy

# %%
clean = load("fashion-mnist", split="test")
drawn = sorted(ds.metadata["corruption"].unique())
per_row = 8
fig, axes = plt.subplots(len(drawn), per_row, figsize=(per_row * 0.9, len(drawn) * 0.95))
for r, name in enumerate(drawn):
    rows = np.flatnonzero(ds.metadata["corruption"].to_numpy() == name)[:per_row]
    for c in range(per_row):
        ax = axes[r, c]
        ax.axis("off")
        if c < len(rows):
            i = rows[c]
            pair = np.vstack([clean.images[ds.sample_ids[i]], ds.images[i]])
            ax.imshow(pair, cmap="gray", vmin=0, vmax=255)
    axes[r, 0].set_title(name, fontsize=7, loc="left")
fig.tight_layout()
fig.savefig(args.out / "fmnist_c_grid.png", dpi=110)
print("wrote", args.out / "fmnist_c_grid.png")

# %% [markdown]
# ## Compare with the real release
# The first 100 test images of the published Fashion-MNIST-C live in `../shared/data`.
# For the corruptions that are deterministic given their random draws, mnistlab's
# `compat="mnist-c"` mode reproduces them within one grey level. The candidates are the
# release's corruptions whose output does not depend on the seed (rotate and shear draw a
# random sign, the noises and blurs random numbers).

# %%
release = Path(__file__).resolve().parents[2] / "shared/data/fashion-mnist-c/sample100"
if (release / "fmnist-c-test-images-idx3-ubyte").is_file():
    real = read_idx(release / "fmnist-c-test-images-idx3-ubyte")
    probe = clean.images[:16]
    candidates = [
        name
        for name in names(release="fmnist-c")
        if np.array_equal(
            corrupt(probe, name, seed=0, compat="mnist-c"),
            corrupt(probe, name, seed=1, compat="mnist-c"),
        )
    ]
    print("seed-free corruptions of the release:", ", ".join(candidates))
    found = []
    for i in range(100):
        for name in candidates:
            out = corrupt(clean.images[i : i + 1], name, compat="mnist-c")
            if np.abs(out.astype(int) - real[i : i + 1].astype(int)).max() <= 1:
                found.append((i, name))
                break
    table = pd.DataFrame(found, columns=["sample_id", "corruption"])
    table.to_csv(args.out / "release_matches.csv", index=False)
    print(
        f"{len(table)} of the first 100 release images reproduced exactly by a "
        "parameter-free corruption (rotate and shear need the release's random angle)"
    )
    print(table["corruption"].value_counts().to_string())
else:
    print("the shared release sample is not here; skipped the comparison")
