"""scikit-learn baselines on standardised pixels: logreg, rf, knn, mlp, svc, gb.

Each baseline is a :class:`sklearn.pipeline.Pipeline` (pixels / 255, then
:class:`~sklearn.preprocessing.StandardScaler`, then the classifier) with defaults chosen to
train in about a minute on 60,000 images and 2 cores. Models without ``predict_proba`` (the
kernel-approximated SVM) give their decision function as logits; the others give the log of
their probabilities (clipped at 1e-7), so ``softmax(logits)`` gives the probabilities back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._atomic import atomic_dir
from mnistlab.errors import MnistlabError
from mnistlab.models._common import accuracy_on, check_choice, register_trainers, training_data
from mnistlab.models.base import (
    MANIFEST,
    Model,
    data_sha256,
    register_loader,
    split_manifest,
)

__all__ = ["CLASSIFIERS", "SklearnModel", "make_pipeline", "train_sklearn"]

JOBLIB = "model.joblib"
PROB_FLOOR = 1e-7


def _logreg(seed: int, **kw: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**{"C": 0.1, "max_iter": 300, "tol": 1e-3, **kw})


def _rf(seed: int, **kw: Any) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**{"n_estimators": 100, "n_jobs": -1, "random_state": seed, **kw})


def _knn(seed: int, **kw: Any) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(**{"n_neighbors": 5, "weights": "distance", "n_jobs": -1, **kw})


def _mlp(seed: int, **kw: Any) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        **{
            "hidden_layer_sizes": (256,),
            "alpha": 1e-3,
            "batch_size": 256,
            "max_iter": 30,
            "early_stopping": True,
            "random_state": seed,
            **kw,
        }
    )


def _svc(seed: int, **kw: Any) -> Any:
    # An exact RBF SVC costs O(n^2) on 60k samples (tens of minutes); a Nystroem map of the
    # RBF kernel followed by a linear SVM gets close in about a minute.
    from sklearn.kernel_approximation import Nystroem
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    n_components = int(kw.pop("n_components", 1500))
    gamma = float(kw.pop("gamma", 1.0 / 784))
    return Pipeline(
        [
            ("rbf", Nystroem(gamma=gamma, n_components=n_components, random_state=seed)),
            ("svm", LinearSVC(**{"C": 0.1, "dual": False, "random_state": seed, **kw})),
        ]
    )


def _gb(seed: int, **kw: Any) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        **{
            "max_iter": 60,
            "learning_rate": 0.2,
            "early_stopping": False,
            "random_state": seed,
            **kw,
        }
    )


#: name -> (factory(seed, **params), description)
CLASSIFIERS: dict[str, tuple[Callable[..., Any], str]] = {
    "logreg": (_logreg, "logistic regression (lbfgs, C=0.1)"),
    "rf": (_rf, "random forest (100 trees)"),
    "knn": (_knn, "k-nearest neighbours (k=5, distance weights)"),
    "mlp": (_mlp, "multi-layer perceptron (256 hidden, Adam, early stopping)"),
    "svc": (_svc, "RBF SVM via a 1500-component Nystroem map + linear SVM"),
    "gb": (_gb, "histogram gradient boosting (60 rounds)"),
}


def make_pipeline(name: str, seed: int = 0, **params: Any) -> Any:
    """The scikit-learn pipeline of baseline ``name`` (scaling + classifier), unfitted."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    check_choice(name, CLASSIFIERS, "classifier")
    return Pipeline([("scale", StandardScaler()), ("clf", CLASSIFIERS[name][0](seed, **params))])


_MIN_BLAS_ROWS = 256


def _flat(images: NDArray[np.uint8]) -> NDArray[np.float32]:
    x = np.asarray(images)
    if x.ndim != 3:
        raise MnistlabError(f"images must have shape (N, H, W), got {x.shape}")
    return x.reshape(len(x), -1).astype(np.float32) * np.float32(1 / 255)


