"""The pages of ``mnistlab diversity`` and ``disentangle``, with the report's machinery.

``diversity.html`` and ``disentangle.html`` are rendered from the report's template
(``templates/report.html.j2``: inline CSS, every PNG inlined as a ``data:`` URI), so each is
one self-contained file like ``report.html``. The workflows
(:mod:`mnistlab.workflows.represent`, :mod:`mnistlab.workflows.disentangle`) build the
sections from their tables and figures with the helpers here.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> sec = text_section("summary", "Summary", ["two lines", "of text"])
>>> sec.table(pd.DataFrame({"metric": ["thickness"], "pvalue": [0.001]}))
>>> path = write_page(pathlib.Path(tempfile.mkdtemp()) / "page.html", "a page", [sec])
>>> "<h2>Summary</h2>" in path.read_text()
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mnistlab._atomic import write_text_atomic
from mnistlab.report.blocks import NOT_COMPUTED, Section, attached_png

__all__ = ["figure_section", "parameters_section", "render_page", "text_section", "write_page"]


def text_section(id: str, title: str, lines: Iterable[str], note: str = "") -> Section:
    """A section of paragraphs, one per line of ``lines``.

    Examples
    --------
    >>> [b.content for b in text_section("s", "S", ["a", "b"]).blocks]
    ['a', 'b']
    """
    sec = Section(id, title, note=note)
    for line in lines:
        sec.text(line)
    return sec


def figure_section(
    id: str, title: str, figures: Sequence[tuple[Path, str]], text: Sequence[str] = ()
) -> Section:
    """A section of the PNGs ``figures`` (path, caption), inlined; unreadable ones are left out.

    Examples
    --------
    >>> figure_section("f", "Figures", [(Path("missing.png"), "none")]).blocks
    []
    """
    sec = Section(id, title)
    for line in text:
        sec.text(line)
    for path, caption in figures:
        png = attached_png(Path(path)) if Path(path).is_file() else None
        if png is not None:
            sec.image(png, caption)
    return sec


def parameters_section(
    parameters: Mapping[str, Any], title: str = "How it was computed"
) -> Section:
    """The inputs and parameters of a run as a two-column table, with mnistlab's version.

    Examples
    --------
    >>> sec = parameters_section({"seed": 0})
    >>> sec.blocks[0].kind
    'table'
    """
    import pandas as pd

    from mnistlab import __version__

    rows = [(str(k), "" if v is None else str(v)) for k, v in parameters.items()]
    rows.append(("mnistlab", __version__))
    sec = Section("provenance", title)
    sec.table(pd.DataFrame(rows, columns=["parameter", "value"]))
    return sec


def render_page(title: str, sections: Sequence[Section]) -> str:
    """The HTML of a page of ``sections`` (the report's template and style).

    Examples
    --------
    >>> render_page("t", []).startswith("<!DOCTYPE html>")
    True
    """
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("mnistlab.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    return env.get_template("report.html.j2").render(
        title=title, sections=list(sections), not_computed=NOT_COMPUTED
    )


def write_page(path: str | os.PathLike[str], title: str, sections: Sequence[Section]) -> Path:
    """Write :func:`render_page` to ``path`` atomically; return the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_page(pathlib.Path(tempfile.mkdtemp()) / "p.html", "t", []).suffix
    '.html'
    """
    target = Path(path)
    write_text_atomic(target, render_page(title, sections))
    return target
