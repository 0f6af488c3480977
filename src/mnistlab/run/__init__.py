"""The run-directory contract: every path and table name of a ``mnistlab study`` run.

Layout (every file written atomically; a step is "done" only once its outputs exist)::

    RUN/
      manifest.json              dataset, seed, compat, versions, input hashes, variants, steps
      data/test_images.npy       the clean test split the run used (uint8 N x 28 x 28)
      data/test_labels.npy       its labels (int64)
      models/<model>/            saved models (see mnistlab.models)
      preds/<model>.parquet      predictions table, one row per (variant, sample_id)
      scores/<model>.parquet     hardness scores, keyed by (variant, sample_id)
      eval/                      robustness tables <name>.csv/.md, summary.md,
                                 heatmap_<model>.png, reliability_<model>.png
      hardness/<model>/          prioritization.csv (APFD, AUROC ... per variant x score), grids
      morpho.parquet             morphometrics of the clean test images (sample_id + columns)
      embeddings/<model>.parquet 2-D embeddings of the model's features
      compare/                   leaderboard with CIs, paired tests: <table>.csv/.parquet,
                                 delta_<a>__<b>.png per pair of models, compare.html
      label_issues/<model>.csv   label issues of the run (optional)
      fmnist-c/                  the Fashion-MNIST-C protocol (optional): prioritization.csv,
                                 faults_found.png, accuracy_by_corruption.png ...
      active_learning/           active-learning tables and plots (optional)
      report.html                the self-contained report

:class:`RunLayout` names each of them (``RunLayout(run).preds("cnn")``); readers (study,
report, explorer, export) take paths from it, never by matching file names. The folder that
``mnistlab compare`` writes (``RUN/compare/`` in a study, any ``OUT`` otherwise) is named by
:class:`CompareLayout`, so its writer and the report agree on every file.

Variant vocabulary (one word per concept, :mod:`mnistlab.corrupt.variants`): ``"identity"`` is
the *corruption* that changes nothing (severity 0), ``"clean"`` (:data:`CLEAN`) the *variant*
it yields, as written in tables and manifests; other variants are ``"<corruption>-s<severity>"``.
Their images are not stored: :func:`mnistlab.workflows.variants.variant_images` regenerates
them exactly from the clean images, the run's seed and the sample ids.
"""

from mnistlab.corrupt.variants import CLEAN, IDENTITY, parse_variant, variant_name
from mnistlab.run.integrity import changed_outputs, check_run, snapshot, step_outputs
from mnistlab.run.layout import (
    ACTIVE_LEARNING,
    ACTIVE_LEARNING_FIGURES,
    ACTIVE_LEARNING_TABLES,
    COMPARE,
    COMPARE_HTML,
    COMPARE_TABLES,
    EMBEDDINGS,
    EVAL,
    EVAL_TABLES,
    FMNIST_C,
    FMNIST_C_FIGURES,
    FMNIST_C_TABLE,
    HARDNESS,
    LABEL_ISSUES,
    MANIFEST,
    MODELS,
    MORPHO,
    PREDS,
    REPORT,
    SCORES,
    CompareLayout,
    RunLayout,
    file_label,
)
from mnistlab.run.manifest import (
    clean_images,
    clean_labels,
    corruption_params,
    mark_step,
    read_manifest,
    read_table,
    step_done,
    update_manifest,
    write_table,
)

__all__ = [
    "ACTIVE_LEARNING",
    "ACTIVE_LEARNING_FIGURES",
    "ACTIVE_LEARNING_TABLES",
    "CLEAN",
    "COMPARE",
    "COMPARE_HTML",
    "COMPARE_TABLES",
    "EMBEDDINGS",
    "EVAL",
    "EVAL_TABLES",
    "FMNIST_C",
    "FMNIST_C_FIGURES",
    "FMNIST_C_TABLE",
    "HARDNESS",
    "IDENTITY",
    "LABEL_ISSUES",
    "MANIFEST",
    "MODELS",
    "MORPHO",
    "PREDS",
    "REPORT",
    "SCORES",
    "CompareLayout",
    "RunLayout",
    "changed_outputs",
    "check_run",
    "clean_images",
    "clean_labels",
    "corruption_params",
    "file_label",
    "mark_step",
    "parse_variant",
    "read_manifest",
    "read_table",
    "snapshot",
    "step_done",
    "step_outputs",
    "update_manifest",
    "variant_name",
    "write_table",
]
