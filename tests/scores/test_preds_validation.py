"""One validator for predictions tables, through every consumer: library function and CLI.

Each hostile table is refused by ``score``, ``prioritize``, ``hardness``, ``evaluate`` (a table
file) and ``report``, ``explore``, ``export-run``, ``hardness`` (a run whose
``preds/cnn.parquet`` it is) with one ``MnistlabError`` line naming the file (and, for bad
content, the column and the first bad row); the CLI exits 2 with that line on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.cli import main
from mnistlab.errors import MnistlabError

N, C = 24, 10


def good_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    labels = np.arange(N) % C
    logits = 3.0 * np.eye(C)[labels] + rng.normal(size=(N, C))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    half = N // 2
    table = pd.DataFrame(
        {
            "sample_id": np.r_[np.arange(half), np.arange(half)],
            "variant": ["clean"] * half + ["fog-s2"] * half,
            "corruption": ["identity"] * half + ["fog"] * half,
            "severity": [0] * half + [2] * half,
            "label": labels,
            "pred": probs.argmax(axis=1),
            "model": "cnn",
        }
    )
    for k in range(C):
        table[f"logit_{k}"] = logits[:, k]
    for k in range(C):
        table[f"prob_{k}"] = probs[:, k]
    return table


def _set(column: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def f(t: pd.DataFrame) -> pd.DataFrame:
        t = t.copy()
        if isinstance(value, str):
            t[column] = t[column].astype(str)
        elif value is None:
            t[column] = t[column].astype(object)
        elif isinstance(value, float):
            t[column] = t[column].astype(np.float64)
        t.loc[row, column] = value
        return t

    return f


def _nine_classes(t: pd.DataFrame) -> pd.DataFrame:
    t = t.drop(columns=["prob_9", "logit_9"])
    probs = [f"prob_{k}" for k in range(9)]
    t[probs] = t[probs].div(t[probs].sum(axis=1), axis=0)
    return t


def _halve(t: pd.DataFrame) -> pd.DataFrame:
    t = t.copy()
    probs = [f"prob_{k}" for k in range(C)]
    t[probs] = t[probs] * 0.5
    return t


def _probs_as_strings(t: pd.DataFrame) -> pd.DataFrame:
    return t.assign(prob_3=t["prob_3"].map(lambda v: f"{v:.3f}%"))


def _gap(t: pd.DataFrame) -> pd.DataFrame:
    return t.rename(columns={"prob_9": "prob_11", "logit_9": "logit_11"})


#: name -> (make the bad table, fragments its error must contain)
CONTENT: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], tuple[str, ...]]] = {
    "nan_prob": (_set("prob_3", 5, np.nan), ("prob_3", "row 5")),
    "inf_prob": (_set("prob_2", 7, np.inf), ("prob_2", "row 7")),
    "prob_above_1": (_set("prob_0", 4, 1.5), ("prob_0", "row 4")),
    "negative_prob": (_set("prob_1", 3, -0.2), ("prob_1", "row 3")),
    "rows_not_summing_to_1": (_halve, ("sum", "row 0")),
    # A table's own label 9 is out of its 0..8; a run's manifest names 10 classes.
    "nine_classes": (_nine_classes, ("9",)),
    "label_42": (_set("label", 6, 42), ("label", "42", "row 6")),
    "label_negative": (_set("label", 2, -1), ("label", "row 2")),
    "pred_minus_1": (_set("pred", 8, -1), ("pred", "row 8")),
    "pred_10": (_set("pred", 1, 10), ("pred", "row 1")),
    "label_float": (_set("label", 5, 1.5), ("label", "row 5")),
    "label_nan": (_set("label", 5, np.nan), ("label", "row 5")),
    "label_string": (_set("label", 3, "cat"), ("label",)),
    "label_bool": (lambda t: t.assign(label=t["label"] > 4), ("label",)),
    "sample_id_float": (_set("sample_id", 4, 2.5), ("sample_id", "row 4")),
    "sample_id_negative": (_set("sample_id", 4, -3), ("sample_id", "row 4")),
    "sample_id_string": (_set("sample_id", 0, "a"), ("sample_id",)),
    "duplicated_row": (lambda t: pd.concat([t, t.iloc[[3]]], ignore_index=True), ("row 24",)),
    "duplicated_key": (_set("sample_id", 1, 0), ("duplicated", "row 1")),
    "variant_missing_value": (_set("variant", 2, None), ("variant", "row 2")),
    "probs_as_strings": (_probs_as_strings, ("prob_3",)),
    "prob_bool": (lambda t: t.assign(prob_4=t["prob_4"] > 0.5), ("prob_4",)),
    "nan_logit": (_set("logit_5", 9, np.nan), ("logit_5", "row 9")),
    "class_column_gap": (_gap, ("prob_9",)),
    "one_class": (
        lambda t: t.drop(columns=[f"{p}_{k}" for p in ("prob", "logit") for k in range(1, C)]),
        ("class",),
    ),
    "no_prob_columns": (
        lambda t: t.drop(columns=[c for c in t.columns if c.startswith(("prob_", "logit_"))]),
        ("prob_0",),
    ),
    "missing_sample_id": (lambda t: t.drop(columns="sample_id"), ("sample_id",)),
    "missing_label": (lambda t: t.drop(columns="label"), ("label",)),
    "empty_table": (lambda t: t.iloc[:0], ("empty",)),
}


def _write_garbage(path: Path) -> None:
    path.write_bytes(b"\x00\x01garbage\xff" * 50)


def _write_csv_as_parquet(path: Path) -> None:
    good_table().to_csv(path, index=False)


def _write_dir(path: Path) -> None:
    path.mkdir()


def _write_empty(path: Path) -> None:
    path.write_bytes(b"")


def _write_truncated(path: Path) -> None:
    good_table().to_parquet(path)
    path.write_bytes(path.read_bytes()[:300])


#: name -> write a bad file at the path
FILES: dict[str, Callable[[Path], None]] = {
    "garbage_bytes": _write_garbage,
    "csv_named_parquet": _write_csv_as_parquet,
    "directory": _write_dir,
    "empty_file": _write_empty,
    "truncated_parquet": _write_truncated,
}
CASES = [*CONTENT, *FILES]


def write_case(case: str, path: Path) -> tuple[str, ...]:
    """Write the hostile table ``case`` at ``path``; the fragments its error must name."""
    if case in FILES:
        FILES[case](path)
        return ()
    make, fragments = CONTENT[case]
    make(good_table()).to_parquet(path, index=False)
    return fragments


def make_run(root: Path, preds: Path | None = None) -> Path:
    """A minimal run directory (manifest, clean images, labels) around a predictions table."""
    (root / "data").mkdir(parents=True)
    (root / "preds").mkdir()
    np.save(root / "data" / "test_images.npy", np.zeros((N, 28, 28), np.uint8))
    np.save(root / "data" / "test_labels.npy", np.arange(N) % C)
    (root / "manifest.json").write_text(
        json.dumps({"seed": 0, "class_names": [str(i) for i in range(C)]})
    )
    if preds is None:
        good_table().to_parquet(root / "preds" / "cnn.parquet", index=False)
    return root


def _no_serving(monkeypatch) -> None:
    """``explore`` must fail before serving: a server started on bad input fails the test."""
    import uvicorn

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the explorer started on an invalid table")

    monkeypatch.setattr(uvicorn.Server, "run", refuse)


TABLE_LIB: dict[str, Callable[[Path, Path], object]] = {}


def _lib_score(path: Path, out: Path) -> object:
    from mnistlab.scores.table import read_preds, score_table

    return score_table(read_preds(path))


def _lib_prioritize(path: Path, out: Path) -> object:
    from mnistlab.scores.table import prioritization_table, read_scores_or_preds

    return prioritization_table(read_scores_or_preds(path))


def _lib_evaluate(path: Path, out: Path) -> object:
    from mnistlab.workflows.evaluate import evaluate_predictions as evaluate

    return evaluate([path], out, plots=False)


TABLE_LIB = {"score": _lib_score, "prioritize": _lib_prioritize, "evaluate": _lib_evaluate}
TABLE_CLI: dict[str, Callable[[Path, Path], list[str]]] = {
    "score": lambda p, out: ["score", str(p), "--out", str(out / "s.parquet")],
    "prioritize": lambda p, out: ["prioritize", str(p)],
    "hardness": lambda p, out: ["hardness", str(p), "--out", str(out / "h")],
    "evaluate": lambda p, out: ["evaluate", str(p), "--out", str(out / "e")],
}


def _run_report(run: Path, out: Path) -> object:
    from mnistlab.report import write_report

    return write_report(run)


def _run_explore(run: Path, out: Path) -> object:
    from mnistlab.app import create_app

    return create_app(run, warm=False)


def _run_export(run: Path, out: Path) -> object:
    from mnistlab.report import export_run

    return export_run(run, out / "x")


def _run_hardness(run: Path, out: Path) -> object:
    from mnistlab.workflows.hardness import analyze_run

    return analyze_run(run, "cnn")


RUN_LIB = {
    "report": _run_report,
    "explore": _run_explore,
    "export-run": _run_export,
    "hardness": _run_hardness,
}
RUN_CLI: dict[str, Callable[[Path, Path], list[str]]] = {
    "report": lambda run, out: ["report", str(run)],
    "explore": lambda run, out: ["explore", str(run), "--no-browser"],
    "export-run": lambda run, out: ["export-run", str(run), "--out", str(out / "x")],
    "hardness": lambda run, out: ["hardness", str(run)],
}


def _check_message(message: str, path: Path, fragments: tuple[str, ...]) -> None:
    assert "\n" not in message.strip()
    assert str(path) in message or path.name in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def _check_cli(argv: list[str], capsys, path: Path, fragments: tuple[str, ...]) -> None:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mnistlab: error: "), err
    assert "Traceback" not in err
    _check_message(lines[0], path, fragments)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("consumer", sorted(TABLE_LIB))
def test_table_consumers_refuse(consumer, case, tmp_path):
    path = tmp_path / "preds.parquet"
    fragments = write_case(case, path)
    with pytest.raises(MnistlabError) as info:
        TABLE_LIB[consumer](path, tmp_path / "out")
    _check_message(str(info.value), path, fragments)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("consumer", sorted(TABLE_CLI))
def test_table_commands_exit_2(consumer, case, tmp_path, capsys):
    path = tmp_path / "preds.parquet"
    fragments = write_case(case, path)
    _check_cli(TABLE_CLI[consumer](path, tmp_path), capsys, path, fragments)
    assert not (tmp_path / "s.parquet").exists() and not (tmp_path / "e").exists()


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("consumer", sorted(RUN_LIB))
def test_run_consumers_refuse(consumer, case, tmp_path, monkeypatch):
    run = make_run(tmp_path / "run", preds=tmp_path / "run" / "preds" / "cnn.parquet")
    path = run / "preds" / "cnn.parquet"
    fragments = write_case(case, path)
    with pytest.raises(MnistlabError) as info:
        RUN_LIB[consumer](run, tmp_path)
    _check_message(str(info.value), path, fragments)
    assert not (run / "report.html").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("consumer", sorted(RUN_CLI))
def test_run_commands_exit_2(consumer, case, tmp_path, capsys, monkeypatch):
    _no_serving(monkeypatch)
    run = make_run(tmp_path / "run", preds=tmp_path / "run" / "preds" / "cnn.parquet")
    path = run / "preds" / "cnn.parquet"
    fragments = write_case(case, path)
    _check_cli(RUN_CLI[consumer](run, tmp_path), capsys, path, fragments)
    assert not (run / "report.html").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_good_table_passes_every_table_consumer(tmp_path, suffix, capsys):
    path = tmp_path / f"preds{suffix}"
    table = good_table()
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    for consumer, call in TABLE_LIB.items():
        assert call(path, tmp_path / consumer) is not None
    assert main(["score", str(path), "--out", str(tmp_path / "s.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "s.csv")) == N


def test_a_good_run_opens(tmp_path):
    from mnistlab.report.tables import RunTables

    t = RunTables(make_run(tmp_path / "run"))
    assert t.rows("SELECT count(*) FROM samples")[0][0] == N
    t.close()


@pytest.mark.parametrize(
    "case", ["label_42", "nan_prob", "duplicated_row", "label_float", "empty_table"]
)
def test_csv_tables_are_checked_the_same(case, tmp_path, capsys):
    path = tmp_path / "preds.csv"
    make, fragments = CONTENT[case]
    make(good_table()).to_csv(path, index=False)
    with pytest.raises(MnistlabError) as info:
        _lib_score(path, tmp_path)
    _check_message(str(info.value), path, fragments if case != "empty_table" else ())
    _check_cli(["score", str(path), "--out", str(tmp_path / "s.csv")], capsys, path, ())


def _check_cli_one_line(argv: list[str], capsys) -> None:
    """Exit 2 and one line (the file is named once ``prioritize`` reads through
    :func:`~mnistlab.scores.table.read_scores_or_preds`; see the library tests)."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_garbage_csv(tmp_path, capsys):
    from mnistlab.scores.table import read_scores_or_preds

    path = tmp_path / "preds.csv"
    path.write_bytes(b"\xff\xfe\x00garbage" * 20)
    _check_cli(["score", str(path), "--out", str(tmp_path / "s.csv")], capsys, path, ())
    with pytest.raises(MnistlabError) as info:
        read_scores_or_preds(path)
    _check_message(str(info.value), path, ("CSV",))
    _check_cli_one_line(["prioritize", str(path)], capsys)


