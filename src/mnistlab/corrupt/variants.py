"""The variant vocabulary: one name per (corruption, severity) pair.

One word per concept:

- ``"identity"`` (:data:`IDENTITY`) is the *corruption* that leaves an image unchanged
  (registered in :mod:`mnistlab.corrupt`, severity 0);
- ``"clean"`` (:data:`CLEAN`) is the *variant* it produces, the name used in tables
  (``variant`` column), manifests and file names.

Every other variant is ``"<corruption>-s<severity>"``. This module lives with the corruptions
so that both :mod:`mnistlab.corrupt` and the run contract (:mod:`mnistlab.run`, which
re-exports it) use it without importing each other.

Examples
--------
>>> variant_name("fog", 3)
'fog-s3'
>>> parse_variant("clean")
('identity', 0)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError

__all__ = ["CLEAN", "IDENTITY", "parse_variant", "regenerate_variant", "variant_name"]

CLEAN = "clean"
IDENTITY = "identity"


def variant_name(corruption: str, severity: int) -> str:
    """``"clean"`` for the identity (or severity 0), else ``"<corruption>-s<severity>"``.

    Examples
    --------
    >>> variant_name("identity", 0), variant_name("rotate", 2)
    ('clean', 'rotate-s2')
    """
    if corruption == IDENTITY or severity == 0:
        return CLEAN
    return f"{corruption}-s{int(severity)}"


def parse_variant(name: str) -> tuple[str, int]:
    """Inverse of :func:`variant_name`.

    Examples
    --------
    >>> parse_variant("fog-s3")
    ('fog', 3)
    >>> parse_variant("fog")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: not a variant name: 'fog' (expected ...)
    """
    if name == CLEAN:
        return IDENTITY, 0
    corruption, sep, sev = name.rpartition("-s")
    if not sep or not sev.isdigit():
        raise MnistlabError(
            f"not a variant name: {name!r} (expected 'clean' or '<corruption>-s<1..5>')"
        )
    return corruption, int(sev)


def regenerate_variant(
    clean: NDArray[np.uint8],
    variant: str,
    sample_ids: NDArray[np.integer] | list[int],
    seed: int = 0,
    compat: str | None = None,
) -> NDArray[np.uint8]:
    """Images of ``variant`` for ``sample_ids``, from the full clean split ``clean``.

    Corruptions draw their randomness from ``(seed, sample_id)``, so corrupting only the
    requested rows gives the same bytes as corrupting the whole split.

    Examples
    --------
    >>> clean = np.zeros((4, 28, 28), np.uint8)
    >>> regenerate_variant(clean, "clean", [1, 3]).shape
    (2, 28, 28)
    """
    ids = np.asarray(sample_ids, dtype=np.int64)
    images = np.asarray(clean[ids])
    corruption, severity = parse_variant(variant)
    if corruption == IDENTITY:
        return images
    from mnistlab.corrupt.registry import corrupt

    return corrupt(images, corruption, severity=severity, seed=seed, sample_ids=ids, compat=compat)
