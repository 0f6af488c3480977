"""Read a run's tables through DuckDB: one ``samples`` view per model.

The view joins, on ``(sample_id, variant)``, the predictions (``preds/<model>.parquet``), the
scores (``scores/<model>.parquet``), the morphometrics of the clean image (``morpho.parquet``,
on ``sample_id`` only) and the 2-D embeddings (``embeddings/<model>.parquet``). Missing
optional tables simply contribute no columns. Both the report and the explorer query it.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistlab.errors import MnistlabError
from mnistlab.run import RunLayout, read_manifest

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = [
    "HARDNESS_PREFERENCE",
    "KEYS",
    "RunTables",
    "class_names_of",
    "json_scalar",
    "models_of",
]

KEYS = ("sample_id", "variant")
# Columns of the predictions table that are not scores, even when numeric.
PRED_COLUMNS = (
    "sample_id",
    "variant",
    "corruption",
    "severity",
    "label",
    "pred",
    "model",
    "correct",
)
# The score used as "hardness" when the caller does not name one: the first one present.
HARDNESS_PREFERENCE = (
    "hardness",
    "entropy",
    "gini",
    "least_confidence",
    "margin",
    "max_softmax",
    "mistakenness",
)
_PROB = re.compile(r"^prob_(\d+)$")
_LOGIT = re.compile(r"^logit_(\d+)$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def models_of(run: str | os.PathLike[str]) -> list[str]:
    """Names of the models with a predictions table in ``run`` (``cnn`` first)."""
    return RunLayout(run).models_with_preds()


def class_names_of(run: str | os.PathLike[str], n_classes: int = 10) -> list[str]:
    """Class names from the manifest, the dataset registry, or ``"0".."9"``."""
    manifest = read_manifest(run)
    names = manifest.get("class_names")
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    dataset = manifest.get("dataset")
    if isinstance(dataset, dict):
        dataset = dataset.get("name")
    if isinstance(dataset, str):
        from mnistlab.data.registry import get_info

        try:
            return list(get_info(dataset).class_names)
        except MnistlabError:
            pass
    return [str(i) for i in range(n_classes)]


def check_run_predictions(run: Path, path: Path) -> None:
    """Validate a run's predictions table: :func:`~mnistlab.scores.checks.validate_predictions`,
    the number of classes of the manifest, and sample ids within the run's clean images."""
    import numpy as np

    from mnistlab.scores.checks import read_table_file, validate_predictions

    def wanted(name: str) -> bool:
        return name in PRED_COLUMNS or name.startswith(("prob_", "logit_"))

    names = read_manifest(run).get("class_names")
    table = validate_predictions(
        read_table_file(path, "predictions table", keep=wanted),
        str(path),
        required=("sample_id", "variant", "label", "pred"),
        n_classes=len(names) if isinstance(names, list) and names else None,
    )
    images = RunLayout(run).test_images
    if images.is_file():
        try:
            n = len(np.load(images, mmap_mode="r"))
        except (ValueError, OSError, EOFError, TypeError) as exc:
            raise MnistlabError(f"{images}: not a readable .npy file ({exc})") from None
        ids = table["sample_id"].to_numpy()
        if ids.max() >= n:
            row = int(np.flatnonzero(ids >= n)[0])
            raise MnistlabError(
                f"{path}: column 'sample_id': value {int(ids[row])} is outside 0..{n - 1} "
                f"(the run has {n} clean images) (first bad row {row})"
            )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@dataclass
class _Columns:
    preds: list[str]
    scores: list[str]
    morpho: list[str]
    embedding: list[str]


