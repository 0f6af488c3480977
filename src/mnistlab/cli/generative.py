"""Generative model commands: sample, encode (models trained with ``train --model vae|gan``),
and the Morpho-MNIST diagnostics of a model, ``diversity`` and ``disentangle``
(:mod:`mnistlab.workflows.represent`, :mod:`mnistlab.workflows.disentangle`).

``sample`` writes a dataset folder that every command reads as a dataset (an export of
:mod:`mnistlab.data.formats`, one split), with two more files:

- ``latents.npy``: the codes the images were decoded from, float32 ``(N, latent_dim)``, row
  ``i`` the code of image ``i``;
- ``samples.json``: the model, its architecture and latent size, the seed, N and the split.

The samples have no labels: every label is 0, of the one class ``"unlabelled"`` (the dataset
format needs a label in ``0..K-1`` per image).
"""

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from mnistlab._validate import check_positive
from mnistlab.cli import _app as opts

SAMPLES_JSON = "samples.json"
LATENTS = "latents.npy"

Count = Annotated[
    int,
    typer.Option("-n", "--count", help="Number of samples.",
                 callback=lambda v: check_positive(v, "-n")),
]  # fmt: skip


@opts.command("sample", writes="export", inputs=("model",))
def sample_cmd(
    model: Path = typer.Argument(..., help="Generative model folder (train --model vae|gan)."),
    out: Path = opts.out_option("Dataset folder (new, empty, or a previous one)."),
    n: Count = 10000,
    seed: opts.Seed = 0,
    split: Literal["test", "train"] = typer.Option("test", "--split", help="Split written."),
    fmt: Literal["npz", "png", "parquet", "idx"] = typer.Option("npz", "--format", help="Format."),
) -> None:
    """Sample N images from a VAE or GAN: a dataset folder, and the codes (latents.npy)."""
    from mnistlab.models.generative import load_generative

    generator = load_generative(model)
    dataset, codes = generator.sample_dataset(n, seed, split)
    info = {"model": str(model), "name": generator.name, "architecture": generator.architecture,
            "latent_dim": generator.latent_dim, "seed": seed, "n": n, "split": split,
            "latents": LATENTS, "labels": "none: every label is 0, class 'unlabelled'"}  # fmt: skip
    _write_samples(out, dataset, codes, fmt, info)
    typer.echo(f"{n} samples of {generator.name} (seed {seed}) -> {out} (codes: {LATENTS})")


@opts.command("encode", writes="encode", inputs=("model", "data"), file=(".npy",))
def encode_cmd(
    model: Path = typer.Argument(..., help="VAE model folder (train --model vae)."),
    data: str = typer.Argument(..., help="Dataset name or folder (anything `load` reads)."),
    out: Path = opts.out_option("Latent means, float32 N x latent_dim (.npy)."),
    split: Literal["test", "train"] = typer.Option("test", "--split", help="Split to encode."),
    limit: opts.Limit = None,
    data_dir: opts.DataDir = None,
    download: opts.Download = True,
) -> None:
    """Encode a dataset with a VAE: the latent mean of each image, in dataset order."""
    from mnistlab.data import load
    from mnistlab.models.generative import load_generative

    generator = load_generative(model)
    generator.encode(_empty(generator.image_size))  # a GAN fails here, before any data is read
    dataset = load(data, split=split, data_dir=data_dir, download=download)
    if limit:
        dataset = dataset[:limit]
    codes = generator.encode(dataset.images)
    _write_npy(out, codes)
    typer.echo(f"{len(codes)} latent means ({codes.shape[1]} each) of {dataset.name} -> {out}")


def _empty(size: int) -> Any:
    import numpy as np

    return np.zeros((0, size, size), np.uint8)


def _write_npy(path: Path, array: Any) -> None:
    import numpy as np

    from mnistlab._atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def _write_samples(out: Path, dataset: Any, codes: Any, fmt: str, info: dict[str, Any]) -> None:
    """The export of ``dataset`` plus the codes and ``info``, all in one atomic folder."""
    from mnistlab._atomic import atomic_dir
    from mnistlab.data.formats import export

    with atomic_dir(out, "export") as tmp:
        export(dataset, tmp, format=fmt)
        _write_npy(tmp / LATENTS, codes)
        (tmp / SAMPLES_JSON).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


@opts.command("diversity", writes="diversity", inputs=("reference", "samples", "classifier"),
              executor="local")  # fmt: skip
def diversity_cmd(
    reference: str = typer.Argument(..., help="Reference dataset name or folder (e.g. mnist)."),
    samples: str = typer.Argument(..., help="Samples: a dataset folder (`sample`) or name."),
    out: Path = opts.out_option("Folder: tables, figures, diversity.html."),
    split: Literal["test", "train"] = typer.Option("test", "--split", help="Split read."),
    limit: opts.Limit = None,
    data_dir: opts.DataDir = None,
    permutations: Annotated[int, opts.count("--permutations", "Permutations per MMD test.")] = 1000,
    mmd_rows: Annotated[int, opts.count("--mmd-rows", "Rows of each set per MMD test.")] = 2000,
    k: Annotated[int, opts.count("--k", "Neighbours of PRDC.")] = 5,
    alpha: float = typer.Option(0.05, "--alpha", help="Level of the MMD tests (Holm)."),
    min_effect: float = typer.Option(
        0.1, "--min-effect", help="'shifted' needs W1 >= this many reference sd."
    ),
    classifier: Path | None = typer.Option(
        None, "--classifier", help="Classifier folder: feature-space PRDC/FID/KID, classes."
    ),
    seed: opts.Seed = 0,
    job: Any = None,
) -> None:
    """Sample diversity: test each morphometric of SAMPLES against REFERENCE (MMD, PRDC)."""
    from mnistlab.workflows.represent import diversity

    result = diversity(
        reference, samples, out, limit=limit, data_dir=data_dir, split=split,
        permutations=permutations, mmd_rows=mmd_rows, k=k, alpha=alpha, min_effect=min_effect,
        classifier=classifier, seed=seed, execution=job, progress=job.progress,
    )  # fmt: skip
    for line in result.summary_lines():
        typer.echo(line)


@opts.command("disentangle", writes="disentangle", inputs=("images", "latents", "decoder"),
              executor="local")  # fmt: skip
def disentangle_cmd(
    images: str = typer.Argument(..., help="Images: a dataset folder (`sample`) or name."),
    latents: Path = typer.Argument(..., help="Codes of the images, N x C (.npy), row i image i."),
    out: Path = opts.out_option("Folder: tables, figures, disentangle.html."),
    decoder: Path | None = typer.Option(
        None, "--decoder", help="VAE/GAN folder: add a latent traversal, measured per step."
    ),
    bins: Annotated[int, opts.count("--bins", "Bins of each code and metric (MI).")] = 20,
    steps: Annotated[int, opts.count("--steps", "Values of each traversal.")] = 9,
    split: Literal["test", "train"] = typer.Option("test", "--split", help="Split read."),
    limit: opts.Limit = None,
    data_dir: opts.DataDir = None,
    seed: opts.Seed = 0,
    job: Any = None,
) -> None:
    """Disentanglement: MIG and partial correlations of LATENTS with the morphometrics."""
    from mnistlab.workflows.disentangle import disentangle

    result = disentangle(
        images, latents, out, decoder=decoder, bins=bins, steps=steps, limit=limit,
        data_dir=data_dir, split=split, seed=seed, execution=job, progress=job.progress,
    )  # fmt: skip
    for line in result.summary_lines():
        typer.echo(line)
