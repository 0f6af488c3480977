"""``mnistlab study``: the main job, end to end, as an ordered list of resumable steps.

Each step is a function ``step(run_dir: Path, options: StudyOptions) -> dict`` that writes
its outputs (atomically) into the run directory and returns a small JSON-able dict stored
with the step in the run manifest. :func:`run_study` runs the steps in order and skips
those already recorded as done (:func:`mnistlab.run.step_done`), so a re-run resumes where
the last one stopped. Later stages add themselves with :func:`add_step`::

    from mnistlab.study import add_step

    def hardness_step(run_dir, options):
        ...  # read preds/<model>.parquet, write scores/<model>.parquet
        return {"models": [...]}

    add_step("hardness", hardness_step, after="evaluate")

Steps of the study (see :data:`STEPS`):

``data``
    The clean test split (``data/test_images.npy``, ``data/test_labels.npy``), its hashes.
``train``
    The CNN and the baseline (``models/<name>/``) trained on the train split; a model folder
    already present is reused.
``predict``
    Every registered corruption (``identity`` excluded) at every severity, regenerated from
    the clean images with the run's seed and the sample ids, predicted by every model and
    streamed into ``preds/<model>.parquet`` variant by variant (memory stays bounded).
    Corruptions without levels (``leveled=False``: the five severities are identical) run
    once, at severity 1. The worker pool corrupts the next corruption while this process
    predicts the current one (PyTorch models through onnxruntime, tables built from the
    arrays); the files are the same bytes whatever the workers.
``evaluate``
    Robustness tables and plots in ``eval/`` (:func:`mnistlab.evaluate.evaluate`).
``morpho``
    Morpho-MNIST morphometrics of every clean test image in ``morpho.parquet``
    (:func:`mnistlab.morpho.measure`), keyed by ``sample_id``.
``hardness``
    Per-sample scores ``scores/<model>.parquet``, the prioritisation table and the hard-sample
    analyses in ``hardness/<model>/`` for every model (:func:`mnistlab.scores.analyze_run`);
    with ``active_learning`` also ``active_learning/<model>/`` for the first model.
``fmnist-c``
    Only with ``fmnist_c``: the Fashion-MNIST-C layout of the dataset (train and test), the
    CNN trained on its corrupted train split, and the prioritisation of its corrupted test
    split by that CNN and by the run's clean-trained models, in ``fmnist-c/``
    (:func:`mnistlab.scores.fmnist_c.fmnist_c_prioritization`).
``embed``
    2-D embeddings of the CNN's features (``embeddings/cnn.parquet``).
``report``
    The self-contained ``report.html`` (always last).
"""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab import run as runlib
from mnistlab._atomic import atomic_path
from mnistlab.errors import MnistlabError

__all__ = [
    "QUICK_CORRUPTIONS",
    "STEPS",
    "Step",
    "StudyOptions",
    "add_step",
    "run_study",
    "study_variants",
]

#: Corruptions of the ``--quick`` study (those registered), one per family where possible.
QUICK_CORRUPTIONS = ("gaussian_noise", "motion_blur", "rotate", "fog", "inverse")


@dataclass(frozen=True)
class StudyOptions:
    """Options of a study (recorded in the run manifest)."""

    dataset: str = "fashion-mnist"
    seed: int = 0
    quick: bool = False
    corruptions: tuple[str, ...] | None = None
    severities: tuple[int, ...] = (1, 2, 3, 4, 5)
    epochs: int | None = None
    models: tuple[str, ...] = ("cnn", "logreg")
    baseline: str = "logreg"
    train_size: int | None = None
    test_size: int | None = None
    compat: str | None = None
    executor: str = "local"
    workers: int | None = None
    data_dir: str | None = None
    progress: bool = True
    active_learning: bool = False
    fmnist_c: bool = False
    #: Corruption names or families the ``<cnn>-aug`` model trains on (``--augment``).
    augment: tuple[str, ...] | None = None
    augment_p: float = 0.5
    #: ``(name, path)`` of the model files among ``models`` (set by ``run_study``).
    model_files: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved(self) -> StudyOptions:
        """Apply the ``quick`` defaults (2,000 train / 500 test images, 3 epochs, 5 corruptions)."""
        if not self.quick:
            return self
        from mnistlab.corrupt import names

        known = set(names())
        quick = tuple(c for c in QUICK_CORRUPTIONS if c in known) or tuple(names())[:3]
        return StudyOptions(
            **{
                **asdict(self),
                "corruptions": self.corruptions or quick,
                "epochs": self.epochs or 3,
                "train_size": self.train_size or 2000,
                "test_size": self.test_size or 500,
            }
        )


