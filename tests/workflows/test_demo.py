"""The demo run: tables consistent with each other and with the images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.run import RunLayout, read_manifest
from mnistlab.workflows.demo import make_demo_run


def test_demo_tables_are_consistent(demo_run, fashion_test):
    preds = pd.read_parquet(demo_run / "preds" / "cnn.parquet")
    scores = pd.read_parquet(demo_run / "scores" / "cnn.parquet")
    assert len(preds) == len(scores) == 1500
    probs = preds[[f"prob_{c}" for c in range(10)]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0)
    np.testing.assert_array_equal(probs.argmax(1), preds.pred)
    clean = preds.variant == "clean"
    acc_clean = (preds.label == preds.pred)[clean].mean()
    assert 0.5 < acc_clean < 0.95  # nearest centroid on Fashion-MNIST
    assert (preds.label == preds.pred)[preds.variant == "fixture_shift-s3"].mean() < acc_clean
    merged = preds.merge(scores, on=["sample_id", "variant"], suffixes=("", "_scores"))
    assert (merged.correct == (merged.label == merged.pred)).all()
    wrong = ~merged.correct
    assert merged.entropy[wrong].mean() > merged.entropy[~wrong].mean()
    # morphometrics by the study's own step: the real measure, keyed by sample_id
    from mnistlab.morpho import measure

    morpho = pd.read_parquet(demo_run / "morpho.parquet")
    want = measure(fashion_test.images[:3]).drop(columns=["index"])
    assert list(morpho.columns) == ["sample_id", *want.columns]
    np.testing.assert_array_equal(morpho.sample_id, np.arange(300))
    pd.testing.assert_frame_equal(morpho.drop(columns=["sample_id"]).head(3), want)
    assert {"evaluate", "morpho", "hardness"} <= set(read_manifest(demo_run)["steps"])
    # The study's own writers: the real layout and file names.
    prio = pd.read_csv(demo_run / "hardness" / "cnn" / "prioritization.csv")
    prio = prio[prio.variant == "clean"].set_index("score")
    assert prio.loc["entropy", "apfd"] > prio.loc["random", "apfd"]
    for name in ("mce.csv", "corruptions.csv", "accuracy.csv", "heatmap_cnn.png"):
        assert (demo_run / "eval" / name).is_file(), name
    assert read_manifest(demo_run)["class_names"][0] == "T-shirt/top"


def test_demo_rejects_mismatched_inputs(tmp_path):
    with pytest.raises(MnistlabError, match="must match"):
        make_demo_run(
            tmp_path, np.zeros((20, 28, 28), np.uint8), np.zeros(19), [str(i) for i in range(10)]
        )


#: Corruptions of the layout comparison (registered, cheap, one leveled).
LAYOUT_CORRUPTIONS = ("rotate",)


def _files(run):
    """Relative paths of a run's files; a model folder counts as the folder only (the demo has
    no trained network, so what ``models/<m>/`` holds differs by design)."""
    out = set()
    for path in run.rglob("*"):
        rel = path.relative_to(run)
        if rel.parts[0] == "models":
            out.add("/".join(rel.parts[:2]))
        elif path.is_file():
            out.add(rel.as_posix())
    return out


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory):
    from mnistlab.workflows.study import StudyOptions, run_study

    out = tmp_path_factory.mktemp("study") / "run"
    opts = StudyOptions(
        quick=True, epochs=1, test_size=200, corruptions=LAYOUT_CORRUPTIONS, progress=False
    )
    run_study(out, opts)
    return out


@pytest.mark.slow
def test_demo_writes_the_layout_of_a_real_quick_study(tmp_path, quick_study, fashion_demo_run):
    manifest = read_manifest(quick_study)
    demo = fashion_demo_run(
        tmp_path / "demo",
        200,
        variants=manifest["variants"],
        seed=int(manifest["seed"]),
        embeddings=("pca", "tsne"),
        baseline="logreg",
        report=True,
    )
    real, fake = _files(quick_study), _files(demo)
    assert fake == real, (sorted(real - fake), sorted(fake - real))
    # the contract names the tables both wrote
    lay = RunLayout(demo)
    for path in (lay.preds("logreg"), lay.prioritization("cnn"), lay.eval_heatmap("cnn")):
        assert path.relative_to(demo).as_posix() in real