def test_evaluate_refuses_tables_of_different_class_counts(tmp_path, capsys):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    good_table().to_parquet(a)
    nine = _nine_classes(good_table())
    nine = nine.assign(label=nine["label"] % 9, pred=nine["pred"] % 9, model="other")
    nine.to_parquet(b)
    from mnistlab.workflows.evaluate import evaluate_predictions as evaluate

    with pytest.raises(MnistlabError, match="9 classes, expected 10"):
        evaluate([a, b], tmp_path / "e", plots=False)
    _check_cli(["evaluate", str(a), str(b), "--out", str(tmp_path / "e")], capsys, b, ("9",))


def test_evaluate_refuses_the_same_model_twice(tmp_path):
    a = tmp_path / "a.parquet"
    good_table().to_parquet(a)
    from mnistlab.workflows.evaluate import evaluate_predictions as evaluate

    with pytest.raises(MnistlabError, match="given twice"):
        evaluate([a, a], tmp_path / "e", plots=False)


def test_duplicated_rows_are_not_double_counted_in_a_scores_table(tmp_path, capsys):
    from mnistlab.scores.table import prioritization_table, score_table

    scores = score_table(good_table())
    doubled = pd.concat([scores, scores.iloc[[0]]], ignore_index=True)
    with pytest.raises(MnistlabError, match="duplicated key"):
        prioritization_table(doubled)
    path = tmp_path / "scores.parquet"
    doubled.to_parquet(path)
    from mnistlab.scores.table import read_scores_or_preds

    with pytest.raises(MnistlabError) as info:
        read_scores_or_preds(path)
    _check_message(str(info.value), path, ("duplicated", "row 24"))
    _check_cli_one_line(["prioritize", str(path)], capsys)
    with pytest.raises(MnistlabError, match="NaN or infinite score"):
        prioritization_table(scores.assign(gini=np.nan))
    with pytest.raises(MnistlabError, match="empty"):
        prioritization_table(scores.iloc[:0])


