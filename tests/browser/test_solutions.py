"""Solutions in one fold (issue 16): one click shows a solution's prose, code and output; labels follow the language.

Before, "Solution to Exercise 3.1 / Click to show" opened the prose only, and the solution's code sat in two more
folds after it ("Show code cell source", "Show code cell output"). ``_static/solutions.js`` moves the code cells
into the solution and opens their folds; ``_static/solutions.css`` labels the folds in the reader's language.
"""

from __future__ import annotations

import pytest

PAGE = "notebooks/03_brownian_motion_ito.html"
STATE_JS = """
const sols = Array.from(document.querySelectorAll('div.solution'));
const visible = e => !!e && e.checkVisibility({opacityProperty: true, visibilityProperty: true})
  && e.getBoundingClientRect().height > 0;
return sols.map(s => ({
  id: s.id,
  cellAfter: !!(s.nextElementSibling && s.nextElementSibling.matches('div.cell')),
  cells: s.querySelectorAll('div.cell').length,
  codeVisible: Array.from(s.querySelectorAll('div.cell pre')).some(visible),
  proseVisible: visible(s.querySelector('.lang-en p, .lang-zh p')),
}));
"""


def _open(browser, url: str) -> None:
    browser.get(url)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (document.readyState === 'complete') setTimeout(done, 300);"
        "else window.addEventListener('load', () => setTimeout(done, 300));")


def test_one_click_shows_the_whole_solution(browser, site):
    _open(browser, site + PAGE + "?lang=en")
    before = browser.execute_script(STATE_JS)
    assert len(before) >= 5
    assert not any(s["cellAfter"] for s in before), "a code cell still follows its solution (not gathered)"
    with_code = [s for s in before if s["cells"]]
    assert with_code, "no solution has code on this page"
    assert not any(s["codeVisible"] or s["proseVisible"] for s in before), before
    first = with_code[0]["id"]
    browser.execute_script(f"document.getElementById('{first}').querySelector('button.toggle-button').click();")
    after = {s["id"]: s for s in browser.execute_script(STATE_JS)}
    assert after[first]["proseVisible"] and after[first]["codeVisible"], after[first]


@pytest.mark.parametrize("mode, label", [("zh", "按一下顯示"), ("both", "Click to show · 按一下顯示")])
def test_fold_labels_follow_the_language(browser, site, mode, label):
    _open(browser, site + PAGE + f"?lang={mode}")
    content = browser.execute_script(
        "const b = document.querySelector('div.solution button.toggle-button');"
        "return getComputedStyle(b, '::before').content;")
    assert content.strip('"') == label
