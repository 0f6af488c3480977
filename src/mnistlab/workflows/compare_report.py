"""``compare.html`` of :func:`mnistlab.workflows.compare.compare_runs`, with its delta heatmaps.

The heatmaps are drawn by :mod:`mnistlab.figures.compare`.

Built with the report's machinery (:mod:`mnistlab.report.html`: its sections, template and
inlined PNGs), so ``compare.html`` is one self-contained file like ``report.html``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mnistlab.run import CompareLayout, file_label

if TYPE_CHECKING:
    from mnistlab.workflows.compare import ComparisonResult

__all__ = ["write_compare_html"]

CELL_COLUMNS = (
    "variant",
    "accuracy_a",
    "accuracy_b",
    "delta",
    "delta_lo",
    "delta_hi",
    "b",
    "c",
    "p",
    "p_holm",
    "significant",
    "apfd_delta",
)


def write_compare_html(
    result: ComparisonResult, runs: Sequence[Path], *, alpha: float, level: float
) -> dict[str, Path]:
    """Write one heatmap per pair and ``compare.html`` into ``result.out``, where
    :class:`~mnistlab.run.CompareLayout` names them."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from mnistlab._atomic import write_text_atomic
    from mnistlab.figures.compare import plot_delta_heatmap
    from mnistlab.report.blocks import NOT_COMPUTED, Section
    from mnistlab.report.blocks import attached_png as _attached_png
    from mnistlab.report.leaderboard import LEADERBOARD_COLUMNS, ci_frame

    layout, tables = CompareLayout(result.out), result.tables
    files: dict[str, Path] = {}
    pct = f"{100 * level:g} %"
    board = Section("leaderboard", "Leaderboard")
    board.text(
        f"{len(result.models)} models on {len(result.variants)} variants of the same "
        f"{result.n_samples} test images (runs: {', '.join(str(r) for r in runs)}). "
        f"Intervals: {pct} percentile bootstrap over test images ({result.n_boot} resamples, "
        "the same for every model)."
    )
    board.table(
        ci_frame(tables["leaderboard"], list(LEADERBOARD_COLUMNS), ("model", "score")),
        "point estimate [interval]; mCE and relative mCE in percent of the baseline "
        f"({tables['leaderboard']['baseline'].iloc[0] or 'none'}); ECE on clean images; "
        "APFD of each model's best label-free score, mean over variants",
    )
    pairs = Section("pairs", "Pairs: where the accuracy differs")
    pairs.table(
        tables["pairs"],
        f"corrupted cells per pair; significant: exact McNemar test, Holm-corrected across "
        f"the pair's cells at {alpha:g}; a_better / b_better: significant cells in favour of "
        "model_a / model_b",
        floatfmt="{:.4f}",
    )
    sections = [board, pairs]
    if "seen_unseen" in tables:
        seen = Section("seen-unseen", "Held-out corruption families")
        seen.text(
            "The MNIST-C rule: a model trained with corruptions is judged on the families it "
            "did not see. 'seen' averages the families it trained on, 'unseen' the others; "
            "delta is against the plain model of the same architecture (paired)."
        )
        seen.table(
            ci_frame(
                tables["seen_unseen"],
                ["accuracy", "delta"],
                ("augmented", "families", "model", "group", "variants"),
            ),
            f"mean accuracy over corruptions [{pct} interval]",
        )
        sections.append(seen)
    cells = tables["cells"]
    for key, part in cells.groupby(["model_a", "model_b"], sort=False):
        a, b = str(key[0]), str(key[1])
        sec = Section(f"pair-{file_label(a)}-{file_label(b)}", f"{a} vs {b}")
        path = layout.delta_heatmap(a, b)
        plot_delta_heatmap(part, path, f"{a} minus {b}")
        files[path.name] = path
        png = _attached_png(path)
        if png is not None:
            sec.image(png, f"accuracy of {a} minus {b}, points; * = significant")
        sec.table(part[list(CELL_COLUMNS)], f"every cell of {a} vs {b}", floatfmt="{:.4f}")
        sections.append(sec)
    env = Environment(
        loader=PackageLoader("mnistlab.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    html = env.get_template("report.html.j2").render(
        title=f"mnistlab compare: {', '.join(result.models)}",
        sections=sections,
        not_computed=NOT_COMPUTED,
    )
    path = layout.html
    write_text_atomic(path, html)
    files[path.name] = path
    return files
