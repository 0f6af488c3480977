"""The typer application shared by every command module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mnistlab",
    help="Stress-test and diagnose image classifiers on MNIST-like data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def parse_list(value: str | None) -> list[str] | None:
    """Split a comma-separated option (``"a,b"``) into names; None stays None."""
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]
