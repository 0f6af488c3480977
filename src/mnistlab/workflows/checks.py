"""Checks of a study's names and numbers against the registries of the domain packages.

The generic checks (:func:`mnistlab._validate.check_name`, ``check_seed``...) are core and
import nothing of the domain packages; these need the dataset, corruption and model
registries, so they live in the workflows layer.

Examples
--------
>>> check_models(["cnn", "logreg"])
('cnn', 'logreg')
>>> check_corruptions(["fgo"])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mnistlab.errors.MnistlabError: unknown corruption 'fgo' (did you mean 'fog'?...
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mnistlab._validate import (
    check_int,
    check_name,
    check_names,
    check_positive,
    check_seed,
    suggest,
)
from mnistlab.errors import MnistlabError

__all__ = ["check_corruptions", "check_dataset", "check_models", "check_study"]


def check_dataset(name: Any, what: str = "dataset") -> None:
    """A registered dataset name or an existing folder (its files are checked when loaded)."""
    import os

    from mnistlab.data import registry

    if isinstance(name, (str, os.PathLike)) and os.path.exists(os.fspath(name)):
        return
    if isinstance(name, str) and name in registry.names():
        return
    raise MnistlabError(
        f"unknown {what} {str(name)!r}: not a folder, nor a registered dataset"
        f"{suggest(str(name), registry.names())}"
    )


def check_corruptions(values: Iterable[str], what: str = "corruption") -> tuple[str, ...]:
    """Registered corruption names (aliases resolve), each once."""
    from mnistlab.corrupt import get, names

    resolved = []
    for value in values:
        try:
            resolved.append(get(value).name)
        except MnistlabError:
            check_name(value, names(), what)
            raise
    return check_names(resolved, resolved, what)


def check_models(values: Iterable[str], what: str = "model") -> tuple[str, ...]:
    """Registered classifier names, each once (a generative model, ``vae`` or ``gan``, is
    studied by ``mnistlab diversity`` and ``disentangle``, not by a study).

    >>> check_models(["vae"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: model 'vae' is a generative model: ...
    """
    from mnistlab.models.base import get_spec, model_names

    names = check_names(values, model_names(), what)
    for name in names:
        if get_spec(name).kind == "generative":
            raise MnistlabError(
                f"{what} {name!r} is a generative model: a study evaluates classifiers "
                "(see 'mnistlab diversity' and 'mnistlab disentangle')"
            )
    return names


def check_study(options: Any, steps: Sequence[str] | None, known_steps: Sequence[str]) -> None:
    """Every name and number of a study, checked before the run folder is touched.

    ``options`` is a :class:`mnistlab.workflows.study.StudyOptions`. The mCE needs its
    baseline among the models: a baseline that is not trained is an error (when the evaluate
    step runs), never a silently missing mCE.
    """
    from mnistlab.corrupt.registry import resolve_compat
    from mnistlab.parallel import EXECUTORS

    if steps is not None:
        if not steps:
            raise MnistlabError("steps: give at least one step")
        check_names(steps, known_steps, "study step")
    check_dataset(options.dataset)
    check_seed(options.seed)
    for name in ("epochs", "train_size", "test_size", "workers"):
        check_positive(getattr(options, name), name.replace("_", "-"))
    if options.corruptions is not None:
        if not options.corruptions:
            raise MnistlabError("corruptions: give at least one name")
        check_corruptions(options.corruptions)
    for severity in options.severities:
        check_int(severity, "severity", minimum=1, maximum=5)
    if not options.models:
        raise MnistlabError("models: give at least one model")
    from mnistlab.workflows.study_models import check_study_models

    models = check_study_models(options)  # registered names, model files, <cnn>-aug
    if options.baseline is not None and options.baseline not in models:
        raise MnistlabError(  # with_model_names adds a registered or file baseline
            f"baseline {options.baseline!r} is not among the models ({', '.join(models)})"
        )
    resolve_compat(options.compat)
    check_name(options.executor, EXECUTORS, "executor")
