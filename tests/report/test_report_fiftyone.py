"""FiftyOne's own brain on an ``export-run`` folder alone: hardness and mistakenness.

Skipped where FiftyOne is not installed (it is no dependency of mnistlab: ``pip install
fiftyone``; its bundled MongoDB must be able to start). The folder is all FiftyOne gets: the
run directory is only read to compare against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

fo = pytest.importorskip(
    "fiftyone", reason="FiftyOne is not installed (pip install fiftyone): FiftyOne checks skipped"
)
fob = pytest.importorskip("fiftyone.brain", reason="fiftyone.brain is not installed")

from mnistlab.report import export_run  # noqa: E402
from mnistlab.report.export import load_fiftyone  # noqa: E402
from mnistlab.run import read_manifest  # noqa: E402


@pytest.fixture(scope="module")
def exported(tmp_path_factory, fashion_demo_run, fixture_corruptions):
    root = tmp_path_factory.mktemp("fo")
    run = fashion_demo_run(
        root / "run",
        200,
        variants=["clean", f"{fixture_corruptions[0]}-s3"],
        embeddings=(),
        baseline="logreg",
    )
    out = export_run(run, root / "export", variants=None)
    try:
        dataset = load_fiftyone(out)
    except Exception as exc:  # FiftyOne installed, but its database cannot start here
        if type(exc).__module__.startswith(("fiftyone", "pymongo", "mongoengine")):
            pytest.skip(f"FiftyOne's database is not available: {exc}")
        raise
    yield run, dataset
    dataset.delete()


@pytest.mark.parametrize("model", ["cnn", "logreg"])
def test_fiftyone_brain_matches_mnistlab(exported, model):
    run, dataset = exported
    assert len(dataset) == 400
    fob.compute_hardness(dataset, model, hardness_field=f"fo_hardness_{model}")
    fob.compute_mistakenness(
        dataset,
        model,
        label_field="ground_truth",
        mistakenness_field=f"fo_mistakenness_{model}",
        use_logits=True,
    )
    scores = pd.read_parquet(run / "scores" / f"{model}.parquet").set_index(
        ["variant", "sample_id"]
    )
    keys = list(zip(dataset.values("variant"), dataset.values("sample_id"), strict=True))
    ours = scores.loc[keys]
    np.testing.assert_allclose(
        dataset.values(f"fo_hardness_{model}"), ours["entropy"], rtol=0, atol=1e-8
    )
    np.testing.assert_allclose(
        dataset.values(f"fo_mistakenness_{model}"), ours["mistakenness"], rtol=0, atol=1e-8
    )
    # FiftyOne's predicted label and ground truth are the ones of the run.
    names = np.asarray(read_manifest(run)["class_names"])
    assert [c.label for c in dataset.values(model)] == names[ours["pred"]].tolist()
    truth = [c.label for c in dataset.values("ground_truth")]
    assert truth == names[ours["label"]].tolist()
