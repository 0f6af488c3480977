"""``mnistlab compare``: models of one or several runs side by side, with statistics.

The runs must share the benchmark: the same clean test images and labels (their sha256 in
each manifest), the same corruption seed and compat mode, so that every variant holds the
same images in every run. Models are then compared sample by sample on their common
variants:

* ``leaderboard``: per model, clean accuracy, mean corrupted accuracy, mCE and relative mCE
  against the baseline, clean ECE and the APFD of the model's best label-free score, each
  with a 95 % percentile bootstrap interval over test images (:mod:`mnistlab.compare`);
* ``cells``: per pair and per corruption x severity, the accuracy difference with its paired
  bootstrap interval, the exact McNemar test, Holm-corrected across the pair's cells, and
  the APFD difference;
* ``pairs``: per pair, how many cells differ significantly and in whose favour;
* ``seen_unseen``: for a model trained with on-the-fly corruptions (``train --augment``),
  its mean accuracy on the families it saw and on the others, against the plain model of
  the same architecture (the held-out-family protocol).

One bootstrap draw (``n_boot`` resamples of the test images, ``seed``) serves every metric,
model and pair. Tables go to ``OUT/<table>.csv`` and ``.parquet``, one delta heatmap per
pair to ``OUT/delta_<a>__<b>.png``, and everything into a self-contained ``OUT/compare.html``
(:mod:`mnistlab.workflows.compare_report`); :class:`mnistlab.run.CompareLayout` names them.

Examples
--------
>>> result = compare_runs(["runs/plain", "runs/augmented"], "runs/compare")  # doctest: +SKIP
>>> result.tables["leaderboard"][["model", "clean_accuracy", "clean_accuracy_lo"]]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnistlab import run as runlib
from mnistlab.compare import (
    Outcomes,
    apfd_replicates,
    best_score,
    bootstrap_weights,
    group_accuracy,
    leaderboard,
    paired_cells,
)
from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ComparisonResult",
    "ModelRef",
    "compare_runs",
    "load_outcomes",
    "resolve_refs",
    "step_compare",
]

#: What must agree between runs for their variants to hold the same images.
FINGERPRINT = ("test_images_sha256", "test_labels_sha256", "seed", "compat")


@dataclass(frozen=True)
class ModelRef:
    """A model of a run: ``RUN/preds/<model>.parquet``, shown as ``label``."""

    label: str
    run: Path
    model: str

    @property
    def preds(self) -> Path:
        return runlib.RunLayout(self.run).preds(self.model)

    def manifest(self) -> dict[str, Any]:
        """The model's own manifest (``RUN/models/<model>/manifest.json``), or ``{}``."""
        import json

        from mnistlab.models.base import MANIFEST

        path = runlib.RunLayout(self.run).model(self.model) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


@dataclass
class ComparisonResult:
    """What :func:`compare_runs` computed and wrote."""

    out: Path
    tables: dict[str, pd.DataFrame]
    models: list[str]
    variants: list[str]
    n_samples: int
    n_boot: int
    files: dict[str, Path] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        """Each model's accuracies with their confidence intervals, each pair's significant
        cells, and where the HTML page is."""
        lines = []
        for r in self.tables["leaderboard"].to_dict("records"):
            clean = f"[{r['clean_accuracy_lo']:.4f}, {r['clean_accuracy_hi']:.4f}]"
            corrupted = f"[{r['corrupted_accuracy_lo']:.4f}, {r['corrupted_accuracy_hi']:.4f}]"
            lines.append(
                f"{r['model']}: clean {r['clean_accuracy']:.4f} {clean}, "
                f"corrupted {r['corrupted_accuracy']:.4f} {corrupted}"
            )
        for r in self.tables["pairs"].to_dict("records"):
            lines.append(
                f"{r['model_a']} vs {r['model_b']}: {r['significant']} of {r['cells']} "
                f"corrupted cells differ significantly ({r['a_better']} for {r['model_a']}, "
                f"{r['b_better']} for {r['model_b']})"
            )
        return [*lines, f"comparison -> {runlib.CompareLayout(self.out).html}"]


def _run_of(path: Path) -> Path:
    layout = runlib.RunLayout(path)
    if not layout.manifest.is_file() or not layout.preds_folder.is_dir():
        raise MnistlabError(
            f"{path}: not a mnistlab run directory (needs manifest.json and preds/; "
            "give a folder written by 'mnistlab study', or RUN/preds/<model>.parquet)"
        )
    runlib.check_run(path)
    return path


