"""Checks of user input, shared by the command line and the library.

Every check raises :class:`mnistlab.errors.MnistlabError` with one line that names the value
and what is wrong with it, so a bad name or number stops a command before any training or
I/O. ``what`` is how the value is named in the message (``"--seed"`` on the command line,
``"seed"`` in the library).

Examples
--------
>>> check_seed(7)
7
>>> check_seed(2**64)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mnistlab.errors.MnistlabError: seed must be a non-negative integer, got 1844...
>>> check_name("fgo", ["fog", "snow"], "corruption")
Traceback (most recent call last):
...
mnistlab.errors.MnistlabError: unknown corruption 'fgo' (did you mean 'fog'? known: fog, snow)
"""

from __future__ import annotations

import difflib
import numbers
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mnistlab.errors import MnistlabError

__all__ = [
    "SEED_MAX",
    "check_int",
    "check_name",
    "check_names",
    "check_port",
    "check_positive",
    "check_scheduler",
    "check_seed",
    "check_suffix",
    "parse_list",
    "suggest",
]

#: Largest seed: seeds are mixed as unsigned 64-bit integers and stored as signed ones.
SEED_MAX = 2**63 - 1


def _is_int(value: Any) -> bool:
    # bool is an int subclass; True as a seed or size is always a mistake.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(
    value: Any,
    what: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """``value`` as a plain int, checked against ``minimum``/``maximum`` (inclusive).

    Examples
    --------
    >>> check_int(3, "--images", minimum=1)
    3
    >>> check_int(True, "--images")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --images must be an integer, got True
    """
    if not _is_int(value):
        raise MnistlabError(f"{what} must be an integer, got {value!r}")
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        if maximum is None:
            rule = f"be at least {minimum}"
        elif minimum is None:
            rule = f"be at most {maximum}"
        else:
            rule = f"be an integer in {minimum}..{maximum}"
        raise MnistlabError(f"{what} must {rule}, got {number}")
    return number


def check_seed(seed: Any, what: str = "seed") -> int:
    """A seed: an integer in ``0..2**63-1`` (not a bool, not a float).

    Examples
    --------
    >>> check_seed(0)
    0
    >>> check_seed(-1, "--seed")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --seed must be a non-negative integer, got -1 (seeds are ...)
    """
    if not _is_int(seed) or not 0 <= int(seed) <= SEED_MAX:
        raise MnistlabError(
            f"{what} must be a non-negative integer, got {seed!r} (seeds are 0..2**63-1)"
        )
    return int(seed)


def check_positive(value: Any, what: str, *, allow_none: bool = True) -> int | None:
    """A count of at least 1 (sizes, workers, chunk sizes, epochs); None passes if allowed.

    Examples
    --------
    >>> check_positive(None, "--workers") is None
    True
    >>> check_positive(0, "--workers")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --workers must be at least 1, got 0
    """
    if value is None and allow_none:
        return None
    return check_int(value, what, minimum=1)


def check_port(port: Any, what: str = "--port") -> int:
    """A TCP port in ``1..65535``.

    Examples
    --------
    >>> check_port(8765)
    8765
    """
    return check_int(port, what, minimum=1, maximum=65535)


