"""``mnistlab study``: the main job, end to end, as an ordered list of resumable steps.

Each step is a function ``step(run_dir: Path, options: StudyOptions) -> dict`` that writes
its outputs (atomically) into the run directory and returns a small JSON-able dict stored
with the step in the run manifest. :func:`run_study` runs the steps in order and skips
those already recorded as done (:func:`mnistlab.run.step_done`), so a re-run resumes where
the last one stopped. Later stages add themselves with :func:`add_step`::

    from mnistlab.workflows.study import add_step

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
    Robustness tables and plots in ``eval/``
    (:func:`mnistlab.workflows.evaluate.evaluate_predictions`).
``morpho``
    Morpho-MNIST morphometrics of every clean test image in ``morpho.parquet``
    (:func:`mnistlab.morpho.measure`), keyed by ``sample_id``.
``hardness``
    Per-sample scores ``scores/<model>.parquet``, the prioritisation table and the hard-sample
    analyses in ``hardness/<model>/`` for every model
    (:func:`mnistlab.workflows.hardness.analyze_run`);
    with ``active_learning`` also ``active_learning/<model>/`` for the first model.
``fmnist-c``
    Only with ``fmnist_c``: the Fashion-MNIST-C layout of the dataset (train and test), the
    CNN trained on its corrupted train split, and the prioritisation of its corrupted test
    split by that CNN and by the run's clean-trained models, in ``fmnist-c/``
    (:func:`mnistlab.workflows.fmnist_c.fmnist_c_prioritization`).
``embed``
    2-D embeddings of the CNN's features (``embeddings/cnn.parquet``).
``report``
    The self-contained ``report.html`` (always last).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mnistlab import run as runlib
from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution

__all__ = [
    "QUICK_CORRUPTIONS",
    "STEPS",
    "Step",
    "StudyOptions",
    "add_step",
    "run_study",
    "study_variants",
    "summary_lines",
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
    #: The mCE's baseline: ``"auto"`` (``logreg`` when it is among the models, else none:
    #: nothing is trained for it), a registered model (trained as the baseline), a
    #: predictions table or model folder of an earlier run (``RUN/preds/logreg.parquet``),
    #: or None (no mCE).
    baseline: str | None = "auto"
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
    #: Names of the models given as Python objects (``run_study(models={...})``).
    model_objects: tuple[str, ...] = ()
    #: ``(name, ((option, value), ...))``: the input of a model file or object (``scale``,
    #: ``mean``, ``std``, ``layout``; :class:`mnistlab.models.wrap.Preprocess`); a name
    #: ``"*"`` applies to every one without its own.
    preprocess: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def execution(self) -> Execution:
        """The one :class:`~mnistlab.execution.Execution` the steps pass to heavy functions:
        ``executor``, ``workers`` and ``progress``.

        >>> job = StudyOptions(executor="serial", workers=2, progress=False).execution()
        >>> job.executor, job.workers, job.progress
        ('serial', 2, False)
        """
        return Execution(self.executor, self.workers, progress=self.progress)

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


from mnistlab.workflows.study_steps import (  # noqa: E402  (after StudyOptions)
    _step_compare,
    _step_embed,
    _step_report,
    step_data,
    step_evaluate,
    step_fmnist_c,
    step_hardness,
    step_morpho,
    step_predict,
    step_train,
)

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
    steps: Sequence[str] | None = None,
    force: bool = False,
    log: Callable[[str], None] | None = None,
    models: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the study into the run directory ``out``; returns the run manifest.

    Parameters
    ----------
    out : path-like
        Run directory (created).
    options : StudyOptions
        What to run (default: the full Fashion-MNIST study).
    models : mapping of str to model-like, optional
        Your own models, by name, beside those of ``options.models``: a PyTorch
        ``nn.Module``, a callable ``images -> logits or probabilities``, a scikit-learn
        estimator, a :class:`~mnistlab.models.Model`, or a file (anything
        :func:`mnistlab.models.wrap` takes; their input from ``options.preprocess``). They
        come first in every table, section and view. A network or estimator is saved into
        ``RUN/models/<name>/`` (a network as ONNX, with its preprocessing and sha256), so
        the run resumes without it; given again, it must predict as before.
    steps : sequence of str, optional
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
    from mnistlab.workflows.checks import check_study
    from mnistlab.workflows.study_models import (
        check_given_models,
        check_model_files,
        display_order,
        forget_given_models,
        import_given_models,
        resumed_objects,
        with_model_names,
    )

    run_dir = Path(out)
    objects = resumed_objects(run_dir, dict(models or {}))
    opts = with_model_names((options or StudyOptions()).resolved(), objects)
    # Every name and number first: a bad one leaves no run folder and trains nothing.
    check_study(opts, steps, [s.name for s in STEPS])
    # Every model file and object opened and tried: an unusable one leaves no run folder.
    given = check_model_files(opts, objects)
    check_replace(run_dir, "run", overwrite=True, what="")  # resume a run, never a user folder
    check_given_models(run_dir, given, force)  # a resume with a changed model is refused
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
    defaults = _plain(asdict(StudyOptions()))
    changed = sorted(k for k in current if (recorded or {}).get(k, defaults.get(k)) != current[k])
    if recorded is not None and changed and not force:
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
        models=display_order(opts),
    )
    import_given_models(run_dir, opts, given, log=log)
    say = log or (lambda _line: None)
    # A resumed run is trusted by its files: a step is done only while the files it recorded
    # are there with the same bytes, and once a step ran again with other results every later
    # step runs again too. A clean split or a predictions table that no longer matches the
    # manifest (edited by hand) makes the whole study run again.
    stale = force or not _consistent(run_dir)
    try:
        _run_steps(run_dir, opts, steps, stale, say)
    finally:
        forget_given_models(run_dir)
    return runlib.read_manifest(run_dir)


def _run_steps(
    run_dir: Path,
    opts: StudyOptions,
    steps: Sequence[str] | None,
    stale: bool,
    say: Callable[[str], None],
) -> None:
    from mnistlab.execution import execution

    # One worker pool for every step of the study (started on first use, warm caches).
    with execution(opts.executor, opts.workers):
        for step in STEPS:
            if steps is not None and step.name not in steps:
                continue
            if not stale and runlib.step_done(run_dir, step.name):
                say(f"{step.name}: done already, reused")
                continue
            previous = runlib.read_manifest(run_dir).get("steps", {}).get(step.name, {})
            before = runlib.snapshot(run_dir)
            start = time.perf_counter()
            info = step.fn(run_dir, opts)
            seconds = time.perf_counter() - start
            written = runlib.step_outputs(run_dir, before)
            earlier = previous.get("outputs") if isinstance(previous, dict) else None
            earlier = earlier if isinstance(earlier, dict) else {}
            stale = stale or not earlier or any(earlier.get(k) != v for k, v in written.items())
            kept = {k: v for k, v in earlier.items() if (run_dir / k).is_file()}
            runlib.mark_step(run_dir, step.name, seconds, {**kept, **written}, info=info)
            say(f"{step.name}: {seconds:.1f} s")


def _consistent(run_dir: Path) -> bool:
    """Whether the run's clean split and predictions still match its manifest."""
    try:
        runlib.check_run(run_dir, files=False)
    except MnistlabError:
        return False
    return True


def summary_lines(manifest: dict[str, Any]) -> list[str]:
    """One line per model evaluated by a study (its manifest): clean accuracy and mCE.

    >>> summary_lines({"steps": {"evaluate": {"info": {"cnn": {"clean_accuracy": 0.93,
    ...     "mce": 81.6}}}}})
    ['cnn: clean 0.93, mCE 81.6']
    """
    evaluation = manifest.get("steps", {}).get("evaluate", {}).get("info", {})
    order = [m for m in manifest.get("models") or [] if m in evaluation]
    order += [m for m in evaluation if m not in order]
    lines = []
    for model in order:
        info = evaluation[model]
        lines.append(f"{model}: clean {info.get('clean_accuracy')}, mCE {info.get('mce')}")
        if info.get("warning"):
            lines.append(f"{model}: {info['warning']}")
    return lines


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