def resolve_refs(items: Sequence[str | os.PathLike[str]]) -> list[ModelRef]:
    """The models named by ``items``: runs (all their models), ``RUN/preds/<m>.parquet`` or
    ``RUN/models/<m>``. Labels are model names, prefixed by the run's folder name where two
    runs have a model of the same name."""
    if not items:
        raise MnistlabError("compare: give at least one run")
    found: list[tuple[Path, str]] = []
    for item in items:
        path = Path(item)
        # RUN/preds/<model>.parquet, RUN/models/<model>/ or RUN, as RunLayout names them
        if path.is_file() and path == runlib.RunLayout(path.parent.parent).preds(path.stem):
            pairs = [(_run_of(path.parent.parent), path.stem)]
        elif path.is_dir() and path == runlib.RunLayout(path.parent.parent).model(path.name):
            run = _run_of(path.parent.parent)
            layout = runlib.RunLayout(run)
            if not layout.preds(path.name).is_file():
                raise MnistlabError(
                    f"{path}: this model has no predictions in {layout.preds_folder}/"
                )
            pairs = [(run, path.name)]
        elif path.is_dir():
            run = _run_of(path)
            layout = runlib.RunLayout(run)
            # in file-name order (cnn-aug.parquet before cnn.parquet), not the layout's cnn first
            tables = sorted(layout.preds(m) for m in layout.models_with_preds())
            pairs = [(run, p.stem) for p in tables]
            if not pairs:
                raise MnistlabError(f"{path}: run has no predictions (preds/*.parquet)")
        elif not path.exists():
            raise MnistlabError(f"{path}: no such run or model")
        else:
            raise MnistlabError(
                f"{path}: not a run, a run's model folder or RUN/preds/<model>.parquet"
            )
        found.extend(p for p in pairs if (p[0].resolve(), p[1]) not in _keys(found))
    found = _distinct_predictions(found)
    names = [m for _, m in found]
    return [ModelRef(m if names.count(m) == 1 else f"{run.name}/{m}", run, m) for run, m in found]


