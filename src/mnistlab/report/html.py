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

import base64
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import write_text_atomic
from mnistlab.errors import MnistlabError
from mnistlab.report import plots
from mnistlab.report.tables import RunTables, class_names_of, models_of
from mnistlab.run import (
    clean_images,
    clean_labels,
    parse_variant,
    read_manifest,
    variant_images,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["write_report"]

NOT_COMPUTED = "not computed in this run"
STUDY_FOLDERS = ("eval", "hardness", "active_learning")
MAX_ATTACHED_FIGURES = 40
MAX_ATTACHED_WIDTH = 900
MAX_TABLE_ROWS = 40


@dataclass
class Block:
    """One item of a section: an image, an HTML table or a paragraph."""

    kind: str
    content: str
    caption: str = ""


@dataclass
class Section:
    """A titled part of the report."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    note: str = ""

    def image(self, png: bytes, caption: str = "") -> None:
        self.blocks.append(Block("img", data_uri(png), caption))

    def table(self, frame: pd.DataFrame, caption: str = "", floatfmt: str = "{:.3f}") -> None:
        html = frame.head(MAX_TABLE_ROWS).to_html(
            index=False, border=0, classes="tbl", na_rep="", float_format=floatfmt.format
        )
        if len(frame) > MAX_TABLE_ROWS:
            caption = f"{caption} (first {MAX_TABLE_ROWS} of {len(frame)} rows)".strip()
        self.blocks.append(Block("table", html, caption))

    def text(self, text: str) -> None:
        self.blocks.append(Block("text", text))


def data_uri(png: bytes, mime: str = "image/png") -> str:
    """``data:`` URI of encoded image bytes."""
    return f"data:{mime};base64," + base64.b64encode(png).decode("ascii")


# -- sections -------------------------------------------------------------------------------------


@dataclass
class _Context:
    run: Path
    manifest: dict[str, Any]
    tables: dict[str, RunTables]
    main: RunTables | None
    class_names: list[str]
    hardness: str | None
    gallery_samples: int
    per_class: int
    max_points: int
    seed: int


def _section_run(ctx: _Context) -> Section:
    import pandas as pd

    sec = Section("run", "Provenance: what was run")
    m = ctx.manifest
    dataset = m.get("dataset")
    if isinstance(dataset, dict):
        dataset = ", ".join(f"{k}: {v}" for k, v in dataset.items() if _present(v))
    candidates = [
        ("run directory", str(ctx.run)),
        ("dataset", dataset),
        ("classes", ", ".join(ctx.class_names)),
        ("models", ", ".join(ctx.tables)),
        ("seed", m.get("seed")),
        ("compat", m.get("compat") or "default"),
        ("created", m.get("created")),
        ("report written", time.strftime("%Y-%m-%d %H:%M:%S")),
    ]
    # Only what the manifest has: no "?" or "None" placeholders.
    rows = [(k, str(v)) for k, v in candidates if _present(v)]
    try:
        rows.append(("test samples", str(len(clean_labels(ctx.run)))))
    except MnistlabError:
        rows.append(("test samples", NOT_COMPUTED))
    if ctx.main is not None:
        n_var = ctx.main.rows("SELECT count(DISTINCT variant) FROM samples")[0][0]
        rows.append(("variants", str(n_var)))
    sec.table(pd.DataFrame(rows, columns=["", "value"]), "run")
    versions = m.get("versions")
    if isinstance(versions, dict):
        known = sorted((str(k), str(v)) for k, v in versions.items() if _present(v))
        if known:
            sec.table(pd.DataFrame(known, columns=["package", "version"]), "versions")
    steps = m.get("steps")
    if isinstance(steps, dict) and steps:
        frame = pd.DataFrame(
            [
                (
                    k,
                    v.get("seconds"),
                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v["finished"]))
                    if isinstance(v.get("finished"), (int, float))
                    else "",
                )
                for k, v in steps.items()
                if isinstance(v, dict)
            ],
            columns=["step", "seconds", "finished"],
        )
        sec.table(frame, "steps", floatfmt="{:.1f}")
    return sec


def _present(value: Any) -> bool:
    """A manifest value worth showing: not missing, empty, NaN or a "?" placeholder."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return False
    return str(value).strip() not in ("", "?", "nan", "NaN", "None")


def _section_summary(ctx: _Context) -> Section | None:
    """The figures a reader came for, read from ``eval/`` and ``hardness/`` (not recomputed)."""
    from mnistlab.report.summary import read_summary, summary_caption, summary_html

    figures = read_summary(ctx.run, list(ctx.tables), _label_aware())
    if not figures:
        return None
    sec = Section("summary", "Summary")
    sec.blocks.append(Block("html", summary_html(figures), summary_caption(figures)))
    return sec


def _section_label_issues(ctx: _Context) -> Section | None:
    """``label_issues/<model>.csv`` (``mnistlab label-issues ... --out``), when the run has it."""
    from mnistlab.report.summary import read_csv_exact

    sec = Section("label-issues", "Likely label issues (confident learning)")
    for name in ctx.tables:
        table = read_csv_exact(ctx.run / "label_issues" / f"{name}.csv")
        if table is None or "is_issue" not in table.columns:
            continue
        issues = table[table["is_issue"].astype(bool)]
        sec.table(
            issues,
            f"label_issues/{name}.csv: {len(issues)} likely label issues, worst first",
            floatfmt="{:.4f}",
        )
    return sec if sec.blocks else None


def _variants(ctx: _Context) -> list[str]:
    if ctx.main is not None:
        return [
            r[0]
            for r in ctx.main.rows(
                "SELECT variant FROM samples GROUP BY variant "
                "ORDER BY min(corruption), min(severity)"
            )
        ]
    found = ctx.manifest.get("variants")
    return [str(v) for v in found] if isinstance(found, list) else []


def _section_gallery(ctx: _Context) -> Section:
    sec = Section("gallery", "Corruption gallery")
    try:
        labels = clean_labels(ctx.run)
    except MnistlabError:
        sec.note = NOT_COMPUTED + " (no data/ folder)"
        return sec
    # One sample of each of the first classes, so the gallery shows different shapes.
    picks = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)[: ctx.gallery_samples]]
    ids = np.asarray(picks, np.int64)
    corruptions: dict[str, set[int]] = {}
    for v in _variants(ctx):
        corruption, severity = parse_variant(v)
        if corruption != "identity":
            corruptions.setdefault(corruption, set()).add(severity)
    if not corruptions:
        sec.note = NOT_COMPUTED + " (no corrupted variants)"
        return sec
    clean = np.asarray(clean_images(ctx.run)[ids])
    h = clean.shape[1]
    strip = np.concatenate(list(clean), axis=1)
    severities = list(range(0, 6))
    # Severities the run did not evaluate stay a flat mid-grey (images are drawn as stored).
    cells = np.full((len(corruptions), len(severities), h, strip.shape[1]), 128, np.uint8)
    failed = []
    for r, (corruption, sevs) in enumerate(sorted(corruptions.items())):
        cells[r, 0] = strip
        for s in sorted(sevs):
            try:
                imgs = variant_images(ctx.run, f"{corruption}-s{s}", ids)
            except MnistlabError:
                failed.append(corruption)
                break
            cells[r, severities.index(s)] = np.concatenate(list(imgs), axis=1)
    png = plots.image_grid_png(
        cells,
        sorted(corruptions),
        ["clean", *(f"severity {s}" for s in severities[1:])],
        scale=0.5,
    )
    sec.image(
        png,
        f"every corruption x severity on {len(ids)} test samples, shown as stored and as the "
        "explorer shows them (light ink on a dark background); grey: not in this run",
    )
    if failed:
        sec.text("could not regenerate: " + ", ".join(sorted(set(failed))))
    return sec


