"""``diversity``: do a generative model's samples look like the data, metric by metric?

Morpho-MNIST's own question (Castro et al., JMLR 2019): measure the morphometrics of a
reference set (the test split) and of a model's samples, and test whether their
distributions differ. :func:`diversity` reads both (dataset names or folders, e.g. a folder
written by ``mnistlab sample``), measures them in one job with the fast morphometry
(:func:`mnistlab.morpho.measure`), and writes into one folder, atomically:

- ``morphometrics_reference.parquet``, ``morphometrics_samples.parquet``: the measurements
  (``index, sample_id`` and the six metrics; blank images keep their NaN row);
- ``metrics.csv``: one row per metric and one ``joint`` row. Per metric,
  :func:`mnistlab.represent.compare_metrics` (``*_a`` is the reference, ``*_b`` the samples:
  means, standard deviations and their bootstrap intervals, 1-Wasserstein distance,
  Kolmogorov-Smirnov test), ``wasserstein_sd`` (the distance in reference standard
  deviations, comparable across metrics) and the MMD permutation test
  (:func:`mnistlab.represent.mmd_test`, RBF kernel, Scott bandwidth, unbiased statistic) on
  that metric; the ``joint`` row is the MMD test on all metrics together, each standardised by
  the reference's mean and standard deviation. ``mmd_pvalue_holm`` is Holm-corrected over
  all the rows' MMD tests; ``significant`` is ``mmd_pvalue_holm < alpha`` and ``shifted``
  is significant *and* at least ``min_effect`` reference standard deviations apart
  (``wasserstein_sd >= min_effect``, default 0.1; the joint row: significant): with
  thousands of rows the test detects differences far too small to see, and ``shifted``
  names only the ones that matter;
- ``prdc.csv``: precision, recall, density and coverage (:func:`mnistlab.represent.prdc`)
  and the Fréchet distance (:func:`~mnistlab.represent.frechet_distance`) of the
  standardised morphometrics; with a classifier also in its feature space (penultimate
  layer, :func:`mnistlab.models.features`), with KID (:func:`~mnistlab.represent.kid`, 100
  subsets of at most 1,000 rows) there: FID and KID computed on that classifier's features
  (the morphometrics row leaves ``kid_mean``/``kid_std`` empty, ``kid_subset_size`` 0);
- ``classes.csv`` (with a classifier): the predicted-class histogram of both sets and the
  samples' :func:`~mnistlab.represent.class_coverage`;
- ``density.png`` (per-metric density overlays), ``pairs.png`` (pair plot),
  ``classes.png``; ``diversity.html`` (one self-contained page of all of it).

Rows with a blank image (NaN morphometrics) are left out of the statistics and counted.
The same inputs and seed give byte-identical tables. ``mnistlab diversity REFERENCE SAMPLES
--out DIR`` runs it from the command line; :func:`diversity` has a runnable example.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnistlab._validate import check_int, check_positive, check_seed
from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray

    from mnistlab.data import Dataset

__all__ = [
    "DEFAULT_MMD_ROWS",
    "JOINT",
    "METRICS",
    "SAMPLES_JSON",
    "DiversityResult",
    "check_alpha",
    "check_effect",
    "diversity",
    "diversity_statistics",
    "load_images",
    "measure_sets",
]

#: The morphometrics compared (those of :func:`mnistlab.morpho.measure`).
METRICS = ("area", "length", "thickness", "slant", "width", "height")
#: Name of the row of the joint MMD test in ``metrics.csv``.
JOINT = "joint"
#: Rows of each set given to every MMD permutation test (a seeded random subset beyond).
DEFAULT_MMD_ROWS = 2000
#: The file ``mnistlab sample`` writes beside its images: it names the split it wrote.
SAMPLES_JSON = "samples.json"
_KID_SUBSETS = 100
_KID_SUBSET_SIZE = 1000


# ----------------------------------------------------------------------------- inputs


def _label(source: Any) -> str:
    from mnistlab.data import Dataset

    if isinstance(source, Dataset):
        return source.name
    return str(source)


def load_images(
    source: str | os.PathLike[str] | Dataset,
    split: str = "test",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    what: str = "images",
) -> Dataset:
    """One split of a dataset name or folder (the first ``limit`` images).

    A folder written by ``mnistlab sample`` (it holds ``samples.json``) is read in the split
    it wrote, whatever ``split`` says. A :class:`~mnistlab.data.Dataset` passes through.

    Parameters
    ----------
    source : str, path-like or Dataset
        A registered name (``"mnist"``), a dataset folder, or a dataset.
    split : {"test", "train"}
        The split of a name or folder.
    data_dir : path-like, optional
        Searched first for a registered name.
    limit : int, optional
        Keep only the first ``limit`` images.
    what : str
        How the input is named in messages.

    Returns
    -------
    Dataset

    Raises
    ------
    MnistlabError
        An unknown dataset, a bad ``limit``, or no images.

    Examples
    --------
    >>> import numpy as np
    >>> from mnistlab.data import Dataset
    >>> ds = Dataset(np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.int64), ("a",))
    >>> len(load_images(ds, limit=3))
    3
    """
    from mnistlab.data import Dataset, load

    limit = check_positive(limit, "limit")
    if isinstance(source, Dataset):
        ds = source
    else:
        info = Path(source) / SAMPLES_JSON
        if info.is_file():
            try:
                wrote = json.loads(info.read_text(encoding="utf-8")).get("split", split)
            except (OSError, ValueError, AttributeError):
                wrote = split
            split = wrote if wrote in ("test", "train") else split
        ds = load(source, split=split, data_dir=data_dir)
    if limit is not None:
        ds = ds[:limit]
    if len(ds) == 0:
        raise MnistlabError(f"{what} {_label(source)}: no images")
    return ds


def measure_sets(
    image_sets: Sequence[NDArray[np.uint8]],
    execution: Execution | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
) -> list[pd.DataFrame]:
    """The morphometrics of several image arrays, measured in one job (one worker pool).

    Parameters
    ----------
    image_sets : sequence of uint8 arrays (N_i, H, W)
        The sets; all of the same image size.
    execution : Execution, optional
        How the chunks run (:func:`mnistlab.morpho.measure`).
    checkpoint_dir : path-like, optional
        Keep the finished chunks there, to resume (:func:`mnistlab.morpho.measure`).

    Returns
    -------
    list of pandas.DataFrame
        One table per set: ``index`` (within the set) and the six metrics; NaN rows for
        blank images (not warned about: callers count them).

    Raises
    ------
    MnistlabError
        Sets of different image sizes.

    Examples
    --------
    >>> img = np.zeros((2, 28, 28), np.uint8); img[:, 4:24, 13:16] = 255
    >>> a, b = measure_sets([img, img[:1]], Execution("serial"))
    >>> len(a), len(b), round(float(b["height"][0]), 1)
    (2, 1, 20.0)
    """
    from mnistlab.morpho import measure
    from mnistlab.parallel import execution_session

    sets = [np.asarray(s) for s in image_sets]
    shapes = {s.shape[1:] for s in sets}
    if len(shapes) > 1:
        raise MnistlabError(
            "the images have different sizes: "
            + ", ".join(f"{'x'.join(map(str, s))}" for s in sorted(shapes))
        )
    job = execution or Execution()
    sizes = [len(s) for s in sets]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*images are blank.*", category=RuntimeWarning)
        with execution_session(job):
            table = measure(np.concatenate(sets), checkpoint_dir=checkpoint_dir, execution=job)
    out, start = [], 0
    for n in sizes:
        part = table.iloc[start : start + n].reset_index(drop=True)
        part["index"] = np.arange(n, dtype=np.int64)
        out.append(part)
        start += n
    return out


def _with_ids(table: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    table = table.copy()
    ids = ds.sample_ids if ds.sample_ids is not None else np.arange(len(ds))
    table.insert(1, "sample_id", np.asarray(ids, dtype=np.int64))
    return table


def _finite_rows(table: pd.DataFrame, metrics: Sequence[str]) -> NDArray[np.bool_]:
    return np.isfinite(table[list(metrics)].to_numpy(dtype=np.float64)).all(axis=1)


# ----------------------------------------------------------------------------- statistics


def check_effect(value: Any, what: str = "min_effect") -> float:
    """A non-negative effect size (in standard deviations).

    Examples
    --------
    >>> check_effect(0.1)
    0.1
    >>> check_effect(-1)
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: min_effect must be a number of at least 0, got -1
    """
    import math
    import numbers

    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise MnistlabError(f"{what} must be a number of at least 0, got {value!r}")
    return float(value)


def check_alpha(alpha: Any, what: str = "alpha") -> float:
    """A significance level: a number strictly between 0 and 1.

    Examples
    --------
    >>> check_alpha(0.05)
    0.05
    >>> check_alpha(1.5)
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: alpha must be a number strictly between 0 and 1, got 1.5
    """
    import math
    import numbers

    ok = isinstance(alpha, numbers.Real) and not isinstance(alpha, bool)
    if not ok or not math.isfinite(float(alpha)) or not 0.0 < float(alpha) < 1.0:
        raise MnistlabError(f"{what} must be a number strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def _standardise(
    reference: NDArray[np.float64], samples: NDArray[np.float64], metrics: Sequence[str]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    mu = reference.mean(axis=0)
    sd = reference.std(axis=0, ddof=1)
    flat = np.flatnonzero(~(sd > 0))
    if flat.size:
        raise MnistlabError(
            f"reference metric {metrics[int(flat[0])]!r} is constant: it cannot be standardised"
        )
    return (reference - mu) / sd, (samples - mu) / sd


def _subsample(a: NDArray[np.float64], rows: int | None, rng: np.random.Generator) -> Any:
    if rows is None or len(a) <= rows:
        return a
    return a[np.sort(rng.choice(len(a), rows, replace=False))]


def _space_row(
    space: str, real: Any, fake: Any, k: int, seed: int, with_kid: bool = False
) -> dict[str, Any]:
    """PRDC and the Fréchet distance of two feature sets (and KID, in a feature space)."""
    from mnistlab.represent import frechet_distance, kid, prdc

    p = prdc(real, fake, k=k)
    row = {
        "space": space,
        "n_real": len(real),
        "n_fake": len(fake),
        "k": p.k,
        "precision": p.precision,
        "recall": p.recall,
        "density": p.density,
        "coverage": p.coverage,
        "frechet": frechet_distance(real, fake),
        "kid_mean": np.nan,
        "kid_std": np.nan,
        "kid_subset_size": 0,
    }
    if with_kid:
        size = min(_KID_SUBSET_SIZE, len(real), len(fake))
        kd = kid(real, fake, subsets=_KID_SUBSETS, subset_size=size, seed=seed)
        row.update(kid_mean=kd.mean, kid_std=kd.std, kid_subset_size=kd.subset_size)
    return row


def diversity_statistics(
    reference: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    metrics: Sequence[str] = METRICS,
    permutations: int = 1000,
    mmd_rows: int | None = DEFAULT_MMD_ROWS,
    k: int = 5,
    n_boot: int = 1000,
    alpha: float = 0.05,
    min_effect: float = 0.1,
    seed: int = 0,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tables of :func:`diversity` from two morphometrics tables (no files, no measuring).

    Parameters
    ----------
    reference, samples : pandas.DataFrame
        Morphometrics, one row per image; rows with a NaN or infinite metric are left out.
    metrics : sequence of str
        The columns compared.
    permutations : int
        Permutations of every MMD test.
    mmd_rows : int or None
        Rows of each set given to every MMD test: a seeded random subset (the same rows for
        every test) when a set has more; None: all rows (the test then recomputes the kernel
        in blocks, much slower above 2,048 rows per set). Every other statistic uses all rows.
    k : int
        Neighbours of PRDC.
    n_boot : int
        Bootstrap replicates of :func:`~mnistlab.represent.compare_metrics`.
    alpha : float
        Level of ``significant`` (Holm-corrected MMD p-value below ``alpha``).
    min_effect : float
        ``shifted``: significant and ``wasserstein_sd >= min_effect`` (0: significant alone).
    seed : int
        Seeds the bootstrap, the subsets, the permutations and KID's subsets.
    progress : bool
        A progress bar over the MMD tests.

    Returns
    -------
    metrics : pandas.DataFrame
        One row per metric and a ``joint`` row (``metrics.csv``, see the module docstring).
    prdc : pandas.DataFrame
        One row, ``space="morphometrics"`` (``prdc.csv``).

    Raises
    ------
    MnistlabError
        A missing column, fewer than ``k + 1`` usable rows, a constant reference metric, or
        bad parameters.

    Examples
    --------
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame(rng.normal(size=(300, 2)), columns=["thickness", "slant"])
    >>> thick = ref.assign(thickness=ref["thickness"] + 1.0)
    >>> table, _ = diversity_statistics(ref, thick, metrics=["thickness", "slant"],
    ...                                 permutations=99, n_boot=100)
    >>> table.set_index("metric")["shifted"].to_dict()
    {'thickness': True, 'slant': False, 'joint': True}
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from mnistlab.compare.stats import holm
    from mnistlab.represent import compare_metrics, mmd_test

    cols = list(metrics)
    if not cols:
        raise MnistlabError("metrics is empty")
    for name, table in (("reference", reference), ("samples", samples)):
        for c in cols:
            if c not in table.columns:
                raise MnistlabError(f"{name} has no column {c!r}")
    permutations = check_int(permutations, "permutations", minimum=1)
    mmd_rows = check_positive(mmd_rows, "mmd_rows")
    k = check_int(k, "k", minimum=1)
    alpha = check_alpha(alpha)
    min_effect = check_effect(min_effect)
    seed = check_seed(seed)
    ref = reference.loc[_finite_rows(reference, cols), cols].reset_index(drop=True)
    smp = samples.loc[_finite_rows(samples, cols), cols].reset_index(drop=True)
    for name, table in (("reference", ref), ("samples", smp)):
        if len(table) <= k:
            raise MnistlabError(
                f"{name} has {len(table)} measurable images: more than k={k} are needed"
            )
    per_metric = compare_metrics(ref, smp, cols, n_boot=n_boot, seed=seed)
    zr, zs = _standardise(ref.to_numpy(np.float64), smp.to_numpy(np.float64), cols)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    xr, xs = _subsample(zr, mmd_rows, rng), _subsample(zs, mmd_rows, rng)
    targets = [(c, [i]) for i, c in enumerate(cols)] + [(JOINT, list(range(len(cols))))]
    tests = []
    for name, idx in tqdm(targets, desc="mmd tests", unit="test", disable=not progress):
        res = mmd_test(xr[:, idx], xs[:, idx], permutations=permutations, seed=seed)
        tests.append({"metric": name, "mmd2": res.statistic, "mmd_pvalue": res.pvalue,
                      "mmd_m": res.m, "mmd_permutations": res.permutations})  # fmt: skip
    mmd = pd.DataFrame(tests)
    mmd["mmd_pvalue_holm"] = holm(mmd["mmd_pvalue"].to_numpy())
    mmd["significant"] = mmd["mmd_pvalue_holm"] < alpha
    table = per_metric.reset_index()
    table = table.rename(columns={table.columns[0]: "metric"})
    where = list(table.columns).index("wasserstein") + 1
    table.insert(where, "wasserstein_sd", table["wasserstein"] / table["std_a"])
    joint = pd.DataFrame([{"metric": JOINT, "n_a": len(ref), "n_b": len(smp)}])
    table = pd.concat([table, joint], ignore_index=True)
    table = table.merge(mmd, on="metric", how="left", validate="one_to_one")
    table[["n_a", "n_b"]] = table[["n_a", "n_b"]].astype(np.int64)
    large = (table["wasserstein_sd"] >= min_effect) | (table["metric"] == JOINT)
    table["shifted"] = table["significant"] & large
    distances = pd.DataFrame([_space_row("morphometrics", zr, zs, k, seed)])
    return table, distances


# ----------------------------------------------------------------------------- the workflow


def _verdict(shifted: Any, significant: Any) -> str:
    return "shifted" if shifted else ("small" if significant else "-")


@dataclass(frozen=True, eq=False)
class DiversityResult:
    """What :func:`diversity` wrote, and its tables.

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    reference, samples : str
        The inputs as given.
    n_reference, n_samples : int
        Images read from each.
    blank_reference, blank_samples : int
        Blank images (no morphometrics), left out of the statistics.
    metrics : pandas.DataFrame
        ``metrics.csv``.
    prdc : pandas.DataFrame
        ``prdc.csv``.
    classes : pandas.DataFrame or None
        ``classes.csv`` (with a classifier).
    coverage : ClassCoverage or None
        The samples' class coverage (with a classifier).
    alpha : float
        Level of ``significant``.
    min_effect : float
        Smallest ``wasserstein_sd`` of a ``shifted`` metric.
    files : dict of str to pathlib.Path
        Every file written, by name.
    """

    out: Path
    reference: str
    samples: str
    n_reference: int
    n_samples: int
    blank_reference: int
    blank_samples: int
    metrics: pd.DataFrame
    prdc: pd.DataFrame
    classes: pd.DataFrame | None
    coverage: Any
    alpha: float
    min_effect: float = 0.1
    files: dict[str, Path] = field(default_factory=dict)

    def shifted(self) -> list[str]:
        """The rows (metrics, and ``joint``) that differ at ``alpha`` (Holm) by at least
        ``min_effect`` reference standard deviations."""
        t = self.metrics
        return [str(m) for m in t.loc[t["shifted"].astype(bool), "metric"]]

    def significant(self) -> list[str]:
        """The rows whose MMD test rejects at ``alpha`` (Holm), however small the difference."""
        t = self.metrics
        return [str(m) for m in t.loc[t["significant"].astype(bool), "metric"]]

    def resolution_note(self) -> str:
        """A warning when too few permutations leave no Holm-corrected p below ``alpha``."""
        perms = int(self.metrics["mmd_permutations"].iloc[0])
        tests = len(self.metrics)
        floor = tests / (perms + 1.0)
        if floor < self.alpha:
            return ""
        need = int(np.ceil(tests / self.alpha))
        return (
            f"note: with {perms} permutations the smallest Holm-corrected p is {floor:.3g}, "
            f"not below alpha {self.alpha:g}: nothing can be significant; use at least {need}"
        )

    def summary_lines(self) -> list[str]:
        """A few lines for a terminal: the inputs, what shifted, PRDC, the page."""
        lines = [
            f"reference {self.reference}: {self.n_reference} images"
            + (f" ({self.blank_reference} blank, left out)" if self.blank_reference else ""),
            f"samples {self.samples}: {self.n_samples} images"
            + (f" ({self.blank_samples} blank, left out)" if self.blank_samples else ""),
        ]
        lines.append(f"{'metric':<10} {'W1':>9} {'W1/sd':>7} {'MMD p':>8} {'Holm p':>8}  verdict")
        for row in self.metrics.itertuples(index=False):
            w, ws = float(row.wasserstein), float(row.wasserstein_sd)  # type: ignore[arg-type]
            w1 = f"{w:.4g}" if np.isfinite(w) else ""
            wsd = f"{ws:.3f}" if np.isfinite(ws) else ""
            lines.append(
                f"{row.metric:<10} {w1:>9} {wsd:>7} {row.mmd_pvalue:>8.4f} "
                f"{row.mmd_pvalue_holm:>8.4f}  {_verdict(row.shifted, row.significant)}"
            )
        moved = [m for m in self.shifted() if m != JOINT]
        lines.append(
            f"shifted (MMD, Holm p < {self.alpha:g}, W1/sd >= {self.min_effect:g}): "
            + (", ".join(moved) if moved else "none")
        )
        small = [m for m in self.significant() if m not in self.shifted()]
        if small:
            lines.append(f"significant but under {self.min_effect:g} sd: {', '.join(small)}")
        note = self.resolution_note()
        if note:
            lines.append(note)
        for row in self.prdc.itertuples(index=False):
            lines.append(
                f"PRDC ({row.space}, k={row.k}): precision {row.precision:.3f}, recall "
                f"{row.recall:.3f}, density {row.density:.3f}, coverage {row.coverage:.3f}; "
                f"Fréchet {row.frechet:.4g}"
            )
        if self.coverage is not None:
            c = self.coverage
            lines.append(
                f"classes of the samples: {c.classes_covered} of {len(c.counts)} covered, "
                f"normalised entropy {c.normalized_entropy:.3f}"
            )
        lines.append(f"-> {self.out / 'diversity.html'}")
        return lines


def _classifier_parts(
    classifier: str | os.PathLike[str], ref_images: Any, smp_images: Any, k: int, seed: int
) -> tuple[dict[str, Any], pd.DataFrame, Any, tuple[str, ...]]:
    import pandas as pd

    from mnistlab.models import features, load_model
    from mnistlab.represent import class_coverage

    model = load_model(classifier)
    if model.kind == "generative":
        raise MnistlabError(f"--classifier {classifier}: a generative model, not a classifier")
    fr = features(model, ref_images).astype(np.float64)
    fs = features(model, smp_images).astype(np.float64)
    row = _space_row(f"features ({model.name})", fr, fs, k, seed, with_kid=True)
    names = tuple(str(c) for c in model.class_names)
    n = len(names)
    ref_pred = model.predict(ref_images).astype(np.int64)
    smp_pred = model.predict(smp_images).astype(np.int64)
    ref_cov, smp_cov = class_coverage(ref_pred, n), class_coverage(smp_pred, n)
    classes = pd.DataFrame({
        "class": np.arange(n), "name": names,
        "reference_count": ref_cov.counts, "reference_fraction": ref_cov.fractions,
        "samples_count": smp_cov.counts, "samples_fraction": smp_cov.fractions,
    })  # fmt: skip
    return row, classes, smp_cov, names


def diversity(
    reference: str | os.PathLike[str] | Dataset,
    samples: str | os.PathLike[str] | Dataset,
    out: str | os.PathLike[str],
    *,
    limit: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    split: str = "test",
    metrics: Sequence[str] = METRICS,
    permutations: int = 1000,
    mmd_rows: int | None = DEFAULT_MMD_ROWS,
    k: int = 5,
    n_boot: int = 1000,
    alpha: float = 0.05,
    min_effect: float = 0.1,
    classifier: str | os.PathLike[str] | None = None,
    seed: int = 0,
    execution: Execution | None = None,
    progress: bool = True,
) -> DiversityResult:
    """Compare the morphometrics of ``samples`` with those of ``reference``; write ``out``.

    Parameters
    ----------
    reference, samples : str, path-like or Dataset
        Dataset names or folders (see :func:`load_images`), e.g. ``"mnist"`` and the folder
        of ``mnistlab sample``.
    out : path-like
        The output folder (new, empty, or a previous ``diversity`` output: replaced whole,
        only on success).
    limit : int, optional
        Only the first ``limit`` images of each.
    data_dir : path-like, optional
        Searched first for registered names.
    split : {"test", "train"}
        The split read from each input (a ``mnistlab sample`` folder: the split it wrote).
    metrics : sequence of str
        The morphometrics compared (default all six).
    permutations, mmd_rows, k, n_boot, alpha, min_effect, seed
        As in :func:`diversity_statistics`.
    classifier : path-like, optional
        A trained mnistlab classifier folder (a torch model): PRDC, Fréchet distance and KID in
        its feature space, and the predicted-class histogram and coverage.
    execution : Execution, optional
        How the measuring runs (executor, workers, chunks; with ``checkpoint`` the finished
        chunks are kept beside ``out`` until it is written, so a failed run resumes).
    progress : bool
        Progress bars (measuring, the MMD tests).

    Returns
    -------
    DiversityResult

    Raises
    ------
    MnistlabError
        Unknown inputs, images of different sizes, a metric that is not a morphometric, too
        few measurable images, or bad parameters; nothing is written then.

    Examples
    --------
    Vertical bars, thin against thick, of the same spread of heights:

    >>> import tempfile, pathlib
    >>> from mnistlab.data import Dataset
    >>> def bars(widths, heights):
    ...     x = np.zeros((len(widths), 28, 28), np.uint8)
    ...     for i, (w, h) in enumerate(zip(widths, heights)):
    ...         x[i, 4:4 + h, 12:12 + w] = 255
    ...     return Dataset(x, np.zeros(len(x), np.int64), ("bar",))
    >>> rng = np.random.default_rng(0)
    >>> thin = bars(rng.integers(2, 4, 40), rng.integers(14, 20, 40))
    >>> thick = bars(rng.integers(5, 7, 40), rng.integers(14, 20, 40))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "diversity"
    >>> result = diversity(thin, thick, out, metrics=["thickness", "height"],
    ...                    permutations=99, n_boot=100, execution=Execution("serial"),
    ...                    progress=False)
    >>> result.shifted()
    ['thickness', 'joint']
    >>> sorted(result.files)[:3]
    ['density.png', 'diversity.html', 'metrics.csv']

    From files: ``diversity("mnist", "samples/", "out/", limit=1000)``.
    """
    from mnistlab._atomic import atomic_dir
    from mnistlab._checkpoints import checkpoint_dir_for, remove_checkpoints
    from mnistlab._validate import check_names
    from mnistlab.data.tables import write_table

    cols = list(check_names(metrics, METRICS, "metric"))
    for name, value in (("permutations", permutations), ("k", k), ("n_boot", n_boot)):
        check_int(value, name, minimum=1)
    check_positive(mmd_rows, "mmd_rows")
    alpha = check_alpha(alpha)
    min_effect = check_effect(min_effect)
    seed = check_seed(seed)
    ref_ds = load_images(reference, split, data_dir=data_dir, limit=limit, what="reference")
    smp_ds = load_images(samples, split, data_dir=data_dir, limit=limit, what="samples")
    job = (
        replace(execution, progress=progress)
        if execution is not None
        else Execution(progress=progress)
    )
    ckpt = checkpoint_dir_for(out) if job.checkpoint else None
    ref_t, smp_t = measure_sets([ref_ds.images, smp_ds.images], job, ckpt)
    ref_t, smp_t = _with_ids(ref_t, ref_ds), _with_ids(smp_t, smp_ds)
    table, distances = diversity_statistics(
        ref_t, smp_t, metrics=cols, permutations=permutations, mmd_rows=mmd_rows, k=k,
        n_boot=n_boot, alpha=alpha, min_effect=min_effect, seed=seed, progress=progress,
    )  # fmt: skip
    classes = coverage = None
    names: tuple[str, ...] = ()
    if classifier is not None:
        import pandas as pd

        row, classes, coverage, names = _classifier_parts(
            classifier, ref_ds.images, smp_ds.images, k, seed
        )
        distances = pd.concat([distances, pd.DataFrame([row])], ignore_index=True)
    final = Path(out)
    files: dict[str, Path] = {}
    result_args = dict(
        out=final, reference=_label(reference), samples=_label(samples),
        n_reference=len(ref_ds), n_samples=len(smp_ds),
        blank_reference=int((~_finite_rows(ref_t, cols)).sum()),
        blank_samples=int((~_finite_rows(smp_t, cols)).sum()),
        metrics=table, prdc=distances, classes=classes, coverage=coverage, alpha=alpha,
        min_effect=min_effect,
    )  # fmt: skip
    parameters = {
        "reference": f"{_label(reference)} ({ref_ds.split}, {len(ref_ds)} images)",
        "samples": f"{_label(samples)} ({smp_ds.split}, {len(smp_ds)} images)",
        "limit": limit, "metrics": ", ".join(cols), "permutations": permutations,
        "mmd_rows": mmd_rows, "k": k, "n_boot": n_boot, "alpha": alpha,
        "min_effect": min_effect,
        "classifier": classifier, "seed": seed,
    }  # fmt: skip
    with atomic_dir(final, "diversity") as tmp:
        for name, frame in (("morphometrics_reference.parquet", ref_t),
                            ("morphometrics_samples.parquet", smp_t),
                            ("metrics.csv", table), ("prdc.csv", distances)):  # fmt: skip
            write_table(frame, tmp / name)
            files[name] = final / name
        if classes is not None:
            write_table(classes, tmp / "classes.csv")
            files["classes.csv"] = final / "classes.csv"
        figures = _diversity_figures(tmp, ref_t, smp_t, cols, table, classes, names, seed)
        files.update({p.name: final / p.name for p, _ in figures})
        result = DiversityResult(**result_args, files=files)  # type: ignore[arg-type]
        _diversity_page(tmp / "diversity.html", result, figures, parameters)
        files["diversity.html"] = final / "diversity.html"
    if ckpt is not None:
        remove_checkpoints(ckpt)
    return result


def _diversity_figures(
    tmp: Path, ref: Any, smp: Any, cols: list[str], table: Any, classes: Any, names: Any,
    seed: int,
) -> list[tuple[Path, str]]:  # fmt: skip
    from mnistlab.figures.represent import (
        plot_class_histogram,
        plot_density_overlays,
        plot_pair_plot,
    )

    r = ref.loc[_finite_rows(ref, cols)]
    s = smp.loc[_finite_rows(smp, cols)]
    stats = table.set_index("metric")
    figures = [
        (plot_density_overlays(r, s, tmp / "density.png", metrics=cols, stats=stats),
         "density of each morphometric: reference (blue) and samples (vermillion); "
         "W1 = 1-Wasserstein distance, MMD p = permutation p-value (uncorrected)"),
    ]  # fmt: skip
    if len(cols) > 1:
        figures.append((plot_pair_plot(r, s, tmp / "pairs.png", metrics=cols, seed=seed),
                        "pairs of morphometrics (at most 1,000 points of each set)"))  # fmt: skip
    if classes is not None:
        fractions = {"reference": classes["reference_fraction"],
                     "samples": classes["samples_fraction"]}  # fmt: skip
        figures.append((plot_class_histogram(fractions, names, tmp / "classes.png"),
                        "share of images per predicted class"))  # fmt: skip
    return figures


def _diversity_page(
    path: Path, result: DiversityResult, figures: list[tuple[Path, str]], parameters: dict[str, Any]
) -> None:
    from mnistlab.report.blocks import Section
    from mnistlab.report.represent import (
        figure_section,
        parameters_section,
        text_section,
        write_page,
    )

    moved = [m for m in result.shifted() if m != JOINT]
    small = [m for m in result.significant() if m not in result.shifted()]
    head = text_section("summary", "Summary", [
        f"Reference: {parameters['reference']}. Samples: {parameters['samples']}.",
        f"Shifted (MMD permutation test, Holm-corrected over {len(result.metrics)} tests, "
        f"p < {result.alpha:g}, and at least {result.min_effect:g} reference standard "
        f"deviations apart): {', '.join(moved) if moved else 'no metric'}"
        + ("; the joint test rejects." if JOINT in result.significant() else "; the joint "
           "test does not reject."),
        "Significant but smaller than that: " + (", ".join(small) if small else "none") + ".",
        "W1/sd is the 1-Wasserstein distance in standard deviations of the reference: "
        "comparable across metrics (0 = identical distributions).",
    ])  # fmt: skip
    if result.resolution_note():
        head.text(result.resolution_note())
    if result.blank_reference or result.blank_samples:
        head.text(
            f"Blank images left out: {result.blank_reference} of the reference, "
            f"{result.blank_samples} of the samples."
        )
    per = Section("metrics", "Per metric")
    cols = ["metric", "n_a", "n_b", "mean_a", "mean_b", "mean_diff", "std_a", "std_b",
            "wasserstein", "wasserstein_sd", "ks_pvalue", "mmd2", "mmd_pvalue",
            "mmd_pvalue_holm", "significant", "shifted"]  # fmt: skip
    per.table(result.metrics[cols], "a = reference, b = samples; metrics.csv has the "
              "bootstrap intervals too", floatfmt="{:.4g}")  # fmt: skip
    dist = Section("prdc", "Precision, recall, density, coverage")
    dist.text(
        "Precision: share of samples inside the k-nearest-neighbour ball of some reference "
        "image (fidelity); recall: share of the reference inside some sample's ball "
        "(diversity); density: precision counting every ball (1 = as dense as the reference); "
        "coverage: share of reference images whose nearest sample lies inside their ball. "
        "Morphometrics are standardised by the reference first."
    )
    dist.table(result.prdc, floatfmt="{:.4g}")
    sections = [head, per, dist, figure_section("figures", "Figures", figures)]
    if result.classes is not None:
        cls = Section("classes", "Predicted classes")
        cls.table(result.classes, floatfmt="{:.4f}")
        sections.append(cls)
    sections.append(parameters_section(parameters))
    write_page(path, f"mnistlab diversity: {result.samples} vs {result.reference}", sections)
