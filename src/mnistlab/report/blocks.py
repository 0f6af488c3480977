"""Building blocks of the report: sections, their blocks, the context every section reads.

:class:`Section` holds what a section shows (images inlined as ``data:`` URIs, HTML tables,
paragraphs); :class:`ReportContext` is the run as the section builders see it.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistlab.report.tables import RunTables

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "NOT_COMPUTED",
    "Block",
    "ReportContext",
    "Section",
    "attached_png",
    "clean_frame",
    "data_uri",
    "label_aware",
    "of_model",
]

NOT_COMPUTED = "not computed in this run"
MAX_ATTACHED_FIGURES = 40
MAX_ATTACHED_WIDTH = 900
MAX_TABLE_ROWS = 40


@dataclass
class Block:
    """One item of a section: an image, an HTML table or a paragraph."""

    kind: str
    content: str
    caption: str = ""


@dataclass
class Section:
    """A titled part of the report."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    note: str = ""

    def image(self, png: bytes, caption: str = "") -> None:
        self.blocks.append(Block("img", data_uri(png), caption))

    def table(self, frame: pd.DataFrame, caption: str = "", floatfmt: str = "{:.3f}") -> None:
        html = frame.head(MAX_TABLE_ROWS).to_html(
            index=False, border=0, classes="tbl", na_rep="", float_format=floatfmt.format
        )
        if len(frame) > MAX_TABLE_ROWS:
            caption = f"{caption} (first {MAX_TABLE_ROWS} of {len(frame)} rows)".strip()
        self.blocks.append(Block("table", html, caption))

    def text(self, text: str) -> None:
        self.blocks.append(Block("text", text))


def data_uri(png: bytes, mime: str = "image/png") -> str:
    """``data:`` URI of encoded image bytes."""
    return f"data:{mime};base64," + base64.b64encode(png).decode("ascii")


@dataclass
class ReportContext:
    """The run as the section builders see it (tables open, hardness column chosen)."""

    run: Path
    manifest: dict[str, Any]
    tables: dict[str, RunTables]
    main: RunTables | None
    class_names: list[str]
    hardness: str | None
    gallery_samples: int
    per_class: int
    max_points: int
    seed: int


def of_model(ctx: ReportContext) -> str:
    """`` of <model>`` for the heading of a section about the main model ("" without one)."""
    return f" of {ctx.main.model}" if ctx.main is not None else ""


def clean_frame(ctx: ReportContext, columns: list[str]) -> pd.DataFrame:
    """``label``, ``correct`` and ``columns`` of the main model's clean test rows."""
    assert ctx.main is not None
    cols = ", ".join(dict.fromkeys(["sample_id", "label", "pred", "correct", *columns]))
    return ctx.main.query(f"SELECT {cols} FROM samples WHERE variant = 'clean' ORDER BY sample_id")


def label_aware() -> frozenset[str]:
    """Scores that look at the true label (no fair misclassification detectors)."""
    try:
        from mnistlab.scores.table import LABEL_AWARE
    except ImportError:  # the scores domain is optional for a report
        return frozenset({"mistakenness"})
    return frozenset(LABEL_AWARE)


def attached_png(path: Path) -> bytes | None:
    """A study PNG re-encoded at most ``MAX_ATTACHED_WIDTH`` wide; None when unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            image = im.convert("RGB") if im.mode not in ("L", "RGB") else im.copy()
    except OSError:
        return None
    if image.width > MAX_ATTACHED_WIDTH:
        ratio = MAX_ATTACHED_WIDTH / image.width
        image = image.resize(
            (MAX_ATTACHED_WIDTH, max(1, round(image.height * ratio))), Image.Resampling.LANCZOS
        )
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
