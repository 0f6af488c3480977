"""Every ``mnistlab ...`` command shown in the README and the docs is one the CLI accepts.

Each command line of a code block (``\\`` continuations joined, ``$`` prompts and ``#`` comments
dropped) and each inline ``mnistlab ...`` code span must name an existing command, and every
``--option`` on it must be one of that command's options. The README tour's cheap commands are
then run for real on small copies of real Fashion-MNIST and MNIST.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(\s*)(```+|~~~+)")
INLINE = re.compile(r"`(mnistlab [^`]+)`")
OPTION = re.compile(r"^(--?[A-Za-z][\w-]*)")


@dataclass(frozen=True)
class Shown:
    """One command line shown in a document."""

    path: Path
    line: int
    text: str

    def where(self) -> str:
        path = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{path}:{self.line}: {self.text}"


def doc_files() -> list[Path]:
    """README.md and the hand-written docs (generated and build folders start with ``_``)."""
    docs = REPO / "docs"
    found = [
        p
        for p in sorted(docs.rglob("*"))
        if p.suffix in {".md", ".rst"}
        and not any(part.startswith(("_", ".")) for part in p.relative_to(docs).parts)
        and "auto_examples" not in p.parts
    ]
    return [REPO / "README.md", *found]


def _rst_blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::") and not line.lstrip().startswith(".. image"):
            indent = len(line) - len(line.lstrip())
            j, body = i + 1, []
            while j < len(lines) and (
                not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent
            ):
                body.append(lines[j])
                j += 1
            blocks.append((i + 2, body))
            i = j
        else:
            i += 1
    return blocks


def _md_blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, body, j = m.group(2), [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j])
            j += 1
        blocks.append((i + 2, body))
        i = j + 1
    return blocks


def shown_commands(path: Path) -> list[Shown]:
    """The ``mnistlab`` command lines of ``path``'s code blocks and inline code spans."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = _rst_blocks(lines) if path.suffix == ".rst" else _md_blocks(lines)
    out: list[Shown] = []
    in_block: set[int] = set()
    for start, body in blocks:
        in_block.update(range(start - 1, start + len(body)))
        k = 0
        while k < len(body):
            first, text = k, body[k].strip()
            while text.endswith("\\") and k + 1 < len(body):
                k += 1
                text = text[:-1].rstrip() + " " + body[k].strip()
            k += 1
            text = text.removeprefix("$ ").strip()
            if text.startswith("mnistlab "):
                out.append(Shown(path, start + first, text))
    for n, line in enumerate(lines, 1):
        if n - 1 not in in_block:
            out.extend(Shown(path, n, m.group(1)) for m in INLINE.finditer(line))
    return out


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote in a synopsis: fall back to plain words
        return text.split("#", 1)[0].split()


def problems(shown: Shown, root) -> list[str]:
    """What is wrong with one shown command against the click command ``root``."""
    tokens = _tokens(shown.text)[1:]
    if not tokens or tokens[0].startswith("-"):
        command, args = root, tokens
    else:
        name = tokens[0].strip("[]")
        command = root.commands.get(name)
        if command is None:
            return [f"{shown.where()}: no command {name!r}"]
        args = tokens[1:]
    known = {"--help"}
    for param in command.params:
        known.update(param.opts)
        known.update(param.secondary_opts)
    wrong = []
    for token in args:
        m = OPTION.match(token.lstrip("[(|"))
        if m and m.group(1) not in known:
            wrong.append(f"{shown.where()}: {command.name} has no option {m.group(1)}")
    return wrong


@pytest.fixture(scope="module")
def cli():
    import typer

    from mnistlab.cli import app

    return typer.main.get_command(app)


def test_every_shown_command_exists_with_its_options(cli):
    shown = [s for path in doc_files() for s in shown_commands(path)]
    assert len(shown) >= 20  # the README tour alone shows more
    assert {s.path for s in shown} >= {REPO / "README.md"}
    wrong = [p for s in shown for p in problems(s, cli)]
    assert wrong == [], "\n".join(wrong)


def test_the_checker_catches_bad_commands(tmp_path, cli):
    doc = tmp_path / "bad.md"
    doc.write_text(
        "Run `mnistlab nosuch --x`.\n\n```bash\n$ mnistlab corrupt fashion-mnist \\\n"
        "    --severity 3 --colour red   # a comment --not-an-option\n"
        "mnistlab report RUN --model cnn\n```\n",
        encoding="utf-8",
    )
    rst = tmp_path / "bad.rst"
    rst.write_text("Text::\n\n    mnistlab datasets --verify --nope\n\nafter\n")
    shown = shown_commands(doc) + shown_commands(rst)
    assert [s.line for s in shown] == [4, 6, 1, 3]
    assert (
        shown[0].text
        == "mnistlab corrupt fashion-mnist --severity 3 --colour red   # a comment --not-an-option"
    )
    found = [p.split(": ", 2)[-1] for s in shown for p in problems(s, cli)]
    assert found == [
        "corrupt has no option --colour",
        "no command 'nosuch'",
        "datasets has no option --nope",
    ]


# --- the README tour, run on small inputs ------------------------------------------------------

#: Tour commands not run here, and where they are tested instead.
NOT_RUN = {
    "study": "the end-to-end study is tests/test_study.py",
    "explore": "serves until stopped; tests/cli/test_cli_report.py and tests/app",
    "fetch": "may download; tests/cli/test_cli_data.py",
}
#: Arguments added to keep a tour command small.
SMALL = {"train": ["--epochs", "1"]}


def tour_commands() -> list[Shown]:
    """The command lines of the README's first code block under "A tour"."""
    readme = REPO / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("## ") and "tour" in line)
    first, body = next((start, body) for start, body in _md_blocks(lines) if start > head)
    return [s for s in shown_commands(readme) if first <= s.line < first + len(body)]


def _small_copy(source, folder: Path, n_train: int, n_test: int) -> None:
    from mnistlab.data import load, write_idx

    folder.mkdir(parents=True)
    for split, stem, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        ds = load(source, split=split, download=False)
        write_idx(folder / f"{stem}-images-idx3-ubyte.gz", ds.images[:n])
        write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", ds.labels[:n].astype(np.uint8))


@pytest.mark.slow
def test_the_readme_tour_runs_on_small_inputs(
    tmp_path, monkeypatch, fashion_dir, mnist_dir, demo_run
):
    from mnistlab.cli import main

    data = tmp_path / "data"
    _small_copy("fashion-mnist", data / "fashion-mnist", 300, 200)
    _small_copy(mnist_dir, data / "mnist", 300, 200)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("MNISTLAB_DATA", str(data))
    tour = tour_commands()
    assert len(tour) >= 10
    ran = []
    for shown in tour:
        argv = [t.replace("../shared/data", str(data)) for t in _tokens(shown.text)[1:]]
        if argv[0] in NOT_RUN:
            if argv[0] == "study":  # what the tour's report and explore commands read
                shutil.copytree(demo_run, work / argv[argv.index("--out") + 1])
            continue
        argv += SMALL.get(argv[0], [])
        assert main(argv) == 0, shown.where()
        ran.append(argv[0])
    assert {"corrupt", "train", "predict", "report"} <= set(ran)
