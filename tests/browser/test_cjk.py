"""Chinese typeset as Chinese (issue 28), measured on the rendered text of every chapter in headless Chromium.

For the bilingual site in 中文 mode (and, for the fonts, EN + 中文 mode); tests/editions/test_cjk_edition.py runs
the same measures on the zh-TW edition. Solutions and folds are opened first, so their text counts too.

- no space between two CJK characters, or between CJK and full-width punctuation, in the rendered text;
- no line that starts with closing punctuation (，。、；：）」 or , . ; : )) at 390 and 1280 CSS px;
- the face Chromium draws Chinese text with (``CSS.getPlatformFontsForNode``) is a TC face, never JP/SC/KR;
- no English interface string left in 中文 mode: text, aria-label, placeholder, title and the fold hints
  (:data:`ALLOWED` holds the names, abbreviations and code words that stay Latin in Chinese text).

On the build before issue 28 (``SCORESDE_HTML=<old _build/html>``) chapter 1 had 76 stray spaces, 6 and 17
line-start punctuation marks at 1280 and 390 px, 67 Chinese nodes in the JP face (EN + 中文) and 24 English
interface strings: every test here failed on it.
"""

from __future__ import annotations

import re

import pytest

from .conftest import HTML

# written with \\u escapes: chromedriver refuses some of these characters as a script's arguments
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = r"\u3000-\u303f\uff01-\uff60\u2026\u2014"
STRAY = re.compile(f"[{CJK}{CJK_PUNCT}][ \\u00a0\\t]+[{CJK}{CJK_PUNCT}]")
WIDTHS = (390, 1280)
BAD_FACE = re.compile(r"CJK (JP|SC|KR|HK)\b|\b(JP|SC|KR|HK)\b|-(JP|SC|KR|HK)\b")
# Latin words that stand in Chinese text: people, software, file and command names, abbreviations of the book
ALLOWED = {
    "Hutchinson", "Fisher", "Rademacher", "Isserlis", "Stein", "Euler", "Maruyama", "Itô", "Ito", "Brown", "Gauss",
    "Langevin", "Anderson", "Fokker", "Planck", "Tweedie", "Vincent", "Song", "Ermon", "Hyvärinen", "Kingma",
    "Adam", "Jacobian", "Kolmogorov", "Wasserstein", "Lipschitz", "Markov", "Monte", "Carlo", "Dinh", "NICE",
    "sympy", "SymPy", "PyTorch", "torch", "numpy", "NumPy", "scoresde", "Jupyter", "Book", "Colab", "Binder",
    "GitHub", "Python", "MNIST", "PDF", "CPU", "GPU", "CUDA", "CLI", "API", "ESM", "ISM", "SSM", "DSM", "JVP", "VJP",
    "SDE", "ODE", "VP", "VE", "MLP", "MSE", "ReLU", "SiLU", "SSM-VR", "DOI", "BibTeX", "CITATION", "cff", "MIT",
    "CC", "BY-SA", "MathJax", "Chromium", "README", "CONTRIBUTING", "DESIGN", "ipynb", "html", "md", "zip",
    "EN", "scikit-learn", "sklearn", "digits", "jieba", "matplotlib", "Ctrl", "Selenium", "KL", "Hessian",
    "Cholesky", "Gaussian", "FID", "NLL", "bits", "dim", "float", "float64", "float32", "seed", "Tanh", "tanh",
    "English",  # the English edition's name in the edition links, written in its own language
}
# a word of the interface: letters only (file and code names carry dots, digits, hyphens or underscores)
WORD = re.compile(r"(?<![\w.-])[A-Za-z]{3,}(?![\w.-])")

OPEN_ALL_JS = """
const style = document.createElement('style');
style.textContent = '.toggle-hidden, .solution .admonition-title ~ * {display: block !important;' +
  ' visibility: visible !important;} div.solution {display: block !important;}';
document.head.appendChild(style);
document.querySelectorAll('details').forEach(d => { d.open = true; });
"""

SETTLE_JS = """
const done = arguments[arguments.length - 1];
const go = () => (window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve())
  .then(() => document.fonts.ready).then(() => setTimeout(() => done(true), 150));
if (document.readyState === 'complete') go(); else window.addEventListener('load', go);
"""

# the Chinese text a reader sees: the lang-zh blocks, the headings, the sidebars and the article's titles
ZH_SCOPE = "div.lang-zh, article h1, article h2, article h3, nav.bd-docs-nav, nav.page-toc, .admonition-title, figcaption"
STRAY_JS = """
const re = new RegExp(arguments[0].replace(/\\u([0-9a-f]{4})/g, (m, h) => String.fromCharCode(parseInt(h, 16))), 'g');
const out = [];
for (const el of document.querySelectorAll(arguments[1])) {
  if (el.parentElement && el.parentElement.closest(arguments[1])) continue;   // counted with its ancestor
  const text = el.innerText || '';
  for (const m of text.matchAll(re)) {
    out.push(text.slice(Math.max(0, m.index - 8), m.index + m[0].length + 8).replace(/[\\ud800-\\udfff]/g, '?'));
  }
}
return out;
"""