class SklearnModel(Model):
    """A fitted scikit-learn pipeline (kind ``"sklearn"``)."""

    kind = "sklearn"

    def __init__(
        self,
        pipeline: Any,
        name: str,
        class_names: tuple[str, ...] | list[str],
        manifest: dict[str, Any],
        image_shape: tuple[int, int] = (28, 28),
    ):
        super().__init__(name, class_names, manifest)
        self.pipeline = pipeline
        self.image_shape = tuple(image_shape)

    def predict_logits(self, images: NDArray[np.uint8]) -> NDArray[np.float32]:
        x = np.asarray(images)
        if x.ndim != 3 or x.shape[1:] != self.image_shape:
            raise MnistlabError(
                f"model {self.name!r} expects images of shape (N, {self.image_shape[0]}, "
                f"{self.image_shape[1]}), got {x.shape}"
            )
        n = len(x)
        out = np.full((n, self.num_classes), np.log(PROB_FLOOR), np.float32)
        if n == 0:
            return out
        flat = _flat(x)
        if n < _MIN_BLAS_ROWS:
            # OpenBLAS takes a "small matrix" kernel with another summation order below a
            # few hundred rows, so a sample's logits would depend on the size of the chunk it
            # came in. Padding with blank rows keeps every sample on the same kernel: the
            # logits are byte-identical whatever the chunking, executor or worker count.
            flat = np.concatenate([flat, np.zeros((_MIN_BLAS_ROWS - n, flat.shape[1]), flat.dtype)])
        classes = np.asarray(self.pipeline.classes_, dtype=np.int64)
        if hasattr(self.pipeline, "predict_proba"):
            proba = self.pipeline.predict_proba(flat)[:n]
            out[:, classes] = np.log(np.clip(proba, PROB_FLOOR, 1.0))
        else:
            scores = np.asarray(self.pipeline.decision_function(flat), np.float32)[:n].reshape(
                n, -1
            )
            # Per row, so that a sample's logits never depend on the rest of its chunk.
            out[:] = scores.min(axis=1, keepdims=True) - 10.0
            out[:, classes] = scores
        return out

    def save(self, path: str | os.PathLike[str]) -> Path:
        import joblib

        with atomic_dir(path, "model") as tmp:
            joblib.dump(self.pipeline, tmp / JOBLIB, compress=3)
            (tmp / MANIFEST).write_text(self._manifest_json(), encoding="utf-8")
        return Path(path)


def _load_sklearn(folder: Path, manifest: dict[str, Any]) -> SklearnModel:
    import joblib

    name, class_names, rest = split_manifest(manifest)
    file = folder / JOBLIB
    if not file.is_file():
        raise MnistlabError(f"{file}: missing model file")
    shape = tuple(rest.get("image_shape", (28, 28)))
    return SklearnModel(
        joblib.load(file), name, class_names, rest, image_shape=(int(shape[0]), int(shape[1]))
    )


register_loader("sklearn", _load_sklearn)


def train_sklearn(
    images: NDArray[np.uint8],
    labels: NDArray[np.int64],
    classifier: str = "logreg",
    *,
    class_names: tuple[str, ...] | list[str] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool = True,
    val: tuple[NDArray[np.uint8], NDArray[np.int64]] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
) -> SklearnModel:
    """Fit baseline ``classifier`` on standardised pixels.

    ``epochs`` sets ``max_iter`` of the iterative models (logreg, mlp, gb); ``params``
    override the classifier's defaults. ``val`` is scored into ``manifest["accuracy"]``.

    Examples
    --------
    >>> model = train_sklearn(train.images, train.labels, "logreg")  # doctest: +SKIP
    """
    import sklearn

    x, y, names = training_data(images, labels, class_names)
    kw = dict(params or {})
    if epochs is not None:
        if epochs < 1:
            raise MnistlabError(f"epochs must be at least 1, got {epochs!r}")
        if classifier in ("logreg", "mlp", "gb"):
            kw.setdefault("max_iter", int(epochs))
    pipeline = make_pipeline(classifier, seed, **kw)
    if progress:
        from tqdm.auto import tqdm

        tqdm.write(f"fitting {classifier} on {len(x)} images ...")
    start = time.perf_counter()
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Iteration caps are deliberate (time budget); the accuracy is what we report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(_flat(x), y)
    seconds = time.perf_counter() - start
    model = SklearnModel(
        pipeline, name or classifier, names, {}, image_shape=(x.shape[1], x.shape[2])
    )
    accuracy = None
    if val is not None:
        accuracy = accuracy_on(model, val)
    clf = pipeline.named_steps["clf"]
    model.manifest.update(
        {
            "model": classifier,
            "architecture": f"StandardScaler + {type(clf).__name__}",
            "description": CLASSIFIERS[classifier][1],
            "params": {k: v for k, v in kw.items()},
            "image_shape": [int(x.shape[1]), int(x.shape[2])],
            "seed": int(seed),
            "data_sha256": data_sha256(x, y),
            "train_size": len(x),
            "accuracy": accuracy,
            "training_seconds": round(seconds, 2),
            "sklearn_version": sklearn.__version__,
        }
    )
    return model


register_trainers("sklearn", train_sklearn, {n: desc for n, (_, desc) in CLASSIFIERS.items()})
