"""Model commands: train, predict, evaluate, benchmark, study."""

from pathlib import Path
from typing import Annotated

import typer

from mnistlab.cli import _app as opts

_MODELS = "cnn, tip-cnn, logreg, rf, knn, mlp, svc, gb; generative: vae, gan"
_STUDY_MODELS = (
    "a,b: registered (trained), [NAME=]FILE: .onnx, model folders, logits (.npy V x N x C, table)."
)
_BASELINE = "mCE baseline: auto (logreg if among --models), a model, RUN/preds/M.parquet, none."
_PER_MODEL = "Input of model files: VALUE, or NAME=VALUE,... per model; "


def _preprocess(**given: str | None) -> tuple[tuple[str, tuple[tuple[str, object], ...]], ...]:
    """``--scale 1,mine=0.5`` ... as StudyOptions.preprocess: per model name (``*``: all)."""
    from mnistlab._validate import parse_assignments

    table: dict[str, dict[str, object]] = {}
    for option, value in given.items():
        convert = str if option == "layout" else float
        for name, v in parse_assignments(value, convert, f"--{option}").items():
            table.setdefault(name, {})[option] = v
    return tuple((name, tuple(sorted(v.items()))) for name, v in sorted(table.items()))


@opts.command("train", writes="model", inputs=("name",))
def train_cmd(
    name: str = typer.Argument(..., help="Dataset name or IDX folder (its train split)."),
    model: str = typer.Option("cnn", "--model", "-m", help=_MODELS),
    out: Path = opts.out_option("Model folder (new, empty, or a previous model)."),
    epochs: opts.Epochs = None,
    seed: opts.Seed = 0,
    train_size: opts.TrainSize = None,
    onnx: Path | None = typer.Option(None, "--onnx", help="Also export to this .onnx file."),
    data_dir: opts.DataDir = None,
    progress: opts.Progress = True,
    precision: str = typer.Option("auto", "--precision", help="auto (bf16 if native), bf16, fp32."),
    augment: opts.Augment = None,
    augment_p: opts.AugmentP = 0.5,
    augment_workers: int = typer.Option(0, "--augment-workers", min=0, help="Loader workers."),
    latent_dim: Annotated[int | None, opts.count("--latent-dim", "vae, gan: code size.")] = None,
    overwrite: opts.Overwrite = False,
) -> None:
    """Train a model on the train split, score it on the test split and save it to a folder."""
    from mnistlab.workflows.train import train_on_dataset, train_options

    options = train_options(  # unknown names and options fail before the data is read
        model, precision=precision, augment=augment, augment_p=augment_p,
        augment_workers=augment_workers, latent_dim=latent_dim,
    )  # fmt: skip
    opts.check_out(onnx, "onnx", name, out, data_dir=data_dir, overwrite=overwrite,
                   file=(".onnx",), what="--onnx")  # fmt: skip
    fitted = train_on_dataset(
        name, model, options, epochs=epochs, seed=seed, train_size=train_size,
        data_dir=data_dir, progress=progress, out=out, onnx=onnx,
    )  # fmt: skip
    acc, seconds = fitted.manifest["accuracy"], fitted.manifest["training_seconds"]
    # A generative model has no accuracy: its manifest's one-line summary instead.
    score = f"test accuracy {acc:.4f}" if acc is not None else fitted.manifest["summary"]
    typer.echo(f"{model}: {score}, trained in {seconds:.1f} s -> {out}")


@opts.command("predict", writes="predict", inputs=("model", "data"), file=(".parquet",))
def predict_cmd(
    model: Path = typer.Argument(..., help="Model folder, .onnx, or logits (.npy/.csv/.parquet)."),
    data: str = typer.Argument(..., help="Dataset, IDX folder, or a corrupt/perturb folder."),
    out: Path = opts.out_option("Predictions table (.parquet)."),
    split: str = typer.Option("test", "--split", help="Split to predict."),
    layout: opts.InputLayout = None,
    scale: opts.InputScale = None,
    mean: opts.InputMean = None,
    std: opts.InputStd = None,
    scores: str = typer.Option("auto", "--scores", help="Logits file holds: auto, logits, proba."),
    name: str | None = typer.Option(None, "--name", help="Value of the 'model' column."),
    executor: opts.Executor = "serial",
    workers: opts.Workers = None,
    progress: opts.Progress = True,
) -> None:
    """Predict every variant of DATA: one row per (variant, sample), logits and probabilities."""
    from mnistlab.execution import Execution
    from mnistlab.models.predict import iter_predictions, resolve_model, write_predictions

    job = Execution(executor, workers, progress=progress)
    fitted = resolve_model(model, layout=layout, scale=scale, mean=mean, std=std, scores=scores)
    rows = iter_predictions(fitted, data, split=split, model_name=name, execution=job)
    path, n = write_predictions(out, rows)
    typer.echo(f"{n} predictions -> {path}")


