"""Pages of the docs generated at build time, so that none of their facts is typed by hand.

Pages in ``generated/`` (not committed):

- ``cli.md``: every command of the typer app, its arguments and options;
- ``catalogue.md`` (+ one picture per corruption): the corruption registry;
- ``faithfulness.md``: the numbers ``make faithfulness`` recorded in ``docs/_data/``;
- ``benchmarks.md``: what ``make bench`` recorded in ``benchmarks/results/``;

and
- ``_gallery_src/*.py``: the examples in sphinx-gallery's format (their ``# %% [markdown]``
  cells become reST text blocks).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
GENERATED = DOCS / "generated"
GALLERY_SRC = DOCS / "_gallery_src"


def _write(path: Path, text: str) -> None:
    """Write only when the content changed (keeps Sphinx's incremental builds incremental)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- command line -----------------------------------------------------------------------------


def _param_row(param: Any) -> list[str]:
    names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
    kind = "argument" if param.param_type_name == "argument" else "option"
    default = param.default if param.default not in (None, (), []) else ""
    if callable(default):
        default = ""
    help_text = getattr(param, "help", None) or ""
    return [names if kind == "option" else f"`{param.name.upper()}`", help_text, f"{default}"]


def cli_reference() -> str:
    """Markdown for every command of ``mnistlab.cli.app``."""
    import typer

    from mnistlab.cli import app

    root = typer.main.get_command(app)
    out = ["# Command line reference", ""]
    out.append(
        "Generated from the typer app (`typer.main.get_command(mnistlab.cli.app)`) when the "
        "docs are built. Exit codes: 0 on success, 2 on bad usage or bad input (one line on "
        "stderr naming the culprit), 130 on an interrupt, 143 on SIGTERM."
    )
    out.append("")
    ctx_cls = type(root).context_class
    for name in sorted(root.commands):
        cmd = root.commands[name]
        ctx = ctx_cls(cmd, info_name=name, parent=ctx_cls(root, info_name="mnistlab"))
        usage = " ".join(cmd.collect_usage_pieces(ctx))
        usage = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), usage)
        out += [f"## `mnistlab {name}`", "", f"(cli-{name})=", ""]
        out += ["```text", f"mnistlab {name} {usage}", "```", ""]
        text = (cmd.help or "").strip()
        if text:
            out += [text.replace("\b\n", ""), ""]
        rows = [_param_row(p) for p in cmd.params if not getattr(p, "hidden", False)]
        if rows:
            out.append(_table(["name", "what", "default"], rows))
    return "\n".join(out) + "\n"


# --- corruption catalogue ---------------------------------------------------------------------


def _catalogue_images() -> Any:
    """Three real test images of different classes (Fashion-MNIST; MNIST as a fallback)."""
    import numpy as np

    from mnistlab.data import load

    try:
        ds = load("fashion-mnist", split="test", download=False)
    except Exception:
        ds = load(REPO.parent / "shared" / "data" / "mnist", split="test")
    picks = [int(np.flatnonzero(ds.labels == c)[0]) for c in (0, 7, 9) if (ds.labels == c).any()]
    return ds.images[picks]


def corruption_catalogue() -> str:
    """Markdown for every registered corruption, with a picture of its five severities."""
    from mnistlab.corrupt import FAMILIES, get, names
    from mnistlab.corrupt.grid import save_grid

    images = _catalogue_images()
    pictures = GENERATED / "catalogue"
    pictures.mkdir(parents=True, exist_ok=True)
    out = ["# Corruption catalogue", ""]
    out.append(
        "Generated from the registry (`mnistlab.corrupt.names()`, `get(name)`) when the docs "
        "are built: every registered corruption, its five severity parameters and what "
        '`compat="mnist-c"` changes. Each picture is `mnistlab.corrupt.grid.corruption_grid` '
        "on three real test images: clean, then severities 1 to 5; the release's benchmark "
        "severity is framed in red."
    )
    out.append("")
    every = names()
    out.append(f"{len(every)} corruptions in {len(FAMILIES)} families.")
    out.append("")
    for family in FAMILIES:
        members = names(family=family)
        if not members:
            continue
        out += [f"## {family}", ""]
        for name in members:
            spec = get(name)
            png = pictures / f"{name}.png"
            if not png.is_file():
                save_grid(png, images, corruptions=[name])
            out += [f"### `{name}`", ""]
            if spec.description:
                out += [spec.description, ""]
            levels = "; ".join(map(str, spec.levels)) if spec.leveled else "no levels"
            facts = [
                ["family", spec.family],
                ["releases", ", ".join(spec.releases) or "-"],
                ["benchmark severity", spec.benchmark_severity or "-"],
                [
                    "severities 1..5",
                    levels,
                ],
                ["ordered by strength", "yes" if spec.monotonic else "no"],
                ["aliases", ", ".join(spec.aliases) or "-"],
                ['`compat="mnist-c"`', spec.compat_note or "only the uint8 cast (truncate)"],
            ]
            out.append(_table(["", ""], facts))
            out += [f"![{name} at every severity](catalogue/{name}.png)", ""]
    return "\n".join(out) + "\n"


