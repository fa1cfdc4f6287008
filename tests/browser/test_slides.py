"""The chapter slides (scripts/slides.py, issue 29): one offline reveal.js deck per chapter, in three language modes."""

from __future__ import annotations

import pytest

from .conftest import HTML

CHAPTERS = sorted(p.name for p in (HTML / "notebooks").glob("[0-9][0-9]_*.html")) if (HTML / "notebooks").is_dir() else []

DECK_JS = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + 30000;
(function poll() {
  const ready = window.Reveal && Reveal.isReady && Reveal.isReady();
  if (ready && window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done(state()), () => done(null));
  } else if (Date.now() > deadline) { done(ready ? state() : null); } else { setTimeout(poll, 50); }
})();
function state() {
  const shown = el => getComputedStyle(el).display !== 'none';
  return {slides: Reveal.getTotalSlides(), mode: document.documentElement.getAttribute('data-lang'),
          en: [...document.querySelectorAll('.slides .lang-en')].filter(shown).length,
          zh: [...document.querySelectorAll('.slides .lang-zh')].filter(shown).length,
          math: document.querySelectorAll('mjx-container').length,
          errors: document.querySelectorAll('mjx-merror').length,
          figures: document.querySelectorAll('.slides figure img').length,
          broken: [...document.querySelectorAll('.slides img')].filter(i => !i.complete || i.naturalWidth === 0).length,
          alts: [...document.querySelectorAll('.slides figure img')].filter(i => !(i.alt || '').trim()).length};
}
"""


def test_every_chapter_has_a_deck():
    assert CHAPTERS, f"{HTML} has no chapter pages"
    decks = sorted(p.name for p in (HTML / "slides").glob("[0-9][0-9]_*.html"))
    assert decks == CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS or ["(none)"])
def test_deck_in_three_language_modes(browser, site, chapter):
    seen = {}
    for mode in ("en", "both", "zh"):
        browser.get(f"{site}slides/{chapter}?lang={mode}")
        browser.set_script_timeout(60)
        state = browser.execute_async_script(DECK_JS)
        assert state is not None, f"{chapter}: reveal.js or MathJax did not start (offline assets missing?)"
        seen[mode] = state
        assert state["mode"] == mode and state["slides"] >= 5, state
        assert state["errors"] == 0 and state["broken"] == 0 and state["alts"] == 0, state
        assert (state["en"] > 0) == (mode != "zh") and (state["zh"] > 0) == (mode != "en"), state
    assert seen["both"]["en"] == seen["en"]["en"] and seen["both"]["zh"] == seen["zh"]["zh"]
    assert seen["both"]["math"] > 0 or chapter.startswith("07"), seen  # the sections' first equations
    # the key L moves to the next language mode
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys("l").perform()
    assert browser.execute_script("return document.documentElement.getAttribute('data-lang')") == "en"
