"""The steps of :func:`mnistlab.workflows.study.run_study`: data, train, predict, evaluate,
morpho, hardness, compare, fmnist-c, embed, report.

Each step is ``fn(run_dir, options) -> info`` (``info`` goes into the run manifest); the
study decides their order and resumption. They compose the domain packages and write only
inside the run directory, at the paths :class:`mnistlab.run.RunLayout` names.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnistlab import run as runlib
from mnistlab._atomic import atomic_path

if TYPE_CHECKING:
    from mnistlab.workflows.study import StudyOptions


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
    _save_npy(runlib.RunLayout(run_dir).test_images, np.ascontiguousarray(test.images))
    _save_npy(runlib.RunLayout(run_dir).test_labels, np.ascontiguousarray(test.labels))
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
        folder = runlib.RunLayout(run_dir).model(name)
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
    images: np.ndarray, ids: np.ndarray, name: str, severity: int, seed: int, compat: str | None
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
    from mnistlab.parallel import map_chunks

    clean = np.asarray(runlib.clean_images(run_dir))
    ids = np.arange(len(clean), dtype=np.int64)
    by_corruption: dict[str, list[int]] = {}
    for corruption, severity in variants:
        by_corruption.setdefault(corruption, []).append(severity)
    groups = list(by_corruption.items())
    half = max(1, -(-len(clean) // 2))

    def submit(k: int) -> Any:
        if k >= len(groups) or groups[k][0] == "identity":
            return None
        corruption, severities = groups[k]
        return [
            map_chunks(
                _corrupt_task,
                len(clean),
                job,
                arrays=(clean, ids),
                args=(corruption, s, options.seed, options.compat),
                chunk_size=half,
                lazy=True,
            )
            for s in severities
        ]

    with execution(options.executor, options.workers) as job:
        pending = submit(0)
        for k, (corruption, severities) in enumerate(groups):
            if corruption == "identity":
                pending = submit(k + 1)
                yield corruption, 0, clean
                continue
            results = [list(r) for r in pending]
            pending = submit(k + 1)  # the workers start on it now
            for s, parts in zip(severities, results, strict=True):
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
    from mnistlab.workflows.study import study_variants

    variants = study_variants(options)
    labels = runlib.clean_labels(run_dir)
    class_names = runlib.read_manifest(run_dir).get("class_names") or [
        str(i) for i in range(int(labels.max()) + 1)
    ]
    from mnistlab.workflows.study_models import for_variant, load_study_model

    models = {name: load_study_model(run_dir, name, options) for name in options.models}
    paths = {name: runlib.RunLayout(run_dir).preds(name) for name in models}
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
    from mnistlab.workflows.evaluate import evaluate_predictions as evaluate
    from mnistlab.workflows.study_models import display_order

    sources = [runlib.RunLayout(run_dir).preds(name) for name in display_order(options)]
    baseline = options.baseline if options.baseline in options.models else None
    tables = evaluate(sources, runlib.RunLayout(run_dir).eval, baseline=baseline)
    summary = tables["mce"].set_index("model")
    sanity = tables["sanity"].set_index("model")
    return {
        name: {
            "clean_accuracy": _num(summary.loc[name, "clean_accuracy"]),
            "corrupted_accuracy": _num(summary.loc[name, "corrupted_accuracy"]),
            "mce": _num(summary.loc[name, "mce"]),
            "relative_mce": _num(summary.loc[name, "relative_mce"]),
            **(
                {"warning": f"likely preprocessing mistake: {sanity.loc[name, 'reason']}"}
                if name in sanity.index and bool(sanity.loc[name, "suspect"])
                else {}
            ),
        }
        for name in summary.index
    }


def step_morpho(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """Morphometrics of every clean test image into ``morpho.parquet``."""
    from mnistlab.morpho import measure

    images = np.asarray(runlib.clean_images(run_dir))
    table = measure(images, execution=options.execution())
    table = table.drop(columns=["index"])
    table.insert(0, "sample_id", np.arange(len(images), dtype=np.int64))
    runlib.write_table(run_dir, "morpho", table)
    medians = table.drop(columns=["sample_id"]).median()
    return {"rows": len(table), "medians": {k: _num(v) for k, v in medians.items()}}


def step_hardness(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    """Scores and hard-sample analyses of every model (active learning for the first)."""
    from mnistlab.workflows.hardness import analyze_run

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
    from mnistlab.workflows.fmnist_c import fmnist_c_prioritization
    from mnistlab.workflows.study_models import trained_names

    registered = [m for m in trained_names(options) if m in model_names()]
    trainer = next((m for m in registered if get_spec(m).kind == "torch"), "cnn")
    layout = runlib.RunLayout(run_dir)
    clean = {name: load_model(layout.model(name)) for name in trained_names(options)}
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
        data_dir=options.data_dir,
        execution=options.execution(),
    )


def _num(value: Any) -> float | None:
    v = float(value)
    return None if np.isnan(v) else round(v, 6)


def _step_embed(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    from mnistlab.workflows.report_steps import step_embed

    return step_embed(run_dir, options)


def _step_compare(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    from mnistlab.workflows.compare import step_compare

    return step_compare(run_dir, options)


def _step_report(run_dir: Path, options: StudyOptions) -> dict[str, Any]:
    from mnistlab.workflows.report_steps import step_report

    return step_report(run_dir, options)