def _distinct_predictions(found: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """``found`` without a run's baseline whose predictions table holds the same bytes as
    the same baseline of a run before it: runs that share their baseline list it once."""
    from mnistlab.run.integrity import file_record

    seen: set[tuple[str, str]] = set()
    kept = []
    for run, model in found:
        options = runlib.read_manifest(run).get("options") or {}
        if options.get("baseline") == model:
            key = (model, str(file_record(runlib.RunLayout(run).preds(model))["sha256"]))
            if key in seen:
                continue
            seen.add(key)
        kept.append((run, model))
    return kept


def _keys(found: list[tuple[Path, str]]) -> set[tuple[Path, str]]:
    return {(r.resolve(), m) for r, m in found}


def _sha256(array: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _fingerprint(run: Path) -> dict[str, Any]:
    """What the run's variants are a function of: the clean images and labels it stores
    (hashed here, not trusted from the manifest), the corruption seed and compat mode."""
    manifest = runlib.read_manifest(run)
    return {
        "test_images_sha256": _sha256(np.asarray(runlib.clean_images(run))),
        "test_labels_sha256": _sha256(runlib.clean_labels(run)),
        "seed": manifest.get("seed", 0),
        "compat": manifest.get("compat"),
        "variants": list(manifest.get("variants") or []),
    }


def check_compatible(runs: Sequence[Path]) -> list[str]:
    """Refuse runs whose images, labels, seed or compat differ; return the common variants."""
    first = runs[0]
    ref = _fingerprint(first)
    variants = list(ref["variants"])
    for run in runs[1:]:
        other = _fingerprint(run)
        for key in FINGERPRINT:
            if other[key] != ref[key]:
                what = key.replace("_sha256", "").replace("_", " ")
                raise MnistlabError(
                    f"{run}: its {what} differ from {first}'s ({other[key]!s:.16} vs "
                    f"{ref[key]!s:.16}); compare needs runs on the same images and seeds"
                )
        variants = [v for v in variants if v in set(other["variants"])]
    if runlib.CLEAN not in variants:
        raise MnistlabError(f"{first}: the runs share no clean variant to compare on")
    return variants


def load_outcomes(ref: ModelRef, variants: Sequence[str]) -> Outcomes:
    """A model's :class:`~mnistlab.compare.Outcomes` on ``variants`` (rows by sample id), its
    score being the label-free hardness score with the best APFD."""
    import pyarrow.parquet as pq

    from mnistlab.scores.uncertainty import score_all

    names = pq.read_schema(ref.preds).names
    probs_cols = sorted(
        (c for c in names if c.startswith("prob_")), key=lambda c: int(c.split("_")[1])
    )
    if not probs_cols:
        raise MnistlabError(f"{ref.preds}: predictions table has no prob_* columns")
    cols = ["sample_id", "variant", "corruption", "severity", "label", "pred", *probs_cols]
    table = pq.read_table(ref.preds, columns=cols).to_pandas()
    table = table[table["variant"].isin(list(variants))]
    order = {v: i for i, v in enumerate(variants)}
    table = table.assign(_v=table["variant"].map(order)).sort_values(["_v", "sample_id"])
    n = int((table["_v"] == 0).sum())
    ids = table["sample_id"].to_numpy(np.int64).reshape(-1)
    if len(table) != n * len(variants) or not (ids.reshape(len(variants), n) == np.arange(n)).all():
        raise MnistlabError(
            f"{ref.preds}: every variant needs one row per sample id 0..{n - 1} "
            f"({len(table)} rows for {len(variants)} variants)"
        )
    shape = (len(variants), n)
    correct = (table["pred"].to_numpy() == table["label"].to_numpy()).reshape(shape)
    probs = np.array(table[probs_cols].to_numpy(np.float64))
    probs /= probs.sum(axis=1, keepdims=True)  # the float32 rounding of the stored table
    scores = {k: v.reshape(shape) for k, v in score_all(probs).items()}
    best = best_score(scores, correct)
    first = table.drop_duplicates("_v")
    return Outcomes(
        tuple(variants),
        tuple(first["corruption"].astype(str)),
        first["severity"].to_numpy(np.int64),
        correct,
        probs.max(axis=1).reshape(shape),
        scores[best],
        best,
    )


def _augmented_pairs(refs: Sequence[ModelRef]) -> list[tuple[ModelRef, ModelRef, list[str]]]:
    """(augmented model, its plain counterpart, families seen) for every augmented model."""
    manifests = {r.label: r.manifest() for r in refs}
    out = []
    for ref in refs:
        aug = manifests[ref.label].get("corruption_augment")
        if not aug:
            continue
        arch = manifests[ref.label].get("architecture")
        plain = [
            r
            for r in refs
            if not manifests[r.label].get("corruption_augment")
            and manifests[r.label].get("architecture") == arch
        ]
        if plain:
            plain.sort(key=lambda r: r.model != arch)  # prefer the model named like its net
            out.append((ref, plain[0], list(aug.get("families", []))))
    return out


def _seen_unseen(
    refs: Sequence[ModelRef],
    outcomes: dict[str, Outcomes],
    weights: np.ndarray,
    level: float,
) -> pd.DataFrame | None:
    import pandas as pd

    from mnistlab.corrupt import get

    frames = []
    for aug, plain, families in _augmented_pairs(refs):
        o = outcomes[aug.label]
        fam = [None if c == "identity" else get(c).family for c in o.corruption]
        groups = {
            "clean": [f is None for f in fam],
            "seen": [f is not None and f in families for f in fam],
            "unseen": [f is not None and f not in families for f in fam],
        }
        groups = {k: v for k, v in groups.items() if any(v)}
        table = group_accuracy(
            {aug.label: o, plain.label: outcomes[plain.label]},
            groups,
            weights,
            reference=plain.label,
            level=level,
        )
        table.insert(0, "augmented", aug.label)
        table.insert(1, "families", ",".join(families))
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else None


def _pairs_table(cells: pd.DataFrame) -> pd.DataFrame:
    corrupted = cells[cells["corruption"] != "identity"]
    grouped = corrupted.groupby(["model_a", "model_b"], sort=False)
    out = grouped.agg(
        cells=("delta", "size"),
        significant=("significant", "sum"),
        mean_delta=("delta", "mean"),
        mean_apfd_delta=("apfd_delta", "mean"),
    ).reset_index()
    better = corrupted[corrupted["significant"]]
    a_wins = (better["delta"] > 0).groupby([better["model_a"], better["model_b"]]).sum()
    b_wins = (better["delta"] < 0).groupby([better["model_a"], better["model_b"]]).sum()
    keys = list(zip(out["model_a"], out["model_b"], strict=True))
    out["a_better"] = [int(a_wins.get(k, 0)) for k in keys]
    out["b_better"] = [int(b_wins.get(k, 0)) for k in keys]
    return out


def compare_runs(
    items: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    baseline: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    alpha: float = 0.05,
    overwrite: bool = False,
    html: bool = True,
    log: Any = None,
    check_out: bool = True,
) -> ComparisonResult:
    """Compare the models of ``items`` (runs, ``RUN/preds/<m>.parquet`` or ``RUN/models/<m>``).

    Parameters
    ----------
    items : sequence of path-like
        Runs or models of runs; at least two models in all.
    out : path-like
        Output folder (a new one, or a previous compare output with ``overwrite``).
    baseline : str, optional
        Model label of the mCE (default: ``logreg`` when present, else no mCE).
    n_boot, seed : int
        Bootstrap resamples of the test images and their seed.
    level, alpha : float
        Confidence level of the intervals; family-wise level of the Holm-corrected tests.
    overwrite : bool
        Replace a previous compare output in ``out``.
    html : bool
        Also write the heatmaps and ``compare.html``.
    log : callable, optional
        Receives progress lines.
    check_out : bool
        Apply the output policy to ``out`` (off for the study's own ``RUN/compare``).

    Returns
    -------
    ComparisonResult
    """
    import pandas as pd

    from mnistlab._atomic import atomic_path
    from mnistlab._output import prepare_out, write_marker

    say = log or (lambda _line: None)
    refs = resolve_refs(items)
    if len(refs) < 2:
        raise MnistlabError(
            f"compare: needs at least two models, got one ({refs[0].label} of {refs[0].run}); "
            "give more runs or a run with several models"
        )
    if not 0.0 < alpha < 1.0:
        raise MnistlabError(f"alpha must be in (0, 1), got {alpha!r}")
    target = Path(out)
    if check_out:
        prepare_out(target, "compare", inputs=[r.run for r in refs], overwrite=overwrite)
    runs = list(dict.fromkeys(r.run for r in refs))
    variants = check_compatible(runs)
    labels = [r.label for r in refs]
    if baseline is None:
        baseline = "logreg" if "logreg" in labels else None
    elif baseline not in labels:
        raise MnistlabError(f"baseline {baseline!r} is not among the models ({', '.join(labels)})")
    outcomes = {r.label: load_outcomes(r, variants) for r in refs}
    n = next(iter(outcomes.values())).n
    say(f"{len(refs)} models, {len(variants)} variants x {n} samples, {n_boot} resamples")
    weights = bootstrap_weights(n, n_boot, seed)
    apfd = {k: apfd_replicates(o, weights) for k, o in outcomes.items()}
    tables: dict[str, pd.DataFrame] = {
        "leaderboard": leaderboard(outcomes, weights, baseline, level, apfd=apfd)
    }
    cells = []
    for a, b in combinations(labels, 2):
        t = paired_cells(outcomes[a], outcomes[b], weights, level, alpha, apfd=(apfd[a], apfd[b]))
        t.insert(0, "model_a", a)
        t.insert(1, "model_b", b)
        cells.append(t)
    tables["cells"] = pd.concat(cells, ignore_index=True)
    tables["pairs"] = _pairs_table(tables["cells"])
    seen = _seen_unseen(refs, outcomes, weights, level)
    if seen is not None:
        tables["seen_unseen"] = seen
    target.mkdir(parents=True, exist_ok=True)
    write_marker(target, "compare")
    files: dict[str, Path] = {}
    layout = runlib.CompareLayout(target)
    for name, table in tables.items():
        for suffix in (".csv", ".parquet"):
            path = layout.table(name, suffix)
            with atomic_path(path, suffix=suffix) as tmp:
                if suffix == ".csv":
                    table.to_csv(tmp, index=False)
                else:
                    table.to_parquet(tmp, index=False)
            files[path.name] = path
    result = ComparisonResult(target, tables, labels, list(variants), n, n_boot, files)
    if html:
        from mnistlab.workflows.compare_report import write_compare_html

        files.update(write_compare_html(result, runs, alpha=alpha, level=level))
    return result


def step_compare(run_dir: Path, options: Any) -> dict[str, Any]:
    """The study's ``compare`` step: :func:`compare_runs` over the run's models into
    ``RUN/compare/`` (fewer resamples in ``--quick``); skipped with a single model."""
    names = [m for m in options.models if runlib.RunLayout(run_dir).preds(m).is_file()]
    if len(names) < 2:
        return {"skipped": "a single model: nothing to compare"}
    result = compare_runs(
        [runlib.RunLayout(run_dir).preds(m) for m in names],
        runlib.RunLayout(run_dir).compare,
        baseline=options.baseline if options.baseline in names else None,
        n_boot=200 if options.quick else 1000,
        seed=options.seed,
        check_out=False,
    )
    board = result.tables["leaderboard"].set_index("model")
    info: dict[str, Any] = {
        "n_boot": result.n_boot,
        "leaderboard": {
            m: {
                k: round(float(board.loc[m, k]), 6)
                for k in ("clean_accuracy", "corrupted_accuracy", "apfd")
            }
            for m in board.index
        },
        "significant_cells": {
            f"{r['model_a']} vs {r['model_b']}": int(r["significant"])
            for r in result.tables["pairs"].to_dict("records")
        },
    }
    if "seen_unseen" in result.tables:
        seen = result.tables["seen_unseen"]
        info["seen_unseen"] = {
            f"{r['model']}/{r['group']}": round(float(r["accuracy"]), 6)
            for r in seen.to_dict("records")
        }
    return info