class RunTables:
    """Query one model's joined ``samples`` view of a run (thread-safe, read-only).

    Parameters
    ----------
    run : path-like
        The run directory.
    model : str, optional
        Model name (default: ``cnn`` when present, else the first one).
    materialize : bool
        Load the joined view (without the logits) into DuckDB's memory once, so repeated
        queries (the explorer's) skip reading and joining the Parquet files each time.

    Examples
    --------
    >>> tables = RunTables("runs/fashion-mnist")  # doctest: +SKIP
    >>> tables.query("SELECT variant, avg(correct::INT) FROM samples GROUP BY 1")  # doctest: +SKIP
    """

    def __init__(
        self, run: str | os.PathLike[str], model: str | None = None, materialize: bool = False
    ) -> None:
        import duckdb

        self.run = Path(run)
        if not self.run.is_dir():
            raise MnistlabError(f"{self.run}: not a directory (expected a mnistlab run)")
        models = models_of(self.run)
        if not models:
            raise MnistlabError(
                f"{self.run}: no predictions table under preds/ (run mnistlab study)"
            )
        if model is None:
            model = models[0]
        if model not in models:
            raise MnistlabError(
                f"unknown model {model!r} in {self.run} (choose from: {', '.join(models)})"
            )
        self.model = model
        self.models = models
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection = duckdb.connect(":memory:")
        self._con.execute("SET threads TO 2")
        self.columns = self._create_views()
        if materialize:
            keep = [c for c in self._describe("samples") if not _LOGIT.match(c)]
            self._con.execute(
                f"CREATE TABLE samples_mem AS SELECT {', '.join(map(_quote, keep))} FROM samples"
            )
            self._con.execute("DROP VIEW samples")
            self._con.execute("ALTER TABLE samples_mem RENAME TO samples")
            self.columns.preds = [c for c in self.columns.preds if not _LOGIT.match(c)]

    # -- setup ---------------------------------------------------------------------------------

    def _describe(self, view: str) -> list[str]:
        return [row[0] for row in self._con.execute(f"DESCRIBE {view}").fetchall()]

    def _create_views(self) -> _Columns:
        con = self._con
        layout = RunLayout(self.run)
        files = {
            "p": layout.preds(self.model),
            "s": layout.scores(self.model),
            "m": layout.morpho,
            "e": layout.embeddings(self.model),
        }
        check_run_predictions(self.run, files["p"])
        con.execute(f"CREATE VIEW p AS SELECT * FROM read_parquet({_sql_path(files['p'])})")
        pcols = self._describe("p")
        extra = []
        if "corruption" not in pcols:
            extra.append(
                "CASE WHEN variant = 'clean' THEN 'identity' "
                "ELSE regexp_extract(variant, '^(.*)-s[0-9]+$', 1) END AS corruption"
            )
        if "severity" not in pcols:
            extra.append(
                "CASE WHEN variant = 'clean' THEN 0 "
                "ELSE CAST(regexp_extract(variant, '-s([0-9]+)$', 1) AS INTEGER) END AS severity"
            )
        select = ["p.*", *extra, "(p.label = p.pred) AS correct"]
        joins = []
        taken = set(pcols) | {"corruption", "severity", "correct"}
        cols = _Columns(preds=sorted(taken), scores=[], morpho=[], embedding=[])

        def add(alias: str, on: Sequence[str], bucket: list[str]) -> None:
            path = files[alias]
            if not path.is_file():
                return
            import duckdb

            try:
                con.execute(f"CREATE VIEW {alias} AS SELECT * FROM read_parquet({_sql_path(path)})")
                described = con.execute(f"DESCRIBE {alias}").fetchall()
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise MnistlabError(f"{path}: not a readable Parquet table ({first})") from None
            names = [row[0] for row in described]
            if any(key not in names for key in on):
                return
            keys = ", ".join(on)
            dup = con.execute(
                f"SELECT {keys} FROM {alias} GROUP BY {keys} HAVING count(*) > 1 LIMIT 1"
            ).fetchall()
            if dup:
                raise MnistlabError(
                    f"{path}: duplicated key ({', '.join(map(str, dup[0]))}) in columns {keys}"
                )
            for name, dtype in ((row[0], str(row[1])) for row in described):
                if name in taken or name in KEYS or not _IDENT.match(name):
                    continue
                if not _numeric(dtype):
                    continue
                select.append(f"{alias}.{_quote(name)}")
                bucket.append(name)
                taken.add(name)
            cond = " AND ".join(f"p.{k} = {alias}.{k}" for k in on)
            joins.append(f"LEFT JOIN {alias} ON {cond}")

        add("s", KEYS, cols.scores)
        add("m", ("sample_id",), cols.morpho)
        add("e", KEYS, cols.embedding)
        con.execute(f"CREATE VIEW samples AS SELECT {', '.join(select)} FROM p {' '.join(joins)}")
        return cols

    # -- queries -------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run ``sql`` (over the ``samples`` view) and return a DataFrame."""
        with self._lock:
            return self._con.execute(sql, list(params or [])).df()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` and return plain tuples (faster than a DataFrame for small answers)."""
        with self._lock:
            return self._con.execute(sql, list(params or [])).fetchall()

    def close(self) -> None:
        """Close the DuckDB connection."""
        with self._lock:
            self._con.close()

    @property
    def prob_columns(self) -> list[str]:
        """``prob_0..prob_{C-1}`` in class order."""
        found = [c for c in self.columns.preds if _PROB.match(c)]
        return sorted(found, key=lambda c: int(c.split("_")[1]))

    @property
    def logit_columns(self) -> list[str]:
        """``logit_0..`` in class order."""
        found = [c for c in self.columns.preds if _LOGIT.match(c)]
        return sorted(found, key=lambda c: int(c.split("_")[1]))

    @property
    def score_columns(self) -> list[str]:
        """Numeric columns of the scores table."""
        return list(self.columns.scores)

    @property
    def sortable(self) -> list[str]:
        """Every column one may sort or filter on by value."""
        base = ["sample_id", "label", "pred", "severity"]
        return base + self.score_columns + self.columns.morpho + self.prob_columns

    def hardness_column(self, preferred: str | None = None) -> str | None:
        """The score used as hardness: ``preferred`` if given, else the first known one present."""
        scores = self.score_columns
        if preferred is not None:
            if preferred not in scores:
                known = ", ".join(scores) or "none"
                raise MnistlabError(f"unknown hardness score {preferred!r} (choose from: {known})")
            return preferred
        for name in HARDNESS_PREFERENCE:
            if name in scores:
                return name
        return scores[0] if scores else None

    def embedding_kinds(self) -> list[str]:
        """Embedding methods present (``pca``, ``tsne``, ``umap``...): columns ``<kind>_0/1``."""
        cols = set(self.columns.embedding)
        kinds = []
        for c in self.columns.embedding:
            if c.endswith("_0") and c[:-2] + "_1" in cols:
                kinds.append(c[:-2])
        return kinds


def _numeric(dtype: str) -> bool:
    dtype = dtype.upper()
    return any(
        dtype.startswith(t)
        for t in (
            "DOUBLE",
            "FLOAT",
            "REAL",
            "INT",
            "BIGINT",
            "SMALLINT",
            "TINYINT",
            "HUGEINT",
            "UBIGINT",
            "UINTEGER",
            "USMALLINT",
            "UTINYINT",
            "DECIMAL",
        )
    )


def json_scalar(value: Any) -> Any:
    """A table cell as a JSON value: numpy scalars to Python, NaN and infinities to ``None``."""
    import numpy as np

    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value
