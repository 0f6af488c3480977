"""Study steps of the report, for ``mnistlab.workflows.study.add_step``.

Each takes ``(run_dir, options)`` like the study's own steps and returns a small JSON-able
dict for the run manifest::

    from mnistlab.workflows.report_steps import step_embed, step_report
    from mnistlab.workflows.study import add_step

    add_step("embed", step_embed, description="2-D embeddings of the CNN's features")
    add_step("report", step_report, description="RUN/report.html")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnistlab.run import RunLayout

__all__ = ["step_embed", "step_report"]


def step_embed(run_dir: Path, options: Any) -> dict[str, Any]:
    """``embeddings/cnn.parquet`` when the run has a CNN, trained by the study or given as a
    model folder (t-SNE on 1,000 rows in quick mode)."""
    from mnistlab.workflows.embed import embed_run

    models = tuple(getattr(options, "models", ("cnn",)))
    given = dict(getattr(options, "model_files", ())).get("cnn")
    folder = Path(given) if given is not None else RunLayout(run_dir).model("cnn")
    if "cnn" not in models or not folder.is_dir():
        return {"skipped": "no cnn model folder in this run"}
    tsne_max = 1000 if getattr(options, "quick", False) else 3000
    seed = int(getattr(options, "seed", 0))
    path = embed_run(run_dir, "cnn", tsne_max=tsne_max, seed=seed, model_dir=folder)
    return {"path": str(path.relative_to(run_dir))}


def step_report(run_dir: Path, options: Any) -> dict[str, Any]:
    """Write ``RUN/report.html`` (the study's last step)."""
    from mnistlab.report.html import write_report

    path = write_report(run_dir, progress=bool(getattr(options, "progress", False)))
    return {"path": path.name, "bytes": path.stat().st_size}
