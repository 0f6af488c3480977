"""mnistlab.run.integrity: a step's recorded files, and a run checked whole before use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.run import (
    changed_outputs,
    check_run,
    mark_step,
    snapshot,
    step_done,
    step_outputs,
    update_manifest,
)


def test_outputs_are_the_new_and_changed_files(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("1")
    (tmp_path / "kept.csv").write_text("2")
    update_manifest(tmp_path, dataset="x")
    before = snapshot(tmp_path)
    assert "manifest.json" not in before
    (tmp_path / "old.csv").write_text("11")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "new.bin").write_bytes(b"\0" * 10)
    (tmp_path / ".x.123-ab.part").write_text("temporary")
    outputs = step_outputs(tmp_path, before)
    assert sorted(outputs) == ["old.csv", "sub/new.bin"]
    assert outputs["sub/new.bin"]["bytes"] == 10 and len(outputs["old.csv"]["sha256"]) == 64


def test_a_step_is_done_only_while_its_files_are_as_recorded(tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    (tmp_path / "t.csv").write_text("a\n1\n")
    mark_step(tmp_path, "s", 0.1, step_outputs(tmp_path, before))
    assert step_done(tmp_path, "s")
    (tmp_path / "t.csv").write_text("a\n2\n")  # same size, other bytes
    assert not step_done(tmp_path, "s")
    assert changed_outputs(tmp_path, {"t.csv": {"bytes": 4, "sha256": "0"}}) == [
        ("t.csv", "its bytes changed")
    ]
    (tmp_path / "t.csv").unlink()
    assert not step_done(tmp_path, "s")
    mark_step(tmp_path, "legacy", 0.1)  # a run of an older version recorded no files
    assert step_done(tmp_path, "legacy")


def test_a_file_belongs_to_the_last_step_that_wrote_it(tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    (tmp_path / "a.csv").write_text("1")
    (tmp_path / "b.csv").write_text("1")
    mark_step(tmp_path, "first", 0.0, step_outputs(tmp_path, before))
    before = snapshot(tmp_path)
    (tmp_path / "b.csv").write_text("22")
    mark_step(tmp_path, "second", 0.0, step_outputs(tmp_path, before))
    steps = json.loads((tmp_path / "manifest.json").read_text())["steps"]
    assert list(steps["first"]["outputs"]) == ["a.csv"]
    assert list(steps["second"]["outputs"]) == ["b.csv"]
    assert step_done(tmp_path, "first") and step_done(tmp_path, "second")


def test_check_run_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="not a mnistlab run"):
        check_run(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "export"}))
    with pytest.raises(MnistlabError, match="not a run's manifest"):
        check_run(tmp_path)


def _fake_run(root: Path, n: int = 6) -> Path:
    """A run made by hand: its clean split, manifest and one predictions table."""
    import hashlib

    import pandas as pd

    images = np.zeros((n, 28, 28), np.uint8)
    labels = np.arange(n, dtype=np.int64) % 3
    (root / "data").mkdir(parents=True)
    np.save(root / "data" / "test_images.npy", images)
    np.save(root / "data" / "test_labels.npy", labels)
    (root / "preds").mkdir()
    variants = ["clean", "fog-s1"]
    pd.DataFrame(
        {
            "variant": np.repeat(variants, n),
            "sample_id": np.tile(np.arange(n), 2),
            "label": np.tile(labels, 2),
        }
    ).to_parquet(root / "preds" / "m.parquet")

    def digest(a: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()

    update_manifest(
        root,
        variants=variants,
        options={"test_size": n},
        inputs={
            "test_size": n,
            "test_images_sha256": digest(images),
            "test_labels_sha256": digest(labels),
        },
    )
    return root


def test_check_run_accepts_a_consistent_run(tmp_path: Path) -> None:
    assert check_run(_fake_run(tmp_path / "r"))["variants"] == ["clean", "fog-s1"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("inputs.test_size", "inputs.test_size is 5 but"),
        ("options.test_size", "options.test_size is 5 but"),
        ("labels", "test_labels.npy: its content differs from the manifest"),
        ("images", "test_images.npy: its content differs from the manifest"),
        ("variants", "lacks fog-s2 \\(the manifest's variants differ\\)"),
        ("pred labels", "2 rows have another label than data/test_labels.npy"),
        ("pred rows", "variant fog-s1 has 5 rows, others 6"),
    ],
)
def test_check_run_refuses_an_edited_run(tmp_path: Path, edit: str, message: str) -> None:
    import pandas as pd

    run = _fake_run(tmp_path / "r")
    manifest = json.loads((run / "manifest.json").read_text())
    preds = pd.read_parquet(run / "preds" / "m.parquet")
    if edit == "inputs.test_size":
        manifest["inputs"]["test_size"] = 5
    elif edit == "options.test_size":
        manifest["options"]["test_size"] = 5
    elif edit == "variants":
        manifest["variants"] = ["clean", "fog-s1", "fog-s2"]
    elif edit == "labels":
        labels = np.load(run / "data" / "test_labels.npy")
        labels[:2] = (labels[:2] + 1) % 3
        np.save(run / "data" / "test_labels.npy", labels)
    elif edit == "images":
        images = np.load(run / "data" / "test_images.npy")
        images[0, 0, 0] = 9
        np.save(run / "data" / "test_images.npy", images)
    elif edit == "pred labels":
        preds.loc[preds.index[:2], "label"] = (preds["label"].iloc[:2] + 1) % 3
    elif edit == "pred rows":
        preds = preds.iloc[:-1]
    (run / "manifest.json").write_text(json.dumps(manifest))
    preds.to_parquet(run / "preds" / "m.parquet")
    with pytest.raises(MnistlabError, match=message):
        check_run(run)


def test_check_run_names_a_recorded_file_that_changed(tmp_path: Path) -> None:
    run = _fake_run(tmp_path / "r")
    before = snapshot(run)
    (run / "eval").mkdir()
    (run / "eval" / "mce.csv").write_text("model,mce\nm,100\n")
    mark_step(run, "evaluate", 0.0, step_outputs(run, before))
    check_run(run)
    (run / "eval" / "mce.csv").write_text("model,mce\nm,50\n")
    with pytest.raises(MnistlabError, match=r"mce.csv: its bytes changed since the study's "):
        check_run(run)
    check_run(run, files=False)  # what a resume asks before it decides what to redo
    shutil.rmtree(run / "eval")
    with pytest.raises(MnistlabError, match=r"mce.csv: missing since"):
        check_run(run)
