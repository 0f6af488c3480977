from __future__ import annotations

import json

import numpy as np
import pytest

from mnistlab.data import load
from mnistlab.errors import MnistlabError
from mnistlab.models import get_spec, load_model, train
from mnistlab.models.generative import (
    SAMPLE_CLASS,
    GANModel,
    GenerativeModel,
    VAEModel,
    load_generative,
    train_generative,
)


@pytest.fixture(scope="module")
def mnist_train(mnist_dir):
    return load(mnist_dir, split="train")


@pytest.fixture(scope="module")
def mnist_test_images(mnist_dir):
    return load(mnist_dir, split="test").images[:500]


@pytest.fixture(scope="module")
def tiny_vae(mnist_train):
    return train_generative(
        mnist_train.images[:512], model="vae", latent_dim=8, epochs=1, progress=False
    )


@pytest.fixture(scope="module")
def tiny_gan(mnist_train):
    return train_generative(
        mnist_train.images[:256], model="gan", latent_dim=2, epochs=1, progress=False
    )


def _state(model: GenerativeModel) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.net.state_dict().items()}


def test_sample_shapes_dtypes_and_seeds(tiny_vae, tiny_gan):
    for model, latent in ((tiny_vae, 8), (tiny_gan, 2)):
        images, codes = model.sample(10, seed=3)
        assert images.dtype == np.uint8 and images.shape == (10, 28, 28)
        assert codes.dtype == np.float32 and codes.shape == (10, latent)
        again, codes_again = model.sample(10, seed=3)
        assert images.tobytes() == again.tobytes() and codes.tobytes() == codes_again.tobytes()
        other_images, other_codes = model.sample(10, seed=4)
        assert not np.array_equal(other_codes, codes) and other_images.shape == images.shape
        # the code of sample i depends on (seed, i) only
        np.testing.assert_array_equal(model.sample(4, seed=3)[1], codes[:4])
        np.testing.assert_array_equal(model.decode(codes), images)
        empty_images, empty_codes = model.sample(0)
        assert empty_images.shape == (0, 28, 28) and empty_codes.shape == (0, latent)
    # prior codes look standard normal
    codes = tiny_vae.prior_codes(4000, seed=0)
    assert abs(codes.mean()) < 0.02 and abs(codes.std() - 1) < 0.02


def test_names_kinds_and_manifest(tiny_vae, tiny_gan):
    assert isinstance(tiny_vae, VAEModel) and isinstance(tiny_gan, GANModel)
    assert (tiny_vae.name, tiny_gan.name) == ("vae-8", "gan-2")
    assert tiny_vae.kind == tiny_gan.kind == "generative" and tiny_vae.class_names == ()
    m = tiny_vae.manifest
    assert m["architecture"] == "vae" and m["latent_dim"] == 8 and m["train_size"] == 512
    assert m["epochs"] == 1 and m["seed"] == 0 and len(m["data_sha256"]) == 64
    assert m["accuracy"] is None and "ELBO" in m["summary"] and m["training_seconds"] > 0
    assert set(tiny_gan.manifest["history"][0]) >= {"d_loss", "g_loss", "seconds"}


def test_training_is_seeded(mnist_train):
    images = mnist_train.images[:128]
    for model in ("vae", "gan"):
        a = train_generative(images, model=model, latent_dim=4, epochs=1, progress=False)
        b = train_generative(images, model=model, latent_dim=4, epochs=1, progress=False)
        c = train_generative(images, model=model, latent_dim=4, epochs=1, seed=1, progress=False)
        sa, sb, sc = _state(a), _state(b), _state(c)
        assert all(np.array_equal(sa[k], sb[k]) for k in sa)
        assert not all(np.array_equal(sa[k], sc[k]) for k in sa)
        assert a.sample(8, seed=5)[0].tobytes() == b.sample(8, seed=5)[0].tobytes()


