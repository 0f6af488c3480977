"""The self-contained HTML report."""

from __future__ import annotations

import base64
import io
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mnistlab.errors import MnistlabError
from mnistlab.report import write_report
from mnistlab.report.html import NOT_COMPUTED, apfd, auroc, reliability

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
        "What was run",
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
    # Every optional part exists in the demo run, so no section says it was not computed.
    assert NOT_COMPUTED not in html
    assert "eval/accuracy_heatmap.png" in html
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


def test_auroc_matches_pairwise_definition():
    rng = np.random.default_rng(0)
    s = rng.normal(size=200).round(1)  # ties on purpose
    pos = rng.random(200) < 0.3
    pairs = s[pos][:, None] - s[~pos][None, :]
    expected = ((pairs > 0).sum() + 0.5 * (pairs == 0).sum()) / pairs.size
    assert auroc(s, pos) == pytest.approx(expected)
    assert np.isnan(auroc(s, np.zeros(200, bool)))


def test_apfd_perfect_and_worst_orderings():
    wrong = np.array([True, True, False, False, False])
    assert apfd(np.array([5, 4, 3, 2, 1.0]), wrong) == pytest.approx(1 - 3 / 10 + 1 / 10)
    assert apfd(np.array([1, 2, 3, 4, 5.0]), wrong) == pytest.approx(1 - 9 / 10 + 1 / 10)
    assert np.isnan(apfd(np.ones(3), np.zeros(3, bool)))


def test_reliability_bins_and_ece():
    conf = np.array([0.95, 0.95, 0.55, 0.55])
    ok = np.array([True, False, True, True])
    r = reliability(conf, ok)
    np.testing.assert_allclose(r["confidence"], [0.55, 0.95])
    np.testing.assert_allclose(r["accuracy"], [1.0, 0.5])
    assert r["ece"] == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)


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
