"""Export a run for other tools: FiftyOne's image-classification dataset layout.

``export_run(run, out, format="fiftyone")`` writes::

    OUT/
      data/<uuid>.png     one image per exported sample (uuid = "<variant>__<sample_id>")
      labels.json         {"classes": [...], "labels": {"<uuid>": <true class index>}}
      samples.csv         one row per image: uuid, filepath, variant, corruption, severity,
                          sample_id, label, pred, correct, confidence, every score and
                          morphometric, and the model's logits logit_0..logit_{C-1}
      samples.json        the same rows as JSON records, each with "predictions": one
                          {"label", "confidence", "logits"} per model of the run

``labels.json`` is FiftyOne's ``FiftyOneImageClassificationDataset`` format, so
``fo.Dataset.from_dir(OUT, fo.types.FiftyOneImageClassificationDataset)`` loads the images
with their ground truth; :func:`load_fiftyone` also adds each model's predictions as a
``fo.Classification`` with its ``logits`` (what ``fiftyone.brain.compute_hardness`` and the
logit-based ``compute_mistakenness`` read) and every score as a sample field. Where a run
stored probabilities only, the exported logits are ``log p`` (softmax gives ``p`` back).

Examples
--------
>>> export_run("runs/fashion", "export/")  # doctest: +SKIP
>>> ds = load_fiftyone("export/")  # doctest: +SKIP
>>> import fiftyone.brain as fob  # doctest: +SKIP
>>> fob.compute_hardness(ds, "cnn")  # doctest: +SKIP
>>> fob.compute_mistakenness(  # doctest: +SKIP
...     ds, "cnn", label_field="ground_truth", use_logits=True
... )
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_dir
from mnistlab.corrupt.variants import regenerate_variant
from mnistlab.errors import MnistlabError
from mnistlab.report.tables import RunTables, class_names_of, json_scalar, models_of
from mnistlab.run import CLEAN, RunLayout, check_run, clean_images, corruption_params
from mnistlab.scores.uncertainty import softmax

__all__ = ["FORMATS", "export_run", "load_fiftyone"]

FORMATS = ("fiftyone",)


def export_run(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    format: str = "fiftyone",
    model: str | None = None,
    variants: Sequence[str] | None = (CLEAN,),
    progress: bool = False,
) -> Path:
    """Write the run's samples, labels and scores in another tool's layout.

    Parameters
    ----------
    run_dir : path-like
        The run directory.
    out : path-like
        Output folder (replaced atomically as a whole).
    format : {"fiftyone"}
        The layout.
    model : str, optional
        Whose predictions and scores to export (default ``cnn`` when present).
    variants : sequence of str or None
        Variants to export (default only ``"clean"``; None: every variant of the run, which
        may be hundreds of thousands of images).
    progress : bool
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from PIL import Image
    from tqdm.auto import tqdm

    if format not in FORMATS:
        raise MnistlabError(f"unknown export format {format!r} (choose from: {', '.join(FORMATS)})")
    if RunLayout(run_dir).manifest.is_file():
        check_run(run_dir)
    tables = RunTables(run_dir, model)
    every = {tables.model: tables}
    try:
        present = [r[0] for r in tables.rows("SELECT DISTINCT variant FROM samples ORDER BY 1")]
        chosen = present if variants is None else list(variants)
        missing = [v for v in chosen if v not in present]
        if missing:
            raise MnistlabError(
                f"variant {missing[0]!r} is not in {tables.run} (choose from: {', '.join(present)})"
            )
        probs = tables.prob_columns
        fields = [*tables.score_columns, *tables.columns.morpho]
        conf = f", greatest({', '.join(probs)}) AS confidence" if probs else ""
        cols = ", ".join(
            ["sample_id", "variant", "corruption", "severity", "label", "pred", "correct", *fields]
        )
        n_classes = len(probs) if probs else len(tables.logit_columns) or 10
        classes = class_names_of(tables.run, n_classes)
        for name in models_of(tables.run):
            if name not in every:
                every[name] = RunTables(tables.run, name)
        labels: dict[str, int] = {}
        records: list[dict[str, Any]] = []
        clean, params = clean_images(tables.run), corruption_params(tables.run)
        with atomic_dir(out, "export-run") as tmp:
            (tmp / "data").mkdir()
            for variant in tqdm(chosen, desc="export", unit="variant", disable=not progress):
                frame = tables.query(
                    f"SELECT {cols}{conf} FROM samples WHERE variant = ? ORDER BY sample_id",
                    [variant],
                )
                ids = frame["sample_id"].to_numpy(np.int64)
                images = regenerate_variant(clean, variant, ids, **params)
                predictions = {
                    name: _predictions(t, variant, ids, classes) for name, t in every.items()
                }
                for i, (row, image) in enumerate(
                    zip(frame.to_dict("records"), images, strict=True)
                ):
                    uid = f"{variant}__{int(row['sample_id'])}"
                    Image.fromarray(image).save(tmp / "data" / f"{uid}.png")
                    labels[uid] = int(row["label"])
                    record: dict[str, Any] = {"uuid": uid, "filepath": f"data/{uid}.png"}
                    record.update({str(k): json_scalar(v) for k, v in row.items()})
                    record["predictions"] = {
                        name: found[i] for name, found in predictions.items() if found[i]
                    }
                    records.append(record)
            (tmp / "labels.json").write_text(
                json.dumps({"classes": classes, "labels": labels}) + "\n"
            )
            (tmp / "samples.json").write_text(
                json.dumps({"model": tables.model, "classes": classes, "samples": records}) + "\n"
            )
            import pandas as pd

            pd.DataFrame([_csv_row(r, tables.model) for r in records]).to_csv(
                tmp / "samples.csv", index=False
            )
    finally:
        for t in every.values():
            t.close()
    return Path(out)


