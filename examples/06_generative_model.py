# %% [markdown]
# # Diagnose a generative model with Morpho-MNIST
#
# Castro et al. (2019) ask two questions of a generative model trained on MNIST: do its
# samples reproduce the distribution of each shape attribute of the digits (area, stroke
# length, thickness, slant, width, height), and which latent code controls which attribute?
# This example trains a small VAE, draws samples, and answers both with ``diversity`` and
# ``disentangle``.
#
# Quick by default (a VAE trained on 5,000 digits for 2 epochs, 1,000 samples); run
# `python examples/06_generative_model.py --full` for the whole training set and 10,000
# samples. Also a notebook (Jupytext percent format).

# %%
import argparse
import tempfile
from pathlib import Path

from mnistlab.data import load
from mnistlab.execution import Execution
from mnistlab.models.generative import train_generative
from mnistlab.workflows.disentangle import disentangle
from mnistlab.workflows.represent import diversity

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--full", action="store_true", help="60,000 digits, 5 epochs, 10k samples")
parser.add_argument("--quick", action="store_true", help="the default (kept for make examples)")
parser.add_argument("--out", type=Path, default=Path("examples/output/06_generative_model"))
parser.add_argument(
    "--shared",
    type=Path,
    default=Path(__file__).resolve().parents[2] / "shared" / "data",
    help="folder with mnist/ (the project's shared data)",
)
args, _ = parser.parse_known_args()
args.out.mkdir(parents=True, exist_ok=True)
full = args.full and not args.quick
n_train, epochs, n_samples = (60000, 5, 10000) if full else (5000, 2, 1000)
job = Execution(workers=2)

# %% [markdown]
# ## Train a VAE with 8 latent codes and draw samples
# The codes of sample ``i`` come from the N(0, I) prior, seeded per sample: the same seed
# gives the same images.

# %%
train = load(args.shared / "mnist", split="train")
test = load(args.shared / "mnist", split="test")
vae = train_generative(train.images[:n_train], model="vae", latent_dim=8, epochs=epochs,
                       seed=0, progress=False)  # fmt: skip
samples, codes = vae.sample_dataset(n_samples, seed=0)
print(f"{vae.name}: {n_samples} samples, codes {codes.shape}")

# %% [markdown]
# ## Sample diversity: the samples against the test split, metric by metric
# Each morphometric gets the 1-Wasserstein distance (also in standard deviations of the test
# digits, ``W1/sd``), a Kolmogorov-Smirnov test and a kernel two-sample (MMD) permutation
# test, Holm-corrected; PRDC says whether the samples stay where the digits are (precision)
# and cover where they go (recall).

# %%
result = diversity(test[:n_samples], samples, args.out / "diversity", execution=job,
                   permutations=1000 if full else 200, progress=False)  # fmt: skip
print("\n".join(result.summary_lines()))

# %% [markdown]
# ## Disentanglement: which code moves which morphometric?
# The mutual information gap of the codes with the morphometrics of the images they were
# decoded from, the partial correlations (a code against a morphometric, the other codes held
# fixed), and a latent traversal: each code swept from its 2.5 % to its 97.5 % quantile,
# every decoded image measured.

# %%
vae_dir = vae.save(Path(tempfile.mkdtemp()) / "vae")  # the decoder, as `mnistlab train` saves it
dis = disentangle(samples, codes, args.out / "disentangle", decoder=vae_dir, execution=job,
                  traversal_samples=32 if full else 8, progress=False)  # fmt: skip
print("\n".join(dis.summary_lines()))
print("wrote", args.out)