# a closing mark starts a line when it sits below the last glyph (or formula) drawn before it in the same block
LINE_START_JS = """
const PUNCT = /[，。、；：！？）」』》〉】,.;:!?)]/;
const scope = arguments[0];
const BLOCK = 'p, li, h1, h2, h3, h4, h5, h6, dt, dd, td, th, figcaption, caption, summary, div, section';
const found = [];
const roots = [...document.querySelectorAll(scope)].filter(el => !el.parentElement.closest(scope));
for (const root of roots) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT, {acceptNode(n) {
    if (n.nodeType === 1) {
      if (n.tagName === 'MJX-CONTAINER' || n.tagName === 'CODE') return NodeFilter.FILTER_ACCEPT;  // one unit each
      if (n.tagName.startsWith('MJX-') || n.matches('pre, script, style')) return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_SKIP;
    }
    return n.parentElement.closest('mjx-container, code') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
  }});
  let prev = null, prevBlock = null, prevText = '';
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const block = (n.nodeType === 1 ? n : n.parentElement).closest(BLOCK);
    if (block !== prevBlock) { prev = null; prevBlock = block; }
    if (n.nodeType === 1) {
      const rects = n.getClientRects();
      if (rects.length) { prev = rects[rects.length - 1]; prevText = n.tagName === 'CODE' ? '[code]' : '[math]'; }
      continue;
    }
    const s = n.data;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      if (/\\s/.test(ch)) continue;
      if (!PUNCT.test(ch) && i + 1 < s.length && !PUNCT.test(s[i + 1]) && !/\\s/.test(s[i + 1])) continue;
      const range = document.createRange();
      range.setStart(n, i); range.setEnd(n, i + 1);
      const rects = range.getClientRects();
      if (!rects.length) continue;
      const r = rects[0];
      if (PUNCT.test(ch) && prev && r.top >= prev.bottom - 2 && r.left <= prev.left) {
        found.push((prevText + ' | ' + s.slice(i, i + 12)).replace(/[\\ud800-\\udfff]/g, '?'));
      }
      prev = r; prevText = s.slice(Math.max(0, i - 8), i + 1);
    }
  }
}
return found;
"""

# every element that holds Chinese text itself gets a probe mark; CDP then asks which fonts drew it
PROBE_JS = """
let k = 0;
document.querySelectorAll('[data-cjk-probe]').forEach(e => e.removeAttribute('data-cjk-probe'));
const re = /[\\u3400-\\u9fff]/;
for (const el of document.querySelectorAll('body *')) {
  if (el.closest('mjx-container, script, style') || !el.getClientRects().length) continue;
  if (getComputedStyle(el).visibility === 'hidden') continue;
  if ([...el.childNodes].some(c => c.nodeType === 3 && re.test(c.data))) el.setAttribute('data-cjk-probe', k++);
  if (k >= arguments[0]) break;
}
return k;
"""

# text and attributes a reader meets that are English only (no CJK): the interface left untranslated
ENGLISH_UI_JS = """
const cjk = /[\\u3400-\\u9fff]/;
const out = [];
const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
// code, math, outputs, citations (authors and titles), the API's signatures and search results are content
// Latin words inside the Chinese prose (a term's English name in parentheses) are the author's text, not interface
const skip = el => el.closest('pre, code, kbd, mjx-container, .highlight, .cell_output, .output, script, style, ' +
                               'div.lang-en, div.lang-zh, .citation, a[href*="bibliography"], dl.py, .sig, ' +
                               'ul.search, #lang-switch');
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const t = n.data.trim();
  if (!t || cjk.test(t) || !/[A-Za-z]{3,}/.test(t)) continue;
  const el = n.parentElement;
  if (!el || skip(el) || !visible(el)) continue;
  out.push('text: ' + t.slice(0, 60).replace(/[\\ud800-\\udfff]/g, '?'));
}
for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], [data-toggle-hint]')) {
  if (skip(el)) continue;
  for (const a of ['aria-label', 'placeholder', 'title', 'data-toggle-hint']) {
    const v = (el.getAttribute(a) || '').trim();
    if (/^[\\w.]+\\.[\\w]+$/.test(v)) continue;   // a code name (the API links' titles)
    if (v && !cjk.test(v) && /[A-Za-z]{3,}/.test(v)) out.push(a + ': ' + v.slice(0, 60));
  }
}
for (const b of document.querySelectorAll('button.toggle-button')) {
  const c = getComputedStyle(b, '::before').content;
  if (c && c !== 'none' && !cjk.test(c) && /[A-Za-z]{3,}/.test(c)) out.push('fold hint: ' + c);
}
return out;
"""


