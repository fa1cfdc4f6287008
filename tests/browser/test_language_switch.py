"""The language switch as a reader uses it, in a real headless Chromium (issue #9).

On a chapter page (the first chapter of the built book; the preface while no chapter is built) and for each
mode (both, English, 繁體中文) the test counts the visible English and Chinese prose blocks; checks that
headings, math, code and the sidebar stay; that MathJax rendered the math from the book itself (the browser
resolves no host but 127.0.0.1, and no request leaves it); that a choice made with the control or with
``?lang=`` persists on the next page; and saves a screenshot of each mode under ``artifacts/screenshots/``.
It also covers a choice made in another tab, and a browser that refuses localStorage (the choice then
travels in the links).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import HTML, SAVED

MODES = ("both", "en", "zh")

# Counts, in one pass, what a reader sees. A block is "shown" when its own computed display is not
# `none` (the switch hides a container itself; a closed solution dropdown hides its parent instead).
COUNT_JS = """
const shown = el => getComputedStyle(el).display !== 'none';
const inLang = el => el.closest('div.lang-en, div.lang-zh') !== null;
const rendered = el => el.getClientRects().length > 0;
const article = document.querySelector('article.bd-article') || document.body;
const en = [...document.querySelectorAll('div.lang-en')];
const zh = [...document.querySelectorAll('div.lang-zh')];
const math = [...article.querySelectorAll('mjx-container')].filter(m => !inLang(m));
const code = [...article.querySelectorAll('div.highlight, div.cell_output')].filter(c => !inLang(c));
const figures = [...article.querySelectorAll('img, figure')].filter(f => !inLang(f));
const headings = [...article.querySelectorAll('h1, h2, h3')];
const sidebar = [...document.querySelectorAll('nav.bd-docs-nav a')];
return {
  mode: document.documentElement.getAttribute('data-lang'),
  html_lang: document.documentElement.getAttribute('lang'),
  stored: window.localStorage.getItem('scoresde-lang'),
  en_total: en.length, zh_total: zh.length,
  en_shown: en.filter(shown).length, zh_shown: zh.filter(shown).length,
  en_rendered: en.filter(rendered).length, zh_rendered: zh.filter(rendered).length,
  en_lang_attr: en.filter(e => e.lang === 'en').length,
  zh_lang_attr: zh.filter(e => e.lang === 'zh-Hant-TW').length,
  math_outside: math.filter(rendered).length,
  math_any: document.querySelectorAll('mjx-container').length,
  tex_errors: document.querySelectorAll('mjx-merror').length,
  code_outside: code.filter(rendered).length,
  figures_outside: figures.filter(rendered).length,
  headings: headings.length, headings_rendered: headings.filter(rendered).length,
  sidebar_links: sidebar.length, sidebar_rendered: sidebar.filter(rendered).length,
  pressed: [...document.querySelectorAll('#lang-switch button[aria-pressed="true"]')]
             .map(b => b.getAttribute('data-lang-choice')),
  control_rendered: (() => { const c = document.getElementById('lang-switch');
                             return c !== null && rendered(c); })(),
};
"""

WAIT_MATHJAX_JS = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + 20000;
(function poll() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done(true), () => done(false));
  } else if (Date.now() > deadline) { done(false); } else { setTimeout(poll, 50); }
})();
"""


def page_under_test() -> str:
    """The page under test: the first chapter of the built book (notebooks/NN_*.html), else the preface."""
    chapters = sorted((HTML / "notebooks").glob("[0-9][0-9]_*.html")) if (HTML / "notebooks").is_dir() else []
    return chapters[0].relative_to(HTML).as_posix() if chapters else "book/preface.html"


PAGE = page_under_test()


def open_page(browser, url: str) -> dict:
    browser.get(url)
    assert browser.execute_async_script(WAIT_MATHJAX_JS), f"MathJax did not start on {url}"
    return browser.execute_script(COUNT_JS)


def reset(browser, site: str) -> None:
    browser.get(site + "genindex.html")
    browser.execute_script("window.localStorage.clear();")
    browser.get_log("performance")  # drain: external_requests() then sees only what follows


def shoot(browser, screenshots: Path, mode: str) -> Path:
    """A screenshot of the whole article (up to 6000 px tall), named after the page and mode."""
    height = min(6000, int(browser.execute_script("return document.documentElement.scrollHeight")))
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    path = screenshots / f"{PAGE.replace('/', '_').removesuffix('.html')}-{mode}.png"
    try:
        browser.save_screenshot(str(path))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    SAVED.append(path)
    return path


