"""The study report: one self-contained HTML file, its plots, embeddings and exports.

Examples
--------
>>> from mnistlab.report import write_report, embed_run
>>> write_report("runs/fashion-mnist")  # doctest: +SKIP
"""

from mnistlab.report.embed import embed_features, embed_run
from mnistlab.report.export import export_run
from mnistlab.report.html import write_report

__all__ = ["embed_features", "embed_run", "export_run", "write_report"]
