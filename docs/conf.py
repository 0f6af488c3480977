"""Sphinx configuration of the mnistlab docs (``make docs``: warnings are errors)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import mnistlab_docs  # noqa: E402

import mnistlab  # noqa: E402

mnistlab_docs.generate_all()

project = "mnistlab"
author = "the mnistlab developers"
copyright = "2026, the mnistlab developers"
release = version = mnistlab.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_data", "_ext", "_templates", "_gallery_src"]
exclude_patterns += ["sg_execution_times.rst", "**/sg_execution_times.rst"]
templates_path = ["_templates"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# API reference: one page per public package, its ``__all__`` members each on their own page.
autosummary_generate = True
autosummary_ignore_module_all = False
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "pydata_sphinx_theme"
html_title = f"mnistlab {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_show_sourcelink = False

# The examples, executed: quick mode (sys.argv), outputs into a temporary folder whose PNGs
# become the gallery's pictures.
_GALLERY_OUT = tempfile.mkdtemp(prefix="mnistlab-gallery-")
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS / "_gallery_src"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "reset_argv": mnistlab_docs.QuickArgv(_GALLERY_OUT),
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "plot_gallery": os.environ.get("MNISTLAB_DOCS_PLOT", "True"),
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "image_scrapers": (mnistlab_docs.OutputScraper(_GALLERY_OUT),),
}