def _accuracy_grid(tables: RunTables) -> pd.DataFrame:
    return tables.query(
        "SELECT corruption, severity, avg(correct::DOUBLE) AS accuracy, count(*) AS n "
        "FROM samples GROUP BY corruption, severity ORDER BY corruption, severity"
    )


def _section_robustness(ctx: _Context) -> Section:
    import pandas as pd

    sec = Section("robustness", "Robustness: accuracy per corruption and severity")
    if not ctx.tables:
        sec.note = NOT_COMPUTED + " (no predictions)"
        return sec
    drops, summary = [], []
    for name, t in ctx.tables.items():
        grid = _accuracy_grid(t)
        clean = grid[grid["corruption"] == "identity"]["accuracy"]
        clean_acc = float(clean.iloc[0]) if len(clean) else float("nan")
        corrupted = grid[grid["corruption"] != "identity"]
        # As eval/mce.csv defines it: the mean over corruptions of each one's mean over severities.
        per_corruption = corrupted.groupby("corruption")["accuracy"].mean()
        summary.append(
            {
                "model": name,
                "clean accuracy": clean_acc,
                "mean corrupted accuracy": float(per_corruption.mean())
                if len(per_corruption)
                else float("nan"),
            }
        )
        if corrupted.empty:
            continue
        pivot = corrupted.pivot(index="corruption", columns="severity", values="accuracy")
        pivot.columns = [f"s{c}" for c in pivot.columns]
        pivot.insert(0, "clean", clean_acc)
        pivot = pivot.loc[pivot.mean(axis=1).sort_values().index]
        sec.image(
            plots.heatmap_png(pivot, f"{name}: accuracy (clean {clean_acc:.1%})"),
            f"{name}: accuracy per corruption x severity",
        )
        per = corrupted.groupby("corruption")["accuracy"].agg(["mean", "min"]).reset_index()
        for corruption, mean, worst in zip(
            per["corruption"], per["mean"].astype(float), per["min"].astype(float), strict=True
        ):
            drops.append(
                {
                    "model": name,
                    "corruption": corruption,
                    "clean": clean_acc,
                    "mean over severities": mean,
                    "worst severity": worst,
                    "drop": clean_acc - mean,
                }
            )
    from mnistlab.report.summary import read_csv_exact

    mce = read_csv_exact(ctx.run / "eval" / "mce.csv")
    if mce is not None:
        sec.table(mce, "eval/mce.csv: accuracy, mCE and clean ECE per model", floatfmt="{:.4f}")
    else:
        sec.table(pd.DataFrame(summary), "models", floatfmt="{:.4f}")
    if drops:
        table = pd.DataFrame(drops).sort_values(["model", "drop"], ascending=[True, False])
        sec.table(table, "accuracy drop per corruption (clean minus mean over severities)")
    else:
        sec.text("only the clean variant was evaluated: no accuracy drop to show")
    return sec


