"""The corruption registry: name -> :class:`Corruption` with its five severity parameters.

A corruption implementation is a function ``fn(x, param, ctx) -> y`` over a whole batch:
``x`` is ``float32 (N, H, W)`` on the 0..1 scale, ``param`` is the severity's parameter
from ``levels``, ``ctx`` a :class:`Context` that gives per-sample random numbers and the
compatibility mode. ``y`` is float on the 0..1 scale (values outside are clipped). The
registry converts to and from ``uint8``: rounding by default, truncation (as the releases
did) in ``compat="mnist-c"`` mode.

Adding a corruption is one call in its family module: :func:`register`, or the function
:func:`register_family` makes with the fields the module's corruptions share. A corruption may
also give a ``uint8_fn``: the whole corruption on the ``uint8`` batch, equal to the float path
byte for byte (flips, turns, look-up tables, fused kernels); :data:`USE_UINT8` switches these
off (tests compare the paths).

The registry itself imports nothing heavy: the family modules import scipy and numba only
inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab import random as _random
from mnistlab._validate import suggest
from mnistlab.data.dataset import check_images
from mnistlab.errors import MnistlabError

__all__ = [
    "COMPAT_MODES",
    "FAMILIES",
    "Context",
    "Corruption",
    "corrupt",
    "get",
    "names",
    "register",
    "resolve_compat",
]

USE_UINT8 = True  # False: every corruption runs its float path (tests compare both)

FAMILIES = ("noise", "blur", "affine", "photometric", "orientation", "overlay", "edge", "digital")
COMPAT_MODES = ("default", "mnist-c")
#: The ``releases`` of a corruption both published datasets use.
BOTH_RELEASES = ("mnist-c", "fmnist-c")
#: The ``compat_note`` of a corruption whose compat mode only truncates to uint8.
TRUNCATION_ONLY = "none beyond truncation"


@dataclass(frozen=True)
class Context:
    """What a corruption function may use besides the images and its parameter.

    Random draws for row ``k`` depend only on ``(seed, sample_ids[k], corruption, stream)``.
    """

    seed: int
    sample_ids: NDArray[np.int64]
    compat: bool
    name: str

    def uniform(self, shape: tuple[int, ...] = (), stream: int = 0) -> NDArray[np.float32]:
        """Uniform ``[0, 1)`` draws, shape ``(N, *shape)``."""
        return _random.uniform(self.seed, self.sample_ids, shape, f"{self.name}/{stream}")

    def uniform64(self, shape: tuple[int, ...] = (), stream: int = 0) -> NDArray[np.float64]:
        """Like :meth:`uniform`, in float64."""
        u = _random.uniform(
            self.seed, self.sample_ids, shape, f"{self.name}/{stream}", dtype=np.float64
        )
        return u.astype(np.float64, copy=False)

    def normal(self, shape: tuple[int, ...] = (), stream: int = 0) -> NDArray[np.float64]:
        """Standard normal draws, shape ``(N, *shape)``."""
        return _random.normal(self.seed, self.sample_ids, shape, f"{self.name}/{stream}")

    def integers(
        self, low: int, high: int, shape: tuple[int, ...] = (), stream: int = 0
    ) -> NDArray[np.int64]:
        """Integers in ``[low, high)``, shape ``(N, *shape)``."""
        return _random.integers(
            self.seed, self.sample_ids, low, high, shape, f"{self.name}/{stream}"
        )

    def sign(self, stream: int = 0) -> NDArray[np.float64]:
        """A random sign (+1 or -1) per sample, shape ``(N,)``."""
        return np.where(self.uniform((), stream) < 0.5, -1.0, 1.0)

    def rows(self, start: int, stop: int) -> Context:
        """The context of rows ``start:stop`` only (same seed, mode and streams)."""
        return Context(self.seed, self.sample_ids[start:stop], self.compat, self.name)

    def generator(self, row: int, stream: int = 0) -> np.random.Generator:
        """A full numpy Generator for row ``row`` (slow path: one Python call per sample)."""
        return _random.sample_generator(
            self.seed, int(self.sample_ids[row]), f"{self.name}/{stream}"
        )


CorruptionFn = Callable[[NDArray[np.float32], Any, Context], NDArray[np.floating]]
Uint8Fn = Callable[[NDArray[np.uint8], Any, Context], NDArray[np.uint8]]


@dataclass(frozen=True)
class Corruption:
    """A registered corruption.

    Parameters
    ----------
    name : str
        Registry key (``"motion_blur"``).
    family : str
        One of :data:`FAMILIES`.
    fn : callable
        ``fn(x, param, ctx)``, see the module docstring.
    levels : sequence
        The parameter of severities 1..5 (five entries). A corruption without levels
        repeats one parameter five times and sets ``leveled=False``.
    benchmark_severity : int or None
        The severity the published release used (None: not in a release).
    description : str
        One line: what it does and its parameters.
    compat_note : str
        How ``compat="mnist-c"`` differs from the default (empty: only the truncation).
    aliases : tuple of str
        Other names (the releases' names).
    releases : tuple of str
        ``"mnist-c"`` and/or ``"fmnist-c"``: the published datasets that use it.
    leveled : bool
        False when the five severities are the same.
    monotonic : bool
        False when the levels are not ordered by strength (e.g. saturate).
    float64 : bool
        True: ``fn`` receives ``images / 255.0`` in float64 (the releases' arithmetic) instead
        of float32, and a float64 result is truncated the way the releases did (float64 ->
        float32 -> uint8) in compat mode. Used where compat output must match to the grey level.
    uint8_fn : callable, optional
        ``uint8_fn(images, param, ctx) -> uint8``: the same bytes as the float path (for
        ``ctx.compat`` too) straight from the ``uint8`` batch.
    """

    name: str
    family: str
    fn: CorruptionFn
    levels: tuple[Any, ...]
    benchmark_severity: int | None = None
    description: str = ""
    compat_note: str = ""
    aliases: tuple[str, ...] = ()
    releases: tuple[str, ...] = ()
    leveled: bool = True
    monotonic: bool = True
    float64: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    uint8_fn: Uint8Fn | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: unknown family {self.family!r} (known: {FAMILIES})")
        if len(self.levels) != 5:
            raise ValueError(f"{self.name}: needs 5 severity parameters, got {len(self.levels)}")

    def apply(
        self,
        images: ArrayLike,
        severity: int | None = None,
        seed: int = 0,
        sample_ids: ArrayLike | None = None,
        compat: str | None = None,
    ) -> NDArray[np.uint8]:
        """Corrupt a batch; see :func:`corrupt`."""
        x = check_images(images)
        sev = self._severity(severity)
        mode = resolve_compat(compat)
        from mnistlab._validate import check_seed

        check_seed(seed)
        ids = _random.sample_ids_for(x.shape[0], sample_ids)
        if x.shape[0] == 0:
            return x.copy()
        ctx = Context(seed=int(seed), sample_ids=ids, compat=mode == "mnist-c", name=self.name)
        param = self.levels[sev - 1]
        if USE_UINT8 and self.uint8_fn is not None:
            return self.uint8_fn(x, param, ctx)
        if self.float64:
            xf: NDArray[np.floating] = x / 255.0
        else:
            xf = x.astype(np.float32) * np.float32(1 / 255)
        y = self.fn(xf, param, ctx)
        return to_uint8(y, truncate=ctx.compat, exact=self.float64)

    def _severity(self, severity: int | None) -> int:
        if severity is None:
            return self.benchmark_severity or 1
        if (
            isinstance(severity, bool)
            or not isinstance(severity, (int, np.integer))
            or not 1 <= severity <= 5
        ):
            raise MnistlabError(
                f"{self.name}: severity must be one of 1, 2, 3, 4, 5, got {severity!r}"
            )
        return int(severity)


def to_uint8(
    y: NDArray[np.floating], truncate: bool = False, exact: bool = False
) -> NDArray[np.uint8]:
    """0..1 floats to uint8: rounded (default) or truncated like the releases.

    With ``exact`` (a corruption computed in float64 from ``images / 255.0``), truncation is
    the releases' own: ``clip(y, 0, 1) * 255`` in float64, cast to float32 (which rounds
    values within ~1e-5 of an integer onto it), then to uint8.
    """
    y = np.asarray(y)
    if truncate and exact:
        return (np.clip(y, 0, 1) * 255).astype(np.float32).astype(np.uint8)
    scaled = np.clip(np.asarray(y, dtype=np.float32) * np.float32(255), 0, 255)
    if truncate:
        # A tiny epsilon keeps values like 254.99998 (float noise around an exact level) at 255.
        return np.floor(scaled + np.float32(1e-3)).astype(np.uint8)
    return np.rint(scaled).astype(np.uint8)


_REGISTRY: dict[str, Corruption] = {}
_ALIASES: dict[str, str] = {}


def register(corruption: Corruption) -> Corruption:
    """Add ``corruption`` (and its aliases) to the registry."""
    taken = set(_REGISTRY) | set(_ALIASES)
    if corruption.name in taken:
        raise ValueError(f"corruption {corruption.name!r} is already registered")
    # An alias equal to a registered name would silently shadow that corruption.
    clash = [a for a in corruption.aliases if a in taken or a == corruption.name]
    if clash:
        raise ValueError(f"{corruption.name}: aliases {clash} are already taken")
    _REGISTRY[corruption.name] = corruption
    for alias in corruption.aliases:
        _ALIASES[alias] = corruption.name
    return corruption


def register_family(family: str, **shared: Any) -> Callable[..., Corruption]:
    """A :func:`register` for the corruptions of one family module.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    **shared
        Fields of :class:`Corruption` that the module's corruptions have in common.

    Returns
    -------
    callable
        ``add(name, fn, levels, **fields) -> Corruption``: builds the corruption of
        ``family`` with the ``shared`` fields (its own ``fields`` win) and registers it.

    Examples
    --------
    >>> add = register_family("digital", description="an example")
    >>> callable(add)
    True
    """

    def add(name: str, fn: CorruptionFn, levels: tuple[Any, ...], **fields: Any) -> Corruption:
        """Build the corruption ``name`` of ``family`` and register it."""
        return register(Corruption(name, family, fn, levels, **{**shared, **fields}))

    return add


def _load_families() -> None:
    # The family modules register their corruptions when imported.
    from mnistlab.corrupt import families  # noqa: F401


def names(family: str | None = None, release: str | None = None) -> list[str]:
    """Registered corruption names, in registration order.

    Parameters
    ----------
    family : str, optional
        Only this family (one of :data:`FAMILIES`).
    release : {"mnist-c", "fmnist-c"}, optional
        Only the corruptions of that published dataset.
    """
    _load_families()
    if family is not None and family not in FAMILIES:
        raise MnistlabError(f"unknown family {family!r} (choose from: {', '.join(FAMILIES)})")
    if release is not None and release not in ("mnist-c", "fmnist-c"):
        raise MnistlabError(f"unknown release {release!r} (choose from: mnist-c, fmnist-c)")
    return [
        c.name
        for c in _REGISTRY.values()
        if (family is None or c.family == family) and (release is None or release in c.releases)
    ]


def get(name: str) -> Corruption:
    """The corruption called ``name`` (or one of its aliases); unknown names list the valid ones."""
    _load_families()
    key = _ALIASES.get(name, name)
    try:
        return _REGISTRY[key]
    except KeyError:
        raise MnistlabError(f"unknown corruption {name!r}{suggest(str(name), names())}") from None


def resolve_compat(compat: str | None) -> str:
    """Normalise the compatibility mode: None -> ``"default"``."""
    mode = compat or "default"
    if mode not in COMPAT_MODES:
        raise MnistlabError(
            f"unknown compat mode {compat!r} (choose from: {', '.join(COMPAT_MODES)})"
        )
    return mode


def corrupt(
    images: ArrayLike,
    name: str,
    severity: int | None = None,
    seed: int = 0,
    sample_ids: ArrayLike | None = None,
    compat: str | None = None,
) -> NDArray[np.uint8]:
    """Apply one corruption to a batch of images.

    Parameters
    ----------
    images : numpy.ndarray, uint8, shape (N, H, W)
        0 = background, 255 = ink.
    name : str
        A registered corruption (see :func:`names`) or one of its aliases.
    severity : int, optional
        1 (mild) to 5 (strong). Default: the corruption's benchmark severity.
    seed : int
        Seed of the run. Sample ``k`` draws its randomness from ``(seed, sample_ids[k])``.
    sample_ids : array-like of int, optional
        Ids of the rows (default ``0..N-1``); pass the rows' positions in the full split when
        corrupting a chunk, so the chunk's bytes equal those of the whole run.
    compat : {None, "default", "mnist-c"}
        ``"mnist-c"`` reproduces the published releases' quirks (see ``mnistlab corruptions``).

    Returns
    -------
    numpy.ndarray, uint8, same shape

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((2, 28, 28), np.uint8)
    >>> int(corrupt(x, "inverse").max())
    255
    """
    return get(name).apply(
        images, severity=severity, seed=seed, sample_ids=sample_ids, compat=compat
    )


def severities_of(values: Sequence[int] | None) -> list[int]:
    """Validate a list of severities (default: all five)."""
    if values is None:
        return [1, 2, 3, 4, 5]
    out = []
    for v in values:
        if not 1 <= int(v) <= 5:
            raise MnistlabError(f"severity must be one of 1, 2, 3, 4, 5, got {v!r}")
        out.append(int(v))
    return out
