"""The explorer page in real headless Chromium (Playwright)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Every blocked load or inline script/style fires this event (and a console message).
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = page.goto(live_server + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#gallery .thumb")
    yield page
    violations = page.evaluate("() => window.__csp")
    page.close()
    assert violations == []
    assert [m for m in messages if "Content Security Policy" in m] == []
    assert errors == []


def _first(page):
    return page.eval_on_selector("#gallery .thumb", "d => [d.dataset.variant, +d.dataset.sampleId]")


def _wait_gallery(page, predicate: str):
    page.wait_for_function(
        f"() => {{ const t = [...document.querySelectorAll('#gallery .thumb')]; "
        f"return t.length > 0 && t.every(d => {predicate}); }}"
    )


def test_sort_by_entropy_puts_the_highest_entropy_first(page, table):
    page.select_option("#f-sort", "gini")
    page.select_option("#f-order", "asc")
    page.select_option("#f-sort", "entropy")
    page.select_option("#f-order", "desc")
    top = table.loc[table["entropy"].idxmax()]
    page.wait_for_function(
        "([v, s]) => { const d = document.querySelector('#gallery .thumb'); "
        "return d && d.dataset.variant === v && +d.dataset.sampleId === s; }",
        arg=[top.variant, int(top.sample_id)],
    )
    assert _first(page) == [top.variant, int(top.sample_id)]
    values = page.eval_on_selector_all("#gallery .thumb", "ds => ds.map(d => +d.dataset.value)")
    assert values == sorted(values, reverse=True)
    # The thumbnails are drawn from a loaded sprite sheet.
    loaded = page.evaluate(
        "() => new Promise(r => { const u = getComputedStyle("
        "document.querySelector('#gallery .thumb')).backgroundImage.slice(5, -2); "
        "const i = new Image(); i.onload = () => r(i.naturalWidth); "
        "i.onerror = () => r(0); i.src = u; })"
    )
    assert loaded == 280


def test_class_filter_shows_only_that_class(page, table):
    page.select_option("#f-label", "4")
    _wait_gallery(page, "d.dataset.label === '4'")
    labels = page.eval_on_selector_all("#gallery .thumb", "ds => ds.map(d => +d.dataset.label)")
    assert set(labels) == {4}
    page.wait_for_function(
        "n => document.querySelector('#count').textContent.startsWith(n + ' ')",
        arg=int((table.label == 4).sum()),
    )


def test_scrolling_loads_more_pages(page):
    n0 = page.eval_on_selector_all("#gallery .thumb", "ds => ds.length")
    page.eval_on_selector("#gallery-wrap", "w => w.scrollTo(0, w.scrollHeight)")
    page.wait_for_function(f"() => document.querySelectorAll('#gallery .thumb').length > {n0}")


def test_clicking_a_sample_opens_its_detail(page, table):
    variant, sid = _first(page)
    page.click("#gallery .thumb")
    page.wait_for_selector("#detail:not([hidden])")
    title = page.inner_text("#detail-title")
    assert f"sample {sid}" in title and variant in title
    page.wait_for_function(
        "() => ['detail-img', 'detail-clean']"
        ".every(i => document.getElementById(i).naturalWidth === 28)"
    )
    assert page.eval_on_selector_all("#probs .prob", "ps => ps.length") == 10
    assert "entropy" in page.inner_text("#detail-scores")
    assert "thickness" in page.inner_text("#detail-morpho")
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail", state="hidden")


def test_box_selection_in_the_embedding_filters_the_gallery(page):
    page.wait_for_function("() => document.querySelector('#f-emb').value === 'pca'")
    box = page.locator("#emb").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 200, steps=4)
    page.mouse.up()
    page.wait_for_function("() => !document.querySelector('#emb-clear').disabled")
    _wait_gallery(page, "d.dataset.variant === 'clean'")
    filtered = int(page.inner_text("#count").split()[0].replace(",", ""))
    assert 0 < filtered < 300
    page.click("#emb-clear")
    page.wait_for_function("() => document.querySelector('#count').textContent.startsWith('1,500')")


def test_csp_blocks_inline_scripts_and_other_origins(browser, live_server):
    """The header is enforced: what the page does not need is refused (and reported)."""
    page = browser.new_page()
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__csp.push(e.violatedDirective));"
    )
    page.goto(live_server + "/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.appendChild(s); const i = new Image();"
        " i.src = 'http://192.0.2.1/x.png'; document.body.appendChild(i); }"
    )
    page.wait_for_function("() => window.__csp.length >= 2")
    assert page.evaluate("() => window.__ran") is None
    assert {"script-src-elem", "img-src"} <= set(page.evaluate("() => window.__csp"))
    page.close()
