"""``disentangle`` on real MNIST digits: codes built from known morphometrics are found, the
refusals of bad latents, the latent traversal of a small VAE, the tables and the page."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from mnistlab.data import Dataset, load
from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution
from mnistlab.workflows.disentangle import (
    check_latents,
    code_names,
    disentangle,
    traversal_codes,
)
from mnistlab.workflows.represent import METRICS, measure_sets

N = 400
JOB = Execution(workers=2)
FAST = {"progress": False, "execution": JOB}


@pytest.fixture(scope="module")
def digits(mnist_dir) -> Dataset:
    return load(mnist_dir, "test")[:N]


@pytest.fixture(scope="module")
def morpho(digits) -> pd.DataFrame:
    (table,) = measure_sets([digits.images], JOB)
    return table


@pytest.fixture(scope="module")
def known_codes(morpho) -> np.ndarray:
    """z0 = thickness, z1 = noise, z2 = slant (each with a little noise)."""
    rng = np.random.default_rng(0)
    z = lambda c: (morpho[c] - morpho[c].mean()) / morpho[c].std()  # noqa: E731
    return np.column_stack([
        z("thickness") + 0.05 * rng.normal(size=N), rng.normal(size=N),
        z("slant") + 0.05 * rng.normal(size=N),
    ]).astype(np.float32)  # fmt: skip


@pytest.fixture(scope="module")
def known(tmp_path_factory, digits, known_codes):
    path = tmp_path_factory.mktemp("z") / "codes.npy"
    np.save(path, known_codes)
    return disentangle(digits, path, tmp_path_factory.mktemp("dis") / "out", **FAST)


@pytest.fixture(scope="module")
def vae_dir(tmp_path_factory, mnist_dir):
    from mnistlab.models.generative import train_generative

    images = load(mnist_dir, "train").images[:512]
    vae = train_generative(images, model="vae", latent_dim=3, epochs=1, progress=False)
    return vae.save(tmp_path_factory.mktemp("models") / "vae")


def test_codes_made_of_morphometrics_are_found(known):
    best = known.mig_table.set_index("metric")["best_code"]
    assert best["thickness"] == "z0" and best["slant"] == "z2"
    partial = known.partial
    assert partial.loc["z0", "thickness"] > 0.95 and partial.loc["z2", "slant"] > 0.95
    assert abs(partial.loc["z1", "thickness"]) < 0.15 and abs(partial.loc["z1", "slant"]) < 0.15
    assert known.spearman.loc["z0", "thickness"] > 0.9
    gaps = known.mig_table.set_index("metric")["gap"]
    assert gaps["thickness"] > 0.3 and gaps["slant"] > 0.3
    assert known.mig.score == pytest.approx(gaps.mean())
    assert known.traversal is None and known.effects is None


def test_outputs_and_the_page(known):
    out = known.out
    names = {p.name for p in out.iterdir()}
    assert {
        "morphometrics.parquet", "mig.csv", "mi.csv", "partial_correlations.csv",
        "spearman.csv", "partial_correlations.png", "mi.png", "disentangle.html",
    } <= names  # fmt: skip
    assert "traversal.csv" not in names
    assert json.loads((out / ".mnistlab-output.json").read_text())["kind"] == "disentangle"
    partial = pd.read_csv(out / "partial_correlations.csv")
    assert partial["code"].tolist() == ["z0", "z1", "z2"]
    assert list(partial.columns) == ["code", *METRICS]
    mig = pd.read_csv(out / "mig.csv")
    assert list(mig.columns) == ["metric", "entropy", "best_code", "mi_best", "mi_second", "gap"]
    html = (out / "disentangle.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and "MIG" in html
    assert not re.search(r"""(src|href)=["']https?:""", html)
    lines = known.summary_lines()
    assert lines[1].startswith("MIG ") and lines[-1].endswith("disentangle.html")
    assert any(x.startswith("thickness") and "z0" in x for x in lines)


def test_a_decoder_adds_a_measured_traversal(tmp_path, vae_dir):
    from mnistlab.models.generative import load_generative

    vae = load_generative(vae_dir)
    samples, codes = vae.sample_dataset(150, seed=3)
    kw = {**FAST, "steps": 5, "traversal_samples": 4}
    result = disentangle(samples, codes, tmp_path / "o", decoder=vae_dir, **kw)
    trav = result.traversal
    assert trav is not None and len(trav) == 3 * 5
    assert trav["code"].tolist() == [c for c in code_names(3) for _ in range(5)]
    assert (trav["n"] == 4).all() and {"thickness_mean", "slant_std"} <= set(trav.columns)
    for code, part in trav.groupby("code"):  # the quantiles of each code, in order
        values = part["value"].to_numpy()
        col = int(str(code)[1:])
        expected = np.quantile(codes[:, col].astype(np.float64), np.linspace(0.025, 0.975, 5))
        np.testing.assert_allclose(values, expected)
    assert len(result.effects) == 3 * len(METRICS)
    for name in ("traversal_grid.png", "traversal_metrics.png", "traversal_effects.png",
                 "traversal.csv", "traversal_effects.csv"):  # fmt: skip
        assert (result.out / name).is_file(), name
    assert (result.out / "disentangle.html").read_text().count("data:image/png;base64,") == 5
    again = disentangle(samples, codes, tmp_path / "again", decoder=vae_dir, **kw)
    assert (again.out / "traversal.csv").read_bytes() == (result.out / "traversal.csv").read_bytes()


