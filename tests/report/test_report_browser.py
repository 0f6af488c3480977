"""The report's first screen in real headless Chromium: the summary, read from the run's tables.

The run is a demo run (:func:`mnistlab.workflows.demo.make_demo_run`, ~10 s) rather than a real
``mnistlab study --quick`` (well over a minute on two cores); its ``eval/`` and ``hardness/``
tables are written by the study's own writers, so the figures checked here are the ones a
study would leave.
"""

from __future__ import annotations

import os
import re
import shutil

import pandas as pd
import pytest

from mnistlab.report import write_report
from mnistlab.scores.label_issues import find_label_issues
from mnistlab.scores.table import LABEL_AWARE, probs_of

pytestmark = pytest.mark.browser

VARIANTS = [
    "clean",
    "gaussian_noise-s1",
    "gaussian_noise-s4",
    "motion_blur-s3",
    "rotate-s2",
    "fog-s3",
    "inverse-s1",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory, fashion_demo_run):
    out = fashion_demo_run(
        tmp_path_factory.mktemp("summary") / "run",
        400,
        variants=VARIANTS,
        seed=0,
        embeddings=("pca",),
        baseline="logreg",
    )
    # What `mnistlab label-issues RUN/preds/cnn.parquet --out RUN/label_issues/cnn.csv`
    # leaves in the run.
    preds = pd.read_parquet(out / "preds" / "cnn.parquet")
    clean = preds[preds["variant"] == "clean"]
    issues = find_label_issues(clean["label"], probs_of(clean), clean["sample_id"])
    (out / "label_issues").mkdir()
    issues.to_csv(out / "label_issues" / "cnn.csv", index=False)
    write_report(out)
    return out


def _csv(path):
    return pd.read_csv(path)  # pandas 3: floats parsed exactly (round trip)


def _figure(page, model: str, key: str) -> tuple[float, str]:
    loc = page.locator(f'#summary data[data-model="{model}"][data-figure="{key}"]')
    assert loc.count() == 1, (model, key)
    return float(loc.get_attribute("value")), loc.inner_text()


def test_first_screen_shows_the_summary_read_from_the_tables(browser, run, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((run / "report.html").as_uri())
    page.wait_for_load_state("load")
    shot = tmp_path / "first-screen.png"
    page.screenshot(path=str(shot))  # the first 1400 x 900 pixels only
    if os.environ.get("MNISTLAB_REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["MNISTLAB_REPORT_SCREENSHOT"])

    # The summary is the first section and fits in the first screen; provenance comes last.
    ids = page.eval_on_selector_all("main > section", "s => s.map(x => x.id)")
    assert ids[0] == "summary" and ids[-1] == "run"
    box = page.locator("#summary table").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900 and box["width"] <= 1400

    mce = _csv(run / "eval" / "mce.csv").set_index("model")
    corruptions = _csv(run / "eval" / "corruptions.csv")
    for model in ("cnn", "logreg"):
        for key, column in (("clean_accuracy", "clean_accuracy"), ("mce", "mce")):
            value, text = _figure(page, model, key)
            assert value == mce.loc[model, column]  # the table's float64, to the last digit
        value, text = _figure(page, model, "corrupted_accuracy")
        assert value == mce.loc[model, "corrupted_accuracy"]
        assert text == f"{100 * value:.1f} %"
        worst = corruptions[corruptions.model == model].sort_values(["accuracy", "corruption"])
        for i, row in enumerate(worst.head(3).itertuples()):
            value, text = _figure(page, model, f"worst_{i + 1}")
            assert value == row.accuracy and text.startswith(row.corruption)

        prio = _csv(run / "hardness" / model / "prioritization.csv")
        clean = prio[(prio.variant == "clean") & ~prio.score.isin(LABEL_AWARE | {"random"})]
        best = clean.loc[clean.apfd.idxmax()]
        value, text = _figure(page, model, "apfd")
        assert value == best.apfd and text == f"{best.apfd:.4f}"
        shown = page.locator(f'#summary [data-model="{model}"][data-figure="best_score"]')
        assert shown.inner_text() == best.score

    issues = _csv(run / "label_issues" / "cnn.csv")
    value, text = _figure(page, "cnn", "label_issues")
    assert value == int(issues.is_issue.sum()) and text == str(int(value))
    # Every figure links to a section of the page.
    targets = page.eval_on_selector_all("#summary a", "as => as.map(a => a.hash.slice(1))")
    assert targets and set(targets) <= set(ids)

    # No placeholder anywhere in the page.
    body = page.inner_text("body")
    assert "?" not in body
    assert not re.search(r"\b(nan|NaN|None|undefined)\b", body)
    # The heatmaps are shown at their own size, so their 11 pt labels stay 12 pixels tall.
    sizes = page.eval_on_selector_all(
        "#robustness img", "is => is.map(i => [i.clientWidth, i.naturalWidth])"
    )
    assert sizes and all(shown == natural for shown, natural in sizes)
    assert errors == []
    page.close()