def test_save_load_round_trip(tmp_path, tiny_vae, tiny_gan, mnist_test_images):
    for model in (tiny_vae, tiny_gan):
        folder = model.save(tmp_path / model.name)
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["kind"] == "generative" and manifest["class_names"] == []
        back = load_model(folder)
        assert type(back) is type(model) and back.name == model.name
        assert back.latent_dim == model.latent_dim and back.manifest["seed"] == 0
        assert back.sample(16, seed=2)[0].tobytes() == model.sample(16, seed=2)[0].tobytes()
        assert load_generative(folder).name == model.name
    back_vae = load_model(tmp_path / tiny_vae.name)
    assert isinstance(back_vae, VAEModel)
    np.testing.assert_array_equal(
        back_vae.encode(mnist_test_images), tiny_vae.encode(mnist_test_images)
    )


def test_encode_and_reconstruct(tiny_vae, mnist_test_images):
    codes = tiny_vae.encode(mnist_test_images)
    assert codes.dtype == np.float32 and codes.shape == (500, 8) and np.isfinite(codes).all()
    assert tiny_vae.encode(mnist_test_images[:0]).shape == (0, 8)
    recon = tiny_vae.reconstruct(mnist_test_images[:5])
    assert recon.dtype == np.uint8 and recon.shape == (5, 28, 28)
    # a batch of another size may round differently in the last float32 bit
    np.testing.assert_allclose(codes[:7], tiny_vae.encode(mnist_test_images[:7]), atol=1e-5)


@pytest.mark.slow
def test_vae_reconstructs_better_than_the_mean_image(mnist_train, mnist_test_images):
    """2 epochs on 4,000 real MNIST digits: reconstructions of unseen test digits beat the
    constant mean training image, so the codes carry information about each digit."""
    train_images = mnist_train.images[:4000]
    vae = train_generative(
        train_images, model="vae", latent_dim=16, epochs=2, progress=False,
        val=(mnist_test_images, None),
    )  # fmt: skip
    x = mnist_test_images.astype(np.float64)
    recon_mse = np.mean((vae.reconstruct(mnist_test_images) - x) ** 2)
    mean_mse = np.mean((train_images.mean(axis=0) - x) ** 2)
    assert recon_mse < 0.8 * mean_mse
    # the held-out negative ELBO beats the best constant Bernoulli image's BCE
    p = np.clip(train_images.mean(axis=0) / 255.0, 1e-6, 1 - 1e-6)
    t = x / 255.0
    constant_bce = -np.mean(np.sum(t * np.log(p) + (1 - t) * np.log(1 - p), axis=(1, 2)))
    assert vae.manifest["val_neg_elbo"] < constant_bce
    assert vae.manifest["val_reconstruction_bce"] < vae.manifest["val_neg_elbo"]


def test_registered_for_train(mnist_train, mnist_test_images):
    assert get_spec("vae").kind == get_spec("gan").kind == "generative"
    ds = mnist_train[:64]
    vae = train(ds.images, ds.labels, "vae", class_names=ds.class_names, epochs=1, seed=2,
                progress=False, val=(mnist_test_images[:50], None), latent_dim=3)  # fmt: skip
    assert isinstance(vae, VAEModel) and vae.latent_dim == 3 and vae.manifest["seed"] == 2
    assert vae.manifest["summary"].startswith("held-out -ELBO") and vae.class_names == ()
    gan = train(ds.images, ds.labels, "gan", epochs=1, progress=False)
    assert isinstance(gan, GANModel) and gan.latent_dim == 64


def test_a_generative_model_is_not_a_classifier(tiny_vae, tiny_gan, mnist_test_images):
    for model in (tiny_vae, tiny_gan):
        with pytest.raises(MnistlabError, match="not a classifier"):
            model.predict_logits(mnist_test_images[:2])
        with pytest.raises(MnistlabError, match="not a classifier"):
            model.predict(mnist_test_images[:2])
    with pytest.raises(MnistlabError, match="'gan-2' is a GAN: it has no encoder"):
        tiny_gan.encode(mnist_test_images[:2])