def test_run_sample_ids_must_be_within_the_clean_images(tmp_path):
    from mnistlab.report.tables import RunTables

    run = make_run(tmp_path / "run")
    np.save(run / "data" / "test_images.npy", np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(MnistlabError, match=r"sample_id.*outside 0\.\.4"):
        RunTables(run)


def test_run_with_garbage_scores_table(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    (run / "scores").mkdir()
    (run / "scores" / "cnn.parquet").write_bytes(b"not parquet at all")
    from mnistlab.report.tables import RunTables

    with pytest.raises(MnistlabError, match=r"scores/cnn\.parquet"):
        RunTables(run)
    scores = pd.DataFrame({"sample_id": [0, 0], "variant": ["clean"] * 2, "gini": [0.1, 0.2]})
    scores.to_parquet(run / "scores" / "cnn.parquet")
    with pytest.raises(MnistlabError, match="duplicated key"):
        RunTables(run)


@pytest.mark.parametrize("make", ["empty", "no_preds", "file"])
def test_report_refuses_a_folder_that_is_not_a_run(tmp_path, make, capsys):
    from mnistlab.report import write_report

    target = tmp_path / "notarun"
    if make == "file":
        target.write_text("x")
    else:
        target.mkdir()
        if make == "no_preds":
            (target / "eval").mkdir()
            (target / "manifest.json").write_text("{}")
    with pytest.raises(MnistlabError, match="notarun"):
        write_report(target)
    assert not (target / "report.html").exists() if target.is_dir() else True
    _check_cli(["report", str(target)], capsys, target, ())
