"""``write_report(run_dir)``: one self-contained HTML file that shows a study at a glance.

Every image is a PNG inlined as a ``data:`` URI and the CSS is inline, so ``report.html``
opens in any browser with no network. Each section is computed from the run's tables; a
section whose inputs are missing says "not computed in this run" instead of failing.
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

__all__ = ["apfd", "auroc", "reliability", "write_report"]

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


# -- metrics used by the sections ----------------------------------------------------------------


def auroc(score: NDArray[np.float64], positive: NDArray[np.bool_]) -> float:
    """Area under the ROC curve of ``score`` for detecting ``positive`` (ties count half).

    Examples
    --------
    >>> import numpy as np
    >>> auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))
    0.75
    """
    from scipy.stats import rankdata

    s = np.asarray(score, dtype=np.float64)
    pos = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def apfd(score: NDArray[np.float64], positive: NDArray[np.bool_]) -> float:
    """Average percentage of faults detected when samples are inspected by decreasing ``score``."""
    s = np.asarray(score, dtype=np.float64)
    pos = np.asarray(positive, dtype=bool)
    n, m = len(s), int(pos.sum())
    if m == 0 or n == 0:
        return float("nan")
    ranks = np.empty(n, np.int64)
    ranks[np.argsort(-s, kind="stable")] = np.arange(1, n + 1)
    return float(1.0 - ranks[pos].sum() / (n * m) + 1.0 / (2 * n))


def reliability(
    confidence: NDArray[np.float64], correct: NDArray[np.bool_], bins: int = 10
) -> dict[str, Any]:
    """Accuracy and mean confidence per equal-width confidence bin, and the ECE."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    idx = np.clip((conf * bins).astype(np.int64), 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    acc = np.bincount(idx, weights=ok, minlength=bins)
    mean_conf = np.bincount(idx, weights=conf, minlength=bins)
    used = count > 0
    acc_b = acc[used] / count[used]
    conf_b = mean_conf[used] / count[used]
    ece = float(np.sum(count[used] / max(len(conf), 1) * np.abs(acc_b - conf_b)))
    return {"confidence": conf_b, "accuracy": acc_b, "count": count[used], "ece": ece}


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

    sec = Section("run", "What was run")
    m = ctx.manifest
    dataset = m.get("dataset", "?")
    if isinstance(dataset, dict):
        dataset = ", ".join(f"{k}: {v}" for k, v in dataset.items())
    rows = [
        ("run directory", str(ctx.run)),
        ("dataset", str(dataset)),
        ("classes", ", ".join(ctx.class_names)),
        ("models", ", ".join(ctx.tables) or "none"),
        ("seed", str(m.get("seed", "?"))),
        ("compat", str(m.get("compat") or "default")),
        ("created", str(m.get("created", "?"))),
        ("report written", time.strftime("%Y-%m-%d %H:%M:%S")),
    ]
    try:
        rows.append(("test samples", str(len(clean_labels(ctx.run)))))
    except MnistlabError:
        rows.append(("test samples", NOT_COMPUTED))
    if ctx.main is not None:
        n_var = ctx.main.rows("SELECT count(DISTINCT variant) FROM samples")[0][0]
        rows.append(("variants", str(n_var)))
    sec.table(pd.DataFrame(rows, columns=["", "value"]), "run")
    versions = m.get("versions")
    if isinstance(versions, dict) and versions:
        sec.table(
            pd.DataFrame(sorted(versions.items()), columns=["package", "version"]), "versions"
        )
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
    cells = np.zeros((len(corruptions), len(severities), h, strip.shape[1]), np.uint8)
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
    sec.image(png, f"every corruption x severity on {len(ids)} test samples (ink dark)")
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
        summary.append(
            {
                "model": name,
                "clean accuracy": clean_acc,
                "mean corrupted accuracy": float(corrupted["accuracy"].mean())
                if len(corrupted)
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
    sec.table(pd.DataFrame(summary), "models")
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
            curve = reliability(conf, ok)
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
    import pandas as pd

    sec = Section("prioritisation", "Prioritisation: which score finds the misclassified samples")
    if ctx.main is None or not ctx.main.score_columns:
        sec.note = NOT_COMPUTED + " (no scores table)"
    else:
        scores = ctx.main.score_columns
        cols = ", ".join(scores)
        aware = _label_aware()
        rows = []
        for label, where in (("clean", "variant = 'clean'"), ("all variants", "TRUE")):
            frame = ctx.main.query(f"SELECT correct, {cols} FROM samples WHERE {where}")
            if frame.empty:
                continue
            wrong = ~frame["correct"].to_numpy(bool)
            k = max(int(wrong.sum()), 1)
            for s in scores:
                v = frame[s].to_numpy(np.float64)
                top = np.argsort(-v, kind="stable")[:k]
                rows.append(
                    {
                        "variants": label,
                        "score": s,
                        "AUROC": auroc(v, wrong),
                        "APFD": apfd(v, wrong),
                        "precision@#errors": float(wrong[top].mean()),
                        "uses the label": "yes" if s in aware else "",
                    }
                )
        sec.table(
            pd.DataFrame(rows), f"model {ctx.main.model}: misclassification detection by score"
        )
    _attach_tables(sec, ctx.run / "hardness", ("prior", "rank", "apfd"))
    return sec


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


def _attach_tables(sec: Section, folder: Path, keywords: tuple[str, ...] | None) -> int:
    import pandas as pd

    count = 0
    if not folder.is_dir():
        return 0
    for path in sorted(folder.rglob("*.csv")):
        if keywords is not None and not any(k in path.name.lower() for k in keywords):
            continue
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            continue
        sec.table(frame, str(path.relative_to(folder.parent)))
        count += 1
    return count


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
        cells = np.zeros((len(ctx.class_names), k, *images.shape[1:]), np.uint8)
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
            png, f"{title} {k} clean test images per class by {h} (red: the wrong prediction)"
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


#: Builders of the report's sections, in order; one returning None leaves its section out.
SECTIONS: dict[str, Callable[[_Context], Section | None]] = {
    "run": _section_run,
    "gallery": _section_gallery,
    "robustness": _section_robustness,
    "calibration": _section_calibration,
    "hardness": _section_hardness,
    "examples": _section_examples,
    "morphometrics": _section_morpho,
    "embeddings": _section_embeddings,
    "prioritisation": _section_prioritisation,
    "fmnist-c": _section_fmnist_c,
    "active": _section_active,
    "figures": _section_figures,
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