def chapters(html=HTML) -> list[str]:
    return sorted(p.relative_to(html).as_posix() for p in (html / "notebooks").glob("[0-9][0-9]_*.html"))


def load(browser, url: str) -> None:
    browser.get(url)
    browser.execute_async_script(SETTLE_JS)
    browser.execute_script(OPEN_ALL_JS)


def set_width(browser, width: int) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    browser.execute_script("return document.body.offsetWidth")  # a reflow at the new width


def stray_spaces(browser) -> list[str]:
    return browser.execute_script(STRAY_JS, STRAY.pattern, ZH_SCOPE)


def line_starts(browser, scope: str = ZH_SCOPE) -> list[str]:
    return browser.execute_script(LINE_START_JS, scope)


def foreign_faces(browser, limit: int = 400) -> list[str]:
    """Elements with Chinese text that Chromium drew in a JP/SC/KR face, or in no TC face."""
    count = browser.execute_script(PROBE_JS, limit)
    browser.execute_cdp_cmd("DOM.enable", {})
    browser.execute_cdp_cmd("CSS.enable", {})
    root = browser.execute_cdp_cmd("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    ids = browser.execute_cdp_cmd("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-cjk-probe]"})["nodeIds"]
    assert len(ids) == count
    bad = []
    for node in ids:
        fonts = browser.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        names = [f["familyName"] + "/" + f.get("postScriptName", "") for f in fonts]
        cjk = [n for n in names if "CJK" in n or BAD_FACE.search(n) or "TC" in n]
        if any(BAD_FACE.search(n) for n in cjk) or not any("TC" in n for n in cjk):
            html = browser.execute_cdp_cmd("DOM.getOuterHTML", {"nodeId": node})["outerHTML"]
            bad.append(f"{names}: {html[:80]}")
    return bad


def english_interface(browser) -> list[str]:
    found = browser.execute_script(ENGLISH_UI_JS)
    return [f for f in found if any(w not in ALLOWED for w in WORD.findall(f.split(": ", 1)[1]))]


PAGES = chapters()


@pytest.fixture()
def reset_width(browser):
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("page", PAGES)
def test_no_stray_spaces_in_chinese(browser, site, page):
    load(browser, site + page + "?lang=zh")
    found = stray_spaces(browser)
    assert found == [], f"{page}: {len(found)} spaces between CJK characters: {found[:8]}"


@pytest.mark.parametrize("page", PAGES)
def test_no_line_starts_with_punctuation(reset_width, site, page):
    browser = reset_width
    found = {}
    for mode, scope in (("zh", ZH_SCOPE), ("en", "div.lang-en")):
        load(browser, site + page + "?lang=" + mode)
        for width in WIDTHS:
            set_width(browser, width)
            found.update({f"{mode}, {width} px": hits for hits in [line_starts(browser, scope)] if hits})
    assert found == {}, f"{page}: lines start with punctuation: {found}"


@pytest.mark.parametrize("mode", ["zh", "both"])
@pytest.mark.parametrize("page", PAGES)
def test_chinese_is_drawn_in_a_tc_face(browser, site, page, mode):
    load(browser, site + page + "?lang=" + mode)
    bad = foreign_faces(browser)
    assert bad == [], f"{page} ({mode}): {len(bad)} Chinese nodes not in a TC face: {bad[:5]}"


@pytest.mark.parametrize("page", PAGES + ["book/preface.html", "book/problem-sets.html", "search.html?q=分數"])
def test_no_english_interface_in_chinese_mode(browser, site, page):
    url = site + page + ("&" if "?" in page else "?") + "lang=zh"
    browser.get(url)
    browser.execute_async_script(SETTLE_JS)
    found = english_interface(browser)
    assert found == [], f"{page}: {len(found)} English interface strings in 中文 mode: {found[:10]}"


def test_checks_fail_on_doctored_pages(browser, site):
    """Each measure finds what it is for on a page doctored in the browser (the book's own chapter 1)."""
    load(browser, site + PAGES[0] + "?lang=zh")
    browser.execute_script("const p = document.querySelector('div.lang-zh p'); p.append(' 分數 ，而且 。');")
    assert len(stray_spaces(browser)) == 3
    browser.execute_script("document.querySelector('div.lang-zh p').innerHTML = '甲乙<br>，丙丁';")
    assert any("，丙丁" in f for f in line_starts(browser))
    browser.execute_script("const p = document.querySelector('div.lang-zh p'); p.lang = 'ja';"
                           "p.style.fontFamily = 'sans-serif'; p.textContent = '分數匹配的直';")
    assert any("分數匹配的直" in f for f in foreign_faces(browser))
    browser.execute_script("const d = document.createElement('div'); d.textContent = 'Toggle navigation';"
                           "document.querySelector('.bd-article').prepend(d);")  # an interface string, visible
    assert "text: Toggle navigation" in english_interface(browser)
