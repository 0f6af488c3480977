"""``diversity`` on real MNIST: a thickness shift is found and a slant shift is not; identical
sets are not told apart; the tables, figures and page; bad input; the guide's Python blocks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.data import Dataset, load
from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution
from mnistlab.workflows.represent import (
    JOINT,
    METRICS,
    check_alpha,
    diversity,
    diversity_statistics,
    load_images,
    measure_sets,
)

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "guide" / "generative.md"
N = 300  # the fast tests; the slow ones take the first 1000 test digits
JOB = Execution(workers=2)
FAST = {"permutations": 200, "n_boot": 200, "progress": False, "execution": JOB}
STATS = {"permutations": 200, "n_boot": 200}
TWO = ["thickness", "slant"]


def _perturbed(ds: Dataset) -> dict[str, Dataset]:
    """The same digits thickened and thinned (Morpho-MNIST's perturbations)."""
    from mnistlab.morpho import perturb

    out = {}
    for kind in ("thic", "thin"):
        images, _ = perturb(ds.images, kind, seed=0, execution=JOB)
        out[kind] = Dataset(images, ds.labels, ds.class_names, name=kind)
    return out


@pytest.fixture(scope="module")
def test_digits(mnist_dir) -> Dataset:
    return load(mnist_dir, "test")[:N]


@pytest.fixture(scope="module")
def perturbed(test_digits):
    return _perturbed(test_digits)


@pytest.fixture(scope="module")
def tables(test_digits, perturbed) -> dict[str, pd.DataFrame]:
    """Morphometrics of the test digits and of their thick and thin versions (one job)."""
    sets = [test_digits.images, perturbed["thic"].images, perturbed["thin"].images]
    return dict(zip(("test", "thic", "thin"), measure_sets(sets, JOB), strict=True))


@pytest.fixture(scope="module")
def thick_result(tmp_path_factory, test_digits, perturbed):
    out = tmp_path_factory.mktemp("div") / "thic"
    return diversity(test_digits, perturbed["thic"], out, **FAST)


def _row(table, metric):
    return table.set_index("metric").loc[metric]


def _check_thickness_not_slant(table, sign):
    thick, slant = _row(table, "thickness"), _row(table, "slant")
    assert thick["shifted"] and thick["mmd_pvalue_holm"] < 0.05
    assert thick["mmd_pvalue"] == pytest.approx(1 / 201)  # no permutation reaches it
    assert sign * thick["mean_diff"] > 0.5 and thick["wasserstein_sd"] > 1.0
    assert sign * thick["mean_diff_low"] > 0 and sign * thick["mean_diff_high"] > 0
    assert not slant["shifted"] and slant["mmd_pvalue"] > 0.1
    assert slant["wasserstein_sd"] < 0.1 and abs(slant["mean_diff"]) < 0.02
    assert _row(table, JOINT)["shifted"]


def test_thickening_is_a_thickness_shift_not_a_slant_shift(thick_result):
    _check_thickness_not_slant(thick_result.metrics, +1)
    assert "thickness" in thick_result.shifted() and "slant" not in thick_result.shifted()


def test_thinning_is_a_thickness_shift_downwards(tables):
    table, _ = diversity_statistics(tables["test"], tables["thin"], **STATS)
    _check_thickness_not_slant(table, -1)


def test_identical_sets_are_not_told_apart(tables):
    table, prdc = diversity_statistics(tables["test"], tables["test"], **STATS)
    assert not table["shifted"].any() and (table["mmd_pvalue"] > 0.5).all()
    assert (table.loc[table["metric"] != JOINT, "wasserstein"] == 0).all()
    row = prdc.iloc[0]
    assert row["precision"] == row["recall"] == row["coverage"] == 1.0
    assert row["density"] == pytest.approx(1.0) and row["frechet"] == pytest.approx(0, abs=1e-9)


def test_two_halves_of_the_test_split_are_not_told_apart(tables):
    test = tables["test"]
    table, _ = diversity_statistics(test.iloc[: N // 2], test.iloc[N // 2 :], **STATS)
    assert not table["shifted"].any()
    assert (table["wasserstein_sd"].dropna() < 0.25).all()


def test_outputs_tables_figures_and_a_self_contained_page(thick_result):
    out = thick_result.out
    names = {p.name for p in out.iterdir()}
    assert {
        "morphometrics_reference.parquet", "morphometrics_samples.parquet", "metrics.csv",
        "prdc.csv", "density.png", "pairs.png", "diversity.html",
    } <= names  # fmt: skip
    assert json.loads((out / ".mnistlab-output.json").read_text())["kind"] == "diversity"
    ref = pd.read_parquet(out / "morphometrics_reference.parquet")
    assert list(ref.columns) == ["index", "sample_id", *METRICS] and len(ref) == N
    table = pd.read_csv(out / "metrics.csv")
    assert table["metric"].tolist() == [*METRICS, JOINT]
    for col in ("wasserstein", "ks_pvalue", "mmd2", "mmd_pvalue", "mmd_pvalue_holm",
                "significant", "shifted"):  # fmt: skip
        assert col in table.columns
    assert (table["mmd_m"] == N).all() and (table["mmd_permutations"] == 200).all()
    prdc = pd.read_csv(out / "prdc.csv")
    assert prdc["space"].tolist() == ["morphometrics"]
    assert {"precision", "recall", "density", "coverage", "frechet"} <= set(prdc)
    html = (out / "diversity.html").read_text()
    assert html.count("data:image/png;base64,") == 2
    assert not re.search(r"""(src|href)=["']https?:""", html)
    assert "thickness" in html and "Holm" in html
    lines = thick_result.summary_lines()
    assert lines[-1].endswith("diversity.html") and any("thickness" in x for x in lines)
    assert any(x.startswith("shifted (MMD, Holm p < 0.05, W1/sd >= 0.1): area") for x in lines)


def test_the_same_seed_gives_the_same_bytes(tmp_path, test_digits, perturbed):
    kw = {**FAST, "limit": 100, "metrics": TWO}
    a = diversity(test_digits, perturbed["thic"], tmp_path / "a", **kw)
    b = diversity(test_digits, perturbed["thic"], tmp_path / "b", **kw)
    for name in ("metrics.csv", "prdc.csv", "morphometrics_samples.parquet"):
        assert (a.out / name).read_bytes() == (b.out / name).read_bytes()


def test_limit_metrics_and_mmd_rows(tmp_path, test_digits, perturbed):
    kw = {**FAST, "limit": 200, "metrics": TWO, "mmd_rows": 150}
    result = diversity(test_digits, perturbed["thic"], tmp_path / "o", **kw)
    assert result.n_reference == result.n_samples == 200
    table = result.metrics
    assert table["metric"].tolist() == ["thickness", "slant", JOINT]
    assert (table["mmd_m"] == 150).all() and (table["n_a"] == 200).all()
    assert not (result.out / "classes.csv").exists()


def test_blank_samples_are_left_out_and_counted(tmp_path, test_digits):
    images = test_digits.images[:200].copy()
    images[:7] = 0
    blanks = Dataset(images, test_digits.labels[:200], test_digits.class_names, name="blanks")
    result = diversity(test_digits[:200], blanks, tmp_path / "b", metrics=TWO, **FAST)
    assert result.blank_samples == 7 and result.blank_reference == 0
    assert (result.metrics["n_b"] == 193).all()
    assert "7 blank" in result.summary_lines()[1]


def test_checkpoints_are_removed_once_the_output_is_written(tmp_path, test_digits, perturbed):
    job = Execution("serial", checkpoint=True, chunk_size=25)
    kw = {**FAST, "execution": job, "limit": 50, "metrics": TWO}
    result = diversity(test_digits, perturbed["thic"], tmp_path / "o", **kw)
    assert result.n_samples == 50 and sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_a_sample_folder_is_read_in_the_split_it_wrote(tmp_path, test_digits):
    from mnistlab.data.formats import export

    folder = tmp_path / "samples"
    export(Dataset(test_digits.images[:20], test_digits.labels[:20], test_digits.class_names,
                   split="train"), folder, format="npz")  # fmt: skip
    (folder / "samples.json").write_text(json.dumps({"split": "train"}))
    ds = load_images(folder, "test", limit=5)
    assert len(ds) == 5 and ds.split == "train"
    np.testing.assert_array_equal(ds.images, test_digits.images[:5])


def test_measure_sets_is_one_job_with_the_same_numbers(test_digits):
    from mnistlab.morpho import measure

    a, b = measure_sets([test_digits.images[:30], test_digits.images[30:50]], Execution("serial"))
    alone = measure(test_digits.images[30:50], execution=Execution("serial"))
    pd.testing.assert_frame_equal(b, alone)
    assert a["index"].tolist() == list(range(30))
    with pytest.raises(MnistlabError, match="different sizes: 28x28, 32x32"):
        measure_sets([test_digits.images[:2], np.zeros((2, 32, 32), np.uint8)])


def test_a_significant_but_small_difference_is_not_a_shift():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame(rng.normal(size=(1000, 2)), columns=TWO)
    moved = pd.DataFrame(rng.normal(size=(1000, 2)), columns=TWO)
    moved["thickness"] += 0.25
    table, _ = diversity_statistics(ref, moved, metrics=TWO, min_effect=0.5, **STATS)
    thick = _row(table, "thickness")
    assert thick["significant"] and not thick["shifted"] and thick["wasserstein_sd"] < 0.5
    table, _ = diversity_statistics(ref, moved, metrics=TWO, min_effect=0.0, **STATS)
    assert _row(table, "thickness")["shifted"] and not _row(table, "slant")["significant"]


def test_too_few_permutations_are_flagged(tmp_path, test_digits, perturbed):
    kw = {**FAST, "limit": 100, "metrics": TWO, "permutations": 50}
    result = diversity(test_digits, perturbed["thic"], tmp_path / "o", **kw)
    assert result.significant() == [] and result.metrics["mmd_pvalue"].min() == 1 / 51
    note = "note: with 50 permutations the smallest Holm-corrected p is 0.0588"
    assert any(x.startswith(note) and x.endswith("use at least 60") for x in result.summary_lines())
    assert note in (result.out / "diversity.html").read_text()
    plenty = diversity(test_digits, perturbed["thic"], tmp_path / "p", **{**kw, "permutations": 99})
    assert plenty.resolution_note() == "" and plenty.significant() == ["thickness", "joint"]


def test_statistics_refuse_bad_input():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(rng.normal(size=(50, 2)), columns=["thickness", "slant"])
    kw = {"metrics": ["thickness", "slant"], "permutations": 9, "n_boot": 10}
    with pytest.raises(MnistlabError, match="samples has no column 'slant'"):
        diversity_statistics(ref, ref[["thickness"]], **kw)
    with pytest.raises(MnistlabError, match="reference metric 'slant' is constant"):
        diversity_statistics(ref.assign(slant=1.0), ref, **kw)
    with pytest.raises(MnistlabError, match="more than k=5"):
        diversity_statistics(ref.iloc[:5], ref, **kw)
    with pytest.raises(MnistlabError, match="permutations must be"):
        diversity_statistics(ref, ref, **{**kw, "permutations": 0})
    with pytest.raises(MnistlabError, match="alpha must be a number strictly between 0 and 1"):
        check_alpha(0.0)
    with pytest.raises(MnistlabError, match="min_effect must be a number of at least 0"):
        diversity_statistics(ref, ref, **{**kw, "min_effect": -0.1})


def test_the_workflow_refuses_bad_input_before_writing(tmp_path, test_digits):
    out = tmp_path / "o"
    with pytest.raises(MnistlabError, match="unknown metric"):
        diversity(test_digits, test_digits, out, metrics=["thickness", "curl"], **FAST)
    with pytest.raises(MnistlabError, match="limit must be at least 1"):
        diversity(test_digits, test_digits, out, limit=0, **FAST)
    with pytest.raises(MnistlabError, match="alpha"):
        diversity(test_digits, test_digits, out, alpha=2, **FAST)
    with pytest.raises(MnistlabError, match="no-such-data"):
        diversity("no-such-data", test_digits, out, **FAST)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(MnistlabError, match="not a mnistlab output"):
        diversity(test_digits[:50], test_digits[:50], mine, **FAST)
    assert not out.exists() and (mine / "notes.txt").read_text() == "keep"


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "sign"), [("thic", +1), ("thin", -1)])
def test_the_first_1000_test_digits_against_their_perturbed_copy(tmp_path, mnist_dir, kind, sign):
    """The issue's check: test split (first 1000) vs `perturb --kind thic|thin` of it."""
    digits = load(mnist_dir, "test")[:1000]
    result = diversity(digits, _perturbed(digits)[kind], tmp_path / kind, **FAST)
    _check_thickness_not_slant(result.metrics, sign)
    assert result.metrics["mmd_m"].eq(1000).all()


@pytest.mark.slow
def test_a_classifier_adds_feature_space_distances_and_classes(tmp_path, mnist_dir, test_digits):
    from mnistlab.models import train

    train_split = load(mnist_dir, "train")[:1000]
    cnn = train(train_split.images, train_split.labels, "cnn", epochs=1, progress=False)
    model = cnn.save(tmp_path / "cnn")
    only_ones = test_digits[test_digits.labels == 1][:100]
    result = diversity(test_digits[:300], only_ones, tmp_path / "o", classifier=model, **FAST)
    spaces = result.prdc["space"].tolist()
    assert spaces[0] == "morphometrics" and spaces[1].startswith("features")
    classes = pd.read_csv(result.out / "classes.csv")
    assert classes["samples_fraction"].sum() == pytest.approx(1.0) and len(classes) == 10
    cov = result.coverage  # a mode-collapsed "model": ones only
    assert int(np.argmax(cov.counts)) == 1 and cov.fractions[1] > 0.7
    assert cov.normalized_entropy < 0.5
    assert (classes["reference_count"] > 0).all()  # the test digits cover every class
    assert (result.out / "classes.png").is_file()
    feat = result.prdc.iloc[1]
    assert feat["frechet"] > 0 and feat["recall"] < 0.5  # one class cannot cover ten


# --- the guide's Python blocks ----------------------------------------------------------------


def guide_blocks() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


@pytest.mark.slow
def test_the_guide_python_blocks_run(tmp_path, monkeypatch, mnist_dir):
    blocks = guide_blocks()
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNISTLAB_DATA", str(mnist_dir.parent))
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)
