"""Export a run for other tools: FiftyOne's image-classification dataset layout.

``export_run(run, out, format="fiftyone")`` writes::

    OUT/
      data/<uuid>.png     one image per exported sample (uuid = "<variant>__<sample_id>")
      labels.json         {"classes": [...], "labels": {"<uuid>": <true class index>}}
      samples.csv         one row per image: uuid, filepath, variant, corruption, severity,
                          sample_id, label, pred, correct, confidence, every score and morphometric
      samples.json        the same rows as JSON records (keyed by uuid)

``labels.json`` is FiftyOne's ``FiftyOneImageClassificationDataset`` format, so
``fo.Dataset.from_dir(OUT, fo.types.FiftyOneImageClassificationDataset)`` loads the images
with their ground truth; ``samples.json`` then adds each score as a sample field (see
the README, "The report and the explorer").
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab._atomic import atomic_dir
from mnistlab.errors import MnistlabError
from mnistlab.report.tables import RunTables, class_names_of, json_scalar
from mnistlab.run import CLEAN, variant_images

__all__ = ["FORMATS", "export_run"]

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
    tables = RunTables(run_dir, model)
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
        n_classes = len(probs) if probs else 10
        classes = class_names_of(tables.run, n_classes)
        labels: dict[str, int] = {}
        records: list[dict[str, Any]] = []
        with atomic_dir(out) as tmp:
            (tmp / "data").mkdir()
            for variant in tqdm(chosen, desc="export", unit="variant", disable=not progress):
                frame = tables.query(
                    f"SELECT {cols}{conf} FROM samples WHERE variant = ? ORDER BY sample_id",
                    [variant],
                )
                ids = frame["sample_id"].to_numpy(np.int64)
                images = variant_images(tables.run, variant, ids)
                for row, image in zip(frame.to_dict("records"), images, strict=True):
                    uid = f"{variant}__{int(row['sample_id'])}"
                    Image.fromarray(image).save(tmp / "data" / f"{uid}.png")
                    labels[uid] = int(row["label"])
                    record = {"uuid": uid, "filepath": f"data/{uid}.png"}
                    record.update({str(k): json_scalar(v) for k, v in row.items()})
                    records.append(record)
            (tmp / "labels.json").write_text(
                json.dumps({"classes": classes, "labels": labels}) + "\n"
            )
            (tmp / "samples.json").write_text(
                json.dumps({"model": tables.model, "classes": classes, "samples": records}) + "\n"
            )
            import pandas as pd

            pd.DataFrame(records).to_csv(tmp / "samples.csv", index=False)
    finally:
        tables.close()
    return Path(out)
