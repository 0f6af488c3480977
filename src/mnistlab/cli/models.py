"""Model commands: train, predict, evaluate, benchmark, study."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mnistlab.cli._app import (
    Augment,
    AugmentP,
    DataDir,
    Overwrite,
    Progress,
    TestSize,
    TrainSize,
    Workers,
    app,
    check_out,
    dataset_path,
    parse_list,
)


@app.command("train")
def train_cmd(
    name: str = typer.Argument(
        ..., help="Dataset name or folder of IDX files (its train split is used)."
    ),
    model: str = typer.Option(
        "cnn", "--model", "-m", help="cnn, tip-cnn, logreg, rf, knn, mlp, svc, gb."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Model folder to write (new, empty, or a previous model)."
    ),
    epochs: int | None = typer.Option(
        None, "--epochs", help="Epochs (or iteration cap); default per model."
    ),
    seed: int = typer.Option(
        0, "--seed", min=0, help="Seed of weights, data order and augmentation."
    ),
    train_size: TrainSize = None,
    onnx: Path | None = typer.Option(
        None, "--onnx", help="Also export a PyTorch model to this .onnx file."
    ),
    data_dir: DataDir = None,
    progress: Progress = True,
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="PyTorch models: auto (bf16 where the CPU has it natively), bf16 or fp32.",
    ),
    augment: Augment = None,
    augment_p: AugmentP = 0.5,
    augment_workers: int = typer.Option(
        0, "--augment-workers", min=0, help="With --augment: DataLoader workers (same weights)."
    ),
    overwrite: Overwrite = False,
) -> None:
    """Train a model on the train split, score it on the test split and save it to a folder."""
    from mnistlab._validate import check_positive, check_seed
    from mnistlab.errors import MnistlabError
    from mnistlab.models import export_onnx
    from mnistlab.workflows.train import train_on_dataset, train_options

    options = train_options(  # unknown names and options fail before the data is read
        model,
        precision=precision,
        augment=augment,
        augment_p=augment_p,
        augment_workers=augment_workers,
    )
    check_seed(seed, "--seed")
    check_positive(epochs, "--epochs")
    check_positive(train_size, "--train-size")
    source = dataset_path(name, data_dir)
    check_out(out, "model", source, overwrite=overwrite)
    if onnx is not None:
        if onnx.suffix.lower() != ".onnx":
            raise MnistlabError(f"--onnx {onnx}: must end with .onnx")
        check_out(onnx, "onnx", source, out, overwrite=overwrite, file=True, what="--onnx")
    fitted = train_on_dataset(
        name,
        model,
        options,
        epochs=epochs,
        seed=seed,
        train_size=train_size,
        data_dir=data_dir,
        progress=progress,
    )
    fitted.save(out)
    if onnx is not None:
        export_onnx(fitted, onnx)
    acc = fitted.manifest.get("accuracy")
    typer.echo(
        f"{model}: test accuracy {acc:.4f}, "
        f"trained in {fitted.manifest['training_seconds']:.1f} s -> {out}"
    )


@app.command("predict")
def predict_cmd(
    model: Path = typer.Argument(
        ..., help="Saved model folder, .onnx file, or logits file (.npy/.csv/.parquet)."
    ),
    data: str = typer.Argument(
        ..., help="Dataset name, IDX folder, or folder written by corrupt/perturb."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Predictions table (.parquet)."),
    split: str = typer.Option("test", "--split", help="Split to predict."),
    layout: str = typer.Option(
        "NCHW", "--layout", help="ONNX input layout: NCHW, NHWC, NHW or flat."
    ),
    scale: float = typer.Option(1 / 255, "--scale", help="ONNX input scale (pixels * scale)."),
    scores: str = typer.Option(
        "auto", "--scores", help="Logits file holds: auto, logits or proba."
    ),
    name: str | None = typer.Option(None, "--name", help="Value of the 'model' column."),
    executor: str = typer.Option("serial", "--executor", help="serial, local or dask."),
    workers: Workers = None,
    progress: Progress = True,
    overwrite: Overwrite = False,
) -> None:
    """Predict every variant of DATA: one row per (variant, sample), logits and probabilities."""
    from mnistlab._validate import check_name, check_positive
    from mnistlab.errors import MnistlabError
    from mnistlab.models.predict import iter_predictions, resolve_model, write_predictions
    from mnistlab.parallel import EXECUTORS

    if out.suffix.lower() != ".parquet":
        raise MnistlabError(f"--out {out}: predictions are written as .parquet")
    check_name(executor, EXECUTORS, "--executor")
    check_positive(workers, "--workers")
    check_out(out, "predict", model, dataset_path(data, None), overwrite=overwrite, file=True)
    fitted = resolve_model(model, layout=layout, scale=scale, scores=scores)
    path, rows = write_predictions(
        out,
        iter_predictions(
            fitted,
            data,
            split=split,
            model_name=name,
            executor=executor,
            workers=workers,
            progress=progress,
        ),
    )
    typer.echo(f"{rows} predictions -> {path}")


@app.command("evaluate")
def evaluate_cmd(
    preds: list[Path] = typer.Argument(
        ..., help="Predictions tables (.parquet from 'mnistlab predict')."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for tables and plots."),
    baseline: str | None = typer.Option(
        None,
        "--baseline",
        help="Baseline for mCE: a predictions file or a model name (default: logreg if present).",
    ),
    bins: int = typer.Option(15, "--bins", min=1, help="Bins of the expected calibration error."),
    overwrite: Overwrite = False,
) -> None:
    """Robustness: accuracy per corruption x severity, drop, mCE, ECE, per-class accuracy."""
    from mnistlab._atomic import atomic_dir
    from mnistlab.workflows.evaluate import evaluate_predictions as evaluate

    base_name, base_source = None, None
    if baseline is not None:
        if Path(baseline).suffix.lower() == ".parquet" or Path(baseline).is_file():
            base_source = Path(baseline)
        else:
            base_name = baseline
    check_out(out, "evaluate", *preds, base_source, overwrite=overwrite)
    with atomic_dir(out, "evaluate") as tmp:
        tables = evaluate(preds, tmp, baseline=base_name, baseline_source=base_source, n_bins=bins)
    summary = tables["mce"]
    for row in summary.to_dict("records"):
        mce = (
            ""
            if row["mce"] != row["mce"]
            else f", mCE {row['mce']:.1f}, relative mCE {row['relative_mce']:.1f}"
        )
        typer.echo(
            f"{row['model']}: clean {row['clean_accuracy']:.4f}, "
            f"corrupted {row['corrupted_accuracy']:.4f}{mce}"
        )
    typer.echo(f"tables and plots -> {out}")


@app.command("benchmark")
def benchmark_cmd(
    name: str = typer.Argument("fashion-mnist", help="Dataset name or IDX folder."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder of results.jsonl, results.md, results.png."
    ),
    models: str | None = typer.Option(
        None, "--models", help="Comma-separated classifiers (default: all)."
    ),
    train_size: Annotated[
        int | None, typer.Option("--train-size", min=1, help="First N train images only.")
    ] = None,
    test_size: TestSize = None,
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the randomised classifiers."),
    data_dir: DataDir = None,
    overwrite: Overwrite = False,
) -> None:
    """Grid of scikit-learn classifiers: accuracy and training time per config (cached).

    An existing benchmark folder is reused as a cache; --overwrite starts it afresh.
    """
    import shutil

    from mnistlab._output import output_kind, write_marker
    from mnistlab._validate import check_seed
    from mnistlab.workflows.benchmark import run_benchmark

    check_seed(seed, "--seed")
    check_out(out, "benchmark", dataset_path(name, data_dir), overwrite=True)
    if overwrite and output_kind(out) == "benchmark":
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_marker(out, "benchmark")

    table = run_benchmark(
        name,
        out,
        models=parse_list(models),
        train_size=train_size,
        test_size=test_size,
        seed=seed,
        data_dir=str(data_dir) if data_dir else None,
        log=typer.echo,
    )
    best = table.iloc[0]
    typer.echo(
        f"best: {best['classifier']} {best['params']} {best['accuracy']:.4f} "
        f"-> {out / 'results.md'}"
    )


@app.command("study")
def study_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Run directory (runs/NAME)."),
    dataset: str = typer.Option("fashion-mnist", "--dataset", help="Dataset name or IDX folder."),
    quick: bool = typer.Option(
        False, "--quick", help="Small version: 2,000 train / 500 test images, 3 epochs."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of training and corruptions."),
    corruptions: str | None = typer.Option(
        None, "--corruptions", help="Comma-separated (default: all)."
    ),
    epochs: int | None = typer.Option(
        None, "--epochs", min=1, help="CNN epochs (default: the recipe's)."
    ),
    models: str = typer.Option(
        "cnn,logreg",
        "--models",
        help="Comma-separated: registered models (trained) and model files (.onnx, a saved "
        "model folder, or logits of every variant: .npy V x N x C or a predictions table).",
    ),
    baseline: str = typer.Option("logreg", "--baseline", help="Baseline model of the mCE."),
    compat: str | None = typer.Option(None, "--compat", help="Corruption compat mode (mnist-c)."),
    steps: str | None = typer.Option(None, "--steps", help="Only these steps (comma-separated)."),
    force: bool = typer.Option(False, "--force", help="Re-run steps already done."),
    executor: str = typer.Option(
        "local", "--executor", help="serial, local or dask (corruptions)."
    ),
    workers: Workers = None,
    data_dir: DataDir = None,
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    active_learning: bool = typer.Option(
        False, "--active-learning", help="Also simulate active learning (first model; slow)."
    ),
    fmnist_c: bool = typer.Option(
        False,
        "--fmnist-c",
        help="Also train the CNN on the Fashion-MNIST-C train split and rank its test split.",
    ),
    augment: str | None = typer.Option(
        None,
        "--augment",
        help="Also train <cnn>-aug on these corruption families/names (held-out protocol).",
    ),
    augment_p: AugmentP = 0.5,
    overwrite: Overwrite = False,
) -> None:
    """The main job: train, corrupt, predict, evaluate, measure, score, embed, report.

    An existing run folder is resumed (finished steps are reused); --overwrite (like
    --force) re-runs every step and replaces its outputs. A folder that is not a run is
    refused.
    """
    from mnistlab.workflows.study import StudyOptions, run_study

    check_out(out, "run", dataset_path(dataset, data_dir), overwrite=True)
    force = force or overwrite

    options = StudyOptions(
        dataset=dataset,
        seed=seed,
        quick=quick,
        corruptions=tuple(parse_list(corruptions) or ()) or None,
        epochs=epochs,
        models=tuple(parse_list(models) or ()),
        baseline=baseline,
        compat=compat,
        executor=executor,
        workers=workers,
        data_dir=str(data_dir) if data_dir else None,
        progress=progress,
        active_learning=active_learning,
        fmnist_c=fmnist_c,
        augment=tuple(parse_list(augment) or ()) or None,
        augment_p=augment_p,
    )
    manifest = run_study(out, options, steps=parse_list(steps), force=force, log=typer.echo)
    evaluation = manifest.get("steps", {}).get("evaluate", {}).get("info", {})
    for model, info in evaluation.items():
        typer.echo(f"{model}: clean {info.get('clean_accuracy')}, mCE {info.get('mce')}")
    typer.echo(f"run -> {out}  (report: {out / 'report.html'})")
