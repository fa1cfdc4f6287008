"""WCAG 2.1 A/AA with axe-core on every page of the built book (issue 29): 0 critical, 0 serious.

axe-core is the npm package pinned in package.json/package-lock.json (``scripts/node-deps.sh`` runs ``npm ci``),
injected into Debian's Chromium through Selenium (tests/browser/axe.py). For every page:

* the bilingual mode (both languages shown: every element that the English or the 中文 mode shows is shown), light
  theme: every WCAG 2.1 A/AA rule;
* the same mode in the dark theme: the colour rules (``color-contrast``, ``link-in-text-block``; the other rules do not
  depend on colours);
* the English and the 中文 mode (the switch hides only the other language's blocks and presses another button):
  the page-level language rules and the language switch, in both themes;
* the preface additionally gets every rule in every mode and theme (CI time: one audit of a chapter takes
  10-50 s).

Plus the language switch as a keyboard user meets it: early in the tab order, with a focus ring of >= 3:1 against
the page around it, pressed or not; figures: every content image has a described, non-path alt text and a caption in
both languages; no MathJax error anywhere.
"""

from __future__ import annotations

import re

import pytest

from .axe import BLOCKING, audit, axe_source, load, pages, set_mode
from .conftest import HTML, missing

COLOUR_RULES = ["color-contrast", "link-in-text-block"]
LANG_RULES = ["html-has-lang", "html-lang-valid", "valid-lang", "html-xml-lang-mismatch"]
FULL_MATRIX = re.compile(r"^book/preface\.html$")  # the rest: see the module docstring
PAGES = pages(HTML) if HTML.is_dir() else []


@pytest.fixture(scope="session")
def axe_js() -> str:
    try:
        return axe_source()
    except FileNotFoundError as exc:
        missing(str(exc))


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def run(browser, source: str, rules: list[str] | None = None, context: str | None = None) -> list[dict]:
    return audit(browser, source, rules=rules, context=context)


@pytest.mark.parametrize("page", PAGES or ["(no built book)"])
def test_no_critical_or_serious_violation(browser, site, axe_js, page):
    if not PAGES:
        pytest.fail(f"{HTML} has no built pages")
    load(browser, site + page)
    failures = []
    full = bool(FULL_MATRIX.match(page))
    for lang in ("both", "en", "zh"):
        for theme in ("light", "dark"):
            set_mode(browser, lang, theme)
            if full or (lang, theme) == ("both", "light"):
                found = run(browser, axe_js)
            elif lang == "both":
                found = run(browser, axe_js, rules=COLOUR_RULES)
            else:
                found = run(browser, axe_js, rules=LANG_RULES) + run(browser, axe_js, context="#lang-switch")
            failures += [dict(v, mode=f"{lang}/{theme}") for v in blocking(found)]
    assert not failures, "\n".join(f"{v['mode']}: {v['rule']} ({v['impact']}, {v['nodes']} elements): {v['targets']}"
                                   for v in failures)
    errors = browser.execute_script(MATH_ERRORS_JS)
    assert errors == 0, f"{page}: {errors} MathJax error boxes (Math input error)"
    if page.startswith("notebooks/"):
        check_figures(browser, page)


MATH_ERRORS_JS = "return document.querySelectorAll('mjx-merror, .MathJax_Error, [data-mjx-error]').length"


def test_audit_finds_a_planted_violation(browser, site, axe_js):
    """The check can fail: grey-on-white text and an image without alt are reported as serious/critical."""
    load(browser, site + "book/preface.html")
    browser.execute_script("""
      const p = document.createElement('p'); p.textContent = 'planted low-contrast text';
      p.style.color = '#bbbbbb'; p.style.background = '#ffffff';
      const img = document.createElement('img'); img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
      const a = document.querySelector('article') || document.body; a.prepend(p); a.prepend(img);""")
    rules = {v["rule"] for v in blocking(run(browser, axe_js))}
    assert {"color-contrast", "image-alt"} <= rules, rules
    # and a MathJax error box is found: the docstring bug of issue 29 (a backspace where \\beta was meant)
    browser.execute_script("const d = document.createElement('div'); d.textContent = '\\\\(\\x08eta^{k-1}\\\\)';"
                           "document.querySelector('article').prepend(d); return MathJax.typesetPromise([d]);")
    browser.set_script_timeout(30)
    browser.execute_async_script("const done = arguments[0]; MathJax.startup.promise.then(() => done(1));")
    assert browser.execute_script(MATH_ERRORS_JS) >= 1
    browser.refresh()


FOCUS_JS = """
const b = document.querySelector('#lang-switch button[data-lang-choice="' + arguments[0] + '"]');
const s = getComputedStyle(b);
let bg = null, el = b.parentElement;
while (el) { const c = getComputedStyle(el).backgroundColor;
             if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; } el = el.parentElement; }
return {focused: document.activeElement === b, outline: s.outlineColor, width: parseFloat(s.outlineWidth),
        style: s.outlineStyle, offset: parseFloat(s.outlineOffset), page: bg || 'rgb(255, 255, 255)',
        fill: s.backgroundColor, pressed: b.getAttribute('aria-pressed')};
"""


