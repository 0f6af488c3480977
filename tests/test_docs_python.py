"""The Python blocks of the README and of the guide pages listed here run, page by page, in
a fresh folder (the blocks of a page share one namespace, in order), on the real data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Pages whose every ``python`` block runs as it is.
PAGES = ["README.md", "docs/guide/your-model.md"]


def python_blocks(path: Path) -> list[str]:
    """The fenced ``python`` blocks of a Markdown file."""
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_of_the_page_runs(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fashion_dir: Path
) -> None:
    blocks = python_blocks(ROOT / page)
    assert blocks, f"{page} has no python block"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__doc_block__"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{page} (python block {i + 1})", "exec"), namespace)


def test_the_block_finder_finds_fenced_python_only(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("```python\nx = 1\n```\n\n```bash\nls\n```\n```python\ny = 2\n```\n")
    assert python_blocks(page) == ["x = 1\n", "y = 2\n"]
