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


# --- diversity and disentangle -----------------------------------------------------------------


@pytest.fixture(scope="module")
def samples_dir(tmp_path_factory, vae_dir):
    out = tmp_path_factory.mktemp("s") / "samples"
    assert main(["sample", str(vae_dir), "-n", "160", "--seed", "2", "--out", str(out)]) == 0
    return out


def test_diversity_command(tmp_path, samples_dir, mnist_dir, capsys):
    out = tmp_path / "div"
    argv = ["diversity", "mnist", str(samples_dir), "--data-dir", str(mnist_dir.parent),
            "--limit", "150", "--permutations", "99", "--workers", "2", "--no-progress",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "reference mnist: 150 images" in printed and "samples " in printed
    assert "shifted (MMD, Holm p < 0.05, W1/sd >= 0.1)" in printed
    assert "PRDC (morphometrics, k=5)" in printed
    assert printed.strip().endswith("diversity.html")
    import pandas as pd

    table = pd.read_csv(out / "metrics.csv")
    assert (table["mmd_permutations"] == 99).all() and (table["n_a"] == 150).all()
    assert (out / "diversity.html").is_file() and (out / "pairs.png").is_file()
    _fails(argv, capsys, "pass --overwrite to replace it")
    assert main([*argv, "--overwrite"]) == 0
    capsys.readouterr()


def test_diversity_bad_input_is_one_line(tmp_path, samples_dir, mnist_dir, capsys):
    out = tmp_path / "o"
    base = ["diversity", str(mnist_dir), str(samples_dir), "--no-progress", "--limit", "50"]
    _fails([*base, "--permutations", "0", "--out", str(out)], capsys, "--permutations must be")
    _fails([*base, "--alpha", "2", "--out", str(out)], capsys, "alpha must be a number")
    _fails([*base, "--min-effect", "-1", "--out", str(out)], capsys, "min_effect must be")
    _fails([*base[:2], "no-such-set", *base[3:], "--out", str(out)], capsys, "no-such-set")
    _fails([*base, "--out", str(samples_dir / "inside")], capsys, "is inside the input")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    _fails([*base, "--out", str(mine)], capsys, "is not a mnistlab output")
    (tmp_path / "empty").mkdir()
    _fails([*base, "--classifier", str(tmp_path / "empty"), "--out", str(out)], capsys,
           "not a saved mnistlab model")  # fmt: skip
    assert not out.exists() and (mine / "notes.txt").read_text() == "keep"


def test_disentangle_command_with_a_traversal(tmp_path, samples_dir, vae_dir, capsys):
    out = tmp_path / "dis"
    argv = ["disentangle", str(samples_dir), str(samples_dir / "latents.npy"), "--decoder",
            str(vae_dir), "--steps", "3", "--limit", "120", "--workers", "2", "--no-progress",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "120 images, 8 codes" in printed and "MIG " in printed
    assert "largest traversal effect" in printed and printed.strip().endswith("disentangle.html")
    import pandas as pd

    trav = pd.read_csv(out / "traversal.csv")
    assert len(trav) == 3 * 8 and set(trav["code"]) == {f"z{i}" for i in range(8)}
    assert (out / "traversal_grid.png").is_file() and (out / "partial_correlations.png").is_file()


def test_disentangle_bad_latents_are_one_line(tmp_path, samples_dir, vae_dir, capsys):
    codes = np.load(samples_dir / "latents.npy")
    out = str(tmp_path / "o")
    cases = {
        "short": (codes[:-1], "has 159 rows but there are 160 images"),
        "flat": (codes[:, 0], "must be a 2-D array (images x codes)"),
        "nan": (np.where(np.arange(8) == 3, np.nan, codes), "row 0, code z3 is NaN"),
        "const": (np.where(np.arange(8) == 5, 1.0, codes), "code z5 (column 5) is constant"),
    }
    for name, (array, message) in cases.items():  # fmt: skip
        path = tmp_path / f"{name}.npy"
        np.save(path, array)
        _fails(["disentangle", str(samples_dir), str(path), "--no-progress", "--out", out],
               capsys, message)  # fmt: skip
    _fails(["disentangle", str(samples_dir), str(tmp_path / "none.npy"), "--out", out],
           capsys, "none.npy: no such file")  # fmt: skip
    np.save(tmp_path / "four.npy", codes[:, :4])
    four = ["disentangle", str(samples_dir), str(tmp_path / "four.npy"), "--out", out]
    _fails([*four, "--decoder", str(vae_dir)], capsys, "decodes codes of size 8, four.npy has 4")
    _fails(["disentangle", str(samples_dir), str(samples_dir / "latents.npy"), "--steps", "0",
            "--out", out], capsys, "--steps must be at least 1")  # fmt: skip
    assert not (tmp_path / "o").exists()
