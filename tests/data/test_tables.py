"""mnistlab.data.tables: tables written by suffix, atomically, with one Markdown writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.data.markdown import markdown_table
from mnistlab.data.tables import check_table_suffix, write_table, write_table_files
from mnistlab.errors import MnistlabError

TABLE = pd.DataFrame({"score": ["gini", "entropy"], "apfd": [0.81234, float("nan")]})


def test_write_table_files_writes_each_format(tmp_path: Path) -> None:
    write_table_files(TABLE, tmp_path / "t", ("csv", "md", "parquet"))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), TABLE)
    assert pd.read_csv(tmp_path / "t.csv")["score"].tolist() == ["gini", "entropy"]
    md = (tmp_path / "t.md").read_text().splitlines()
    assert md == ["| score | apfd |", "|---|---|", "| gini | 0.8123 |", "| entropy |  |"]
    with pytest.raises(MnistlabError, match="table format 'xlsx'"):
        write_table_files(TABLE, tmp_path / "u", ("xlsx",))


@pytest.mark.parametrize("name", ["t.csv", "t.PARQUET", "t.md"])
def test_write_table_by_suffix_round_trips(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert write_table(TABLE, path) == [path]
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left
    if path.suffix.lower() == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(path), TABLE)
    elif path.suffix == ".csv":
        pd.testing.assert_frame_equal(pd.read_csv(path), TABLE)
    else:
        assert path.read_text().startswith("| score | apfd |\n")


def test_write_table_without_suffix_is_a_folder_of_csv_and_markdown(tmp_path: Path) -> None:
    out = tmp_path / "ranked"
    assert write_table(TABLE, out) == [out / "table.csv", out / "table.md"]
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == {
        "table.csv",
        "table.md",
    }


@pytest.mark.parametrize("name", ["t.xlsx", "t.json", "t.csv.gz"])
def test_unknown_suffix_is_one_line_before_writing(tmp_path: Path, name: str) -> None:
    with pytest.raises(MnistlabError, match=r"--out: .*unknown format") as info:
        check_table_suffix(tmp_path / name)
    assert "\n" not in str(info.value)
    with pytest.raises(MnistlabError):
        write_table(TABLE, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_markdown_table_formats_floats_and_leaves_nan_empty() -> None:
    table = pd.DataFrame({"score": ["gini"], "n": [3], "apfd": [0.123456], "auroc": [np.nan]})
    assert markdown_table(table) == (
        "| score | n | apfd | auroc |\n|---|---|---|---|\n| gini | 3 | 0.1235 |  |\n"
    )
    assert "| 0.12 |" in markdown_table(table[["apfd"]], digits=2)
    assert markdown_table(pd.DataFrame({"x": np.float32([0.5])})) == "| x |\n|---|\n| 0.5000 |\n"
