from __future__ import annotations

import json

import numpy as np
import pytest

import mnistlab.cli.generative  # noqa: F401  (registers sample and encode until cli/__init__ does)
from mnistlab.cli import main
from mnistlab.data import load
from mnistlab.models.generative import train_generative


@pytest.fixture(scope="module")
def mnist_images(mnist_dir):
    return load(mnist_dir, split="train").images[:512]


@pytest.fixture(scope="module")
def vae_dir(tmp_path_factory, mnist_images):
    vae = train_generative(mnist_images, model="vae", latent_dim=8, epochs=1, progress=False)
    return vae.save(tmp_path_factory.mktemp("models") / "vae")


@pytest.fixture(scope="module")
def gan_dir(tmp_path_factory, mnist_images):
    gan = train_generative(mnist_images[:256], model="gan", latent_dim=2, epochs=1, progress=False)
    return gan.save(tmp_path_factory.mktemp("models") / "gan")


def _fails(argv, capsys, message):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_sample_writes_a_dataset_folder_with_latents(tmp_path, vae_dir, capsys):
    from mnistlab.models import load_model

    out = tmp_path / "samples"
    assert main(["sample", str(vae_dir), "-n", "20", "--seed", "1", "--out", str(out)]) == 0
    assert "20 samples of vae-8 (seed 1)" in capsys.readouterr().out
    ds = load(out, "test")
    assert ds.images.shape == (20, 28, 28) and ds.images.dtype == np.uint8
    assert ds.class_names == ("unlabelled",) and ds.labels.tolist() == [0] * 20
    latents = np.load(out / "latents.npy")
    assert latents.dtype == np.float32 and latents.shape == (20, 8)
    vae = load_model(vae_dir)
    np.testing.assert_array_equal(latents, vae.prior_codes(20, seed=1))
    np.testing.assert_array_equal(vae.decode(latents), ds.images)
    info = json.loads((out / "samples.json").read_text())
    assert info["seed"] == 1 and info["n"] == 20 and info["latent_dim"] == 8
    assert info["architecture"] == "vae" and info["latents"] == "latents.npy"

    again = tmp_path / "again"
    assert main(["sample", str(vae_dir), "-n", "20", "--seed", "1", "--out", str(again)]) == 0
    assert load(again, "test").images.tobytes() == ds.images.tobytes()
    assert (again / "latents.npy").read_bytes() == (out / "latents.npy").read_bytes()


def test_sample_output_policy_format_and_split(tmp_path, gan_dir, capsys):
    out = tmp_path / "g"
    argv = ["sample", str(gan_dir), "-n", "6", "--out", str(out)]
    assert main(argv) == 0
    _fails(argv, capsys, "pass --overwrite to replace it")
    argv2 = [*argv[:-2], "--format", "png", "--split", "train", "--out", str(out), "--overwrite"]
    assert main(argv2) == 0
    ds = load(out, "train")
    assert len(ds) == 6 and np.load(out / "latents.npy").shape == (6, 2)
    assert sorted(p.name for p in (out / "train").iterdir()) == ["unlabelled"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    _fails([*argv[:-1], str(mine)], capsys, "is not a mnistlab output")
    assert (mine / "notes.txt").read_text() == "keep"


def test_encode_writes_latent_means(tmp_path, vae_dir, mnist_dir, capsys):
    from mnistlab.models import load_model

    out = tmp_path / "z.npy"
    argv = ["encode", str(vae_dir), str(mnist_dir), "--limit", "50", "--out", str(out)]
    assert main(argv) == 0
    assert "50 latent means (8 each)" in capsys.readouterr().out
    codes = np.load(out)
    assert codes.dtype == np.float32 and codes.shape == (50, 8)
    images = load(mnist_dir, "test").images[:50]
    np.testing.assert_array_equal(codes, load_model(vae_dir).encode(images))
    _fails(argv, capsys, "exists; pass --overwrite")
    assert main([*argv, "--overwrite", "--split", "train"]) == 0
    assert np.load(out).shape == (50, 8)


def test_bad_inputs_are_one_line(tmp_path, vae_dir, gan_dir, mnist_dir, capsys):
    out = str(tmp_path / "o")
    _fails(["sample", str(vae_dir), "-n", "0", "--out", out], capsys, "-n must be at least 1")
    _fails(["sample", str(vae_dir), "--seed", "-1", "--out", out], capsys, "--seed must be")
    (tmp_path / "empty").mkdir()
    _fails(["sample", str(tmp_path / "empty"), "--out", out], capsys, "not a saved mnistlab model")
    _fails(["sample", str(vae_dir), "--out", out, "--format", "gif"], capsys, "'gif'")
    npy = str(tmp_path / "z.npy")
    _fails(["encode", str(gan_dir), str(mnist_dir), "--out", npy], capsys, "has no encoder")
    _fails(["encode", str(vae_dir), str(mnist_dir), "--out", out + ".csv"], capsys, ".npy")
    _fails(["encode", str(vae_dir), str(tmp_path / "none"), "--out", npy], capsys, "none")
    assert not (tmp_path / "o").exists() and not (tmp_path / "z.npy").exists()


def test_predict_refuses_a_generative_model(tmp_path, vae_dir, mnist_dir, capsys):
    out = tmp_path / "p.parquet"
    argv = ["predict", str(vae_dir), str(mnist_dir), "--out", str(out), "--no-progress"]
    _fails(argv, capsys, "is a generative model (vae), not a classifier")
    assert not out.exists()


def _train_takes_latent_dim() -> bool:
    import inspect

    from mnistlab.cli.models import train_cmd

    return "latent_dim" in inspect.signature(train_cmd).parameters


@pytest.mark.skipif(
    not _train_takes_latent_dim(), reason="needs `train --latent-dim` (cli/models.py patch)"
)
def test_train_command_trains_a_vae(tmp_path, mnist_dir, capsys):
    from mnistlab.models import load_model

    out = tmp_path / "vae"
    argv = ["train", str(mnist_dir), "--model", "vae", "--latent-dim", "4", "--epochs", "1"]
    assert main([*argv, "--train-size", "256", "--out", str(out), "--no-progress"]) == 0
    assert "vae: held-out -ELBO" in capsys.readouterr().out
    vae = load_model(out)
    assert vae.latent_dim == 4 and vae.manifest["train_size"] == 256  # type: ignore[attr-defined]
    bad = ["train", str(mnist_dir), "--model", "logreg", "--latent-dim", "4"]
    _fails([*bad, "--out", str(tmp_path / "lr")], capsys, "--latent-dim")