StepFn = Callable[[Path, StudyOptions], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """A named step of the study."""

    name: str
    fn: StepFn
    description: str = ""


def study_variants(options: StudyOptions) -> list[tuple[str, int]]:
    """``[(corruption, severity), ...]`` of the study, clean first."""
    from mnistlab.corrupt import get, names

    chosen = (
        list(options.corruptions)
        if options.corruptions
        else [n for n in names() if n != "identity"]
    )
    out: list[tuple[str, int]] = [("identity", 0)]
    for name in chosen:
        corruption = get(name)  # validates the name (and resolves aliases)
        if corruption.name == "identity":
            continue
        sevs = options.severities if corruption.leveled else (1,)
        out.extend((corruption.name, int(s)) for s in sevs)
    return out


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, array)


def _load_split(options: StudyOptions, split: str, size: int | None) -> Any:
    from mnistlab.data import load

    ds = load(options.dataset, split=split, data_dir=options.data_dir)
    return ds[:size] if size is not None and size < len(ds) else ds


def step_data(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """Write the clean test split the run uses, and its hashes."""
    test = _load_split(options, "test", options.test_size)
    _save_npy(run_dir / "data" / "test_images.npy", np.ascontiguousarray(test.images))
    _save_npy(run_dir / "data" / "test_labels.npy", np.ascontiguousarray(test.labels))
    inputs = dict(runlib.read_manifest(run_dir).get("inputs", {}))
    inputs.update(
        test_images_sha256=_sha256(test.images),
        test_labels_sha256=_sha256(test.labels),
        test_size=len(test),
    )
    runlib.update_manifest(run_dir, class_names=list(test.class_names), inputs=inputs)
    return {"test_size": len(test)}


def step_train(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """Train (or reuse) every model of the study into ``models/<name>/``."""
    from mnistlab.models import get_spec, load_model, train

    info: dict[str, Any] = {}
    train_ds = None
    test_images = np.asarray(runlib.clean_images(run_dir))
    test_labels = runlib.clean_labels(run_dir)
    from mnistlab.workflows.study_models import train_recipe, trained_names

    for name in trained_names(options):
        folder = run_dir / "models" / name
        if (folder / "manifest.json").is_file():
            model = load_model(folder)
            info[name] = {"reused": True, "accuracy": model.manifest.get("accuracy")}
            continue
        if train_ds is None:
            train_ds = _load_split(options, "train", options.train_size)
            inputs = dict(runlib.read_manifest(run_dir).get("inputs", {}))
            inputs.update(train_sha256=_sha256(train_ds.images), train_size=len(train_ds))
            runlib.update_manifest(run_dir, inputs=inputs)
        # --epochs is the CNN's budget; iteration caps of scikit-learn models keep their defaults.
        registered, recipe = train_recipe(name, options)  # <cnn>-aug: cnn + corruptions
        epochs = options.epochs if get_spec(registered).kind == "torch" else None
        model = train(
            train_ds.images,
            train_ds.labels,
            registered,
            **recipe,
            class_names=train_ds.class_names,
            epochs=epochs,
            seed=options.seed,
            progress=options.progress,
            val=(test_images, test_labels),
        )
        model.save(folder)
        info[name] = {
            "reused": False,
            "accuracy": model.manifest.get("accuracy"),
            "training_seconds": model.manifest.get("training_seconds"),
        }
    return info


def _corrupt_task(
    images: np.ndarray, name: str, severity: int, seed: int, ids: np.ndarray, compat: str | None
) -> np.ndarray:
    from mnistlab.corrupt import corrupt

    return corrupt(images, name, severity=severity, seed=seed, sample_ids=ids, compat=compat)


def _variant_batches(run_dir: Path, options: StudyOptions, variants: list[tuple[str, int]]) -> Any:
    """Yield ``(corruption, severity, images)`` corruption by corruption (bounded memory).

    The next corruption's chunks go to the worker pool before the current one's variants
    are handed out, so the workers corrupt while the caller predicts. Each variant is the
    same function of the clean images, the seed and the sample ids whatever the overlap.
    """
    from mnistlab.execution import execution
    from mnistlab.parallel import chunk_bounds, iter_tasks

    clean = np.asarray(runlib.clean_images(run_dir))
    ids = np.arange(len(clean), dtype=np.int64)
    by_corruption: dict[str, list[int]] = {}
    for corruption, severity in variants:
        by_corruption.setdefault(corruption, []).append(severity)
    groups = list(by_corruption.items())
    chunks = chunk_bounds(len(clean), max(1, -(-len(clean) // 2)))

    def submit(k: int) -> Any:
        if k >= len(groups) or groups[k][0] == "identity":
            return None
        corruption, severities = groups[k]
        tasks = [
            (clean[a:b], corruption, s, options.seed, ids[a:b], options.compat)
            for s in severities
            for a, b in chunks
        ]
        return iter_tasks(_corrupt_task, tasks, executor=options.executor, workers=options.workers)

    with execution(options.executor, options.workers):
        pending = submit(0)
        for k, (corruption, severities) in enumerate(groups):
            if corruption == "identity":
                pending = submit(k + 1)
                yield corruption, 0, clean
                continue
            results = list(pending)
            pending = submit(k + 1)  # the workers start on it now
            for j, s in enumerate(severities):
                parts = results[j * len(chunks) : (j + 1) * len(chunks)]
                yield corruption, s, np.concatenate(parts, axis=0)


def step_predict(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """Corrupt the clean test split into every variant and predict with every model.

    PyTorch models predict through onnxruntime (:mod:`mnistlab.models.runtime`); the tables
    are built from the arrays (:func:`mnistlab.models.predict.prediction_arrow`) and
    streamed to Parquet variant by variant while the workers corrupt the next corruption.
    """
    import pyarrow.parquet as pq
    from tqdm.auto import tqdm

    from mnistlab.data.dataset import Dataset
    from mnistlab.models.predict import VariantData, predict_variant_arrow

    variants = study_variants(options)
    labels = runlib.clean_labels(run_dir)
    class_names = runlib.read_manifest(run_dir).get("class_names") or [
        str(i) for i in range(int(labels.max()) + 1)
    ]
    from mnistlab.workflows.study_models import for_variant, load_study_model

    models = {name: load_study_model(run_dir, name, options) for name in options.models}
    paths = {name: run_dir / "preds" / f"{name}.parquet" for name in models}
    writers: dict[str, Any] = {}
    tmp_paths: dict[str, Path] = {}
    contexts = {name: atomic_path(path, suffix=".parquet") for name, path in paths.items()}
    seconds = dict.fromkeys(models, 0.0)
    corrupt_seconds = 0.0
    try:
        for name, ctx in contexts.items():
            tmp_paths[name] = ctx.__enter__()
        bar = tqdm(
            total=len(variants),
            desc="corrupt + predict",
            unit="variant",
            disable=not options.progress,
        )
        t0 = time.perf_counter()
        for corruption, severity, images in _variant_batches(run_dir, options, variants):
            corrupt_seconds += time.perf_counter() - t0
            vname = runlib.variant_name(corruption, severity)
            ds = Dataset(images, labels, tuple(class_names), name=vname)
            vd = VariantData(
                vname, ds, np.full(len(ds), corruption), np.full(len(ds), severity, np.int64)
            )
            for name, model in models.items():
                t1 = time.perf_counter()
                known = for_variant(model, vname, name, tuple(class_names))
                table = predict_variant_arrow(known, vd, model_name=name)
                if name not in writers:
                    writers[name] = pq.ParquetWriter(str(tmp_paths[name]), table.schema)
                writers[name].write_table(table)
                seconds[name] += time.perf_counter() - t1
            bar.update(1)
            t0 = time.perf_counter()
        bar.close()
        for name in list(writers):
            writers.pop(name).close()
    except BaseException as exc:
        for w in writers.values():
            w.close()
        for ctx in contexts.values():
            ctx.__exit__(type(exc), exc, exc.__traceback__)
        raise
    for ctx in contexts.values():
        ctx.__exit__(None, None, None)
    names = [runlib.variant_name(c, s) for c, s in variants]
    runlib.update_manifest(run_dir, variants=names)
    return {
        "variants": len(variants),
        "rows_per_model": len(variants) * len(labels),
        # Time spent waiting for the corruptions (they overlap the predictions).
        "corrupt_seconds": round(corrupt_seconds, 2),
        "predict_seconds": {k: round(v, 2) for k, v in seconds.items()},
        "runtimes": {k: _runtime(m) for k, m in models.items()},
    }


def _runtime(model: Any) -> str:
    from mnistlab.models.runtime import resolve_runtime

    runtime = getattr(model, "runtime", None)
    return str(model.kind) if runtime is None else resolve_runtime(runtime)


def step_evaluate(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """Robustness tables and plots into ``eval/``."""
    from mnistlab.evaluate import evaluate

    sources = [run_dir / "preds" / f"{name}.parquet" for name in options.models]
    baseline = options.baseline if options.baseline in options.models else None
    tables = evaluate(sources, run_dir / "eval", baseline=baseline)
    summary = tables["mce"].set_index("model")
    return {
        name: {
            "clean_accuracy": _num(summary.loc[name, "clean_accuracy"]),
            "corrupted_accuracy": _num(summary.loc[name, "corrupted_accuracy"]),
            "mce": _num(summary.loc[name, "mce"]),
            "relative_mce": _num(summary.loc[name, "relative_mce"]),
        }
        for name in summary.index
    }


def step_morpho(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """Morphometrics of every clean test image into ``morpho.parquet``."""
    from mnistlab.morpho import measure

    images = np.asarray(runlib.clean_images(run_dir))
    table = measure(
        images,
        workers=options.workers,
        executor=options.executor,
        progress=options.progress,
    )
    table = table.drop(columns=["index"])
    table.insert(0, "sample_id", np.arange(len(images), dtype=np.int64))
    runlib.write_table(run_dir, "morpho", table)
    medians = table.drop(columns=["sample_id"]).median()
    return {"rows": len(table), "medians": {k: _num(v) for k, v in medians.items()}}


def step_hardness(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """Scores and hard-sample analyses of every model (active learning for the first)."""
    from mnistlab.scores import analyze_run

    info: dict[str, Any] = {}
    for k, name in enumerate(options.models):
        active = options.active_learning and k == 0
        paths = analyze_run(
            run_dir,
            model=name,
            active_learning=active,
            al_epochs=1 if options.quick else 2,
            al_budget=100 if options.quick else 1000,
            al_train_subset=options.train_size or (2000 if options.quick else 10000),
            progress=options.progress,
        )
        info[name] = sorted(paths)
    return info


def step_fmnist_c(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """The Fashion-MNIST-C protocol (``--fmnist-c``): train on its train split, rank its test."""
    if not options.fmnist_c:
        return {"skipped": "not asked for (--fmnist-c)"}
    from mnistlab.models import get_spec, load_model, model_names
    from mnistlab.scores.fmnist_c import fmnist_c_prioritization
    from mnistlab.workflows.study_models import trained_names

    registered = [m for m in trained_names(options) if m in model_names()]
    trainer = next((m for m in registered if get_spec(m).kind == "torch"), "cnn")
    clean = {name: load_model(run_dir / "models" / name) for name in trained_names(options)}
    return fmnist_c_prioritization(
        run_dir,
        dataset=options.dataset,
        clean_models=clean,
        trainer=trainer,
        epochs=options.epochs,
        seed=options.seed,
        train_size=options.train_size,
        test_size=options.test_size,
        compat=options.compat,
        workers=options.workers,
        executor=options.executor,
        data_dir=options.data_dir,
        progress=options.progress,
    )


def _num(value: Any) -> float | None:
    v = float(value)
    return None if np.isnan(v) else round(v, 6)


def _step_embed(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    from mnistlab.report.steps import step_embed

    return step_embed(run_dir, options)


def _step_compare(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    from mnistlab.workflows.compare import step_compare

    return step_compare(run_dir, options)


def _step_report(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    from mnistlab.report.steps import step_report

    return step_report(run_dir, options)


#: The ordered steps of ``mnistlab study``; extend with :func:`add_step`.
STEPS: list[Step] = [
    Step("data", step_data, "clean test split and its hashes"),
    Step("train", step_train, "train or reuse the models"),
    Step("predict", step_predict, "every corruption x severity, predicted by every model"),
    Step("evaluate", step_evaluate, "robustness tables and plots"),
    Step("morpho", step_morpho, "morphometrics of the clean test images"),
    Step("hardness", step_hardness, "per-sample scores, prioritisation, hard samples"),
    Step("compare", _step_compare, "leaderboard with CIs, paired tests, seen/unseen families"),
    Step("fmnist-c", step_fmnist_c, "train on Fashion-MNIST-C train, prioritise its test split"),
    Step("embed", _step_embed, "2-D embeddings of the CNN's features"),
    Step("report", _step_report, "RUN/report.html"),
]


def add_step(name: str, fn: StepFn, *, after: str | None = None, description: str = "") -> None:
    """Add (or replace) a step; it runs after step ``after`` (default: last)."""
    existing = [i for i, s in enumerate(STEPS) if s.name == name]
    for i in reversed(existing):
        del STEPS[i]
    step = Step(name, fn, description)
    if after is None:
        STEPS.append(step)
        return
    positions = [i for i, s in enumerate(STEPS) if s.name == after]
    if not positions:
        raise MnistlabError(f"no study step {after!r} (have: {', '.join(s.name for s in STEPS)})")
    STEPS.insert(positions[0] + 1, step)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in (
        "numpy",
        "scipy",
        "torch",
        "scikit-learn",
        "pandas",
        "pyarrow",
        "onnxruntime",
        "mnistlab",
    ):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out


def run_study(
    out: str | Path,
    options: StudyOptions | None = None,
    *,
    steps: list[str] | None = None,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the study into the run directory ``out``; returns the run manifest.

    Parameters
    ----------
    out : path-like
        Run directory (created).
    options : StudyOptions
        What to run (default: the full Fashion-MNIST study).
    steps : list of str, optional
        Only these steps (default: all of :data:`STEPS`, in order).
    force : bool
        Re-run steps already done.
    log : callable, optional
        Receives one line per step (``print`` in the CLI).

    Examples
    --------
    >>> manifest = run_study("runs/quick", StudyOptions(quick=True))  # doctest: +SKIP
    >>> manifest["steps"]["evaluate"]["done"]  # doctest: +SKIP
    True
    """
    from mnistlab._output import check_replace
    from mnistlab._validate import check_study
    from mnistlab.workflows.study_models import with_model_names

    opts = with_model_names((options or StudyOptions()).resolved())
    run_dir = Path(out)
    # Every name and number first: a bad one leaves no run folder and trains nothing.
    check_study(opts, steps, [s.name for s in STEPS])
    check_replace(run_dir, "run", overwrite=True, what="")  # resume a run, never a user folder
    run_dir.mkdir(parents=True, exist_ok=True)
    known = [s.name for s in STEPS]
    if steps is not None:
        unknown = [s for s in steps if s not in known]
        if unknown:
            raise MnistlabError(
                f"unknown study step(s) {', '.join(unknown)} (have: {', '.join(known)})"
            )
    previous = runlib.read_manifest(run_dir)
    recorded = previous.get("options")
    current = {
        k: v for k, v in asdict(opts).items() if k not in ("progress", "executor", "workers")
    }
    current = _plain(current)
    if recorded is not None and recorded != current and not force:
        changed = sorted(k for k in current if recorded.get(k) != current[k])
        raise MnistlabError(
            f"{run_dir}: was run with other options ({', '.join(changed)} differ); "
            "use a new --out folder or --force"
        )
    runlib.update_manifest(
        run_dir,
        dataset=opts.dataset,
        seed=opts.seed,
        compat=opts.compat,
        quick=opts.quick,
        options=current,
        versions=_versions(),
    )
    say = log or (lambda _line: None)
    from mnistlab.execution import execution

    # One worker pool for every step of the study (started on first use, warm caches).
    with execution(opts.executor, opts.workers):
        for step in STEPS:
            if steps is not None and step.name not in steps:
                continue
            if not force and runlib.step_done(run_dir, step.name):
                say(f"{step.name}: done already, reused")
                continue
            start = time.perf_counter()
            info = step.fn(run_dir, opts)
            seconds = time.perf_counter() - start
            runlib.mark_step(run_dir, step.name, seconds, **{"info": info})
            say(f"{step.name}: {seconds:.1f} s")
    return runlib.read_manifest(run_dir)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
