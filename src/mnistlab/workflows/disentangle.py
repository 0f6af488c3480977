"""``disentangle``: which latent code of a model controls which morphometric?

:func:`disentangle` takes images and their latent codes (row ``i`` the code of image ``i``:
the ``latents.npy`` of ``mnistlab sample``, or the means ``mnistlab encode`` writes), measures
the images (:func:`mnistlab.morpho.measure`) and relates codes and morphometrics with
:mod:`mnistlab.represent`. It writes into one folder, atomically:

- ``morphometrics.parquet``: the measurements (NaN rows for blank images, which are left out
  of the statistics with their codes, and counted);
- ``mig.csv``: per morphometric, its entropy, the code with the most mutual information, the
  largest and second-largest MI and their normalised gap; the MIG (Chen et al., 2018) is
  their mean (codes and morphometrics discretised into ``bins`` equal-width bins, as the
  Morpho-MNIST code does); ``mi.csv``: the MI of every code with every metric (nats);
- ``partial_correlations.csv``: codes x morphometrics, the correlation of a code with a
  metric given all other codes (Morpho-MNIST's disentanglement plot);
  ``spearman.csv``: Spearman's rank correlation, codes x morphometrics;
- ``partial_correlations.png`` (diverging ``RdBu_r``, -1..1), ``mi.png``;
- with a ``decoder`` (a VAE or GAN folder whose latent size matches): a latent traversal.
  For each traversed code, ``traversal_samples`` base codes (seeded rows of ``latents``) have
  that code set to ``steps`` values from its 2.5 % to its 97.5 % quantile; every decoded
  image is measured. ``traversal.csv`` (per code and step: the value, the mean and standard
  deviation of every metric), ``traversal_effects.csv`` (per code and metric: the change of
  the mean from the first to the last step in standard deviations of the metric over the
  images, and the Spearman correlation of value and metric over all traversal images),
  ``traversal_grid.png`` (the first base code's images), ``traversal_metrics.png``,
  ``traversal_effects.png``;
- ``disentangle.html``: one self-contained page of all of it.

Bad input is refused before any work, with one line: latents whose rows do not match the
images, that are not a 2-D numeric array, hold NaN or infinite values, have fewer than two
codes, or a constant code (named).

``mnistlab disentangle IMAGES LATENTS.npy --out DIR [--decoder MODEL]`` runs it from the
command line; :func:`disentangle` has a runnable example.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._validate import check_int, check_positive, check_seed
from mnistlab.errors import MnistlabError
from mnistlab.execution import Execution
from mnistlab.workflows.represent import METRICS, load_images, measure_sets

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.data import Dataset
    from mnistlab.represent import MIGResult

__all__ = [
    "QUANTILES",
    "DisentangleResult",
    "check_latents",
    "code_names",
    "disentangle",
    "traversal_codes",
]

#: The range of every traversal: these quantiles of the code's values.
QUANTILES = (0.025, 0.975)


def code_names(n: int) -> list[str]:
    """``["z0", "z1", ...]``: the names of ``n`` latent codes.

    Examples
    --------
    >>> code_names(3)
    ['z0', 'z1', 'z2']
    """
    return [f"z{i}" for i in range(n)]


def _read_latents(latents: Any, what: str) -> NDArray[Any]:
    if isinstance(latents, str | os.PathLike):
        path = Path(latents)
        if not path.is_file():
            raise MnistlabError(f"{what}: no such file")
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise MnistlabError(f"{what}: not a .npy array ({first})") from None
    return np.asarray(latents)


def check_latents(latents: Any, n_images: int, what: str = "latents") -> NDArray[np.float64]:
    """The codes as float64 ``(N, C)``, checked against ``n_images``.

    Parameters
    ----------
    latents : path-like or array_like
        A ``.npy`` file or an array, row ``i`` the code of image ``i``.
    n_images : int
        How many images the codes belong to.
    what : str
        How the codes are named in messages.

    Returns
    -------
    numpy.ndarray of float64, shape (N, C)

    Raises
    ------
    MnistlabError
        A missing or unreadable file, not a 2-D numeric array, a row count other than
        ``n_images``, NaN or infinite values (the first named), fewer than 2 codes, or a
        constant code (named).

    Examples
    --------
    >>> check_latents(np.zeros((4, 2)) + [[0, 1], [1, 2], [2, 0], [3, 1]], 4).shape
    (4, 2)
    >>> check_latents([[0.0, 1.0], [1.0, 1.0]], 2)
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: latents: code z1 (column 1) is constant (every value 1): drop it
    """
    raw = _read_latents(latents, what)
    if raw.ndim != 2:
        raise MnistlabError(f"{what} must be a 2-D array (images x codes), got shape {raw.shape}")
    if raw.dtype.kind not in "biuf":
        raise MnistlabError(f"{what} must hold numbers, got dtype {raw.dtype}")
    n, c = raw.shape
    if n != n_images:
        raise MnistlabError(
            f"{what} has {n} rows but there are {n_images} images: row i must be the code of "
            "image i"
        )
    codes = raw.astype(np.float64)
    bad = ~np.isfinite(codes)
    if bad.any():
        r, col = (int(v) for v in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(codes[r, col]) else "infinite"
        raise MnistlabError(
            f"{what}: row {r}, code z{col} is {kind} ({int(bad.sum())} values are not finite)"
        )
    if c < 2:
        raise MnistlabError(f"{what} has {c} code: MIG needs at least 2")
    _check_constant(codes, what)
    return codes


def _check_constant(codes: NDArray[np.float64], what: str) -> None:
    if len(codes) < 2:
        raise MnistlabError(f"{what}: {len(codes)} row: at least 2 are needed")
    flat = np.flatnonzero(np.ptp(codes, axis=0) == 0)
    if flat.size:
        j = int(flat[0])
        raise MnistlabError(
            f"{what}: code z{j} (column {j}) is constant (every value {codes[0, j]:g}): drop it"
        )


def traversal_codes(mi: NDArray[np.float64], max_codes: int) -> list[int]:
    """The codes to traverse: all, or the ``max_codes`` with the largest MI with any factor.

    Examples
    --------
    >>> traversal_codes(np.array([[0.1, 0.0], [0.9, 0.2], [0.0, 0.5]]), 2)
    [1, 2]
    """
    mi = np.asarray(mi, dtype=np.float64)
    if mi.shape[0] <= max_codes:
        return list(range(mi.shape[0]))
    order = np.argsort(-mi.max(axis=1), kind="stable")[:max_codes]
    return sorted(int(i) for i in order)


@dataclass(frozen=True, eq=False)
class DisentangleResult:
    """What :func:`disentangle` wrote, and its tables.

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    images : str
        The images as given.
    n_images : int
        Images read.
    blank : int
        Blank images (no morphometrics), left out with their codes.
    mig : MIGResult
        The mutual information gap (codes x the metrics).
    mig_table : pandas.DataFrame
        ``mig.csv``.
    partial : pandas.DataFrame
        ``partial_correlations.csv`` (codes x metrics, indexed by code).
    spearman : pandas.DataFrame
        ``spearman.csv`` (codes x metrics).
    traversal : pandas.DataFrame or None
        ``traversal.csv`` (with a decoder).
    effects : pandas.DataFrame or None
        ``traversal_effects.csv`` (with a decoder).
    files : dict of str to pathlib.Path
        Every file written, by name.
    """

    out: Path
    images: str
    n_images: int
    blank: int
    mig: MIGResult
    mig_table: pd.DataFrame
    partial: pd.DataFrame
    spearman: pd.DataFrame
    traversal: pd.DataFrame | None
    effects: pd.DataFrame | None
    files: dict[str, Path] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        """A few lines for a terminal: MIG, each metric's best code, the page."""
        used = self.n_images - self.blank
        lines = [
            f"{self.images}: {self.n_images} images, {self.partial.shape[0]} codes"
            + (f" ({self.blank} blank images left out)" if self.blank else ""),
            f"MIG {self.mig.score:.4f} (over {len(self.mig_table)} morphometrics, {used} images)",
            f"{'metric':<10} {'best code':>9} {'gap':>7}  strongest partial correlation",
        ]
        for row in self.mig_table.itertuples(index=False):
            col = self.partial[row.metric]
            top = str(col.abs().idxmax())
            lines.append(
                f"{row.metric:<10} {row.best_code:>9} {row.gap:>7.3f}  {top} ({col[top]:+.3f})"
            )
        if self.effects is not None:
            eff = self.effects.iloc[int(np.argmax(self.effects["change_sd"].abs().to_numpy()))]
            lines.append(
                f"largest traversal effect: {eff['code']} moves {eff['metric']} by "
                f"{eff['change_sd']:+.2f} sd"
            )
        lines.append(f"-> {self.out / 'disentangle.html'}")
        return lines


