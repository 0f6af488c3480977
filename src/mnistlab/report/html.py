"""``write_report(run_dir)``: one self-contained HTML file that shows a study at a glance.

Every image is a PNG inlined as a ``data:`` URI and the CSS is inline, so ``report.html``
opens in any browser with no network. It opens with a summary read from the study's tables
(:mod:`mnistlab.report.summary`), then the results, and ends with the provenance (what was
run, versions, step times). Each section is built from the run's tables; a section whose
inputs are missing says "not computed in this run" instead of failing, and a value the run
does not have is left out rather than shown as a placeholder. Metrics come from their one
home (:mod:`mnistlab.scores.metrics`, :mod:`mnistlab.evaluate`), or are read from the
tables the study wrote (``hardness/<model>/prioritization.csv``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mnistlab._atomic import write_text_atomic
from mnistlab.errors import MnistlabError
from mnistlab.report.blocks import NOT_COMPUTED, ReportContext, Section
from mnistlab.report.sections import (
    section_calibration,
    section_gallery,
    section_label_issues,
    section_robustness,
    section_run,
    section_summary,
)
from mnistlab.report.sections_scores import (
    section_active,
    section_embeddings,
    section_examples,
    section_figures,
    section_fmnist_c,
    section_hardness,
    section_leaderboard,
    section_morpho,
    section_prioritisation,
)
from mnistlab.report.tables import RunTables, class_names_of, models_of
from mnistlab.run import RunLayout, check_run

__all__ = ["SECTIONS", "write_report"]


#: Builders of the report's sections, in order; one returning None leaves its section out.
#: The summary comes first, the provenance last.
SECTIONS: dict[str, Callable[[ReportContext], Section | None]] = {
    "summary": section_summary,
    "robustness": section_robustness,
    "leaderboard": section_leaderboard,
    "prioritisation": section_prioritisation,
    "label-issues": section_label_issues,
    "calibration": section_calibration,
    "hardness": section_hardness,
    "examples": section_examples,
    "gallery": section_gallery,
    "morphometrics": section_morpho,
    "embeddings": section_embeddings,
    "fmnist-c": section_fmnist_c,
    "active": section_active,
    "figures": section_figures,
    "run": section_run,
}


def write_report(
    run_dir: str | os.PathLike[str],
    model: str | None = None,
    hardness: str | None = None,
    out: str | os.PathLike[str] | None = None,
    gallery_samples: int = 4,
    per_class: int = 8,
    max_points: int = 5000,
    progress: bool = False,
) -> Path:
    """Write ``RUN_DIR/report.html``: one self-contained file with every section of the study.

    Parameters
    ----------
    run_dir : path-like
        A run directory (see :mod:`mnistlab.run`).
    model : str, optional
        The model of the per-sample sections (default ``cnn`` when present).
    hardness : str, optional
        The score used as hardness (default: the first of ``entropy``, ``gini``, ... present).
    out : path-like, optional
        Where to write (default ``RUN_DIR/report.html``).
    gallery_samples : int
        Samples per corruption in the gallery.
    per_class : int
        Hardest / easiest images shown per class.
    max_points : int
        Points drawn per embedding scatter (a random subset beyond that).
    progress : bool
        Show a progress bar over the sections.

    Returns
    -------
    pathlib.Path
        The report.

    Examples
    --------
    >>> write_report("runs/fashion-mnist")  # doctest: +SKIP
    PosixPath('runs/fashion-mnist/report.html')
    """
    from jinja2 import Environment, PackageLoader, select_autoescape
    from tqdm.auto import tqdm

    run = Path(run_dir)
    if not run.is_dir():
        raise MnistlabError(f"{run}: no such run directory")
    for name, value in (
        ("gallery_samples", gallery_samples),
        ("per_class", per_class),
        ("max_points", max_points),
    ):
        if not isinstance(value, int) or value < 1:
            raise MnistlabError(f"{name} must be a positive integer, got {value!r}")
    manifest = check_run(run) if RunLayout(run).manifest.is_file() else {}
    names = models_of(run)
    if not names and not manifest.get("steps"):
        # A run made of other steps (e.g. only the Fashion-MNIST-C protocol) is still a run;
        # a folder with neither predictions nor a study manifest is not one.
        raise MnistlabError(f"{run}: not a study run (no study steps, no predictions in preds/)")
    tables = {m: RunTables(run, m) for m in names}
    if model is not None and model not in tables:
        raise MnistlabError(
            f"unknown model {model!r} in {run} (choose from: {', '.join(names) or 'none'})"
        )
    main = tables[model] if model is not None else (tables[names[0]] if names else None)
    n_classes = len(main.prob_columns) if main is not None and main.prob_columns else 10
    ctx = ReportContext(
        run=run,
        manifest=manifest,
        tables=tables,
        main=main,
        class_names=class_names_of(run, n_classes),
        hardness=main.hardness_column(hardness) if main is not None else None,
        gallery_samples=gallery_samples,
        per_class=per_class,
        max_points=max_points,
        seed=int(manifest.get("seed", 0) or 0),
    )
    try:
        built = [
            build(ctx)
            for build in tqdm(
                SECTIONS.values(), desc="report", unit="section", disable=not progress
            )
        ]
        sections = [sec for sec in built if sec is not None]
    finally:
        for t in tables.values():
            t.close()
    env = Environment(
        loader=PackageLoader("mnistlab.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    title = f"mnistlab report: {run.resolve().name}"
    html = env.get_template("report.html.j2").render(
        title=title, sections=sections, not_computed=NOT_COMPUTED
    )
    path = Path(out) if out is not None else RunLayout(run).report
    write_text_atomic(path, html)
    return path