# --- recorded numbers -------------------------------------------------------------------------


def _load_json(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def faithfulness_tables() -> str:
    """Markdown tables from ``docs/_data/faithfulness/*.json`` (``make faithfulness``)."""
    entries = {e["name"]: e for e in _load_json(DOCS / "_data" / "faithfulness")}
    out = ["# Faithfulness", ""]
    out.append(
        "How closely mnistlab reproduces the published datasets. Every number below was "
        "recorded by a test (`make faithfulness` runs them with `MNISTLAB_RECORD` set, which "
        "writes `docs/_data/faithfulness/*.json`) and is rendered from those files when the docs "
        "are built. The same tests run in `make test`, where they fail when a target is missed."
    )
    out.append("")
    morpho = entries.get("morpho_mnist_t10k")
    if morpho:
        out += [
            f"## Morphometrics of the {morpho['images']:,} MNIST test digits",
            "",
            f"Against the published `original/t10k-morpho.csv`; recorded {morpho['recorded']} "
            f"by `{morpho['test']}`.",
            "",
        ]
        rows = [
            [
                f"`{r['measure']}`",
                f"{r['pearson_r']:.5f}",
                f"{r['median_abs_diff']:.4f}",
                f"r >= {r['target_r']}, <= {r['target_median_abs_diff']}",
            ]
            for r in morpho["rows"]
        ]
        out.append(_table(["measure", "Pearson r", "median abs diff", "target"], rows))
    release = [e for n, e in sorted(entries.items()) if n.startswith("fmnist_c_")]
    if release:
        out += ["## Fashion-MNIST-C release images reproduced", ""]
        out.append(
            "The first 100 images of each split of the real release, matched against every "
            'corruption that is deterministic given its random draws, in `compat="mnist-c"` '
            "mode (within one grey level)."
        )
        out.append("")
        rows = [
            [
                e["split"],
                f"{e['reproduced']} of {e['images']}",
                ", ".join(f"{k} {v}" for k, v in e["by_corruption"].items()),
                e["recorded"],
            ]
            for e in release
        ]
        out.append(_table(["split", "reproduced", "by corruption", "recorded"], rows))
    if not (morpho or release):
        out += ["No recorded numbers yet: run `make faithfulness`.", ""]
    return "\n".join(out) + "\n"


def benchmark_results() -> str:
    """One section per ``benchmarks/results/*.json`` written by ``make bench``."""
    entries = _load_json(REPO / "benchmarks" / "results")
    scripts = sorted(p.stem for p in (REPO / "benchmarks").glob("bench_*.py"))
    out = ["# Benchmarks", ""]
    out.append(
        "What each `benchmarks/bench_*.py` printed the last time `make bench` (`scripts/bench.py`) "
        "ran it, read from `benchmarks/results/*.json` when the docs are built. Each benchmark "
        "compares against a baseline measured in the same run, so the ratios hold on a loaded "
        "machine better than the absolute rates; the load average is recorded with each."
    )
    out.append("")
    done = {e["benchmark"] for e in entries}
    for e in entries:
        out += [f"## `{e['benchmark']}`", ""]
        mode = " (quick mode)" if e.get("quick") else ""
        out.append(
            f"`{e['command']}`{mode}, {e['date']}: {e['wall_s']} s wall on {e['cores']} cores, "
            f"load average {e['load_before']} before and {e['load_after']} after; "
            f"mnistlab {e['mnistlab']}, Python {e['python']}."
        )
        out += ["", "```text", e["stdout"].rstrip(), "```", ""]
    missing = [s for s in scripts if s not in done]
    if missing:
        out += ["## Not recorded yet", ""]
        out.append(
            "Run `make bench` (or `python scripts/bench.py --only NAME`) to record: "
            + ", ".join(f"`{m}`" for m in missing)
            + "."
        )
        out.append("")
    return "\n".join(out) + "\n"


# --- gallery ----------------------------------------------------------------------------------


class QuickArgv:
    """sphinx-gallery's ``reset_argv``: run each example as ``NAME.py --quick --out DIR/NAME``."""

    def __init__(self, out: str) -> None:
        self.out = out

    def __call__(self, gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
        name = Path(script_vars["src_file"]).stem.removeprefix("plot_")
        return ["--quick", "--out", str(Path(self.out) / name)]

    def __repr__(self) -> str:  # stable, so that Sphinx's saved environment stays valid
        return "QuickArgv()"


class OutputScraper:
    """sphinx-gallery image scraper: the PNGs an example wrote into its ``--out`` folder.

    After each code block, every PNG that appeared under ``DIR/NAME`` since the last block is
    copied into the gallery, in name order: the pictures shown are the files the example
    wrote (matplotlib figures it saved, image grids, the analyses' plots).
    """

    def __init__(self, out: str) -> None:
        self.out = out
        self.seen: set[Path] = set()

    def __call__(self, block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
        import shutil

        from sphinx_gallery.scrapers import figure_rst

        name = Path(block_vars["src_file"]).stem.removeprefix("plot_")
        new = sorted(set((Path(self.out) / name).rglob("*.png")) - self.seen)
        self.seen.update(new)
        paths = []
        for png, target in zip(new, block_vars["image_path_iterator"], strict=False):
            shutil.copyfile(png, target)
            paths.append(target)
        return figure_rst(paths, gallery_conf["src_dir"])

    def __repr__(self) -> str:
        return "OutputScraper()"


_INLINE_CODE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def _md_to_rst(lines: list[str]) -> list[str]:
    """The small Markdown of the examples' text cells as reST: headings, code, links."""
    out = []
    for line in lines:
        heading = re.match(r"^(#{1,3}) (.*)$", line)
        text = heading.group(2) if heading else line
        text = _INLINE_CODE.sub(r"``\1``", text)
        text = _LINK.sub(r"`\1 <\2>`__", text)
        if heading:
            mark = {1: "=", 2: "-", 3: "^"}[len(heading.group(1))]
            out += [text, mark * len(text), ""]
        else:
            out.append(text)
    return out


def gallery_script(source: Path) -> str:
    """``source`` (Jupytext percent format) as a sphinx-gallery script with a reST docstring."""
    cells: list[tuple[str, list[str]]] = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif not cells:
            cells.append(("code", [line]))
        else:
            cells[-1][1].append(line)
    head = ["Example"]
    if cells and cells[0][0] == "markdown":
        head = [re.sub(r"^# ?", "", line) for line in cells.pop(0)[1]]
    docstring = "\n".join(_md_to_rst(head)).strip().replace('"""', "'''")
    out = [f'"""\n{docstring}\n"""', ""]
    # Run as if from examples/ (the scripts find ../shared from their own path).
    out += [
        "# sphinx_gallery_start_ignore",
        f"__file__ = {str(source)!r}",
        "# sphinx_gallery_end_ignore",
        "",
    ]
    for kind, body in cells:
        if kind == "markdown":
            text = _md_to_rst([re.sub(r"^# ?", "", line) for line in body])
            out += ["# %%"] + [("# " + t).rstrip() for t in text] + [""]
        else:
            out += ["# %%", *body]
    return "\n".join(out).rstrip() + "\n"


def gallery_sources() -> list[Path]:
    """Write ``_gallery_src/`` from ``examples/*.py``; return the scripts written."""
    written = []
    _write(
        GALLERY_SRC / "GALLERY_HEADER.rst",
        "Examples\n========\n\nThe scripts of ``examples/``, run when the docs are built "
        "(in quick mode: small subsets, one short epoch), with what they print and draw. Each is "
        "also a notebook in Jupytext's percent format and runs as "
        "``python examples/NAME.py [--quick]``.\n",
    )
    keep = set()
    for source in sorted((REPO / "examples").glob("[0-9]*.py")):
        target = GALLERY_SRC / f"plot_{source.name}"
        _write(target, gallery_script(source))
        keep.add(target.name)
        written.append(target)
    for stale in GALLERY_SRC.glob("plot_*.py"):
        if stale.name not in keep:
            stale.unlink()
    return written


def generate_all() -> None:
    """Every generated page (called from conf.py before Sphinx reads the sources)."""
    _write(GENERATED / "cli.md", cli_reference())
    _write(GENERATED / "catalogue.md", corruption_catalogue())
    _write(GENERATED / "faithfulness.md", faithfulness_tables())
    _write(GENERATED / "benchmarks.md", benchmark_results())
    gallery_sources()
