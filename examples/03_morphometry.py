# %% [markdown]
# # Measure and perturb digits with the Morpho-MNIST tools
#
# Castro et al. (2019) describe every digit by its area, stroke length, thickness, slant,
# width and height, and perturb digits in controlled ways (thinning, thickening, swelling,
# fractures). mnistlab reimplements both, batch-first.
#
# Run as a script (`python examples/03_morphometry.py [--quick]`) or as a notebook.

# %%
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mnistlab.data import load
from mnistlab.execution import Execution
from mnistlab.morpho import Fracture, Swelling, Thickening, Thinning, measure

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="1,000 digits instead of 10,000")
parser.add_argument("--out", type=Path, default=Path("examples/output/03_morphometry"))
parser.add_argument(
    "--shared",
    type=Path,
    default=Path(__file__).resolve().parents[2] / "shared" / "data",
    help="folder with mnist/ and morpho-mnist/ (the project's shared data)",
)
args, _ = parser.parse_known_args()
args.out.mkdir(parents=True, exist_ok=True)
n = 1000 if args.quick else 10000

# %% [markdown]
# ## Measure the MNIST test digits and compare with the published table

# %%
digits = load(args.shared / "mnist", split="test")
table = measure(digits.images[:n], execution=Execution(workers=2, progress=True))
table.to_csv(args.out / "mnist_t10k_morpho.csv", index=False)
published = pd.read_csv(args.shared / "morpho-mnist/original/t10k-morpho.csv").iloc[:n]
columns = ["area", "length", "thickness", "slant", "width", "height"]
agreement = pd.DataFrame(
    {
        "pearson_r": [np.corrcoef(table[c], published[c])[0, 1] for c in columns],
        "median_abs_diff": [np.median(np.abs(table[c] - published[c])) for c in columns],
    },
    index=columns,
)
agreement.to_csv(args.out / "agreement_with_published.csv")
print(agreement.round(4).to_string())

# %% [markdown]
# ## Perturb a few digits and see what changes

# %%
perturbations = {
    "thinning": Thinning(),
    "thickening": Thickening(),
    "swelling": Swelling(),
    "fracture": Fracture(),
}
sample = digits.images[:8]
fig, axes = plt.subplots(len(perturbations) + 1, len(sample), figsize=(8, 5.5))
for c, image in enumerate(sample):
    axes[0, c].imshow(image, cmap="gray")
for r, (name, pert) in enumerate(perturbations.items(), start=1):
    out = pert(sample, seed=0)
    for c in range(len(sample)):
        axes[r, c].imshow(out[c], cmap="gray")
    axes[r, 0].set_ylabel(name, fontsize=8)
axes[0, 0].set_ylabel("plain", fontsize=8)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
fig.savefig(args.out / "perturbations.png", dpi=110)

effects = []
base = measure(digits.images[:200])
for name, pert in perturbations.items():
    after = measure(pert(digits.images[:200], seed=1))
    effects.append({"perturbation": name, **(after[columns] - base[columns]).mean().to_dict()})
effects_df = pd.DataFrame(effects).set_index("perturbation")
effects_df.to_csv(args.out / "perturbation_effects.csv")
print("mean change of each measure (200 digits):")
print(effects_df.round(3).to_string())

# %% [markdown]
# ## Garments have shapes too
# Area, width, height and slant describe any silhouette; a skeleton's length and
# thickness mean much less for a filled garment than for a pen stroke.

# %%
fashion = load("fashion-mnist", split="test")
garments = measure(fashion.images[: n // 2], execution=Execution(workers=2))
garments["class"] = [fashion.class_names[k] for k in fashion.labels[: n // 2]]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
for ax, col in zip(axes, ["area", "width", "height"], strict=True):
    garments.boxplot(column=col, by="class", ax=ax, rot=90, fontsize=7)
    ax.set_title(col)
fig.suptitle("")
fig.tight_layout()
fig.savefig(args.out / "fashion_morphometrics.png", dpi=110)
print("wrote", args.out)