def _confidence(t: RunTables, where: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    probs = t.prob_columns
    if not probs:
        raise MnistlabError("no prob_* columns")
    frame = t.query(
        f"SELECT greatest({', '.join(probs)}) AS conf, correct FROM samples WHERE {where}"
    )
    return frame["conf"].to_numpy(np.float64), frame["correct"].to_numpy(bool)


def _section_calibration(ctx: _Context) -> Section:
    import pandas as pd

    sec = Section("calibration", "Calibration")
    curves, rows = {}, []
    for name, t in ctx.tables.items():
        if not t.prob_columns:
            continue
        for label, where in (("clean", "variant = 'clean'"), ("corrupted", "variant <> 'clean'")):
            conf, ok = _confidence(t, where)
            if len(conf) == 0:
                continue
            curve = _reliability(conf, ok)
            curves[f"{name} {label}"] = curve
            rows.append(
                {
                    "model": name,
                    "variants": label,
                    "samples": len(conf),
                    "accuracy": float(ok.mean()),
                    "mean confidence": float(conf.mean()),
                    "ECE": curve["ece"],
                }
            )
    if not curves:
        sec.note = NOT_COMPUTED + " (no probabilities)"
        return sec
    sec.image(plots.reliability_png(curves), "reliability diagram (10 confidence bins)")
    sec.table(pd.DataFrame(rows), "expected calibration error")
    return sec


def _reliability(confidence: NDArray[np.float64], correct: NDArray[np.bool_]) -> dict[str, Any]:
    """A reliability curve (used bins only) and its ECE, from :mod:`mnistlab.evaluate`."""
    from mnistlab.evaluate import expected_calibration_error, reliability_table

    table = reliability_table(confidence=confidence, correct=correct)
    used = table[table["count"] > 0]
    return {
        "confidence": used["confidence"].to_numpy(np.float64),
        "accuracy": used["accuracy"].to_numpy(np.float64),
        "count": used["count"].to_numpy(np.int64),
        "ece": expected_calibration_error(confidence=confidence, correct=correct),
    }


def _clean_frame(ctx: _Context, columns: list[str]) -> pd.DataFrame:
    assert ctx.main is not None
    cols = ", ".join(dict.fromkeys(["sample_id", "label", "pred", "correct", *columns]))
    return ctx.main.query(f"SELECT {cols} FROM samples WHERE variant = 'clean' ORDER BY sample_id")


def _section_hardness(ctx: _Context) -> Section:

    sec = Section("hardness", "Hardness")
    if ctx.main is None or ctx.hardness is None:
        sec.note = NOT_COMPUTED + " (no scores table)"
        return sec
    h = ctx.hardness
    frame = _clean_frame(ctx, [h])
    if frame.empty:
        sec.note = NOT_COMPUTED + " (no clean predictions)"
        return sec
    v = frame[h].to_numpy(np.float64)
    ok = frame["correct"].to_numpy(bool)
    sec.text(f"model {ctx.main.model}, clean test samples, hardness = {h} (higher = harder)")
    sec.image(plots.hardness_hist_png(v, ok, h), f"{h}: correct vs incorrect")
    sec.image(plots.accuracy_vs_hardness_png(v, ok, h), f"accuracy per decile of {h}")
    sec.image(
        plots.hardness_by_class_png(v, frame["label"].to_numpy(np.int64), ctx.class_names, h),
        f"{h} per true class",
    )
    return sec


def _section_prioritisation(ctx: _Context) -> Section:
    from mnistlab.report.summary import read_csv_exact

    sec = Section("prioritisation", "Prioritisation: which score finds the misclassified samples")
    aware = _label_aware()
    read_any = False
    for name in ctx.tables:
        table = read_csv_exact(ctx.run / "hardness" / name / "prioritization.csv")
        if table is None or not {"variant", "score", "apfd"} <= set(table.columns):
            continue
        read_any = True
        clean = table[table["variant"] == "clean"]
        cols = ["score", "n", "faults", "apfd", "auroc", "aupr", "found@100", "recall@100"]
        part = (clean if len(clean) else table)[[c for c in cols if c in table.columns]]
        part = part.sort_values("apfd", ascending=False, kind="stable")
        uses = ["yes" if v in aware else "" for v in part["score"]]
        part = part.assign(**{"uses the label": uses})
        where = "clean test split" if len(clean) else "every variant"
        sec.table(
            part,
            f"hardness/{name}/prioritization.csv, {where}, by APFD (ties averaged)",
            floatfmt="{:.4f}",
        )
        if table["variant"].nunique() > 1:
            grid = table.pivot_table(index="variant", columns="score", values="apfd", sort=False)
            sec.table(
                grid.reset_index().rename_axis(columns=None),
                f"hardness/{name}/prioritization.csv: APFD per variant",
            )
    if ctx.main is not None and ctx.main.score_columns:
        pooled = _pooled_ranking(ctx.main, read_any, aware)
        if len(pooled):
            sec.table(
                pooled,
                f"model {ctx.main.model}: "
                + (
                    "every variant pooled (mnistlab.scores.metrics)"
                    if read_any
                    else "misclassification detection by score (mnistlab.scores.metrics)"
                ),
                floatfmt="{:.4f}",
            )
    if not sec.blocks:
        sec.note = NOT_COMPUTED + " (no scores table)"
    return sec


def _pooled_ranking(main: RunTables, pooled_only: bool, aware: frozenset[str]) -> pd.DataFrame:
    """Ranking metrics of every score (all variants pooled; also clean without a table)."""
    import pandas as pd

    from mnistlab.scores.metrics import evaluate_ranking

    scores = main.score_columns
    where = [("all variants", "TRUE")]
    if not pooled_only:
        where.insert(0, ("clean", "variant = 'clean'"))
    rows = []
    for label, cond in where:
        frame = main.query(f"SELECT correct, {', '.join(scores)} FROM samples WHERE {cond}")
        if frame.empty:
            continue
        wrong = ~frame["correct"].to_numpy(bool)
        for name in scores:
            v = frame[name].to_numpy(np.float64)
            ok = np.isfinite(v)
            r = evaluate_ranking(v[ok], wrong[ok], k=(100,))
            rows.append(
                {
                    "variants": label,
                    "score": name,
                    **{k: r[k] for k in ("n", "faults", "apfd", "auroc", "aupr", "found@100")},
                    "uses the label": "yes" if name in aware else "",
                }
            )
    return pd.DataFrame(rows)


def _section_fmnist_c(ctx: _Context) -> Section | None:
    """Only in runs that asked for the protocol (``mnistlab study --fmnist-c``)."""
    import pandas as pd

    folder = ctx.run / "fmnist-c"
    table_path = folder / "prioritization.csv"
    if not table_path.is_file():
        return None
    sec = Section("fmnist-c", "Fashion-MNIST-C protocol: train on its train split, rank its test")
    sec.text(
        "Every image of both splits gets one corruption drawn at random, as in the "
        "Fashion-MNIST-C release. The CNN trained on the corrupted train split ranks the "
        "corrupted test split; the run's clean-trained models rank the same images under "
        "covariate shift, where a fault rate f caps APFD at 1 - f/2 for any score."
    )
    try:
        table = pd.read_csv(table_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        sec.note = f"unreadable {table_path.name}"
        return sec
    cols = [c for c in ("trained_on", "model", "score", "n", "faults", "accuracy") if c in table]
    cols += [c for c in ("apfd", "auroc", "aupr") if c in table]
    sec.table(table[cols], "fmnist-c/prioritization.csv: misclassification detection by score")
    for name in ("faults_found.png", "accuracy_by_corruption.png"):
        png = _attached_png(folder / name) if (folder / name).is_file() else None
        if png is not None:
            sec.image(png, f"fmnist-c/{name}")
    return sec


def _label_aware() -> frozenset[str]:
    """Scores that look at the true label (no fair misclassification detectors)."""
    try:
        from mnistlab.scores.table import LABEL_AWARE
    except ImportError:  # the scores domain is optional for a report
        return frozenset({"mistakenness"})
    return frozenset(LABEL_AWARE)


def _section_examples(ctx: _Context) -> Section:
    sec = Section("examples", "Hardest and easiest images per class")
    if ctx.main is None or ctx.hardness is None:
        sec.note = NOT_COMPUTED + " (no scores table)"
        return sec
    h = ctx.hardness
    frame = _clean_frame(ctx, [h])
    images = clean_images(ctx.run)
    k = ctx.per_class
    short = [n[:7] for n in ctx.class_names]
    for title, descending in (("hardest", True), ("easiest", False)):
        cells = np.full((len(ctx.class_names), k, *images.shape[1:]), 128, np.uint8)
        titles: list[list[str]] = []
        for c in range(len(ctx.class_names)):
            part = (
                frame[frame["label"] == c]
                .sort_values(h, ascending=not descending, kind="stable")
                .head(k)
            )
            ids = part["sample_id"].to_numpy(np.int64)
            if len(ids):
                cells[c, : len(ids)] = images[ids]
            titles.append(
                [
                    ("" if ok else "→" + short[p])
                    for ok, p in zip(part["correct"], part["pred"], strict=True)
                ]
                + [""] * (k - len(ids))
            )
        png = plots.image_grid_png(
            cells, ctx.class_names, [str(i + 1) for i in range(k)], cell_titles=titles
        )
        sec.image(
            png,
            f"{title} {k} clean test images per class by {h} (as stored, like the explorer; "
            "red: the wrong prediction)",
        )
    return sec


def _section_morpho(ctx: _Context) -> Section:

    sec = Section("morphometrics", "Morphometrics")
    if ctx.main is None or not ctx.main.columns.morpho:
        sec.note = NOT_COMPUTED + " (no morpho.parquet)"
        return sec
    morpho = ctx.main.columns.morpho
    scores = ctx.main.score_columns
    frame = _clean_frame(ctx, [*morpho, *scores])
    ok = frame["correct"].to_numpy(bool)
    sec.image(
        plots.morpho_png(frame, ok, morpho), "distributions, correct vs incorrect (clean test)"
    )
    targets = [*scores, "incorrect"]
    frame = frame.assign(incorrect=(~frame["correct"]).astype(np.float64))
    corr = frame[[*morpho, *targets]].corr(method="spearman").loc[morpho, targets]
    corr.insert(0, "measure", corr.index)
    sec.table(
        corr.reset_index(drop=True),
        "Spearman correlation of each measure with the scores",
        floatfmt="{:+.2f}",
    )
    return sec


def _section_embeddings(ctx: _Context) -> Section:
    sec = Section("embeddings", "Embeddings of the model's features")
    if ctx.main is None or not ctx.main.embedding_kinds():
        sec.note = NOT_COMPUTED + " (no embeddings/<model>.parquet; see mnistlab.report.embed_run)"
        return sec
    kinds = ctx.main.embedding_kinds()
    cols = [f"{k}_{i}" for k in kinds for i in (0, 1)]
    extra = [ctx.hardness] if ctx.hardness else []
    frame = _clean_frame(ctx, [*cols, *extra]).dropna(subset=cols, how="all")
    if len(frame) > ctx.max_points:
        frame = frame.sample(ctx.max_points, random_state=ctx.seed)
    coords = {k: frame[[f"{k}_0", f"{k}_1"]].to_numpy(np.float64) for k in kinds}
    hard = frame[ctx.hardness].to_numpy(np.float64) if ctx.hardness else None
    png = plots.embedding_png(
        coords,
        frame["label"].to_numpy(np.int64),
        frame["correct"].to_numpy(bool),
        hard,
        ctx.class_names,
        ctx.hardness,
    )
    sec.image(png, f"{ctx.main.model}, {len(frame)} clean test samples")
    return sec


def _section_active(ctx: _Context) -> Section:
    import pandas as pd

    sec = Section("active", "Active learning")
    folder = ctx.run / "active_learning"
    if not folder.is_dir() or not any(folder.rglob("*.csv")):
        sec.note = NOT_COMPUTED
        return sec
    for path in sorted(folder.rglob("*.csv")):
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            continue
        group = next((c for c in ("strategy", "method", "score") if c in frame.columns), None)
        x = next(
            (c for c in ("labelled", "n_labelled", "budget", "round") if c in frame.columns), None
        )
        y = next(
            (
                c
                for c in ("accuracy", "test_accuracy", "acc_second_half", "acc")
                if c in frame.columns
            ),
            None,
        )
        if group and x and y:
            sec.image(plots.curves_png(frame, x, y, group, path.stem), f"{path.name}: {y} vs {x}")
        sec.table(frame, str(path.relative_to(ctx.run)))
    return sec


def _attached_png(path: Path) -> bytes | None:
    """A study PNG re-encoded at most ``MAX_ATTACHED_WIDTH`` wide; None when unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            image = im.convert("RGB") if im.mode not in ("L", "RGB") else im.copy()
    except OSError:
        return None
    if image.width > MAX_ATTACHED_WIDTH:
        ratio = MAX_ATTACHED_WIDTH / image.width
        image = image.resize(
            (MAX_ATTACHED_WIDTH, max(1, round(image.height * ratio))), Image.Resampling.LANCZOS
        )
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _section_figures(ctx: _Context) -> Section:
    sec = Section("figures", "Figures written by the study")
    paths = [
        p
        for f in STUDY_FOLDERS
        if (ctx.run / f).is_dir()
        for p in sorted((ctx.run / f).rglob("*.png"))
    ]
    if not paths:
        sec.note = NOT_COMPUTED + " (no PNG under eval/, hardness/ or active_learning/)"
        return sec
    for path in paths[:MAX_ATTACHED_FIGURES]:
        png = _attached_png(path)
        if png is not None:
            sec.image(png, str(path.relative_to(ctx.run)))
    if len(paths) > MAX_ATTACHED_FIGURES:
        sec.text(f"{len(paths) - MAX_ATTACHED_FIGURES} more figures in the run directory")
    return sec


def _section_leaderboard(ctx: _Context) -> Section | None:
    from mnistlab.report.leaderboard import leaderboard_section

    return leaderboard_section(ctx.run, Section, _attached_png)


#: Builders of the report's sections, in order; one returning None leaves its section out.
#: The summary comes first, the provenance last.
SECTIONS: dict[str, Callable[[_Context], Section | None]] = {
    "summary": _section_summary,
    "robustness": _section_robustness,
    "leaderboard": _section_leaderboard,
    "prioritisation": _section_prioritisation,
    "label-issues": _section_label_issues,
    "calibration": _section_calibration,
    "hardness": _section_hardness,
    "examples": _section_examples,
    "gallery": _section_gallery,
    "morphometrics": _section_morpho,
    "embeddings": _section_embeddings,
    "fmnist-c": _section_fmnist_c,
    "active": _section_active,
    "figures": _section_figures,
    "run": _section_run,
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
    manifest = read_manifest(run)
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
    ctx = _Context(
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
    path = Path(out) if out is not None else run / "report.html"
    write_text_atomic(path, html)
    return path