@opts.command("evaluate", writes="evaluate", inputs=("preds", "baseline"))
def evaluate_cmd(
    preds: list[Path] = typer.Argument(..., help="Predictions tables (from 'mnistlab predict')."),
    out: Path = opts.out_option("Output folder for tables and plots."),
    baseline: str | None = typer.Option(None, "--baseline", help="mCE baseline: file or model."),
    bins: int = typer.Option(15, "--bins", min=1, help="Bins of the expected calibration error."),
) -> None:
    """Robustness: accuracy per corruption x severity, drop, mCE, ECE, per-class accuracy."""
    from mnistlab.workflows.evaluate import evaluate_into, summary_lines

    tables = evaluate_into(preds, out, baseline=baseline, n_bins=bins)
    typer.echo("\n".join([*summary_lines(tables["mce"]), f"tables and plots -> {out}"]))


@opts.command("benchmark", writes="benchmark", inputs=("name",))
def benchmark_cmd(
    name: str = typer.Argument("fashion-mnist", help="Dataset name or IDX folder."),
    out: Path = opts.out_option("Folder of results.jsonl, results.md, results.png (the cache)."),
    models: str | None = typer.Option(None, "--models", help="Classifiers, a,b (default: all)."),
    train_size: opts.TrainSize = None,
    test_size: opts.TestSize = None,
    seed: opts.Seed = 0,
    data_dir: opts.DataDir = None,
    overwrite: opts.Overwrite = False,
) -> None:
    """Grid of scikit-learn classifiers: accuracy and training time per config (cached).

    An existing benchmark folder is reused as a cache; --overwrite starts it afresh.
    """
    from mnistlab.workflows.benchmark import run_benchmark

    table = run_benchmark(
        name, out, models=opts.parse_list(models), train_size=train_size, test_size=test_size,
        seed=seed, data_dir=data_dir, log=typer.echo, overwrite=overwrite,
    )  # fmt: skip
    clf, params, acc = table.iloc[0][["classifier", "params", "accuracy"]]
    typer.echo(f"best: {clf} {params} {acc:.4f} -> {out / 'results.md'}")


@opts.command("study", writes="run", inputs=("dataset",))
def study_cmd(
    out: Path = opts.out_option("Run directory (runs/NAME)."),
    dataset: str = typer.Option("fashion-mnist", "--dataset", help="Dataset name or IDX folder."),
    quick: bool = typer.Option(False, "--quick", help="2,000 train / 500 test images, 3 epochs."),
    seed: opts.Seed = 0,
    corruptions: str | None = typer.Option(None, "--corruptions", help="a,b (default: all)."),
    epochs: opts.Epochs = None,
    models: str = typer.Option("cnn,logreg", "--models", help=_STUDY_MODELS),
    baseline: str = typer.Option("auto", "--baseline", help=_BASELINE),
    layout: str | None = typer.Option(None, "--layout", help=_PER_MODEL + "NCHW, NHWC, ..."),
    scale: str | None = typer.Option(None, "--scale", help=_PER_MODEL + "pixels * scale."),
    mean: str | None = typer.Option(None, "--mean", help=_PER_MODEL + "(x - mean) / std."),
    std: str | None = typer.Option(None, "--std", help=_PER_MODEL + "(x - mean) / std."),
    compat: str | None = typer.Option(None, "--compat", help="Corruption compat mode (mnist-c)."),
    steps: str | None = typer.Option(None, "--steps", help="Only these steps (a,b)."),
    force: bool = typer.Option(False, "--force", help="Re-run steps already done."),
    executor: opts.Executor = "local",
    workers: opts.Workers = None,
    data_dir: opts.DataDir = None,
    progress: opts.Progress = True,
    active_learning: bool = typer.Option(False, "--active-learning", help="Also active learning."),
    fmnist_c: bool = typer.Option(False, "--fmnist-c", help="Also the Fashion-MNIST-C protocol."),
    augment: str | None = typer.Option(None, "--augment", help="Also <cnn>-aug on these (a,b)."),
    augment_p: opts.AugmentP = 0.5,
    overwrite: opts.Overwrite = False,
) -> None:
    """The main job: train, corrupt, predict, evaluate, measure, score, embed, report.

    An existing run is resumed (finished steps are reused); --overwrite, like --force,
    re-runs every step and replaces its outputs. A folder that is not a run is refused.
    """
    from mnistlab.workflows.study import StudyOptions, run_study, summary_lines

    options = StudyOptions(
        dataset=dataset, seed=seed, quick=quick, corruptions=opts.parse_list(corruptions) or None,
        epochs=epochs, models=opts.parse_list(models) or (), baseline=baseline, compat=compat,
        executor=executor, workers=workers, data_dir=str(data_dir) if data_dir else None,
        progress=progress, active_learning=active_learning, fmnist_c=fmnist_c,
        augment=opts.parse_list(augment) or None, augment_p=augment_p,
        preprocess=_preprocess(layout=layout, scale=scale, mean=mean, std=std),
    )  # fmt: skip
    manifest = run_study(out, options, steps=opts.parse_list(steps), force=force or overwrite,
                         log=typer.echo)  # fmt: skip
    reported = manifest.get("steps", {}).get("report", {}).get("done")
    where = f"  (report: {out / 'report.html'})" if reported else ""
    typer.echo("\n".join([*summary_lines(manifest), f"run -> {out}{where}"]))