def external_requests(browser) -> list[str]:
    """Web URLs the browser asked for since the last call that are not on 127.0.0.1.

    Only http(s)/ws(s) count: data:, blob: and the browser's own chrome:// pages never leave the machine.
    """
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    web = [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss")]
    assert any(u.endswith(".js") or ".js?" in u for u in web), "the network log recorded no script load"
    return [u for u in web if urlparse(u).hostname != "127.0.0.1"]


@pytest.fixture(scope="module")
def views(browser, site, screenshots) -> dict[str, dict]:
    """The page opened once in each mode (``?lang=`` on a fresh profile): what a reader sees, and a screenshot."""
    seen = {}
    for mode in MODES:
        reset(browser, site)
        query = "" if mode == "both" else f"?lang={mode}"
        seen[mode] = open_page(browser, site + PAGE + query)
        seen[mode]["external"] = external_requests(browser)
        shoot(browser, screenshots, mode)
    return seen


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_shows_only_its_prose(views, mode):
    seen = views[mode]
    assert seen["mode"] == mode and seen["pressed"] == [mode] and seen["control_rendered"]
    assert seen["html_lang"] == ("zh-Hant-TW" if mode == "zh" else "en")
    assert seen["en_total"] == seen["zh_total"] > 0, "every English block has its 繁體中文 twin"
    assert seen["en_lang_attr"] == seen["en_total"] and seen["zh_lang_attr"] == seen["zh_total"]
    expect_en = seen["en_total"] if mode in ("both", "en") else 0
    expect_zh = seen["zh_total"] if mode in ("both", "zh") else 0
    assert (seen["en_shown"], seen["zh_shown"]) == (expect_en, expect_zh), seen
    assert (seen["en_rendered"] > 0) == (mode != "zh") and (seen["zh_rendered"] > 0) == (mode != "en"), seen


@pytest.mark.parametrize("mode", MODES)
def test_headings_sidebar_and_math_stay_and_nothing_comes_from_elsewhere(views, mode):
    seen = views[mode]
    assert seen["headings"] > 0 and seen["headings_rendered"] == seen["headings"]
    assert seen["sidebar_links"] > 0 and seen["sidebar_rendered"] == seen["sidebar_links"]
    # math typeset by the book's own MathJax, with no TeX error, and no request left 127.0.0.1
    assert seen["math_any"] > 0 and seen["tex_errors"] == 0
    assert seen["external"] == []


def test_math_code_figures_are_the_same_in_every_mode(views):
    keep = ("math_outside", "code_outside", "figures_outside", "headings", "sidebar_links")
    counts = {mode: tuple(views[mode][k] for k in keep) for mode in MODES}
    assert counts["en"] == counts["zh"] == counts["both"], counts
    if PAGE.startswith("notebooks/"):
        assert counts["both"][0] > 0 and counts["both"][1] > 0, "a chapter shows equations and code outside the prose"


def next_page(browser) -> None:
    link = browser.find_element("css selector", "a.right-next")
    href = link.get_attribute("href")
    browser.execute_script("arguments[0].click();", link)
    browser.execute_async_script(WAIT_MATHJAX_JS)
    assert browser.current_url.split("?")[0] == href.split("?")[0]


def test_choice_with_the_control_persists_on_the_next_page(browser, site):
    reset(browser, site)
    seen = open_page(browser, site + PAGE)
    assert seen["mode"] == "both" and seen["pressed"] == ["both"], "default: both languages"
    browser.find_element("css selector", '#lang-switch button[data-lang-choice="zh"]').click()
    seen = browser.execute_script(COUNT_JS)
    assert (seen["mode"], seen["stored"], seen["pressed"]) == ("zh", "zh", ["zh"])
    assert seen["en_shown"] == 0 and seen["zh_shown"] == seen["zh_total"]
    next_page(browser)
    seen = browser.execute_script(COUNT_JS)
    assert "lang=" not in browser.current_url
    assert (seen["mode"], seen["pressed"]) == ("zh", ["zh"])
    assert seen["en_shown"] == 0 and seen["zh_shown"] == seen["zh_total"]
    browser.find_element("css selector", '#lang-switch button[data-lang-choice="both"]').click()
    seen = browser.execute_script(COUNT_JS)
    assert (seen["mode"], seen["stored"]) == ("both", "both")
    assert seen["en_shown"] == seen["en_total"] and seen["zh_shown"] == seen["zh_total"]


def test_choice_in_the_url_persists_and_bad_values_are_ignored(browser, site):
    reset(browser, site)
    seen = open_page(browser, site + PAGE + "?lang=en")
    assert (seen["mode"], seen["stored"]) == ("en", "en")
    next_page(browser)
    seen = browser.execute_script(COUNT_JS)
    assert seen["mode"] == "en" and seen["zh_shown"] == 0
    seen = open_page(browser, site + PAGE + "?lang=fr")  # not a mode: the remembered choice stays
    assert (seen["mode"], seen["stored"]) == ("en", "en")
    seen = open_page(browser, site + PAGE + "?lang=both")  # the default can be asked for too
    assert (seen["mode"], seen["stored"]) == ("both", "both") and seen["zh_shown"] == seen["zh_total"]
    seen = open_page(browser, site + PAGE + "?lang=en")
    # a click on a page opened with ?lang= keeps the address truthful (reload or share shows the same)
    browser.find_element("css selector", '#lang-switch button[data-lang-choice="zh"]').click()
    assert "lang=zh" in browser.current_url
    browser.refresh()
    browser.execute_async_script(WAIT_MATHJAX_JS)
    assert browser.execute_script(COUNT_JS)["mode"] == "zh"


BLOCK_STORAGE_JS = """
Object.defineProperty(window, 'localStorage', {
  configurable: true,
  get() { throw new DOMException('storage is disabled in this test', 'SecurityError'); },
});
"""


def test_without_storage_the_choice_travels_in_the_links(browser, site):
    """Some privacy settings forbid localStorage: then the links to other pages carry ?lang= instead."""
    reset(browser, site)
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": BLOCK_STORAGE_JS})
    try:
        browser.get(site + PAGE + "?lang=zh")
        browser.execute_async_script(WAIT_MATHJAX_JS)
        assert browser.execute_script("return document.documentElement.getAttribute('data-lang')") == "zh"
        href = browser.find_element("css selector", "a.right-next").get_attribute("href")
        assert "lang=zh" in href, href
        browser.find_element("css selector", '#lang-switch button[data-lang-choice="en"]').click()
        href = browser.find_element("css selector", "a.right-next").get_attribute("href")
        assert "lang=en" in href and "lang=zh" not in href, href
        link = browser.find_element("css selector", "a.right-next")
        browser.execute_script("arguments[0].click();", link)
        browser.execute_async_script(WAIT_MATHJAX_JS)
        assert "lang=en" in browser.current_url
        assert browser.execute_script("return document.documentElement.getAttribute('data-lang')") == "en"
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
    browser.get(site + "genindex.html")
    assert browser.execute_script("return window.localStorage.getItem('scoresde-lang')") is None


def test_a_choice_in_another_tab_is_followed(browser, site):
    """Two tabs of the book: switching the language in one switches the other (the storage event)."""
    reset(browser, site)
    first = browser.current_window_handle
    open_page(browser, site + PAGE)
    browser.switch_to.new_window("tab")
    try:
        open_page(browser, site + PAGE)
        browser.find_element("css selector", '#lang-switch button[data-lang-choice="en"]').click()
        browser.switch_to.window(first)
        seen = browser.execute_script(COUNT_JS)
        assert (seen["mode"], seen["pressed"]) == ("en", ["en"]) and seen["zh_shown"] == 0
    finally:
        for handle in browser.window_handles:
            if handle != first:
                browser.switch_to.window(handle)
                browser.close()
        browser.switch_to.window(first)


# A folded dropdown keeps its content laid out but clipped to the title bar (sphinx-togglebutton): a block counts
# as seen when it has a box and that box starts inside the visible box of its solution.
SOLUTIONS_JS = """
return [...document.querySelectorAll('div.solution.dropdown')].map(s => {
  const box = s.getBoundingClientRect();
  return [...s.querySelectorAll('div.lang-en, div.lang-zh')].filter(e => {
    const r = e.getBoundingClientRect();
    return e.getClientRects().length > 0 && r.height > 0 && r.top < box.bottom - 1
      && e.checkVisibility({opacityProperty: true, visibilityProperty: true});
  }).length;
});
"""


def test_solutions_stay_folded_until_the_reader_opens_one(browser, site):
    """Exercises end the chapter; each solution is a closed dropdown that one click opens, in the chosen mode."""
    if not PAGE.startswith("notebooks/"):
        pytest.skip("no chapter is built yet")
    reset(browser, site)
    open_page(browser, site + PAGE + "?lang=zh")
    shown = browser.execute_script(SOLUTIONS_JS)
    assert shown and all(n == 0 for n in shown), f"solutions visible before a click: {shown}"
    # the solution cells' code (which asserts the answer) sits inside its solution and is hidden with it
    hidden = browser.execute_script(
        "return [...document.querySelectorAll('div.solution div.cell div.cell_input')]"
        ".map(c => !c.checkVisibility({opacityProperty: true, visibilityProperty: true}));"
    )
    assert len(hidden) >= 1 and all(hidden), hidden
    button = browser.find_element("css selector", "div.solution.dropdown button.toggle-button")
    assert button.get_attribute("aria-expanded") == "false"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    browser.execute_script("return new Promise(r => setTimeout(r, 400));")  # the toggle animates
    opened = browser.execute_script(SOLUTIONS_JS)
    assert opened[0] == 1 and all(n == 0 for n in opened[1:]), opened  # only its 繁體中文 block, only that one
