"""The self-contained HTML report."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mnistlab.errors import MnistlabError
from mnistlab.figures import report as plots
from mnistlab.report import write_report
from mnistlab.report.blocks import NOT_COMPUTED
from mnistlab.run import RunLayout

IMG = re.compile(r'<img src="([^"]*)"')


@pytest.fixture(scope="module")
def report(demo_run):
    # A study figure wider than the report's limit: it must come back downscaled.
    Image.fromarray(np.zeros((300, 2000, 3), np.uint8)).save(demo_run / "eval" / "wide.png")
    return write_report(demo_run)


@pytest.mark.slow
def test_report_is_self_contained_and_complete(report, demo_run):
    html = report.read_text()
    assert report == demo_run / "report.html"
    # No external resource of any kind: every src is a data URI, no link/script tags.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html and "<link" not in html
    sources = IMG.findall(html)
    assert len(sources) >= 10
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert image.width > 50 and image.height > 20
    for title in (
        "Summary",
        "Provenance",
        "Corruption gallery",
        "Robustness",
        "Calibration",
        "Hardness",
        "Hardest and easiest",
        "Morphometrics",
        "Embeddings",
        "Prioritisation",
        "Active learning",
    ):
        assert title in html
    # Every part a study writes by default exists in the demo run (the real layout), so only
    # active learning (``--active-learning``, not in the demo) says it was not computed.
    active = html.split('<section id="active">', 1)[1].split("</section>", 1)[0]
    assert NOT_COMPUTED in active
    assert NOT_COMPUTED not in html.replace(active, "")
    assert "eval/heatmap_cnn.png" in html
    assert "fixture_noise" in html and "T-shirt/top" in html
    assert report.stat().st_size < 5_000_000


def test_report_accuracy_table_matches_predictions(report, demo_run):
    preds = pd.read_parquet(demo_run / "preds" / "cnn.parquet")
    clean = preds[preds.variant == "clean"]
    acc = float((clean.label == clean.pred).mean())
    assert f"{acc:.3f}" in report.read_text()


def test_report_tolerates_missing_optional_parts(tmp_path, demo_run):
    run = tmp_path / "bare"
    shutil.copytree(demo_run / "data", run / "data")
    shutil.copytree(demo_run / "preds", run / "preds")
    shutil.copy(demo_run / "manifest.json", run / "manifest.json")
    html = write_report(run).read_text()
    for sid in ("hardness", "examples", "morphometrics", "embeddings", "active", "figures"):
        section = html.split(f'<section id="{sid}">', 1)[1].split("</section>", 1)[0]
        assert NOT_COMPUTED in section, sid
    # The robustness heatmap still comes from the predictions alone.
    robust = html.split('<section id="robustness">', 1)[1].split("</section>", 1)[0]
    assert "data:image/png" in robust


def test_report_attaches_study_figures_downscaled(report):
    html = report.read_text()
    figures = html.split('<section id="figures">', 1)[1].split("</section>", 1)[0]
    src = re.search(r'<img src="([^"]*)" alt="eval/wide.png"', figures).group(1)
    assert Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).width == 900


def test_report_bad_inputs(tmp_path, demo_run):
    with pytest.raises(MnistlabError, match="no such run"):
        write_report(tmp_path / "missing")
    with pytest.raises(MnistlabError, match="unknown model 'vit'"):
        write_report(demo_run, model="vit")
    with pytest.raises(MnistlabError, match="unknown hardness score 'nope'"):
        write_report(demo_run, hardness="nope")
    with pytest.raises(MnistlabError, match="per_class"):
        write_report(demo_run, per_class=0)


def test_report_prioritisation_reads_the_study_table(report, demo_run):
    html = report.read_text()
    section = html.split('<section id="prioritisation">', 1)[1].split("</section>", 1)[0]
    table = pd.read_csv(demo_run / "hardness" / "cnn" / "prioritization.csv")
    clean = table[table.variant == "clean"]
    assert "hardness/cnn/prioritization.csv" in section
    for row in clean.itertuples():
        assert f"<td>{row.score}</td>" in section and f"<td>{row.apfd!r}</td>" in section
    # The summary shows the best of them (label-aware scores and random aside), exactly.
    fair = clean[~clean.score.isin(["mistakenness", "random"])]
    best = fair.loc[fair.apfd.idxmax()]
    summary = html.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert f'data-figure="apfd" value="{float(best.apfd)!r}"' in summary


def test_report_has_no_placeholders_and_provenance_last(report):
    html = report.read_text()
    sections = re.findall(r'<section id="([^"]+)"', html)
    assert sections[0] == "summary" and sections[-1] == "run"
    text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", html))
    assert "?" not in text
    assert not re.search(r"\b(nan|NaN|None)\b", text)


def test_report_without_manifest_dates_omits_them(tmp_path, demo_run):
    run = tmp_path / "nodate"
    shutil.copytree(demo_run, run)
    manifest = json.loads((run / "manifest.json").read_text())
    for key in ("created", "seed", "dataset"):
        manifest.pop(key)
    manifest["versions"] = {"numpy": "?", "pandas": None}
    (run / "manifest.json").write_text(json.dumps(manifest))
    html = write_report(run).read_text()
    provenance = html.split('<section id="run">', 1)[1].split("</section>", 1)[0]
    assert "created" not in provenance and "<td>seed</td>" not in provenance
    assert "versions" not in provenance  # no known version left: no table
    assert "?" not in re.sub(r'src="data:[^"]*"', "", html)


def test_image_grids_keep_the_stored_polarity():
    # Dark images with one bright stroke come out dark with a bright stroke, as in the explorer.
    cells = np.zeros((1, 2, 28, 28), np.uint8)
    cells[:, :, 10:18, 4:24] = 255
    png = plots.image_grid_png(cells, ["r"], ["a", "b"])
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    dark = (grey < 40).sum()
    bright_inside = (grey > 215).sum()
    assert dark > 0.25 * bright_inside  # the black background is drawn, not inverted to white
    ink = plots.image_grid_png(255 - cells, ["r"], ["a", "b"])
    assert (np.asarray(Image.open(io.BytesIO(ink)).convert("L")) < 40).sum() < dark


@pytest.mark.browser
def test_report_opens_in_chromium_with_its_images(report, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert len(widths) >= 10 and all(w > 0 for w in widths)
    assert errors == []
    # Only the file itself (and its inlined data: images) was loaded.
    assert all(u.startswith(("file:", "data:")) for u in requests)
    page.close()


def test_report_apfd_is_the_prioritization_table_to_the_last_digit(demo_run, tmp_path):
    from mnistlab.report.summary import read_summary
    from mnistlab.scores.table import LABEL_AWARE

    csv = RunLayout(demo_run).prioritization("cnn")
    text = csv.read_text().splitlines()
    header = text[0].split(",")
    col, var, score = header.index("apfd"), header.index("variant"), header.index("score")
    written = {(row[var], row[score]): row[col] for row in (line.split(",") for line in text[1:])}
    # the summary's headline APFD is a value of the table, bit for bit
    (cnn,) = [
        s for s in read_summary(demo_run, ["cnn"], frozenset(LABEL_AWARE)) if s.model == "cnn"
    ]
    assert cnn.apfd is not None
    assert cnn.apfd == float(written[("clean", cnn.best_score)])
    # the prioritisation section prints every clean APFD exactly as the table holds it
    html = write_report(demo_run, out=tmp_path / "r.html").read_text()
    section = html[html.index('id="prioritisation"') :]
    for (variant, name), value in written.items():
        if variant == "clean":
            assert f"<td>{float(value)!r}</td>" in section, (name, value)


def test_report_shows_every_delta_heatmap_that_compare_wrote(tmp_path, demo_run):
    # The compare writer and the report both take the heatmaps' names from RunLayout: labels
    # that need escaping ("demo/cnn") and every pair's orientation must agree.
    from mnistlab.report.blocks import Section, attached_png
    from mnistlab.report.leaderboard import leaderboard_section
    from mnistlab.workflows.compare import compare_runs

    twin, third = tmp_path / "twin", tmp_path / "third"
    for copy in (twin, third):
        shutil.copytree(demo_run, copy)
    layout = RunLayout(twin)
    result = compare_runs([demo_run, twin, third], layout.compare, n_boot=20, check_out=False)
    assert result.models == ["demo/cnn", "twin/cnn", "third/cnn"]
    written = sorted(layout.compare.glob("*.png"))
    assert [p.name for p in written] == sorted(
        layout.compare_delta(a, b).name for a, b in itertools.combinations(result.models, 2)
    )
    section = leaderboard_section(twin, Section, attached_png)
    shown = sorted(b.caption.split(": ")[0] for b in section.blocks if b.kind == "img")
    assert shown == [layout.relative(p) for p in written]
    assert "compare/delta_twin_cnn__third_cnn.png" in shown


def test_active_learning_section_shows_what_the_workflow_wrote(demo_run, tmp_path) -> None:
    from mnistlab.scores import active
    from mnistlab.workflows.active import write_active_learning

    run = tmp_path / "run"
    shutil.copytree(demo_run, run)
    one = pd.DataFrame(
        {
            "seed": [0, 1, 0, 1],
            "method": ["gini", "gini", "random", "random"],
            "acc_first_half": 0.5,
            "acc_second_half": [0.8, 0.9, 0.7, 0.8],
        }
    )
    curve = pd.DataFrame(
        {"seed": 0, "method": ["gini", "gini"], "round": [0, 1], "added": [0, 50],
         "acc_second_half": [0.7, 0.75]}
    )  # fmt: skip
    write_active_learning(
        RunLayout(run).active_learning_of("cnn"), one, active.summarize(one), curve
    )
    html = write_report(run).read_text()
    section = html.split('<section id="active">', 1)[1].split("</section>", 1)[0]
    assert NOT_COMPUTED not in section
    assert "active_learning/cnn/one_shot_summary.csv" in section
    assert "active_learning/cnn/one_shot.png" in section
    assert "active_learning/cnn/learning_curve.png" in section
    assert len(IMG.findall(section)) == 2
    figures = html.split('<section id="figures">', 1)[1].split("</section>", 1)[0]
    assert "active_learning/" not in figures  # each figure is shown once