def test_the_traversal_measures_what_the_decoder_draws(tmp_path, vae_dir):
    """Step s of code c: the mean morphometrics of the decoded base codes with z_c set."""
    from mnistlab.models.generative import load_generative
    from mnistlab.morpho import measure

    vae = load_generative(vae_dir)
    samples, codes = vae.sample_dataset(60, seed=1)
    result = disentangle(samples, codes, tmp_path / "o", decoder=vae_dir, steps=3,
                         traversal_samples=60, **FAST)  # fmt: skip
    row = result.traversal.iloc[2]  # z0, last step; all 60 codes are the base
    z = codes.astype(np.float64).copy()
    z[:, 0] = row["value"]
    table = measure(vae.decode(z.astype(np.float32)), execution=Execution("serial"))
    assert row["thickness_mean"] == pytest.approx(table["thickness"].mean())


def test_limit_takes_the_first_rows_of_both(tmp_path, digits, known_codes):
    result = disentangle(digits, known_codes, tmp_path / "o", limit=120, **FAST)
    assert result.n_images == 120
    table = pd.read_parquet(result.out / "morphometrics.parquet")
    assert len(table) == 120 and table["sample_id"].tolist() == list(range(120))


def test_bad_latents_are_refused_with_one_line(tmp_path, digits, known_codes):
    out = tmp_path / "o"
    cases = [
        (known_codes[:-1], "latents has 399 rows but there are 400 images"),
        (known_codes[:, 0], "must be a 2-D array (images x codes), got shape (400,)"),
        (known_codes[:, :1], "latents has 1 code: MIG needs at least 2"),
        (np.full((N, 2), "a"), "must hold numbers"),
    ]
    nan = known_codes.copy()
    nan[5, 2] = np.nan
    cases.append((nan, "latents: row 5, code z2 is NaN"))
    inf = known_codes.copy()
    inf[7, 0] = np.inf
    cases.append((inf, "latents: row 7, code z0 is infinite"))
    const = known_codes.copy()
    const[:, 1] = 0.5
    cases.append((const, "code z1 (column 1) is constant (every value 0.5)"))
    for latents, message in cases:
        with pytest.raises(MnistlabError, match=re.escape(message)):
            disentangle(digits, latents, out, **FAST)
    with pytest.raises(MnistlabError, match=r"none\.npy: no such file"):
        disentangle(digits, tmp_path / "none.npy", out, **FAST)
    bad = tmp_path / "bad.npy"
    bad.write_text("not numpy")
    with pytest.raises(MnistlabError, match=r"bad\.npy: not a \.npy array"):
        disentangle(digits, bad, out, **FAST)
    first_rows_constant = known_codes.copy()
    first_rows_constant[:10, 1] = 1.0
    with pytest.raises(MnistlabError, match=r"\(first 10 rows\): code z1"):
        disentangle(digits, first_rows_constant, out, limit=10, **FAST)
    assert not out.exists()


def test_bad_parameters_and_a_mismatched_decoder(tmp_path, digits, known_codes, vae_dir):
    out = tmp_path / "o"
    with pytest.raises(MnistlabError, match="decodes codes of size 3, latents has 2"):
        disentangle(digits, known_codes[:, :2], out, decoder=vae_dir, **FAST)
    with pytest.raises(MnistlabError, match="steps must be at least 2"):
        disentangle(digits, known_codes, out, steps=1, **FAST)
    with pytest.raises(MnistlabError, match="bins must be at least 2"):
        disentangle(digits, known_codes, out, bins=1, **FAST)
    with pytest.raises(MnistlabError, match="unknown metric"):
        disentangle(digits, known_codes, out, metrics=["thickness", "colour"], **FAST)
    with pytest.raises(MnistlabError, match="not a saved mnistlab model"):
        disentangle(digits, known_codes, out, decoder=tmp_path, **FAST)
    assert not out.exists()


def test_check_latents_and_traversal_codes():
    codes = check_latents(np.array([[0, 1], [1, 0], [2, 2]], np.int16), 3)
    assert codes.dtype == np.float64 and codes.shape == (3, 2)
    mi = np.array([[0.1, 0.0], [0.9, 0.2], [0.0, 0.5], [0.3, 0.3]])
    assert traversal_codes(mi, 10) == [0, 1, 2, 3]
    assert traversal_codes(mi, 2) == [1, 2]
