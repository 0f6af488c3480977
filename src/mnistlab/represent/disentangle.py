"""How latent codes relate to generative factors: MIG, partial and rank correlations.

``codes`` is ``(N, C)`` (a model's latent codes of ``N`` images), ``factors`` ``(N, F)``
(e.g. their morphometrics). The definitions are those of ``../shared/REPRESENT.md``:

- :func:`mig`, the mutual information gap (Chen et al., NeurIPS 2018) as the Morpho-MNIST
  code computes it: continuous columns discretised into ``bins`` by ``np.digitize(v,
  np.histogram_bin_edges(v, bins)[:-1])``, integer and boolean columns used as they are,
  ``MI[c, f]`` by :func:`sklearn.metrics.mutual_info_score` (nats), ``H[f] = MI[f, f]``,
  MIG the mean over factors of ``(largest - second largest MI[:, f]) / H[f]``;
- :func:`partial_correlations`: for every factor and code the correlation of the two given
  all other codes, from the inverse of ``V^T V`` with ``V = [factor, codes]`` centred;
  rows are factors, columns codes (the layout of the Morpho-MNIST plots);
- :func:`spearman`: Spearman's rank correlation of every code with every factor, codes x
  factors.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> factors = rng.normal(size=(2000, 2))
>>> codes = np.column_stack([factors[:, 1], rng.normal(size=2000), factors[:, 0]])
>>> result = mig(codes, factors)
>>> result.best_code.tolist(), bool(result.score > 0.95)  # noise codes carry a little MI
([2, 0], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab._validate import check_int
from mnistlab.errors import MnistlabError
from mnistlab.represent._checks import as_matrix, column_names

__all__ = ["BIN_RULES", "MIGResult", "discretize", "mig", "partial_correlations", "spearman"]

#: The rules ``numpy.histogram_bin_edges`` accepts for ``bins`` besides a count.
BIN_RULES = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")


@dataclass(frozen=True, eq=False)
class MIGResult:
    """The mutual information gap and what it is made of.

    Attributes
    ----------
    score : float
        MIG, the mean of ``gaps``.
    mi : numpy.ndarray, shape (C, F)
        Mutual information (nats) between every code and every factor.
    entropy : numpy.ndarray, shape (F,)
        Entropy (nats) of every discretised factor.
    gaps : numpy.ndarray, shape (F,)
        Per factor: (largest - second largest ``mi[:, f]``) / ``entropy[f]``.
    best_code : numpy.ndarray of int64, shape (F,)
        Per factor: the code with the largest mutual information.
    """

    score: float
    mi: NDArray[np.float64]
    entropy: NDArray[np.float64]
    gaps: NDArray[np.float64]
    best_code: NDArray[np.int64]


def _raw_columns(data: Any, what: str) -> tuple[list[NDArray[Any]], list[bool]]:
    """The columns of ``data`` and whether each is discrete (integer or boolean dtype)."""
    names = column_names(data)
    if names is not None:
        frame = data
        cols = [np.asarray(frame.iloc[:, j].to_numpy()) for j in range(frame.shape[1])]
        for name, col in zip(names, cols, strict=True):
            if col.dtype.kind not in "biuf":
                raise MnistlabError(f"{what}: column {name!r} is not numeric")
        if not cols:
            raise MnistlabError(f"{what} has no columns")
        matrix_check = np.column_stack([c.astype(np.float64) for c in cols])
        as_matrix(matrix_check, what, min_rows=2)
        return cols, [c.dtype.kind in "biu" for c in cols]
    arr = np.asarray(data)
    as_matrix(arr, what, min_rows=2)  # 2-D, numeric, finite
    discrete = arr.dtype.kind in "biu"
    return [arr[:, j] for j in range(arr.shape[1])], [discrete] * arr.shape[1]


def _flags(value: bool | Sequence[bool] | None, default: list[bool], what: str) -> list[bool]:
    if value is None:
        return default
    if isinstance(value, bool | np.bool_):
        return [bool(value)] * len(default)
    flags = [bool(v) for v in value]
    if len(flags) != len(default):
        raise MnistlabError(f"{what}: expected 1 or {len(default)} flags, got {len(flags)}")
    return flags


def _check_bins(bins: Any) -> int | str:
    if isinstance(bins, str):
        if bins not in BIN_RULES:
            raise MnistlabError(f"bins must be a count or one of {', '.join(BIN_RULES)}")
        return bins
    return check_int(bins, "bins", minimum=1)


def discretize(values: ArrayLike, bins: int | str = 20) -> NDArray[np.int64]:
    """Bin indices of one continuous column: ``np.digitize(v, histogram_bin_edges(v)[:-1])``.

    Values run from 1 to ``bins`` (the largest value falls in the last bin).

    Examples
    --------
    >>> discretize([0.0, 0.1, 0.5, 0.9, 1.0], bins=2).tolist()
    [1, 1, 2, 2, 2]
    """
    v = np.asarray(values, dtype=np.float64)
    b = _check_bins(bins)
    return np.digitize(v, np.histogram_bin_edges(v, b)[:-1]).astype(np.int64)


def _prepared(
    data: Any, what: str, flags: bool | Sequence[bool] | None, bins: int | str
) -> list[NDArray[Any]]:
    cols, default = _raw_columns(data, what)
    chosen = _flags(flags, default, f"discrete_{what}")
    return [discretize(c, bins) if not d else c for c, d in zip(cols, chosen, strict=True)]


def mig(
    codes: Any,
    factors: Any,
    bins: int | str = 20,
    *,
    discrete_codes: bool | Sequence[bool] | None = None,
    discrete_factors: bool | Sequence[bool] | None = None,
) -> MIGResult:
    """The mutual information gap of ``codes`` with respect to ``factors``.

    Parameters
    ----------
    codes : array_like or DataFrame, shape (N, C)
        Latent codes, ``C >= 2``.
    factors : array_like or DataFrame, shape (N, F)
        Generative factors (e.g. morphometrics); none may be constant.
    bins : int or str
        Bins of every continuous column (a count or a rule of
        :func:`numpy.histogram_bin_edges`, e.g. ``"auto"``).
    discrete_codes, discrete_factors : bool or sequence of bool, optional
        Which columns to use as they are (default: integer and boolean columns; in a
        DataFrame column by column).

    Returns
    -------
    MIGResult
        ``score``, the MI matrix ``mi (C, F)``, the factor entropies, the per-factor ``gaps``
        and the ``best_code`` of every factor.

    Raises
    ------
    MnistlabError
        On arrays that are not 2-D, numeric and finite, different row counts, fewer than two
        codes, a constant factor (entropy 0) or bad ``bins``.

    Examples
    --------
    >>> codes = np.array([[0, 5], [0, 5], [1, 5], [1, 6]])
    >>> factors = np.array([[0], [0], [1], [1]])
    >>> res = mig(codes, factors)
    >>> res.mi.round(4).tolist(), res.entropy.round(4).tolist(), round(res.score, 4)
    ([[0.6931], [0.2158]], [0.6931], 0.6887)
    """
    from sklearn.metrics import mutual_info_score

    b = _check_bins(bins)
    c_cols = _prepared(codes, "codes", discrete_codes, b)
    f_cols = _prepared(factors, "factors", discrete_factors, b)
    if len(c_cols) < 2:
        raise MnistlabError(f"codes needs at least 2 columns for a gap, got {len(c_cols)}")
    if c_cols[0].shape[0] != f_cols[0].shape[0]:
        raise MnistlabError(
            f"codes and factors must have the same rows, got {c_cols[0].shape[0]} "
            f"and {f_cols[0].shape[0]}"
        )
    mi = np.array([[mutual_info_score(f, c) for f in f_cols] for c in c_cols], dtype=np.float64)
    entropy = np.array([mutual_info_score(f, f) for f in f_cols], dtype=np.float64)
    constant = np.flatnonzero(~(entropy > 0))
    if constant.size:
        raise MnistlabError(
            f"factors column {int(constant[0])} is constant (entropy 0): MIG is undefined"
        )
    top = np.sort(mi, axis=0)[::-1]
    gaps = (top[0] - top[1]) / entropy
    return MIGResult(
        score=float(np.mean(gaps)),
        mi=mi,
        entropy=entropy,
        gaps=gaps,
        best_code=np.argmax(mi, axis=0).astype(np.int64),
    )


def _pair(codes: Any, factors: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    c = as_matrix(codes, "codes", min_rows=3)
    f = as_matrix(factors, "factors", min_rows=3)
    if c.shape[0] != f.shape[0]:
        raise MnistlabError(
            f"codes and factors must have the same rows, got {c.shape[0]} and {f.shape[0]}"
        )
    return c, f


def _unit_columns(a: NDArray[np.float64], what: str) -> NDArray[np.float64]:
    centred = a - a.mean(axis=0)
    norms = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    constant = np.flatnonzero(~(norms > 1e-12 * (np.abs(a).max(axis=0) + 1e-300)))
    if constant.size:
        raise MnistlabError(
            f"{what} column {int(constant[0])} is constant: its partial correlations are undefined"
        )
    return centred / norms


def partial_correlations(codes: Any, factors: Any) -> NDArray[np.float64]:
    """Partial correlation of every factor with every code, given all the other codes.

    With ``V = [f, codes]`` centred and ``P = inverse(V^T V)``: ``pcorr[f, c] = -P[0, c + 1] /
    sqrt(P[0, 0] P[c + 1, c + 1])``.

    Parameters
    ----------
    codes : array_like, shape (N, C)
        The independent variables.
    factors : array_like, shape (N, F)
        The dependent variables.

    Returns
    -------
    numpy.ndarray of float64, shape (F, C)
        Rows are factors, columns codes.

    Raises
    ------
    MnistlabError
        On bad arrays, different row counts, ``N <= C + 1``, a constant column, or codes and
        a factor that are linearly dependent (``V^T V`` singular).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> codes = rng.normal(size=(500, 2))
    >>> factor = codes[:, :1] + 0.1 * rng.normal(size=(500, 1))
    >>> partial_correlations(codes, factor).round(1).tolist()
    [[1.0, -0.0]]
    """
    c, f = _pair(codes, factors)
    n, n_codes = c.shape
    if n <= n_codes + 1:
        raise MnistlabError(
            f"partial correlations of {n_codes} codes need more than {n_codes + 1} rows, got {n}"
        )
    # Partial correlations do not change when a column is rescaled: unit-norm centred columns
    # make V^T V a correlation matrix, whose conditioning reflects only collinearity.
    cc, fc = _unit_columns(c, "codes"), _unit_columns(f, "factors")
    gram = cc.T @ cc
    cross = fc.T @ cc  # (F, C)
    out = np.empty((f.shape[1], n_codes))
    g = np.empty((n_codes + 1, n_codes + 1))
    g[1:, 1:] = gram
    for j in range(f.shape[1]):
        g[0, 0] = 1.0
        g[0, 1:] = g[1:, 0] = cross[j]
        if np.linalg.eigvalsh(g)[0] <= 1e-12:
            raise MnistlabError(
                f"factors column {j} and the codes are linearly dependent (V^T V is singular): "
                "drop duplicated codes, or a code that is an exact linear function of a factor"
            )
        p = np.linalg.inv(g)
        diag = np.diag(p)
        out[j] = -p[0, 1:] / np.sqrt(diag[0] * diag[1:])
    return out


def spearman(codes: Any, factors: Any) -> NDArray[np.float64]:
    """Spearman's rank correlation of every code with every factor (codes x factors).

    :func:`scipy.stats.spearmanr` on the columns; a constant column gives NaN.

    Parameters
    ----------
    codes : array_like, shape (N, C)
        Latent codes.
    factors : array_like, shape (N, F)
        Factors.

    Returns
    -------
    numpy.ndarray of float64, shape (C, F)

    Raises
    ------
    MnistlabError
        On bad arrays or different row counts.

    Examples
    --------
    >>> codes = np.array([[1.0, 3.0], [2.0, 1.0], [3.0, 2.0]])
    >>> spearman(codes, np.array([[10.0], [20.0], [30.0]])).tolist()
    [[1.0], [-0.5]]
    """
    import warnings

    from scipy.stats import spearmanr

    c, f = _pair(codes, factors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant columns: NaN, documented
        rho = np.asarray(spearmanr(c, f).statistic, dtype=np.float64)
    if rho.ndim == 0:
        return rho.reshape(1, 1)
    return np.ascontiguousarray(rho[: c.shape[1], c.shape[1] :])