def suggest(value: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'? known: a, b)`` for an unknown ``value``."""
    options = [str(k) for k in known]
    close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f" ({hint}known: {', '.join(options)})"


def check_name(value: Any, known: Sequence[str] | Iterable[str], what: str) -> str:
    """``value`` when it is one of ``known``, else an error with the closest known name."""
    options = list(known)
    if not isinstance(value, str) or value not in options:
        raise MnistlabError(f"unknown {what} {value!r}{suggest(str(value), options)}")
    return value


def check_names(
    values: Iterable[Any], known: Sequence[str] | Iterable[str], what: str
) -> tuple[str, ...]:
    """Every name of ``values`` checked by :func:`check_name`; duplicates are an error too."""
    options = list(known)
    chosen = tuple(check_name(v, options, what) for v in values)
    seen: set[str] = set()
    for name in chosen:
        if name in seen:
            raise MnistlabError(f"{what} {name!r} given twice")
        seen.add(name)
    return chosen


#: Dask's address schemes, and the characters of a host name or IP address (IPv6 in brackets).
_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")
_HOST = re.compile(r"[A-Za-z0-9._:%-]+")


def check_scheduler(scheduler: str | None, executor: str, what: str = "--scheduler") -> None:
    """A Dask scheduler address only goes with the dask executor, and looks like one.

    Examples
    --------
    >>> check_scheduler(None, "local")
    >>> check_scheduler("tcp://10.0.0.1:8786", "local")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --scheduler tcp://10.0.0.1:8786: needs --executor dask
    >>> check_scheduler("not a url", "dask")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --scheduler 'not a url': expected an address like tcp://host:8786
    """
    if scheduler is None:
        return
    if executor != "dask":
        raise MnistlabError(f"{what} {scheduler}: needs --executor dask")
    address = str(scheduler).strip()
    scheme, sep, host_port = address.rpartition("://")
    host, colon, port = host_port.rpartition(":")
    host = host.strip("[]")
    if (
        (sep and scheme not in _SCHEMES)
        or not colon
        or not port.isdigit()
        or not host
        or not _HOST.fullmatch(host)
    ):
        raise MnistlabError(f"{what} {scheduler!r}: expected an address like tcp://host:8786")
    check_port(int(port), f"{what} port")


def check_suffix(path: Any, suffixes: Sequence[str], what: str = "--out") -> str:
    """The (lower-case) suffix of ``path`` when it is one of ``suffixes``.

    Examples
    --------
    >>> check_suffix("preds.csv", (".parquet",))
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --out preds.csv: must end with .parquet
    """
    import os

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in suffixes:
        raise MnistlabError(f"{what} {os.fspath(path)}: must end with {' or '.join(suffixes)}")
    return suffix


def parse_list(
    value: str | Iterable[Any] | None, convert: Callable[[str], Any] = str, what: str = "list"
) -> tuple[Any, ...] | None:
    """The items of a comma-separated string (``"a, b"``) or of a sequence, stripped, empty
    ones dropped, each ``convert``-ed; None stays None.

    Examples
    --------
    >>> parse_list("fog, ,snow"), parse_list(["fog"]), parse_list(None)
    (('fog', 'snow'), ('fog',), None)
    >>> parse_list("100,1e3", int, "--k")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --k: expected a comma-separated list of int, got '100,1e3'
    """
    if value is None:
        return None
    items = (str(item).strip() for item in (value.split(",") if isinstance(value, str) else value))
    try:
        return tuple(convert(item) for item in items if item)
    except ValueError:
        kind = getattr(convert, "__name__", "values")
        raise MnistlabError(
            f"{what}: expected a comma-separated list of {kind}, got {value!r}"
        ) from None


def parse_assignments(
    value: str | None, convert: Callable[[str], Any] = str, what: str = "option"
) -> dict[str, Any]:
    """``"0.5"`` -> ``{"*": 0.5}``; ``"mine=0.5,other=0.2"`` -> one value per name (a bare
    value applies to every name without its own, under ``"*"``); None -> ``{}``.

    Examples
    --------
    >>> parse_assignments("0.286", float, "--mean")
    {'*': 0.286}
    >>> parse_assignments("mine=0.1, 0.5", float, "--mean")
    {'mine': 0.1, '*': 0.5}
    >>> parse_assignments("mine=x", float, "--mean")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: --mean: 'x' for mine is not a float
    """
    out: dict[str, Any] = {}
    for item in parse_list(value) or ():
        name, sep, text = item.rpartition("=")
        key = name.strip() if sep else "*"
        if key in out:
            raise MnistlabError(f"{what}: {'a value' if key == '*' else key} given twice")
        try:
            out[key] = convert(text.strip())
        except ValueError:
            where = "" if key == "*" else f" for {key}"
            kind = getattr(convert, "__name__", "value")
            raise MnistlabError(f"{what}: {text.strip()!r}{where} is not a {kind}") from None
    return out