def _mig_table(result: MIGResult, metrics: list[str], names: list[str]) -> pd.DataFrame:
    import pandas as pd

    top = np.sort(result.mi, axis=0)[::-1]
    return pd.DataFrame({
        "metric": metrics, "entropy": result.entropy,
        "best_code": [names[i] for i in result.best_code],
        "mi_best": top[0], "mi_second": top[1], "gap": result.gaps,
    })  # fmt: skip


def _traverse(
    decoder: Any,
    codes: NDArray[np.float64],
    chosen: list[int],
    steps: int,
    samples: int,
    seed: int,
    job: Execution,
    ckpt: Path | None,
) -> tuple[NDArray[np.uint8], NDArray[np.float64], pd.DataFrame]:
    """Decode and measure the traversals: images ``(K, S, B, H, W)``, values ``(K, S)`` and
    the per-image table (code index, step, value, metrics)."""
    import pandas as pd

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11,)))
    base_rows = np.sort(rng.choice(len(codes), min(samples, len(codes)), replace=False))
    base = codes[base_rows]
    q = np.linspace(QUANTILES[0], QUANTILES[1], steps)
    values = np.stack([np.quantile(codes[:, c], q) for c in chosen])  # (K, S)
    z = np.broadcast_to(base, (len(chosen), steps, *base.shape)).copy()  # (K, S, B, C)
    for i, c in enumerate(chosen):
        z[i, :, :, c] = values[i][:, None]
    flat = z.reshape(-1, codes.shape[1]).astype(np.float32)
    images = decoder.decode(flat)
    (table,) = measure_sets([images], job, ckpt)
    k_idx, s_idx, _ = np.meshgrid(np.arange(len(chosen)), np.arange(steps), np.arange(len(base)),
                                  indexing="ij")  # fmt: skip
    table.insert(0, "code_index", np.asarray(chosen)[k_idx.ravel()])
    table.insert(1, "step", s_idx.ravel())
    table.insert(2, "value", values[k_idx.ravel(), s_idx.ravel()])
    side = images.shape[1:]
    return images.reshape(len(chosen), steps, len(base), *side), values, pd.DataFrame(table)