def test_sample_dataset(tiny_gan):
    ds, codes = tiny_gan.sample_dataset(6, seed=1, split="train")
    assert ds.split == "train" and ds.class_names == (SAMPLE_CLASS,) and len(ds) == 6
    assert ds.labels.tolist() == [0] * 6 and ds.name == "gan-2-samples"
    np.testing.assert_array_equal(ds.images, tiny_gan.sample(6, seed=1)[0])
    np.testing.assert_array_equal(codes, tiny_gan.prior_codes(6, seed=1))
    with pytest.raises(MnistlabError, match="unknown split 'val'"):
        tiny_gan.sample_dataset(2, split="val")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.sample(-1), "n must be at least 0"),
        (lambda m: m.sample(2.5), "n must be an integer"),
        (lambda m: m.sample(2, seed=-1), "seed must be a non-negative integer"),
        (lambda m: m.decode(np.zeros((2, 3))), r"codes of shape \(N, 8\), got \(2, 3\)"),
        (lambda m: m.decode(np.zeros(8)), r"got \(8,\)"),
        (lambda m: m.decode(np.full((1, 8), np.nan)), "codes must be finite"),
        (lambda m: m.decode([["a"] * 8]), "codes must be numbers"),
        (lambda m: m.encode(np.zeros((2, 28, 28), np.float32)), "expects uint8 images"),
        (lambda m: m.encode(np.zeros((2, 32, 32), np.uint8)), r"\(N, 28, 28\)"),
    ],
)
def test_bad_inputs_raise_one_line(tiny_vae, call, message):
    with pytest.raises(MnistlabError, match=message) as info:
        call(tiny_vae)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "flow"}, "unknown generative model 'flow'"),
        ({"images": np.zeros((4, 28, 28), np.float32)}, "must be uint8"),
        ({"images": np.zeros((4, 30, 30), np.uint8)}, "multiple of 4"),
        ({"images": np.zeros((0, 28, 28), np.uint8)}, "empty"),
        ({"latent_dim": 0}, "latent_dim must be"),
        ({"latent_dim": 1.5}, "latent_dim must be an integer"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"seed": -3}, "seed must be a non-negative integer"),
        ({"lr": -1.0}, "lr must be a positive number"),
        ({"lr": "fast"}, "lr must be a positive number"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"val": (np.zeros((2, 14, 14), np.uint8), None)}, "val images must be uint8"),
    ],
)
def test_bad_training_inputs(kwargs, message):
    options = {"images": np.zeros((4, 28, 28), np.uint8), "epochs": 1, "progress": False}
    options.update(kwargs)
    with pytest.raises(MnistlabError, match=message):
        train_generative(**options)


def test_broken_model_folders(tmp_path, tiny_vae):
    folder = tiny_vae.save(tmp_path / "vae")
    manifest = json.loads((folder / "manifest.json").read_text())
    bad = dict(manifest, latent_dim=5)
    (folder / "manifest.json").write_text(json.dumps(bad))
    with pytest.raises(MnistlabError, match="not the weights of a vae of latent size 5"):
        load_model(folder)
    (folder / "manifest.json").write_text(json.dumps(dict(manifest, architecture="flow")))
    with pytest.raises(MnistlabError, match="unknown generative architecture 'flow'"):
        load_model(folder)
    (folder / "manifest.json").write_text(json.dumps(dict(manifest, latent_dim="8")))
    with pytest.raises(MnistlabError, match="invalid latent_dim '8'"):
        load_model(folder)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "weights.pt").unlink()
    with pytest.raises(MnistlabError, match="missing weights file"):
        load_model(folder)


def test_load_generative_refuses_a_classifier(tmp_path, mnist_train):
    ds = mnist_train[:200]
    logreg = train(ds.images, ds.labels, "logreg", class_names=ds.class_names, progress=False)
    folder = logreg.save(tmp_path / "lr")
    with pytest.raises(MnistlabError, match="a sklearn classifier, not a generative model"):
        load_generative(folder)


def test_decoding_runs_in_batches(tiny_vae):
    codes = tiny_vae.prior_codes(7, seed=9)
    whole = tiny_vae.decode(codes)
    old = tiny_vae.batch_size
    try:
        tiny_vae.batch_size = 3
        parts = tiny_vae.decode(codes)
        means = tiny_vae.encode(whole)
    finally:
        tiny_vae.batch_size = old
    assert parts.shape == whole.shape and np.abs(parts.astype(int) - whole).max() <= 1
    np.testing.assert_allclose(means, tiny_vae.encode(whole), atol=1e-5)