def _rgb(css: str) -> tuple[float, float, float]:
    parts = [float(x) for x in re.findall(r"[\d.]+", css)[:3]]
    return parts[0], parts[1], parts[2]


def contrast(a: str, b: str) -> float:
    def lum(c):
        lin = [(v / 255) / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in _rgb(c)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_helper():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast("rgb(23, 109, 232)", "rgb(236, 243, 255)") == pytest.approx(4.29, abs=0.01)  # issue 29's example


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_language_switch_early_in_tab_order_with_visible_focus(browser, site, theme):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    load(browser, site + "notebooks/01_score_matching.html")
    set_mode(browser, "both", theme)
    browser.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    order = []
    for _ in range(12):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        order.append(browser.execute_script(
            "const e = document.activeElement; return e.getAttribute('data-lang-choice') || e.tagName;"))
        if order[-1] in ("en", "both", "zh"):
            break
    assert order[-1] in ("en", "both", "zh"), f"no language button in the first 12 tab stops: {order}"
    assert len(order) <= 8, f"the language switch is tab stop {len(order)}: {order}"
    # the focused button, pressed (its own mode) and not pressed: the ring against the page around it
    for pressed in (False, True):
        choice = browser.execute_script("return document.activeElement.getAttribute('data-lang-choice')")
        if pressed:
            ActionChains(browser).send_keys(Keys.ENTER).perform()
        ring = browser.execute_script(FOCUS_JS, choice)
        assert ring["focused"] and (ring["pressed"] == "true") == pressed, ring
        assert ring["style"] != "none" and ring["width"] >= 2 and ring["offset"] >= 0, ring
        assert contrast(ring["outline"], ring["page"]) >= 3.0, ring
        if not pressed:
            ActionChains(browser).send_keys(Keys.TAB).perform()  # the next button, not pressed
            ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    set_mode(browser, "both", "light")


PATH_ALT = re.compile(r"(^|/)_images/|\.(png|jpe?g|svg|gif)$", re.I)


def check_figures(browser, page: str) -> None:
    """Every image in a notebook's output: a described alt text (not a path) and a caption in both languages;
    the alt text follows the language mode."""
    for lang, attr in (("en", "data-alt-en"), ("zh", "data-alt-zh"), ("both", "data-alt-en")):
        set_mode(browser, lang, "light")
        figures = browser.execute_script(f"""
          return [...document.querySelectorAll('.bd-article .cell_output img')].map(img => {{
            const cell = img.closest('.cell'); const cap = cell && cell.querySelector('.scoresde-figcaption');
            return {{alt: img.getAttribute('alt') || '', want: cap ? cap.getAttribute('{attr}') : null,
                     en: cap ? (cap.querySelector('.lang-en') || {{}}).textContent || '' : '',
                     zh: cap ? (cap.querySelector('.lang-zh') || {{}}).textContent || '' : ''}}; }});""")
        for i, fig in enumerate(figures):
            where = f"{page} figure {i + 1} ({lang})"
            assert fig["alt"].strip() and not PATH_ALT.search(fig["alt"].strip()), f"{where}: alt {fig['alt']!r}"
            assert fig["want"] is not None and fig["alt"] == fig["want"], f"{where}: no caption, or alt not in {lang}"
            assert len(fig["en"].strip()) > 20 and len(fig["zh"].strip()) > 10, f"{where}: caption {fig}"


FIT_JS = """
const eqs = [...document.querySelectorAll('.bd-article mjx-container[display="true"]')].filter(m => m.getClientRects().length);
return {n: eqs.length, width: window.innerWidth,
        scroll: eqs.filter(m => m.scrollWidth > m.clientWidth + 1 || m.getBoundingClientRect().right > window.innerWidth + 1).length,
        smallest: Math.min(100, ...eqs.map(m => parseFloat(m.style.fontSize) || 100)),
        /* what still scrolls must be at the smallest scale and reachable by keyboard */
        stuck: eqs.filter(m => m.scrollWidth > m.clientWidth + 1)
                  .filter(m => parseFloat(m.style.fontSize) !== 60 || m.getAttribute('tabindex') !== '0').length};
"""


@pytest.mark.parametrize("chapter", ["notebooks/01_score_matching.html", "notebooks/03_brownian_motion_ito.html"])
def test_display_equations_fit_a_phone(browser, site, chapter):
    """At 390 CSS px every display equation of chapters 1 and 3 fits without sideways scrolling (issue 29 measured
    17 of 18 and 27 of 32 needing it): a11y.js scales a wide one down, to 60 % at the least."""
    size = browser.get_window_size()
    try:
        browser.set_window_size(390, 844)
        for mode in ("en", "zh", "both"):
            load(browser, site + chapter + f"?lang={mode}")
            fit = browser.execute_script(FIT_JS)
            assert fit["n"] > 10 and fit["width"] <= 400, fit
            assert fit["smallest"] >= 60 and fit["stuck"] == 0, (mode, fit)
            if mode != "both":  # one language: everything fits (both: the indented 中文 column is narrower)
                assert fit["scroll"] == 0, (mode, fit)
    finally:
        browser.set_window_size(size["width"], size["height"])