def _traversal_tables(
    per_image: pd.DataFrame, metrics: list[str], names: list[str], scale: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    import warnings

    import pandas as pd
    from scipy.stats import spearmanr

    g = per_image.groupby(["code_index", "step"], sort=True)
    summary = g["value"].first().rename("value").to_frame()
    summary["n"] = g[metrics[0]].size()
    summary["blank"] = g[metrics[0]].apply(lambda s: int(s.isna().sum()))
    for m in metrics:
        summary[f"{m}_mean"] = g[m].mean()
        summary[f"{m}_std"] = g[m].std(ddof=1)
    summary = summary.reset_index()
    summary.insert(0, "code", [names[i] for i in summary["code_index"]])
    effects = []
    for key, part in summary.groupby("code_index", sort=True):
        ci = int(key)  # type: ignore[arg-type]
        first, last = part.iloc[0], part.iloc[-1]
        rows = per_image[per_image["code_index"] == ci]
        for m in metrics:
            ok = rows[m].notna()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a metric that does not move: NaN
                rho = spearmanr(rows.loc[ok, "value"], rows.loc[ok, m]).statistic
            effects.append({
                "code": names[ci], "metric": m,
                "change": last[f"{m}_mean"] - first[f"{m}_mean"],
                "change_sd": (last[f"{m}_mean"] - first[f"{m}_mean"]) / scale[m],
                "spearman": float(rho),
            })  # fmt: skip
    return summary.drop(columns="code_index"), pd.DataFrame(effects)


def disentangle(
    images: str | os.PathLike[str] | Dataset,
    latents: str | os.PathLike[str] | NDArray[Any],
    out: str | os.PathLike[str],
    *,
    decoder: str | os.PathLike[str] | None = None,
    bins: int = 20,
    limit: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    split: str = "test",
    metrics: Sequence[str] = METRICS,
    steps: int = 9,
    traversal_samples: int = 16,
    max_traversal_codes: int = 10,
    seed: int = 0,
    execution: Execution | None = None,
    progress: bool = True,
) -> DisentangleResult:
    """Relate latent codes to the morphometrics of their images; write ``out``.

    Parameters
    ----------
    images : str, path-like or Dataset
        A dataset name or folder (see :func:`mnistlab.workflows.represent.load_images`).
    latents : path-like or array_like
        ``(N, C)`` codes, row ``i`` that of image ``i`` (a ``.npy`` file or an array).
    out : path-like
        The output folder (new, empty, or a previous ``disentangle`` output).
    decoder : path-like, optional
        A generative model folder (``mnistlab train --model vae|gan``) of latent size ``C``:
        adds the latent traversal.
    bins : int
        Equal-width bins of every code and metric for the mutual information.
    limit : int, optional
        Only the first ``limit`` images and codes (the row counts are checked first).
    data_dir : path-like, optional
        Searched first for registered names.
    split : {"test", "train"}
        The split of a name or folder.
    metrics : sequence of str
        The morphometrics (default all six).
    steps : int
        Values of each traversal (at least 2).
    traversal_samples : int
        Base codes of each traversal.
    max_traversal_codes : int
        Codes traversed at most: beyond, those with the largest MI with any metric.
    seed : int
        Seeds the traversal's base codes.
    execution : Execution, optional
        How the measuring runs (with ``checkpoint``: finished chunks kept beside ``out``).
    progress : bool
        Progress bars.

    Returns
    -------
    DisentangleResult

    Raises
    ------
    MnistlabError
        Bad latents (see :func:`check_latents`), a decoder of another latent size, a constant
        morphometric, or bad parameters; nothing is written then.

    Examples
    --------
    Bars whose width is code 0 and whose height is code 1 (code 2 is noise):

    >>> import tempfile, pathlib
    >>> from mnistlab.data import Dataset
    >>> rng = np.random.default_rng(0)
    >>> w, h = rng.integers(2, 7, 60), rng.integers(10, 22, 60)
    >>> x = np.zeros((60, 28, 28), np.uint8)
    >>> for i in range(60):
    ...     x[i, 3:3 + h[i], 12:12 + w[i]] = 255
    >>> bars = Dataset(x, np.zeros(60, np.int64), ("bar",))
    >>> codes = np.column_stack([w, h, rng.normal(size=60)]).astype(np.float32)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "disentangle"
    >>> result = disentangle(bars, codes, out, metrics=["thickness", "height"], bins=5,
    ...                      execution=Execution("serial"), progress=False)
    >>> result.mig_table["best_code"].tolist()
    ['z0', 'z1']

    From files: ``disentangle("samples/", "samples/latents.npy", "out/",
    decoder="models/vae")``.
    """
    import pandas as pd

    from mnistlab._atomic import atomic_dir
    from mnistlab._checkpoints import checkpoint_dir_for, remove_checkpoints
    from mnistlab._validate import check_names
    from mnistlab.data.tables import write_table
    from mnistlab.represent import mig, partial_correlations, spearman

    cols = list(check_names(metrics, METRICS, "metric"))
    bins = check_int(bins, "bins", minimum=2)
    steps = check_int(steps, "steps", minimum=2)
    traversal_samples = check_int(traversal_samples, "traversal_samples", minimum=1)
    max_traversal_codes = check_int(max_traversal_codes, "max_traversal_codes", minimum=1)
    limit = check_positive(limit, "limit")
    seed = check_seed(seed)
    what = Path(latents).name if isinstance(latents, str | os.PathLike) else "latents"
    ds = load_images(images, split, data_dir=data_dir, what="images")
    codes = check_latents(latents, len(ds), what)
    if limit is not None:
        ds, codes = ds[:limit], codes[:limit]
        _check_constant(codes, f"{what} (first {limit} rows)")
    generator = None
    if decoder is not None:
        from mnistlab.models.generative import load_generative

        generator = load_generative(decoder)
        if generator.latent_dim != codes.shape[1]:
            raise MnistlabError(
                f"--decoder {decoder}: {generator.name} decodes codes of size "
                f"{generator.latent_dim}, {what} has {codes.shape[1]}"
            )
    job = (
        replace(execution, progress=progress)
        if execution is not None
        else Execution(progress=progress)
    )
    ckpt = checkpoint_dir_for(out) if job.checkpoint else None
    (table,) = measure_sets([ds.images], job, ckpt)
    ids = ds.sample_ids if ds.sample_ids is not None else np.arange(len(ds))
    table.insert(1, "sample_id", np.asarray(ids, dtype=np.int64))
    ok = np.isfinite(table[cols].to_numpy(np.float64)).all(axis=1)
    factors = table.loc[ok, cols].reset_index(drop=True)
    used = codes[ok]
    if len(used) <= codes.shape[1] + 1:
        raise MnistlabError(
            f"{int(ok.sum())} measurable images for {codes.shape[1]} codes: more than "
            f"{codes.shape[1] + 1} are needed"
        )
    _check_constant(used, f"{what} (measurable images)")
    flat = [c for c in cols if np.ptp(factors[c].to_numpy()) == 0]
    if flat:
        raise MnistlabError(f"morphometric {flat[0]!r} is constant over the images: no MIG")
    names = code_names(codes.shape[1])
    result_mig = mig(used, factors, bins)
    mig_tab = _mig_table(result_mig, cols, names)
    mi = pd.DataFrame(result_mig.mi, index=pd.Index(names, name="code"), columns=cols)
    partial = pd.DataFrame(partial_correlations(used, factors).T,
                           index=pd.Index(names, name="code"), columns=cols)  # fmt: skip
    rho = pd.DataFrame(spearman(used, factors), index=pd.Index(names, name="code"), columns=cols)
    traversal = effects = None
    grid_images = grid_values = None
    chosen: list[int] = []
    if generator is not None:
        chosen = traversal_codes(result_mig.mi, max_traversal_codes)
        stack, grid_values, per_image = _traverse(
            generator, used, chosen, steps, traversal_samples, seed, job, ckpt
        )
        grid_images = stack[:, :, 0]
        traversal, effects = _traversal_tables(per_image, cols, names, factors.std(ddof=1))
    final = Path(out)
    files: dict[str, Path] = {}
    parameters = {
        "images": f"{_name(images)} ({ds.split}, {len(ds)} images)", "latents": what,
        "codes": codes.shape[1], "limit": limit, "bins": bins, "metrics": ", ".join(cols),
        "decoder": decoder, "steps": steps if decoder else None,
        "traversal_samples": traversal_samples if decoder else None,
        "traversed codes": ", ".join(names[i] for i in chosen) if chosen else None,
        "seed": seed,
    }  # fmt: skip
    with atomic_dir(final, "disentangle") as tmp:
        outputs = [
            ("morphometrics.parquet", table),
            ("mig.csv", mig_tab),
            ("mi.csv", mi.reset_index()),
            ("partial_correlations.csv", partial.reset_index()),
            ("spearman.csv", rho.reset_index()),
        ]
        if traversal is not None and effects is not None:
            outputs += [("traversal.csv", traversal), ("traversal_effects.csv", effects)]
        for name, frame in outputs:
            write_table(frame, tmp / name)
            files[name] = final / name
        figures = _figures(tmp, partial, mi, traversal, effects, grid_images, grid_values,
                           chosen, names, cols)  # fmt: skip
        files.update({p.name: final / p.name for p, _ in figures})
        result = DisentangleResult(
            out=final, images=_name(images), n_images=len(ds), blank=int((~ok).sum()),
            mig=result_mig, mig_table=mig_tab, partial=partial, spearman=rho,
            traversal=traversal, effects=effects, files=files,
        )  # fmt: skip
        _page(tmp / "disentangle.html", result, figures, parameters)
        files["disentangle.html"] = final / "disentangle.html"
    if ckpt is not None:
        remove_checkpoints(ckpt)
    return result


def _name(source: Any) -> str:
    return (
        str(getattr(source, "name", source))
        if not isinstance(source, str | os.PathLike)
        else str(source)
    )


def _figures(
    tmp: Path, partial: Any, mi: Any, traversal: Any, effects: Any, grid_images: Any,
    grid_values: Any, chosen: list[int], names: list[str], cols: list[str],
) -> list[tuple[Path, str]]:  # fmt: skip
    from mnistlab.figures.represent import (
        plot_matrix_heatmap,
        plot_traversal_grid,
        plot_traversal_metrics,
    )

    rows = list(partial.index)
    figures = [
        (plot_matrix_heatmap(partial.to_numpy(), rows, cols, tmp / "partial_correlations.png",
                             title="partial correlation of each code with each morphometric",
                             unit="partial correlation"),
         "partial correlation of a code and a morphometric given all other codes "
         "(-1..1; red positive, blue negative)"),
        (plot_matrix_heatmap(mi.to_numpy(), rows, cols, tmp / "mi.png", diverging=False,
                             title="mutual information of each code with each morphometric",
                             unit="mutual information (nats)", fmt="{:.2f}"),
         "mutual information (nats) of the discretised code and morphometric"),
    ]  # fmt: skip
    if traversal is not None:
        picked = [names[i] for i in chosen]
        figures.append((plot_traversal_grid(grid_images, grid_values, tmp / "traversal_grid.png",
                                            codes=picked),
                        "latent traversal of the first base code: a row per code, its value "
                        "under each image"))  # fmt: skip
        figures.append((plot_traversal_metrics(traversal, tmp / "traversal_metrics.png",
                                               metrics=cols),
                        "mean (band: +/- 1 sd) of each morphometric over the base codes, at "
                        "each step of each code's traversal"))  # fmt: skip
        change = effects.pivot(index="code", columns="metric", values="change_sd")
        change = change.loc[picked, cols]
        limit = max(1.0, float(np.nanmax(np.abs(change.to_numpy()))))
        figures.append((plot_matrix_heatmap(change.to_numpy(), picked, cols,
                                            tmp / "traversal_effects.png", limit=limit,
                                            title="change of each morphometric along a traversal",
                                            unit="last minus first step (sd of the metric)"),
                        "change of the mean of each morphometric from the first to the last "
                        "traversal step, in standard deviations of the metric"))  # fmt: skip
    return figures


def _page(
    path: Path, result: DisentangleResult, figures: list[tuple[Path, str]],
    parameters: dict[str, Any],
) -> None:  # fmt: skip
    from mnistlab.report.blocks import Section
    from mnistlab.report.represent import (
        figure_section,
        parameters_section,
        text_section,
        write_page,
    )

    head = text_section("summary", "Summary", [
        f"Images: {parameters['images']}; codes: {parameters['latents']} "
        f"({parameters['codes']} per image).",
        f"MIG = {result.mig.score:.4f}: the mean over morphometrics of the gap between the two "
        "codes with the most mutual information with it, divided by its entropy (0: no code "
        "stands out, 1: one code alone determines it).",
        "Partial correlation: the correlation of a code with a morphometric once the other "
        "codes are accounted for (linear); a disentangled code has one large entry in its row.",
    ])  # fmt: skip
    if result.blank:
        head.text(f"{result.blank} blank images were left out, with their codes.")
    table = Section("mig", "Mutual information gap")
    table.table(result.mig_table, "per morphometric: entropy and MI in nats; gap = "
                "(mi_best - mi_second) / entropy", floatfmt="{:.4f}")  # fmt: skip
    corr = Section("correlations", "Correlations")
    corr.table(result.partial.reset_index(), "partial correlations (codes x morphometrics)",
               floatfmt="{:+.3f}")  # fmt: skip
    corr.table(result.spearman.reset_index(), "Spearman rank correlations", floatfmt="{:+.3f}")
    sections = [head, table, corr, figure_section("figures", "Figures", figures)]
    if result.effects is not None:
        eff = Section("traversal", "Latent traversal")
        eff.table(result.effects, "per traversed code and morphometric: change of the mean "
                  "(first to last step; in sd of the metric) and Spearman correlation of the "
                  "code's value with the metric over every traversal image",
                  floatfmt="{:+.3f}")  # fmt: skip
        sections.append(eff)
    sections.append(parameters_section(parameters))
    write_page(path, f"mnistlab disentangle: {result.images}", sections)
