"""The study report: one self-contained HTML file, its plots and exports, read from a run's tables.

Embeddings are computed by :mod:`mnistlab.workflows.embed`.

Examples
--------
>>> from mnistlab.report import write_report
>>> write_report("runs/fashion-mnist")  # doctest: +SKIP
"""

from mnistlab.report.export import export_run
from mnistlab.report.html import write_report

__all__ = ["export_run", "write_report"]