def _predictions(
    tables: RunTables, variant: str, ids: NDArray[np.int64], classes: Sequence[str]
) -> list[dict[str, Any] | None]:
    """One ``{"label", "confidence", "logits"}`` per id (None where the model has no row)."""
    logit_cols, prob_cols = tables.logit_columns, tables.prob_columns
    cols = logit_cols or prob_cols
    if not cols:
        return [None] * len(ids)
    frame = tables.query(
        f"SELECT sample_id, pred, {', '.join(cols)} FROM samples WHERE variant = ?", [variant]
    )
    values = frame[cols].to_numpy(np.float64)
    if logit_cols:
        logits = values
        probs = softmax(values)
    else:  # probabilities only: log p, whose softmax is p again
        probs = values
        logits = np.log(np.clip(values, 1e-300, None))
    at = {int(s): k for k, s in enumerate(frame["sample_id"].to_numpy(np.int64))}
    preds = frame["pred"].to_numpy(np.int64)
    out: list[dict[str, Any] | None] = []
    for sid in ids:
        k = at.get(int(sid))
        if k is None:
            out.append(None)
            continue
        out.append(
            {
                "label": str(classes[int(preds[k])]),
                "confidence": float(probs[k].max()),
                "logits": [float(v) for v in logits[k]],
            }
        )
    return out


def _csv_row(record: dict[str, Any], model: str) -> dict[str, Any]:
    """A flat CSV row: the record's scalars and the main model's ``logit_0..``."""
    row = {k: v for k, v in record.items() if k != "predictions"}
    mine = record["predictions"].get(model)
    if mine is not None:
        row.update({f"logit_{c}": v for c, v in enumerate(mine["logits"])})
    return row


def _field_name(model: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", model)
    return name if name and not name[0].isdigit() else f"model_{name}"


def load_fiftyone(folder: str | os.PathLike[str], name: str | None = None) -> Any:
    """An :func:`export_run` folder as a ``fiftyone.Dataset`` (needs ``pip install fiftyone``).

    Fields: ``ground_truth`` (from ``labels.json``), one ``fo.Classification`` per model
    named after it (label, confidence, ``logits``) and every score, morphometric and
    identifier of ``samples.json`` as a plain field.

    Parameters
    ----------
    folder : path-like
        The exported folder (nothing else is read).
    name : str, optional
        The FiftyOne dataset name (default: a fresh one).

    Returns
    -------
    fiftyone.Dataset
    """
    try:
        import fiftyone as fo
    except ImportError:
        raise MnistlabError(
            "load_fiftyone: FiftyOne is not installed (pip install fiftyone)"
        ) from None
    root = Path(folder)
    index = root / "samples.json"
    if not index.is_file():
        raise MnistlabError(f"{root}: no samples.json (not an export-run folder)")
    meta = json.loads(index.read_text(encoding="utf-8"))
    dataset = fo.Dataset.from_dir(
        dataset_dir=str(root),
        dataset_type=fo.types.FiftyOneImageClassificationDataset,
        label_field="ground_truth",
        name=name,
    )
    by_path = {str((root / r["filepath"]).resolve()): r for r in meta["samples"]}
    skip = {"uuid", "filepath", "predictions"}
    for sample in dataset.iter_samples(autosave=True):
        record = by_path[str(Path(sample.filepath).resolve())]
        for model, p in record["predictions"].items():
            sample[_field_name(model)] = fo.Classification(
                label=p["label"], confidence=p["confidence"], logits=p["logits"]
            )
        for key, value in record.items():
            if key not in skip and value is not None:
                sample[key] = value
    return dataset
